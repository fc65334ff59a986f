//! One signature checked over a message given in pieces, for a message too large to hold: an
//! asqav Audit Pack's signed projection, which is as long as the pack. The same rules as the
//! providers' one-shot verification, on the pure-Rust stack (one verification per pack, so its
//! speed does not matter):
//!
//! * ECDSA P-256: SHA-256 of the pieces, then FIPS 186-5 verification of that digest
//!   (`p256`'s prehash interface); high-S signatures are valid, as in one shot.
//! * Ed25519: RFC 8032 5.1.7 cofactorless verification with canonical `S`, the message fed to
//!   the `SHA-512(R ‖ A ‖ M)` state as it comes (`ed25519-dalek`'s stream verifier).
//! * ML-DSA-65: FIPS 204 Algorithm 3 with the message representative μ computed outside
//!   (`μ = SHAKE256(tr ‖ 0 ‖ |ctx| ‖ ctx ‖ M)`, `tr = SHAKE256(pk)`, 64 bytes each), then
//!   Algorithm 8 from μ on.

use ml_dsa::MlDsa65;
use ml_dsa::common::array::Array;
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use sha2::{Digest as _, Sha256};
use shake::{ExtendableOutput as _, Shake256, Update as _, XofReader as _};

use super::rustcrypto::{MlDsa65Key, mldsa65_key};
use super::{
    ED25519_SIGNATURE_LEN, KeyAlg, MLDSA_MAX_CONTEXT_LEN, MLDSA65_SIGNATURE_LEN,
    P256_P1363_SIGNATURE_LEN, PublicKey, Signature,
};

/// A signature being checked over a message fed in pieces ([`StreamVerifier::update`]); the
/// answer comes at the end ([`StreamVerifier::finish`]). The pieces' boundaries do not matter.
pub struct StreamVerifier(Inner);

enum Inner {
    P256 {
        key: p256::ecdsa::VerifyingKey,
        sig: p256::ecdsa::Signature,
        hash: Sha256,
    },
    Ed25519(Box<ed25519_dalek::StreamVerifier>),
    MlDsa65 {
        key: Box<MlDsa65Key>,
        sig: Box<ml_dsa::Signature<MlDsa65>>,
        mu: Shake256,
    },
    /// A signature that cannot be valid whatever the message (wrong length, malformed encoding,
    /// a signature of another algorithm, a key the pure-Rust stack refuses).
    Refused,
}

impl StreamVerifier {
    /// Starts checking `sig` under `key`.
    #[must_use]
    pub fn new(key: &PublicKey, sig: Signature<'_>) -> StreamVerifier {
        StreamVerifier(Self::start(key, sig).unwrap_or(Inner::Refused))
    }

    fn start(key: &PublicKey, sig: Signature<'_>) -> Option<Inner> {
        match (key.alg(), sig) {
            (KeyAlg::P256, Signature::EcdsaP1363(raw) | Signature::EcdsaDer(raw)) => {
                let sig = match sig {
                    // `from_slice` rejects r or s equal to 0 or ≥ n; `from_der` is strict DER.
                    Signature::EcdsaP1363(_) if raw.len() == P256_P1363_SIGNATURE_LEN => {
                        p256::ecdsa::Signature::from_slice(raw).ok()?
                    }
                    Signature::EcdsaDer(_) => p256::ecdsa::Signature::from_der(raw).ok()?,
                    _ => return None,
                };
                Some(Inner::P256 {
                    key: p256::ecdsa::VerifyingKey::from_sec1_bytes(key.bytes()).ok()?,
                    sig,
                    hash: Sha256::new(),
                })
            }
            (KeyAlg::Ed25519, Signature::Ed25519(raw)) => {
                let raw = <&[u8; ED25519_SIGNATURE_LEN]>::try_from(raw).ok()?;
                let vk =
                    ed25519_dalek::VerifyingKey::from_bytes(key.bytes().try_into().ok()?).ok()?;
                // Refuses a non-canonical S, as the one-shot check does.
                let stream = vk
                    .verify_stream(&ed25519_dalek::Signature::from_bytes(raw))
                    .ok()?;
                Some(Inner::Ed25519(Box::new(stream)))
            }
            (KeyAlg::MlDsa65, Signature::MlDsa65 { sig, ctx }) => {
                if ctx.len() > MLDSA_MAX_CONTEXT_LEN || sig.len() != MLDSA65_SIGNATURE_LEN {
                    return None;
                }
                let sig = ml_dsa::Signature::<MlDsa65>::try_from(sig).ok()?;
                let mut tr = [0u8; 64];
                Shake256::default()
                    .chain(key.bytes())
                    .finalize_xof()
                    .read(&mut tr);
                let mut mu = Shake256::default();
                mu.update(&tr);
                // FIPS 204 Algorithm 3: M' = 0 ‖ |ctx| ‖ ctx ‖ M (|ctx| ≤ 255, checked above).
                mu.update(&[0, u8::try_from(ctx.len()).ok()?]);
                mu.update(ctx);
                Some(Inner::MlDsa65 {
                    key: Box::new(mldsa65_key(key.bytes())?),
                    sig: Box::new(sig),
                    mu,
                })
            }
            _ => None,
        }
    }

    /// Feeds the next piece of the message.
    pub fn update(&mut self, piece: &[u8]) {
        match &mut self.0 {
            Inner::P256 { hash, .. } => sha2::Digest::update(hash, piece),
            Inner::Ed25519(stream) => stream.update(piece),
            Inner::MlDsa65 { mu, .. } => mu.update(piece),
            Inner::Refused => {}
        }
    }

    /// `true` only if the signature is valid over the whole message fed.
    #[must_use]
    pub fn finish(self) -> bool {
        match self.0 {
            Inner::P256 { key, sig, hash } => key.verify_prehash(&hash.finalize(), &sig).is_ok(),
            Inner::Ed25519(stream) => stream.finalize_and_verify().is_ok(),
            Inner::MlDsa65 { key, sig, mu } => {
                let mut out = [0u8; 64];
                mu.finalize_xof().read(&mut out);
                key.verify_mu(&Array::from(out), &sig)
            }
            Inner::Refused => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::all_providers;

    /// Deterministic test keys and signatures of all three algorithms over `msg`.
    fn signed(msg: &[u8]) -> Vec<(PublicKey, Vec<u8>)> {
        use ed25519_dalek::Signer as _;
        use ml_dsa::signature::Keypair as _;
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let ed_sig = ed.sign(msg).to_bytes().to_vec();
        let ed_pub =
            PublicKey::new(KeyAlg::Ed25519, ed.verifying_key().to_bytes().to_vec()).unwrap();

        let ec = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap();
        let ec_sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&ec, msg);
        let ec_pub = PublicKey::new(
            KeyAlg::P256,
            ec.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        )
        .unwrap();

        let ml = ml_dsa::SigningKey::<MlDsa65>::from_seed(&[3u8; 32].into());
        let ml_sig = ml.expanded_key().sign_deterministic(msg, b"").unwrap();
        let ml_pub = PublicKey::new(KeyAlg::MlDsa65, ml.verifying_key().encode().to_vec()).unwrap();
        vec![
            (ed_pub, ed_sig),
            (ec_pub, ec_sig.to_bytes().to_vec()),
            (ml_pub, ml_sig.encode().to_vec()),
        ]
    }

    fn sig_of<'a>(key: &PublicKey, raw: &'a [u8]) -> Signature<'a> {
        match key.alg() {
            KeyAlg::Ed25519 => Signature::Ed25519(raw),
            KeyAlg::P256 => Signature::EcdsaP1363(raw),
            KeyAlg::MlDsa65 => Signature::MlDsa65 { sig: raw, ctx: b"" },
        }
    }

    fn streamed(key: &PublicKey, sig: Signature<'_>, msg: &[u8], piece: usize) -> bool {
        let mut v = StreamVerifier::new(key, sig);
        for chunk in msg.chunks(piece.max(1)) {
            v.update(chunk);
        }
        v.finish()
    }

    #[test]
    fn pieces_verify_as_the_whole_message_does_under_every_provider() {
        let msg: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for (key, raw) in signed(&msg) {
            let sig = sig_of(&key, &raw);
            for provider in all_providers() {
                assert!(provider.prepare(&key).unwrap().verify(sig, &msg), "{key:?}");
            }
            for piece in [1, 7, 64, 4096, msg.len()] {
                assert!(
                    streamed(&key, sig, &msg, piece),
                    "{key:?} in pieces of {piece}"
                );
            }
            // A changed byte anywhere, a missing or an extra byte: refused, as in one shot.
            for at in [0, msg.len() / 2, msg.len() - 1] {
                let mut other = msg.clone();
                other[at] ^= 1;
                assert!(!streamed(&key, sig, &other, 100), "{key:?} byte {at}");
            }
            assert!(!streamed(&key, sig, &msg[..msg.len() - 1], 100));
            let mut longer = msg.clone();
            longer.push(b' ');
            assert!(!streamed(&key, sig, &longer, 100));
            // A changed signature byte, a short signature.
            let mut bad = raw.clone();
            bad[5] ^= 1;
            assert!(!streamed(&key, sig_of(&key, &bad), &msg, 100), "{key:?}");
            assert!(!streamed(&key, sig_of(&key, &raw[1..]), &msg, 100));
        }
    }

    #[test]
    fn a_signature_of_another_algorithm_or_context_is_refused() {
        let msg = b"projection";
        let all = signed(msg);
        let (ed, ec, ml) = (&all[0], &all[1], &all[2]);
        assert!(!streamed(&ed.0, Signature::EcdsaP1363(&ec.1), msg, 4));
        assert!(!streamed(&ec.0, Signature::Ed25519(&ed.1), msg, 4));
        let with_ctx = Signature::MlDsa65 {
            sig: &ml.1,
            ctx: b"x",
        };
        assert!(!streamed(&ml.0, with_ctx, msg, 4));
        let long_ctx = [0u8; 256];
        let too_long = Signature::MlDsa65 {
            sig: &ml.1,
            ctx: &long_ctx,
        };
        assert!(!streamed(&ml.0, too_long, msg, 4));
    }

    #[test]
    fn high_s_ecdsa_and_non_canonical_ed25519_are_judged_as_in_one_shot() {
        let msg = b"pack";
        let all = signed(msg);
        // ECDSA (r, n - s) is valid too.
        let ec = &all[1];
        let sig = p256::ecdsa::Signature::from_slice(&ec.1).unwrap();
        let (r, s) = sig.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r, -*s.as_ref()).unwrap();
        let high = high.to_bytes().to_vec();
        assert!(streamed(&ec.0, Signature::EcdsaP1363(&high), msg, 3));
        for provider in all_providers() {
            let one = provider
                .prepare(&ec.0)
                .unwrap()
                .verify(Signature::EcdsaP1363(&high), msg);
            assert!(one, "{}", provider.name());
        }
        // Ed25519 with S + L (not canonical): refused by both.
        let ed = &all[0];
        let mut big = ed.1.clone();
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(big[32 + i]) + u16::from(l[i]) + carry;
            big[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert!(!streamed(&ed.0, Signature::Ed25519(&big), msg, 3));
        for provider in all_providers() {
            let one = provider
                .prepare(&ed.0)
                .unwrap()
                .verify(Signature::Ed25519(&big), msg);
            assert!(!one, "{}", provider.name());
        }
    }
}
