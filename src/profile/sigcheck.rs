//! Signatures of declared profiles: which bytes (the canonical hash input, or the hash's text for
//! HMAC chains), which algorithm (fixed or named by the record, never `none`), which key (by kid
//! through the key ring, by `did:key`, by asqav's key-directory rules, or an embedded key that must
//! equal a supplied one: embedded keys are never trusted), and whether the key's directory status
//! allows the signature at the record's time (asqav `formats/asqav.md` 6.2: revoked at or before
//! the signing time fails; compromised always fails; decommissioned or unknown is unverifiable).
//! Ed25519 (RFC 8032), ES256 (raw `r‖s`), ML-DSA-65 (FIPS 204 pure, empty context) and
//! HMAC-SHA256 (RFC 2104).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::canon::json::Value;
use crate::crypto::{self, KeyAlg, PublicKey, Signature};
use crate::finding::{Code, Finding};
use crate::keys::Key;
use crate::profile::aat::Digest;
use crate::profile::asqav;
use crate::profile::engine::encode_digest;
use crate::profile::record::{Prepared, get, short};
use crate::profile::spec::{Extension, KidMatch, SigAlg, SigEncoding, SigSpec, Signs, Spec};
use crate::sig::{SigContext, SigOutcome};

/// What the signature checks of a run share: the key ring, the HMAC secret, and per-key ids that
/// only some profiles use.
pub struct Env<'a> {
    /// The supplied keys, prepared.
    pub sig: &'a SigContext,
    /// The HMAC keyed with the secret from `--hmac-key-file` (its padded key blocks hashed once,
    /// cloned for each record).
    hmac: Option<hmac::Hmac<Sha256>>,
    /// `did:key` of every supplied Ed25519 key, by key index.
    did_keys: Vec<(String, usize)>,
    /// asqav thumbprint of every supplied key, by key index.
    pub asqav_thumbprints: Vec<String>,
}

impl<'a> Env<'a> {
    /// Derives the per-key ids once.
    pub fn new(sig: &'a SigContext, hmac: Option<Vec<u8>>) -> Self {
        let did_keys = sig
            .keys()
            .iter()
            .enumerate()
            .filter(|(_, k)| k.public.alg() == KeyAlg::Ed25519)
            .map(|(i, k)| (did_key_ed25519(k.public.bytes()), i))
            .collect();
        let asqav_thumbprints = sig.keys().iter().map(asqav::thumbprint).collect();
        // HMAC takes a key of any length (RFC 2104 hashes a long one), so this never fails.
        let hmac =
            hmac.and_then(|secret| <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&secret).ok());
        Env {
            sig,
            hmac,
            did_keys,
            asqav_thumbprints,
        }
    }

    /// The supplied keys.
    pub fn keys(&self) -> &[Key] {
        self.sig.keys()
    }
}

/// `did:key:z…` of a raw Ed25519 key (multicodec 0xed01, base58btc).
pub fn did_key_ed25519(raw: &[u8]) -> String {
    let mut bytes = vec![0xed, 0x01];
    bytes.extend_from_slice(raw);
    format!("did:key:z{}", base58btc(&bytes))
}

fn base58btc(input: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &byte in input {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = input.iter().take_while(|b| **b == 0).count();
    std::iter::repeat_n(b'1', zeros)
        .chain(digits.iter().rev().map(|d| ALPHABET[usize::from(*d)]))
        .map(char::from)
        .collect()
}

fn key_alg(alg: SigAlg) -> Option<KeyAlg> {
    match alg {
        SigAlg::Es256 => Some(KeyAlg::P256),
        SigAlg::Ed25519 => Some(KeyAlg::Ed25519),
        SigAlg::MlDsa65 => Some(KeyAlg::MlDsa65),
        SigAlg::HmacSha256 => None,
    }
}

/// Decodes signature text; with `lenient`, the other base64 alphabet and padding are accepted and
/// reported.
fn decode(text: &str, enc: SigEncoding, lenient: bool) -> Result<(Vec<u8>, bool), String> {
    let strict = match enc {
        SigEncoding::Hex => {
            if text.bytes().any(|b| b.is_ascii_uppercase()) {
                Err("not lowercase hex".to_string())
            } else {
                // The table decoder; the crate's only for its message.
                crate::hexdigits::decode(text).ok_or_else(|| match hex::decode(text) {
                    Err(e) => format!("not hex: {e}"),
                    Ok(_) => "not hex".to_string(),
                })
            }
        }
        SigEncoding::Base64url => URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|e| format!("not base64url without padding: {e}")),
        SigEncoding::Base64 => STANDARD
            .decode(text)
            .map_err(|e| format!("not standard base64: {e}")),
        SigEncoding::Multibase => match text.strip_prefix('u') {
            Some(rest) => URL_SAFE_NO_PAD
                .decode(rest)
                .map_err(|e| format!("not multibase base64url: {e}")),
            None => Err("not multibase base64url (no 'u' prefix)".to_string()),
        },
    };
    match strict {
        Ok(b) => Ok((b, false)),
        Err(e) if lenient && matches!(enc, SigEncoding::Base64url | SigEncoding::Base64) => {
            [&URL_SAFE, &STANDARD, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .map(|b| (b, true))
                .ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// Checks one record's signature as the profile declares it.
#[allow(clippy::too_many_arguments)]
pub fn check(
    spec: &Spec,
    s: &SigSpec,
    p: &Prepared,
    record: &Value,
    canonical: Option<&[u8]>,
    hash: Option<&Digest>,
    time: Option<jiff::Timestamp>,
    env: &Env<'_>,
    out: &mut Vec<Finding>,
) -> SigOutcome {
    let field = s.value.as_str();
    let text = match get(record, field) {
        None | Some(Value::Null) => return SigOutcome::Unsigned,
        Some(Value::String(t)) => t,
        Some(v) => {
            out.push(p.finding(
                Code::SigMalformed,
                format!("{field} is a {}, expected a string", v.type_name()),
                Some(field),
            ));
            return SigOutcome::Failed;
        }
    };
    for (path, want) in &s.expect {
        let found = get(record, path);
        if found.and_then(Value::as_str) != Some(want.as_str()) {
            out.push(
                p.finding(
                    Code::SigUnsupportedAlg,
                    format!("{path} must be {want:?} for this profile; the signature is rejected, not skipped"),
                    Some(path),
                )
                .expected_found(want.clone(), found.map_or("(absent)".into(), short)),
            );
            return SigOutcome::Failed;
        }
    }
    let alg = match (s.algorithm, &s.algorithm_field) {
        (Some(a), _) => a,
        (None, Some(path)) => match get(record, path).and_then(Value::as_str) {
            Some(name) => match SigAlg::from_record(name) {
                Some(SigAlg::HmacSha256) | None => {
                    out.push(
                        p.finding(
                            Code::SigUnsupportedAlg,
                            format!("algorithm {name:?} is not one this profile verifies; the signature is rejected, not skipped"),
                            Some(path),
                        )
                        .expected_found("Ed25519, ES256 or ML-DSA-65", name),
                    );
                    return SigOutcome::Failed;
                }
                Some(a) => a,
            },
            None => {
                out.push(p.finding(
                    Code::SigUnsupportedAlg,
                    format!("{path} is missing or not a string: the algorithm is unknown"),
                    Some(path),
                ));
                return SigOutcome::Failed;
            }
        },
        (None, None) => return SigOutcome::Failed,
    };
    let bytes = match decode(text, s.encoding, s.lenient_base64) {
        Ok((b, lenient)) => {
            if lenient {
                out.push(p.finding(
                    Code::SigLenientEncoding,
                    format!("{field} is not base64url without padding (the contract carrier); decoded leniently"),
                    Some(field),
                ));
            }
            b
        }
        Err(why) => {
            out.push(p.finding(Code::SigMalformed, format!("{field} is {why}"), Some(field)));
            return SigOutcome::Failed;
        }
    };
    let hash_text;
    let message: &[u8] = match (s.signs, canonical, hash) {
        (Signs::Canonical, Some(c), _) => c,
        (Signs::HashText, _, Some(h)) => {
            hash_text = encode_digest(h, spec.hash.encoding);
            hash_text.as_bytes()
        }
        (Signs::Hash, _, Some(h)) => h,
        // The signed bytes could not be rebuilt (a finding says why): nothing is established.
        _ => return SigOutcome::Unknown,
    };
    let Some(kalg) = key_alg(alg) else {
        return hmac(p, field, &bytes, message, env, out);
    };
    let expected_len = match alg {
        SigAlg::MlDsa65 => crypto::MLDSA65_SIGNATURE_LEN,
        _ => 64,
    };
    if bytes.len() != expected_len {
        let code = if alg == SigAlg::Es256 && bytes.first() == Some(&0x30) {
            Code::SigDerEncoding
        } else {
            Code::SigMalformed
        };
        out.push(
            p.finding(
                code,
                format!(
                    "{field} decodes to {} bytes; a raw {} signature is {expected_len}",
                    bytes.len(),
                    alg.as_str()
                ),
                Some(field),
            )
            .expected_found(
                format!("{expected_len} bytes"),
                format!("{} bytes", bytes.len()),
            ),
        );
        return SigOutcome::Failed;
    }
    let signature = match alg {
        SigAlg::Ed25519 => Signature::Ed25519(&bytes),
        SigAlg::Es256 => Signature::EcdsaP1363(&bytes),
        _ => Signature::MlDsa65 {
            sig: &bytes,
            ctx: b"",
        },
    };

    // Which key.
    let resolved = if let Some(path) = &s.embedded_key {
        embedded(p, path, record, kalg, signature, message, env, out)
    } else if spec.has(Extension::AsqavKeys) {
        asqav::resolve_key(p, record, kalg, env, out)
    } else {
        by_kid(p, s, record, kalg, env, out)
    };
    let (index, signer) = match resolved {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    let Some(key) = env.keys().get(index) else {
        return SigOutcome::Unknown;
    };
    if key.public.alg() != kalg {
        out.push(
            p.finding(
                Code::SigKeyAlgMismatch,
                format!(
                    "{signer} is a {} key, but the signature is {}",
                    key.public.alg(),
                    alg.as_str()
                ),
                Some(field),
            )
            .expected_found(kalg.to_string(), key.public.alg().to_string()),
        );
        return SigOutcome::Failed;
    }
    if !env.sig.verify_with(index, signature, message) {
        out.push(p.finding(
            Code::SigInvalid,
            format!("{} signature does not verify under {signer}", alg.as_str()),
            Some(field),
        ));
        return SigOutcome::Failed;
    }
    if spec.has(Extension::AsqavKeys) {
        if let Some(outcome) = asqav::check_binding(p, record, key, index, env, out) {
            return outcome;
        }
    }
    if let Some(outcome) = key_status(p, key, time, out) {
        return outcome;
    }
    SigOutcome::Verified {
        signer: format!("{} {signer}", alg.as_str()),
    }
}

fn hmac(
    p: &Prepared,
    field: &str,
    sig: &[u8],
    message: &[u8],
    env: &Env<'_>,
    out: &mut Vec<Finding>,
) -> SigOutcome {
    let Some(keyed) = &env.hmac else {
        out.push(p.finding(
            Code::SigHmacKeyMissing,
            "HMAC-SHA256 not checked: no --hmac-key-file given",
            Some(field),
        ));
        return SigOutcome::Unknown;
    };
    let mut mac = keyed.clone();
    mac.update(message);
    if mac.verify_slice(sig).is_err() {
        out.push(p.finding(
            Code::SigInvalid,
            "HMAC-SHA256 does not verify under the --hmac-key-file secret",
            Some(field),
        ));
        return SigOutcome::Failed;
    }
    SigOutcome::Verified {
        signer: "HMAC-SHA256 (shared secret from --hmac-key-file)".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn embedded(
    p: &Prepared,
    path: &str,
    record: &Value,
    kalg: KeyAlg,
    signature: Signature<'_>,
    message: &[u8],
    env: &Env<'_>,
    out: &mut Vec<Finding>,
) -> Result<(usize, String), SigOutcome> {
    let raw = match get(record, path) {
        Some(Value::String(h)) => crate::hexdigits::decode(h),
        _ => None,
    };
    let Some(raw) = raw else {
        // No embedded key: fall back to the only supplied key of the algorithm.
        return match env.sig.only_key_of(kalg) {
            Some(found) => Ok(found),
            None => {
                out.push(p.finding(
                    Code::SigUnknownKey,
                    format!("{path} is absent or not hex, and no single {kalg} key was supplied"),
                    Some(path),
                ));
                Err(SigOutcome::Unknown)
            }
        };
    };
    if let Some(i) = env.sig.find_public(kalg, &raw) {
        let source = env.keys().get(i).map_or("?", |k| k.source.as_str());
        return Ok((
            i,
            format!("key {source} (equals the key embedded in the record)"),
        ));
    }
    // Untrusted, but a signature that fails even under the key the record names is positive
    // evidence that the record is not as signed.
    let valid_under_embedded = PublicKey::new(kalg, raw.clone())
        .ok()
        .and_then(|k| {
            crypto::provider_by_name(env.sig.provider())
                .and_then(|prov| prov.prepare(&k).ok())
                .map(|prepared| prepared.verify(signature, message))
        })
        .unwrap_or(false);
    if !valid_under_embedded {
        out.push(p.finding(
            Code::SigInvalid,
            format!("the signature does not verify even under the key embedded in {path}"),
            Some(path),
        ));
        return Err(SigOutcome::Failed);
    }
    out.push(
        p.finding(
            Code::SigEmbeddedKeyUntrusted,
            format!("valid only under the key embedded in {path}, which matches no supplied key (embedded keys are never trusted)"),
            Some(path),
        )
        .expected_found("a supplied key", hex::encode(&raw)),
    );
    Err(SigOutcome::Unknown)
}

fn by_kid(
    p: &Prepared,
    s: &SigSpec,
    record: &Value,
    kalg: KeyAlg,
    env: &Env<'_>,
    out: &mut Vec<Finding>,
) -> Result<(usize, String), SigOutcome> {
    let kid = match &s.kid {
        None => None,
        Some(path) => match get(record, path) {
            None | Some(Value::Null) => None,
            Some(Value::String(k)) => Some((path.as_str(), k.as_str())),
            Some(v) => {
                out.push(p.finding(
                    Code::RecordFieldInvalid,
                    format!("{path} is a {}, expected a string", v.type_name()),
                    Some(path),
                ));
                return Err(SigOutcome::Failed);
            }
        },
    };
    let found = match kid {
        Some((_, kid)) => {
            let did = (s.kid_match == KidMatch::DidKey)
                .then(|| {
                    let bare = kid.split('#').next().unwrap_or(kid);
                    env.did_keys
                        .iter()
                        .find(|(d, _)| d == bare)
                        .map(|(_, i)| (*i, format!("{bare} (did:key of a supplied key)")))
                })
                .flatten();
            did.or_else(|| env.sig.find_kid(kid))
        }
        None => env.sig.only_key_of(kalg),
    };
    found.ok_or_else(|| {
        let (field, what) = match kid {
            Some((path, kid)) => (path, format!("no supplied key matches {path} {kid:?}")),
            None if env.sig.has_keys() => (
                s.value.as_str(),
                format!("the record names no key and no single {kalg} key was supplied"),
            ),
            None => (s.value.as_str(), "no keys supplied".to_string()),
        };
        out.push(p.finding(Code::SigUnknownKey, what, Some(field)));
        SigOutcome::Unknown
    })
}

/// Applies a key directory's status at the record's time; `None` when the key may be used.
fn key_status(
    p: &Prepared,
    key: &Key,
    time: Option<jiff::Timestamp>,
    out: &mut Vec<Finding>,
) -> Option<SigOutcome> {
    let status = key.status.as_deref().map(str::to_ascii_lowercase);
    let compromised = key.binding.revocation_reason.as_deref() == Some("compromised");
    let what = format!("key {}", key.source);
    if compromised || status.as_deref() == Some("compromised") {
        out.push(p.finding(
            Code::KeyCompromised,
            format!("{what} is marked compromised in its key directory"),
            None,
        ));
        return Some(SigOutcome::Failed);
    }
    match status.as_deref() {
        None | Some("active") => None,
        Some("compromised") => {
            out.push(p.finding(
                Code::KeyCompromised,
                format!("{what} is marked compromised in its key directory"),
                None,
            ));
            Some(SigOutcome::Failed)
        }
        Some("revoked" | "suspended") => {
            let revoked = key
                .revoked_at
                .as_deref()
                .and_then(|r| r.parse::<jiff::Timestamp>().ok());
            match (revoked, time) {
                (Some(r), Some(t)) if r <= t => {
                    out.push(
                        p.finding(
                            Code::KeyRevoked,
                            format!(
                                "{what} was {} at {r}, at or before this record's time {t}",
                                status.as_deref().unwrap_or("revoked")
                            ),
                            None,
                        )
                        .expected_found(format!("signed before {r}"), t.to_string()),
                    );
                    Some(SigOutcome::Failed)
                }
                (Some(r), Some(t)) => {
                    out.push(p.finding(
                        Code::KeyStatusUnverifiable,
                        format!("{what} was revoked at {r}; the record's time {t} is before it, but only by the issuer's own clock (no verified time anchor)"),
                        None,
                    ));
                    Some(SigOutcome::Unknown)
                }
                _ => {
                    out.push(p.finding(
                        Code::KeyStatusUnverifiable,
                        format!("{what} is revoked, and its revocation time or the record's time is unknown"),
                        None,
                    ));
                    Some(SigOutcome::Unknown)
                }
            }
        }
        Some(other) => {
            out.push(p.finding(
                Code::KeyStatusUnverifiable,
                format!("{what} has status {other:?}, which does not allow verification"),
                None,
            ));
            Some(SigOutcome::Unknown)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn did_key_of_a_known_key() {
        // RFC 8032 test 1 public key and its published did:key (W3C did:key test vectors).
        let raw = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap();
        assert_eq!(
            did_key_ed25519(&raw),
            "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
        );
    }

    #[test]
    fn lenient_base64_accepts_both_alphabets() {
        assert_eq!(
            decode("-_8", SigEncoding::Base64url, false).unwrap(),
            (vec![0xfb, 0xff], false)
        );
        assert!(decode("+/8=", SigEncoding::Base64url, false).is_err());
        assert_eq!(
            decode("+/8=", SigEncoding::Base64url, true).unwrap(),
            (vec![0xfb, 0xff], true)
        );
        assert!(decode("uAQ", SigEncoding::Multibase, false).is_ok());
        assert!(decode("AQ", SigEncoding::Multibase, false).is_err());
    }
}
