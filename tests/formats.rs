//! Report formats and shipped docs: every fixture's JSON report validates against
//! `docs/report-schema.json`; `--format junit` parses as JUnit XML with one test case per chain;
//! `--format github` lines follow the workflow-command syntax; the man page renders and the bash
//! completions load.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Export, run, testdata, verify_json};
use serde_json::Value;

/// Every fixture of every producer, with the arguments its sidecar names.
fn fixtures() -> Vec<(PathBuf, Vec<String>)> {
    common::all_fixtures()
}

/// Runs the binary on a fixture with its arguments and more.
fn run_with(path: &std::path::Path, args: &[String], more: &[&str]) -> common::Run {
    let mut a: Vec<String> = vec!["verify".into(), path.display().to_string()];
    a.extend(args.iter().cloned());
    a.extend(more.iter().map(|s| s.to_string()));
    run(a)
}

#[test]
fn every_json_report_validates_against_the_published_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("docs/report-schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let mut reports: Vec<(String, Value)> = Vec::new();
    for (path, args) in fixtures() {
        let r = run_with(&path, &args, &["--format", "json"]);
        reports.push((path.display().to_string(), r.json()));
        let r = run_with(
            &path,
            &args,
            &[
                "--format",
                "json",
                "--require-complete",
                "--require-signatures",
            ],
        );
        reports.push((format!("{} strict", path.display()), r.json()));
    }
    // Reports with every optional part: hostile lines, tampered records, checkpoints and epochs.
    let dir = tempfile::tempdir().unwrap();
    let mut e = Export::load("aat/ok--gen-es256-seq.jsonl");
    e.records.remove(4);
    let p = e.write(dir.path(), "cut.jsonl");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str("{\"broken\n\n");
    std::fs::write(&p, text).unwrap();
    reports.push((
        "tampered".into(),
        verify_json(&p, &["gen.jwks.json"], &[]).json(),
    ));
    let vkey = std::fs::read_to_string(testdata("checkpoints/test-log.vkey")).unwrap();
    let r = run([
        "verify".to_string(),
        testdata("aat/ok--spec10-merkle.jsonl")
            .display()
            .to_string(),
        "--keys".into(),
        testdata("keys/spec.jwks.json").display().to_string(),
        "--checkpoint".into(),
        testdata("checkpoints/spec10-merkle.checkpoint")
            .display()
            .to_string(),
        "--checkpoint-key".into(),
        vkey.trim().to_string(),
        "--format".into(),
        "json".into(),
    ]);
    assert!(!r.json()["checkpoints"].as_array().unwrap().is_empty());
    reports.push(("checkpoint".into(), r.json()));
    for (name, report) in &reports {
        let errors: Vec<String> = validator
            .iter_errors(report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: report does not match docs/report-schema.json:\n{}",
            errors.join("\n")
        );
    }
    // The schema is not vacuous: a report missing a member, or with an unknown one, fails.
    let mut bad = reports[0].1.clone();
    bad.as_object_mut().unwrap().remove("verdict");
    assert!(!validator.is_valid(&bad));
    let mut bad = reports[0].1.clone();
    bad["findings"][0]["surprise"] = Value::Bool(true);
    assert!(!validator.is_valid(&bad));
}

#[test]
fn junit_output_is_junit_xml_with_a_test_case_per_chain() {
    for (path, args) in fixtures() {
        let r = run_with(&path, &args, &["--format", "junit"]);
        let json = run_with(&path, &args, &["--format", "json"]).json();
        let doc = roxmltree::Document::parse(&r.stdout)
            .unwrap_or_else(|e| panic!("{}: not XML: {e}\n{}", path.display(), r.stdout));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let suite = root
            .children()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let chains = json["chains"].as_array().unwrap();
        assert_eq!(cases.len(), chains.len() + 1, "{}", path.display());
        for (case, chain) in cases.iter().zip(chains) {
            assert_eq!(case.attribute("name"), chain["id"].as_str());
            let failed = case.children().any(|n| n.has_tag_name("failure"));
            let skipped = case.children().any(|n| n.has_tag_name("skipped"));
            assert_eq!(failed, chain["verdict"] == "failed", "{}", path.display());
            assert_eq!(
                skipped,
                chain["verdict"] == "inconclusive",
                "{}",
                path.display()
            );
        }
        let failures: usize = suite.attribute("failures").unwrap().parse().unwrap();
        assert_eq!(
            failures > 0,
            json["verdict"] == "failed",
            "{}",
            path.display()
        );
        assert_eq!(r.code, json["exit_code"].as_i64().unwrap() as i32);
    }
}

#[test]
fn github_output_lines_are_workflow_commands() {
    let line = is_workflow_command;
    for (path, args) in fixtures() {
        let r = run_with(&path, &args, &["--format", "github"]);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(!lines.is_empty());
        for l in &lines {
            assert!(line(l), "{}: not a workflow command: {l}", path.display());
        }
        let json = run_with(&path, &args, &["--format", "json"]).json();
        let errors = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .count();
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::error ")).count(),
            errors,
            "{}",
            path.display()
        );
        if errors > 0 {
            let first = json["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["severity"] == "error")
                .unwrap();
            let want = format!(
                "::error file={},line={},title={}::",
                first["file"].as_str().unwrap(),
                first["line"],
                first["code"].as_str().unwrap()
            );
            assert!(
                r.stdout.contains(&want),
                "{}: missing {want}",
                path.display()
            );
        }
    }
}

/// GitHub's workflow-command syntax: `::LEVEL[ PROPS]::MESSAGE`, LEVEL one of error, warning,
/// notice; PROPS `key=value` pairs (file, line, title) whose values hold no `:` or `,` (escaped as
/// %3A and %2C); a one-line MESSAGE.
fn is_workflow_command(l: &str) -> bool {
    {
        let Some(rest) = l.strip_prefix("::") else {
            return false;
        };
        let Some((head, message)) = rest.split_once("::") else {
            return false;
        };
        if message.is_empty() || message.contains('\n') {
            return false;
        }
        let (level, props) = head.split_once(' ').unwrap_or((head, ""));
        if !["error", "warning", "notice"].contains(&level) {
            return false;
        }
        props.is_empty()
            || props.split(',').all(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    ["file", "line", "title"].contains(&k) && !v.is_empty() && !v.contains(':')
                })
            })
    }
}

#[test]
fn the_man_page_renders() {
    let page = common::root().join("man/audit-verify.1");
    let Ok(out) = Command::new("man")
        .arg("-P")
        .arg("cat")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .output()
    else {
        eprintln!("!!! man is not installed: man page rendering SKIPPED");
        return;
    };
    if !out.status.success() {
        eprintln!(
            "!!! man could not run here ({}): SKIPPED",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("audit-verify"), "{text}");
    assert!(text.contains("--keys"), "{text}");
}

#[test]
fn bash_completions_load() {
    let file = common::root().join("man/completions/audit-verify.bash");
    let Ok(out) = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p audit-verify",
            file.display()
        ))
        .output()
    else {
        eprintln!("!!! bash not available: SKIPPED");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit-verify"));
}
