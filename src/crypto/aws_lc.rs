//! The default provider, backed by `aws-lc-rs` (AWS-LC): ECDSA P-256/SHA-256
//! in P1363 (`ECDSA_P256_SHA256_FIXED`) and strict DER (`_ASN1`) form
//! (FIPS 186-5), Ed25519 (RFC 8032) and ML-DSA-65 (FIPS 204). Keys are parsed
//! once into `ParsedPublicKey`s.
//!
//! `aws-lc-rs` 1.19 verifies ML-DSA only with an empty context string and
//! has no `ML-DSA.Verify_internal`. A signature with a non-empty context is
//! therefore checked with the RustCrypto `ml-dsa` code (FIPS 204 Algorithm 3),
//! decoded lazily on first use, and [`Provider::verify_mldsa65_internal`]
//! answers `None`.

use std::sync::OnceLock;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED, ED25519, ML_DSA_65, ParsedPublicKey,
};

use super::rustcrypto::{MlDsa65Key, mldsa65_key, mldsa65_verify};
use super::{
    CryptoError, ED25519_SIGNATURE_LEN, KeyAlg, MLDSA_MAX_CONTEXT_LEN, MLDSA65_SIGNATURE_LEN,
    P256_P1363_SIGNATURE_LEN, PreparedKey, Provider, PublicKey, Signature,
};

/// The aws-lc-rs provider.
pub(crate) struct AwsLc;

/// The one instance handed out by [`super::all_providers`].
pub(crate) static AWS_LC: AwsLc = AwsLc;

const NAME: &str = "aws-lc-rs";

enum Prepared {
    P256 {
        fixed: ParsedPublicKey,
        der: ParsedPublicKey,
    },
    Ed25519(ParsedPublicKey),
    MlDsa65 {
        parsed: ParsedPublicKey,
        raw: Vec<u8>,
        /// RustCrypto key for non-empty contexts, decoded on first need.
        with_context: OnceLock<Option<Box<MlDsa65Key>>>,
    },
}

impl Provider for AwsLc {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, key: &PublicKey) -> Result<Box<dyn PreparedKey>, CryptoError> {
        let rejected = |_| CryptoError::ProviderRejectedKey {
            provider: NAME,
            alg: key.alg(),
        };
        let bytes = key.bytes();
        let prepared = match key.alg() {
            KeyAlg::P256 => Prepared::P256 {
                fixed: ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, bytes).map_err(rejected)?,
                der: ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, bytes).map_err(rejected)?,
            },
            KeyAlg::Ed25519 => {
                Prepared::Ed25519(ParsedPublicKey::new(&ED25519, bytes).map_err(rejected)?)
            }
            KeyAlg::MlDsa65 => Prepared::MlDsa65 {
                parsed: ParsedPublicKey::new(&ML_DSA_65, bytes).map_err(rejected)?,
                raw: bytes.to_vec(),
                with_context: OnceLock::new(),
            },
        };
        Ok(Box::new(prepared))
    }

    fn verify_mldsa65_internal(
        &self,
        _key: &PublicKey,
        _m_prime: &[u8],
        _sig: &[u8],
    ) -> Option<bool> {
        // aws-lc-rs exposes neither ML-DSA.Verify_internal nor external mu.
        None
    }
}

impl PreparedKey for Prepared {
    fn alg(&self) -> KeyAlg {
        match self {
            Prepared::P256 { .. } => KeyAlg::P256,
            Prepared::Ed25519(_) => KeyAlg::Ed25519,
            Prepared::MlDsa65 { .. } => KeyAlg::MlDsa65,
        }
    }

    fn verify(&self, sig: Signature<'_>, msg: &[u8]) -> bool {
        match (self, sig) {
            (Prepared::P256 { fixed, .. }, Signature::EcdsaP1363(raw)) => {
                // AWS-LC rejects r or s equal to 0 or ≥ n.
                raw.len() == P256_P1363_SIGNATURE_LEN && fixed.verify_sig(msg, raw).is_ok()
            }
            (Prepared::P256 { der, .. }, Signature::EcdsaDer(raw)) => {
                // AWS-LC's ECDSA_SIG_from_bytes parses strict DER and rejects trailing data.
                der.verify_sig(msg, raw).is_ok()
            }
            (Prepared::Ed25519(key), Signature::Ed25519(raw)) => {
                raw.len() == ED25519_SIGNATURE_LEN && key.verify_sig(msg, raw).is_ok()
            }
            (
                Prepared::MlDsa65 {
                    parsed,
                    raw,
                    with_context,
                },
                Signature::MlDsa65 { sig, ctx },
            ) => {
                if sig.len() != MLDSA65_SIGNATURE_LEN || ctx.len() > MLDSA_MAX_CONTEXT_LEN {
                    false
                } else if ctx.is_empty() {
                    parsed.verify_sig(msg, sig).is_ok()
                } else {
                    with_context
                        .get_or_init(|| mldsa65_key(raw).map(Box::new))
                        .as_deref()
                        .is_some_and(|vk| mldsa65_verify(vk, sig, ctx, msg))
                }
            }
            _ => false,
        }
    }
}
