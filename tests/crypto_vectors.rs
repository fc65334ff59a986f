//! Standard vectors and a differential test for every compiled-in crypto
//! provider: Wycheproof ECDSA P-256/SHA-256 (P1363 and DER) and ML-DSA-65
//! verify files, NIST ACVP ML-DSA sigVer (FIPS 204 internal projection,
//! tgId 2), and generated signatures with mutations that every provider must
//! judge identically.
//!
//! Vectors are read from `<CARGO_MANIFEST_DIR>/../shared/vectors`, or from
//! `AUDIT_VERIFY_VECTORS`; when neither exists the vector tests say so loudly
//! and return. Every file-driven test asserts how many cases it ran.

use std::path::PathBuf;

use audit_verify::crypto::{KeyAlg, PreparedKey, Provider, PublicKey, Signature, all_providers};
use serde_json::Value;

fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("AUDIT_VERIFY_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n*** SKIPPED: test vectors not found at {} (set AUDIT_VERIFY_VECTORS) ***\n",
            dir.display()
        );
        None
    }
}

fn load(rel: &str) -> Option<Value> {
    let path = vectors_dir()?.join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap())
}

fn hexval(v: &Value, member: &str) -> Vec<u8> {
    hex::decode(v[member].as_str().unwrap_or("")).unwrap()
}

/// Outcome counts of one vector file under one provider.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    run: usize,
    passed: usize,
    acceptable: usize,
    /// Tests whose key `PublicKey::new` or the provider rejected (counted as run).
    key_rejected: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, id: &str, result: &str, got: bool) {
        self.run += 1;
        match result {
            "valid" if got => self.passed += 1,
            "invalid" if !got => self.passed += 1,
            "acceptable" => self.acceptable += 1,
            _ => self
                .failures
                .push(format!("{id}: expected {result}, got {got}")),
        }
    }
}

fn run_ecdsa_file(rel: &str, is_der: bool) -> Option<Vec<(&'static str, Tally)>> {
    let doc = load(rel)?;
    let declared = doc["numberOfTests"].as_u64().unwrap() as usize;
    let mut out = Vec::new();
    for p in all_providers() {
        let mut t = Tally::default();
        for g in doc["testGroups"].as_array().unwrap() {
            let key_bytes = hex::decode(g["publicKey"]["uncompressed"].as_str().unwrap()).unwrap();
            let prepared: Option<Box<dyn PreparedKey>> = PublicKey::new(KeyAlg::P256, key_bytes)
                .ok()
                .and_then(|k| p.prepare(&k).ok());
            for test in g["tests"].as_array().unwrap() {
                let id = format!("{rel} tcId {}", test["tcId"]);
                let result = test["result"].as_str().unwrap();
                let msg = hexval(test, "msg");
                let sig = hexval(test, "sig");
                match &prepared {
                    Some(k) => {
                        let s = if is_der {
                            Signature::EcdsaDer(&sig)
                        } else {
                            Signature::EcdsaP1363(&sig)
                        };
                        t.check(&id, result, k.verify(s, &msg));
                    }
                    None => {
                        t.key_rejected += 1;
                        t.check(&id, result, false);
                    }
                }
            }
        }
        assert!(
            t.failures.is_empty(),
            "{} on {rel}: {} failures:\n{}",
            p.name(),
            t.failures.len(),
            t.failures.join("\n")
        );
        assert_eq!(t.run, declared, "{} on {rel}: not every test ran", p.name());
        eprintln!("{} {rel}: {t:?}", p.name());
        out.push((p.name(), t));
    }
    Some(out)
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    let Some(tallies) = run_ecdsa_file("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json", false)
    else {
        return;
    };
    for (_, t) in &tallies {
        // 262 tests: 173 valid, 89 invalid, no acceptable, every key accepted.
        assert_eq!(
            (t.run, t.passed, t.acceptable, t.key_rejected),
            (262, 262, 0, 0)
        );
    }
}

#[test]
fn wycheproof_ecdsa_p256_der() {
    let Some(tallies) = run_ecdsa_file("wycheproof/ecdsa_secp256r1_sha256_test.json", true) else {
        return;
    };
    for (_, t) in &tallies {
        // 484 tests: 174 valid, 310 invalid (BER and malformed DER among them).
        assert_eq!(
            (t.run, t.passed, t.acceptable, t.key_rejected),
            (484, 484, 0, 0)
        );
    }
}

#[test]
fn wycheproof_mldsa65_verify() {
    let rel = "wycheproof/mldsa_65_verify_test.json";
    let Some(doc) = load(rel) else { return };
    let declared = doc["numberOfTests"].as_u64().unwrap() as usize;
    for p in all_providers() {
        let mut t = Tally::default();
        let mut with_ctx = 0;
        for g in doc["testGroups"].as_array().unwrap() {
            let key_bytes = hexval(g, "publicKey");
            let key = PublicKey::new(KeyAlg::MlDsa65, key_bytes.clone());
            // Wrong-length keys must be refused when the key is built.
            assert_eq!(
                key.is_ok(),
                key_bytes.len() == 1952,
                "key length {}",
                key_bytes.len()
            );
            let prepared = key.ok().map(|k| p.prepare(&k).unwrap());
            for test in g["tests"].as_array().unwrap() {
                let id = format!("{rel} tcId {}", test["tcId"]);
                let result = test["result"].as_str().unwrap();
                let msg = hexval(test, "msg");
                let sig = hexval(test, "sig");
                let ctx = test
                    .get("ctx")
                    .map(|_| hexval(test, "ctx"))
                    .unwrap_or_default();
                if ctx.len() > 255 {
                    assert_eq!(result, "invalid", "{id}: a context over 255 bytes");
                }
                with_ctx += usize::from(!ctx.is_empty());
                match &prepared {
                    Some(k) => t.check(
                        &id,
                        result,
                        k.verify(
                            Signature::MlDsa65 {
                                sig: &sig,
                                ctx: &ctx,
                            },
                            &msg,
                        ),
                    ),
                    None => {
                        t.key_rejected += 1;
                        t.check(&id, result, false);
                    }
                }
            }
        }
        assert!(
            t.failures.is_empty(),
            "{} on {rel}: {} failures:\n{}",
            p.name(),
            t.failures.len(),
            t.failures.join("\n")
        );
        eprintln!(
            "{} {rel}: {t:?}, {with_ctx} with a non-empty context",
            p.name()
        );
        assert_eq!(t.run, declared);
        // 210 tests, 4 of them under the 1951/1953-byte keys; 7 carry a non-empty ctx.
        assert_eq!(
            (t.run, t.passed, t.key_rejected, with_ctx),
            (210, 210, 4, 7)
        );
    }
}

/// Signatures ACVP marks as failing for a reason that does not depend on the
/// message: sigDecode must reject them, so the external interface must too.
const MESSAGE_INDEPENDENT: [&str; 2] = ["too many hints", "z too large"];

#[test]
fn acvp_mldsa65_sigver_internal() {
    let rel = "acvp/ML-DSA-sigVer-FIPS204-internalProjection.json";
    let Some(doc) = load(rel) else { return };
    let group = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["tgId"] == 2)
        .unwrap();
    assert_eq!(group["parameterSet"], "ML-DSA-65");
    let key = PublicKey::new(KeyAlg::MlDsa65, hexval(group, "pk")).unwrap();
    let tests = group["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 15);
    for p in all_providers() {
        let prepared = p.prepare(&key).unwrap();
        let (mut internal, mut subset, mut skipped) = (0, 0, 0);
        for test in tests {
            let id = format!("{} tcId {}", p.name(), test["tcId"]);
            let expected = test["testPassed"].as_bool().unwrap();
            let reason = test["reason"].as_str().unwrap();
            let msg = hexval(test, "message");
            let sig = hexval(test, "signature");
            match p.verify_mldsa65_internal(&key, &msg, &sig) {
                Some(got) => {
                    assert_eq!(got, expected, "{id} ({reason})");
                    internal += 1;
                }
                None if MESSAGE_INDEPENDENT.contains(&reason) => {
                    assert!(!expected);
                    let external = Signature::MlDsa65 {
                        sig: &sig,
                        ctx: &[],
                    };
                    assert!(!prepared.verify(external, &msg), "{id} ({reason})");
                    subset += 1;
                }
                None => skipped += 1,
            }
        }
        eprintln!(
            "{} {rel} tgId 2: {internal} via Verify_internal, {subset} message-independent \
             rejections via the external interface, {skipped} skipped (need Verify_internal)",
            p.name()
        );
        match p.name() {
            "rustcrypto" => assert_eq!((internal, subset, skipped), (15, 0, 0)),
            "aws-lc-rs" => assert_eq!((internal, subset, skipped), (0, 6, 9)),
            other => panic!("unknown provider {other}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Differential test: generated signatures and mutations.
// ---------------------------------------------------------------------------

/// The order n of the P-256 group, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// a - b for big-endian 256-bit numbers (a ≥ b).
fn sub256(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    assert_eq!(borrow, 0);
    out
}

/// a + b for big-endian 256-bit numbers, wrapping (only used with small sums).
fn add256(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    out
}

fn der_int(v: &[u8]) -> Vec<u8> {
    let mut v: &[u8] = v;
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    let mut body = Vec::new();
    if v[0] & 0x80 != 0 {
        body.push(0);
    }
    body.extend_from_slice(v);
    let mut out = vec![0x02, body.len() as u8];
    out.extend(body);
    out
}

fn der_sig(r: &[u8], s: &[u8]) -> Vec<u8> {
    let body = [der_int(r), der_int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

struct Case {
    what: String,
    sig: Vec<u8>,
    msg: Vec<u8>,
    ctx: Vec<u8>,
    /// Known answer, when the case has one.
    expect: Option<bool>,
}

fn case(what: impl Into<String>, sig: &[u8], msg: &[u8], expect: Option<bool>) -> Case {
    Case {
        what: what.into(),
        sig: sig.to_vec(),
        msg: msg.to_vec(),
        ctx: Vec::new(),
        expect,
    }
}

/// Generic byte-level mutations of a valid (sig, msg) pair; all must fail.
fn mutations(sig: &[u8], msg: &[u8], cases: &mut Vec<Case>) {
    let positions = [
        0,
        1,
        sig.len() / 3,
        sig.len() / 2,
        sig.len() - 2,
        sig.len() - 1,
    ];
    for &i in &positions {
        for bit in [0, 7] {
            let mut s = sig.to_vec();
            s[i] ^= 1 << bit;
            cases.push(case(
                format!("sig bit {bit} of byte {i}"),
                &s,
                msg,
                Some(false),
            ));
        }
    }
    for i in [0, msg.len() / 2, msg.len().saturating_sub(1)] {
        if let Some(b) = msg.get(i) {
            let mut m = msg.to_vec();
            m[i] = b ^ 0x01;
            cases.push(case(format!("msg bit 0 of byte {i}"), sig, &m, Some(false)));
        }
    }
    let mut longer = msg.to_vec();
    longer.push(0);
    cases.push(case("msg extended", sig, &longer, Some(false)));
    cases.push(case(
        "sig truncated by one",
        &sig[..sig.len() - 1],
        msg,
        Some(false),
    ));
    cases.push(case("sig half", &sig[..sig.len() / 2], msg, Some(false)));
    cases.push(case("sig empty", &[], msg, Some(false)));
    let mut ext = sig.to_vec();
    ext.push(0);
    cases.push(case(
        "sig with a trailing zero byte",
        &ext,
        msg,
        Some(false),
    ));
}

fn assert_all_agree(
    label: &str,
    key: &PublicKey,
    cases: &[Case],
    wrap: for<'a> fn(&'a [u8], &'a [u8]) -> Signature<'a>,
) -> usize {
    let prepared: Vec<(&str, Box<dyn PreparedKey>)> = all_providers()
        .into_iter()
        .map(|p: &dyn Provider| (p.name(), p.prepare(key).unwrap()))
        .collect();
    for c in cases {
        let answers: Vec<(&str, bool)> = prepared
            .iter()
            .map(|(n, k)| (*n, k.verify(wrap(&c.sig, &c.ctx), &c.msg)))
            .collect();
        let first = answers[0].1;
        assert!(
            answers.iter().all(|(_, a)| *a == first),
            "{label} / {}: providers disagree: {answers:?}",
            c.what
        );
        if let Some(e) = c.expect {
            assert_eq!(first, e, "{label} / {}: expected {e}", c.what);
        }
    }
    cases.len()
}

fn p1363<'a>(sig: &'a [u8], _ctx: &'a [u8]) -> Signature<'a> {
    Signature::EcdsaP1363(sig)
}
fn der<'a>(sig: &'a [u8], _ctx: &'a [u8]) -> Signature<'a> {
    Signature::EcdsaDer(sig)
}
fn ed<'a>(sig: &'a [u8], _ctx: &'a [u8]) -> Signature<'a> {
    Signature::Ed25519(sig)
}
fn mldsa<'a>(sig: &'a [u8], ctx: &'a [u8]) -> Signature<'a> {
    Signature::MlDsa65 { sig, ctx }
}

#[test]
fn differential_ecdsa_p256() {
    use p256::ecdsa::signature::Signer as _;
    let mut total = 0;
    let mut high_s_seen = 0;
    for seed in 1u8..=24 {
        let mut secret = [0u8; 32];
        secret[31] = seed;
        secret[0] = 0x42;
        let sk = p256::ecdsa::SigningKey::from_slice(&secret).unwrap();
        let point = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
        let key = PublicKey::new(KeyAlg::P256, point).unwrap();
        let msg: Vec<u8> = (0..(seed as usize * 7)).map(|i| (i as u8) ^ seed).collect();
        let sig: p256::ecdsa::Signature = sk.sign(&msg);
        let raw = sig.to_bytes().to_vec();
        let (r, s) = raw.split_at(32);
        let s_high = sub256(&P256_N, s);
        high_s_seen += usize::from(s_high.as_slice() > s);

        let mut p = vec![
            case("original", &raw, &msg, Some(true)),
            case(
                "high-S flip s -> n - s",
                &[r, &s_high].concat(),
                &msg,
                Some(true),
            ),
            case("r = 0", &[&[0u8; 32][..], s].concat(), &msg, Some(false)),
            case("s = 0", &[r, &[0u8; 32][..]].concat(), &msg, Some(false)),
            case("r = n", &[&P256_N[..], s].concat(), &msg, Some(false)),
            case("s = n", &[r, &P256_N[..]].concat(), &msg, Some(false)),
            case(
                "s + n (≥ n)",
                &[r, &add256(s, &P256_N)].concat(),
                &msg,
                None,
            ),
            case("r and s swapped", &[s, r].concat(), &msg, Some(false)),
            case("all 0xff", &[0xff; 64], &msg, Some(false)),
        ];
        mutations(&raw, &msg, &mut p);
        total += assert_all_agree("P1363", &key, &p, p1363);

        let good = der_sig(r, s);
        let mut ber_r = vec![0x02, (r.len() + 2) as u8, 0, 0];
        ber_r.extend_from_slice(r);
        let non_minimal = [vec![0x30, 0x81, (good.len() - 2) as u8], good[2..].to_vec()].concat();
        let mut d = vec![
            case("original", &good, &msg, Some(true)),
            case("high-S", &der_sig(r, &s_high), &msg, Some(true)),
            case("r = 0", &der_sig(&[0], s), &msg, Some(false)),
            case("s = 0", &der_sig(r, &[0]), &msg, Some(false)),
            case("s = n", &der_sig(r, &P256_N), &msg, Some(false)),
            case("long-form length", &non_minimal, &msg, Some(false)),
            case(
                "trailing garbage",
                &[good.clone(), vec![0]].concat(),
                &msg,
                Some(false),
            ),
            case("P1363 bytes as DER", &raw, &msg, Some(false)),
            case(
                "DER bytes as P1363 length",
                &good[..good.len().min(64)],
                &msg,
                Some(false),
            ),
        ];
        // Extra leading zero on r (BER, not DER).
        let s_int = der_int(s);
        let body = [ber_r, s_int].concat();
        let ber = [vec![0x30, body.len() as u8], body].concat();
        d.push(case(
            "r with a redundant leading zero",
            &ber,
            &msg,
            Some(false),
        ));
        mutations(&good, &msg, &mut d);
        total += assert_all_agree("DER", &key, &d, der);
    }
    assert!(high_s_seen > 0, "no high-S variant was generated");
    assert!(total > 24 * 50, "only {total} cases ran");
}

#[test]
fn differential_ed25519() {
    use ed25519_dalek::Signer as _;
    // RFC 8032, 7.1, TEST 1.
    let secret: [u8; 32] =
        hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap()
            .try_into()
            .unwrap();
    let public =
        hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
    let sig1 = hex::decode(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
         5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    )
    .unwrap();
    let sk = ed25519_dalek::SigningKey::from_bytes(&secret);
    assert_eq!(sk.verifying_key().as_bytes().as_slice(), public.as_slice());
    assert_eq!(sk.sign(b"").to_bytes().as_slice(), sig1.as_slice());

    // The group order L, little-endian, to build a non-canonical S + L.
    let l: [u8; 32] =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap()
            .try_into()
            .unwrap();
    let mut total = 0;
    for seed in 0u8..=16 {
        let (sk, msg) = if seed == 0 {
            (ed25519_dalek::SigningKey::from_bytes(&secret), Vec::new())
        } else {
            let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
            (sk, (0..seed as usize * 11).map(|i| i as u8).collect())
        };
        let key = PublicKey::new(KeyAlg::Ed25519, sk.verifying_key().to_bytes().to_vec()).unwrap();
        let sig = sk.sign(&msg).to_bytes();
        let mut s_plus_l = sig;
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
            s_plus_l[32 + i] = v as u8;
            carry = v >> 8;
        }
        let mut c = vec![
            case("original", &sig, &msg, Some(true)),
            case("S + L (non-canonical S)", &s_plus_l, &msg, Some(false)),
            case(
                "R zeroed",
                &[&[0u8; 32][..], &sig[32..]].concat(),
                &msg,
                Some(false),
            ),
            case(
                "S zeroed",
                &[&sig[..32], &[0u8; 32][..]].concat(),
                &msg,
                Some(false),
            ),
        ];
        mutations(&sig, &msg, &mut c);
        if !msg.is_empty() {
            c.push(case("empty msg", &sig, &[], Some(false)));
        }
        total += assert_all_agree("Ed25519", &key, &c, ed);
    }
    assert!(total > 17 * 20, "only {total} cases ran");
}

#[test]
fn differential_mldsa65() {
    use ml_dsa::signature::Keypair as _;
    let mut total = 0;
    for seed in 1u8..=3 {
        let sk = ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&[seed; 32].into());
        let key = PublicKey::new(KeyAlg::MlDsa65, sk.verifying_key().encode().to_vec()).unwrap();
        let msg: Vec<u8> = (0..(seed as usize * 33))
            .map(|i| (i as u8).wrapping_mul(seed))
            .collect();
        let ctx_long = vec![seed; 255];
        let mut c = Vec::new();
        for ctx in [Vec::new(), b"audit".to_vec(), ctx_long.clone()] {
            let sig = sk
                .expanded_key()
                .sign_deterministic(&msg, &ctx)
                .unwrap()
                .encode()
                .to_vec();
            let mut ok = case(
                format!("original, ctx {} bytes", ctx.len()),
                &sig,
                &msg,
                Some(true),
            );
            ok.ctx.clone_from(&ctx);
            c.push(ok);
            let mut wrong_ctx = case("ctx changed", &sig, &msg, Some(false));
            wrong_ctx.ctx = if ctx.is_empty() { vec![0] } else { Vec::new() };
            c.push(wrong_ctx);
            let mut ctx_256 = case("ctx 256 bytes", &sig, &msg, Some(false));
            ctx_256.ctx = [ctx.clone(), vec![0; 256 - ctx.len()]].concat();
            c.push(ctx_256);
            let mut muts = Vec::new();
            mutations(&sig, &msg, &mut muts);
            for mut m in muts {
                m.ctx.clone_from(&ctx);
                // A flipped bit in the hint section's padding may still decode to
                // the same hints; leave those to agreement only.
                if m.what.starts_with("sig bit") && !m.what.ends_with(" of byte 0") {
                    m.expect = None;
                }
                c.push(m);
            }
            // z out of range: set the first z coefficient bytes to 0xff.
            let mut z_big = sig.clone();
            z_big[48..52].copy_from_slice(&[0xff; 4]);
            let mut zc = case("z coefficient large", &z_big, &msg, Some(false));
            zc.ctx.clone_from(&ctx);
            c.push(zc);
            // Hint indices out of order: corrupt the last bytes (counters).
            let mut h = sig.clone();
            let n = h.len();
            h[n - 6..].copy_from_slice(&[0xff; 6]);
            let mut hc = case("hint counters 0xff", &h, &msg, Some(false));
            hc.ctx.clone_from(&ctx);
            c.push(hc);
        }
        let mut wrong_len = case("3308-byte signature", &[0; 3308], &msg, Some(false));
        wrong_len.ctx = Vec::new();
        c.push(wrong_len);
        total += assert_all_agree("ML-DSA-65", &key, &c, mldsa);
        let _ = &ctx_long;
    }
    assert!(total > 3 * 60, "only {total} cases ran");
}
