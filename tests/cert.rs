//! Verification certificates: issue, re-verify (our code path and an independent DSSE check),
//! reject any altered byte, stay deterministic, merge shard certificates into the certificate of
//! the whole, and fail the merge at a broken shard boundary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use audit_verify::cert;
use audit_verify::crypto::default_provider;
use audit_verify::keys::KeyRing;
use common::{Export, chain_hash, run, testdata};
use serde_json::Value;

const NOW: &str = "2026-11-22T08:00:00Z";

fn keygen(dir: &Path, alg: &str) -> (PathBuf, PathBuf) {
    let r = run(["keygen", "--alg", alg, "--out"]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.display().to_string()]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tag = if alg == "es256" { "es256" } else { "ml-dsa-65" };
    (
        dir.join(format!("auditor-{tag}.key.pem")),
        dir.join(format!("auditor-{tag}.pub.pem")),
    )
}

fn issue(
    inputs: &[&Path],
    keys: &[&str],
    sign_key: &Path,
    out: &Path,
    extra: &[&str],
) -> common::Run {
    let mut args: Vec<String> = vec!["verify".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    for k in keys {
        args.push("--keys".into());
        args.push(testdata(&format!("keys/{k}")).display().to_string());
    }
    args.extend([
        "--certificate".into(),
        out.display().to_string(),
        "--sign-key".into(),
        sign_key.display().to_string(),
    ]);
    if !extra.contains(&"--now") {
        args.extend(["--now".into(), NOW.into()]);
    }
    args.extend(["--format".into(), "json".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    run(args)
}

fn cert_verify(cert: &Path, key: &Path, inputs: &[&Path]) -> common::Run {
    let mut args: Vec<String> = vec![
        "cert".into(),
        "verify".into(),
        cert.display().to_string(),
        "--key".into(),
        key.display().to_string(),
    ];
    if !inputs.is_empty() {
        args.push("--inputs".into());
        args.extend(inputs.iter().map(|p| p.display().to_string()));
    }
    args.extend(["--format".into(), "json".into()]);
    run(args)
}

fn statement(cert_file: &Path) -> Value {
    let env: Value = serde_json::from_slice(&std::fs::read(cert_file).unwrap()).unwrap();
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

/// A Python with `cryptography`, for the independent DSSE check: `$AUDIT_VERIFY_PYTHON`, else
/// `python3` if it can import it.
fn python() -> Option<String> {
    let candidates = std::env::var("AUDIT_VERIFY_PYTHON")
        .into_iter()
        .chain(["python3".to_string()]);
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import cryptography.hazmat.primitives.asymmetric.ec"])
            .output();
        if ok.is_ok_and(|o| o.status.success()) {
            return Some(py);
        }
    }
    eprintln!("!!! no Python with `cryptography`: the independent DSSE check is SKIPPED");
    None
}

fn independent_check(py: &str, cert_file: &Path, key: &Path) -> bool {
    Command::new(py)
        .arg(common::root().join("scripts/dsse_verify.py"))
        .arg(cert_file)
        .arg(key)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "es256");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let again = run(["keygen", "--alg", "es256", "--out"]
        .iter()
        .map(|s| s.to_string())
        .chain([dir.path().display().to_string()]));
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("refusing to overwrite"));
}

#[test]
fn a_certificate_verifies_here_and_independently_for_both_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let input = testdata("aat/ok--spec10.jsonl");
    for alg in ["es256", "ml-dsa-65"] {
        let (private, public) = keygen(dir.path(), alg);
        let out = dir.path().join(format!("{alg}.cert.json"));
        let r = issue(&[&input], &["spec.jwks.json"], &private, &out, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v = cert_verify(&out, &public, &[&input]);
        assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
        let report = v.json();
        assert_eq!(report["authentic"], true);
        assert_eq!(report["inputs_match"], true);
        let st = &report["statement"];
        assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(
            st["subject"][0]["digest"]["sha256"],
            "b4d7f4dcb361a0779776d8d4a5f035f51913ed28e038afd808141adfc6d76242"
        );
        let chain = &st["predicate"]["chains"][0];
        assert_eq!(chain["records"], 10);
        assert_eq!(chain["head"]["closed"], true);
        assert_eq!(chain["merkle"]["begin"], 0);
        assert_eq!(chain["merkle"]["end"], 10);
        // The head is H(last record), recomputed independently of the tool's code path.
        let last = Export::load("aat/ok--spec10.jsonl").records[9].clone();
        assert_eq!(chain["head"]["hash"], chain_hash(&last).as_str());
        if let Some(py) = python() {
            assert!(
                independent_check(&py, &out, &public),
                "the independent DSSE check rejects a good {alg} certificate"
            );
        }
    }
}

#[test]
fn flipping_any_byte_of_the_certificate_makes_it_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "es256");
    let out = dir.path().join("c.json");
    assert_eq!(
        issue(
            &[&testdata("aat/ok--spec10.jsonl")],
            &["spec.jwks.json"],
            &private,
            &out,
            &[]
        )
        .code,
        0
    );
    let good = std::fs::read(&out).unwrap();
    let ring = KeyRing::load(std::slice::from_ref(&public)).unwrap();
    assert!(cert::read_certificate(&out, &ring, default_provider()).is_ok());
    let tampered = dir.path().join("t.json");
    let py = python();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        std::fs::write(&tampered, &bad).unwrap();
        assert!(
            cert::read_certificate(&tampered, &ring, default_provider()).is_err(),
            "flipping byte {i} ({:?}) went unnoticed",
            good[i] as char
        );
        if let Some(py) = &py {
            if i % 97 == 0 {
                assert!(
                    !independent_check(py, &tampered, &public),
                    "independent check accepted a flip at {i}"
                );
            }
        }
    }
    // The binary reports an altered certificate with exit 1, and inputs that differ too.
    let mut bad = good.clone();
    let at = good.len() / 2;
    bad[at] ^= 0x01;
    std::fs::write(&tampered, &bad).unwrap();
    assert_eq!(cert_verify(&tampered, &public, &[]).code, 1);
    let other = testdata("aat/ok--mcp10.jsonl");
    let r = cert_verify(&out, &public, &[&other]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["inputs_match"], false);
    // Another auditor's key does not authenticate it.
    let (_, other_public) = keygen(&dir.path().join("other"), "es256");
    assert_eq!(cert_verify(&out, &other_public, &[]).code, 1);
}

#[test]
fn the_payload_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (private, _) = keygen(dir.path(), "es256");
    let input = testdata("aat/ok--gen-two-sessions.jsonl");
    let payload = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        assert_eq!(
            issue(&[&input], &["gen.jwks.json"], &private, &out, extra).code,
            0
        );
        let env: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
        env["payload"].as_str().unwrap().to_string()
    };
    assert_eq!(
        payload("a", &["--jobs", "1"]),
        payload("b", &["--jobs", "2"])
    );
    assert_ne!(
        payload("c", &[]),
        payload("d", &["--now", "2026-11-23T08:00:00Z"])
    );
}

/// An unsigned, numbered chain of `n` records (built with the test helpers, re-linked).
fn long_chain(n: usize) -> Export {
    let base = Export::load("aat/ok--gen-unsigned.jsonl");
    let mut records = Vec::with_capacity(n);
    for i in 0..n {
        let mut r = base.records[1].clone();
        r["record_id"] = Value::String(format!("00000000-0000-4000-8000-{i:012}"));
        r["sequence_number"] = Value::from(i as u64);
        r["timestamp"] = Value::String(format!(
            "2026-10-01T12:{:02}:{:02}.000Z",
            (i / 60) % 60,
            i % 60
        ));
        r["parent_record_id"] = if i == 0 {
            Value::Null
        } else {
            Value::String(format!("00000000-0000-4000-8000-{:012}", i - 1))
        };
        if i == 0 {
            r = base.records[0].clone();
            r["record_id"] = Value::String("00000000-0000-4000-8000-000000000000".into());
            r["timestamp"] = Value::String("2026-10-01T12:00:00.000Z".into());
        }
        records.push(r);
    }
    let mut e = Export { records };
    e.relink_after(0);
    e
}

fn shard_certs(dir: &Path, e: &Export, cuts: &[usize], private: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(e.records.len());
    for (k, w) in bounds.windows(2).enumerate() {
        let part = Export {
            records: e.records[w[0]..w[1]].to_vec(),
        };
        let file = part.write(dir, &format!("shard-{k}.jsonl"));
        let cert = dir.join(format!("shard-{k}.cert.json"));
        let r = issue(&[&file], &[], private, &cert, &[]);
        assert_eq!(r.code, 0, "shard {k}: {}", r.stdout);
        out.push(cert);
    }
    out
}

fn merge(certs: &[PathBuf], public: &Path, private: &Path, out: &Path) -> common::Run {
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(certs.iter().map(|c| c.display().to_string()));
    args.extend([
        "--key".into(),
        public.display().to_string(),
        "--certificate".into(),
        out.display().to_string(),
        "--sign-key".into(),
        private.display().to_string(),
        "--now".into(),
        NOW.into(),
    ]);
    run(args)
}

#[test]
fn merged_shard_certificates_equal_the_certificate_of_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("k"), "es256");
    let e = long_chain(1000);
    let whole_file = e.write(dir.path(), "whole.jsonl");
    let whole_cert = dir.path().join("whole.cert.json");
    assert_eq!(
        issue(&[&whole_file], &[], &private, &whole_cert, &[]).code,
        0
    );

    let shards = shard_certs(dir.path(), &e, &[250, 517, 731], &private);
    let merged = dir.path().join("merged.cert.json");
    let r = merge(&shards, &public, &private, &merged);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(cert_verify(&merged, &public, &[]).code, 0);

    let whole = statement(&whole_cert);
    let merged = statement(&merged);
    let (w, m) = (
        &whole["predicate"]["chains"][0],
        &merged["predicate"]["chains"][0],
    );
    for field in [
        "id",
        "records",
        "head",
        "merkle",
        "first_sequence",
        "last_sequence",
        "start",
        "verdict",
    ] {
        assert_eq!(w[field], m[field], "{field}");
    }
    assert_eq!(m["records"], 1000);
    assert!(m["merkle"]["root"].is_string());
    assert_eq!(merged["predicate"]["shards"].as_array().unwrap().len(), 4);
    assert_eq!(merged["subject"].as_array().unwrap().len(), 4);
    // Each shard alone saw an unanchored head or open tail; the merge settles both.
    assert_eq!(w["findings"], m["findings"]);
}

#[test]
fn a_broken_shard_boundary_fails_the_merge() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("k"), "es256");
    let e = long_chain(400);

    // A record missing at a boundary (the first of shard 2).
    let mut missing = e.clone();
    missing.records.remove(200);
    let certs = shard_certs(
        &dir.path().join("a").tap_mkdir(),
        &missing,
        &[100, 200, 300],
        &private,
    );
    let r = merge(&certs, &public, &private, &dir.path().join("m1.json"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("MERGE FAILED"));
    assert!(!dir.path().join("m1.json").exists());

    // An edited record at a boundary (the last of shard 1): its shard alone cannot see it.
    let mut edited = e.clone();
    edited.records[199]["outcome"] = Value::String("failure".into());
    let certs = shard_certs(
        &dir.path().join("b").tap_mkdir(),
        &edited,
        &[100, 200, 300],
        &private,
    );
    let r = merge(&certs, &public, &private, &dir.path().join("m2.json"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("prev_hash"));

    // Shards given out of order do not compose either.
    let certs = shard_certs(
        &dir.path().join("c").tap_mkdir(),
        &e,
        &[100, 200, 300],
        &private,
    );
    let r = merge(
        &[
            certs[0].clone(),
            certs[2].clone(),
            certs[1].clone(),
            certs[3].clone(),
        ],
        &public,
        &private,
        &dir.path().join("m3.json"),
    );
    assert_eq!(r.code, 1);
}

#[test]
fn a_shard_with_chains_past_the_limit_keeps_the_merge_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("k"), "es256");
    let e = long_chain(300);
    let mut certs = shard_certs(dir.path(), &e, &[150], &private);
    // The second shard again, with a record of another session that its limit of one chain
    // leaves unchecked: that shard is inconclusive although its one listed chain is not.
    let mut part = Export {
        records: e.records[150..].to_vec(),
    };
    let mut other = Export::load("aat/ok--gen-unsigned.jsonl").records[0].clone();
    other["session_id"] = Value::String("another-session".into());
    part.records.push(other);
    let file = part.write(dir.path(), "shard-1-more.jsonl");
    let cert = dir.path().join("shard-1-more.cert.json");
    let r = issue(&[&file], &[], &private, &cert, &["--max-chains", "1"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let shard = statement(&cert);
    assert_eq!(shard["predicate"]["verdict"], "inconclusive");
    assert_eq!(shard["predicate"]["chains"][0]["verdict"], "verified");
    certs[1] = cert;
    let merged = dir.path().join("merged.cert.json");
    let r = merge(&certs, &public, &private, &merged);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let merged = statement(&merged);
    assert_eq!(merged["predicate"]["chains"][0]["verdict"], "verified");
    assert_eq!(merged["predicate"]["verdict"], "inconclusive");
    assert_eq!(
        merged["predicate"]["summary"]["findings_by_code"]["limit.chains"],
        1
    );
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

fn verify_anchored(file: &Path, anchor: &Path, public: &Path, extra: &[&str]) -> common::Run {
    let mut args: Vec<String> = vec![
        "verify".into(),
        file.display().to_string(),
        "--anchor".into(),
        anchor.display().to_string(),
        "--anchor-key".into(),
        public.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(args)
}

#[test]
fn the_next_run_continues_from_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(&dir.path().join("k"), "es256");
    let e = long_chain(20);
    let day1 = Export {
        records: e.records[..10].to_vec(),
    }
    .write(dir.path(), "day1.jsonl");
    let cert1 = dir.path().join("day1.cert.json");
    assert_eq!(issue(&[&day1], &[], &private, &cert1, &[]).code, 0);

    // Only the new records: they continue the certified head.
    let day2 = Export {
        records: e.records[10..].to_vec(),
    }
    .write(dir.path(), "day2.jsonl");
    let cert2 = dir.path().join("day2.cert.json");
    let r = verify_anchored(
        &day2,
        &cert1,
        &public,
        &[
            "--certificate",
            &cert2.display().to_string(),
            "--sign-key",
            &private.display().to_string(),
            "--now",
            NOW,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let chain = &r.json()["chains"][0];
    assert_eq!(chain["guarantees"]["head"]["status"], "established");
    assert!(
        chain["guarantees"]["head"]["detail"]
            .as_str()
            .unwrap()
            .contains("continues")
    );
    assert!(!r.codes().iter().any(|(c, _)| c == "chain.head_unanchored"));
    // The incremental certificate's Merkle state is that of the whole chain.
    let whole = e.write(dir.path(), "whole.jsonl");
    let whole_cert = dir.path().join("whole.cert.json");
    assert_eq!(issue(&[&whole], &[], &private, &whole_cert, &[]).code, 0);
    assert_eq!(
        statement(&cert2)["predicate"]["chains"][0]["merkle"],
        statement(&whole_cert)["predicate"]["chains"][0]["merkle"]
    );

    // The whole export again: the record at the certified position is the certified head.
    let r = verify_anchored(&whole, &cert1, &public, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // History rewritten before the certified head (an unsigned chain re-linked): caught.
    let mut rewritten = e.clone();
    rewritten.records[4]["outcome"] = Value::String("failure".into());
    rewritten.relink_after(4);
    let path = rewritten.write(dir.path(), "rewritten.jsonl");
    let plain = run([
        "verify".to_string(),
        path.display().to_string(),
        "--format".into(),
        "json".into(),
    ]);
    assert_eq!(
        plain.verdict(),
        "verified",
        "without the anchor the re-linked rewrite is undetectable"
    );
    let r = verify_anchored(&path, &cert1, &public, &[]);
    assert_eq!(r.verdict(), "failed");
    assert!(
        r.errors().contains(&("anchor.mismatch".into(), 10)),
        "{:?}",
        r.errors()
    );

    // A record missing between the certificate and the new export.
    let gap = Export {
        records: e.records[11..].to_vec(),
    }
    .write(dir.path(), "gap.jsonl");
    let r = verify_anchored(&gap, &cert1, &public, &[]);
    assert_eq!(r.verdict(), "failed");
    assert!(
        r.errors()
            .iter()
            .any(|(c, l)| c == "anchor.mismatch" && *l == 1),
        "{:?}",
        r.errors()
    );

    // Certified records gone: the export ends before the certified head.
    let short = Export {
        records: e.records[..6].to_vec(),
    }
    .write(dir.path(), "short.jsonl");
    let r = verify_anchored(&short, &cert1, &public, &[]);
    assert_eq!(r.verdict(), "failed");
    assert!(
        r.errors().iter().any(|(c, _)| c == "anchor.truncated"),
        "{:?}",
        r.errors()
    );

    // An altered anchor certificate is refused before anything is trusted.
    let mut bytes = std::fs::read(&cert1).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 0x01;
    let bad = dir.path().join("bad.cert.json");
    std::fs::write(&bad, bytes).unwrap();
    assert_eq!(verify_anchored(&day2, &bad, &public, &[]).code, 2);
}

// ---- regressions found by fuzzing ----

#[test]
fn a_signed_certificate_whose_hashes_are_not_ascii_is_shown_not_a_panic() {
    // See: fuzz target `cert` (the table cut the head hash at byte 16, inside a BOM).
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keygen(dir.path(), "es256");
    let good = dir.path().join("good.cert.json");
    let input = testdata("aat/ok--spec10.jsonl");
    let r = issue(&[&input], &["spec.jwks.json"], &private, &good, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut st = statement(&good);
    let chain = &mut st["predicate"]["chains"][0];
    chain["head"]["hash"] = "2f7cd8b6d-b6-4\u{feff}ef3-984e".into();
    chain["merkle"]["root"] = "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{1f600}xyz".into();
    let payload = serde_json::to_vec(&st).unwrap();
    let key = cert::SigningKey::load(&private).unwrap();
    let sig = key.sign(&cert::pae(cert::PAYLOAD_TYPE, &payload)).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope = serde_json::json!({
        "payloadType": cert::PAYLOAD_TYPE,
        "payload": b64.encode(&payload),
        "signatures": [{"keyid": key.keyid(), "sig": b64.encode(sig)}],
    });
    let odd = dir.path().join("odd.cert.json");
    std::fs::write(&odd, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let v = run([
        "cert".as_ref(),
        "verify".as_ref(),
        odd.as_os_str(),
        "--key".as_ref(),
        public.as_os_str(),
    ]);
    assert!(!v.stderr.contains("panicked"), "{}", v.stderr);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    // The table may wrap a cell, so each hash is looked for up to its 16th character.
    assert!(v.stdout.contains("2f7cd8b6d-b6-4\u{feff}"), "{}", v.stdout);
    assert!(
        v.stdout.contains("\u{e9}\u{1f600}xyz\u{2026}"),
        "{}",
        v.stdout
    );
}
