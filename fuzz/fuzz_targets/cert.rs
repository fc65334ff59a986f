//! Verification certificates (DSSE envelopes). With a first byte of 0 the rest is the envelope
//! file itself (read against the fixture keys and the harness key); otherwise the rest is the
//! statement payload, which the harness signs with its own key so that the payload parser, the
//! anchors taken from a certificate, the shard merge and the renderers see hostile statements.
#![no_main]

use std::sync::LazyLock;

use audit_verify::cert::{
    self, Envelope, EnvelopeSignature, PAYLOAD_TYPE, SigningKey, anchors_of, merge, pae,
    read_certificate, render_certified, render_certified_json,
};
use audit_verify::crypto::KeyAlg;
use audit_verify::keys::{Key, KeyRing};
use audit_verify_fuzz::ring;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;

static SIGNER: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::generate(KeyAlg::P256).expect("generate").0);

static RING: LazyLock<KeyRing> = LazyLock::new(|| {
    let mut keys = ring().keys().to_vec();
    keys.push(Key {
        public: SIGNER.public().clone(),
        declared_kid: None,
        source: "harness".into(),
        status: None,
        revoked_at: None,
        binding: Default::default(),
    });
    KeyRing::from_keys(keys)
});

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let envelope = if mode == 0 {
        rest.to_vec()
    } else {
        let sig = SIGNER.sign(&pae(PAYLOAD_TYPE, rest)).expect("sign");
        let env = Envelope {
            payload_type: PAYLOAD_TYPE.into(),
            payload: STANDARD.encode(rest),
            signatures: vec![EnvelopeSignature {
                keyid: SIGNER.keyid(),
                sig: STANDARD.encode(sig),
            }],
        };
        serde_json::to_vec(&env).expect("envelope")
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cert.json");
    std::fs::write(&path, &envelope).expect("write certificate");
    let Ok(certified) = read_certificate(&path, &RING, audit_verify::crypto::default_provider())
    else {
        return;
    };
    let _ = anchors_of(&certified, "fuzz");
    for chain in &certified.statement.predicate.chains {
        if let Some(m) = &chain.merkle {
            let _ = cert::range_of(m);
        }
    }
    let _ = render_certified(&certified, &[]);
    let _ = render_certified_json(&certified, &[]);
    let now = jiff::Timestamp::UNIX_EPOCH;
    let _ = merge(
        &[
            ("a".into(), certified.clone()),
            ("b".into(), certified.clone()),
        ],
        now,
    );
    let _ = merge(&[("a".into(), certified)], now);
});
