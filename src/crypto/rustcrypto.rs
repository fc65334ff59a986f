//! The pure-Rust provider: `p256` (ECDSA P-256/SHA-256, FIPS 186-5, with
//! P1363 and strict DER decoding from the `ecdsa` and `der` crates),
//! `ed25519-dalek` (RFC 8032 5.1.7 cofactorless verification, canonical `S`,
//! as BoringSSL/aws-lc do) and `ml-dsa` (FIPS 204 Algorithms 3 and 8).
//!
//! Also used by the `aws-lc-rs` provider for ML-DSA with a non-empty context,
//! which `aws-lc-rs` does not expose.

use super::{
    CryptoError, ED25519_SIGNATURE_LEN, KeyAlg, MLDSA_MAX_CONTEXT_LEN, MLDSA65_SIGNATURE_LEN,
    P256_P1363_SIGNATURE_LEN, PreparedKey, Provider, PublicKey, Signature,
};
use ml_dsa::{EncodedVerifyingKey, MlDsa65};
use p256::ecdsa::signature::Verifier as _;

/// The RustCrypto provider.
pub(crate) struct RustCrypto;

/// The one instance handed out by [`super::all_providers`].
pub(crate) static RUSTCRYPTO: RustCrypto = RustCrypto;

const NAME: &str = "rustcrypto";

/// A decoded ML-DSA-65 verifying key (with its expanded matrix cached).
pub(crate) type MlDsa65Key = ml_dsa::VerifyingKey<MlDsa65>;

/// Decodes a 1952-byte ML-DSA-65 key; `None` for any other length.
pub(crate) fn mldsa65_key(bytes: &[u8]) -> Option<MlDsa65Key> {
    let enc = EncodedVerifyingKey::<MlDsa65>::try_from(bytes).ok()?;
    Some(ml_dsa::VerifyingKey::decode(&enc))
}

/// FIPS 204 Algorithm 3 (`ML-DSA.Verify`, pure, external interface).
pub(crate) fn mldsa65_verify(key: &MlDsa65Key, sig: &[u8], ctx: &[u8], msg: &[u8]) -> bool {
    if ctx.len() > MLDSA_MAX_CONTEXT_LEN || sig.len() != MLDSA65_SIGNATURE_LEN {
        return false;
    }
    match ml_dsa::Signature::<MlDsa65>::try_from(sig) {
        Ok(sig) => key.verify_with_context(msg, ctx, &sig),
        Err(_) => false,
    }
}

enum Prepared {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    MlDsa65(Box<MlDsa65Key>),
}

impl Provider for RustCrypto {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, key: &PublicKey) -> Result<Box<dyn PreparedKey>, CryptoError> {
        let rejected = || CryptoError::ProviderRejectedKey {
            provider: NAME,
            alg: key.alg(),
        };
        let prepared = match key.alg() {
            KeyAlg::P256 => Prepared::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(key.bytes()).map_err(|_| rejected())?,
            ),
            KeyAlg::Ed25519 => {
                let arr: &[u8; 32] = key.bytes().try_into().map_err(|_| rejected())?;
                Prepared::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(arr).map_err(|_| rejected())?,
                )
            }
            KeyAlg::MlDsa65 => {
                Prepared::MlDsa65(Box::new(mldsa65_key(key.bytes()).ok_or_else(rejected)?))
            }
        };
        Ok(Box::new(prepared))
    }

    fn verify_mldsa65_internal(&self, key: &PublicKey, m_prime: &[u8], sig: &[u8]) -> Option<bool> {
        if key.alg() != KeyAlg::MlDsa65 || sig.len() != MLDSA65_SIGNATURE_LEN {
            return Some(false);
        }
        let Some(vk) = mldsa65_key(key.bytes()) else {
            return Some(false);
        };
        Some(match ml_dsa::Signature::<MlDsa65>::try_from(sig) {
            Ok(sig) => vk.verify_internal(m_prime, &sig),
            Err(_) => false,
        })
    }
}

impl PreparedKey for Prepared {
    fn alg(&self) -> KeyAlg {
        match self {
            Prepared::P256(_) => KeyAlg::P256,
            Prepared::Ed25519(_) => KeyAlg::Ed25519,
            Prepared::MlDsa65(_) => KeyAlg::MlDsa65,
        }
    }

    fn verify(&self, sig: Signature<'_>, msg: &[u8]) -> bool {
        match (self, sig) {
            (Prepared::P256(vk), Signature::EcdsaP1363(raw)) => {
                // `from_slice` rejects r or s equal to 0 or ≥ n.
                raw.len() == P256_P1363_SIGNATURE_LEN
                    && p256::ecdsa::Signature::from_slice(raw)
                        .is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
            (Prepared::P256(vk), Signature::EcdsaDer(der)) => {
                // `from_der` is strict DER (the `der` crate) and range-checks r and s.
                p256::ecdsa::Signature::from_der(der).is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
            (Prepared::Ed25519(vk), Signature::Ed25519(raw)) => {
                let Ok(arr) = <&[u8; ED25519_SIGNATURE_LEN]>::try_from(raw) else {
                    return false;
                };
                let s = ed25519_dalek::Signature::from_bytes(arr);
                // Cofactorless check with canonical S, as BoringSSL's ED25519_verify.
                vk.verify(msg, &s).is_ok()
            }
            (Prepared::MlDsa65(vk), Signature::MlDsa65 { sig, ctx }) => {
                mldsa65_verify(vk, sig, ctx, msg)
            }
            _ => false,
        }
    }
}
