//! The overlapped pipeline keeps file order across batches: findings about input lines and about
//! records land on the right lines however the records fall into batches (2048 units or 2 MiB),
//! with any number of worker threads; and unsigned records held before a chain's first signature
//! are all counted, even past the number kept with their quoted line.

mod common;

use common::{Export, Run, verify_json};
use serde_json::Value;

const UNSIGNED: &str = "aat/ok--gen-unsigned.jsonl";
const SEQ: &str = "aat/ok--gen-es256-seq.jsonl";

/// One session of `n` records: the fixture's genesis, `n - 2` copies of its first tool call with
/// fresh ids and numbers, and its close record, all linked.
fn long_session(n: usize) -> Export {
    let base = Export::load(UNSIGNED);
    let genesis = base.records[0].clone();
    let call = base.records[1].clone();
    let close = base.records.last().unwrap().clone();
    let mut records = vec![genesis];
    for i in 1..n - 1 {
        let mut r = call.clone();
        r["record_id"] = Value::String(format!("rec-{i:06}"));
        records.push(r);
    }
    records.push(close);
    for i in 1..n {
        let prev_id = records[i - 1]["record_id"].clone();
        records[i]["parent_record_id"] = prev_id;
        records[i]["sequence_number"] = Value::from(i as u64);
    }
    let mut e = Export { records };
    e.relink_after(0);
    e
}

/// Writes `export` with blank lines after the given 0-based records and runs the verifier.
fn run_with_blanks(export: &Export, blank_after: &[usize], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (i, r) in export.records.iter().enumerate() {
        text.push_str(&serde_json::to_string(r).unwrap());
        text.push('\n');
        if blank_after.contains(&i) {
            text.push('\n');
        }
    }
    let path = dir.path().join("export.jsonl");
    std::fs::write(&path, text).unwrap();
    verify_json(&path, &[], extra)
}

#[test]
fn findings_keep_their_lines_across_batches() {
    let n = 5000;
    let mut e = long_session(n);
    // An edit in the third batch breaks the link of the next record.
    e.records[4500]["outcome"] = Value::String("failure".into());
    // Blank lines at and around batch boundaries (2048 units a batch).
    let blanks = [2046, 2047, 4095];
    for jobs in ["1", "2", "3"] {
        let run = run_with_blanks(&e, &blanks, &["--jobs", jobs]);
        assert_eq!(run.verdict(), "failed", "{}", run.stdout);
        // Record k (0-based) is on line k + 1 plus the blank lines before it.
        let line_of = |k: usize| (k + 1 + blanks.iter().filter(|&&b| b < k).count()) as u64;
        let blank_lines: Vec<u64> = blanks
            .iter()
            .enumerate()
            .map(|(j, &b)| (b + 2 + j) as u64)
            .collect();
        let codes = run.codes();
        let got_blanks: Vec<u64> = codes
            .iter()
            .filter(|(c, _)| c == "input.blank_line")
            .map(|(_, l)| *l)
            .collect();
        assert_eq!(got_blanks, blank_lines, "--jobs {jobs}: {codes:?}");
        assert_eq!(
            run.errors(),
            vec![("chain.link_mismatch".to_string(), line_of(4501))],
            "--jobs {jobs}"
        );
        let chain = &run.json()["chains"][0];
        assert_eq!(chain["records"], n as u64, "--jobs {jobs}");
    }
}

#[test]
fn every_unsigned_record_before_the_first_signature_is_counted() {
    // Two chains, each with unsigned records before a signed one: 2 × 700 pending findings, more
    // than the 1000 kept with their quoted line; all are counted and stored.
    let signed = Export::load(SEQ);
    let mut records = Vec::new();
    for (s, session) in [
        "aaaaaaaa-0000-4000-8000-000000000001",
        "aaaaaaaa-0000-4000-8000-000000000002",
    ]
    .iter()
    .enumerate()
    {
        let mut e = long_session(702);
        for r in &mut e.records {
            r["session_id"] = Value::String((*session).into());
            r["record_id"] = Value::String(format!("{s}-{}", r["record_id"].as_str().unwrap()));
        }
        for i in 1..e.records.len() {
            let prev_id = e.records[i - 1]["record_id"].clone();
            e.records[i]["parent_record_id"] = prev_id;
        }
        // The close record becomes the chain's only signed record.
        let last = e.records.len() - 1;
        for k in ["sig_alg", "signer_kid", "signature"] {
            e.records[last][k] = signed.records[0][k].clone();
        }
        e.relink_after(0);
        e.resign_es256(last, "agent-es256.pem", None);
        records.extend(e.records);
    }
    let e = Export { records };
    let dir = tempfile::tempdir().unwrap();
    let path = e.write(dir.path(), "export.jsonl");
    let run = verify_json(&path, &["gen.jwks.json"], &[]);
    assert!(
        run.errors().iter().all(|(c, _)| c == "sig.missing"),
        "{:?}",
        run.errors()
    );
    let json = run.json();
    let missing = json["summary"]["findings_by_code"]["sig.missing"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(missing, 2 * 701, "{}", run.stdout);
    let stored: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "sig.missing")
        .collect();
    // The report lists at most 1,000 findings of one code.
    assert_eq!(stored.len(), 1000);
}
