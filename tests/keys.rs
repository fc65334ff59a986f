//! Key loading from files: every interop key file (`shared/interop`) loads
//! with the expected kids and rules, and directories, size limits and
//! cross-file kid conflicts behave as `keys.rs` documents.
//!
//! Interop files are read from `AUDIT_VERIFY_INTEROP`, else from
//! `$AUDIT_VERIFY_VECTORS/../interop`, else `<CARGO_MANIFEST_DIR>/../shared/interop`;
//! when absent those tests say so loudly and return.

use std::fs;
use std::path::{Path, PathBuf};

use audit_verify::crypto::KeyAlg;
use audit_verify::keys::{KeyError, KeyRing, KidRule, MAX_KEY_FILE_BYTES};

const SPEC_AGENT: &str = "THzoo2_-G4vM4nnmG6HQvVKiuJLJOAUaslLlpIMnTFY";
const SPEC_SECOND: &str = "ebtgArlTx3mOn5CWZaxfGi51VOWFejI5iGtawpBRZSM";
const HYBRID_RAW: &str = "bY0AE0ckYZQR3L0gVHw2eEMya_-DDxyVeJ8iIuy-t_Q";
const HYBRID_AKP: &str = "8wn3iuqrD_tnx2-_lO0o7mJ-_RzNKP0ykPLkjonQqUw";
const MCP10: &str = "SILqUdMDXEPIBhcnRllS32bT61xi7ews8EeB3TF5s8I";

fn interop() -> Option<PathBuf> {
    let dir = std::env::var_os("AUDIT_VERIFY_INTEROP")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("AUDIT_VERIFY_VECTORS").map(|v| PathBuf::from(v).join("../interop"))
        })
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/interop"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n*** SKIPPED: interop files not found at {} (set AUDIT_VERIFY_INTEROP) ***\n",
            dir.display()
        );
        None
    }
}

fn load(rel: &str) -> Option<KeyRing> {
    let path = interop()?.join(rel);
    Some(
        KeyRing::load(std::slice::from_ref(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
}

/// Asserts that `kid` resolves to a key of `alg` by `rule`.
fn resolves(ring: &KeyRing, kid: &str, alg: KeyAlg, rule: KidRule) {
    let (key, got) = ring
        .find(kid)
        .unwrap_or_else(|| panic!("kid {kid} not found"));
    assert_eq!((key.public.alg(), got), (alg, rule), "kid {kid}");
}

#[test]
fn aat_spec_key_files() {
    for rel in ["aat/spec.jwks.json", "aat/spec.keys.json"] {
        let Some(ring) = load(rel) else { return };
        assert_eq!(ring.len(), 2, "{rel}");
        resolves(&ring, SPEC_AGENT, KeyAlg::P256, KidRule::Rfc7638);
        resolves(&ring, SPEC_SECOND, KeyAlg::P256, KidRule::Rfc7638);
        assert!(ring.warnings().is_empty(), "{rel}: {:?}", ring.warnings());
        assert!(
            ring.keys()[0]
                .source
                .ends_with(&format!("{rel}#{SPEC_AGENT}"))
        );
    }
}

#[test]
fn aat_hybrid_key_files() {
    for rel in ["aat/spec_hybrid.jwks.json", "aat/spec_hybrid.keys.json"] {
        let Some(ring) = load(rel) else { return };
        assert_eq!(ring.len(), 3, "{rel}");
        resolves(&ring, SPEC_AGENT, KeyAlg::P256, KidRule::Rfc7638);
        resolves(&ring, HYBRID_RAW, KeyAlg::MlDsa65, KidRule::Sha256Raw);
        resolves(&ring, HYBRID_AKP, KeyAlg::MlDsa65, KidRule::AkpRfc7638);
        let ml = ring.by_alg(KeyAlg::MlDsa65);
        assert_eq!(ml.len(), 1);
        assert_eq!(
            ml[0].derived_kids(),
            vec![
                (KidRule::AkpRfc7638, HYBRID_AKP.to_string()),
                (KidRule::Sha256Raw, HYBRID_RAW.to_string())
            ]
        );
        assert!(ring.warnings().is_empty(), "{rel}: {:?}", ring.warnings());
    }
}

#[test]
fn aat_mcp10_key_files() {
    for rel in [
        "aat/mcp10.pub.pem",
        "aat/mcp10.jwks.json",
        "aat/mcp10.keys.json",
    ] {
        let Some(ring) = load(rel) else { return };
        assert_eq!(ring.len(), 1, "{rel}");
        resolves(&ring, MCP10, KeyAlg::P256, KidRule::Rfc7638);
    }
    let Some(dir) = interop() else { return };
    // The PEM's fingerprint is the SHA-256 of the DER in the file.
    let pem = fs::read_to_string(dir.join("aat/mcp10.pub.pem")).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let ring = load("aat/mcp10.pub.pem").unwrap();
    let key = &ring.keys()[0];
    assert_eq!(key.spki_der(), der);
    use sha2::Digest as _;
    assert_eq!(
        key.fingerprint(),
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&der)))
    );
    assert_eq!(key.declared_kid, None);
}

#[test]
fn all_aat_key_files_together_merge_to_four_keys() {
    let Some(dir) = interop() else { return };
    let files: Vec<PathBuf> = [
        "spec.jwks.json",
        "spec.keys.json",
        "spec_hybrid.jwks.json",
        "spec_hybrid.keys.json",
        "mcp10.pub.pem",
        "mcp10.jwks.json",
        "mcp10.keys.json",
    ]
    .iter()
    .map(|f| dir.join("aat").join(f))
    .collect();
    let ring = KeyRing::load(&files).unwrap();
    assert_eq!(ring.len(), 4);
    // The PEM key was merged into the JWKS entry that names it.
    let mcp = ring.find(MCP10).unwrap().0;
    assert_eq!(mcp.declared_kid.as_deref(), Some(MCP10));
    assert!(
        mcp.source
            .ends_with("mcp10.jwks.json#SILqUdMDXEPIBhcnRllS32bT61xi7ews8EeB3TF5s8I")
    );
    assert!(ring.warnings().is_empty(), "{:?}", ring.warnings());
}

#[test]
fn asqav_key_directory() {
    let Some(ring) = load("asqav/jwks.json") else {
        return;
    };
    assert_eq!(ring.len(), 1);
    let (key, rule) = ring.find("demo-ed25519-key-1").unwrap();
    assert_eq!(rule, KidRule::Declared);
    assert_eq!(key.public.alg(), KeyAlg::Ed25519);
    assert_eq!(key.status.as_deref(), Some("active"));
    assert_eq!(key.revoked_at, None);
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(key.public.bytes()),
        "uxp4LbGJvSY+ijW9QLEJvQoB1WPctg2GpbNr856ibi0="
    );
    // Its declared kid is not derivable: one warning says so.
    assert_eq!(ring.warnings().len(), 1);
    assert!(ring.warnings()[0].contains("declared kid differs from every derivable id"));

    // asqav's own thumbprint of this key (interop/asqav/README.md) is accepted silently.
    let dir = interop().unwrap();
    let text = fs::read_to_string(dir.join("asqav/jwks.json")).unwrap();
    let with_tp = text.replace(
        "\"status\"",
        "\"key_thumbprint\": \"sha256:3c1034d0e0d76a3004ffe20f7777d89e99250c013a8a7ded2925692b22ef2320\", \"status\"",
    );
    let ring = KeyRing::parse(with_tp.as_bytes(), Path::new("jwks.json")).unwrap();
    assert!(
        !ring.warnings().iter().any(|w| w.contains("key_thumbprint")),
        "{:?}",
        ring.warnings()
    );
}

#[test]
fn agt_raw_hex_key() {
    let Some(ring) = load("agt/mcp-receipts-signer.pub.hex") else {
        return;
    };
    assert_eq!(ring.len(), 1);
    assert_eq!(
        hex::encode(ring.keys()[0].public.bytes()),
        "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
    );
}

#[test]
fn a_folder_with_exports_in_it_is_not_a_key_folder() {
    let Some(dir) = interop() else { return };
    let e = KeyRing::load(&[dir.join("aat")]).unwrap_err();
    // README.md is skipped; the first file in name order is an export.
    assert!(
        matches!(&e, KeyError::Json { path, .. } if path.ends_with("mcp10.jsonl")),
        "{e}"
    );
}

// ---------------------------------------------------------------------------
// File-system cases (temporary directories).
// ---------------------------------------------------------------------------

const ED_JWK: &str =
    r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}"#;
const EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"qWm0W9WSurcH4Mli6GMmTlwg10GWUqzTxXdVnXCoUac","y":"SbBOg5WjHU_qBey7vOZYTJnn-dIKBG3-ThEfvUHPKdQ","kid":"a"}"#;

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, content).unwrap();
    p
}

#[test]
fn directories_load_in_name_order_skipping_hidden_and_readme() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "b.json",
        EC_JWK.replace("\"a\"", "\"b\"").as_bytes(),
    );
    write(tmp.path(), "a.json", ED_JWK.as_bytes());
    write(tmp.path(), ".hidden", b"not a key");
    write(tmp.path(), "README.md", b"# keys");
    write(tmp.path(), "readme.txt", b"notes");
    fs::create_dir(tmp.path().join("sub")).unwrap();
    write(&tmp.path().join("sub"), "x.json", b"garbage");
    let ring = KeyRing::load(&[tmp.path().to_path_buf()]).unwrap();
    let kinds: Vec<KeyAlg> = ring.keys().iter().map(|k| k.public.alg()).collect();
    assert_eq!(kinds, vec![KeyAlg::Ed25519, KeyAlg::P256]);
    assert!(ring.keys()[0].source.ends_with("a.json#a"));
}

#[test]
fn empty_directories_are_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let e = KeyRing::load(&[tmp.path().to_path_buf()]).unwrap_err();
    assert!(matches!(&e, KeyError::EmptyDir { path } if path == tmp.path()));
    write(tmp.path(), ".hidden.json", ED_JWK.as_bytes());
    write(tmp.path(), "README", b"");
    assert!(matches!(
        KeyRing::load(&[tmp.path().to_path_buf()]),
        Err(KeyError::EmptyDir { .. })
    ));
}

#[test]
fn files_over_one_mebibyte_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut big = ED_JWK.as_bytes().to_vec();
    big.resize(MAX_KEY_FILE_BYTES as usize + 1, b' ');
    let p = write(tmp.path(), "big.json", &big);
    let e = KeyRing::load(std::slice::from_ref(&p)).unwrap_err();
    assert!(matches!(&e, KeyError::TooLarge { path, .. } if *path == p));
    assert!(e.to_string().contains("big.json"));
    // Exactly at the limit is fine.
    big.truncate(MAX_KEY_FILE_BYTES as usize);
    let p = write(tmp.path(), "limit.json", &big);
    assert_eq!(KeyRing::load(&[p]).unwrap().len(), 1);
}

#[test]
fn missing_paths_name_the_path() {
    let e = KeyRing::load(&[PathBuf::from("/nonexistent/keys.json")]).unwrap_err();
    assert!(matches!(e, KeyError::Io { .. }));
    assert!(
        e.to_string()
            .starts_with("cannot read key file /nonexistent/keys.json")
    );
}

#[test]
fn a_kid_naming_different_keys_in_two_files_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(tmp.path(), "a.json", ED_JWK.as_bytes());
    let b = write(tmp.path(), "b.json", EC_JWK.as_bytes());
    let e = KeyRing::load(&[a.clone(), b]).unwrap_err();
    assert!(matches!(&e, KeyError::ConflictingKid { kid, .. } if kid == "a"));
    assert!(
        e.to_string().contains("a.json#a") && e.to_string().contains("b.json#a"),
        "{e}"
    );
    // The same file twice is one key.
    assert_eq!(KeyRing::load(&[a.clone(), a]).unwrap().len(), 1);
}

#[test]
fn malformed_files_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [&[u8]; 10] = [
        b"",
        b"\xff\xfe\x00",
        b"{\"keys\":[{\"kty\":\"EC\"}]}",
        b"-----BEGIN PUBLIC KEY-----\nMA==\n-----END PUBLIC KEY-----\n",
        b"-----BEGIN PUBLIC KEY-----\nMAMGAQA=\n-----END PUBLIC KEY-----\n",
        b"[1,2,3]",
        b"{\"a\":{\"alg\":\"ES256\",\"jwk_x_y\":5}}",
        b"{\"a\":{\"alg\":\"ML-DSA-65\",\"pk\":\"AAAA\"}}",
        b"{\"kty\":\"AKP\",\"alg\":\"ML-DSA-65\",\"pub\":null}",
        b"00",
    ];
    for (i, content) in cases.iter().enumerate() {
        let p = write(tmp.path(), &format!("case{i}"), content);
        let e = KeyRing::load(&[p]).expect_err("malformed input must be refused");
        assert!(e.to_string().contains(&format!("case{i}")), "case {i}: {e}");
    }
}
