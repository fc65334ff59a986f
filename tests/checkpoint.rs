//! `--checkpoint`: C2SP tlog-checkpoint notes and JSON checkpoints held against the export's
//! Merkle tree (one RFC 6962 leaf per record, in file order). The committed fixtures in
//! `testdata/checkpoints/` come from `testdata/gen/gen_checkpoints.py` (an independent Python
//! implementation); further checkpoints are signed here with the same test-only keys.

mod common;

use audit_verify::merkle::{self, Hash};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Export, Run, canonical, leaf, testdata, unb64, verify_json};
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const SPEC: &str = "aat/ok--spec10-merkle.jsonl";
const SEQ: &str = "aat/ok--gen-es256-seq.jsonl";
const LOG_NAME: &str = "log.audit-verify.test/fixtures";
const ES256_KID: &str = "XoYDNb0I3Dq5NhfQ4kQuAiWfetZvLm3YqOJnKhmW6bg";

fn path(rel: &str) -> String {
    testdata(rel).display().to_string()
}

fn log_vkey() -> String {
    path("checkpoints/test-log.vkey")
}

/// Runs verify on an export with keys and extra arguments; checkpoints are paths.
fn run_with(export: &Export, keys: &[&str], extra: &[String]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = export.write(dir.path(), "export.jsonl");
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    verify_json(&file, keys, &extra)
}

fn note_args(checkpoint: &str) -> Vec<String> {
    vec![
        "--checkpoint".into(),
        checkpoint.into(),
        "--checkpoint-key".into(),
        log_vkey(),
    ]
}

fn codes(run: &Run) -> Vec<String> {
    run.codes().into_iter().map(|(c, _)| c).collect()
}

fn message_of(run: &Run, code: &str) -> String {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {}", run.stdout))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The tree head over the export's records.
fn head(e: &Export, size: usize) -> Hash {
    let leaves: Vec<Hash> = e.records[..size].iter().map(leaf).collect();
    merkle::root(&leaves)
}

/// A C2SP checkpoint note signed by the test log key (the same key as the fixtures).
fn signed_note(size: u64, root: &Hash) -> String {
    let seed: [u8; 32] = Sha256::digest(b"audit-verify test checkpoint log key").into();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let text = format!("{LOG_NAME}\n{size}\n{}\n", STANDARD.encode(root));
    let pubkey = key.verifying_key().to_bytes();
    let mut id_input = LOG_NAME.as_bytes().to_vec();
    id_input.extend([0x0A, 0x01]);
    id_input.extend(pubkey);
    let mut sig = Sha256::digest(&id_input)[..4].to_vec();
    sig.extend(key.sign(text.as_bytes()).to_bytes());
    format!("{text}\n\u{2014} {LOG_NAME} {}\n", STANDARD.encode(sig))
}

/// A JSON checkpoint signed ES256 by the test-only `other-es256` key (in `gen.jwks.json`).
fn signed_json(size: u64, root: &Hash, consistency: Option<Value>) -> String {
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(testdata("keys/test-only/other-es256.pem")).unwrap();
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let mut cp = json!({
        "type": "audit-verify/checkpoint/v1",
        "size": size,
        "root": hex::encode(root),
    });
    let msg = canonical(&cp, &[]);
    let sig: p256::ecdsa::Signature = key.sign(&msg);
    if let Some(c) = consistency {
        cp["consistency"] = c;
    }
    cp["signature"] = json!({"alg": "ES256", "kid": ES256_KID, "sig": unb64(&sig.to_bytes())});
    serde_json::to_string_pretty(&cp).unwrap()
}

fn write_tmp(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn the_sample_with_its_checkpoint_is_anchored_and_so_is_its_epoch() {
    let cp = path("checkpoints/spec10-merkle.checkpoint");
    let run = run_with(&Export::load(SPEC), &["spec.keys.json"], &note_args(&cp));
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(run.by_severity("warning").is_empty(), "{}", run.stdout);
    let report = run.json();
    let c = &report["checkpoints"][0];
    assert_eq!(c["format"], "c2sp-note");
    assert_eq!(c["signature"], "verified");
    assert_eq!(c["outcome"], "anchors_export");
    assert_eq!(c["size"], 10);
    assert_eq!(
        c["root"],
        "42fb041fc7ee93857c3fbaa61b4269e562277db0a6af63fbdc95185b1f0cb953"
    );
    assert_eq!(c["epochs"][0], "402a33e0-21e6-4d2d-8fb1-09ce145fef5d");
    assert_eq!(report["epochs"][0]["status"], "anchored");
    assert_eq!(report["epochs"][0]["anchored_by"], cp.as_str());
    let anchors = report["chains"][0]["tail_anchors"].as_array().unwrap();
    assert_eq!(anchors.len(), 2);
    assert_eq!(anchors[0]["kind"], "close_record");
    assert_eq!(anchors[0]["line"], 10);
    assert_eq!(anchors[1]["kind"], "checkpoint");
    assert_eq!(anchors[1]["size"], 10);
    assert!(codes(&run).contains(&"checkpoint.matched".to_string()));
}

#[test]
fn the_witness_cosignature_alone_makes_the_checkpoint_trusted() {
    let cp = path("checkpoints/spec10-merkle.checkpoint");
    let witness = path("checkpoints/test-witness.vkey");
    let run = run_with(
        &Export::load(SPEC),
        &["spec.keys.json"],
        &[
            "--checkpoint".into(),
            cp,
            "--checkpoint-key".into(),
            witness,
        ],
    );
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    let signers = run.json()["checkpoints"][0]["signers"].clone();
    assert_eq!(
        signers,
        json!(["witness.audit-verify.test/w1 (Ed25519 cosignature key 1b78e5db), time 1790000000"])
    );
}

#[test]
fn last_record_removed_is_truncation() {
    let cp = path("checkpoints/gen-es256-seq.checkpoint");
    let mut e = Export::load(SEQ);
    e.records.pop();
    let run = run_with(&e, &["gen.jwks.json"], &note_args(&cp));
    assert_eq!(run.verdict(), "failed", "{}", run.stdout);
    assert_eq!(run.code, 1);
    assert_eq!(run.errors(), vec![("checkpoint.truncated".to_string(), 11)]);
    let msg = message_of(&run, "checkpoint.truncated");
    assert!(
        msg.starts_with("truncated: 1 record(s) missing after line 11"),
        "{msg}"
    );
    assert_eq!(run.json()["checkpoints"][0]["missing_records"], 1);
}

#[test]
fn last_hundred_records_removed_is_truncation_by_one_hundred() {
    // An unsigned 150-record chain built here; the checkpoint covers all 150.
    let base = Export::load("aat/ok--gen-unsigned.jsonl");
    let mut e = Export {
        records: Vec::new(),
    };
    let mut prev: Option<String> = None;
    for i in 0..150u64 {
        let mut r = base.records[1].clone();
        r["record_id"] = json!(format!("rec-{i}"));
        r["sequence_number"] = json!(i);
        r["parent_record_id"] = json!(if i == 0 {
            Value::Null
        } else {
            json!(format!("rec-{}", i - 1))
        });
        r["prev_hash"] = prev.clone().map_or(Value::Null, Value::String);
        prev = Some(common::chain_hash(&r));
        e.records.push(r);
    }
    let dir = tempfile::tempdir().unwrap();
    let cp = write_tmp(&dir, "cp.json", &signed_json(150, &head(&e, 150), None));
    let args = vec!["--checkpoint".to_string(), cp];
    let whole = run_with(&e, &["gen.jwks.json"], &args);
    assert!(whole.errors().is_empty(), "{}", whole.stdout);
    e.records.truncate(50);
    let run = run_with(&e, &["gen.jwks.json"], &args);
    assert_eq!(run.verdict(), "failed");
    assert!(
        message_of(&run, "checkpoint.truncated")
            .starts_with("truncated: 100 record(s) missing after line 50"),
        "{}",
        run.stdout
    );
}

#[test]
fn edited_and_relinked_unsigned_chain_fails_the_root() {
    // Without signatures this edit is undetectable by the chain; the checkpoint catches it.
    let original = Export::load("aat/ok--gen-unsigned.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let cp = write_tmp(&dir, "cp", &signed_note(6, &head(&original, 6)));
    let mut e = original.clone();
    e.records[2]["outcome"] = Value::String("failure".into());
    e.relink_after(2);
    let run = run_with(&e, &[], &note_args(&cp));
    assert_eq!(
        run.errors(),
        vec![("checkpoint.root_mismatch".to_string(), 6)]
    );
    let f = &run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "checkpoint.root_mismatch")
        .unwrap()
        .clone();
    assert_eq!(f["expected"], hex::encode(head(&original, 6)));
    assert_eq!(f["found"], hex::encode(head(&e, 6)));
}

#[test]
fn reordered_records_fail_the_root() {
    let cp = path("checkpoints/gen-es256-seq.checkpoint");
    let mut e = Export::load("aat/ok--gen-es256-seq.jsonl");
    e.records.swap(3, 4);
    let run = run_with(&e, &["gen.jwks.json"], &note_args(&cp));
    assert!(codes(&run).contains(&"checkpoint.root_mismatch".to_string()));
}

#[test]
fn a_bad_signature_is_reported_and_the_checkpoint_not_trusted() {
    let text = std::fs::read_to_string(testdata("checkpoints/gen-es256-seq.checkpoint")).unwrap();
    // Change one character of the signature (after the key id).
    let sig_start = text.rfind(' ').unwrap() + 12;
    let mut bytes = text.into_bytes();
    bytes[sig_start] = if bytes[sig_start] == b'A' { b'B' } else { b'A' };
    let dir = tempfile::tempdir().unwrap();
    let cp = write_tmp(&dir, "cp", std::str::from_utf8(&bytes).unwrap());
    let mut e = Export::load(SEQ);
    e.records.truncate(9);
    let run = run_with(&e, &["gen.jwks.json"], &note_args(&cp));
    // Untrusted: the truncation it would show is not claimed.
    assert_eq!(
        run.errors(),
        vec![("checkpoint.signature_invalid".to_string(), 0)]
    );
    assert_eq!(run.json()["checkpoints"][0]["outcome"], "not_trusted");
}

#[test]
fn an_edited_checkpoint_body_fails_its_signature() {
    let text = std::fs::read_to_string(testdata("checkpoints/gen-es256-seq.checkpoint")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cp = write_tmp(&dir, "cp", &text.replacen("\n12\n", "\n11\n", 1));
    let mut e = Export::load(SEQ);
    e.records.pop();
    let run = run_with(&e, &["gen.jwks.json"], &note_args(&cp));
    assert_eq!(
        run.errors(),
        vec![("checkpoint.signature_invalid".to_string(), 0)]
    );
}

#[test]
fn an_unknown_key_is_reported_and_the_checkpoint_not_trusted() {
    let cp = path("checkpoints/gen-es256-seq.checkpoint");
    let mut e = Export::load(SEQ);
    e.records.pop();
    let run = run_with(&e, &["gen.jwks.json"], &["--checkpoint".into(), cp.clone()]);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(
        run.by_severity("warning")
            .contains(&("checkpoint.unknown_key".to_string(), 0))
    );
    assert_eq!(run.json()["checkpoints"][0]["signature"], "unknown_key");
    // The witness key is known but did not sign this note: still unknown.
    let run = run_with(
        &e,
        &["gen.jwks.json"],
        &[
            "--checkpoint".into(),
            cp,
            "--checkpoint-key".into(),
            path("checkpoints/test-witness.vkey"),
        ],
    );
    assert_eq!(run.json()["checkpoints"][0]["signature"], "unknown_key");
}

#[test]
fn json_checkpoints_verify_with_a_key_from_the_ring() {
    let cp = path("checkpoints/gen-es256-seq.checkpoint.json");
    let run = run_with(
        &Export::load(SEQ),
        &["gen.jwks.json"],
        &["--checkpoint".into(), cp.clone()],
    );
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    let c = &run.json()["checkpoints"][0];
    assert_eq!(c["format"], "json");
    assert_eq!(c["outcome"], "anchors_export");
    assert_eq!(
        c["signers"][0],
        format!("ES256 {ES256_KID} (RFC 7638 thumbprint)")
    );
    // Without the key: unknown, not trusted.
    let run = run_with(
        &Export::load(SEQ),
        &["spec.jwks.json"],
        &["--checkpoint".into(), cp],
    );
    assert!(codes(&run).contains(&"checkpoint.unknown_key".to_string()));
}

#[test]
fn json_checkpoint_tampering_is_caught() {
    let text =
        std::fs::read_to_string(testdata("checkpoints/gen-es256-seq.checkpoint.json")).unwrap();
    let mut cp: Value = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let e = Export::load(SEQ);

    let mut unsigned = cp.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    let p = write_tmp(&dir, "unsigned.json", &unsigned.to_string());
    let run = run_with(&e, &["gen.jwks.json"], &["--checkpoint".into(), p]);
    assert!(
        run.by_severity("warning")
            .contains(&("checkpoint.unsigned".to_string(), 0))
    );

    let mut none = cp.clone();
    none["signature"]["alg"] = json!("none");
    let p = write_tmp(&dir, "none.json", &none.to_string());
    let run = run_with(&e, &["gen.jwks.json"], &["--checkpoint".into(), p]);
    assert_eq!(
        run.errors(),
        vec![("checkpoint.signature_invalid".to_string(), 0)]
    );

    cp["size"] = json!(11);
    let p = write_tmp(&dir, "size.json", &cp.to_string());
    let run = run_with(&e, &["gen.jwks.json"], &["--checkpoint".into(), p]);
    assert_eq!(
        run.errors(),
        vec![("checkpoint.signature_invalid".to_string(), 0)]
    );
}

#[test]
fn a_prefix_checkpoint_covers_only_its_records() {
    let cp = path("checkpoints/gen-es256-seq-8.checkpoint.json");
    let run = run_with(
        &Export::load(SEQ),
        &["gen.jwks.json"],
        &["--checkpoint".into(), cp],
    );
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(
        run.by_severity("info")
            .contains(&("checkpoint.prefix".to_string(), 8))
    );
    let report = run.json();
    assert_eq!(report["checkpoints"][0]["outcome"], "anchors_prefix");
    assert_eq!(report["checkpoints"][0]["uncovered_records"], 4);
    // A prefix does not anchor the tail.
    let anchors = report["chains"][0]["tail_anchors"].as_array().unwrap();
    assert_eq!(anchors.len(), 1);
    assert_eq!(anchors[0]["kind"], "close_record");
}

#[test]
fn consistent_checkpoints_pass_and_a_broken_consistency_proof_fails() {
    let full = path("checkpoints/gen-es256-seq.checkpoint.json");
    let prefix = path("checkpoints/gen-es256-seq-8.checkpoint.json");
    let e = Export::load(SEQ);
    let args = vec![
        "--checkpoint".to_string(),
        prefix.clone(),
        "--checkpoint".into(),
        full.clone(),
    ];
    let run = run_with(&e, &["gen.jwks.json"], &args);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(!codes(&run).contains(&"checkpoint.inconsistent".to_string()));

    // The proof is not signed (it is verified instead): editing it keeps the signature valid.
    let mut cp: Value = serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap();
    cp["consistency"][0]["proof"][0] = json!("00".repeat(32));
    let dir = tempfile::tempdir().unwrap();
    let bad = write_tmp(&dir, "bad.json", &cp.to_string());
    let run = run_with(
        &e,
        &["gen.jwks.json"],
        &["--checkpoint".into(), prefix, "--checkpoint".into(), bad],
    );
    assert_eq!(
        run.errors(),
        vec![("checkpoint.inconsistent".to_string(), 0)]
    );
    assert_eq!(run.json()["checkpoints"][1]["signature"], "verified");
}

#[test]
fn consistency_proof_is_checked_against_the_records_when_no_earlier_checkpoint_is_given() {
    // Records beyond the checkpoint: the truncated 12-record checkpoint still proves it extends
    // the 8 records present.
    let full = path("checkpoints/gen-es256-seq.checkpoint.json");
    let mut e = Export::load(SEQ);
    e.records.truncate(8);
    // (The proof in the fixture is from size 8 to 12.)
    let run = run_with(&e, &["gen.jwks.json"], &["--checkpoint".into(), full]);
    assert_eq!(run.errors(), vec![("checkpoint.truncated".to_string(), 8)]);
    // An edit inside the 8 makes the proof fail against the records too.
    e.records[2]["outcome"] = json!("failure");
    let run = run_with(
        &e,
        &["gen.jwks.json"],
        &[
            "--checkpoint".into(),
            path("checkpoints/gen-es256-seq.checkpoint.json"),
        ],
    );
    assert!(codes(&run).contains(&"checkpoint.inconsistent".to_string()));
}

#[test]
fn two_checkpoints_of_one_size_with_different_roots_are_a_fork() {
    let e = Export::load(SEQ);
    let dir = tempfile::tempdir().unwrap();
    let good = write_tmp(&dir, "a", &signed_note(12, &head(&e, 12)));
    let fork = write_tmp(&dir, "b", &signed_note(12, &[7u8; 32]));
    let mut args = note_args(&good);
    args.extend(["--checkpoint".into(), fork]);
    let run = run_with(&e, &["gen.jwks.json"], &args);
    let errors = run.errors();
    assert!(
        errors.contains(&("checkpoint.inconsistent".to_string(), 0)),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("checkpoint.root_mismatch".to_string(), 12)),
        "{errors:?}"
    );
}

#[test]
fn an_open_session_covered_by_a_checkpoint_has_an_anchored_tail() {
    let mut e = Export::load(SEQ);
    e.records.truncate(9);
    let dir = tempfile::tempdir().unwrap();
    let cp = write_tmp(&dir, "cp", &signed_note(9, &head(&e, 9)));
    let mut args = note_args(&cp);
    args.push("--require-complete".into());
    let run = run_with(&e, &["gen.jwks.json"], &args);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(!codes(&run).contains(&"chain.tail_open".to_string()));
    let chain = &run.json()["chains"][0];
    assert_eq!(chain["guarantees"]["tail"]["status"], "established");
    assert_eq!(chain["tail_anchors"][0]["kind"], "checkpoint");
    // Without the checkpoint the same export is inconclusive under --require-complete.
    let run = run_with(&e, &["gen.jwks.json"], &["--require-complete".into()]);
    assert_eq!(run.verdict(), "inconclusive");
}

#[test]
fn a_checkpoint_can_anchor_one_batch_epoch_of_several() {
    let mut e = Export::load(SEQ);
    // Epoch over records 7..=10 (4 leaves), without tree_size.
    let idx = [7usize, 8, 9, 10];
    let leaves: Vec<Hash> = idx.iter().map(|&i| leaf(&e.records[i])).collect();
    let root = merkle::root(&leaves);
    for (k, &i) in idx.iter().enumerate() {
        let proof = merkle::inclusion_proof(&leaves, k).unwrap();
        let sides = merkle::inclusion_sides(k as u64, 4).unwrap();
        e.records[i]["batch"] = json!({
            "epoch_id": "epoch-b",
            "merkle_root": hex::encode(root),
            "leaf_index": k,
            "inclusion_proof": proof.iter().zip(sides).map(|(h, s)| json!({"hash": hex::encode(h), "side": s.as_str()})).collect::<Vec<_>>(),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let cp = write_tmp(&dir, "cp", &signed_note(4, &root));
    let run = run_with(&e, &["gen.jwks.json"], &note_args(&cp));
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["checkpoints"][0]["outcome"], "anchors_epoch");
    assert_eq!(report["epochs"][0]["status"], "anchored");
    assert!(!codes(&run).contains(&"merkle.epoch_unanchored".to_string()));
}

#[test]
fn an_unreadable_record_makes_the_root_unverifiable() {
    let cp = path("checkpoints/gen-es256-seq.checkpoint");
    let dir = tempfile::tempdir().unwrap();
    let file = Export::load(SEQ).write(dir.path(), "export.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[4] = lines[4][..40].to_string();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let extra: Vec<String> = note_args(&cp);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let run = verify_json(&file, &["gen.jwks.json"], &extra);
    assert!(codes(&run).contains(&"checkpoint.unverifiable".to_string()));
    assert!(!codes(&run).contains(&"checkpoint.root_mismatch".to_string()));
}

#[test]
fn malformed_checkpoints_and_keys_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write_tmp(&dir, "bad", "not a checkpoint\n");
    let file = testdata(SEQ);
    let run = verify_json(&file, &["gen.jwks.json"], &["--checkpoint", &bad]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a valid C2SP checkpoint note"),
        "{}",
        run.stderr
    );
    let run = verify_json(
        &file,
        &["gen.jwks.json"],
        &[
            "--checkpoint-key",
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
    let missing = dir.path().join("absent").display().to_string();
    let run = verify_json(&file, &["gen.jwks.json"], &["--checkpoint", &missing]);
    assert_eq!(run.code, 2);
}

#[test]
fn the_human_report_names_the_anchors() {
    let cp = path("checkpoints/spec10-merkle.checkpoint");
    let out = common::run([
        "verify".to_string(),
        path(SPEC),
        "--keys".into(),
        path("keys/spec.keys.json"),
        "--checkpoint".into(),
        cp,
        "--checkpoint-key".into(),
        log_vkey(),
        "--color".into(),
        "never".into(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("tail anchored by"), "{}", out.stdout);
    assert!(
        out.stdout.contains("anchors the whole export"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("anchored by checkpoint"),
        "{}",
        out.stdout
    );
}
