//! Walks `testdata/aat/` and checks every export against its `.expect` sidecar: the keys to use,
//! the verdict, and the exact error and warning findings (`code@line`, in report order). A new
//! fixture with its sidecar is a new test; a fixture without one fails.

mod common;

use std::collections::BTreeMap;

#[test]
fn every_fixture_gives_its_expected_verdict_and_findings() {
    let dir = common::testdata("aat");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
    {
        let expect_path = path.with_extension("expect");
        let text = std::fs::read_to_string(&expect_path)
            .unwrap_or_else(|_| panic!("{} has no .expect sidecar", path.display()));
        let fields: BTreeMap<&str, &str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        let keys: Vec<&str> = fields["keys"].split_whitespace().collect();
        let run = common::verify_json(path, &keys, &[]);
        let name = path.file_name().unwrap().to_string_lossy();
        assert_eq!(
            run.verdict(),
            fields["verdict"],
            "{name}: verdict\n{}",
            run.stdout
        );
        let expected_code = match fields["verdict"] {
            "verified" => 0,
            "failed" => 1,
            "inconclusive" => 3,
            other => panic!("{name}: unknown verdict {other}"),
        };
        assert_eq!(run.code, expected_code, "{name}: exit code");
        let got: Vec<String> = run
            .codes()
            .into_iter()
            .zip(run.json()["findings"].as_array().unwrap().iter())
            .filter(|(_, f)| f["severity"] != "info")
            .map(|((code, line), _)| format!("{code}@{line}"))
            .collect();
        let want: Vec<String> = fields["findings"]
            .split_whitespace()
            .map(String::from)
            .collect();
        assert_eq!(got, want, "{name}: findings");
        assert_eq!(
            name.starts_with("ok--"),
            fields["verdict"] != "failed",
            "{name}: name and verdict disagree"
        );
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} fixtures found");
}
