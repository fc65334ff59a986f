//! The same records in any container give the same verdict and point at the same record: every
//! AAT fixture (valid and tampered) converted to syslog (MSG, MSG with BOM, structured data,
//! octet-counted), a JSON array, a JSON bundle, a full-column CSV, gzip, a split directory and
//! stdin. The AAT §10.3 CSV layout reports what CSV cannot carry. Malformed containers give
//! findings or errors, never panics.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Run, testdata, verify_json};
use serde_json::Value;

use common::{Fixture, aat_fixtures as fixtures};

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn significant(run: &Run) -> Vec<(String, u64)> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn keys(f: &Fixture) -> Vec<&str> {
    f.keys()
}

/// Checks a converted fixture: same verdict, same findings with lines shifted by `offset`, except
/// codes of the container itself in `extra`.
fn assert_same(f: &Fixture, converted: &Path, offset: u64, format: &str, extra: &[&str]) {
    let run = verify_json(converted, &keys(f), &[]);
    let name = format!(
        "{} as {format}",
        f.path.file_name().unwrap().to_string_lossy()
    );
    assert_eq!(run.verdict(), f.verdict, "{name}\n{}", run.stdout);
    let want: Vec<(String, u64)> = f
        .findings
        .iter()
        .map(|(c, l)| (c.clone(), l + offset))
        .collect();
    let lossy = extra.contains(&"container.lossy");
    let got: Vec<(String, u64)> = significant(&run)
        .into_iter()
        .filter(|(c, _)| !extra.contains(&c.as_str()))
        // In a lossy container a link from a record whose signature did not verify is honestly
        // "not established" rather than proven broken; the same place is reported.
        .map(|(c, l)| {
            if lossy && c == "chain.link_unverifiable" {
                ("chain.link_mismatch".into(), l)
            } else {
                (c, l)
            }
        })
        .collect();
    assert_eq!(got, want, "{name}");
    assert_eq!(
        run.json()["inputs"][0]["format"],
        format.split(' ').next().unwrap(),
        "{name}"
    );
}

// ---- converters (test helpers) ----

fn syslog_line(i: usize, record: &str, style: &str) -> String {
    let ts = format!("2026-10-01T12:00:{:02}.000Z", i % 60);
    match style {
        "msg" => format!("<14>1 {ts} agent-host aat-recorder 4242 AUDIT - {record}"),
        "bom" => format!(
            "<14>1 {ts} agent-host aat-recorder - - [meta@32473 seq=\"{i}\"] \u{feff}{record}"
        ),
        "sd" => {
            let escaped = record
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace(']', "\\]");
            format!("<14>1 {ts} agent-host aat-recorder - AUDIT [aat@32473 record=\"{escaped}\"]")
        }
        _ => unreachable!(),
    }
}

fn to_syslog(lines: &[String], style: &str) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| syslog_line(i, l, style) + "\n")
        .collect()
}

fn to_octet_counted(lines: &[String]) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let m = syslog_line(i, l, "msg");
            format!("{} {m}\n", m.len())
        })
        .collect()
}

fn to_json_array(lines: &[String]) -> String {
    format!("[\n{}\n]\n", lines.join(",\n"))
}

fn to_bundle(lines: &[String]) -> String {
    format!(
        "{{\n\"export\": {{\"producer\": \"test\"}},\n\"records\": [\n{}\n]\n}}\n",
        lines.join(",\n")
    )
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV with the given columns; absent members are empty cells, strings raw, other values as JSON.
fn to_csv(lines: &[String], columns: Option<&[&str]>) -> String {
    let records: Vec<serde_json::Map<String, Value>> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap()
                .as_object()
                .unwrap()
                .clone()
        })
        .collect();
    let cols: Vec<String> = match columns {
        Some(c) => c.iter().map(|s| s.to_string()).collect(),
        None => {
            let mut cols: Vec<String> = Vec::new();
            for r in &records {
                for k in r.keys() {
                    if !cols.contains(k) && k != "batch" {
                        cols.push(k.clone());
                    }
                }
            }
            cols
        }
    };
    let mut out = cols.join(",") + "\n";
    for r in &records {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| match r.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => csv_cell(s),
                Some(v) => csv_cell(&v.to_string()),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

const AAT_10_3: &[&str] = &[
    "record_id",
    "timestamp",
    "agent_id",
    "agent_version",
    "session_id",
    "action_type",
    "outcome",
    "trust_level",
    "record_phase",
    "parent_record_id",
    "prev_hash",
    "action_detail",
];

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ---- tests ----

#[test]
fn every_fixture_gives_the_same_verdict_in_syslog() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures() {
        let l = lines(&f.path);
        for style in ["msg", "bom", "sd"] {
            let p = write(dir.path(), "export.log", &to_syslog(&l, style));
            assert_same(&f, &p, 0, "syslog", &[]);
        }
        let p = write(dir.path(), "export.log", &to_octet_counted(&l));
        assert_same(&f, &p, 0, "syslog (octet-counted)", &[]);
    }
}

#[test]
fn every_fixture_gives_the_same_verdict_in_json() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures() {
        let l = lines(&f.path);
        assert_same(
            &f,
            &write(dir.path(), "export.json", &to_json_array(&l)),
            1,
            "json",
            &[],
        );
        assert_same(
            &f,
            &write(dir.path(), "bundle.json", &to_bundle(&l)),
            3,
            "json",
            &[],
        );
    }
}

#[test]
fn every_signed_fixture_gives_the_same_verdict_in_full_column_csv() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures() {
        let l = lines(&f.path);
        if l.iter().any(|r| r.contains("\"batch\"")) {
            continue; // batch is an object column the CSV layout does not name; see the JSON tests
        }
        let p = write(dir.path(), "export.csv", &to_csv(&l, None));
        assert_same(&f, &p, 1, "csv", &["container.lossy"]);
    }
}

#[test]
fn aat_csv_layout_reports_what_csv_cannot_carry() {
    let dir = tempfile::tempdir().unwrap();
    let l = lines(&testdata("aat/ok--spec10.jsonl"));
    let p = write(dir.path(), "export.csv", &to_csv(&l, Some(AAT_10_3)));
    let run = verify_json(&p, &["spec.jwks.json"], &[]);
    assert_eq!(run.verdict(), "inconclusive", "{}", run.stdout);
    let warnings = run.by_severity("warning");
    assert!(warnings.contains(&("container.lossy".into(), 1)));
    assert!(warnings.contains(&("chain.link_unverifiable".into(), 3)));
    assert!(warnings.iter().any(|(c, _)| c == "sig.chain_unsigned"));
    assert!(
        run.errors().is_empty(),
        "nothing is reported as tampered: {:?}",
        run.errors()
    );
    let chain = &run.json()["chains"][0];
    assert_eq!(
        chain["guarantees"]["integrity"]["status"],
        "not_established"
    );

    // What CSV does carry is still checked: a deleted row breaks parent_record_id.
    let mut cut = l.clone();
    cut.remove(4);
    let p = write(dir.path(), "cut.csv", &to_csv(&cut, Some(AAT_10_3)));
    let run = verify_json(&p, &["spec.jwks.json"], &[]);
    assert_eq!(run.verdict(), "failed");
    assert!(
        run.errors().contains(&("chain.parent_mismatch".into(), 6)),
        "{:?}",
        run.errors()
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_directories_and_stdin_verify_like_the_single_file() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures() {
        let bytes = std::fs::read(&f.path).unwrap();
        let gz = dir.path().join("export.jsonl.gz");
        std::fs::write(&gz, gzip(&bytes)).unwrap();
        let run = verify_json(&gz, &keys(&f), &[]);
        assert_eq!(run.verdict(), f.verdict);
        assert_eq!(significant(&run), f.findings);
        assert_eq!(run.json()["inputs"][0]["gzip"], true);
    }

    // A directory holding an export split into three files (and a gzipped part).
    let f = fixtures()
        .into_iter()
        .find(|f| f.path.ends_with("ok--gen-two-sessions.jsonl"))
        .unwrap();
    let l = lines(&f.path);
    let split = dir.path().join("split");
    std::fs::create_dir(&split).unwrap();
    write(&split, "part-01.jsonl", &(l[..5].join("\n") + "\n"));
    std::fs::write(
        split.join("part-02.jsonl.gz"),
        gzip((l[5..11].join("\n") + "\n").as_bytes()),
    )
    .unwrap();
    write(&split, "part-03.jsonl", &(l[11..].join("\n") + "\n"));
    write(&split, ".hidden", "not read");
    let run = verify_json(&split, &keys(&f), &[]);
    assert_eq!(run.verdict(), "verified", "{}", run.stdout);
    let files: Vec<String> = run.json()["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files.len(), 3);
    assert!(
        files[0].ends_with("part-01.jsonl") && files[2].ends_with("part-03.jsonl"),
        "{files:?}"
    );
    assert_eq!(run.json()["summary"]["records"], 16);

    // The same split with a record deleted at a file boundary fails at the next file's first line.
    std::fs::write(
        split.join("part-02.jsonl.gz"),
        gzip((l[6..11].join("\n") + "\n").as_bytes()),
    )
    .unwrap();
    let run = verify_json(&split, &keys(&f), &[]);
    assert_eq!(run.verdict(), "failed");

    // stdin
    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-verify"))
        .args(["verify", "-", "--format", "json", "--keys"])
        .arg(testdata("keys/spec.jwks.json"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(testdata("aat/ok--spec10.jsonl")).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"][0]["file"], "-");
}

#[test]
fn forced_input_format_overrides_detection() {
    let dir = tempfile::tempdir().unwrap();
    let l = lines(&testdata("aat/ok--spec10.jsonl"));
    let p = write(dir.path(), "x.dat", &to_syslog(&l, "msg"));
    let run = verify_json(&p, &["spec.jwks.json"], &["--input-format", "syslog"]);
    assert_eq!(run.verdict(), "verified");
    // Forcing the wrong container is a failure at every line, not a crash.
    let run = verify_json(
        &p,
        &["spec.jwks.json"],
        &["--input-format", "jsonl", "--profile", "aat"],
    );
    assert_eq!(run.code, 1);
}

#[test]
fn malformed_syslog_and_csv_give_findings_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let l = lines(&testdata("aat/ok--gen-es256-seq.jsonl"));
    let good_syslog = to_syslog(&l, "msg");
    let good_octets = to_octet_counted(&l);
    let good_csv = to_csv(&l, None);
    let mut cases: Vec<(String, String, &str)> = vec![
        // a truncated message, a merged pair, a header cut short
        (
            "truncated.log".into(),
            good_syslog.replacen("}\n", "\n", 3),
            "record.malformed",
        ),
        (
            "merged.log".into(),
            good_syslog.replacen("}\n<14>", "}<14>", 1),
            "record.malformed",
        ),
        (
            "header.log".into(),
            good_syslog.replacen("<14>1 2026-10-01T12:00:03.000Z agent-host", "<14>1 2026", 1),
            "container.malformed",
        ),
        (
            "pri.log".into(),
            good_syslog.replacen("<14>", "<999>", 2),
            "container.malformed",
        ),
        // octet counts: one wrong, one truncated
        (
            "count.log".into(),
            good_octets.replacen(
                &format!("{} ", syslog_line(2, &l[2], "msg").len()),
                "20 ",
                1,
            ),
            "container.malformed",
        ),
        (
            "short.log".into(),
            good_octets[..good_octets.len() - 30].to_string(),
            "container.malformed",
        ),
        // CSV: unbalanced quote, a missing field, a huge field
        (
            "quote.csv".into(),
            good_csv.replacen(",L1,", ",\"L1,", 1),
            "container.malformed",
        ),
        (
            "fields.csv".into(),
            good_csv.replacen(",L1,", ",", 1),
            "container.malformed",
        ),
    ];
    let mut huge = good_csv.clone();
    huge.push_str(&format!("{}\n", "x".repeat(5 * 1024 * 1024)));
    cases.push(("huge.csv".into(), huge, "container.malformed"));
    let mut huge_syslog = good_syslog.clone();
    huge_syslog.push_str(&format!(
        "<14>1 - - - - - - {}\n",
        "x".repeat(5 * 1024 * 1024)
    ));
    cases.push(("huge.log".into(), huge_syslog, "input.line_too_long"));
    for (name, text, code) in cases {
        let p = write(dir.path(), &name, &text);
        let run = verify_json(&p, &["gen.jwks.json"], &[]);
        assert!(
            run.code == 1 || run.code == 2,
            "{name}: exit {}\n{}",
            run.code,
            run.stdout
        );
        if run.code == 1 {
            assert!(
                run.errors().iter().any(|(c, _)| c == code),
                "{name}: {:?}",
                run.errors()
            );
        }
    }
    // Random damage: truncations and byte flips at many places never panic.
    for (i, base) in [good_syslog, good_octets, good_csv].iter().enumerate() {
        let bytes = base.as_bytes();
        for k in 1..40 {
            let at = bytes.len() * k / 40;
            let mut t = bytes[..at].to_vec();
            let p = dir.path().join(format!("cut-{i}-{k}"));
            std::fs::write(&p, &t).unwrap();
            verify_json(&p, &["gen.jwks.json"], &[]);
            t = bytes.to_vec();
            t[at] ^= 0x5a;
            std::fs::write(&p, &t).unwrap();
            verify_json(&p, &["gen.jwks.json"], &[]);
        }
    }
}

#[test]
fn a_compact_audit_pack_longer_than_the_sniffed_prefix_is_read_as_json() {
    let pretty = testdata("asqav/ok--gen-audit-pack.json");
    let value: Value = serde_json::from_slice(&std::fs::read(&pretty).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let compact = dir.path().join("pack.json");
    std::fs::write(&compact, serde_json::to_vec(&value).unwrap()).unwrap();
    assert!(std::fs::metadata(&compact).unwrap().len() > 65_536);
    let keys = ["asqav-gen.jwks.json"];
    let a = verify_json(&pretty, &keys, &[]);
    let b = verify_json(&compact, &keys, &[]);
    assert_eq!(b.code, 0, "{}\n{}", b.stdout, b.stderr);
    assert_eq!(a.json()["summary"], b.json()["summary"]);
    assert_eq!(b.json()["inputs"][0]["format"], "json");
}

/// The findings of a run: code, line and message of each, and the verdict.
fn findings_of(run: &Run) -> (String, Vec<(String, u64, String)>) {
    let report = run.json();
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap_or("").replace("-:", "FILE:"),
            )
        })
        .collect();
    (run.verdict(), findings)
}

#[test]
fn a_bundle_gives_the_same_findings_from_its_file_and_from_standard_input() {
    // From a regular file a bundle is read as a stream and its records read again; from standard
    // input it is held and parsed whole. Every bundle fixture, and edited packs (a receipt, the
    // signature, the count, a regime reference), give the same verdict and findings both ways.
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(PathBuf, Vec<String>)> = common::all_fixtures()
        .into_iter()
        .filter(|(p, _)| {
            p.extension().is_some_and(|e| e == "json")
                && std::fs::read(p)
                    .unwrap()
                    .trim_ascii_start()
                    .starts_with(b"{")
        })
        .collect();
    assert!(cases.len() >= 7, "{cases:?}");
    let pack_path = testdata("asqav/ok--interop-audit-pack.json");
    let pack_args = cases
        .iter()
        .find(|(p, _)| *p == pack_path)
        .map(|(_, a)| a.clone())
        .unwrap();
    let pack: Value = serde_json::from_slice(&std::fs::read(&pack_path).unwrap()).unwrap();
    type Edit = (&'static str, fn(&mut Value));
    let edits: [Edit; 4] = [
        ("receipt", |p| {
            p["receipts"][3]["signature_id"] = "sig_forged".into()
        }),
        ("signature", |p| {
            let s = p["bundle_signature"]
                .as_str()
                .unwrap()
                .replacen('A', "B", 1);
            p["bundle_signature"] = s.into();
        }),
        ("count", |p| p["receipt_count"] = 7.into()),
        ("regime", |p| {
            p["regime_mapping"] = serde_json::json!({"x": ["sig_none"]})
        }),
    ];
    for (name, edit) in edits {
        let mut edited = pack.clone();
        edit(&mut edited);
        let path = dir.path().join(format!("pack-{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
        cases.push((path, pack_args.clone()));
    }
    for (path, args) in cases {
        let name = path.display().to_string();
        let mut file_args = vec!["verify".to_string(), name.clone()];
        file_args.extend(["--format".into(), "json".into()]);
        file_args.extend(args.iter().cloned());
        let from_file = common::run(&file_args);
        let mut stdin_args = file_args.clone();
        stdin_args[1] = "-".into();
        let from_stdin = common::run_stdin(&stdin_args, &std::fs::read(&path).unwrap());
        let (verdict, findings) = findings_of(&from_file);
        let file_findings: Vec<_> = findings
            .into_iter()
            .map(|(c, l, m)| (c, l, m.replace(&format!("{name}:"), "FILE:")))
            .collect();
        assert_eq!(
            (verdict, file_findings),
            findings_of(&from_stdin),
            "{name}\n{}",
            from_file.stdout
        );
    }
}
