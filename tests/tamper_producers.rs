//! Tamper suites for the asqav and Microsoft AGT profiles: one genuine export each (the interop
//! samples in `testdata/`), one named mutation per case, and the exact finding code, line and
//! verdict each must produce. Records are written one per line (JSONL, or a JSON array / bundle
//! with one element per line) so that lines are easy to state. Re-linking and re-hashing use the
//! library's own canonicalizer: what a forger without the signing key can do.

mod common;

use std::path::{Path, PathBuf};

use audit_verify::canon::pyjson::{self, Dialect};
use audit_verify::canon::{Limits, parse_python};
use audit_verify::profile::{Profile, engine};
use common::{Run, testdata};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

fn load_jsonl(rel: &str) -> Vec<Value> {
    std::fs::read_to_string(testdata(rel))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn load_json(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(testdata(rel)).unwrap()).unwrap()
}

/// JSONL: record i at line i + 1.
fn write_jsonl(dir: &Path, name: &str, records: &[Value]) -> PathBuf {
    let mut s = String::new();
    for r in records {
        s.push_str(&serde_json::to_string(r).unwrap());
        s.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, s).unwrap();
    path
}

/// A bundle object as producers pretty-print it: `{` on line 1, its other members on line 2,
/// record i of `member` at line i + 3; with `member` = None, a bare array with record i at line
/// i + 2.
fn write_bundle(dir: &Path, name: &str, bundle: &Value, member: Option<&str>) -> PathBuf {
    let (head, items) = match member {
        Some(m) => {
            let mut head = bundle.clone();
            let items = head.as_object_mut().unwrap().remove(m).unwrap();
            let mut h = serde_json::to_string(&head).unwrap();
            h.pop();
            h.remove(0);
            if head.as_object().unwrap().is_empty() {
                (format!("{{\n\"{m}\": ["), items)
            } else {
                (format!("{{\n{h}, \"{m}\": ["), items)
            }
        }
        None => ("[".to_string(), bundle.clone()),
    };
    let lines: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let tail = if member.is_some() { "]}" } else { "]" };
    let text = format!("{head}\n{}\n{tail}\n", lines.join(",\n"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn verify(path: &Path, keys: &[&str], extra: &[&str]) -> Run {
    common::verify_json(path, keys, extra)
}

fn assert_failed_at(run: &Run, code: &str, line: u64) {
    assert_eq!(run.verdict(), "failed", "{}", run.stdout);
    assert_eq!(run.code, 1);
    let errors = run.errors();
    assert_eq!(
        errors[0].1, line,
        "first error at the wrong line: {errors:?}"
    );
    assert!(
        errors.iter().any(|(c, l)| c == code && *l == line),
        "expected {code} at line {line}, got {errors:?}"
    );
}

fn assert_verified(run: &Run) {
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert_eq!(run.code, 0);
    assert!(run.errors().is_empty());
}

fn warnings(run: &Run) -> Vec<(String, u64)> {
    run.by_severity("warning")
}

fn uncovered_message(run: &Run) -> String {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "profile.fields_not_covered")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The hash a profile computes for a record (hex), through the library.
fn profile_hash(profile: &str, record: &Value) -> String {
    let p = Profile::builtin(profile).unwrap().unwrap();
    let bytes = serde_json::to_vec(record).unwrap();
    let parsed = parse_python(&bytes, &Limits::default()).unwrap();
    hex::encode(Sha256::digest(
        engine::canonical_bytes(&p.spec, &parsed).unwrap(),
    ))
}

// ---------------------------------------------------------------- asqav

const RECEIPTS: &str = "asqav/ok--interop-receipts.jsonl";
const ASQAV_KEYS: &[&str] = &["asqav-demo.jwks.json"];

fn asqav_payload_hash(receipt: &Value) -> String {
    let bytes = serde_json::to_vec(&receipt["payload"]).unwrap();
    let parsed = parse_python(&bytes, &Limits::default()).unwrap();
    hex::encode(Sha256::digest(
        pyjson::to_vec(Dialect::AsqavJcs, &parsed).unwrap(),
    ))
}

/// Re-links every receipt after `index`: what a forger without the key can do.
fn asqav_relink_after(receipts: &mut [Value], index: usize) {
    for i in index + 1..receipts.len() {
        let prev = asqav_payload_hash(&receipts[i - 1]);
        receipts[i]["payload"]["previousReceiptHash"] = json!(prev);
    }
}

fn asqav_run(receipts: &[Value], keys: &[&str], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "receipts.jsonl", receipts);
    verify(&path, keys, extra)
}

#[test]
fn asqav_untampered_receipts_verify() {
    let run = asqav_run(&load_jsonl(RECEIPTS), ASQAV_KEYS, &[]);
    assert_verified(&run);
    assert_eq!(run.json()["profile"], "asqav");
}

#[test]
fn asqav_edited_decision_fails_at_the_edited_receipt() {
    let mut r = load_jsonl(RECEIPTS);
    r[5]["payload"]["decision"] = json!("deny");
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "sig.invalid", 6);
    assert!(run.errors().contains(&("chain.link_mismatch".into(), 7)));
}

#[test]
fn asqav_edited_and_relinked_receipt_still_fails_at_the_edit() {
    let mut r = load_jsonl(RECEIPTS);
    r[5]["payload"]["decision"] = json!("deny");
    asqav_relink_after(&mut r, 5);
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "sig.invalid", 6);
    assert!(!run.errors().iter().any(|(c, _)| c == "chain.link_mismatch"));
}

#[test]
fn asqav_deleted_receipt_is_a_withheld_gap() {
    let mut r = load_jsonl(RECEIPTS);
    r.remove(7);
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "chain.link_mismatch", 8);
    assert!(run.errors().contains(&("seq.gap".into(), 8)));
    let gap = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "seq.gap")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(gap.contains("withheld"), "{gap}");
}

#[test]
fn asqav_swapped_receipts_fail_at_the_first_moved_one() {
    let mut r = load_jsonl(RECEIPTS);
    r.swap(4, 5);
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "chain.link_mismatch", 5);
    assert!(run.errors().contains(&("seq.gap".into(), 5)));
    assert!(run.errors().contains(&("seq.regression".into(), 6)));
}

#[test]
fn asqav_duplicated_receipt_is_a_replay() {
    let mut r = load_jsonl(RECEIPTS);
    let dup = r[3].clone();
    r.insert(4, dup);
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "chain.replayed_record", 5);
    let errors = run.errors();
    assert!(errors.contains(&("seq.duplicate".into(), 5)));
    assert!(errors.contains(&("record.duplicate_id".into(), 5)));
}

#[test]
fn asqav_edited_context_breaks_the_payload_digest() {
    let mut r = load_jsonl(RECEIPTS);
    r[2]["payload"]["context"]["query"] = json!("drop table");
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "asqav.payload_digest_mismatch", 3);
    assert!(run.errors().contains(&("sig.invalid".into(), 3)));
}

#[test]
fn asqav_outer_copy_that_disagrees_with_its_signed_twin_fails() {
    let mut r = load_jsonl(RECEIPTS);
    r[9]["agent_id"] = json!("agt_someone_else");
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "asqav.outer_copy_mismatch", 10);
}

#[test]
fn asqav_edit_outside_the_signature_verifies_with_a_warning_naming_it() {
    let mut r = load_jsonl(RECEIPTS);
    r[9]["signature_id"] = json!("sig_forged");
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_verified(&run);
    assert!(uncovered_message(&run).contains("signature_id"));
}

#[test]
fn asqav_cut_tail_verifies_but_is_inconclusive_when_completeness_is_required() {
    let mut r = load_jsonl(RECEIPTS);
    r.truncate(15);
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_verified(&run);
    assert!(warnings(&run).contains(&("chain.tail_open".into(), 15)));
    let strict = asqav_run(&r, ASQAV_KEYS, &["--require-complete"]);
    assert_eq!(strict.verdict(), "inconclusive");
    assert_eq!(strict.code, 3);
}

#[test]
fn asqav_dropped_head_is_unanchored_with_the_withheld_count() {
    let mut r = load_jsonl(RECEIPTS);
    r.drain(0..3);
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_verified(&run);
    assert!(warnings(&run).contains(&("chain.head_unanchored".into(), 1)));
}

#[test]
fn asqav_algorithm_none_is_rejected_not_skipped() {
    let mut r = load_jsonl(RECEIPTS);
    r[4]["signature"]["alg"] = json!("none");
    let run = asqav_run(&r, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "sig.unsupported_alg", 5);
}

#[test]
fn asqav_without_keys_is_inconclusive() {
    let run = asqav_run(&load_jsonl(RECEIPTS), &[], &[]);
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert!(warnings(&run).contains(&("sig.unknown_key".into(), 1)));
}

fn jwks_with(dir: &Path, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut jwks = load_json("keys/asqav-demo.jwks.json");
    edit(&mut jwks["keys"][0]);
    let path = dir.join("jwks.json");
    std::fs::write(&path, serde_json::to_string(&jwks).unwrap()).unwrap();
    path
}

fn asqav_run_with_jwks(jwks: &Path, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "receipts.jsonl", &load_jsonl(RECEIPTS));
    let mut args = vec![
        "verify".to_string(),
        path.display().to_string(),
        "--format".into(),
        "json".into(),
        "--keys".into(),
        jwks.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    common::run(args)
}

#[test]
fn asqav_receipts_signed_after_revocation_fail() {
    let dir = tempfile::tempdir().unwrap();
    // Revoked at 12:00:10: receipts issued at 12:00:10 and later (line 11 on) fail.
    let jwks = jwks_with(dir.path(), |k| {
        k["status"] = json!("revoked");
        k["revoked_at"] = json!("2026-11-01T12:00:10Z");
    });
    let run = asqav_run_with_jwks(&jwks, &[]);
    assert_failed_at(&run, "key.revoked", 11);
    assert_eq!(
        run.errors()
            .iter()
            .filter(|(c, _)| c == "key.revoked")
            .count(),
        10
    );
    // Those before the revocation are only issuer-asserted to be earlier: not established.
    assert!(warnings(&run).contains(&("key.status_unverifiable".into(), 1)));
}

#[test]
fn asqav_compromised_key_fails_every_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = jwks_with(dir.path(), |k| k["status"] = json!("compromised"));
    let run = asqav_run_with_jwks(&jwks, &[]);
    assert_failed_at(&run, "key.compromised", 1);
}

#[test]
fn asqav_key_bound_to_another_issuer_fails() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = jwks_with(dir.path(), |k| {
        k["issuer_id"] = json!("Other Org");
        k["org_id"] = json!("org_other");
    });
    let run = asqav_run_with_jwks(&jwks, &[]);
    assert_failed_at(&run, "key.issuer_mismatch", 1);
}

#[test]
fn asqav_audit_pack_with_an_edited_outer_member_fails_its_digest() {
    let mut pack = load_json("asqav/ok--interop-audit-pack.json");
    pack["receipts"][3]["signature_id"] = json!("sig_forged");
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "pack.json", &pack, Some("receipts"));
    let run = verify(&path, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "asqav.bundle_digest_mismatch", 1);
}

#[test]
fn asqav_audit_pack_whose_regime_mapping_names_no_single_receipt_fails() {
    let mut pack = load_json("asqav/ok--interop-audit-pack.json");
    // One reference resolves; one names a receipt that is not there; one names an id that two
    // receipts carry; one is not a string.
    pack["receipts"][4]["signature_id"] = json!("sig_demo_00000005");
    pack["regime_mapping"] = json!({
        "eu_ai_act": ["sig_demo_00000003", "sig_withheld"],
        "dora": ["sig_demo_00000005", 7],
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "pack.json", &pack, Some("receipts"));
    let run = verify(&path, ASQAV_KEYS, &[]);
    let unresolved = run.messages("asqav.regime_mapping_unresolved");
    assert_eq!(unresolved.len(), 3, "{unresolved:?}");
    assert!(
        unresolved[0].contains("\"sig_withheld\", which no receipt"),
        "{unresolved:?}"
    );
    assert!(
        unresolved[1].contains("\"sig_demo_00000005\", which 2 receipts"),
        "{unresolved:?}"
    );
    assert!(
        unresolved[2].contains("lists 7, not a signature_id"),
        "{unresolved:?}"
    );
    assert_failed_at(&run, "asqav.regime_mapping_unresolved", 1);
}

#[test]
fn asqav_audit_pack_whose_regime_mapping_resolves_has_no_mapping_finding() {
    let mut pack = load_json("asqav/ok--interop-audit-pack.json");
    pack["regime_mapping"] = json!({"eu_ai_act": ["sig_demo_00000003", "sig_demo_00000019"]});
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "pack.json", &pack, Some("receipts"));
    let run = verify(&path, ASQAV_KEYS, &[]);
    let errors = run.errors();
    // The mapping is signed, so the edit shows in the digest, and only there.
    assert!(
        errors.contains(&("asqav.bundle_digest_mismatch".into(), 1)),
        "{errors:?}"
    );
    assert!(
        !errors
            .iter()
            .any(|(c, _)| c == "asqav.regime_mapping_unresolved"),
        "{errors:?}"
    );
}

#[test]
fn asqav_audit_pack_with_a_removed_receipt_fails_count_digest_and_chain() {
    let mut pack = load_json("asqav/ok--interop-audit-pack.json");
    pack["receipts"].as_array_mut().unwrap().remove(10);
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "pack.json", &pack, Some("receipts"));
    let run = verify(&path, ASQAV_KEYS, &[]);
    let errors = run.errors();
    assert!(
        errors.contains(&("asqav.bundle_count_mismatch".into(), 1)),
        "{errors:?}"
    );
    assert!(errors.contains(&("asqav.bundle_digest_mismatch".into(), 1)));
    assert!(errors.contains(&("chain.link_mismatch".into(), 13)));
}

#[test]
fn asqav_audit_pack_resigned_with_its_own_key_is_not_trusted() {
    // Without a supplied key the pack is self-consistent only.
    let path = testdata("asqav/ok--interop-audit-pack.json");
    let run = verify(&path, &[], &[]);
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert!(warnings(&run).contains(&("asqav.bundle_key_untrusted".into(), 1)));
}

/// The generated pack's signed projection: the pack without its `bundle_*` members (it has every
/// member of the projection, none null), in asqav-JCS.
fn gen_pack_projection(pack: &Value) -> Vec<u8> {
    let mut projection = pack.clone();
    let members = projection.as_object_mut().unwrap();
    members.retain(|k, _| !k.starts_with("bundle_"));
    let parsed = parse_python(
        &serde_json::to_vec(&projection).unwrap(),
        &Limits::default(),
    )
    .unwrap();
    let bytes = pyjson::to_vec(Dialect::AsqavJcs, &parsed).unwrap();
    assert_eq!(
        pack["bundle_digest"],
        json!(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))))
    );
    bytes
}

#[test]
fn asqav_audit_pack_signed_with_each_algorithm_is_checked_over_its_projection() {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use ml_dsa::signature::Keypair as _;
    let pack = load_json("asqav/ok--gen-audit-pack.json");
    let msg = gen_pack_projection(&pack);
    let ed = ed25519_dalek::SigningKey::from_bytes(&[21u8; 32]);
    let ec = p256::ecdsa::SigningKey::from_slice(&[22u8; 32]).unwrap();
    let ml = ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&[23u8; 32].into());
    let signed: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "Ed25519",
            ed25519_dalek::Signer::sign(&ed, &msg).to_bytes().to_vec(),
            ed.verifying_key().to_bytes().to_vec(),
        ),
        (
            "ES256",
            {
                let s: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&ec, &msg);
                s.to_bytes().to_vec()
            },
            ec.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        ),
        (
            "ML-DSA-65",
            ml.expanded_key()
                .sign_deterministic(&msg, b"")
                .unwrap()
                .encode()
                .to_vec(),
            ml.verifying_key().encode().to_vec(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (alg, sig, key) in signed {
        let mut resigned = pack.clone();
        resigned["bundle_signature_algorithm"] = json!(alg);
        resigned["bundle_signature"] = json!(STANDARD.encode(&sig));
        resigned["bundle_public_key"] = json!(STANDARD.encode(&key));
        let path = write_bundle(dir.path(), "pack.json", &resigned, Some("receipts"));
        // The receipts' keys are supplied, the bundle key is not: self-consistent only.
        let run = verify(&path, GEN_KEYS, &[]);
        assert!(run.errors().is_empty(), "{alg}: {:?}", run.errors());
        assert!(
            warnings(&run).contains(&("asqav.bundle_key_untrusted".into(), 1)),
            "{alg}: {}",
            run.stdout
        );
        // One bit of the signature, or one receipt member, changed: the signature fails.
        let mut bad = sig.clone();
        bad[10] ^= 1;
        let mut forged = resigned.clone();
        forged["bundle_signature"] = json!(STANDARD.encode(&bad));
        let path = write_bundle(dir.path(), "pack.json", &forged, Some("receipts"));
        let run = verify(&path, GEN_KEYS, &[]);
        assert_failed_at(&run, "asqav.bundle_signature_invalid", 1);
        let mut edited = resigned.clone();
        edited["receipts"][25]["signature_id"] = json!("sig_forged");
        let path = write_bundle(dir.path(), "pack.json", &edited, Some("receipts"));
        let run = verify(&path, GEN_KEYS, &[]);
        assert_failed_at(&run, "asqav.bundle_signature_invalid", 1);
        assert!(
            run.errors()
                .contains(&("asqav.bundle_digest_mismatch".into(), 1))
        );
    }
}

#[test]
fn asqav_compliance_bundle_with_an_edited_receipt_fails_its_merkle_tree() {
    let mut bundle = load_json("asqav/ok--interop-compliance-bundle.json");
    bundle["receipts"][0]["signature_id"] = json!("sig_forged");
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "bundle.json", &bundle, Some("receipts"));
    let run = verify(&path, ASQAV_KEYS, &[]);
    assert_failed_at(&run, "asqav.bundle_merkle_mismatch", 1);
    let messages = |run: &common::Run| run.messages("asqav.bundle_merkle_mismatch");
    // The edited receipt's hash differs from the one stated for it, and the roots from both
    // stated roots.
    let found = messages(&run);
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("receipt_hashes[0] does not match")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("merkle_root does not match")),
        "{found:?}"
    );

    // Hashes and receipts intact, the stated root edited: only the root differs.
    let mut bundle = load_json("asqav/ok--interop-compliance-bundle.json");
    bundle["merkle_root"] = json!("0".repeat(64));
    let path = write_bundle(dir.path(), "root.json", &bundle, Some("receipts"));
    let found = messages(&verify(&path, ASQAV_KEYS, &[]));
    assert_eq!(
        found,
        vec!["merkle_root does not match the root recomputed over the receipts".to_string()]
    );

    // One stated hash dropped: the list no longer has one hash per receipt.
    let mut bundle = load_json("asqav/ok--interop-compliance-bundle.json");
    bundle["verification"]["receipt_hashes"]
        .as_array_mut()
        .unwrap()
        .pop();
    let path = write_bundle(dir.path(), "short.json", &bundle, Some("receipts"));
    let found = messages(&verify(&path, ASQAV_KEYS, &[]));
    assert!(
        found
            .iter()
            .any(|m| m == "verification.receipt_hashes does not list one hash per receipt"),
        "{found:?}"
    );
}

// ------------------------------------------- asqav structure, counterparty, key copy rules
//
// On the generated chain (testdata/gen/gen_asqav.py), whose TEST-ONLY keys derive from labels:
// edits inside the signed payload are re-signed as the key holder would, so that only the rule
// under test can object. Line 25 is alpha's last receipt (nothing links after it); line 10 is
// beta's acknowledgment binding alpha's receipt on line 6 (signature_id sig_fx000005).

const GEN_RECEIPTS: &str = "asqav/ok--gen-receipts.jsonl";
const GEN_KEYS: &[&str] = &["asqav-gen.jwks.json"];

fn alpha_key() -> ed25519_dalek::SigningKey {
    let seed: [u8; 32] = Sha256::digest(b"asqav-fixture-key:alpha-ed25519-1").into();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// Re-signs a receipt's payload with alpha's key (asqav-JCS, base64url without padding).
fn alpha_resign(receipt: &mut Value) {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    let bytes = serde_json::to_vec(&receipt["payload"]).unwrap();
    let parsed = parse_python(&bytes, &Limits::default()).unwrap();
    let msg = pyjson::to_vec(Dialect::AsqavJcs, &parsed).unwrap();
    let sig = alpha_key().sign(&msg);
    receipt["signature"]["sig"] =
        json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.to_bytes()));
}

/// base64 SHA-256 of the asqav-JCS of `{payload, signature}` (what a binding commits to).
fn envelope_hash(receipt: &Value) -> String {
    use base64::Engine as _;
    let env = json!({"payload": receipt["payload"], "signature": receipt["signature"]});
    let parsed = parse_python(&serde_json::to_vec(&env).unwrap(), &Limits::default()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(
        pyjson::to_vec(Dialect::AsqavJcs, &parsed).unwrap(),
    ))
}

fn gen_with_last_alpha(edit: impl Fn(&mut Value, &[Value])) -> Run {
    let mut r = load_jsonl(GEN_RECEIPTS);
    assert_eq!(r[24]["payload"]["agent_id"], "agt_fixture_alpha");
    let others = r.clone();
    edit(&mut r[24]["payload"], &others);
    alpha_resign(&mut r[24]);
    asqav_run(&r, GEN_KEYS, &[])
}

fn assert_inconclusive_at(run: &Run, code: &str, line: u64) {
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert_eq!(run.code, 3);
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    assert!(
        warnings(run).contains(&(code.to_string(), line)),
        "expected {code} at line {line}, got {:?}",
        warnings(run)
    );
}

#[test]
fn asqav_generated_chain_resigned_unchanged_still_verifies() {
    // The re-signing helper itself changes nothing (Ed25519 is deterministic).
    let run = gen_with_last_alpha(|_, _| {});
    assert_verified(&run);
}

#[test]
fn asqav_unregistered_protectmcp_type_fails() {
    let run = gen_with_last_alpha(|p, _| p["type"] = json!("protectmcp:decision:made_up"));
    assert_failed_at(&run, "asqav.type_invalid", 25);
}

#[test]
fn asqav_non_string_type_fails() {
    let run = gen_with_last_alpha(|p, _| p["type"] = json!(42));
    assert_failed_at(&run, "asqav.type_invalid", 25);
}

#[test]
fn asqav_registered_but_unimplemented_or_foreign_type_is_not_established() {
    for t in ["protectmcp:lifecycle:oversight_ruling", "acme:audit:event"] {
        let run = gen_with_last_alpha(|p, _| p["type"] = json!(t));
        assert_inconclusive_at(&run, "asqav.type_unsupported", 25);
    }
}

#[test]
fn asqav_absent_or_unrecognised_wire_version_is_not_established() {
    let run = gen_with_last_alpha(|p, _| {
        p.as_object_mut().unwrap().remove("v");
    });
    assert_inconclusive_at(&run, "asqav.version_unsupported", 25);
    for v in [json!(99), json!(1.5), json!("1"), json!(true)] {
        let run = gen_with_last_alpha(|p, _| p["v"] = v.clone());
        assert_inconclusive_at(&run, "asqav.version_unsupported", 25);
    }
    let run = gen_with_last_alpha(|p, _| p["mode"] = json!("digest"));
    assert_inconclusive_at(&run, "asqav.version_unsupported", 25);
}

#[test]
fn asqav_null_anchors_are_malformed_not_absent() {
    let mut r = load_jsonl(GEN_RECEIPTS);
    r[9]["anchors"] = json!(null);
    let run = asqav_run(&r, GEN_KEYS, &[]);
    assert_inconclusive_at(&run, "asqav.anchors_malformed", 10);
    // Absent is a conformant spelling of no anchors.
    r[9].as_object_mut().unwrap().remove("anchors");
    assert_verified(&asqav_run(&r, GEN_KEYS, &[]));
}

#[test]
fn asqav_counterparty_binding_resolves_against_the_originating_receipt() {
    let r = load_jsonl(GEN_RECEIPTS);
    let b = &r[9]["payload"]["counterparty_binding"];
    assert_eq!(b["receipt_ref"], r[5]["signature_id"]);
    assert_eq!(b["envelope_hash"], json!(envelope_hash(&r[5])));
    assert_verified(&asqav_run(&r, GEN_KEYS, &[]));
}

#[test]
fn asqav_counterparty_origin_missing_from_the_export_is_not_established() {
    let mut r = load_jsonl(GEN_RECEIPTS);
    r[5]["signature_id"] = json!("sig_renamed");
    let run = asqav_run(&r, GEN_KEYS, &[]);
    assert_inconclusive_at(&run, "asqav.counterparty_unverifiable", 10);
}

#[test]
fn asqav_counterparty_reference_moved_to_another_receipt_fails() {
    // Swap the unsigned signature_ids: the binding's receipt_ref now names alpha's seq 1.
    let mut r = load_jsonl(GEN_RECEIPTS);
    let (a, b) = (r[0]["signature_id"].clone(), r[5]["signature_id"].clone());
    r[0]["signature_id"] = b;
    r[5]["signature_id"] = a;
    let run = asqav_run(&r, GEN_KEYS, &[]);
    assert_failed_at(&run, "asqav.counterparty_invalid", 10);
}

#[test]
fn asqav_counterparty_binding_rules_on_a_resigned_acknowledgment() {
    let bind = |p: &mut Value, others: &[Value], b: Value| {
        p["type"] = json!("protectmcp:acknowledgment");
        let mut b = b;
        if b.get("envelope_hash").is_none() {
            b["envelope_hash"] = json!(envelope_hash(&others[7]));
        }
        p["counterparty_binding"] = b;
    };
    let base = || json!({"scope": "envelope_minus_anchors", "receipt_ref": "sig_fx000007"});
    // Sound, expecting the party that signs: verified.
    let run = gen_with_last_alpha(|p, o| {
        let mut b = base();
        b["expect_ack_from"] = json!("alpha-ed25519-1");
        bind(p, o, b);
    });
    assert_verified(&run);
    // Expecting another acknowledger.
    let run = gen_with_last_alpha(|p, o| {
        let mut b = base();
        b["expect_ack_from"] = json!("beta-es256-1");
        bind(p, o, b);
    });
    assert_failed_at(&run, "asqav.counterparty_invalid", 25);
    // Committing to other bytes.
    let run = gen_with_last_alpha(|p, o| {
        let mut b = base();
        b["envelope_hash"] = json!(envelope_hash(&o[6]));
        bind(p, o, b);
    });
    assert_failed_at(&run, "asqav.counterparty_invalid", 25);
    // Malformed: no receipt_ref; a digest that is not 32 bytes; terms without their digest.
    for edit in [
        json!({"scope": "envelope_minus_anchors", "envelope_hash": "AAAA"}),
        json!({"scope": "envelope_minus_anchors", "receipt_ref": "sig_fx000007", "envelope_hash": "AAAA"}),
        json!({"scope": "envelope_minus_anchors", "receipt_ref": "sig_fx000007", "terms": {"price": 3}}),
    ] {
        let run = gen_with_last_alpha(|p, o| bind(p, o, edit.clone()));
        assert_failed_at(&run, "asqav.counterparty_invalid", 25);
    }
    // Terms with the right digest pass; with a wrong one fail.
    let terms = json!({"price": 3, "currency": "EUR"});
    let digest = {
        use base64::Engine as _;
        let parsed =
            parse_python(&serde_json::to_vec(&terms).unwrap(), &Limits::default()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(
            pyjson::to_vec(Dialect::AsqavJcs, &parsed).unwrap(),
        ))
    };
    let run = gen_with_last_alpha(|p, o| {
        let mut b = base();
        b["profile_version"] = json!("0.1");
        b["terms"] = terms.clone();
        b["terms_digest"] = json!(digest);
        bind(p, o, b);
    });
    assert_verified(&run);
    let run = gen_with_last_alpha(|p, o| {
        let mut b = base();
        b["terms"] = json!({"price": 4, "currency": "EUR"});
        b["terms_digest"] = json!(digest);
        bind(p, o, b);
    });
    assert_failed_at(&run, "asqav.counterparty_invalid", 25);
    // Legacy (no scope), an unknown scope, an unknown profile version: not established.
    for b in [
        json!({"receipt_ref": "sig_fx000007"}),
        json!({"scope": "whole_envelope", "receipt_ref": "sig_fx000007"}),
        json!({"scope": "envelope_minus_anchors", "receipt_ref": "sig_fx000007", "profile_version": "9.9"}),
    ] {
        let run = gen_with_last_alpha(|p, o| bind(p, o, b.clone()));
        assert_inconclusive_at(&run, "asqav.counterparty_unverifiable", 25);
    }
}

#[test]
fn asqav_outer_public_key_copy_must_be_the_verifying_key() {
    // The Audit Pack's entries carry public_key_b64; as JSONL they are receipts of their own.
    let pack = load_json("asqav/ok--gen-audit-pack.json");
    let mut r: Vec<Value> = pack["receipts"].as_array().unwrap().clone();
    let run = asqav_run(&r, GEN_KEYS, &[]);
    assert_verified(&run);
    assert!(!uncovered_message(&run).contains("public_key_b64"));
    // Another supplied key's bytes (beta's) on alpha's first receipt.
    r[0]["public_key_b64"] = r[1]["public_key_b64"].clone();
    let run = asqav_run(&r, GEN_KEYS, &[]);
    assert_failed_at(&run, "asqav.outer_copy_mismatch", 1);
}

// ---------------------------------------------------------------- AGT FileAuditSink

const SINK: &str = "agt/ok--interop-audit-filesink.jsonl";

fn sink_run(lines: &[Value], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "sink.jsonl", lines);
    let key = testdata("keys/agt-filesink-hmac-key.txt");
    let mut args = vec!["--hmac-key-file", key.to_str().unwrap()];
    args.extend_from_slice(extra);
    verify(&path, &[], &args)
}

fn sink_rehash(line: &mut Value) {
    let h = profile_hash("agt-filesink", line);
    line["content_hash"] = json!(h);
}

#[test]
fn sink_untampered_verifies_with_the_secret() {
    let run = sink_run(&load_jsonl(SINK), &[]);
    assert_verified(&run);
    assert_eq!(run.json()["profile"], "agt-filesink");
}

#[test]
fn sink_edited_policy_decision_fails_at_the_edited_line() {
    let mut l = load_jsonl(SINK);
    l[7]["policy_decision"] = json!("allow");
    let run = sink_run(&l, &[]);
    assert_failed_at(&run, "record.hash_mismatch", 8);
    assert!(run.errors().contains(&("sig.invalid".into(), 8)));
    assert!(run.errors().contains(&("chain.link_mismatch".into(), 9)));
}

#[test]
fn sink_rehashed_and_relinked_without_the_secret_fails_its_hmac() {
    let mut l = load_jsonl(SINK);
    l[7]["policy_decision"] = json!("allow");
    sink_rehash(&mut l[7]);
    for i in 8..l.len() {
        let prev = l[i - 1]["content_hash"].clone();
        l[i]["previous_hash"] = prev;
        sink_rehash(&mut l[i]);
    }
    let run = sink_run(&l, &[]);
    assert_failed_at(&run, "sig.invalid", 8);
    assert!(
        !run.errors()
            .iter()
            .any(|(c, _)| c == "record.hash_mismatch")
    );
}

#[test]
fn sink_edit_outside_the_hash_verifies_with_a_warning_naming_it() {
    let mut l = load_jsonl(SINK);
    l[3]["sandbox_id"] = json!("sandbox-forged");
    let run = sink_run(&l, &[]);
    assert_verified(&run);
    assert!(uncovered_message(&run).contains("sandbox_id"));
}

#[test]
fn sink_cut_at_the_tail_verifies_with_tail_not_established() {
    let mut l = load_jsonl(SINK);
    l.truncate(15);
    let run = sink_run(&l, &[]);
    assert_verified(&run);
    assert!(warnings(&run).contains(&("chain.tail_open".into(), 15)));
    let tail = &run.json()["chains"][0]["guarantees"]["tail"];
    assert_eq!(tail["status"], "not_established", "{tail}");
    let strict = sink_run(&l, &["--require-complete"]);
    assert_eq!(strict.verdict(), "inconclusive");
    assert_eq!(strict.code, 3);
}

#[test]
fn sink_deleted_line_fails_at_the_next_line() {
    let mut l = load_jsonl(SINK);
    l.remove(9);
    let run = sink_run(&l, &[]);
    assert_failed_at(&run, "chain.link_mismatch", 10);
}

#[test]
fn sink_rotated_files_are_unlinked_segments() {
    // The sink's rotation restarts the chain at "" in each file: a second file whose chain is its
    // own. Made here from the sample by restarting the chain at line 11, as rotation would.
    let l = load_jsonl(SINK);
    let mut second: Vec<Value> = l[10..].to_vec();
    second[0]["previous_hash"] = json!("");
    // Without the secret a forger cannot do this; with the demo secret we can re-sign.
    let key = std::fs::read(testdata("keys/agt-filesink-hmac-key.txt")).unwrap();
    for i in 0..second.len() {
        if i > 0 {
            let prev = second[i - 1]["content_hash"].clone();
            second[i]["previous_hash"] = prev;
        }
        sink_rehash(&mut second[i]);
        let mac = hmac_hex(&key, second[i]["content_hash"].as_str().unwrap());
        second[i]["signature"] = json!(mac);
    }
    let dir = tempfile::tempdir().unwrap();
    let a = write_jsonl(dir.path(), "audit.20261122053943.jsonl", &l[..10]);
    let b = write_jsonl(dir.path(), "audit.jsonl", &second);
    let keyfile = testdata("keys/agt-filesink-hmac-key.txt");
    let run = common::run([
        "verify",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
        "--hmac-key-file",
        keyfile.to_str().unwrap(),
    ]);
    assert_verified(&run);
    assert!(warnings(&run).contains(&("chain.segment_restart".into(), 1)));
    let head = &run.json()["chains"][0]["guarantees"]["head"];
    assert_eq!(head["status"], "not_established", "{head}");
}

fn hmac_hex(key: &[u8], msg: &str) -> String {
    // RFC 2104 with SHA-256 (block 64), written out so the test does not share the library's code.
    let mut k = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(64, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::digest([ipad.as_slice(), msg.as_bytes()].concat());
    hex::encode(Sha256::digest([opad.as_slice(), inner.as_slice()].concat()))
}

#[test]
fn sink_without_the_secret_is_inconclusive_and_with_a_wrong_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "sink.jsonl", &load_jsonl(SINK));
    let run = verify(&path, &[], &[]);
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert!(warnings(&run).contains(&("sig.hmac_key_missing".into(), 1)));
    let wrong = dir.path().join("wrong.txt");
    std::fs::write(&wrong, b"not-the-secret").unwrap();
    let run = verify(&path, &[], &["--hmac-key-file", wrong.to_str().unwrap()]);
    assert_failed_at(&run, "sig.invalid", 1);
}

// ---------------------------------------------------------------- AGT AuditLog export

const EXPORT: &str = "agt/ok--interop-audit-export.json";

fn export_run(export: &Value, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "export.json", export, Some("entries"));
    verify(&path, &[], extra)
}

#[test]
fn export_untampered_verifies() {
    assert_verified(&export_run(&load_json(EXPORT), &[]));
}

#[test]
fn export_edit_to_policy_decision_verifies_with_a_warning_naming_it() {
    let mut e = load_json(EXPORT);
    e["entries"][7]["policy_decision"] = json!("allow");
    let run = export_run(&e, &[]);
    assert_verified(&run);
    assert!(uncovered_message(&run).contains("policy_decision"));
}

#[test]
fn export_edited_action_fails_at_the_entry_and_the_merkle_root() {
    let mut e = load_json(EXPORT);
    e["entries"][7]["resource"] = json!("payroll:all");
    let run = export_run(&e, &[]);
    assert_failed_at(&run, "agt.merkle_root_mismatch", 1);
    let errors = run.errors();
    assert!(
        errors.contains(&("record.hash_mismatch".into(), 10)),
        "{errors:?}"
    );
    assert!(errors.contains(&("chain.link_mismatch".into(), 11)));
}

#[test]
fn export_deleted_entry_fails_count_root_and_link() {
    let mut e = load_json(EXPORT);
    e["entries"].as_array_mut().unwrap().remove(4);
    let run = export_run(&e, &[]);
    let errors = run.errors();
    assert!(
        errors.contains(&("agt.entry_count_mismatch".into(), 1)),
        "{errors:?}"
    );
    assert!(errors.contains(&("agt.merkle_root_mismatch".into(), 1)));
    assert!(errors.contains(&("chain.link_mismatch".into(), 7)));
}

#[test]
fn export_cut_at_the_tail_fails_the_whole_log_root() {
    let mut e = load_json(EXPORT);
    e["entries"].as_array_mut().unwrap().truncate(15);
    e["entry_count"] = json!(15);
    let run = export_run(&e, &[]);
    assert_failed_at(&run, "agt.merkle_root_mismatch", 1);
}

#[test]
fn export_window_cut_at_the_head_is_unanchored_not_broken() {
    // AGT keeps the last 10,000 entries: the first exported entry links to one not in the file.
    let mut e = load_json(EXPORT);
    e["entries"].as_array_mut().unwrap().drain(0..5);
    e["entry_count"] = json!(15);
    let run = export_run(&e, &[]);
    assert_verified(&run);
    let w = warnings(&run);
    assert!(w.contains(&("chain.head_unanchored".into(), 3)), "{w:?}");
    assert!(w.contains(&("agt.merkle_root_unverifiable".into(), 1)));
    let strict = export_run(&e, &["--require-complete"]);
    assert_eq!(strict.verdict(), "inconclusive");
}

#[test]
fn export_fully_rehashed_by_a_forger_verifies_because_the_format_is_unsigned() {
    let mut e = load_json(EXPORT);
    let entries = e["entries"].as_array_mut().unwrap();
    entries[7]["resource"] = json!("payroll:all");
    for i in 7..entries.len() {
        if i > 7 {
            let prev = entries[i - 1]["entry_hash"].clone();
            entries[i]["previous_hash"] = prev;
        }
        let h = profile_hash("agt-audit", &entries[i]);
        entries[i]["entry_hash"] = json!(h);
    }
    let leaves: Vec<String> = entries
        .iter()
        .map(|x| x["entry_hash"].as_str().unwrap().to_string())
        .collect();
    let root = audit_verify::profile::agt::incremental_root(&leaves).unwrap();
    e["merkle_root"] = json!(root.clone());
    e["chain_root"] = json!(root);
    let run = export_run(&e, &[]);
    // Nothing in the file can tell: the report says the chain is unsigned.
    assert_verified(&run);
    assert!(
        warnings(&run)
            .iter()
            .any(|(c, _)| c == "sig.chain_unsigned")
    );
}

#[test]
fn proof_with_an_edited_sibling_fails() {
    let mut p = load_json("agt/ok--interop-merkle-proof-entry0.json");
    p["merkle_proof"][2][0] = json!("0".repeat(64));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proof.json");
    std::fs::write(&path, serde_json::to_string_pretty(&p).unwrap()).unwrap();
    let run = verify(&path, &[], &[]);
    assert_failed_at(&run, "agt.proof_invalid", 1);
}

#[test]
fn cloudevents_edited_outcome_fails_at_the_event() {
    let mut ce = load_json("agt/ok--interop-audit-cloudevents.json");
    ce[3]["data"]["outcome"] = json!("error");
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "ce.json", &ce, None);
    let run = verify(&path, &[], &[]);
    assert_failed_at(&run, "record.hash_mismatch", 5);
    // policy_decision rides outside the hash.
    let mut ce = load_json("agt/ok--interop-audit-cloudevents.json");
    ce[3]["data"]["policy_decision"] = json!("allow");
    let path = write_bundle(dir.path(), "ce2.json", &ce, None);
    let run = verify(&path, &[], &[]);
    assert_verified(&run);
    assert!(uncovered_message(&run).contains("data.policy_decision"));
}

#[test]
fn cloudevents_extension_attributes_are_reported_outside_the_hash() {
    // Two more attributes make as many members read by the view as the profile hashes (nine):
    // the members the view rebuilds the entry from stay covered, the extensions are reported.
    let mut ce = load_json("agt/ok--interop-audit-cloudevents.json");
    for event in ce.as_array_mut().unwrap() {
        event["subject"] = json!("s");
        event["dataschema"] = json!("https://example.test/schema");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "ce.json", &ce, None);
    let run = verify(&path, &[], &[]);
    assert_verified(&run);
    let message = uncovered_message(&run);
    let names = message.rsplit(": ").next().unwrap_or_default();
    let listed: Vec<&str> = names.split(", ").map(str::trim).collect();
    for name in ["subject", "dataschema", "specversion", "datacontenttype"] {
        assert!(listed.contains(&name), "{message}");
    }
    for name in [
        "id",
        "type",
        "source",
        "time",
        "data",
        "agentmeshprevioushash",
    ] {
        assert!(!listed.contains(&name), "{message}");
    }
}

// ---------------------------------------------------------------- AGT MCP receipts

const MCP: &str = "agt/ok--interop-mcp-receipts.json";
const MCP_KEYS: &[&str] = &["agt-mcp-signer.pub.hex"];

fn mcp_run(receipts: &Value, keys: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path(), "receipts.json", receipts, None);
    verify(&path, keys, &[])
}

/// Re-signs every receipt from `from` on with another Ed25519 key and re-links them.
fn mcp_resign(receipts: &mut Value, from: usize, seed: [u8; 32]) {
    use ed25519_dalek::Signer as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let p = Profile::builtin("agt-mcp").unwrap().unwrap();
    let list = receipts.as_array_mut().unwrap();
    for i in from..list.len() {
        if i > 0 {
            let prev = list[i - 1]["payload_hash"].clone();
            list[i]["parent_receipt_hash"] = prev;
        }
        let bytes = serde_json::to_vec(&list[i]).unwrap();
        let parsed = parse_python(&bytes, &Limits::default()).unwrap();
        let c = engine::canonical_bytes(&p.spec, &parsed).unwrap();
        list[i]["payload_hash"] = json!(hex::encode(Sha256::digest(&c)));
        list[i]["signature"] = json!(hex::encode(key.sign(&c).to_bytes()));
        list[i]["signer_public_key"] = json!(hex::encode(key.verifying_key().to_bytes()));
    }
}

#[test]
fn mcp_untampered_verifies_only_under_the_pinned_key() {
    assert_verified(&mcp_run(&load_json(MCP), MCP_KEYS));
    let run = mcp_run(&load_json(MCP), &[]);
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert!(warnings(&run).contains(&("sig.embedded_key_untrusted".into(), 2)));
}

#[test]
fn mcp_chain_resigned_with_another_key_is_not_verified() {
    let mut r = load_json(MCP);
    r[4]["cedar_decision"] = json!("allow");
    mcp_resign(&mut r, 4, [0x22; 32]);
    let run = mcp_run(&r, MCP_KEYS);
    // Every hash and link holds, but the signer is not the pinned key.
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert!(warnings(&run).contains(&("sig.embedded_key_untrusted".into(), 6)));
    assert!(run.errors().is_empty());
}

#[test]
fn mcp_edited_decision_fails_at_the_receipt() {
    let mut r = load_json(MCP);
    r[4]["cedar_decision"] = json!("allow");
    let run = mcp_run(&r, MCP_KEYS);
    assert_failed_at(&run, "record.hash_mismatch", 6);
    assert!(run.errors().contains(&("sig.invalid".into(), 6)));
}

#[test]
fn mcp_edit_to_error_verifies_with_a_warning_naming_it() {
    let mut r = load_json(MCP);
    r[5]["error"] = json!("forged error text");
    let run = mcp_run(&r, MCP_KEYS);
    assert_verified(&run);
    assert!(uncovered_message(&run).contains("error"));
}

#[test]
fn mcp_stripped_signature_is_missing() {
    let mut r = load_json(MCP);
    r[8]["signature"] = Value::Null;
    let run = mcp_run(&r, MCP_KEYS);
    assert_failed_at(&run, "sig.missing", 10);
}

#[test]
fn mcp_duplicated_receipt_is_a_replay() {
    let mut r = load_json(MCP);
    let dup = r[3].clone();
    r.as_array_mut().unwrap().insert(4, dup);
    let run = mcp_run(&r, MCP_KEYS);
    assert_failed_at(&run, "chain.replayed_record", 6);
    assert!(run.errors().contains(&("record.duplicate_id".into(), 6)));
}

// ---------------------------------------------------------------- detection

#[test]
fn detection_names_the_candidates_when_nothing_matches() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_jsonl(dir.path(), "x.jsonl", &[json!({"hello": "world"})]);
    let run = verify(&path, &[], &[]);
    assert_eq!(run.code, 2);
    let flat: String = run
        .stderr
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '|' | '│'))
        .collect();
    for name in [
        "aat",
        "asqav",
        "agt-audit",
        "agt-cloudevents",
        "agt-filesink",
        "agt-mcp",
    ] {
        assert!(flat.contains(name), "{}", run.stderr);
    }
}

#[test]
fn detection_reports_ambiguity() {
    let dir = tempfile::tempdir().unwrap();
    let both = json!({"record_id": "r", "session_id": "s", "prev_hash": null,
        "entry_id": "e", "entry_hash": "h", "previous_hash": "", "event_type": "t", "agent_did": "a"});
    let path = write_jsonl(dir.path(), "x.jsonl", &[both]);
    let run = verify(&path, &[], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("several profiles"), "{}", run.stderr);
    assert!(run.stderr.contains("aat") && run.stderr.contains("agt-audit"));
}

#[test]
fn forced_profile_overrides_detection_and_unknown_names_are_usage_errors() {
    let run = verify(&testdata(RECEIPTS), ASQAV_KEYS, &["--profile", "asqav"]);
    assert_verified(&run);
    let run = verify(&testdata(RECEIPTS), ASQAV_KEYS, &["--profile", "nonesuch"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown profile"), "{}", run.stderr);
}

#[test]
fn profiles_command_lists_and_prints_builtins() {
    let run = common::run(["profiles"]);
    assert_eq!(run.code, 0);
    for name in [
        "aat",
        "asqav",
        "agt-audit",
        "agt-cloudevents",
        "agt-filesink",
        "agt-mcp",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(name)),
            "{}",
            run.stdout
        );
    }
    let run = common::run(["profiles", "agt-mcp"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("name = \"agt-mcp\""));
    // The printed file is itself a loadable profile file.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mine.toml");
    std::fs::write(&f, &run.stdout).unwrap();
    let again = common::run(["profiles", f.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}", again.stderr);
}
