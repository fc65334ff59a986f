//! Shared test helpers: fixture lookup, running the real binary, and an `Export` that can be
//! mutated record by record (edit, re-link, re-sign) and written to a temporary file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use audit_verify::canon::{jcs, json};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// The third-party vectors folder, or `None` (with a loud note) when it is absent.
pub fn vectors() -> Option<PathBuf> {
    let dir = std::env::var_os("AUDIT_VERIFY_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/vectors"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "!!! conformance vectors not found at {}: SKIPPED (set AUDIT_VERIFY_VECTORS)",
            dir.display()
        );
        None
    }
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON report.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// `(code, line)` of every finding of severity error, in report order.
    pub fn errors(&self) -> Vec<(String, u64)> {
        self.by_severity("error")
    }

    /// `(code, line)` of every finding of a severity.
    pub fn by_severity(&self, severity: &str) -> Vec<(String, u64)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == severity)
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    /// Every finding code with its line.
    pub fn codes(&self) -> Vec<(String, u64)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    /// The messages of the findings with this code, in report order.
    pub fn messages(&self, code: &str) -> Vec<String> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    }

    /// The verdict string.
    pub fn verdict(&self) -> String {
        self.json()["verdict"].as_str().unwrap().to_string()
    }

    /// No panic happened.
    pub fn assert_no_panic(&self) {
        assert_ne!(self.code, 101, "the binary panicked:\n{}", self.stderr);
        assert!(
            !self.stderr.contains("panicked at"),
            "panic message on stderr:\n{}",
            self.stderr
        );
    }
}

/// Runs the binary with arguments.
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_env(args, &[])
}

/// Runs the binary with arguments and environment variables.
#[allow(dead_code)]
pub fn run_env<I, S>(args: I, vars: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_audit-verify"))
        .args(args)
        .env_remove("NO_COLOR")
        .env("COLUMNS", "100")
        .envs(vars.iter().copied())
        .output()
        .expect("run the binary");
    finished(&out)
}

/// The run of a finished binary, checked for panics.
fn finished(out: &std::process::Output) -> Run {
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    run.assert_no_panic();
    run
}

/// Runs the binary with arguments and `input` on its standard input.
#[allow(dead_code)]
pub fn run_stdin<I, S>(args: I, input: &[u8]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-verify"))
        .args(args)
        .env_remove("NO_COLOR")
        .env("COLUMNS", "100")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the binary");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may stop reading early (an error): a broken pipe is not the test's concern.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for the binary");
    writer.join().expect("stdin writer");
    finished(&out)
}

/// Runs `verify --format json` on a file with key files from `testdata/keys`.
pub fn verify_json(file: &Path, keys: &[&str], extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "verify".into(),
        file.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    for k in keys {
        args.push("--keys".into());
        args.push(testdata(&format!("keys/{k}")).display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    run(args)
}

/// An export held as parsed records (member order preserved).
#[derive(Clone)]
pub struct Export {
    pub records: Vec<Value>,
}

impl Export {
    /// Loads a JSONL fixture from `testdata/`.
    pub fn load(rel: &str) -> Export {
        let text = std::fs::read_to_string(testdata(rel)).unwrap();
        Export {
            records: text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        }
    }

    /// Writes it as JSONL (compact lines) into `dir` and returns the path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let mut s = String::new();
        for r in &self.records {
            s.push_str(&serde_json::to_string(r).unwrap());
            s.push('\n');
        }
        let path = dir.join(name);
        std::fs::write(&path, s).unwrap();
        path
    }

    /// Recomputes `prev_hash` of every record of `rec`'s session after it, and the close
    /// record's `session_hash`: what a forger without keys can do.
    pub fn relink_after(&mut self, index: usize) {
        let session = self.records[index]["session_id"].clone();
        let mut prev = chain_hash(&self.records[index]);
        for r in self.records.iter_mut().skip(index + 1) {
            if r["session_id"] != session {
                continue;
            }
            r["prev_hash"] = Value::String(prev.clone());
            prev = chain_hash(r);
        }
        self.fix_session_hash(&session);
    }

    /// Recomputes the close record's `session_hash` and `record_count` for a session.
    pub fn fix_session_hash(&mut self, session: &Value) {
        let mut acc = Sha256::new();
        let mut count = 0u64;
        for r in self
            .records
            .iter_mut()
            .filter(|r| r["session_id"] == *session)
        {
            count += 1;
            if let Some(h) = r["prev_hash"].as_str() {
                acc.update(hex::decode(h).unwrap());
            }
            if r["action_detail"]["event"] == "session_end" {
                let digest: [u8; 32] = acc.clone().finalize().into();
                r["action_detail"]["session_hash"] = Value::String(hex::encode(digest));
                r["action_detail"]["record_count"] = Value::from(count);
            }
        }
    }

    /// Re-signs one record with ES256 under `key_pem` (a test-only PKCS#8 file), keeping or
    /// replacing `signer_kid`.
    pub fn resign_es256(&mut self, index: usize, key_pem: &str, kid: Option<&str>) {
        use p256::ecdsa::signature::Signer;
        use p256::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string(testdata(&format!("keys/test-only/{key_pem}"))).unwrap();
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
        let r = &mut self.records[index];
        r["sig_alg"] = Value::String("ES256".into());
        if let Some(kid) = kid {
            r["signer_kid"] = Value::String(kid.into());
        }
        let m = canonical(r, &["signature", "signature_classical", "batch"]);
        let sig: p256::ecdsa::Signature = key.sign(&m);
        let sig = sig.normalize_s();
        r["signature"] = Value::String(URL_SAFE_NO_PAD.encode(sig.to_bytes()));
    }
}

/// JCS of a record without the named members, via the library's canonicalizer.
pub fn canonical(record: &Value, exclude: &[&str]) -> Vec<u8> {
    let bytes = serde_json::to_vec(record).unwrap();
    let parsed = json::parse(&bytes, &json::Limits::default()).unwrap();
    let members = parsed.as_object().unwrap();
    let mut out = Vec::new();
    jcs::write_jcs_object_excluding(members, exclude, &mut out).unwrap();
    out
}

/// The RFC 6962 leaf hash of a record: `SHA-256(0x00 ‖ JCS(record without batch))` (AAT §6.4).
pub fn leaf(record: &Value) -> [u8; 32] {
    audit_verify::merkle::leaf_hash(&canonical(record, &["batch"]))
}

/// `H(record)` as lowercase hex (AAT §5).
pub fn chain_hash(record: &Value) -> String {
    hex::encode(Sha256::digest(canonical(record, &["batch"])))
}

/// Decodes a base64url field.
pub fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// Encodes base64url without padding.
pub fn unb64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// A fixture of `testdata/aat` with its `.expect` sidecar.
pub struct Fixture {
    pub path: PathBuf,
    pub keys: Vec<String>,
    pub verdict: String,
    /// `(code, line)` of error and warning findings.
    pub findings: Vec<(String, u64)>,
}

impl Fixture {
    /// The key file names as `&str`.
    pub fn keys(&self) -> Vec<&str> {
        self.keys.iter().map(String::as_str).collect()
    }
}

/// Every `testdata/aat/*.jsonl` with its sidecar, in name order.
pub fn aat_fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(testdata("aat"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
    {
        let text = std::fs::read_to_string(path.with_extension("expect"))
            .unwrap_or_else(|_| panic!("{} has no .expect sidecar", path.display()));
        let fields: std::collections::BTreeMap<&str, &str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        out.push(Fixture {
            keys: fields["keys"]
                .split_whitespace()
                .map(String::from)
                .collect(),
            verdict: fields["verdict"].to_string(),
            findings: fields["findings"]
                .split_whitespace()
                .map(|f| {
                    let (c, l) = f.split_once('@').unwrap();
                    (c.to_string(), l.parse().unwrap())
                })
                .collect(),
            path,
        });
    }
    assert!(out.len() >= 14, "only {} fixtures", out.len());
    out
}

/// Every fixture of every producer folder (`aat`, `asqav`, `agt`, `agent-receipts`) with the
/// command-line arguments its sidecar asks for (keys, HMAC secret, profile).
pub fn all_fixtures() -> Vec<(PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    for dir in ["aat", "asqav", "agt", "agent-receipts"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(testdata(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| {
            p.extension().is_some_and(|e| e == "jsonl" || e == "json")
                && p.file_name().is_some_and(|n| {
                    n.to_string_lossy().starts_with("ok--")
                        || n.to_string_lossy().starts_with("fail--")
                })
        }) {
            let text = std::fs::read_to_string(path.with_extension("expect")).unwrap();
            let mut args = Vec::new();
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                let v = v.trim();
                match k.trim() {
                    "keys" => {
                        for key in v.split_whitespace() {
                            args.push("--keys".to_string());
                            args.push(testdata(&format!("keys/{key}")).display().to_string());
                        }
                    }
                    "hmac" => {
                        args.push("--hmac-key-file".into());
                        args.push(testdata(&format!("keys/{v}")).display().to_string());
                    }
                    "profile" => {
                        args.push("--profile".into());
                        let local = testdata(v);
                        args.push(if local.is_file() {
                            local.display().to_string()
                        } else {
                            v.to_string()
                        });
                    }
                    _ => {}
                }
            }
            out.push((path, args));
        }
    }
    assert!(out.len() >= 23, "only {} fixtures", out.len());
    out
}
