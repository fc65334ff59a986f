//! Verification certificates (DSSE envelopes). With a first byte of 0 the rest is the envelope file
//! itself (read against the fixture keys); otherwise the rest is the statement payload, which the
//! harness signs with a fixture key (the test-only `other-es256`, in the fixture ring) so that the
//! payload parser, the anchors taken from a certificate, the shard merge and the renderers see
//! hostile statements. The key is fixed, not generated: a key made afresh in each process took the
//! key ring's builder down different paths from one replay of a corpus to the next.
//! With bit 1 of the first byte set, the renderers also show the inputs re-checked against the
//! statement's subjects (`cert verify --input`): an empty file, which a subject can name by the
//! SHA-256 of no bytes, and the certificate file itself, which no subject names.
#![no_main]

use std::sync::LazyLock;

use audit_verify::cert::{
    self, Envelope, EnvelopeSignature, PAYLOAD_TYPE, SigningKey, anchors_of, check_inputs, merge,
    pae, read_certificate, render_certified, render_certified_json,
};
use audit_verify_fuzz::{ring, testdata};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;

static SIGNER: LazyLock<SigningKey> = LazyLock::new(|| {
    SigningKey::load(&testdata("keys/test-only/other-es256.pem")).expect("fixture signing key")
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
    let Ok(certified) = read_certificate(&path, ring(), audit_verify::crypto::default_provider())
    else {
        return;
    };
    let _ = anchors_of(&certified, "fuzz");
    for chain in &certified.statement.predicate.chains {
        if let Some(m) = &chain.merkle {
            let _ = cert::range_of(m);
        }
    }
    let inputs = if mode & 2 != 0 {
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").expect("write input");
        check_inputs(&certified.statement, &[empty, path.clone()]).expect("inputs are readable")
    } else {
        Vec::new()
    };
    let _ = render_certified(&certified, &inputs);
    let _ = render_certified_json(&certified, &inputs);
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
