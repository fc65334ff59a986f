//! Walks `testdata/{aat,asqav,agt,agent-receipts}/` and checks every export against its `.expect`
//! sidecar: the keys to use (`keys`, files in `testdata/keys/`), optionally the HMAC secret file
//! (`hmac`) and the profile (`profile`, a built-in name or a path under `testdata/`), the
//! detected profile (`detected`), the verdict, and the exact error and warning findings
//! (`code@line`, in report order). A new fixture with its sidecar is a new test; a fixture without
//! one fails.

mod common;

use std::collections::BTreeMap;

#[test]
fn every_fixture_gives_its_expected_verdict_and_findings() {
    let mut checked = 0;
    for dir in ["aat", "asqav", "agt", "agent-receipts"] {
        checked += check_dir(dir);
    }
    assert!(checked >= 23, "only {checked} fixtures found");
}

fn check_dir(dir: &str) -> usize {
    let dir = common::testdata(dir);
    assert!(dir.is_dir(), "{} is missing", dir.display());
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries.iter().filter(|p| {
        p.extension().is_some_and(|e| e == "jsonl" || e == "json")
            && p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("ok--") || n.starts_with("fail--")
            })
    }) {
        let expect_path = path.with_extension("expect");
        let text = std::fs::read_to_string(&expect_path)
            .unwrap_or_else(|_| panic!("{} has no .expect sidecar", path.display()));
        let fields: BTreeMap<&str, &str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        let keys: Vec<&str> = fields
            .get("keys")
            .copied()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let mut extra: Vec<String> = Vec::new();
        if let Some(h) = fields.get("hmac") {
            extra.push("--hmac-key-file".into());
            extra.push(common::testdata(&format!("keys/{h}")).display().to_string());
        }
        if let Some(p) = fields.get("profile") {
            extra.push("--profile".into());
            let local = common::testdata(p);
            extra.push(if local.is_file() {
                local.display().to_string()
            } else {
                p.to_string()
            });
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let run = common::verify_json(path, &keys, &extra);
        let name = path.file_name().unwrap().to_string_lossy();
        assert_eq!(
            run.verdict(),
            fields["verdict"],
            "{name}: verdict\n{}",
            run.stdout
        );
        if let Some(want) = fields.get("detected") {
            assert_eq!(run.json()["profile"], *want, "{name}: profile");
        }
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
        assert_eq!(got, want, "{name}: findings\n{}", run.stdout);
        assert_eq!(
            name.starts_with("ok--"),
            fields["verdict"] != "failed",
            "{name}: name and verdict disagree"
        );
        checked += 1;
    }
    checked
}
