//! The tamper suite: one good export, one named mutation per case, and the exact finding code,
//! line and verdict each must produce. Lines are 1-based lines of the mutated file.

mod common;

use common::{Export, Run, b64, unb64, verify_json};
use serde_json::Value;

const SEQ: &str = "aat/ok--gen-es256-seq.jsonl"; // 12 records, one session, ES256, numbered, closed
const KEYS: &[&str] = &["gen.jwks.json"];

fn check(export: &Export, keys: &[&str], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = export.write(dir.path(), "export.jsonl");
    verify_json(&path, keys, extra)
}

fn assert_failed_at(run: &Run, code: &str, line: u64) {
    assert_eq!(run.verdict(), "failed", "{}", run.stdout);
    assert_eq!(run.code, 1);
    let errors = run.errors();
    let first_line = errors[0].1;
    assert_eq!(
        first_line, line,
        "first error at the wrong line: {errors:?}"
    );
    assert!(
        errors.iter().any(|(c, l)| c == code && *l == line),
        "expected {code} at line {line}, got {errors:?}"
    );
}

#[test]
fn the_untampered_export_verifies() {
    let run = check(&Export::load(SEQ), KEYS, &[]);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert_eq!(run.code, 0);
    assert!(run.errors().is_empty());
}

#[test]
fn edited_field_fails_at_the_edited_record() {
    let mut e = Export::load(SEQ);
    e.records[5]["action_detail"]["decision_type"] = Value::String("approve".into());
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "sig.invalid", 6);
    assert!(run.errors().contains(&("chain.link_mismatch".into(), 7)));
}

#[test]
fn edited_and_relinked_record_fails_at_the_edited_record() {
    let mut e = Export::load(SEQ);
    e.records[5]["outcome"] = Value::String("success".into());
    e.relink_after(5);
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "sig.invalid", 6);
    // Every later record's signature covers the changed prev_hash.
    assert!(!run.errors().iter().any(|(c, _)| c == "chain.link_mismatch"));
}

#[test]
fn deleted_record_fails_at_the_next_record() {
    let mut e = Export::load(SEQ);
    e.records.remove(5);
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "chain.link_mismatch", 6);
    let errors = run.errors();
    assert!(errors.contains(&("seq.gap".into(), 6)));
    assert!(errors.contains(&("chain.parent_mismatch".into(), 6)));
    assert!(errors.contains(&("session.count_mismatch".into(), 11)));
    assert!(errors.contains(&("session.hash_mismatch".into(), 11)));
}

#[test]
fn swapped_records_fail_at_the_first_moved_record() {
    let mut e = Export::load(SEQ);
    e.records.swap(5, 6);
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "chain.link_mismatch", 6);
    assert!(run.errors().contains(&("seq.gap".into(), 6)));
    assert!(run.errors().contains(&("seq.regression".into(), 7)));
}

#[test]
fn duplicated_record_is_a_replay() {
    let mut e = Export::load(SEQ);
    let dup = e.records[5].clone();
    e.records.insert(6, dup);
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "chain.replayed_record", 7);
    assert!(run.errors().contains(&("seq.duplicate".into(), 7)));
    assert!(
        run.errors()
            .contains(&("session.count_mismatch".into(), 13))
    );
}

#[test]
fn dropped_genesis_leaves_the_head_unanchored() {
    let mut e = Export::load(SEQ);
    e.records.remove(0);
    let run = check(&e, KEYS, &[]);
    // Indistinguishable from a partial export: a warning, and inconclusive when completeness is required.
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(
        run.by_severity("warning")
            .contains(&("chain.head_unanchored".into(), 1))
    );
    let strict = check(&e, KEYS, &["--require-complete"]);
    assert_eq!(strict.verdict(), "inconclusive");
    assert_eq!(strict.code, 3);
}

#[test]
fn cut_tail_leaves_the_session_open() {
    let mut e = Export::load(SEQ);
    e.records.truncate(9);
    let run = check(&e, KEYS, &[]);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(
        run.by_severity("warning")
            .contains(&("chain.tail_open".into(), 9))
    );
    let strict = check(&e, KEYS, &["--require-complete"]);
    assert_eq!(strict.verdict(), "inconclusive");
    assert_eq!(strict.code, 3);
}

fn strip(r: &mut Value) {
    let o = r.as_object_mut().unwrap();
    o.remove("signature");
    o.remove("sig_alg");
    o.remove("signer_kid");
}

#[test]
fn one_stripped_signature_fails_at_that_record() {
    let mut e = Export::load(SEQ);
    strip(&mut e.records[5]);
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "sig.missing", 6);
}

#[test]
fn stripped_and_edited_last_record_fails() {
    // The last record is protected only by its own signature.
    let mut e = Export::load(SEQ);
    strip(&mut e.records[11]);
    e.records[11]["outcome"] = Value::String("failure".into());
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "sig.missing", 12);
}

#[test]
fn all_signatures_stripped_and_relinked_is_not_authentic() {
    let mut e = Export::load(SEQ);
    for r in &mut e.records {
        strip(r);
    }
    e.relink_after(0);
    let run = check(&e, KEYS, &[]);
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert_eq!(run.code, 3);
    assert!(
        run.by_severity("warning")
            .contains(&("sig.chain_unsigned".into(), 1))
    );
    let strict = check(&e, KEYS, &["--require-signatures"]);
    assert_failed_at(&strict, "sig.missing", 1);
}

#[test]
fn all_signatures_stripped_without_relinking_breaks_the_chain() {
    let mut e = Export::load(SEQ);
    for r in &mut e.records {
        strip(r);
    }
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "chain.link_mismatch", 2);
}

#[test]
fn alg_none_is_rejected_not_skipped() {
    let mut e = Export::load(SEQ);
    e.records[5]["sig_alg"] = Value::String("none".into());
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "sig.unsupported_alg", 6);
    for alg in ["ES384", "EdDSA", ""] {
        let mut e = Export::load(SEQ);
        e.records[5]["sig_alg"] = Value::String(alg.into());
        assert_failed_at(&check(&e, KEYS, &[]), "sig.unsupported_alg", 6);
    }
}

#[test]
fn sig_alg_switched_to_ml_dsa_is_malformed() {
    let mut e = Export::load(SEQ);
    e.records[5]["sig_alg"] = Value::String("ML-DSA-65".into());
    assert_failed_at(&check(&e, KEYS, &[]), "sig.malformed", 6);
}

#[test]
fn backdated_timestamp_fails_at_that_record() {
    let mut e = Export::load(SEQ);
    e.records[7]["timestamp"] = Value::String("2026-10-01T00:00:00.000Z".into());
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "time.backwards", 8);
    assert!(run.errors().contains(&("sig.invalid".into(), 8)));
}

/// P-256 group order, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

fn flip_to_high_s(r: &mut Value) {
    let mut sig = b64(r["signature"].as_str().unwrap());
    // s' = n - s
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
        sig[32 + i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    r["signature"] = Value::String(unb64(&sig));
}

#[test]
fn high_s_on_an_inner_record_is_valid_but_breaks_the_next_link() {
    let mut e = Export::load(SEQ);
    flip_to_high_s(&mut e.records[5]);
    let run = check(&e, KEYS, &[]);
    assert!(
        run.by_severity("warning")
            .contains(&("sig.high_s".into(), 6))
    );
    assert!(
        !run.errors()
            .iter()
            .any(|(c, l)| c == "sig.invalid" && *l == 6)
    );
    assert_failed_at(&run, "chain.link_mismatch", 7);
}

#[test]
fn high_s_on_the_last_record_is_a_warning_only() {
    let mut e = Export::load(SEQ);
    flip_to_high_s(&mut e.records[11]);
    let run = check(&e, KEYS, &[]);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    assert!(
        run.by_severity("warning")
            .contains(&("sig.high_s".into(), 12))
    );
}

#[test]
fn record_resigned_with_another_key_under_the_same_kid_is_invalid() {
    let mut e = Export::load(SEQ);
    e.records[5]["outcome"] = Value::String("success".into());
    e.resign_es256(5, "other-es256.pem", None);
    e.relink_after(5);
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "sig.invalid", 6);
}

#[test]
fn record_resigned_with_an_unsupplied_key_is_unknown_and_breaks_the_link() {
    let mut e = Export::load(SEQ);
    e.records[5]["outcome"] = Value::String("success".into());
    e.resign_es256(
        5,
        "other-es256.pem",
        Some("XoYDNb0I3Dq5NhfQ4kQuAiWfetZvLm3YqOJnKhmW6bg"),
    );
    let run = check(&e, &["spec.jwks.json"], &[]);
    assert!(
        run.by_severity("warning")
            .iter()
            .any(|(c, l)| c == "sig.unknown_key" && *l == 6)
    );
    assert_failed_at(&run, "chain.link_mismatch", 7);
}

#[test]
fn whole_chain_resigned_with_the_right_format_but_wrong_key_is_not_authentic() {
    // A forger re-signs every record with their own key and kid: nothing verifies under the supplied keys.
    let mut e = Export::load(SEQ);
    for i in 0..e.records.len() {
        e.records[i]["outcome"] = Value::String("success".into());
        e.resign_es256(
            i,
            "other-es256.pem",
            Some("XoYDNb0I3Dq5NhfQ4kQuAiWfetZvLm3YqOJnKhmW6bg"),
        );
        e.relink_after(i);
    }
    let run = check(&e, &["spec.jwks.json"], &[]);
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    assert!(
        run.by_severity("warning")
            .iter()
            .filter(|(c, _)| c == "sig.unknown_key")
            .count()
            == 12
    );
}

const HYBRID: &str = "aat/ok--gen-hybrid.jsonl";

fn corrupt(r: &mut Value, field: &str) {
    let mut sig = b64(r[field].as_str().unwrap());
    sig[10] ^= 0x01;
    r[field] = Value::String(unb64(&sig));
}

#[test]
fn hybrid_verifies_and_either_corrupted_half_fails() {
    let good = check(&Export::load(HYBRID), KEYS, &[]);
    assert_eq!(good.verdict(), "verified", "{}", good.stdout);

    let mut e = Export::load(HYBRID);
    corrupt(&mut e.records[2], "signature");
    assert_failed_at(&check(&e, KEYS, &[]), "sig.invalid", 3);

    let mut e = Export::load(HYBRID);
    corrupt(&mut e.records[2], "signature_classical");
    assert_failed_at(&check(&e, KEYS, &[]), "sig.classical_invalid", 3);
}

#[test]
fn hybrid_with_the_classical_half_removed_is_a_downgrade() {
    let mut e = Export::load(HYBRID);
    e.records[4]
        .as_object_mut()
        .unwrap()
        .remove("signature_classical");
    assert_failed_at(&check(&e, KEYS, &[]), "sig.classical_missing", 5);
}

#[test]
fn two_sessions_with_one_record_dropped_fail_in_that_session_only() {
    let mut e = Export::load("aat/ok--gen-two-sessions.jsonl");
    let session_a = e.records[0]["session_id"].clone();
    // Drop the fourth record of session A.
    let idx = e
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r["session_id"] == session_a)
        .nth(3)
        .map(|(i, _)| i)
        .unwrap();
    e.records.remove(idx);
    let next_a = e
        .records
        .iter()
        .enumerate()
        .skip(idx)
        .find(|(_, r)| r["session_id"] == session_a)
        .unwrap()
        .0;
    let run = check(&e, KEYS, &[]);
    assert_failed_at(&run, "chain.link_mismatch", next_a as u64 + 1);
    let report = run.json();
    let chains = report["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2);
    assert_eq!(chains[0]["verdict"], "failed");
    assert_eq!(chains[1]["verdict"], "verified");
}

#[test]
fn malformed_line_inside_an_export_fails_at_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = Export::load(SEQ).write(dir.path(), "export.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let cut = &lines[4][..40];
    lines[4] = cut;
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let run = verify_json(&path, KEYS, &[]);
    assert_failed_at(&run, "record.malformed", 5);
    // The hole explains the next record's link; it is not reported a second time.
    assert!(!run.errors().contains(&("chain.link_mismatch".into(), 6)));
}

#[test]
fn unsigned_chain_edited_without_relinking_fails_at_the_next_record() {
    let mut e = Export::load("aat/ok--gen-unsigned.jsonl");
    e.records[2]["outcome"] = Value::String("failure".into());
    let run = check(&e, &[], &[]);
    assert_failed_at(&run, "chain.link_mismatch", 4);
}

#[test]
fn unsigned_chain_edited_and_relinked_is_undetectable_without_signatures() {
    let mut e = Export::load("aat/ok--gen-unsigned.jsonl");
    e.records[2]["outcome"] = Value::String("failure".into());
    e.relink_after(2);
    let run = check(&e, &[], &[]);
    // Honest answer: integrity of an unsigned chain is only against accident.
    assert_eq!(run.verdict(), "verified");
    assert!(
        run.by_severity("warning")
            .contains(&("sig.chain_unsigned".into(), 1))
    );
    assert_failed_at(&check(&e, &[], &["--require-signatures"]), "sig.missing", 1);
}

#[test]
fn a_since_window_checks_signatures_inside_it_and_links_everything() {
    // Records 7..11 (lines 8-12) are at or after 09:00:06Z: five records, seven before them.
    let window = ["--since", "2026-10-02T09:00:06Z"];
    let run = check(&Export::load(SEQ), KEYS, &window);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    let chain = &run.json()["chains"][0];
    assert_eq!(chain["signed_records"], 5);
    assert!(
        chain["guarantees"]["authenticity"]["detail"]
            .as_str()
            .unwrap()
            .contains("7 outside it")
    );

    // A forged signature outside the window is not checked, but the next link still breaks.
    let mut e = Export::load(SEQ);
    e.resign_es256(2, "other-es256.pem", None);
    assert_failed_at(&check(&e, KEYS, &window), "chain.link_mismatch", 4);
    // Inside the window it is a bad signature.
    let mut e = Export::load(SEQ);
    e.resign_es256(8, "other-es256.pem", None);
    assert_failed_at(&check(&e, KEYS, &window), "sig.invalid", 9);
    // An edit before the window that is re-linked all the way is caught by the window's
    // signatures, which cover the changed prev_hash.
    let mut e = Export::load(SEQ);
    e.records[2]["outcome"] = Value::String("failure".into());
    e.relink_after(2);
    let run = check(&e, KEYS, &window);
    assert_eq!(run.verdict(), "failed");
    assert!(
        run.errors()
            .iter()
            .any(|(c, l)| c == "sig.invalid" && *l == 8),
        "{:?}",
        run.errors()
    );

    // The record just before the window deleted: the window's first link breaks at its start.
    let mut e = Export::load(SEQ);
    e.records.remove(6);
    assert_failed_at(&check(&e, KEYS, &window), "chain.link_mismatch", 7);

    // An empty window establishes no authenticity.
    let run = check(
        &Export::load(SEQ),
        KEYS,
        &["--since", "2027-01-01T00:00:00Z"],
    );
    assert_eq!(run.verdict(), "inconclusive");
}
