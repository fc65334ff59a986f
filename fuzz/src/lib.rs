//! Shared helpers for the fuzz targets: the fixture key ring, prepared once per process, and
//! oracles that more than one target applies (canonicalization is idempotent, a value survives
//! parse(canon(x)), our parser agrees with serde_json on what is JSON).

use std::path::PathBuf;
use std::sync::LazyLock;

use audit_verify::canon::jcs::{CanonError, write_jcs};
use audit_verify::canon::json::{Limits, ParseErrorKind, Value, parse};
use audit_verify::checkpoint::{self, note::NoteKey};
use audit_verify::crypto::{self, Provider};
use audit_verify::keys::KeyRing;
use audit_verify::sig::SigContext;

/// A file under the repository's `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
        .join(rel)
}

/// The key files of the fixtures: ES256, ML-DSA-65 (AKP) and the hybrid keys; the asqav key
/// directory (Ed25519, ES256 and ML-DSA-65 agents, a revoked key, the pack key); the AGT MCP
/// receipt keys (raw Ed25519 in hex) and the Agent Receipts issuer key (PEM).
pub fn key_files() -> Vec<PathBuf> {
    [
        "keys/gen.jwks.json",
        "keys/gen-mldsa-akp.jwks.json",
        "keys/spec_hybrid.jwks.json",
        "keys/mcp10.jwks.json",
        "keys/asqav-gen.jwks.json",
        "keys/agt-mcp-gen.pub.hex",
        "keys/agt-mcp-signer.pub.hex",
        "keys/agent-receipts-demo.pub.pem",
    ]
    .iter()
    .map(|k| testdata(k))
    .collect()
}

static RING: LazyLock<KeyRing> =
    LazyLock::new(|| KeyRing::load(&key_files()).expect("fixture keys load"));

/// The fixture key ring.
pub fn ring() -> &'static KeyRing {
    &RING
}

static CONTEXTS: LazyLock<Vec<SigContext>> = LazyLock::new(|| {
    crypto::all_providers()
        .into_iter()
        .map(|p| SigContext::new(ring(), p).expect("fixture keys prepare"))
        .collect()
});

/// One signature context per compiled-in provider, the default first.
pub fn sig_contexts() -> &'static [SigContext] {
    &CONTEXTS
}

/// The providers, the default first.
pub fn providers() -> Vec<&'static dyn Provider> {
    crypto::all_providers()
}

static NOTE_KEYS: LazyLock<Vec<NoteKey>> = LazyLock::new(|| {
    let files = [
        testdata("checkpoints/test-log.vkey"),
        testdata("checkpoints/test-witness.vkey"),
    ];
    let args: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    checkpoint::load_note_keys(&args).expect("fixture note keys load")
});

/// The fixture note (vkey) keys.
pub fn note_keys() -> &'static [NoteKey] {
    &NOTE_KEYS
}

/// JCS of a value, or why not.
pub fn canon(v: &Value) -> Result<Vec<u8>, CanonError> {
    let mut out = Vec::new();
    write_jcs(v, &mut out).map(|()| out)
}

/// The canonical-form oracles on bytes our parser accepts: the canonical bytes parse, and
/// canonicalizing them again gives the same bytes (RFC 8785 is idempotent). The one documented
/// exception: a double in [2^53, 1e21) prints as an integer token, which our policy then refuses
/// (docs/canonicalization.md), so a second pass may fail with `IntegerOutOfRange` only.
pub fn check_canonical(bytes: &[u8]) {
    let Ok(value) = parse(bytes, &Limits::default()) else {
        return;
    };
    let Ok(first) = canon(&value) else {
        return;
    };
    let again = parse(&first, &Limits::default())
        .unwrap_or_else(|e| panic!("canonical output does not parse ({e}): {first:?}"));
    match canon(&again) {
        Ok(second) => assert_eq!(first, second, "JCS is not idempotent"),
        Err(CanonError::IntegerOutOfRange { .. }) => {}
        Err(e) => panic!("canonical output cannot be canonicalized again: {e}"),
    }
    // Whitespace-free: the canonical form of a container is its own minimal encoding.
    assert!(
        std::str::from_utf8(&first).is_ok(),
        "canonical output is not UTF-8"
    );
}

/// Our strict parser and serde_json agree on what is JSON, except where ours is stricter on
/// purpose (duplicate member names), where serde_json is (numbers beyond the f64 range), and
/// at the depth limits (ours 128 levels, serde_json's 127).
pub fn check_parser_agrees_with_serde(bytes: &[u8]) {
    let ours = parse(bytes, &Limits::default());
    let theirs = serde_json::from_slice::<serde_json::Value>(bytes);
    match (&ours, &theirs) {
        (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
        (Err(e), Ok(_))
            if matches!(
                e.kind,
                ParseErrorKind::DuplicateKey(_) | ParseErrorKind::TooDeep { .. }
            ) => {}
        (Ok(_), Err(e))
            if e.to_string().contains("out of range")
                || e.to_string().contains("recursion limit") => {}
        _ => panic!(
            "parsers disagree on {:?}: ours {:?}, serde_json {:?}",
            String::from_utf8_lossy(bytes),
            ours.map(|_| ()),
            theirs.map(|_| ())
        ),
    }
}

/// Structural equality of two parsed values, ignoring byte spans.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.key == q.key && same_value(&p.value, &q.value))
        }
        _ => a == b,
    }
}

/// Splits fuzz input into at most `max` parts at a separator line, for multi-file targets.
pub fn split_parts(data: &[u8], max: usize) -> Vec<&[u8]> {
    const SEP: &[u8] = b"\n%%\n";
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < max {
        match rest.windows(SEP.len()).position(|w| w == SEP) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + SEP.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}
