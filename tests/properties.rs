//! Property tests (proptest): RFC 8785 canonicalization over generated JSON, tamper detection on a
//! signed chain through the library's `verify::verify`, agreement of the two crypto providers on
//! genuine and mutated signatures, and RFC 9162 proofs and compact ranges built by us.
//!
//! Case counts are moderate so that `cargo test` stays fast; the seed is fixed so that a run is
//! reproducible (and CI deterministic). Nothing is persisted to disk on failure: the failing
//! input is printed instead.

mod common;

use std::path::{Path, PathBuf};

use audit_verify::canon::jcs::{write_jcs, write_jcs_object_excluding};
use audit_verify::canon::json::{Limits, Value, parse};
use audit_verify::checkpoint::note;
use audit_verify::compact::CompactRange;
use audit_verify::config::VerifyConfig;
use audit_verify::crypto::{self, KeyAlg, PublicKey, Signature};
use audit_verify::keys::KeyRing;
use audit_verify::merkle::{
    Hash, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
};
use audit_verify::report::Verdict;
use audit_verify::verify::{NoProgress, verify};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::testdata;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::Value as Sj;
use sha2::{Digest as _, Sha256};

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x00a0_d17e),
        ..Config::default()
    }
}

// ---- JSON generation and rendering ----

/// 2^53: integers at or beyond it, and doubles in [2^53, 1e21) (which print as such integers),
/// are outside the domain our JCS accepts (docs/canonicalization.md).
const TWO_53: f64 = 9_007_199_254_740_992.0;

fn json_number() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(serde_json::Number::from),
        any::<f64>()
            .prop_filter("inside the JCS domain", |f| {
                f.is_finite() && !(f.abs() >= TWO_53 && f.abs() < 1e21)
            })
            .prop_map(|f| serde_json::Number::from_f64(f).expect("finite")),
    ]
}

/// JSON values inside the JCS domain: any Unicode strings and names (control characters
/// included), unique names per object, numbers as above.
fn json_value() -> impl Strategy<Value = Sj> {
    let leaf = prop_oneof![
        Just(Sj::Null),
        any::<bool>().prop_map(Sj::Bool),
        json_number().prop_map(Sj::Number),
        any::<String>().prop_map(Sj::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Sj::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Sj::Object(m.into_iter().collect())),
        ]
    })
}

/// How a value is spelled: whitespace between tokens, member order, escapes, number forms.
struct Style {
    seed: u64,
    /// Line breaks allowed as whitespace (not inside a JSONL line).
    newlines: bool,
    /// Numbers may be respelled (`5` as `5.0`, `5e0`): not for records, whose profile tells
    /// integer tokens from others.
    numbers: bool,
}

impl Style {
    fn rnd(&mut self, n: u64) -> u64 {
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.seed >> 33) % n
    }

    fn ws(&mut self, out: &mut String) {
        let set: &[char] = if self.newlines {
            &[' ', '\t', '\n', '\r']
        } else {
            &[' ', '\t']
        };
        for _ in 0..self.rnd(4).saturating_sub(1) {
            out.push(set[self.rnd(set.len() as u64) as usize]);
        }
    }

    fn hex4(&mut self, unit: u16, out: &mut String) {
        let s = format!("{unit:04x}");
        out.push_str("\\u");
        out.push_str(&if self.rnd(2) == 0 {
            s
        } else {
            s.to_uppercase()
        });
    }

    fn string(&mut self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            let must = c == '"' || c == '\\' || (c as u32) < 0x20;
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '/' => Some("\\/"),
                _ => None,
            };
            match self.rnd(4) {
                0 => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        self.hex4(*u, out);
                    }
                }
                1 if short.is_some() => out.push_str(short.unwrap_or_default()),
                _ if must => match short {
                    Some(e) => out.push_str(e),
                    None => self.hex4(c as u16, out),
                },
                _ => out.push(c),
            }
        }
        out.push('"');
    }

    fn number(&mut self, n: &serde_json::Number, out: &mut String) {
        let plain = n.to_string();
        if !self.numbers {
            out.push_str(&plain);
            return;
        }
        let f = n.as_f64().expect("a number");
        match self.rnd(3) {
            0 => out.push_str(&plain),
            1 => out.push_str(&format!("{f:e}")),
            _ => out.push_str(&format!("{:E}", f).replace("E", "E+").replace("E+-", "E-")),
        }
    }

    fn value(&mut self, v: &Sj, out: &mut String) {
        match v {
            Sj::Null => out.push_str("null"),
            Sj::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Sj::Number(n) => self.number(n, out),
            Sj::String(s) => self.string(s, out),
            Sj::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    self.ws(out);
                    if i > 0 {
                        out.push(',');
                        self.ws(out);
                    }
                    self.value(item, out);
                }
                self.ws(out);
                out.push(']');
            }
            Sj::Object(members) => {
                let mut order: Vec<(&String, &Sj)> = members.iter().collect();
                for i in (1..order.len()).rev() {
                    let j = self.rnd(i as u64 + 1) as usize;
                    order.swap(i, j);
                }
                out.push('{');
                for (i, (k, v)) in order.into_iter().enumerate() {
                    self.ws(out);
                    if i > 0 {
                        out.push(',');
                        self.ws(out);
                    }
                    self.string(k, out);
                    self.ws(out);
                    out.push(':');
                    self.ws(out);
                    self.value(v, out);
                }
                self.ws(out);
                out.push('}');
            }
        }
    }

    fn render(&mut self, v: &Sj) -> String {
        let mut out = String::new();
        self.ws(&mut out);
        self.value(v, &mut out);
        self.ws(&mut out);
        out
    }
}

fn canon(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_jcs(v, &mut out).expect("inside the JCS domain");
    out
}

/// Whether our parsed value is the generated one (numbers as doubles, members as a map).
fn same(expected: &Sj, got: &Value) -> bool {
    match (expected, got) {
        (Sj::Null, Value::Null) => true,
        (Sj::Bool(a), Value::Bool(b)) => a == b,
        (Sj::Number(a), Value::Number(b)) => a.as_f64() == Some(b.as_f64()),
        (Sj::String(a), Value::String(b)) => a == b,
        (Sj::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Sj::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.iter().any(|m| &m.key == k && same(v, &m.value)))
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// canon is idempotent, parse(canon(x)) = x, and two spellings of x (whitespace, member
    /// order, escapes, number forms) have one canonical form.
    #[test]
    fn canonicalization_is_idempotent_and_loses_nothing(
        v in json_value(), seed_a in any::<u64>(), seed_b in any::<u64>()
    ) {
        let a = Style { seed: seed_a, newlines: true, numbers: true }.render(&v);
        let b = Style { seed: seed_b, newlines: true, numbers: true }.render(&v);
        let pa = parse(a.as_bytes(), &Limits::default()).expect("our rendering parses");
        let pb = parse(b.as_bytes(), &Limits::default()).expect("our rendering parses");
        prop_assert!(same(&v, &pa), "parse(render(x)) != x for {a}");
        let ca = canon(&pa);
        prop_assert_eq!(&ca, &canon(&pb), "{} vs {}", a, b);
        let back = parse(&ca, &Limits::default()).expect("canonical bytes parse");
        prop_assert!(same(&v, &back), "parse(canon(x)) != x: {}", String::from_utf8_lossy(&ca));
        prop_assert_eq!(canon(&back), ca);
    }

    /// Leaving members out while canonicalizing equals canonicalizing without them.
    #[test]
    fn canonicalizing_without_members_equals_removing_them(
        members in prop::collection::btree_map(any::<String>(), json_value(), 0..8),
        pick in any::<u64>(),
    ) {
        let names: Vec<&String> = members.keys().collect();
        let excluded: Vec<&str> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| pick >> (i % 64) & 1 == 1)
            .map(|(_, k)| k.as_str())
            .collect();
        let whole = Sj::Object(members.clone().into_iter().collect());
        let kept = Sj::Object(
            members
                .iter()
                .filter(|(k, _)| !excluded.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        let text = Style { seed: pick, newlines: false, numbers: true }.render(&whole);
        let parsed = parse(text.as_bytes(), &Limits::default()).expect("parses");
        let mut direct = Vec::new();
        write_jcs_object_excluding(parsed.as_object().expect("object"), &excluded, &mut direct)
            .expect("in domain");
        let kept_text = Style { seed: !pick, newlines: false, numbers: true }.render(&kept);
        let kept_parsed = parse(kept_text.as_bytes(), &Limits::default()).expect("parses");
        prop_assert_eq!(direct, canon(&kept_parsed));
    }
}

// ---- a signed chain: tampering is detected, respelling is not a finding ----

const CHAIN: &str = "aat/ok--gen-es256-seq.jsonl";

fn chain_records() -> Vec<Sj> {
    std::fs::read_to_string(testdata(CHAIN))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Verifies `lines` (one record each) with the fixture's keys through the library.
fn try_verify_lines(
    dir: &Path,
    lines: &[String],
) -> Result<audit_verify::Report, audit_verify::Error> {
    let path: PathBuf = dir.join("chain.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let mut config = VerifyConfig::new(vec![path], vec![testdata("keys/gen.jwks.json")]);
    config.jobs = Some(1);
    verify(&config, &NoProgress)
}

fn verify_lines(dir: &Path, lines: &[String]) -> audit_verify::Report {
    try_verify_lines(dir, lines).expect("the export can be verified")
}

fn codes(r: &audit_verify::Report) -> Vec<(String, u64)> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.code.as_str().to_string(),
                f.at.as_ref().map_or(0, |a| a.line),
            )
        })
        .collect()
}

/// Every place in a value: `(path of member names and indexes)`.
fn places(v: &Sj, path: &mut Vec<Sj>, out: &mut Vec<Vec<Sj>>) {
    match v {
        Sj::Object(m) => {
            for (k, child) in m {
                path.push(Sj::String(k.clone()));
                out.push(path.clone());
                places(child, path, out);
                path.pop();
            }
        }
        Sj::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Sj::from(i));
                out.push(path.clone());
                places(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Sj, path: &[Sj]) -> &'a mut Sj {
    path.iter().fold(v, |v, step| match step {
        Sj::String(k) => &mut v[k.as_str()],
        Sj::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

/// Changes the canonical content at `path`: the value, or the member itself.
fn mutate(record: &mut Sj, path: &[Sj], kind: u8) -> String {
    let (last, parent_path) = path.split_last().unwrap();
    if let (Sj::String(name), 1) = (last, kind % 4) {
        let parent = at_mut(record, parent_path).as_object_mut().unwrap();
        let v = parent.shift_remove(name).unwrap();
        if kind % 8 == 1 {
            return format!("removed {name}");
        }
        parent.insert(format!("{name}_"), v);
        return format!("renamed {name}");
    }
    if kind % 4 == 2 {
        let target = at_mut(record, parent_path);
        if let Some(obj) = target.as_object_mut() {
            obj.insert("added_member".into(), Sj::from(1));
            return "added a member".into();
        }
        if let Some(arr) = target.as_array_mut() {
            arr.push(Sj::Null);
            return "added an element".into();
        }
    }
    let v = at_mut(record, path);
    let was = v.to_string();
    *v = match v.take() {
        Sj::Null => Sj::from(0),
        Sj::Bool(b) => Sj::Bool(!b),
        Sj::Number(n) => match n.as_i64() {
            Some(i) => Sj::from(i + 1),
            None => Sj::from(n.as_f64().unwrap_or(0.0) * 2.0 + 1.0),
        },
        Sj::String(s) if kind % 2 == 0 => Sj::String(format!("{s}x")),
        Sj::String(s) => Sj::String(s.chars().skip(1).collect()),
        Sj::Array(_) | Sj::Object(_) => Sj::Null,
    };
    format!("{was} -> {v}")
}

proptest! {
    #![proptest_config(config(48))]

    /// Any change to the canonical content of any record is detected: the run fails. Two
    /// exceptions are still never a pass: a changed `signer_kid` on the last record names no
    /// supplied key and no later record links to it, so it is inconclusive (an unknown key is
    /// not a bad signature); and a first record stripped of what makes it an AAT record stops
    /// the run with an error.
    #[test]
    fn any_change_to_a_signed_record_fails_the_run(
        index in 0usize..12, pick in any::<usize>(), kind in any::<u8>()
    ) {
        let records = chain_records();
        let mut record = records[index].clone();
        let mut all = Vec::new();
        places(&record, &mut Vec::new(), &mut all);
        let path = &all[pick % all.len()];
        let what = mutate(&mut record, path, kind);
        prop_assume!(record != records[index]);
        let mut lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
        lines[index] = record.to_string();
        let dir = tempfile::tempdir().unwrap();
        let report = match try_verify_lines(dir.path(), &lines) {
            Ok(r) => r,
            // Without record_id, session_id or prev_hash the first record is no AAT record:
            // the run stops with an error (exit 2), which is not a pass either.
            Err(audit_verify::Error::Unrecognised { .. }) if index == 0 => return Ok(()),
            Err(e) => panic!("record {index} {path:?}: {what}: {e}"),
        };
        let verdict = report.verdict();
        prop_assert_ne!(verdict, Verdict::Verified, "record {} {:?}: {}", index, path, what);
        let unverifiable_last = index == 11
            && path.first() == Some(&Sj::String("signer_kid".into()));
        if !unverifiable_last {
            prop_assert_eq!(
                verdict, Verdict::Failed,
                "record {} {:?}: {}: {:?}", index, path, what, codes(&report)
            );
        }
    }

    /// Whitespace between tokens, member order and escape spelling are removed by
    /// canonicalization: no finding changes.
    #[test]
    fn respelling_a_signed_record_is_not_a_finding(index in 0usize..12, seed in any::<u64>()) {
        let records = chain_records();
        let lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
        let dir = tempfile::tempdir().unwrap();
        let baseline = codes(&verify_lines(dir.path(), &lines));
        let mut respelled = lines.clone();
        respelled[index] =
            Style { seed, newlines: false, numbers: false }.render(&records[index]);
        prop_assume!(respelled[index] != lines[index]);
        let report = verify_lines(dir.path(), &respelled);
        prop_assert_eq!(report.verdict(), Verdict::Verified, "{}", respelled[index]);
        prop_assert_eq!(codes(&report), baseline, "{}", respelled[index]);
    }
}

// ---- the two crypto providers agree ----

type Triple = (PublicKey, &'static str, Vec<u8>, Vec<u8>);

static TRIPLES: std::sync::LazyLock<Vec<Triple>> = std::sync::LazyLock::new(genuine_triples);

/// A genuine (key, signature, message) triple of each algorithm, from the fixtures.
fn genuine_triples() -> Vec<Triple> {
    let ring = KeyRing::load(&[
        testdata("keys/gen.jwks.json"),
        testdata("keys/gen-mldsa-akp.jwks.json"),
    ])
    .unwrap();
    let mut out = Vec::new();
    for (file, alg) in [
        ("aat/ok--gen-es256-seq.jsonl", "ES256"),
        ("aat/ok--gen-mldsa.jsonl", "ML-DSA-65"),
    ] {
        let line = std::fs::read_to_string(testdata(file)).unwrap();
        let line = line.lines().nth(1).unwrap();
        let v = parse(line.as_bytes(), &Limits::default()).unwrap();
        let mut m = Vec::new();
        write_jcs_object_excluding(
            v.as_object().unwrap(),
            &["signature", "signature_classical", "batch"],
            &mut m,
        )
        .unwrap();
        let msg = if alg == "ES256" {
            m
        } else {
            Sha256::digest(&m).to_vec()
        };
        let sig = URL_SAFE_NO_PAD
            .decode(v.get("signature").unwrap().as_str().unwrap())
            .unwrap();
        let kid = v.get("signer_kid").unwrap().as_str().unwrap();
        let key = ring.find(kid).unwrap().0.public.clone();
        out.push((key, alg, sig, msg));
    }
    // Ed25519: the log's signature on the fixture checkpoint note.
    let text = std::fs::read_to_string(testdata("checkpoints/gen-es256-seq.checkpoint")).unwrap();
    let signed = note::parse_note(&text).unwrap();
    let vkey = std::fs::read_to_string(testdata("checkpoints/test-log.vkey")).unwrap();
    let key = note::parse_vkey(vkey.trim()).unwrap();
    let s = signed
        .signatures
        .iter()
        .find(|s| s.name == key.name && s.id == key.id)
        .unwrap();
    out.push((key.key, "Ed25519", s.sig.clone(), signed.text.into_bytes()));
    out
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` of a P1363 signature.
fn der(p1363: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let mut v: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
        if v.first().is_none_or(|&x| x & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let body = [int(&p1363[..32]), int(&p1363[32..])].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

fn verdicts(key: &PublicKey, alg: &str, sig: &[u8], msg: &[u8], as_der: bool) -> Vec<bool> {
    crypto::all_providers()
        .into_iter()
        .map(|p| {
            let prepared = p.prepare(key).expect("a checked key");
            let form = match (alg, as_der) {
                ("ES256", false) => Signature::EcdsaP1363(sig),
                ("ES256", true) => Signature::EcdsaDer(sig),
                ("Ed25519", _) => Signature::Ed25519(sig),
                _ => Signature::MlDsa65 { sig, ctx: b"" },
            };
            prepared.verify(form, msg)
        })
        .collect()
}

proptest! {
    #![proptest_config(config(64))]

    /// Genuine signatures verify under both providers; mutated signatures, messages and
    /// encodings get the same answer from both.
    #[test]
    fn both_providers_agree_on_mutated_signatures(
        which in 0usize..3,
        as_der in any::<bool>(),
        flips in prop::collection::vec((any::<usize>(), 0u8..8, any::<bool>()), 0..4),
        cut in prop::option::of(any::<usize>()),
        extra in prop::collection::vec(any::<u8>(), 0..3),
    ) {
        let (key, alg, sig, msg) = &TRIPLES[which];
        let as_der = as_der && *alg == "ES256";
        let mut sig = if as_der { der(sig) } else { sig.clone() };
        let mut msg = msg.clone();
        prop_assert_eq!(verdicts(key, alg, &sig, &msg, as_der), vec![true; 2]);
        for (at, bit, in_msg) in &flips {
            let target = if *in_msg { &mut msg } else { &mut sig };
            let n = target.len();
            target[at % n] ^= 1 << bit;
        }
        if let Some(c) = cut {
            sig.truncate(c % (sig.len() + 1));
        }
        sig.extend(&extra);
        let v = verdicts(key, alg, &sig, &msg, as_der);
        prop_assert!(v.windows(2).all(|w| w[0] == w[1]), "{} disagree: {:?}", alg, v);
    }

    /// Random signatures and keys: both providers refuse or accept a key alike, and no random
    /// signature verifies.
    #[test]
    fn both_providers_agree_on_random_input(
        alg in 0usize..3,
        key_bytes in prop::collection::vec(any::<u8>(), 0..70),
        sig in prop::collection::vec(any::<u8>(), 0..100),
        msg in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let (alg, name) = [(KeyAlg::P256, "ES256"), (KeyAlg::Ed25519, "Ed25519"), (KeyAlg::P256, "ES256")][alg];
        let mut key_bytes = key_bytes;
        if name == "ES256" && !key_bytes.is_empty() {
            key_bytes[0] = 0x02 | (key_bytes[0] & 1);
            key_bytes.resize(33, 7);
        } else if name == "Ed25519" {
            key_bytes.resize(32, 7);
        }
        let Ok(key) = PublicKey::new(alg, key_bytes) else { return Ok(()); };
        for p in crypto::all_providers() {
            prop_assert!(p.prepare(&key).is_ok(), "{} refuses a checked key", p.name());
        }
        for as_der in [false, true] {
            let v = verdicts(&key, name, &sig, &msg, as_der);
            prop_assert_eq!(v, vec![false; 2]);
        }
    }
}

// ---- Merkle proofs and compact ranges ----

fn leaves(seed: u64, n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), (i as u64).to_be_bytes()].concat()))
        .collect()
}

/// One mutation of a proof: flip a bit, drop, add, or swap two elements.
fn mutate_proof(proof: &mut Vec<Hash>, kind: u8, at: usize, bit: u8) -> bool {
    let n = proof.len();
    match kind % 4 {
        0 if n > 0 => proof[at % n][(bit / 8 % 32) as usize] ^= 1 << (bit % 8),
        1 if n > 0 => {
            proof.remove(at % n);
        }
        2 => proof.insert(at % (n + 1), leaf_hash(&[bit])),
        3 if n > 1 && proof[at % (n - 1)] != proof[at % (n - 1) + 1] => {
            proof.swap(at % (n - 1), at % (n - 1) + 1)
        }
        _ => return false,
    }
    true
}

proptest! {
    #![proptest_config(config(256))]

    /// Inclusion proofs we build verify; any mutation of the proof, the leaf, the root or the
    /// index is rejected.
    #[test]
    fn inclusion_proofs_verify_and_mutations_are_rejected(
        seed in any::<u64>(), n in 1usize..300, i in any::<usize>(),
        kind in any::<u8>(), at in any::<usize>(), bit in any::<u8>(), j in any::<usize>(),
    ) {
        let l = leaves(seed, n);
        let i = i % n;
        let head = root(&l);
        let proof = inclusion_proof(&l, i).unwrap();
        prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &proof, &head).is_ok());
        let mut bad = proof.clone();
        if mutate_proof(&mut bad, kind, at, bit) {
            prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &bad, &head).is_err());
        }
        let mut leaf = l[i];
        leaf[at % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(i as u64, n as u64, &leaf, &proof, &head).is_err());
        let mut wrong_root = head;
        wrong_root[at % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &proof, &wrong_root).is_err());
        let j = j % n;
        if j != i {
            prop_assert!(verify_inclusion(j as u64, n as u64, &l[i], &proof, &head).is_err());
        }
    }

    /// Consistency proofs we build verify; any mutation of the proof or either root is rejected.
    #[test]
    fn consistency_proofs_verify_and_mutations_are_rejected(
        seed in any::<u64>(), n in 1usize..300, m in any::<usize>(),
        kind in any::<u8>(), at in any::<usize>(), bit in any::<u8>(),
    ) {
        let l = leaves(seed, n);
        let m = m % n + 1;
        let (old, new) = (root(&l[..m]), root(&l));
        let proof = consistency_proof(&l, m).unwrap();
        prop_assert!(verify_consistency(m as u64, n as u64, &proof, &old, &new).is_ok());
        let mut bad = proof.clone();
        if mutate_proof(&mut bad, kind, at, bit) {
            prop_assert!(verify_consistency(m as u64, n as u64, &bad, &old, &new).is_err());
        }
        let mut wrong = old;
        wrong[at % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(m as u64, n as u64, &proof, &wrong, &new).is_err());
        let mut wrong = new;
        wrong[at % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(m as u64, n as u64, &proof, &old, &wrong).is_err());
    }

    /// Compact ranges over any split of the leaves compose to the tree head, survive the
    /// certificate form, and refuse to join when not adjacent.
    #[test]
    fn compact_ranges_compose(
        seed in any::<u64>(), n in 0usize..300, cuts in prop::collection::vec(any::<usize>(), 0..5),
    ) {
        let l = leaves(seed, n);
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (n + 1)).collect();
        bounds.push(0);
        bounds.push(n);
        bounds.sort_unstable();
        let mut whole: Option<CompactRange> = None;
        for w in bounds.windows(2) {
            let mut r = CompactRange::new(w[0] as u64);
            for h in &l[w[0]..w[1]] {
                r.push(*h);
            }
            let hashes: Vec<Hash> = r.nodes().iter().map(|n| n.hash).collect();
            let rebuilt = CompactRange::from_parts(w[0] as u64, w[1] as u64, &hashes).unwrap();
            prop_assert_eq!(&rebuilt, &r);
            if !hashes.is_empty() {
                prop_assert!(CompactRange::from_parts(w[0] as u64, w[1] as u64, &hashes[1..]).is_err());
            }
            match &mut whole {
                None => whole = Some(r),
                Some(acc) => {
                    if r.end() > r.begin() {
                        let mut gap = CompactRange::new(r.begin() + 1);
                        gap.push(l[0]);
                        prop_assert!(acc.append(&gap).is_err());
                    }
                    acc.append(&r).unwrap();
                }
            }
        }
        let whole = whole.unwrap();
        prop_assert_eq!(whole.root(), Some(root(&l)));
        prop_assert_eq!(whole.end(), n as u64);
    }
}

// ---- the record-id ledger finds exactly the repeats, wherever its runs split the ids ----

proptest! {
    #![proptest_config(config(128))]

    /// Every id after the first occurrence of its value is reported once, pointing at that first
    /// occurrence, whether the ids stay in memory or go through the temporary file in runs of
    /// any size.
    #[test]
    fn the_id_ledger_reports_exactly_the_repeats(
        ids in prop::collection::vec(0u8..40, 0..400), run in 1usize..64,
    ) {
        use audit_verify::idledger::{IdLedger, Place, fingerprint};
        let place = |i: usize| Place { source: 0, line: i as u64 + 1, record: i as u64, chain: 0 };
        let mut ledger = IdLedger::with_limits(run, usize::MAX);
        let mut first = std::collections::HashMap::new();
        let mut want = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let id = format!("id-{id}");
            ledger.insert(fingerprint(&id), place(i)).unwrap();
            match first.get(&id) {
                Some(&f) => want.push((i as u64 + 1, f)),
                None => {
                    first.insert(id, i as u64 + 1);
                }
            }
        }
        let mut got = Vec::new();
        ledger.repeats(|r| got.push((r.at.line, r.first.line))).unwrap();
        got.sort_unstable();
        want.sort_unstable();
        prop_assert_eq!(got, want);
    }
}
