//! AAT batch epochs (aat.md §8): the genuine one-epoch sample, one named mutation per case with
//! the exact finding code and line, and exports with several epochs built here with the library's
//! RFC 9162 proof generation. Lines are 1-based lines of the mutated file.

mod common;

use audit_verify::merkle::{self, Hash};
use common::{Export, Run, leaf, verify_json};
use serde_json::{Value, json};

const SPEC: &str = "aat/ok--spec10-merkle.jsonl"; // 10 records, one epoch, tree_size 10
const SPEC_KEYS: &[&str] = &["spec.keys.json"];
const SEQ: &str = "aat/ok--gen-es256-seq.jsonl"; // 12 records, no batch
const KEYS: &[&str] = &["gen.jwks.json"];
const ROOT: &str = "42fb041fc7ee93857c3fbaa61b4269e562277db0a6af63fbdc95185b1f0cb953";

fn check(export: &Export, keys: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = export.write(dir.path(), "export.jsonl");
    verify_json(&path, keys, &[])
}

fn errors_are(run: &Run, want: &[(&str, u64)]) {
    let want: Vec<(String, u64)> = want.iter().map(|(c, l)| (c.to_string(), *l)).collect();
    assert_eq!(run.errors(), want, "{}", run.stdout);
    assert_eq!(run.verdict(), "failed");
    assert_eq!(run.code, 1);
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

/// Puts the records at `indexes` into one epoch, in that leaf order; returns its root.
fn batch(e: &mut Export, indexes: &[usize], epoch: &str, with_size: bool) -> Hash {
    let leaves: Vec<Hash> = indexes.iter().map(|&i| leaf(&e.records[i])).collect();
    let root = merkle::root(&leaves);
    let n = leaves.len() as u64;
    for (k, &i) in indexes.iter().enumerate() {
        let proof = merkle::inclusion_proof(&leaves, k).unwrap();
        let sides = merkle::inclusion_sides(k as u64, n).unwrap();
        let steps: Vec<Value> = proof
            .iter()
            .zip(sides)
            .map(|(h, s)| json!({"hash": hex::encode(h), "side": s.as_str()}))
            .collect();
        let mut b = json!({
            "epoch_id": epoch,
            "merkle_root": hex::encode(root),
            "leaf_index": k,
            "inclusion_proof": steps,
        });
        if with_size {
            b["tree_size"] = json!(n);
        }
        e.records[i]["batch"] = b;
    }
    root
}

#[test]
fn the_genuine_epoch_is_consistent_but_unanchored() {
    let run = check(&Export::load(SPEC), SPEC_KEYS);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert_eq!(
        run.by_severity("warning"),
        vec![("merkle.epoch_unanchored".to_string(), 1)]
    );
    let report = run.json();
    let epochs = report["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 1);
    assert_eq!(epochs[0]["status"], "consistent_unanchored");
    assert_eq!(epochs[0]["root"], ROOT);
    assert_eq!(epochs[0]["tree_size"], 10);
    assert_eq!(epochs[0]["records"], 10);
    assert_eq!(epochs[0]["anchored_by"], Value::Null);
}

#[test]
fn the_genuine_leaf_hash_is_the_documented_one() {
    let e = Export::load(SPEC);
    assert_eq!(
        hex::encode(leaf(&e.records[0])),
        "4334eede7c5498b0a79773aa4008f9afcf7eff04d9621356d5a47e07562a245c"
    );
    let leaves: Vec<Hash> = e.records.iter().map(leaf).collect();
    assert_eq!(hex::encode(merkle::root(&leaves)), ROOT);
}

#[test]
fn wrong_proof_hash_fails_at_that_record_only() {
    let mut e = Export::load(SPEC);
    let h = e.records[3]["batch"]["inclusion_proof"][1]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = format!("{}{}", if h.starts_with('0') { "1" } else { "0" }, &h[1..]);
    e.records[3]["batch"]["inclusion_proof"][1]["hash"] = Value::String(flipped);
    let run = check(&e, SPEC_KEYS);
    // The records are intact, so the epoch root still recomputes: only the proof is wrong.
    errors_are(&run, &[("merkle.proof_invalid", 4)]);
}

#[test]
fn wrong_side_label_fails_at_that_record() {
    let mut e = Export::load(SPEC);
    assert_eq!(e.records[0]["batch"]["inclusion_proof"][0]["side"], "right");
    e.records[0]["batch"]["inclusion_proof"][0]["side"] = Value::String("left".into());
    let run = check(&e, SPEC_KEYS);
    errors_are(&run, &[("merkle.side_mismatch", 1)]);
}

#[test]
fn wrong_side_label_without_tree_size_fails_the_fold() {
    let mut e = Export::load(SPEC);
    for r in &mut e.records {
        r["batch"].as_object_mut().unwrap().remove("tree_size");
    }
    e.records[0]["batch"]["inclusion_proof"][0]["side"] = Value::String("left".into());
    let run = check(&e, SPEC_KEYS);
    errors_are(&run, &[("merkle.proof_invalid", 1)]);
}

#[test]
fn wrong_leaf_index_fails_and_leaves_a_hole() {
    let mut e = Export::load(SPEC);
    e.records[3]["batch"]["leaf_index"] = json!(4);
    let run = check(&e, SPEC_KEYS);
    let errors = run.errors();
    assert_eq!(
        errors[0],
        ("merkle.side_mismatch".to_string(), 4),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("merkle.leaf_missing".into(), 4)),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("merkle.leaf_duplicate".into(), 5)),
        "{errors:?}"
    );
}

#[test]
fn proof_step_removed_is_the_wrong_length() {
    let mut e = Export::load(SPEC);
    e.records[9]["batch"]["inclusion_proof"]
        .as_array_mut()
        .unwrap()
        .pop();
    errors_are(&check(&e, SPEC_KEYS), &[("merkle.proof_length", 10)]);
}

#[test]
fn leaf_index_beyond_tree_size_is_malformed() {
    let mut e = Export::load(SPEC);
    e.records[2]["batch"]["leaf_index"] = json!(10);
    let run = check(&e, SPEC_KEYS);
    let errors = run.errors();
    assert_eq!(
        errors[0],
        ("merkle.batch_invalid".to_string(), 3),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("merkle.leaf_missing".into(), 4)),
        "{errors:?}"
    );
}

#[test]
fn missing_leaf_in_an_epoch_is_reported_with_its_index() {
    // The record stays (the chain holds), but it no longer carries its batch.
    let mut e = Export::load(SPEC);
    e.records[4].as_object_mut().unwrap().remove("batch");
    let run = check(&e, SPEC_KEYS);
    errors_are(&run, &[("merkle.leaf_missing", 6)]);
    let msg = message_of(&run, "merkle.leaf_missing");
    assert!(
        msg.contains("1 of 10 leaves missing, the first is leaf_index 4"),
        "{msg}"
    );
    assert_eq!(run.json()["epochs"][0]["status"], "failed");
}

#[test]
fn deleted_record_leaves_its_leaf_missing() {
    let mut e = Export::load(SPEC);
    e.records.remove(4);
    let run = check(&e, SPEC_KEYS);
    let errors = run.errors();
    assert!(
        errors.contains(&("merkle.leaf_missing".into(), 5)),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("chain.link_mismatch".into(), 5)),
        "{errors:?}"
    );
}

#[test]
fn edited_root_in_one_record_is_inconsistent() {
    let mut e = Export::load(SPEC);
    let mut root = ROOT.to_string();
    root.replace_range(0..1, "0");
    e.records[6]["batch"]["merkle_root"] = Value::String(root);
    let run = check(&e, SPEC_KEYS);
    let errors = run.errors();
    assert!(
        errors.contains(&("merkle.proof_invalid".into(), 7)),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("merkle.epoch_inconsistent".into(), 7)),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("merkle.leaf_missing".into(), 8)),
        "{errors:?}"
    );
}

#[test]
fn edited_root_in_every_record_fails_every_proof_and_the_root() {
    let mut e = Export::load(SPEC);
    let mut root = ROOT.to_string();
    root.replace_range(0..1, "0");
    for r in &mut e.records {
        r["batch"]["merkle_root"] = Value::String(root.clone());
    }
    let run = check(&e, SPEC_KEYS);
    let errors = run.errors();
    for line in 1..=10 {
        assert!(
            errors.contains(&("merkle.proof_invalid".into(), line)),
            "{errors:?}"
        );
    }
    assert!(
        errors.contains(&("merkle.root_mismatch".into(), 1)),
        "{errors:?}"
    );
}

#[test]
fn malformed_batch_is_reported_not_skipped() {
    let mut e = Export::load(SPEC);
    e.records[1]["batch"]["inclusion_proof"][0]["side"] = Value::String("up".into());
    let run = check(&e, SPEC_KEYS);
    errors_are(&run, &[("merkle.batch_invalid", 2)]);
    let mut e = Export::load(SPEC);
    e.records[1]["batch"] = json!("not an object");
    let run = check(&e, SPEC_KEYS);
    let errors = run.errors();
    assert_eq!(errors[0], ("merkle.batch_invalid".to_string(), 2));
}

/// Epoch A: records 0–6 with tree_size; epoch B: records 7–10 without; record 11 has no batch.
fn two_epochs() -> (Export, Hash, Hash) {
    let mut e = Export::load(SEQ);
    let a = batch(&mut e, &[0, 1, 2, 3, 4, 5, 6], "epoch-a", true);
    let b = batch(&mut e, &[7, 8, 9, 10], "epoch-b", false);
    (e, a, b)
}

#[test]
fn two_epochs_in_one_file_both_verify() {
    let (e, a, b) = two_epochs();
    let run = check(&e, KEYS);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(run.errors().is_empty());
    assert_eq!(
        run.by_severity("warning"),
        vec![
            ("merkle.epoch_unanchored".to_string(), 1),
            ("merkle.epoch_unanchored".to_string(), 8)
        ]
    );
    let report = run.json();
    let epochs = report["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    assert_eq!(epochs[0]["id"], "epoch-a");
    assert_eq!(epochs[0]["root"], hex::encode(a));
    assert_eq!(epochs[0]["records"], 7);
    assert_eq!(epochs[1]["id"], "epoch-b");
    assert_eq!(epochs[1]["root"], hex::encode(b));
    assert_eq!(epochs[1]["tree_size"], Value::Null);
    for ep in epochs {
        assert_eq!(ep["status"], "consistent_unanchored");
    }
}

#[test]
fn epochs_interleaved_with_each_other_verify() {
    let mut e = Export::load(SEQ);
    batch(&mut e, &[0, 2, 4, 6, 8, 10], "even", true);
    batch(&mut e, &[1, 3, 5, 7, 9, 11], "odd", true);
    let run = check(&e, KEYS);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert_eq!(run.json()["epochs"].as_array().unwrap().len(), 2);
}

#[test]
fn leaves_out_of_order_still_recompute_the_root() {
    // Leaf order differs from file order: record 0 is leaf 3, and so on.
    let mut e = Export::load(SEQ);
    batch(&mut e, &[3, 0, 2, 1], "shuffled", true);
    let run = check(&e, KEYS);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert_eq!(run.json()["epochs"][0]["status"], "consistent_unanchored");
}

#[test]
fn last_leaf_missing_from_an_epoch_without_tree_size_is_found() {
    let (mut e, _, _) = two_epochs();
    e.records[10].as_object_mut().unwrap().remove("batch");
    let run = check(&e, KEYS);
    errors_are(&run, &[("merkle.leaf_missing", 10)]);
    let msg = message_of(&run, "merkle.leaf_missing");
    assert!(
        msg.contains("leaves after leaf_index 2 are missing"),
        "{msg}"
    );
}

#[test]
fn record_swapped_between_leaf_positions_fails_the_root() {
    // Two records exchange their batch members: each proof now belongs to the other leaf.
    let (mut e, _, _) = two_epochs();
    let b1 = e.records[1]["batch"].clone();
    let b2 = e.records[2]["batch"].clone();
    e.records[1]["batch"] = b2;
    e.records[2]["batch"] = b1;
    let run = check(&e, KEYS);
    let errors = run.errors();
    assert!(
        errors.contains(&("merkle.proof_invalid".into(), 2)),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("merkle.proof_invalid".into(), 3)),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("merkle.root_mismatch".into(), 1)),
        "{errors:?}"
    );
}
