//! Which bytes are signed, by which key, under which algorithm (AAT §6.2).
//!
//! AAT signs `M = JCS(record without signature, signature_classical, batch)`: ES256 is ECDSA
//! P-256/SHA-256 over `M` with an IEEE P1363 `r||s` signature (DER is non-conformant and is
//! rejected, not tried); ML-DSA-65 is FIPS 204 pure ML-DSA with an empty context over the 32-byte
//! `SHA-256(M)`; hybrid records carry both, and both must verify. The algorithm registry is
//! closed: anything else, `none` included, fails. Keys are found by `signer_kid` through the key
//! ring's recognised kid rules (RFC 7638 thumbprints, the AKP thumbprint or SHA-256 of the raw
//! ML-DSA key); keys embedded in records are never used.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::canon::json::{Member, Value};
use crate::crypto::{KeyAlg, PreparedKey, Provider, Signature};
use crate::finding::Code;
use crate::keys::{Key, KeyRing, KidRule};

/// ES256 P1363 signature length.
const ES256_LEN: usize = 64;
/// ML-DSA-65 signature length (FIPS 204).
const MLDSA65_SIG_LEN: usize = 3309;
/// Half the order of P-256, big-endian: an `s` above it is "high".
const P256_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// The supplied keys, decoded once; the ring indexes them by every kid they answer to.
pub struct SigContext {
    ring: KeyRing,
    prepared: Vec<Box<dyn PreparedKey>>,
    provider: &'static str,
}

/// What the signature check of one record established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigOutcome {
    /// No `signature` member.
    Unsigned,
    /// Every signature present verified; `signer` describes the key(s) and the kid rule.
    Verified {
        /// e.g. `ES256 THzoo2_… (RFC 7638 thumbprint)`.
        signer: String,
    },
    /// A signature is invalid, malformed or of a disallowed algorithm.
    Failed,
    /// The key was not supplied: nothing could be established.
    Unknown,
    /// Outside the `--since`/`--until` window: hashed and linked, signature not checked.
    OutsideWindow,
}

impl SigContext {
    /// Prepares every key of the ring with the provider.
    ///
    /// # Errors
    /// A message naming the key when the provider refuses it.
    pub fn new(ring: &KeyRing, provider: &'static dyn Provider) -> Result<Self, String> {
        let prepared = ring
            .keys()
            .iter()
            .map(|key| {
                provider
                    .prepare(&key.public)
                    .map_err(|e| format!("key {}: {e}", key.source))
            })
            .collect::<Result<_, _>>()?;
        Ok(SigContext {
            ring: ring.clone(),
            prepared,
            provider: provider.name(),
        })
    }

    /// Whether any key was supplied.
    pub fn has_keys(&self) -> bool {
        !self.ring.is_empty()
    }

    /// The name of the crypto provider in use.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The supplied keys.
    pub fn keys(&self) -> &[Key] {
        self.ring.keys()
    }

    /// The key a kid designates (derived kids first, then declared), with a description of the
    /// match.
    pub fn find_kid(&self, kid: &str) -> Option<(usize, String)> {
        self.lookup(Some(kid), KeyAlg::Ed25519)
    }

    /// The only supplied key of an algorithm, if there is exactly one.
    pub fn only_key_of(&self, alg: KeyAlg) -> Option<(usize, String)> {
        self.lookup(None, alg)
    }

    /// The supplied key with exactly these raw public-key bytes (an embedded key is trusted only
    /// through such a match).
    pub fn find_public(&self, alg: KeyAlg, raw: &[u8]) -> Option<usize> {
        self.keys()
            .iter()
            .position(|k| k.public.alg() == alg && k.public.bytes() == raw)
    }

    /// Verifies `sig` over `msg` with the `i`-th supplied key; false for an unknown index.
    pub fn verify_with(&self, i: usize, sig: Signature<'_>, msg: &[u8]) -> bool {
        self.prepared.get(i).is_some_and(|k| k.verify(sig, msg))
    }

    /// Finds the key for `kid`, or with no kid the only key of the algorithm.
    fn lookup(&self, kid: Option<&str>, alg: KeyAlg) -> Option<(usize, String)> {
        match kid {
            Some(kid) => self
                .ring
                .position(kid)
                .map(|(i, rule)| (i, format!("{kid} ({rule})"))),
            None => {
                let mut of_alg = self
                    .keys()
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.public.alg() == alg);
                match (of_alg.next(), of_alg.next()) {
                    (Some((i, key)), None) => Some((
                        i,
                        format!(
                            "{} (no signer_kid; the only {alg} key supplied)",
                            key.fingerprint()
                        ),
                    )),
                    _ => None,
                }
            }
        }
    }
}

/// A signature finding before it is placed: code, message, field, expected/found.
pub type Note = (Code, String, &'static str, Option<(String, String)>);

/// Checks the signature members of one AAT record.
///
/// `signing_input` is `M`; `None` when the record could not be canonicalized (then nothing can be
/// verified and the outcome is `Unknown` unless the record is unsigned). ES256 signs `M` itself;
/// ML-DSA-65 signs SHA-256(`M`), computed here only for the records that need it.
pub fn check_aat(
    record: &[Member],
    signing_input: Option<&[u8]>,
    ctx: &SigContext,
    notes: &mut Vec<Note>,
) -> SigOutcome {
    let get = |name: &str| record.iter().find(|m| m.key == name).map(|m| &m.value);
    let signature = get("signature");
    let classical = get("signature_classical");
    let Some(signature) = signature else {
        if classical.is_some() {
            notes.push((
                Code::SigMalformed,
                "signature_classical present without signature".into(),
                "signature_classical",
                None,
            ));
            return SigOutcome::Failed;
        }
        return SigOutcome::Unsigned;
    };
    let alg = match get("sig_alg") {
        None => {
            notes.push((
                Code::SigAlgDefaulted,
                "sig_alg absent: ES256 assumed".into(),
                "signature",
                None,
            ));
            "ES256"
        }
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            notes.push((
                Code::SigUnsupportedAlg,
                format!("sig_alg is a {}, not an algorithm name", other.type_name()),
                "sig_alg",
                None,
            ));
            return SigOutcome::Failed;
        }
    };
    let kid = match kid_member(get("signer_kid"), "signer_kid", notes) {
        Ok(k) => k,
        Err(()) => return SigOutcome::Failed,
    };
    let Some(m) = signing_input else {
        return SigOutcome::Unknown;
    };
    match alg {
        "ES256" => {
            if classical.is_some() {
                notes.push((
                    Code::SigMalformed,
                    "signature_classical is only defined with sig_alg ML-DSA-65".into(),
                    "signature_classical",
                    None,
                ));
                return SigOutcome::Failed;
            }
            es256(signature, "signature", kid, m, ctx, notes, Code::SigInvalid)
        }
        "ML-DSA-65" => {
            let d: [u8; 32] = Sha256::digest(m).into();
            let pq = mldsa65(signature, kid, &d, ctx, notes);
            let kid_classical = get("signer_kid_classical");
            if classical.is_none() && kid_classical.is_none() {
                return pq;
            }
            let Some(classical) = classical else {
                notes.push((
                    Code::SigClassicalMissing,
                    "signer_kid_classical names a classical key but signature_classical is absent"
                        .into(),
                    "signer_kid_classical",
                    None,
                ));
                return SigOutcome::Failed;
            };
            let kid_c = match kid_member(kid_classical, "signer_kid_classical", notes) {
                Ok(k) => k,
                Err(()) => return SigOutcome::Failed,
            };
            let cl = es256(
                classical,
                "signature_classical",
                kid_c,
                m,
                ctx,
                notes,
                Code::SigClassicalInvalid,
            );
            combine(pq, cl)
        }
        other => {
            notes.push((
                Code::SigUnsupportedAlg,
                format!("sig_alg {other:?} is not ES256 or ML-DSA-65; the signature is not skipped but rejected"),
                "sig_alg",
                Some(("ES256 or ML-DSA-65".into(), other.into())),
            ));
            SigOutcome::Failed
        }
    }
}

fn combine(a: SigOutcome, b: SigOutcome) -> SigOutcome {
    use SigOutcome::*;
    match (a, b) {
        (Failed, _) | (_, Failed) => Failed,
        (Unknown, _) | (_, Unknown) => Unknown,
        (Verified { signer: x }, Verified { signer: y }) => Verified {
            signer: format!("{x} + {y}"),
        },
        (Unsigned, other) | (other, Unsigned) => other,
        (OutsideWindow, other) | (other, OutsideWindow) => other,
    }
}

fn kid_member<'a>(
    v: Option<&'a Value>,
    name: &'static str,
    notes: &mut Vec<Note>,
) -> Result<Option<&'a str>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => {
            notes.push((
                Code::RecordFieldInvalid,
                format!("{name} is a {}, expected a string", other.type_name()),
                name,
                None,
            ));
            Err(())
        }
    }
}

fn decode(v: &Value, field: &'static str, notes: &mut Vec<Note>) -> Option<Vec<u8>> {
    let Value::String(s) = v else {
        notes.push((
            Code::SigMalformed,
            format!(
                "{field} is a {}, expected a base64url string",
                v.type_name()
            ),
            field,
            None,
        ));
        return None;
    };
    match URL_SAFE_NO_PAD.decode(s.as_bytes()) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            notes.push((
                Code::SigMalformed,
                format!("{field} is not base64url without padding: {e}"),
                field,
                None,
            ));
            None
        }
    }
}

fn find_key<'c>(
    ctx: &'c SigContext,
    kid: Option<&str>,
    alg: KeyAlg,
    field: &'static str,
    notes: &mut Vec<Note>,
) -> Option<(&'c dyn PreparedKey, String)> {
    let kid_field = if field == "signature_classical" {
        "signer_kid_classical"
    } else {
        "signer_kid"
    };
    let Some((i, signer)) = ctx.lookup(kid, alg) else {
        let what = match kid {
            Some(kid) => format!("no supplied key has kid {kid}"),
            None if ctx.has_keys() => format!("no {kid_field} and no single {alg} key supplied"),
            None => format!("no {kid_field} and no keys supplied"),
        };
        notes.push((Code::SigUnknownKey, what, kid_field, None));
        return None;
    };
    let key = &ctx.keys()[i];
    if key.public.alg() != alg {
        notes.push((
            Code::SigKeyAlgMismatch,
            format!(
                "{signer} is a {} key, but the signature is {alg}",
                key.public.alg()
            ),
            kid_field,
            Some((alg.to_string(), key.public.alg().to_string())),
        ));
        return None;
    }
    if signer.ends_with(&format!("({})", KidRule::Declared)) {
        notes.push((
            Code::KeyKidNotDerived,
            format!("{kid_field} matches the kid declared for {} but no recognised thumbprint of that key", key.source),
            kid_field,
            None,
        ));
    }
    Some((ctx.prepared[i].as_ref(), signer))
}

#[allow(clippy::too_many_arguments)]
fn es256(
    sig: &Value,
    field: &'static str,
    kid: Option<&str>,
    m: &[u8],
    ctx: &SigContext,
    notes: &mut Vec<Note>,
    invalid: Code,
) -> SigOutcome {
    let Some(bytes) = decode(sig, field, notes) else {
        return SigOutcome::Failed;
    };
    if bytes.len() != ES256_LEN {
        if looks_like_der(&bytes) {
            notes.push((
                Code::SigDerEncoding,
                format!(
                    "{field} is a {}-byte DER ECDSA signature; AAT requires 64-byte P1363 r||s",
                    bytes.len()
                ),
                field,
                Some(("64-byte r||s".into(), format!("{}-byte DER", bytes.len()))),
            ));
        } else {
            notes.push((
                Code::SigMalformed,
                format!(
                    "{field} decodes to {} bytes; an ES256 signature is 64",
                    bytes.len()
                ),
                field,
                Some(("64 bytes".into(), format!("{} bytes", bytes.len()))),
            ));
        }
        return SigOutcome::Failed;
    }
    let Some((key, signer)) = find_key(ctx, kid, KeyAlg::P256, field, notes) else {
        return unknown_or_failed(notes);
    };
    if !key.verify(Signature::EcdsaP1363(&bytes), m) {
        notes.push((
            invalid,
            format!("ES256 {field} does not verify under {signer}"),
            field,
            None,
        ));
        return SigOutcome::Failed;
    }
    if bytes[32..] > P256_HALF_ORDER[..] {
        notes.push((
            Code::SigHighS,
            format!("{field} is valid but its s is above n/2 (not low-S normalised)"),
            field,
            None,
        ));
    }
    SigOutcome::Verified {
        signer: format!("ES256 {signer}"),
    }
}

fn mldsa65(
    sig: &Value,
    kid: Option<&str>,
    d: &[u8; 32],
    ctx: &SigContext,
    notes: &mut Vec<Note>,
) -> SigOutcome {
    let Some(bytes) = decode(sig, "signature", notes) else {
        return SigOutcome::Failed;
    };
    if bytes.len() != MLDSA65_SIG_LEN {
        notes.push((
            Code::SigMalformed,
            format!(
                "signature decodes to {} bytes; an ML-DSA-65 signature is {MLDSA65_SIG_LEN}",
                bytes.len()
            ),
            "signature",
            Some((
                format!("{MLDSA65_SIG_LEN} bytes"),
                format!("{} bytes", bytes.len()),
            )),
        ));
        return SigOutcome::Failed;
    }
    let Some((key, signer)) = find_key(ctx, kid, KeyAlg::MlDsa65, "signature", notes) else {
        return unknown_or_failed(notes);
    };
    if !key.verify(
        Signature::MlDsa65 {
            sig: &bytes,
            ctx: b"",
        },
        d,
    ) {
        notes.push((
            Code::SigInvalid,
            format!("ML-DSA-65 signature does not verify under {signer}"),
            "signature",
            None,
        ));
        return SigOutcome::Failed;
    }
    SigOutcome::Verified {
        signer: format!("ML-DSA-65 {signer}"),
    }
}

/// After a failed key lookup: an algorithm mismatch is a failure, an unknown key is not.
fn unknown_or_failed(notes: &[Note]) -> SigOutcome {
    match notes.last() {
        Some((Code::SigKeyAlgMismatch, ..)) => SigOutcome::Failed,
        _ => SigOutcome::Unknown,
    }
}

/// Whether `b` has the shape of a DER `SEQUENCE { INTEGER r, INTEGER s }`.
fn looks_like_der(b: &[u8]) -> bool {
    if b.len() < 8 || b[0] != 0x30 || usize::from(b[1]) != b.len() - 2 || b[2] != 0x02 {
        return false;
    }
    let rlen = usize::from(b[3]);
    let s_at = 4 + rlen;
    s_at + 2 <= b.len() && b[s_at] == 0x02 && s_at + 2 + usize::from(b[s_at + 1]) == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_der_shapes() {
        let mut der = vec![0x30, 0x44, 0x02, 0x20];
        der.extend([1u8; 32]);
        der.extend([0x02, 0x20]);
        der.extend([2u8; 32]);
        assert!(looks_like_der(&der));
        assert!(!looks_like_der(&der[..der.len() - 1]));
        assert!(!looks_like_der(&[0u8; 70]));
    }

    #[test]
    fn high_s_threshold_is_half_the_order() {
        // n/2 itself is low; n/2 + 1 is high.
        let mut s = P256_HALF_ORDER;
        assert!(s[..] <= P256_HALF_ORDER[..]);
        s[31] += 1;
        assert!(s[..] > P256_HALF_ORDER[..]);
    }
}
