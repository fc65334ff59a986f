//! The JSON checkpoint form of audit-verify (`audit-verify/checkpoint/v1`, documented in
//! `docs/checkpoints.md`): a tree size and RFC 6962 root over the export's records, signed over
//! its RFC 8785 canonical form without `signature` and `consistency`, with a key found by `kid` in
//! the `--keys` ring (ES256 P1363, Ed25519, or pure ML-DSA-65 with an empty context), plus
//! optional unsigned RFC 9162 consistency proofs from earlier sizes.
//!
//! Parsing is strict: the members are fixed, duplicate names are rejected (our JSON parser), and
//! every hash is 64 lowercase hex digits.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::canon::jcs;
use crate::canon::json::{self, Limits, Value};
use crate::crypto::{KeyAlg, Provider, Signature};
use crate::keys::KeyRing;
use crate::merkle::Hash;
use crate::profile::aat::parse_hex32;

use super::{ConsistencyProof, Trust};

/// The `type` member every JSON checkpoint carries.
pub const TYPE: &str = "audit-verify/checkpoint/v1";

/// Members excluded from the signed bytes: the signature itself, and proofs (which are verified,
/// not trusted, so they may be attached after signing).
const UNSIGNED: &[&str] = &["signature", "consistency"];
/// Most consistency proofs read from one checkpoint, and most elements per proof.
const MAX_PROOFS: usize = 64;
const MAX_PROOF_LEN: usize = 128;

/// The `signature` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSignature {
    /// `alg`: `ES256`, `Ed25519` or `ML-DSA-65`.
    pub alg: String,
    /// `kid`, resolved in the key ring.
    pub kid: String,
    /// `sig`, decoded from base64url.
    pub sig: Vec<u8>,
}

/// A parsed JSON checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonCheckpoint {
    /// `origin`.
    pub origin: Option<String>,
    /// `size`.
    pub size: u64,
    /// `root`.
    pub root: Hash,
    /// `consistency`.
    pub consistency: Vec<ConsistencyProof>,
    /// `signature`, if present.
    pub signature: Option<JsonSignature>,
    /// The signed bytes: JCS of the object without `signature` and `consistency`.
    pub message: Vec<u8>,
}

/// Parses a JSON checkpoint.
///
/// # Errors
/// A message naming the member that is wrong.
pub fn parse(bytes: &[u8]) -> Result<JsonCheckpoint, String> {
    let value = json::parse(bytes, &Limits::default()).map_err(|e| e.to_string())?;
    let members = value.as_object().ok_or("a JSON checkpoint is an object")?;
    const KNOWN: &[&str] = &[
        "type",
        "origin",
        "size",
        "root",
        "timestamp",
        "consistency",
        "signature",
    ];
    if let Some(m) = members.iter().find(|m| !KNOWN.contains(&m.key.as_str())) {
        return Err(format!("unknown member {:?}", m.key));
    }
    match value.get("type").and_then(Value::as_str) {
        Some(TYPE) => {}
        _ => return Err(format!("\"type\" must be \"{TYPE}\"")),
    }
    let origin = match value.get("origin") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("\"origin\" is not a string".into()),
    };
    let size = value
        .get("size")
        .and_then(Value::as_number)
        .and_then(|n| n.as_u64())
        .ok_or("\"size\" is missing or not a non-negative integer")?;
    let root = value
        .get("root")
        .and_then(Value::as_str)
        .and_then(parse_hex32)
        .ok_or("\"root\" is missing or not 64 lowercase hex digits")?;
    if let Some(t) = value.get("timestamp") {
        let t = t.as_str().ok_or("\"timestamp\" is not a string")?;
        t.parse::<jiff::Timestamp>()
            .map_err(|e| format!("\"timestamp\" {t:?} is not an RFC 3339 instant: {e}"))?;
    }
    let consistency = match value.get("consistency") {
        None => Vec::new(),
        Some(v) => parse_consistency(v)?,
    };
    let signature = match value.get("signature") {
        None => None,
        Some(v) => Some(parse_signature(v)?),
    };
    let mut message = Vec::new();
    jcs::write_jcs_object_excluding(members, UNSIGNED, &mut message)
        .map_err(|e| format!("the checkpoint has no canonical form: {e}"))?;
    Ok(JsonCheckpoint {
        origin,
        size,
        root,
        consistency,
        signature,
        message,
    })
}

fn parse_consistency(v: &Value) -> Result<Vec<ConsistencyProof>, String> {
    let items = v.as_array().ok_or("\"consistency\" is not an array")?;
    if items.len() > MAX_PROOFS {
        return Err(format!("more than {MAX_PROOFS} consistency proofs"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let from_size = item
                .get("from_size")
                .and_then(Value::as_number)
                .and_then(|n| n.as_u64())
                .ok_or_else(|| format!("consistency[{i}].from_size is not an integer"))?;
            let proof = item
                .get("proof")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("consistency[{i}].proof is not an array"))?;
            if proof.len() > MAX_PROOF_LEN {
                return Err(format!("consistency[{i}].proof is too long"));
            }
            let proof = proof
                .iter()
                .map(|h| h.as_str().and_then(parse_hex32))
                .collect::<Option<Vec<Hash>>>()
                .ok_or_else(|| {
                    format!(
                        "consistency[{i}].proof holds a value that is not 64 lowercase hex digits"
                    )
                })?;
            Ok(ConsistencyProof { from_size, proof })
        })
        .collect()
}

fn parse_signature(v: &Value) -> Result<JsonSignature, String> {
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("signature.{k} is missing or not a string"))
    };
    let alg = field("alg")?.to_string();
    let kid = field("kid")?.to_string();
    let sig = URL_SAFE_NO_PAD
        .decode(field("sig")?)
        .map_err(|e| format!("signature.sig is not base64url without padding: {e}"))?;
    Ok(JsonSignature { alg, kid, sig })
}

/// Verifies the signature with the key its `kid` designates in `ring`.
pub fn verify(cp: &JsonCheckpoint, ring: &KeyRing, provider: &dyn Provider) -> Trust {
    let Some(s) = &cp.signature else {
        return Trust::Unsigned;
    };
    let Some((key, rule)) = ring.find(&s.kid) else {
        return Trust::UnknownKey {
            names: vec![s.kid.clone()],
        };
    };
    let signer = format!("{} {} ({rule})", s.alg, s.kid);
    let (want, signature) = match s.alg.as_str() {
        "ES256" => (KeyAlg::P256, Signature::EcdsaP1363(&s.sig)),
        "Ed25519" => (KeyAlg::Ed25519, Signature::Ed25519(&s.sig)),
        "ML-DSA-65" => (
            KeyAlg::MlDsa65,
            Signature::MlDsa65 {
                sig: &s.sig,
                ctx: &[],
            },
        ),
        _ => {
            return Trust::Invalid {
                signer: format!("{signer}: algorithm {:?} is not allowed", s.alg),
            };
        }
    };
    if key.public.alg() != want {
        return Trust::Invalid {
            signer: format!("{signer}: the kid names a {} key", key.public.alg()),
        };
    }
    let ok = provider
        .prepare(&key.public)
        .is_ok_and(|k| k.verify(signature, &cp.message));
    if ok {
        Trust::Verified {
            signers: vec![signer],
        }
    } else {
        Trust::Invalid { signer }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "42fb041fc7ee93857c3fbaa61b4269e562277db0a6af63fbdc95185b1f0cb953";

    #[test]
    fn signed_bytes_exclude_signature_and_proofs() {
        let text = format!(
            r#"{{"size":10,"type":"{TYPE}","root":"{ROOT}","consistency":[{{"from_size":10,"proof":[]}}],"signature":{{"alg":"ES256","kid":"k","sig":"AA"}}}}"#
        );
        let cp = parse(text.as_bytes()).unwrap();
        assert_eq!(cp.size, 10);
        assert_eq!(
            String::from_utf8(cp.message).unwrap(),
            format!(r#"{{"root":"{ROOT}","size":10,"type":"{TYPE}"}}"#)
        );
        assert_eq!(cp.consistency.len(), 1);
        assert_eq!(cp.signature.unwrap().sig, vec![0]);
    }

    #[test]
    fn rejects_what_is_not_the_form() {
        for bad in [
            format!(r#"{{"type":"{TYPE}","size":10}}"#),
            format!(r#"{{"type":"{TYPE}","size":-1,"root":"{ROOT}"}}"#),
            format!(
                r#"{{"type":"{TYPE}","size":10,"root":"{}"}}"#,
                ROOT.to_uppercase()
            ),
            format!(r#"{{"type":"other","size":10,"root":"{ROOT}"}}"#),
            format!(r#"{{"type":"{TYPE}","size":10,"root":"{ROOT}","extra":1}}"#),
            format!(r#"{{"type":"{TYPE}","size":10,"size":11,"root":"{ROOT}"}}"#),
            format!(r#"{{"type":"{TYPE}","size":10,"root":"{ROOT}","timestamp":"yesterday"}}"#),
            format!(
                r#"{{"type":"{TYPE}","size":10,"root":"{ROOT}","signature":{{"alg":"ES256"}}}}"#
            ),
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let unsigned = format!(r#"{{"type":"{TYPE}","size":10,"root":"{ROOT}"}}"#);
        let cp = parse(unsigned.as_bytes()).unwrap();
        let ring = KeyRing::from_keys(Vec::new());
        assert_eq!(
            verify(&cp, &ring, crate::crypto::default_provider()),
            Trust::Unsigned
        );
    }
}
