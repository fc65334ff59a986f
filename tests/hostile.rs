//! Hostile inputs against the real binary: each case asserts the finding or error and the exit
//! code, that nothing panicked (exit 101 or "panicked at" on stderr, checked by `common::run`),
//! and, where the input is large, that peak memory stays bounded (measured with
//! `/usr/bin/time -f %M` when it is installed). Cases that `tests/cli.rs` already covers (a
//! 5 MiB line, 100,000 brackets on a JSONL line, invalid UTF-8, a lone surrogate and a duplicate
//! key at top level, a NUL after a record, a BOM and CRLF at the start, integers past 2^53, a
//! gzip header alone) are not repeated here.

mod common;

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Export, Run, run, testdata, verify_json};

/// The genuine ES256 export (12 records, one chain) and its keys.
const ES256: &str = "aat/ok--gen-es256-seq.jsonl";
const ES256_KEYS: &str = "gen.jwks.json";

fn genuine_lines() -> Vec<String> {
    std::fs::read_to_string(testdata(ES256))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The genuine export with line `at` (0-based) replaced.
fn with_line(at: usize, line: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, l) in genuine_lines().iter().enumerate() {
        out.extend_from_slice(if i == at { line } else { l.as_bytes() });
        out.push(b'\n');
    }
    out
}

/// Runs the binary under `/usr/bin/time -f %M` when present: the run and the peak RSS in KiB.
fn run_measured(args: &[OsString]) -> (Run, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        eprintln!("!!! /usr/bin/time not installed: peak memory NOT CHECKED");
        return (run(args), None);
    }
    let dir = tempfile::tempdir().unwrap();
    let rss_file = dir.path().join("rss");
    let out = Command::new(time)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_audit-verify"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    r.assert_no_panic();
    let rss = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()));
    (r, rss)
}

fn verify_args(file: &Path, keys: &[&str], extra: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "verify".into(),
        file.into(),
        "--format".into(),
        "json".into(),
    ];
    for k in keys {
        args.push("--keys".into());
        args.push(testdata(&format!("keys/{k}")).into());
    }
    args.extend(extra.iter().map(OsString::from));
    args
}

fn assert_rss_below(rss: Option<u64>, mib: u64, what: &str) {
    if let Some(kib) = rss {
        eprintln!("{what}: peak RSS {} MiB (limit {mib} MiB)", kib / 1024);
        assert!(
            kib < mib * 1024,
            "{what}: peak RSS {} MiB, expected below {mib} MiB",
            kib / 1024
        );
    }
}

/// Asserts exit 1 and that `code` is among the error findings at `line`.
fn assert_failed_with(r: &Run, code: &str, line: u64, what: &str) {
    assert_eq!(r.code, 1, "{what}: {}\n{}", r.stdout, r.stderr);
    assert!(
        r.errors().contains(&(code.to_string(), line)),
        "{what}: expected {code} at line {line}, got {:?}",
        r.errors()
    );
}

/// Asserts exit 2, no report, and `needle` on stderr.
fn assert_error(r: &Run, needle: &str, what: &str) {
    assert_eq!(r.code, 2, "{what}: {}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{what}: no report on error");
    assert!(
        r.stderr.contains(needle),
        "{what}: expected {needle:?} in\n{}",
        r.stderr
    );
}

// ---- sizes ----

#[test]
fn a_100_mb_single_line_is_a_line_too_long_finding_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    let path = dir.path().join("huge-line.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for l in &lines[..5] {
        writeln!(f, "{l}").unwrap();
    }
    // 100 MB of one JSON string: a single line far over the 4 MiB limit.
    f.write_all(b"{\"x\":\"").unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"\"}\n").unwrap();
    for l in &lines[5..] {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let (r, rss) = run_measured(&verify_args(&path, &[ES256_KEYS], &[]));
    assert_failed_with(&r, "input.line_too_long", 6, "100 MB line");
    // The skipped line is a hole in the chain: the record after it does not link.
    assert_eq!(r.errors()[0], ("input.line_too_long".to_string(), 6));
    assert_rss_below(rss, 96, "100 MB line");
}

#[test]
fn records_just_under_the_line_limit_are_batched_by_bytes_in_bounded_memory() {
    // 40 units of 4 MiB - 1 bytes each: 2,048 of them used to fill one batch (8 GiB).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("near-limit.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for l in genuine_lines() {
        writeln!(f, "{l}").unwrap();
    }
    let mut line = vec![b'x'; audit_verify::ingest::MAX_LINE_BYTES - 1];
    line.push(b'\n');
    for _ in 0..40 {
        f.write_all(&line).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let (r, rss) = run_measured(&verify_args(&path, &[ES256_KEYS], &[]));
    assert_failed_with(&r, "record.malformed", 13, "near-limit lines");
    assert_failed_with(&r, "record.malformed", 52, "near-limit lines");
    // 40 x 4 MiB = 160 MiB held at once before the batch was bounded by bytes.
    assert_rss_below(rss, 144, "near-limit lines");
}

#[test]
fn nesting_100000_deep_in_every_container_is_too_deep_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let mut elements: Vec<String> = lines.clone();
    elements.insert(4, deep.clone());
    let array = format!("[\n{}\n]\n", elements.join(",\n"));
    let p = write(dir.path(), "deep.json", array.as_bytes());
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "record.too_deep",
        6,
        "array element",
    );
    let bundle = format!("{{\n\"records\": [\n{}\n]\n}}\n", elements.join(",\n"));
    let p = write(dir.path(), "deep-bundle.json", bundle.as_bytes());
    // A bundle from a file is read as a stream: the deep record is a finding at its line, as in
    // an array, and the others are verified.
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "record.too_deep",
        7,
        "bundle",
    );
    // A bundle from standard input is parsed whole: too deep anywhere, nothing in it can be read,
    // and the error says why.
    let r = common::run_stdin(
        [
            "verify".as_ref(),
            "-".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--keys".as_ref(),
            testdata(&format!("keys/{ES256_KEYS}")).as_os_str(),
        ],
        bundle.as_bytes(),
    );
    assert_error(&r, "the limit of 128", "bundle on stdin");
    let syslog: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let msg = if i == 4 { objects.as_str() } else { l.as_str() };
            format!("<14>1 2026-10-01T12:00:{i:02}.000Z host app - - - {msg}\n")
        })
        .collect();
    let p = write(dir.path(), "deep.log", syslog.as_bytes());
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "record.too_deep",
        5,
        "syslog message",
    );
    let csv = format!(
        "record_id,session_id,prev_hash,action_detail\nr0,s1,,{{}}\nr1,s1,,\"{}\"\n",
        objects.replace('"', "\"\"")
    );
    let p = write(dir.path(), "deep.csv", csv.as_bytes());
    assert_failed_with(
        &verify_json(&p, &[], &[]),
        "record.too_deep",
        3,
        "CSV JSON cell",
    );
}

// ---- encodings ----

#[test]
fn invalid_utf8_in_containers_and_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    let mut array = b"[\n".to_vec();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            array.extend_from_slice(b",\n");
        }
        if i == 4 {
            array.extend_from_slice(b"{\"session_id\":\"\xc0\xaf\"}");
        } else {
            array.extend_from_slice(l.as_bytes());
        }
    }
    array.extend_from_slice(b"\n]\n");
    let p = write(dir.path(), "utf8.json", &array);
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "record.invalid_utf8",
        6,
        "array element",
    );
    let mut syslog = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let host: &[u8] = if i == 4 { b"h\xffst" } else { b"host" };
        syslog.extend_from_slice(format!("<14>1 2026-10-01T12:00:{i:02}.000Z ").as_bytes());
        syslog.extend_from_slice(host);
        syslog.extend_from_slice(format!(" app - - - {l}\n").as_bytes());
    }
    let p = write(dir.path(), "utf8.log", &syslog);
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "container.malformed",
        5,
        "syslog header",
    );
    let p = write(
        dir.path(),
        "utf8.csv",
        b"record_id,session_id,prev_hash,agent_id\nr1,s1,,ok\nr2,s1,,b\xe9d\n",
    );
    assert_failed_with(
        &verify_json(&p, &[], &[]),
        "container.malformed",
        3,
        "CSV string cell",
    );
    let key = write(
        dir.path(),
        "bad-utf8.pem",
        b"-----BEGIN PUBLIC KEY-----\n\xff\xfe\n",
    );
    let r = run([
        "verify".as_ref(),
        testdata(ES256).as_os_str(),
        "--keys".as_ref(),
        key.as_os_str(),
    ]);
    assert_error(&r, "bad-utf8.pem", "key file");
}

#[test]
fn nul_bytes_are_findings_or_errors_never_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    let raw = lines[3].replace("\"outcome\":\"success\"", "\"outcome\":\"succ\u{0}ess\"");
    let p = write(
        dir.path(),
        "nul-in-string.jsonl",
        &with_line(3, raw.as_bytes()),
    );
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "record.malformed",
        4,
        "raw NUL in a string",
    );
    // Escaped, the NUL is valid JSON and part of the signed content: changed, so invalid.
    let escaped = lines[3].replace("\"outcome\":\"success\"", "\"outcome\":\"succ\\u0000ess\"");
    let p = write(
        dir.path(),
        "nul-escaped.jsonl",
        &with_line(3, escaped.as_bytes()),
    );
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "sig.invalid",
        4,
        "escaped NUL",
    );
    let p = write(dir.path(), "nul-line.jsonl", &with_line(3, &[0u8; 64]));
    assert_failed_with(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "record.malformed",
        4,
        "a line of NULs",
    );
    let p = write(dir.path(), "all-nul.jsonl", &[0u8; 4096]);
    assert_error(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "not a JSON Lines export",
        "a file of NULs",
    );
}

#[test]
fn a_bom_inside_the_file_is_malformed_and_before_a_json_array_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    let bom_line = format!("\u{feff}{}", lines[3]);
    let p = write(
        dir.path(),
        "bom-line-4.jsonl",
        &with_line(3, bom_line.as_bytes()),
    );
    let r = verify_json(&p, &[ES256_KEYS], &[]);
    assert_failed_with(&r, "record.malformed", 4, "BOM on line 4");
    let array = format!("\u{feff}[\n{}\n]\n", lines.join(",\n"));
    let p = write(dir.path(), "bom.json", array.as_bytes());
    let r = verify_json(&p, &[ES256_KEYS], &[]);
    assert_eq!(r.code, 0, "BOM before a JSON array: {}", r.stdout);
}

#[test]
fn mixed_line_endings_verify_with_one_note_and_bare_cr_is_not_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    let mut mixed = String::new();
    for (i, l) in lines.iter().enumerate() {
        mixed.push_str(l);
        mixed.push_str(if i % 2 == 1 { "\r\n" } else { "\n" });
    }
    let p = write(dir.path(), "mixed.jsonl", mixed.as_bytes());
    let r = verify_json(&p, &[ES256_KEYS], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.by_severity("info")
            .iter()
            .filter(|(c, _)| c == "input.crlf")
            .count(),
        1
    );
    assert!(r.by_severity("info").contains(&("input.crlf".into(), 2)));
    // A CR alone ends no line: the whole file is one line with trailing data after a record.
    let p = write(dir.path(), "cr.jsonl", (lines.join("\r") + "\r").as_bytes());
    assert_error(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "not a JSON Lines export",
        "bare CR",
    );
    // A CR inside a line, between tokens, is JSON whitespace that canonicalization removes.
    let spaced = lines[3].replacen("\",\"", "\",\r\"", 1);
    let p = write(
        dir.path(),
        "cr-inside.jsonl",
        &with_line(3, spaced.as_bytes()),
    );
    assert_eq!(verify_json(&p, &[ES256_KEYS], &[]).code, 0);
}

#[test]
fn duplicate_keys_nested_or_spelled_with_escapes_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    assert!(lines[3].contains("\"action_detail\":{\"tool_name\":"));
    for (what, line) in [
        (
            "nested",
            lines[3].replace(
                "\"action_detail\":{\"tool_name\":",
                "\"action_detail\":{\"tool_name\":\"x\",\"tool_name\":",
            ),
        ),
        (
            "escaped spelling",
            lines[3].replace(
                "\"outcome\":\"success\"",
                "\"outcome\":\"success\",\"\\u006futcome\":\"failure\"",
            ),
        ),
    ] {
        let p = write(dir.path(), "dup.jsonl", &with_line(3, line.as_bytes()));
        assert_failed_with(
            &verify_json(&p, &[ES256_KEYS], &[]),
            "record.duplicate_key",
            4,
            what,
        );
    }
}

#[test]
fn numbers_at_the_edges_of_json() {
    let dir = tempfile::tempdir().unwrap();
    let lines = genuine_lines();
    let extra = |v: &str| {
        lines[3].replace(
            "\"outcome\":\"success\"",
            &format!("\"outcome\":\"success\",\"x\":{v}"),
        )
    };
    // No canonical form: the record's hash cannot be computed, so nothing is established.
    for (what, line) in [
        ("1e400", extra("1e400")),
        ("-1e400", extra("-1e400")),
        ("2^64 + 1", extra("18446744073709551617")),
        ("-2^64", extra("-18446744073709551616")),
    ] {
        let p = write(dir.path(), "num.jsonl", &with_line(3, line.as_bytes()));
        let r = verify_json(&p, &[ES256_KEYS], &[]);
        assert_eq!(r.code, 3, "{what}: {}", r.stdout);
        assert!(
            r.by_severity("warning")
                .contains(&("canon.unsupported_value".into(), 4)),
            "{what}: {:?}",
            r.codes()
        );
    }
    // Not JSON numbers at all.
    for (what, v) in [
        ("NaN", "NaN"),
        ("Infinity", "-Infinity"),
        ("leading +", "+1"),
        ("hex", "0x10"),
    ] {
        let p = write(dir.path(), "num.jsonl", &with_line(3, extra(v).as_bytes()));
        assert_failed_with(
            &verify_json(&p, &[ES256_KEYS], &[]),
            "record.malformed",
            4,
            what,
        );
    }
    // A sequence number that is no u64 is an invalid field, not a wrapped number.
    for (what, v) in [
        ("2^64 + 1", "18446744073709551617"),
        ("negative", "-3"),
        ("fraction", "3.5"),
    ] {
        let line = lines[3].replace("\"sequence_number\":3", &format!("\"sequence_number\":{v}"));
        let p = write(dir.path(), "seq.jsonl", &with_line(3, line.as_bytes()));
        assert_failed_with(
            &verify_json(&p, &[ES256_KEYS], &[]),
            "record.field_invalid",
            4,
            what,
        );
    }
    // -0 is the number 0 and canonicalizes to 0 (RFC 8785): the signed bytes are unchanged.
    let line = lines[0].replace("\"sequence_number\":0", "\"sequence_number\":-0");
    assert_ne!(line, lines[0]);
    let p = write(
        dir.path(),
        "minus-zero.jsonl",
        &with_line(0, line.as_bytes()),
    );
    let r = verify_json(&p, &[ES256_KEYS], &[]);
    assert_eq!(r.code, 0, "-0: {}", r.stdout);
}

// ---- gzip ----

fn gzip_member(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn truncated_corrupt_and_trailing_gzip_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip_member(&std::fs::read(testdata(ES256)).unwrap());
    let p = write(dir.path(), "cut.jsonl.gz", &gz[..gz.len() / 2]);
    assert_error(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "cannot read",
        "truncated",
    );
    let mut bad = gz.clone();
    let n = bad.len();
    bad[n - 6] ^= 0xff; // the CRC-32 of the member
    let p = write(dir.path(), "crc.jsonl.gz", &bad);
    assert_error(&verify_json(&p, &[ES256_KEYS], &[]), "checksum", "bad CRC");
    let mut trailing = gz;
    trailing.extend_from_slice(b"not gzip");
    let p = write(dir.path(), "trailing.jsonl.gz", &trailing);
    assert_error(
        &verify_json(&p, &[ES256_KEYS], &[]),
        "cannot read",
        "trailing data",
    );
}

/// A genuine export followed by `gib` GiB of zeros, as concatenated gzip members (one 1 MiB
/// member repeated), generated without ever holding the expanded data.
fn gzip_bomb(dir: &Path, gib: usize) -> PathBuf {
    let path = dir.join("bomb.jsonl.gz");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(&gzip_member(&std::fs::read(testdata(ES256)).unwrap()))
        .unwrap();
    let zeros = gzip_member(&vec![0u8; 1 << 20]);
    for _ in 0..(gib << 10) {
        f.write_all(&zeros).unwrap();
    }
    f.flush().unwrap();
    path
}

#[test]
fn a_gzip_bomb_is_refused_early_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = gzip_bomb(dir.path(), 1);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
    let started = std::time::Instant::now();
    let (r, rss) = run_measured(&verify_args(&bomb, &[ES256_KEYS], &[]));
    assert_error(&r, "likely decompression bomb", "1 GiB of zeros");
    assert!(r.stderr.contains("gzip_bomb"), "{}", r.stderr);
    assert_rss_below(rss, 64, "gzip bomb");
    // Stopped after 64 MiB, not after 1 GiB: a guard against the limit going missing.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // The same through standard input.
    let out = Command::new(env!("CARGO_BIN_EXE_audit-verify"))
        .args(["verify", "-", "--keys"])
        .arg(testdata(&format!("keys/{ES256_KEYS}")))
        .stdin(std::fs::File::open(&bomb).unwrap())
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    r.assert_no_panic();
    assert_error(&r, "ingest::gzip_bomb", "bomb on stdin");
}

#[test]
fn an_ordinary_gzip_export_is_not_taken_for_a_bomb() {
    // 100 copies of the export (about 1 MiB) compress about 70:1, well under the ratio limit,
    // and stay under the 64 MiB floor anyway; the copies are replays, so the run fails, but
    // it is read to the end.
    let dir = tempfile::tempdir().unwrap();
    let one = std::fs::read(testdata(ES256)).unwrap();
    let p = write(
        dir.path(),
        "copies.jsonl.gz",
        &gzip_member(&one.repeat(100)),
    );
    let r = verify_json(&p, &[ES256_KEYS], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json()["inputs"][0]["lines"], 1200);
}

// ---- files that are not files ----

#[test]
fn directories_with_symlink_loops_are_refused_naming_the_entry_and_links_to_directories_skipped() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(testdata(ES256), dir.path().join("export.jsonl")).unwrap();
    // A link to a directory (here the directory itself) is not descended into.
    symlink(dir.path(), dir.path().join("self")).unwrap();
    let r = verify_json(dir.path(), &[ES256_KEYS], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["inputs"].as_array().unwrap().len(), 1);
    // A link loop may stand for a missing part of the export: an error naming it, never skipped.
    symlink(dir.path().join("b"), dir.path().join("a")).unwrap();
    symlink(dir.path().join("a"), dir.path().join("b")).unwrap();
    let r = verify_json(dir.path(), &[ES256_KEYS], &[]);
    assert_error(
        &r,
        "cannot be read (",
        "two-link loop in an export directory",
    );
    std::fs::remove_file(dir.path().join("a")).unwrap();
    std::fs::remove_file(dir.path().join("b")).unwrap();
    symlink(dir.path().join("loop"), dir.path().join("loop")).unwrap();
    let r = verify_json(dir.path(), &[ES256_KEYS], &[]);
    assert_error(
        &r,
        "\"loop\" cannot be read",
        "self-link in an export directory",
    );
    // A dangling link too.
    std::fs::remove_file(dir.path().join("loop")).unwrap();
    symlink(
        dir.path().join("gone.jsonl"),
        dir.path().join("part2.jsonl"),
    )
    .unwrap();
    let r = verify_json(dir.path(), &[ES256_KEYS], &[]);
    assert_error(
        &r,
        "\"part2.jsonl\" cannot be read",
        "dangling link in an export directory",
    );
    std::fs::remove_file(dir.path().join("part2.jsonl")).unwrap();
    symlink(dir.path().join("loop"), dir.path().join("loop")).unwrap();
    // Named directly, a link loop cannot be read.
    let r = verify_json(&dir.path().join("loop"), &[ES256_KEYS], &[]);
    assert_error(&r, "cannot read", "link loop as input");
    // In a key directory, an unreadable entry is an error naming it (keys fail closed).
    let keys = tempfile::tempdir().unwrap();
    std::fs::copy(
        testdata(&format!("keys/{ES256_KEYS}")),
        keys.path().join("k.jwks.json"),
    )
    .unwrap();
    symlink(keys.path().join("kloop"), keys.path().join("kloop")).unwrap();
    let r = run([
        "verify".as_ref(),
        testdata(ES256).as_os_str(),
        "--keys".as_ref(),
        keys.path().as_os_str(),
    ]);
    assert_error(&r, "kloop", "link loop in a key directory");
}

// ---- profile files ----

#[test]
fn hostile_profile_files_are_errors_with_short_messages() {
    let dir = tempfile::tempdir().unwrap();
    let export = testdata("asqav/ok--gen-receipts.jsonl");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "deep-arrays.toml",
            format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            "line 1, column",
        ),
        (
            "deep-tables.toml",
            format!("a = {}1{}\n", "{b = ".repeat(100_000), "}".repeat(100_000)).into_bytes(),
            "line 1, column",
        ),
        (
            // Just under the size limit, one line: the message must not quote it.
            "long-line.toml",
            format!("name = \"{}\n", "x".repeat(1_000_000)).into_bytes(),
            "line 1, column",
        ),
        (
            "huge.toml",
            vec![b'#'; 2 << 20],
            "is larger than 1048576 bytes",
        ),
        (
            "not-utf8.toml",
            b"name = \"\xff\xfe\"\n".to_vec(),
            "not UTF-8",
        ),
        ("nul.toml", b"name = \"a\0b\"\n".to_vec(), "line 1, column"),
        (
            "wrong-types.toml",
            b"format = \"1\"\nname = 7\n".to_vec(),
            "line 1, column",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = write(dir.path(), name, &bytes);
        for args in [
            vec!["profiles".as_ref(), path.as_os_str()],
            vec![
                "verify".as_ref(),
                export.as_os_str(),
                "--profile".as_ref(),
                path.as_os_str(),
            ],
        ] {
            let (r, rss) = run_measured(&args.iter().map(|a| a.to_os_string()).collect::<Vec<_>>());
            assert_error(&r, needle, name);
            assert!(
                r.stderr.len() < 4096,
                "{name}: a short message, not the file ({} bytes)",
                r.stderr.len()
            );
            assert_rss_below(rss, 128, name);
        }
    }
}

fn mkfifo(path: &Path) -> bool {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("!!! mkfifo not available: FIFO cases SKIPPED");
    }
    ok
}

#[test]
fn fifos_are_read_as_streams_and_skipped_inside_directories() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("export.fifo");
    if !mkfifo(&fifo) {
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(&std::fs::read(testdata(ES256)).unwrap())
                .unwrap();
        })
    };
    let r = verify_json(&fifo, &[ES256_KEYS], &[]);
    writer.join().unwrap();
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // In a directory, a FIFO is not a regular file: skipped, never opened (it would block).
    std::fs::copy(testdata(ES256), dir.path().join("export.jsonl")).unwrap();
    let r = verify_json(dir.path(), &[ES256_KEYS], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["inputs"].as_array().unwrap().len(), 1);
    // Likewise in a key directory.
    let keys = tempfile::tempdir().unwrap();
    std::fs::copy(
        testdata(&format!("keys/{ES256_KEYS}")),
        keys.path().join("k.jwks.json"),
    )
    .unwrap();
    assert!(mkfifo(&keys.path().join("k.fifo")));
    let r = run([
        "verify".as_ref(),
        testdata(ES256).as_os_str(),
        "--keys".as_ref(),
        keys.path().as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A device where a certificate belongs is read only up to the certificate limit.
    let (r, rss) = run_measured(&[
        "verify".into(),
        testdata(ES256).into(),
        "--keys".into(),
        testdata(&format!("keys/{ES256_KEYS}")).into(),
        "--anchor".into(),
        "/dev/zero".into(),
    ]);
    assert_error(&r, "not a JSON object", "/dev/zero as --anchor");
    assert_rss_below(rss, 64, "/dev/zero as --anchor");
}

#[test]
fn unreadable_files_are_errors() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("locked.jsonl");
    std::fs::copy(testdata(ES256), &export).unwrap();
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o000)).unwrap();
    let key = dir.path().join("locked.jwks.json");
    std::fs::copy(testdata(&format!("keys/{ES256_KEYS}")), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&export).is_ok() {
        eprintln!(
            "!!! running as root (or with CAP_DAC_OVERRIDE): mode 000 does not stop reads, \
             unreadable-file cases SKIPPED"
        );
        return;
    }
    assert_error(
        &verify_json(&export, &[ES256_KEYS], &[]),
        "cannot read",
        "export",
    );
    let r = run([
        "verify".as_ref(),
        testdata(ES256).as_os_str(),
        "--keys".as_ref(),
        key.as_os_str(),
    ]);
    assert_error(&r, "cannot read key file", "key file");
}

// ---- keys ----

/// The DER SubjectPublicKeyInfo of an EC key on the curve with OID `curve` (body only).
fn ec_spki(curve: &[u8], point: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if body.len() < 128 {
            out.push(body.len() as u8);
        } else {
            out.push(0x81);
            out.push(body.len() as u8);
        }
        out.extend_from_slice(body);
        out
    }
    let alg = [
        tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
        tlv(0x06, curve),
    ]
    .concat();
    let mut bits = vec![0u8];
    bits.extend_from_slice(point);
    tlv(0x30, &[tlv(0x30, &alg), tlv(0x03, &bits)].concat())
}

fn pem(der: &[u8]) -> String {
    audit_verify::cert::pem_encode("PUBLIC KEY", der)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn malformed_wrong_curve_off_curve_and_wrong_length_keys_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let gen_x = "SQeBT8vRHXayB_lFa0pYa_0mk3kpQp9jqY_Bfs-wBXU";
    let gen_y = "OAEPptCsF7NaXVt_G8WqHktdpKL0YhkPVii8otQt6Is";
    let mut p384 = vec![4u8];
    p384.extend_from_slice(&[7u8; 96]);
    let p384_oid = [0x2b, 0x81, 0x04, 0x00, 0x22];
    let p256_oid = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut off_curve = vec![4u8];
    off_curve.extend_from_slice(&[1u8; 64]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // malformed
        (
            "bad-base64.pem",
            b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n".to_vec(),
            "malformed PEM",
        ),
        (
            "no-end.pem",
            b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ==\n".to_vec(),
            "malformed PEM",
        ),
        (
            "truncated-der.pem",
            pem(&ec_spki(&p256_oid, &off_curve)[..40]).into_bytes(),
            "SubjectPublicKeyInfo",
        ),
        (
            "bad-b64url.json",
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{gen_x}=","y":"{gen_y}"}}"#).into_bytes(),
            "member \"x\"",
        ),
        ("garbage.key", b"this is not a key\n".to_vec(), "not a PEM"),
        // another curve
        (
            "p384.pem",
            pem(&ec_spki(&p384_oid, &p384)).into_bytes(),
            "unsupported curve",
        ),
        (
            "secp256k1.json",
            format!(r#"{{"kty":"EC","crv":"secp256k1","x":"{gen_x}","y":"{gen_y}"}}"#).into_bytes(),
            "unsupported curve",
        ),
        (
            "x25519.json",
            format!(
                r#"{{"kty":"OKP","crv":"X25519","x":"{}"}}"#,
                b64(&[9u8; 32])
            )
            .into_bytes(),
            "unsupported curve",
        ),
        // not on the curve
        (
            "off-curve.pem",
            pem(&ec_spki(&p256_oid, &off_curve)).into_bytes(),
            "not a point on the curve",
        ),
        (
            "off-curve.json",
            format!(
                r#"{{"kty":"EC","crv":"P-256","x":"{gen_x}","y":"{}"}}"#,
                b64(&[1u8; 32])
            )
            .into_bytes(),
            "not a point on the curve",
        ),
        (
            "ed25519-small-order.json",
            format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
                b64(&{
                    let mut id = [0u8; 32];
                    id[0] = 1;
                    id
                })
            )
            .into_bytes(),
            "small-order",
        ),
        // wrong length
        (
            "short-x.json",
            format!(
                r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{gen_y}"}}"#,
                b64(&[5u8; 31])
            )
            .into_bytes(),
            "member \"x\" decodes to 31 bytes, expected 32",
        ),
        (
            "short-ed25519.json",
            format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
                b64(&[5u8; 31])
            )
            .into_bytes(),
            "decodes to 31 bytes",
        ),
        (
            "long-mldsa.json",
            format!(
                r#"{{"kty":"AKP","alg":"ML-DSA-65","pub":"{}"}}"#,
                b64(&vec![5u8; 1953])
            )
            .into_bytes(),
            "decodes to 1953 bytes",
        ),
        (
            "odd.hex",
            hex::encode([5u8; 31]).into_bytes(),
            "fits no supported key",
        ),
    ];
    let trail = testdata(ES256);
    for (name, content, needle) in cases {
        let key = write(dir.path(), name, &content);
        let r = run([
            "verify".as_ref(),
            trail.as_os_str(),
            "--keys".as_ref(),
            key.as_os_str(),
        ]);
        assert_error(&r, needle, name);
        assert!(r.stderr.contains(name), "{name}: the error names the file");
    }
}

#[test]
fn jwks_with_duplicate_kids_is_an_error_unless_the_key_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let a = r#"{"kty":"EC","crv":"P-256","x":"SQeBT8vRHXayB_lFa0pYa_0mk3kpQp9jqY_Bfs-wBXU","y":"OAEPptCsF7NaXVt_G8WqHktdpKL0YhkPVii8otQt6Is","kid":"k1"}"#;
    let b = r#"{"kty":"EC","crv":"P-256","x":"OtoFoIlTRiKVmaASNFq-9Qd0poxCrJYiFeOTbySjZuw","y":"M5_zeZEb_AfEJODWHRSJC4T3gDvbwPOIAnJbfyA1cgs","kid":"k1"}"#;
    let trail = testdata(ES256);
    let two = write(
        dir.path(),
        "two.jwks.json",
        format!(r#"{{"keys":[{a},{b}]}}"#).as_bytes(),
    );
    let r = run([
        "verify".as_ref(),
        trail.as_os_str(),
        "--keys".as_ref(),
        two.as_os_str(),
    ]);
    assert_error(&r, "names two different keys", "duplicate kid in one set");
    let same = write(
        dir.path(),
        "same.jwks.json",
        format!(r#"{{"keys":[{a},{a}]}}"#).as_bytes(),
    );
    let r = run([
        "verify".as_ref(),
        trail.as_os_str(),
        "--keys".as_ref(),
        same.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "the same key twice: {}", r.stderr);
    // Across two files.
    let fa = write(dir.path(), "a.json", a.as_bytes());
    let fb = write(dir.path(), "b.json", b.as_bytes());
    let r = run([
        "verify".as_ref(),
        trail.as_os_str(),
        "--keys".as_ref(),
        fa.as_os_str(),
        "--keys".as_ref(),
        fb.as_os_str(),
    ]);
    assert_error(&r, "names different keys", "duplicate kid across files");
}

// ---- signatures ----

/// An export of one copy of `line` per signature, `signature` (or `field`) replaced by each.
fn one_line_per_signature(line: &str, field: &str, sigs: &[Vec<u8>]) -> Vec<u8> {
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    let mut out = Vec::new();
    for sig in sigs {
        let mut r = record.clone();
        r[field] = serde_json::Value::String(b64(sig));
        out.extend_from_slice(serde_json::to_string(&r).unwrap().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Asserts that line `i + 1` has `expect(i)` among its errors and that no line verified.
fn assert_each_line(r: &Run, n: usize, expect: impl Fn(usize) -> &'static str) {
    assert_eq!(r.code, 1, "{}", r.stderr);
    let errors = r.errors();
    for i in 0..n {
        let code = expect(i);
        assert!(
            errors.contains(&(code.to_string(), i as u64 + 1)),
            "line {}: expected {code}, got {:?}",
            i + 1,
            errors
                .iter()
                .filter(|(_, l)| *l == i as u64 + 1)
                .collect::<Vec<_>>()
        );
    }
    let chains = r.json()["chains"].as_array().unwrap().clone();
    for c in chains {
        assert_ne!(c["authenticity"]["status"], "established", "{c}");
    }
}

#[test]
fn es256_signatures_of_every_wrong_length_are_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let line = &genuine_lines()[3];
    // 0xAA bytes never look like DER (which starts with 0x30): each length is plainly wrong,
    // and at 64 bytes the signature is well-formed but does not verify.
    let sigs: Vec<Vec<u8>> = (0..=100).map(|n| vec![0xAA; n]).collect();
    let p = write(
        dir.path(),
        "es256-lengths.jsonl",
        &one_line_per_signature(line, "signature", &sigs),
    );
    let r = verify_json(&p, &[ES256_KEYS], &[]);
    assert_each_line(&r, sigs.len(), |n| {
        if n == 64 {
            "sig.invalid"
        } else {
            "sig.malformed"
        }
    });
}

#[test]
fn ml_dsa_signatures_of_every_wrong_length_are_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let e = Export::load("aat/ok--gen-mldsa.jsonl");
    let line = serde_json::to_string(&e.records[1]).unwrap();
    let good = common::b64(e.records[1]["signature"].as_str().unwrap());
    assert_eq!(good.len(), 3309);
    let mut sigs: Vec<Vec<u8>> = (0..=100).map(|n| vec![0x5A; n]).collect();
    sigs.push(good[..3308].to_vec());
    sigs.push([good.as_slice(), &[0]].concat());
    let mut flipped = good.clone();
    flipped[1000] ^= 1;
    sigs.push(flipped);
    let n = sigs.len();
    let p = write(
        dir.path(),
        "mldsa-lengths.jsonl",
        &one_line_per_signature(&line, "signature", &sigs),
    );
    let r = verify_json(&p, &["gen-mldsa-akp.jwks.json"], &[]);
    assert_each_line(&r, n, |i| {
        if i == n - 1 {
            "sig.invalid"
        } else {
            "sig.malformed"
        }
    });
    // The classical half of a hybrid record: every wrong length is malformed too.
    let h = Export::load("aat/ok--gen-hybrid.jsonl");
    let line = serde_json::to_string(&h.records[1]).unwrap();
    let sigs: Vec<Vec<u8>> = (0..=100)
        .filter(|n| *n != 64)
        .map(|n| vec![0xAA; n])
        .collect();
    let p = write(
        dir.path(),
        "hybrid-lengths.jsonl",
        &one_line_per_signature(&line, "signature_classical", &sigs),
    );
    let r = verify_json(&p, &["gen.keys.json"], &[]);
    assert_each_line(&r, sigs.len(), |_| "sig.malformed");
}

// ---- regressions found by fuzzing ----

#[test]
fn a_batch_tree_size_past_two_to_the_63_is_a_finding_not_a_panic() {
    // See: fuzz target `merkle` (inclusion_len shifted a u64 by 64; debug builds panicked).
    let mut e = Export::load("aat/ok--spec10-merkle.jsonl");
    e.records[0]["batch"]["tree_size"] = serde_json::Value::from((1u64 << 63) + 1);
    let dir = tempfile::tempdir().unwrap();
    let p = e.write(dir.path(), "huge-tree.jsonl");
    let r = verify_json(&p, &["spec.jwks.json"], &[]);
    assert_failed_with(&r, "merkle.proof_length", 1, "tree_size 2^63 + 1");
}

// ---- limits (docs/limits.md) ----

/// A file of `len` bytes that starts with `head`, the rest a hole (no disk used).
fn sparse(dir: &Path, name: &str, head: &[u8], len: u64) -> PathBuf {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    (&f).write_all(head).unwrap();
    f.set_len(len).unwrap();
    p
}

#[test]
fn findings_past_a_thousand_per_code_are_counted_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(testdata(ES256)).unwrap();
    text.push_str(&"\n".repeat(1500));
    let p = write(dir.path(), "blank.jsonl", text.as_bytes());
    let r = verify_json(&p, &[ES256_KEYS], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let j = r.json();
    let kept = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "input.blank_line")
        .count();
    assert_eq!(kept, 1000);
    assert_eq!(j["findings_omitted"]["input.blank_line"], 500);
}

#[test]
fn a_key_directory_of_too_many_files_is_an_error() {
    // (The export-directory limit, 100,000 files, is not exercised: creating them takes tens
    // of seconds.)
    // Many files are created far faster in memory where a tmpfs is at hand.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    for i in 0..=audit_verify::keys::MAX_KEY_DIR_FILES {
        std::fs::File::create(dir.path().join(format!("{i}.pem"))).unwrap();
    }
    let r = run([
        "verify".as_ref(),
        testdata(ES256).as_os_str(),
        "--keys".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_error(&r, "holds more than 10000 files", "key directory");
}

#[test]
fn oversized_checkpoints_and_certificates_are_errors() {
    // (The 256 MiB bundle limit is tested in src/ingest/json.rs without a file.)
    let dir = tempfile::tempdir().unwrap();
    let cp = sparse(dir.path(), "big.checkpoint", b"{", (1 << 20) + 1);
    let r = verify_json(
        &testdata(ES256),
        &[ES256_KEYS],
        &["--checkpoint", cp.to_str().unwrap()],
    );
    assert_error(&r, "larger than 1048576 bytes", "checkpoint");
    let cert = sparse(
        dir.path(),
        "big.cert.json",
        b"{",
        audit_verify::cert::MAX_CERT_BYTES + 1,
    );
    let r = verify_json(
        &testdata(ES256),
        &[ES256_KEYS],
        &["--anchor", cert.to_str().unwrap()],
    );
    assert_error(&r, "larger than 67108864 bytes", "certificate");
}

// ---- many chains (docs/limits.md: chains tracked) ----

/// `n` one-record sessions: the genesis of the unsigned AAT export under `n` session ids (each
/// verifies on its own, with the warnings of an unsigned open session).
fn one_record_sessions(n: usize) -> Vec<u8> {
    let genesis = std::fs::read_to_string(testdata("aat/ok--gen-unsigned.jsonl")).unwrap();
    let genesis = genesis.lines().next().unwrap();
    let session = "f842bd32-49bd-4637-ba13-ce7fc71ea1fb";
    let record = "469782fb-e376-4f96-b7cd-198c4c5a5f5b";
    assert!(genesis.contains(session) && genesis.contains(record));
    let mut out = Vec::with_capacity(n * (genesis.len() + 1));
    for i in 0..n {
        let line = genesis
            .replace(session, &format!("session-{i:030}"))
            .replace(record, &format!("record-{i:031}"));
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

/// `n` asqav receipts, each of another agent (so each its own chain), unsigned by any key given.
fn one_receipt_agents(n: usize) -> Vec<u8> {
    let first = std::fs::read_to_string(testdata("asqav/ok--gen-receipts.jsonl")).unwrap();
    let first = first.lines().next().unwrap();
    assert!(first.contains("\"agt_fixture_alpha\"") && first.contains("\"sig_fx000000\""));
    let mut out = Vec::new();
    for i in 0..n {
        let line = first
            .replace("\"agt_fixture_alpha\"", &format!("\"agt_{i:08}\""))
            .replace("\"sig_fx000000\"", &format!("\"sig_{i:08}\""));
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

/// [`one_receipt_agents`]`(n)`, then receipt `i` again (same receipt id) under another agent.
fn one_receipt_agents_replaying(n: usize, i: usize) -> Vec<u8> {
    let mut text = one_receipt_agents(n);
    let replay = String::from_utf8(one_receipt_agents(i + 1))
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .replace(&format!("\"agt_{i:08}\""), "\"agt_99999999\"");
    text.extend_from_slice(replay.as_bytes());
    text.push(b'\n');
    text
}

fn count_of(r: &Run, code: &str) -> u64 {
    r.json()["summary"]["findings_by_code"][code]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn chains_past_the_limit_are_counted_reported_and_never_verified() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "sessions.jsonl", &one_record_sessions(15));
    // Within the limit: verified, no limit finding.
    let r = verify_json(&p, &[], &["--max-chains", "15"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(count_of(&r, "limit.chains"), 0);
    assert_eq!(r.json()["summary"]["untracked_records"], 0);
    // Past it: the first ten chains are checked and listed, the other five records counted, and
    // the run is inconclusive, not verified.
    let r = verify_json(&p, &[], &["--max-chains", "10"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let j = r.json();
    assert_eq!(j["verdict"], "inconclusive");
    assert_eq!(j["chains"].as_array().unwrap().len(), 10);
    assert_eq!(j["summary"]["chains"], 10);
    assert_eq!(j["summary"]["records"], 10);
    assert_eq!(j["summary"]["untracked_records"], 5);
    assert_eq!(count_of(&r, "limit.chains"), 1);
    assert!(
        r.codes().contains(&("limit.chains".into(), 11)),
        "{:?}",
        r.codes()
    );
    let statement = j["statement"].as_str().unwrap();
    assert!(statement.contains("5 more records"), "{statement}");
    assert!(
        j["chains"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "verified"),
        "the tracked chains verify on their own"
    );
    // The other reports say so too.
    let human = run([
        "verify".as_ref(),
        p.as_os_str(),
        "--max-chains".as_ref(),
        "10".as_ref(),
    ]);
    assert_eq!(human.code, 3);
    assert!(human.stdout.starts_with("INCONCLUSIVE"), "{}", human.stdout);
    assert!(human.stdout.contains("limit.chains"), "{}", human.stdout);
    let junit = run([
        "verify".as_ref(),
        p.as_os_str(),
        "--max-chains".as_ref(),
        "10".as_ref(),
        "--format".as_ref(),
        "junit".as_ref(),
    ]);
    assert!(
        junit.stdout.contains("skipped=\"1\"") && junit.stdout.contains("limit.chains"),
        "{}",
        junit.stdout
    );
    // A record of a chain past the limit still has its own checks: one that is broken fails.
    let mut text = one_record_sessions(15);
    let broken = String::from_utf8(one_record_sessions(1))
        .unwrap()
        .replace("\"prev_hash\":null", "\"prev_hash\":\"zz\"")
        .replace("session-", "another-");
    text.extend_from_slice(broken.as_bytes());
    let p = write(dir.path(), "broken.jsonl", &text);
    let r = verify_json(&p, &[], &["--max-chains", "10"]);
    assert_failed_with(
        &r,
        "record.field_invalid",
        16,
        "broken record past the limit",
    );
    assert_eq!(r.json()["summary"]["untracked_records"], 6);
    // No chain at all is tracked with a limit of 0: nothing is verified.
    let r = verify_json(&p, &[], &["--max-chains", "0"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.json()["summary"]["chains"], 0);
}

#[test]
fn declared_profile_chains_past_the_limit_are_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "agents.jsonl", &one_receipt_agents(15));
    // Without the producer's keys the run is inconclusive anyway; the limit adds its finding.
    let r = verify_json(&p, &[], &["--max-chains", "15"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(count_of(&r, "limit.chains"), 0);
    assert_eq!(r.json()["summary"]["chains"], 15);
    let r = verify_json(&p, &[], &["--max-chains", "10"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let j = r.json();
    assert_eq!(j["profile"], "asqav");
    assert_eq!(j["chains"].as_array().unwrap().len(), 10);
    assert_eq!(j["summary"]["untracked_records"], 5);
    assert!(
        r.codes().contains(&("limit.chains".into(), 11)),
        "{:?}",
        r.codes()
    );
    // Export-wide checks still see every record: a receipt id repeated in a chain past the
    // limit fails.
    let p = write(
        dir.path(),
        "replayed.jsonl",
        &one_receipt_agents_replaying(15, 13),
    );
    let r = verify_json(&p, &[], &["--max-chains", "10"]);
    assert_failed_with(&r, "record.duplicate_id", 16, "repeated id past the limit");
}

#[test]
fn a_repeated_id_far_apart_is_found_through_the_ids_written_to_disk() {
    // 20,001 receipts: past the 16,384 ids held in memory, so the first ones go to the
    // temporary file and the repeat at the end is found only by the merge.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "replayed.jsonl",
        &one_receipt_agents_replaying(20_000, 5),
    );
    let r = verify_json(&p, &[], &["--max-chains", "10"]);
    assert_failed_with(
        &r,
        "record.duplicate_id",
        20_001,
        "id repeated 19,995 lines later",
    );
    assert_eq!(count_of(&r, "record.duplicate_id"), 1);
    assert_eq!(count_of(&r, "limit.record_ids"), 0);
    let j = r.json();
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "record.duplicate_id")
        .unwrap();
    assert_eq!(
        f["related"]["line"], 6,
        "points at the first record with the id"
    );
    assert_eq!(f["field"], "signature_id");
    assert!(
        f["message"].as_str().unwrap().contains("(line 6)"),
        "{}",
        f["message"]
    );
    // No writable temporary directory: the ids held in memory stay checked, the later ones
    // are not, and the report says so at the first of them instead of passing silently.
    let nowhere = dir.path().join("no-such-directory");
    let args = verify_args(&p, &[], &["--max-chains", "10"]);
    let r = common::run_env(&args, &[("TMPDIR", nowhere.to_str().unwrap())]);
    assert_eq!(count_of(&r, "record.duplicate_id"), 0, "{}", r.stdout);
    assert!(
        r.codes().contains(&("limit.record_ids".into(), 16_385)),
        "{:?}",
        r.codes()
    );
    let m = r.messages("limit.record_ids");
    assert!(
        m[0].contains("only the first 16384") && m[0].contains("could not be written"),
        "{m:?}"
    );
}

#[test]
fn an_export_of_many_more_chains_than_the_limit_stays_in_bounded_memory() {
    // 100,000 one-record sessions, 1,000 of them tracked: memory does not grow with the others
    // (tracked, they would take over 100 MiB, and the report listing them more).
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "many.jsonl", &one_record_sessions(100_000));
    let (r, rss) = run_measured(&verify_args(&p, &[], &["--max-chains", "1000"]));
    assert_eq!(r.code, 3, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["summary"]["chains"], 1000);
    assert_eq!(j["summary"]["untracked_records"], 99_000);
    assert_eq!(count_of(&r, "limit.chains"), 1);
    assert_rss_below(rss, 64, "100,000 sessions, 1,000 tracked");
}

#[test]
fn memory_per_chain_is_small_and_flat() {
    // Within the limit every chain is checked and listed: its state and its row of the report
    // cost about 1 KiB (they cost 17 KiB when the JSON report was built whole).
    let dir = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for n in [5_000, 25_000] {
        let p = write(dir.path(), "sessions.jsonl", &one_record_sessions(n));
        let (r, rss) = run_measured(&verify_args(&p, &[], &[]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.json()["summary"]["chains"], n);
        peaks.push(rss);
    }
    if let [Some(small), Some(large)] = peaks[..] {
        let per_chain = large.saturating_sub(small) as f64 / 20_000.0;
        eprintln!(
            "peak RSS {small} KiB for 5,000 chains, {large} KiB for 25,000: {per_chain:.2} KiB a chain"
        );
        assert!(per_chain < 2.5, "{per_chain:.2} KiB a chain");
    }
    assert_rss_below(peaks[1], 128, "25,000 sessions");
}

/// Sequence numbers, close records and leaf indexes at `u64::MAX`: the checks compare without
/// overflow (nothing follows `u64::MAX`), and the binary does not panic.
#[test]
fn numbers_at_u64_max_in_sequences_close_records_and_leaf_indexes_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let codes = |r: &Run| {
        r.assert_no_panic();
        r.codes()
    };

    // Record 2 of a session numbered u64::MAX, record 3 numbered 2: a regression, not a gap.
    let mut e = Export::load("aat/ok--gen-unsigned.jsonl");
    e.records[1]["sequence_number"] = serde_json::json!(u64::MAX);
    let r = verify_json(&e.write(dir.path(), "seq.jsonl"), &[], &[]);
    let found = codes(&r);
    assert!(
        found.contains(&("seq.regression".into(), 3)),
        "{found:?}\n{}",
        r.stdout
    );
    assert!(!found.contains(&("seq.gap".into(), 3)), "{found:?}");

    // A session without its genesis whose close record is numbered u64::MAX: record_count
    // cannot match it.
    let mut e = Export::load("aat/ok--gen-unsigned.jsonl");
    e.records.remove(0);
    let close = e.records.len() - 1;
    e.records[close]["sequence_number"] = serde_json::json!(u64::MAX);
    let r = verify_json(&e.write(dir.path(), "close.jsonl"), &[], &[]);
    let found = codes(&r);
    assert!(
        found.contains(&("session.count_mismatch".into(), close as u64 + 1)),
        "{found:?}\n{}",
        r.stdout
    );

    // A leaf_index of u64::MAX in an epoch that declares no tree_size.
    let mut e = Export::load("aat/ok--spec10-merkle.jsonl");
    for r in &mut e.records {
        r["batch"].as_object_mut().unwrap().remove("tree_size");
    }
    e.records[9]["batch"]["leaf_index"] = serde_json::json!(u64::MAX);
    let r = verify_json(&e.write(dir.path(), "leaf.jsonl"), &["spec.keys.json"], &[]);
    let found = codes(&r);
    assert!(
        found.contains(&("merkle.leaf_missing".into(), 10)),
        "{found:?}\n{}",
        r.stdout
    );
    let messages = r.messages("merkle.leaf_missing");
    assert!(
        messages[0].contains("of at least 18446744073709551616 leaves missing"),
        "{messages:?}"
    );
}
