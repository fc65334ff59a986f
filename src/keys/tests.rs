//! Unit tests of key parsing, key ids and the key ring, on in-memory inputs:
//! RFC 7638 and RFC 8037 known answers, every accepted shape, and each way a
//! key file is refused.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::*;

const EC_X: &str = "qWm0W9WSurcH4Mli6GMmTlwg10GWUqzTxXdVnXCoUac";
const EC_Y: &str = "SbBOg5WjHU_qBey7vOZYTJnn-dIKBG3-ThEfvUHPKdQ";
const EC_KID: &str = "THzoo2_-G4vM4nnmG6HQvVKiuJLJOAUaslLlpIMnTFY";
/// RFC 8037 A.2 public key (= RFC 8032 7.1 TEST 1).
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 A.3 thumbprint of that key.
const ED_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

fn parse(text: &str) -> Result<KeyRing, KeyError> {
    KeyRing::parse(text.as_bytes(), Path::new("test.json"))
}

fn ec_jwk(extra: &str) -> String {
    format!(r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}","y":"{EC_Y}"{extra}}}"#)
}

fn mldsa_raw() -> Vec<u8> {
    (0..1952u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn akp_jwk(extra: &str) -> String {
    format!(
        r#"{{"kty":"AKP","alg":"ML-DSA-65","pub":"{}"{extra}}}"#,
        URL_SAFE_NO_PAD.encode(mldsa_raw())
    )
}

fn pem(der: &[u8], label: &str) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        STANDARD.encode(der)
    )
}

#[test]
fn kid_rules_read_as_sentences() {
    assert_eq!(KidRule::Rfc7638.to_string(), "RFC 7638 thumbprint");
    assert_eq!(
        KidRule::AkpRfc7638.to_string(),
        "RFC 7638 thumbprint of the AKP JWK"
    );
    assert_eq!(
        KidRule::Sha256Raw.to_string(),
        "base64url(SHA-256(raw public key))"
    );
    assert_eq!(
        KidRule::Declared.to_string(),
        "declared kid (not derivable from the key)"
    );
}

#[test]
fn ec_thumbprint_known_answer() {
    let ring = parse(&ec_jwk("")).unwrap();
    assert_eq!(ring.len(), 1);
    let key = &ring.keys()[0];
    assert_eq!(
        key.derived_kids(),
        vec![(KidRule::Rfc7638, EC_KID.to_string())]
    );
    assert_eq!(key.source, "test.json#0");
    let (found, rule) = ring.find(EC_KID).unwrap();
    assert_eq!((found, rule), (key, KidRule::Rfc7638));
    assert!(ring.warnings().is_empty());
}

#[test]
fn ed25519_thumbprint_rfc8037_known_answer() {
    let ring = parse(&format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","alg":"EdDSA"}}"#
    ))
    .unwrap();
    assert_eq!(
        ring.keys()[0].derived_kids(),
        vec![(KidRule::Rfc7638, ED_KID.to_string())]
    );
    assert_eq!(ring.by_alg(KeyAlg::Ed25519).len(), 1);
    assert!(ring.by_alg(KeyAlg::P256).is_empty());
}

#[test]
fn akp_key_has_two_derived_kids() {
    let ring = parse(&akp_jwk(r#","kid":"mine""#)).unwrap();
    let key = &ring.keys()[0];
    let kids = key.derived_kids();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0].0, KidRule::AkpRfc7638);
    let expected_raw = URL_SAFE_NO_PAD.encode(Sha256::digest(mldsa_raw()));
    assert_eq!(kids[1], (KidRule::Sha256Raw, expected_raw.clone()));
    assert_eq!(
        ring.find(&expected_raw).map(|(_, r)| r),
        Some(KidRule::Sha256Raw)
    );
    assert_eq!(
        ring.find(&kids[0].1).map(|(_, r)| r),
        Some(KidRule::AkpRfc7638)
    );
    assert_eq!(ring.find("mine").map(|(_, r)| r), Some(KidRule::Declared));
    assert_eq!(key.source, "test.json#mine");
    assert!(ring.find("other").is_none());
    assert_eq!(ring.warnings().len(), 1);
    assert!(ring.warnings()[0].contains("declared kid differs from every derivable id"));
}

#[test]
fn spki_der_and_fingerprint() {
    let ring = parse(&ec_jwk("")).unwrap();
    let key = &ring.keys()[0];
    let der = key.spki_der();
    assert_eq!(der.len(), 91);
    assert_eq!(
        key.fingerprint(),
        format!("sha256:{}", hex::encode(Sha256::digest(&der)))
    );
    // The PEM of the same key gives the same key.
    let from_pem = KeyRing::parse(pem(&der, "PUBLIC KEY").as_bytes(), Path::new("k.pem")).unwrap();
    assert_eq!(from_pem.keys()[0].public, key.public);
    assert_eq!(from_pem.keys()[0].source, "k.pem#0");
}

#[test]
fn pem_with_several_blocks_and_algorithms() {
    let ec = parse(&ec_jwk("")).unwrap().keys()[0].spki_der();
    let ed = parse(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}}"#))
        .unwrap()
        .keys()[0]
        .spki_der();
    let ml = parse(&akp_jwk("")).unwrap().keys()[0].spki_der();
    let text = format!(
        "comment\n{}{}{}{}",
        pem(&ec, "PUBLIC KEY"),
        pem(&ed, "PUBLIC KEY"),
        pem(&ml, "PUBLIC KEY"),
        pem(&ec, "PUBLIC KEY")
    );
    let ring = KeyRing::parse(text.as_bytes(), Path::new("all.pem")).unwrap();
    let algs: Vec<KeyAlg> = ring.keys().iter().map(|k| k.public.alg()).collect();
    // The repeated EC block is merged.
    assert_eq!(algs, vec![KeyAlg::P256, KeyAlg::Ed25519, KeyAlg::MlDsa65]);
}

#[test]
fn asqav_key_directory_entry() {
    let raw = URL_SAFE_NO_PAD.decode(ED_X).unwrap();
    let std_b64 = STANDARD.encode(&raw);
    let json = format!(
        r#"{{"keys":[{{"kid":"demo","issuer_id":"Demo","alg":"Ed25519","status":"revoked",
            "revoked_at":"2026-01-01T00:00:00Z","public_key":"{std_b64}"}},
            {{"kid":"gone","alg":"ML-DSA-65","public_key":null}}]}}"#
    );
    let ring = parse(&json).unwrap();
    assert_eq!(ring.len(), 1);
    let key = &ring.keys()[0];
    assert_eq!(key.status.as_deref(), Some("revoked"));
    assert_eq!(key.revoked_at.as_deref(), Some("2026-01-01T00:00:00Z"));
    assert_eq!(ring.find("demo").map(|(_, r)| r), Some(KidRule::Declared));
    assert!(ring.warnings().iter().any(|w| w.contains("no public_key")));

    // public_key must be standard base64 with padding.
    let url = format!(r#"{{"kid":"d","alg":"Ed25519","public_key":"{ED_X}"}}"#);
    assert!(
        matches!(parse(&url), Err(KeyError::BadMember { member, .. }) if member == "public_key")
    );
    // A key thumbprint that does not match is a warning.
    let wrong = format!(
        r#"{{"kid":"d","alg":"Ed25519","public_key":"{std_b64}","key_thumbprint":"sha256:00"}}"#
    );
    assert!(
        parse(&wrong)
            .unwrap()
            .warnings()
            .iter()
            .any(|w| w.contains("key_thumbprint"))
    );
    // The asqav AKP-style thumbprint of this key matches.
    let akp = format!(r#"{{"alg":"Ed25519","kty":"AKP","pub":"{ED_X}"}}"#);
    let tp = format!("sha256:{}", hex::encode(Sha256::digest(akp.as_bytes())));
    let right = format!(
        r#"{{"kid":"d","alg":"Ed25519","public_key":"{std_b64}","key_thumbprint":"{tp}"}}"#
    );
    assert!(
        !parse(&right)
            .unwrap()
            .warnings()
            .iter()
            .any(|w| w.contains("key_thumbprint"))
    );
    // kty/pub together with public_key: both must agree.
    let other = STANDARD.encode([9u8; 32]);
    let both = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","alg":"Ed25519","public_key":"{other}"}}"#
    );
    assert!(parse(&both).is_err());
}

#[test]
fn aat_keystore_shape() {
    let json = format!(
        r#"{{"{EC_KID}":{{"alg":"ES256","jwk_x_y":{{"x":"{EC_X}","y":"{EC_Y}"}}}},
            "ml":{{"alg":"ML-DSA-65","pk":"{}"}}}}"#,
        URL_SAFE_NO_PAD.encode(mldsa_raw())
    );
    let ring = parse(&json).unwrap();
    assert_eq!(ring.len(), 2);
    assert_eq!(ring.keys()[0].declared_kid.as_deref(), Some(EC_KID));
    assert_eq!(ring.keys()[0].source, format!("test.json#{EC_KID}"));
    assert_eq!(
        ring.find("ml").map(|(k, _)| k.public.alg()),
        Some(KeyAlg::MlDsa65)
    );
    let bad = r#"{"k":{"alg":"RS256","n":"AQAB"}}"#;
    assert!(matches!(parse(bad), Err(KeyError::UnsupportedAlg { alg, .. }) if alg == "RS256"));
}

#[test]
fn hex_key_files() {
    let ring = KeyRing::parse(
        b"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n",
        Path::new("k.hex"),
    )
    .unwrap();
    assert_eq!(ring.keys()[0].derived_kids()[0].1, ED_KID);
    assert!(matches!(
        KeyRing::parse(b"abcd", Path::new("k.hex")),
        Err(KeyError::HexLength { len: 2, .. })
    ));
}

#[test]
fn bad_base64_names_the_member() {
    let padded = ec_jwk("").replace(EC_Y, &format!("{EC_Y}="));
    let e = parse(&padded).unwrap_err();
    assert!(matches!(&e, KeyError::BadMember { member, detail, .. }
        if member == "y" && detail.contains("padding")));
    assert!(e.to_string().contains("test.json"), "{e}");

    let std_alpha = ec_jwk("").replace(EC_Y, &EC_Y.replace('_', "/"));
    assert!(
        matches!(parse(&std_alpha), Err(KeyError::BadMember { member, detail, .. })
        if member == "y" && detail.contains("standard base64 alphabet"))
    );

    let junk = ec_jwk("").replace(EC_X, "!!!!");
    assert!(matches!(parse(&junk), Err(KeyError::BadMember { member, .. }) if member == "x"));

    let short = ec_jwk("").replace(EC_X, "AAAA");
    assert!(
        matches!(parse(&short), Err(KeyError::BadMember { detail, .. })
        if detail == "decodes to 3 bytes, expected 32")
    );

    let number = ec_jwk("").replace(&format!("\"{EC_X}\""), "5");
    assert!(
        matches!(parse(&number), Err(KeyError::BadMember { detail, .. })
        if detail == "must be a string")
    );
}

#[test]
fn wrong_curves_types_and_algs() {
    let p384 = ec_jwk("").replace("P-256", "P-384");
    let e = parse(&p384).unwrap_err();
    assert!(matches!(&e, KeyError::UnsupportedCurve { curve, .. } if curve == "P-384"));
    assert_eq!(e.to_string(), "unsupported curve P-384 in test.json (JWK)");

    let x25519 = format!(r#"{{"kty":"OKP","crv":"X25519","x":"{ED_X}"}}"#);
    assert!(matches!(
        parse(&x25519),
        Err(KeyError::UnsupportedCurve { .. })
    ));

    let rsa = r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#;
    assert!(matches!(parse(rsa), Err(KeyError::UnsupportedKty { kty, .. }) if kty == "RSA"));

    let es384 = ec_jwk(r#","alg":"ES384""#);
    assert!(matches!(
        parse(&es384),
        Err(KeyError::AlgMismatch {
            key_alg: KeyAlg::P256,
            ..
        })
    ));

    let mldsa44 = akp_jwk("").replace("ML-DSA-65", "ML-DSA-44");
    assert!(matches!(
        parse(&mldsa44),
        Err(KeyError::UnsupportedAlg { .. })
    ));

    let no_alg = akp_jwk("").replace(r#""alg":"ML-DSA-65","#, "");
    assert!(matches!(
        parse(&no_alg),
        Err(KeyError::MissingMember { member: "alg", .. })
    ));

    let no_y = format!(r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}"}}"#);
    assert!(matches!(
        parse(&no_y),
        Err(KeyError::MissingMember { member: "y", .. })
    ));
}

#[test]
fn invalid_key_material() {
    // y + 1 is not on the curve.
    let mut y = URL_SAFE_NO_PAD.decode(EC_Y).unwrap();
    y[31] ^= 1;
    let off = ec_jwk("").replace(EC_Y, &URL_SAFE_NO_PAD.encode(&y));
    assert!(matches!(
        parse(&off),
        Err(KeyError::InvalidKey {
            source: CryptoError::P256NotOnCurve,
            ..
        })
    ));

    let short = format!(
        r#"{{"kty":"AKP","alg":"ML-DSA-65","pub":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(&mldsa_raw()[..1951])
    );
    assert!(
        matches!(parse(&short), Err(KeyError::BadMember { member, detail, .. })
        if member == "pub" && detail == "decodes to 1951 bytes, expected 1952")
    );

    // A well-formed SPKI around a 1951-byte ML-DSA key.
    let spki = spki::encode_spki(KeyAlg::MlDsa65, &mldsa_raw()[..1951]);
    let e = KeyRing::parse(pem(&spki, "PUBLIC KEY").as_bytes(), Path::new("k.pem")).unwrap_err();
    assert!(matches!(
        e,
        KeyError::InvalidKey {
            source: CryptoError::KeyLength { found: 1951, .. },
            ..
        }
    ));
}

#[test]
fn private_keys_are_refused() {
    let d = ec_jwk(r#","d":"AAAA""#);
    let e = parse(&d).unwrap_err();
    assert!(matches!(e, KeyError::PrivateKey { .. }));
    assert!(e.to_string().contains("supply the public key"), "{e}");
    let priv_akp = akp_jwk(r#","priv":"AAAA""#);
    assert!(matches!(parse(&priv_akp), Err(KeyError::PrivateKey { .. })));
    let jwks = format!(r#"{{"keys":[{}]}}"#, ec_jwk(r#","d":"AAAA""#));
    assert!(matches!(parse(&jwks), Err(KeyError::PrivateKey { .. })));
    let pkcs8 = pem(&[0x30, 0x00], "PRIVATE KEY");
    let e = KeyRing::parse(pkcs8.as_bytes(), Path::new("sk.pem")).unwrap_err();
    assert!(matches!(&e, KeyError::PrivateKey { what, .. } if what.contains("PRIVATE KEY")));
    assert_eq!(
        e.to_string(),
        "sk.pem holds a private key (PEM block \"PRIVATE KEY\"); supply the public key"
    );
    let sec1 = format!(
        "{}{}",
        pem(
            &parse(&ec_jwk("")).unwrap().keys()[0].spki_der(),
            "PUBLIC KEY"
        ),
        "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END EC PRIVATE KEY-----\n"
    );
    assert!(matches!(
        KeyRing::parse(sec1.as_bytes(), Path::new("sk.pem")),
        Err(KeyError::PrivateKey { .. })
    ));
}

#[test]
fn jwks_duplicate_kids() {
    let a = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","kid":"k"}}"#);
    let b = ec_jwk(r#","kid":"k""#);
    let clash = format!(r#"{{"keys":[{a},{b}]}}"#);
    let e = parse(&clash).unwrap_err();
    assert!(matches!(&e, KeyError::DuplicateKid { kid, .. } if kid == "k"));
    assert_eq!(
        e.to_string(),
        "test.json: kid \"k\" names two different keys"
    );

    let same = format!(r#"{{"keys":[{a},{a}]}}"#);
    assert_eq!(parse(&same).unwrap().len(), 1);
}

#[test]
fn duplicate_json_members_are_refused() {
    let dup = format!(r#"{{"kty":"EC","crv":"P-256","x":"{EC_X}","x":"{EC_Y}","y":"{EC_Y}"}}"#);
    let e = parse(&dup).unwrap_err();
    assert!(
        matches!(&e, KeyError::Json { detail, .. } if detail.contains("duplicate member \"x\""))
    );
}

#[test]
fn unusable_files() {
    assert!(matches!(
        parse(r#"{"keys":[]}"#),
        Err(KeyError::NoKeys { .. })
    ));
    assert!(matches!(
        parse(r#"{"keys":{}}"#),
        Err(KeyError::BadMember { .. })
    ));
    assert!(matches!(
        parse(r#"{"keys":[5]}"#),
        Err(KeyError::BadMember { .. })
    ));
    assert!(matches!(
        parse(r#"{"hello":"world"}"#),
        Err(KeyError::UnknownFormat { .. })
    ));
    assert!(matches!(parse("{}"), Err(KeyError::UnknownFormat { .. })));
    assert!(matches!(parse("{"), Err(KeyError::Json { .. })));
    assert!(matches!(
        parse("just text"),
        Err(KeyError::UnknownFormat { .. })
    ));
    assert!(matches!(parse(""), Err(KeyError::UnknownFormat { .. })));
    assert!(matches!(
        KeyRing::parse(&[0x30, 0x82, 0xff], Path::new("k.der")),
        Err(KeyError::UnknownFormat { .. })
    ));
    let cert = pem(&[0x30, 0x00], "CERTIFICATE");
    assert!(
        matches!(parse(&cert), Err(KeyError::PemLabel { label, .. }) if label == "CERTIFICATE")
    );
    let broken = "-----BEGIN PUBLIC KEY-----\nAAAA\n";
    assert!(matches!(parse(broken), Err(KeyError::Pem { .. })));
    let not_spki = pem(&[0x02, 0x01, 0x00], "PUBLIC KEY");
    assert!(matches!(parse(&not_spki), Err(KeyError::Spki { .. })));
    // Deeply nested JSON is refused by serde_json's recursion limit, not a stack overflow.
    let deep = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    assert!(matches!(parse(&deep), Err(KeyError::Json { .. })));
}

#[test]
fn use_enc_keys_are_skipped_with_a_warning() {
    let jwks = format!(
        r#"{{"keys":[{},{}]}}"#,
        ec_jwk(r#","use":"enc","kid":"e""#),
        format_args!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","use":"sig"}}"#)
    );
    let ring = parse(&jwks).unwrap();
    assert_eq!(ring.len(), 1);
    assert!(ring.warnings()[0].contains("\"use\": \"enc\""));
    assert!(ring.find("e").is_none());
}

#[test]
fn from_keys_merges_and_warns() {
    let ec = parse(&ec_jwk(r#","kid":"k""#)).unwrap().keys()[0].clone();
    let ed = parse(&format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","kid":"k"}}"#
    ))
    .unwrap()
    .keys()[0]
        .clone();
    let ring = KeyRing::from_keys(vec![ec.clone(), ec.clone(), ed]);
    assert_eq!(ring.len(), 2);
    assert_eq!(ring.find("k").map(|(k, _)| k), Some(&ec));
    assert!(
        ring.warnings()
            .iter()
            .any(|w| w.contains("names different keys"))
    );
    assert!(KeyRing::from_keys(Vec::new()).is_empty());
}

#[test]
fn declared_kid_that_is_another_keys_thumbprint() {
    let ed = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}","kid":"{EC_KID}"}}"#);
    let ring = parse(&format!(r#"{{"keys":[{},{ed}]}}"#, ec_jwk(""))).unwrap();
    // Derived ids win over declared ones.
    assert_eq!(
        ring.find(EC_KID).map(|(k, r)| (k.public.alg(), r)),
        Some((KeyAlg::P256, KidRule::Rfc7638))
    );
    assert!(
        ring.warnings()
            .iter()
            .any(|w| w.contains("is the derived id of"))
    );
}

#[test]
fn hostile_strings_are_escaped_in_messages() {
    let evil = ec_jwk("").replace("P-256", "P-256\u{1b}[31m");
    let e = parse(&evil).unwrap_err();
    assert!(!e.to_string().contains('\u{1b}'), "{e}");
}

#[test]
fn asqav_cloud_entry_with_akp_members() {
    let raw = mldsa_raw();
    let pub_url = URL_SAFE_NO_PAD.encode(&raw);
    let akp = format!(r#"{{"alg":"ML-DSA-65","kty":"AKP","pub":"{pub_url}"}}"#);
    let tp = format!("sha256:{}", hex::encode(Sha256::digest(akp.as_bytes())));
    let entry = |public_key: &str, thumb: &str| {
        format!(
            r#"{{"keys":[{{"kid":"mxYq","agent_id":"agt_1","alg":"ML-DSA-65","kty":"AKP",
                "pub":"{pub_url}","public_key":"{public_key}","key_thumbprint":"{thumb}",
                "status":"active","revoked_at":null}}]}}"#
        )
    };
    let ring = parse(&entry(&STANDARD.encode(&raw), &tp)).unwrap();
    assert_eq!(ring.len(), 1);
    assert_eq!(ring.keys()[0].public.bytes(), raw.as_slice());
    assert_eq!(ring.keys()[0].revoked_at, None);
    assert!(!ring.warnings().iter().any(|w| w.contains("key_thumbprint")));
    // A wrong thumbprint is reported even when kty/pub are present.
    let ring = parse(&entry(&STANDARD.encode(&raw), "sha256:ab")).unwrap();
    assert!(ring.warnings().iter().any(|w| w.contains("key_thumbprint")));
    // pub and public_key holding different keys is an error.
    let mut other = raw.clone();
    other[0] ^= 1;
    assert!(matches!(
        parse(&entry(&STANDARD.encode(&other), &tp)),
        Err(KeyError::BadMember { member, .. }) if member == "public_key"
    ));
}

#[test]
fn key_tables_lay_out_alike_on_every_build() {
    // Tables filled with the same kids in different orders list them alike, in kid order: the
    // layout depends on the entries alone. A hash table lists them in hash order, which is not
    // this order (and with a randomly seeded hasher differs on every build).
    let fill = |order: &mut dyn Iterator<Item = u32>| {
        let mut table = KeyTable::default();
        for i in order {
            table.insert(format!("kid-{i:02}"), i);
        }
        table.into_iter().collect::<Vec<_>>()
    };
    let listed = fill(&mut (0..64));
    assert_eq!(listed, fill(&mut (0..64).rev()));
    let expected: Vec<_> = (0..64).map(|i| (format!("kid-{i:02}"), i)).collect();
    assert_eq!(listed, expected);
    let set: Vec<u32> = (0..64).rev().collect::<KeySet<u32>>().into_iter().collect();
    assert_eq!(set, (0..64).collect::<Vec<_>>());
}
