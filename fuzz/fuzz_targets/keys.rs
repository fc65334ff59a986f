//! Key files (PEM, JWK, JWKS, asqav key directory, aat-verify keystore, hex) parsed from memory.
//! Oracles: every accepted key survives SPKI → PEM → parse unchanged, both crypto providers
//! accept every key `PublicKey::new` accepted, and a key found by each of its kids is itself.
#![no_main]

use std::path::Path;

use audit_verify::cert::pem_encode;
use audit_verify::keys::KeyRing;
use audit_verify::sig::SigContext;
use audit_verify_fuzz::providers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ring) = KeyRing::parse(data, Path::new("fuzz.key")) else {
        return;
    };
    assert!(!ring.is_empty(), "a parsed key file holds a key");
    for p in providers() {
        if let Err(e) = SigContext::new(&ring, p) {
            panic!("provider {} refuses a checked key: {e}", p.name());
        }
    }
    for key in ring.keys() {
        let _ = key.fingerprint();
        let pem = pem_encode("PUBLIC KEY", &key.spki_der());
        let again = KeyRing::parse(pem.as_bytes(), Path::new("again.pem"))
            .unwrap_or_else(|e| panic!("our own SPKI does not parse: {e}"));
        assert_eq!(again.keys()[0].public, key.public, "SPKI round trip");
        for (_, kid) in key.derived_kids() {
            let (found, _) = ring.find(&kid).expect("a derived kid resolves");
            assert_eq!(
                found.public, key.public,
                "kid {kid} resolves to another key"
            );
        }
    }
});
