//! The binary's contract: exit codes, errors that stop verification, the acceptance commands on
//! the genuine samples, both crypto providers, report formats, and hostile lines that must give a
//! finding at their line, never a panic.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use common::{Export, run, testdata, verify_json};

fn shared_interop(rel: &str) -> Option<PathBuf> {
    let p = common::root().join("../shared/interop/aat").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("!!! ../shared/interop not present: SKIPPED {rel}");
        None
    }
}

#[test]
fn genuine_samples_verify_with_every_key_file_shape() {
    for (trail, keys) in [
        ("spec10.jsonl", "spec.jwks.json"),
        ("spec10.jsonl", "spec.keys.json"),
        ("mcp10.jsonl", "mcp10.jwks.json"),
        ("mcp10.jsonl", "mcp10.keys.json"),
        ("mcp10.jsonl", "mcp10.pub.pem"),
        ("spec3_hybrid.jsonl", "spec_hybrid.jwks.json"),
        ("spec3_hybrid.jsonl", "spec_hybrid.keys.json"),
        ("spec10_merkle.jsonl", "spec.jwks.json"),
    ] {
        let (Some(trail), Some(keys)) = (shared_interop(trail), shared_interop(keys)) else {
            return;
        };
        let r = run([
            "verify".as_ref(),
            trail.as_os_str(),
            "--keys".as_ref(),
            keys.as_os_str(),
        ]);
        assert_eq!(r.code, 0, "{}: {}{}", trail.display(), r.stdout, r.stderr);
        assert!(r.stdout.starts_with("VERIFIED (exit 0)"), "{}", r.stdout);
    }
}

#[test]
fn verify_is_the_default_command() {
    let r = run([
        testdata("aat/ok--spec10.jsonl").as_os_str(),
        "--keys".as_ref(),
        testdata("keys/spec.jwks.json").as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn both_crypto_providers_give_the_same_report() {
    for fixture in [
        "ok--spec3-hybrid.jsonl",
        "ok--gen-es256-seq.jsonl",
        "fail--gen-der-signature.jsonl",
    ] {
        let keys = if fixture.contains("spec3") {
            "spec_hybrid.jwks.json"
        } else {
            "gen.jwks.json"
        };
        let path = testdata(&format!("aat/{fixture}"));
        let a = verify_json(&path, &[keys], &["--crypto", "aws-lc"]).json();
        let b = verify_json(&path, &[keys], &["--crypto", "rustcrypto"]).json();
        assert_eq!(a["crypto_provider"], "aws-lc-rs");
        assert_eq!(b["crypto_provider"], "rustcrypto");
        assert_eq!(a["verdict"], b["verdict"]);
        assert_eq!(a["findings"], b["findings"]);
        assert_eq!(a["chains"], b["chains"]);
    }
}

#[test]
fn signed_records_without_keys_are_inconclusive() {
    let r = verify_json(&testdata("aat/ok--spec10.jsonl"), &[], &[]);
    assert_eq!(r.code, 3);
    assert_eq!(r.verdict(), "inconclusive");
    assert_eq!(
        r.by_severity("warning")
            .iter()
            .filter(|(c, _)| c == "sig.unknown_key")
            .count(),
        10
    );
    let r = verify_json(&testdata("aat/ok--spec10.jsonl"), &["mcp10.jwks.json"], &[]);
    assert_eq!(r.code, 3, "keys of another producer establish nothing");
}

#[test]
fn an_unsigned_chain_with_keys_supplied_is_inconclusive() {
    let r = verify_json(
        &testdata("aat/ok--gen-unsigned.jsonl"),
        &["gen.jwks.json"],
        &[],
    );
    assert_eq!(r.code, 3);
    let r = verify_json(
        &testdata("aat/ok--gen-unsigned.jsonl"),
        &[],
        &["--require-signatures"],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.errors().len(), 6);
}

#[test]
fn the_ml_dsa_kid_matches_under_either_rule_and_the_rule_is_named() {
    for keys in [
        "gen.jwks.json",
        "gen-mldsa-akp.jwks.json",
        "gen-mldsa65.pub.pem",
    ] {
        let r = verify_json(&testdata("aat/ok--gen-mldsa.jsonl"), &[keys], &[]);
        assert_eq!(r.code, 0, "{keys}: {}", r.stdout);
        let signers = r.json()["chains"][0]["signers"].to_string();
        assert!(
            signers.contains("base64url(SHA-256(raw public key))"),
            "{keys}: {signers}"
        );
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn inputs_that_cannot_be_verified_are_errors_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (write(dir.path(), "empty.jsonl", b""), "no records"),
        (write(dir.path(), "blank.jsonl", b"\n\n  \n"), "no records"),
        (
            write(dir.path(), "text.jsonl", b"hello world\nthis is not json\n"),
            "not a JSON Lines export",
        ),
        (
            testdata("keys/gen-agent.pub.pem"),
            "not a JSON Lines export",
        ),
        (
            write(
                dir.path(),
                "other.jsonl",
                b"{\"event\":\"login\",\"user\":\"alice\"}\n",
            ),
            "match no known profile",
        ),
        (
            write(dir.path(), "array.jsonl", b"[1,2,3]\n"),
            "match no known profile",
        ),
        (
            write(dir.path(), "gz.jsonl.gz", &[0x1f, 0x8b, 8, 0, 0, 0]),
            "cannot read",
        ),
        // The error names the container the input was read as, and what that container holds.
        (
            write(
                dir.path(),
                "bundle.json",
                b"{\n \"records\": [],\n \"records\": []\n}\n",
            ),
            "is not a JSON export: line 3",
        ),
        (
            write(dir.path(), "array.json", b"[\n nul\n]\n"),
            "is not a JSON export: line 2",
        ),
        (
            write(
                dir.path(),
                "messages.log",
                b"<13>1 2026-01-01T00:00:00Z host app - - - not json\n",
            ),
            "is not a syslog export: line 1",
        ),
        (dir.path().join("missing.jsonl"), "cannot read"),
        (
            PathBuf::from("/dev/null"),
            "a device or socket cannot be read",
        ),
    ];
    let empty_dir = tempfile::tempdir().unwrap();
    let mut cases = cases;
    cases.push((empty_dir.path().to_path_buf(), "holds no regular file"));
    for (path, needle) in cases {
        let r = run(["verify".as_ref(), path.as_os_str()]);
        assert_eq!(r.code, 2, "{}: {}", path.display(), r.stderr);
        assert!(
            r.stdout.is_empty(),
            "{}: no report on error",
            path.display()
        );
        assert!(
            r.stderr.contains(needle),
            "{}: expected {needle:?} in\n{}",
            path.display(),
            r.stderr
        );
    }
}

#[test]
fn bad_keys_and_usage_are_errors_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let trail = testdata("aat/ok--spec10.jsonl");
    let bad = write(
        dir.path(),
        "bad.json",
        b"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
    );
    for args in [
        vec![
            "verify".into(),
            trail.display().to_string(),
            "--keys".into(),
            bad.display().to_string(),
        ],
        vec![
            "verify".into(),
            trail.display().to_string(),
            "--keys".into(),
            "/nonexistent/keys".into(),
        ],
        vec![
            "verify".into(),
            trail.display().to_string(),
            "--profile".into(),
            "nope".into(),
        ],
        vec![
            "verify".into(),
            trail.display().to_string(),
            "--format".into(),
            "xml".into(),
        ],
        // Each worker thread is started at once: a thread count past 1024 is refused.
        vec![
            "verify".into(),
            trail.display().to_string(),
            "--jobs".into(),
            "100000".into(),
        ],
        vec!["verify".into()],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
}

#[test]
fn hostile_lines_are_findings_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(testdata("aat/ok--gen-es256-seq.jsonl")).unwrap();
    let lines: Vec<&[u8]> = good
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "invalid utf-8",
            b"{\"a\":\"\xff\xfe\"}".to_vec(),
            "record.invalid_utf8",
        ),
        (
            "lone surrogate",
            br#"{"a":"\ud800"}"#.to_vec(),
            "record.lone_surrogate",
        ),
        (
            "duplicate key",
            br#"{"session_id":"a","session_id":"b"}"#.to_vec(),
            "record.duplicate_key",
        ),
        ("deep nesting", deep.into_bytes(), "record.too_deep"),
        ("nul byte", b"{\"a\":1}\x00".to_vec(), "record.malformed"),
        (
            "truncated",
            lines[3][..lines[3].len() / 2].to_vec(),
            "record.malformed",
        ),
        (
            "not an object",
            b"\"just a string\"".to_vec(),
            "record.not_object",
        ),
        (
            "wrong type",
            br#"{"session_id":42}"#.to_vec(),
            "record.field_invalid",
        ),
        (
            "huge line",
            vec![b' '; 5 * 1024 * 1024]
                .into_iter()
                .chain(*b"{}")
                .collect(),
            "input.line_too_long",
        ),
    ];
    for (what, bad, code) in cases {
        let mut file = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if i == 4 {
                file.extend_from_slice(&bad);
                file.push(b'\n');
            }
            file.extend_from_slice(l);
            file.push(b'\n');
        }
        let path = write(dir.path(), "hostile.jsonl", &file);
        let r = verify_json(&path, &["gen.jwks.json"], &[]);
        assert_eq!(r.code, 1, "{what}: {}", r.stdout);
        assert_eq!(
            r.errors()[0],
            (code.to_string(), 5),
            "{what}: {:?}",
            r.errors()
        );
    }
}

#[test]
fn numbers_outside_the_jcs_domain_are_not_established_not_tampering() {
    let mut e = Export::load("aat/ok--gen-unsigned.jsonl");
    // An integer beyond 2^53 cannot be canonicalized exactly: the record cannot be hashed.
    let dir = tempfile::tempdir().unwrap();
    e.records[5]["action_detail"]["big"] = serde_json::Value::String("PLACEHOLDER".into());
    let path = e.write(dir.path(), "big.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"PLACEHOLDER\"", "9007199254740993");
    std::fs::write(&path, text).unwrap();
    let r = verify_json(&path, &[], &[]);
    assert_eq!(r.verdict(), "inconclusive", "{}", r.stdout);
    assert!(
        r.by_severity("warning")
            .contains(&("canon.unsupported_value".into(), 6))
    );
}

#[test]
fn bom_crlf_and_blank_lines_are_tolerated_with_notes() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(testdata("aat/ok--gen-es256-seq.jsonl")).unwrap();
    let mut text = String::from("\u{feff}");
    for (i, l) in good.lines().enumerate() {
        text.push_str(l);
        text.push_str("\r\n");
        if i == 3 {
            text.push('\n');
        }
    }
    let path = write(dir.path(), "crlf.jsonl", text.as_bytes());
    let r = verify_json(&path, &["gen.jwks.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let infos = r.by_severity("info");
    assert!(infos.contains(&("input.bom".into(), 1)));
    assert!(infos.contains(&("input.crlf".into(), 1)));
    assert!(infos.contains(&("input.blank_line".into(), 5)));
    // Records after the blank line keep their physical line numbers.
    assert_eq!(r.json()["chains"][0]["last"]["line"], 13);
}

#[test]
fn human_report_quotes_the_line_and_labels_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Export::load("aat/ok--gen-es256-seq.jsonl");
    e.records.remove(5);
    let path = e.write(dir.path(), "deleted.jsonl");
    let r = run([
        "verify".as_ref(),
        path.as_os_str(),
        "--keys".as_ref(),
        testdata("keys/gen.jwks.json").as_os_str(),
        "--color".as_ref(),
        "never".as_ref(),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("FAILED (exit 1)"), "{}", r.stdout);
    assert!(r.stdout.contains("chain.link_mismatch"));
    assert!(r.stdout.contains("deleted.jsonl:6"));
    assert!(r.stdout.contains("╰── prev_hash"), "{}", r.stdout);
    assert!(r.stdout.contains("expected "), "{}", r.stdout);
    assert!(
        !r.stdout.contains('\u{1b}'),
        "no colour when asked for none"
    );
}

#[test]
fn output_file_receives_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let r = run([
        "verify".as_ref(),
        testdata("aat/ok--spec10.jsonl").as_os_str(),
        "--keys".as_ref(),
        testdata("keys/spec.jwks.json").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--output".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(report["schema"], "audit-verify/report/v1");
    assert_eq!(report["verdict"], "verified");
}

#[test]
fn chains_continue_across_input_files() {
    let dir = tempfile::tempdir().unwrap();
    let e = Export::load("aat/ok--gen-es256-seq.jsonl");
    let a = Export {
        records: e.records[..6].to_vec(),
    }
    .write(dir.path(), "a.jsonl");
    let b = Export {
        records: e.records[6..].to_vec(),
    }
    .write(dir.path(), "b.jsonl");
    let r = run([
        "verify".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--keys".as_ref(),
        testdata("keys/gen.jwks.json").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let report = r.json();
    assert_eq!(report["chains"][0]["records"], 12);
    assert!(
        report["chains"][0]["last"]["file"]
            .as_str()
            .unwrap()
            .ends_with("b.jsonl")
    );
}

#[test]
fn same_inputs_give_identical_json() {
    let path = testdata("aat/ok--gen-two-sessions.jsonl");
    let a = verify_json(&path, &["gen.jwks.json"], &["--jobs", "1"]).stdout;
    let b = verify_json(&path, &["gen.jwks.json"], &["--jobs", "2"]).stdout;
    assert_eq!(a, b);
}

#[test]
fn a_command_after_options_is_a_usage_error_naming_it() {
    let trail = testdata("aat/ok--spec10.jsonl");
    let r = run(["--quiet".as_ref(), "verify".as_ref(), trail.as_os_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no report on error");
    assert!(
        r.stderr.contains("`verify` is a command") && r.stderr.contains("command_after_options"),
        "{}",
        r.stderr
    );
    // The default command itself still takes options before its inputs.
    let r = run(["--quiet".as_ref(), trail.as_os_str()]);
    assert_ne!(r.code, 2, "{}", r.stderr);
}

#[test]
fn a_window_that_ends_before_it_starts_is_a_usage_error() {
    let trail = testdata("aat/ok--spec10.jsonl");
    let keys = testdata("keys/spec.jwks.json");
    let with = |window: &[&str]| {
        let mut args: Vec<OsString> = vec![
            "verify".into(),
            trail.clone().into(),
            "--keys".into(),
            keys.clone().into(),
            "--now".into(),
            "2026-10-01T13:00:00Z".into(),
        ];
        args.extend(window.iter().map(OsString::from));
        run(args)
    };
    // Counted back from now, 1h is later than 2h.
    let r = with(&["--since", "1h", "--until", "2h"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is after --until"), "{}", r.stderr);
    let r = with(&[
        "--since",
        "2026-10-02T00:00:00Z",
        "--until",
        "2026-10-01T00:00:00Z",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // The hour before the last holds the trail's records: the window is checked, not refused.
    let r = with(&["--since", "2h", "--until", "30m"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}
