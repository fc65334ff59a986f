//! Signature verification behind one small trait, with two interchangeable
//! providers: `aws-lc-rs` (the default, fast) and the pure-Rust RustCrypto
//! stack (`p256`, `ml-dsa`, `ed25519-dalek`). This module owns the algorithm
//! and key types every provider shares, and the rules they must agree on:
//! ECDSA P-256 with SHA-256 (FIPS 186-5; raw IEEE P1363 `r‖s` or strict DER
//! `Ecdsa-Sig-Value` per RFC 3279 / X.690 DER), Ed25519 (RFC 8032, 5.1.7) and
//! pure ML-DSA-65 with a context string (FIPS 204, Algorithm 3, with
//! Algorithm 8 for ACVP internal-interface vectors).
//!
//! Every verification answers only yes or no: a wrong length, a malformed
//! encoding, a scalar out of range or a signature of another algorithm is
//! "no", never a panic. High-S ECDSA signatures are valid (no normalisation).

#[cfg(feature = "aws-lc")]
mod aws_lc;
mod rustcrypto;
mod stream;

pub use stream::StreamVerifier;

use std::fmt;

/// Length of an Ed25519 public key (RFC 8032, 5.1.5).
pub const ED25519_PUBLIC_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature (RFC 8032, 5.1.6).
pub const ED25519_SIGNATURE_LEN: usize = 64;
/// Length of an uncompressed SEC1 P-256 point (`0x04 ‖ x ‖ y`).
pub const P256_UNCOMPRESSED_LEN: usize = 65;
/// Length of a compressed SEC1 P-256 point (`0x02|0x03 ‖ x`).
pub const P256_COMPRESSED_LEN: usize = 33;
/// Length of an IEEE P1363 P-256 signature (`r ‖ s`, 32 bytes each).
pub const P256_P1363_SIGNATURE_LEN: usize = 64;
/// Length of an ML-DSA-65 public key (FIPS 204, Table 2).
pub const MLDSA65_PUBLIC_KEY_LEN: usize = 1952;
/// Length of an ML-DSA-65 signature (FIPS 204, Table 2).
pub const MLDSA65_SIGNATURE_LEN: usize = 3309;
/// Longest ML-DSA context string (FIPS 204, Algorithm 3).
pub const MLDSA_MAX_CONTEXT_LEN: usize = 255;

/// A public-key algorithm audit-verify can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyAlg {
    /// ECDSA over NIST P-256 (secp256r1) with SHA-256.
    P256,
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ML-DSA-65 (FIPS 204).
    MlDsa65,
}

impl KeyAlg {
    /// The name used in reports: `P-256`, `Ed25519`, `ML-DSA-65`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            KeyAlg::P256 => "P-256",
            KeyAlg::Ed25519 => "Ed25519",
            KeyAlg::MlDsa65 => "ML-DSA-65",
        }
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A checked public key: the algorithm and its canonical raw encoding.
///
/// P-256 keys are stored as the 65-byte uncompressed SEC1 point, Ed25519
/// keys as the 32-byte RFC 8032 encoding, ML-DSA-65 keys as the 1952-byte
/// FIPS 204 `pkEncode` output. Keys order by algorithm, then encoding.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey {
    alg: KeyAlg,
    bytes: Vec<u8>,
}

impl PublicKey {
    /// Checks and wraps raw public-key bytes.
    ///
    /// P-256 accepts an uncompressed (65 bytes) or compressed (33 bytes) SEC1
    /// point, rejects the identity and points not on the curve, and stores the
    /// uncompressed form. Ed25519 requires 32 bytes that decode to a curve
    /// point of more than small order. ML-DSA-65 requires exactly 1952 bytes (every such string is a
    /// valid `pkDecode` input). The check is the same whichever provider runs.
    ///
    /// # Errors
    /// [`CryptoError`] naming the algorithm, the expected and the found length,
    /// or why the point is not acceptable.
    pub fn new(alg: KeyAlg, bytes: Vec<u8>) -> Result<Self, CryptoError> {
        match alg {
            KeyAlg::P256 => {
                let expected_len = match bytes.first() {
                    Some(0x04) => P256_UNCOMPRESSED_LEN,
                    Some(0x02 | 0x03) => P256_COMPRESSED_LEN,
                    Some(&tag) => return Err(CryptoError::Sec1Tag { tag }),
                    None => {
                        return Err(CryptoError::KeyLength {
                            alg,
                            expected: "65 (uncompressed) or 33 (compressed)",
                            found: 0,
                        });
                    }
                };
                if bytes.len() != expected_len {
                    return Err(CryptoError::KeyLength {
                        alg,
                        expected: if expected_len == P256_UNCOMPRESSED_LEN {
                            "65 (uncompressed)"
                        } else {
                            "33 (compressed)"
                        },
                        found: bytes.len(),
                    });
                }
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes)
                    .map_err(|_| CryptoError::P256NotOnCurve)?;
                let uncompressed = vk.to_sec1_point(false).as_bytes().to_vec();
                Ok(PublicKey {
                    alg,
                    bytes: uncompressed,
                })
            }
            KeyAlg::Ed25519 => {
                let arr: [u8; ED25519_PUBLIC_KEY_LEN] =
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| CryptoError::KeyLength {
                            alg,
                            expected: "32",
                            found: bytes.len(),
                        })?;
                let vk = ed25519_dalek::VerifyingKey::from_bytes(&arr)
                    .map_err(|_| CryptoError::Ed25519NotAPoint)?;
                // A small-order key verifies forged signatures under the
                // cofactorless equation both providers use; it is never a real key.
                if vk.is_weak() {
                    return Err(CryptoError::Ed25519WeakKey);
                }
                Ok(PublicKey { alg, bytes })
            }
            KeyAlg::MlDsa65 => {
                if bytes.len() != MLDSA65_PUBLIC_KEY_LEN {
                    return Err(CryptoError::KeyLength {
                        alg,
                        expected: "1952",
                        found: bytes.len(),
                    });
                }
                Ok(PublicKey { alg, bytes })
            }
        }
    }

    /// The key's algorithm.
    #[must_use]
    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// The canonical raw encoding (see the type documentation).
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Full ML-DSA keys would swamp any debug output; a prefix identifies them.
        let shown = &self.bytes[..self.bytes.len().min(16)];
        write!(
            f,
            "PublicKey({}, {} bytes, {}…)",
            self.alg,
            self.bytes.len(),
            hex::encode(shown)
        )
    }
}

/// A signature to check, tagged with its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature<'a> {
    /// ECDSA P-256/SHA-256, IEEE P1363 `r ‖ s` (exactly 64 bytes).
    EcdsaP1363(&'a [u8]),
    /// ECDSA P-256/SHA-256, DER `SEQUENCE { r INTEGER, s INTEGER }` (strict DER).
    EcdsaDer(&'a [u8]),
    /// Ed25519, 64 bytes `R ‖ S`.
    Ed25519(&'a [u8]),
    /// ML-DSA-65 (pure, external interface) with its context string (≤ 255 bytes).
    MlDsa65 {
        /// The 3309-byte signature.
        sig: &'a [u8],
        /// The context string; empty for most producers.
        ctx: &'a [u8],
    },
}

impl Signature<'_> {
    /// The key algorithm this signature needs.
    #[must_use]
    pub fn alg(&self) -> KeyAlg {
        match self {
            Signature::EcdsaP1363(_) | Signature::EcdsaDer(_) => KeyAlg::P256,
            Signature::Ed25519(_) => KeyAlg::Ed25519,
            Signature::MlDsa65 { .. } => KeyAlg::MlDsa65,
        }
    }
}

/// A signature-verification backend.
pub trait Provider: Send + Sync {
    /// Short name: `aws-lc-rs` or `rustcrypto`.
    fn name(&self) -> &'static str;

    /// Decodes `key` once for many verifications.
    ///
    /// # Errors
    /// [`CryptoError::ProviderRejectedKey`] if the backend refuses a key that
    /// [`PublicKey::new`] accepted.
    fn prepare(&self, key: &PublicKey) -> Result<Box<dyn PreparedKey>, CryptoError>;

    /// FIPS 204 `ML-DSA.Verify_internal` (Algorithm 8, `M'` given directly),
    /// for ACVP internal-interface vectors. `None` if the provider cannot run it;
    /// `Some(false)` for a key that is not ML-DSA-65 or a malformed signature.
    fn verify_mldsa65_internal(&self, key: &PublicKey, m_prime: &[u8], sig: &[u8]) -> Option<bool>;
}

/// A public key decoded by one provider, ready for repeated verification.
pub trait PreparedKey: Send + Sync {
    /// The key's algorithm.
    fn alg(&self) -> KeyAlg;
    /// `true` only if `sig` is a valid signature of `msg` under this key.
    /// False for a signature of another algorithm, a wrong length, a malformed
    /// encoding or an ML-DSA context over 255 bytes.
    fn verify(&self, sig: Signature<'_>, msg: &[u8]) -> bool;
}

/// Errors in building or preparing a public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum CryptoError {
    /// The raw key has the wrong length.
    #[error("{alg} public key must be {expected} bytes, found {found}")]
    #[diagnostic(
        code(audit_verify::crypto::key_length),
        help("supply the raw public key of the named algorithm, not a private key or a hash")
    )]
    KeyLength {
        /// The algorithm.
        alg: KeyAlg,
        /// The accepted length(s).
        expected: &'static str,
        /// The length found.
        found: usize,
    },
    /// A P-256 key does not start with a SEC1 point tag we accept.
    #[error(
        "P-256 public key starts with 0x{tag:02x}; expected a SEC1 point tag 0x04, 0x02 or 0x03"
    )]
    #[diagnostic(
        code(audit_verify::crypto::sec1_tag),
        help("supply an uncompressed (0x04) or compressed (0x02/0x03) SEC1 point")
    )]
    Sec1Tag {
        /// The first byte found.
        tag: u8,
    },
    /// A P-256 key is the identity or not on the curve.
    #[error("P-256 public key is not a point on the curve (or is the identity)")]
    #[diagnostic(
        code(audit_verify::crypto::not_on_curve),
        help("the key is corrupted or belongs to another curve")
    )]
    P256NotOnCurve,
    /// 32 bytes that do not decode to an Edwards25519 point.
    #[error("Ed25519 public key does not decode to a curve point")]
    #[diagnostic(
        code(audit_verify::crypto::ed25519_point),
        help("the key is corrupted or is not an Ed25519 public key")
    )]
    Ed25519NotAPoint,
    /// An Ed25519 key of small order (e.g. the identity).
    #[error("Ed25519 public key is a small-order point; any message would verify under it")]
    #[diagnostic(
        code(audit_verify::crypto::ed25519_weak_key),
        help("this is not a real signing key; supply the signer's actual public key")
    )]
    Ed25519WeakKey,
    /// A provider refused a key that passed [`PublicKey::new`].
    #[error("provider {provider} rejected the {alg} public key")]
    #[diagnostic(
        code(audit_verify::crypto::provider_rejected_key),
        help("try another provider and report the key as a bug")
    )]
    ProviderRejectedKey {
        /// The provider's name.
        provider: &'static str,
        /// The key's algorithm.
        alg: KeyAlg,
    },
}

/// The default provider: `aws-lc-rs` with the `aws-lc` feature, else RustCrypto.
#[must_use]
pub fn default_provider() -> &'static dyn Provider {
    #[cfg(feature = "aws-lc")]
    {
        &aws_lc::AWS_LC
    }
    #[cfg(not(feature = "aws-lc"))]
    {
        &rustcrypto::RUSTCRYPTO
    }
}

/// The provider with this [`Provider::name`], if compiled in.
#[must_use]
pub fn provider_by_name(name: &str) -> Option<&'static dyn Provider> {
    all_providers().into_iter().find(|p| p.name() == name)
}

/// Every compiled-in provider, the default first.
#[must_use]
pub fn all_providers() -> Vec<&'static dyn Provider> {
    #[cfg(feature = "aws-lc")]
    {
        vec![&aws_lc::AWS_LC, &rustcrypto::RUSTCRYPTO]
    }
    #[cfg(not(feature = "aws-lc"))]
    {
        vec![&rustcrypto::RUSTCRYPTO]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec.jwks.json key `THzoo2…` as an uncompressed SEC1 point.
    fn p256_uncompressed() -> Vec<u8> {
        hex::decode(concat!(
            "04",
            "a969b45bd592bab707e0c962e863264e5c20d7419652acd3c577559d70a851a7",
            "49b04e8395a31d4fea05ecbbbce6584c99e7f9d20a046dfe4e111fbd41cf29d4"
        ))
        .unwrap()
    }

    #[test]
    fn names_and_display() {
        assert_eq!(KeyAlg::P256.to_string(), "P-256");
        assert_eq!(KeyAlg::Ed25519.to_string(), "Ed25519");
        assert_eq!(KeyAlg::MlDsa65.to_string(), "ML-DSA-65");
        let names: Vec<_> = all_providers().iter().map(|p| p.name()).collect();
        assert!(names.contains(&"rustcrypto"));
        assert_eq!(names[0], default_provider().name());
        assert!(provider_by_name("rustcrypto").is_some());
        assert!(provider_by_name("openssl").is_none());
        #[cfg(feature = "aws-lc")]
        assert_eq!(default_provider().name(), "aws-lc-rs");
    }

    #[test]
    fn p256_compressed_key_is_stored_uncompressed() {
        let full = p256_uncompressed();
        assert_eq!(full.len(), 65);
        let mut compressed = vec![0x02 | (full[64] & 1)];
        compressed.extend_from_slice(&full[1..33]);
        let k = PublicKey::new(KeyAlg::P256, compressed).unwrap();
        assert_eq!(k.bytes(), full.as_slice());
        assert_eq!(PublicKey::new(KeyAlg::P256, full.clone()).unwrap(), k);
    }

    #[test]
    fn p256_rejects_bad_points() {
        let mut off = p256_uncompressed();
        off[64] ^= 1;
        assert_eq!(
            PublicKey::new(KeyAlg::P256, off),
            Err(CryptoError::P256NotOnCurve)
        );
        assert_eq!(
            PublicKey::new(KeyAlg::P256, vec![0x00]),
            Err(CryptoError::Sec1Tag { tag: 0 })
        );
        let mut hybrid = p256_uncompressed();
        hybrid[0] = 0x06;
        assert!(matches!(
            PublicKey::new(KeyAlg::P256, hybrid),
            Err(CryptoError::Sec1Tag { tag: 6 })
        ));
        let short = p256_uncompressed()[..64].to_vec();
        assert!(matches!(
            PublicKey::new(KeyAlg::P256, short),
            Err(CryptoError::KeyLength { found: 64, .. })
        ));
        // x = 2^256 - 1 is not a field element (≥ p).
        let mut big = vec![0x02];
        big.extend([0xff; 32]);
        assert_eq!(
            PublicKey::new(KeyAlg::P256, big),
            Err(CryptoError::P256NotOnCurve)
        );
        assert!(PublicKey::new(KeyAlg::P256, Vec::new()).is_err());
    }

    #[test]
    fn lengths_are_checked() {
        assert!(matches!(
            PublicKey::new(KeyAlg::Ed25519, vec![0; 31]),
            Err(CryptoError::KeyLength { found: 31, .. })
        ));
        assert!(matches!(
            PublicKey::new(KeyAlg::MlDsa65, vec![0; 1951]),
            Err(CryptoError::KeyLength { found: 1951, .. })
        ));
        assert!(PublicKey::new(KeyAlg::MlDsa65, vec![0; 1952]).is_ok());
        let e = PublicKey::new(KeyAlg::MlDsa65, vec![0; 1953]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ML-DSA-65 public key must be 1952 bytes, found 1953"
        );
    }

    #[test]
    fn ed25519_rejects_non_points() {
        // y = 2 is not the y-coordinate of any Edwards25519 point.
        let mut y2 = [0u8; 32];
        y2[0] = 2;
        assert_eq!(
            PublicKey::new(KeyAlg::Ed25519, y2.to_vec()),
            Err(CryptoError::Ed25519NotAPoint)
        );
        // The identity (y = 1) and the order-2 point (y = -1) are small-order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            PublicKey::new(KeyAlg::Ed25519, identity.to_vec()),
            Err(CryptoError::Ed25519WeakKey)
        );
        let minus_one =
            hex::decode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
                .unwrap();
        assert_eq!(
            PublicKey::new(KeyAlg::Ed25519, minus_one),
            Err(CryptoError::Ed25519WeakKey)
        );
    }

    #[test]
    fn mismatched_signature_kinds_are_false() {
        let key = PublicKey::new(KeyAlg::P256, p256_uncompressed()).unwrap();
        for p in all_providers() {
            let pk = p.prepare(&key).unwrap();
            assert_eq!(pk.alg(), KeyAlg::P256);
            assert!(!pk.verify(Signature::Ed25519(&[0; 64]), b"m"));
            assert!(!pk.verify(Signature::MlDsa65 { sig: &[], ctx: &[] }, b"m"));
            assert!(!pk.verify(Signature::EcdsaP1363(&[]), b"m"));
            assert!(!pk.verify(Signature::EcdsaDer(&[0x30, 0x00]), b"m"));
            assert_eq!(
                p.verify_mldsa65_internal(&key, b"m", &[0; 3309]),
                if p.name() == "rustcrypto" {
                    Some(false)
                } else {
                    None
                }
            );
        }
    }
}
