//! The bundle-level checks of asqav exports (`shared/formats/asqav.md`): the Audit Pack (§9.2:
//! `receipt_count`, `bundle_digest`, `bundle_signature` over the signed projection) and the
//! ComplianceBundle (§9.4: whole-receipt leaves, Bitcoin-style Merkle root), both canonicalized
//! with asqav's JCS dialect ([`Dialect::AsqavJcs`]).
//!
//! The receipts are never built as one value: they are parsed one at a time from the bundle's
//! bytes ([`Bundle`]). The projection's canonical bytes are written member by member in the
//! dialect's order, its `receipts` element by element, the same bytes as the canonical form of the
//! projection built whole; each ComplianceBundle leaf is hashed as its receipt is read.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

use crate::canon::jcs::CanonError;
use crate::canon::json::{Limits, Value, parse};
use crate::canon::pyjson::{self, Dialect, Writer, cmp_names};
use crate::crypto::{KeyAlg, PublicKey, Signature, StreamVerifier};
use crate::finding::{Code, Finding, Location};
use crate::hextree::{Edge, HexTree};
use crate::ingest::json::{Bundle, Slot, Unbuilt};
use crate::ingest::reread::ElementError;
use crate::keys::Key;
use crate::profile::engine::sha256;
use crate::profile::record::{get, short};
use crate::profile::sigcheck::Env;
use crate::profile::spec::SigAlg;
use crate::tables::HashMap;

/// Bundle-level checks of an Audit Pack or a ComplianceBundle.
pub fn check_bundle(bundle: &Bundle, at: &Location, env: &Env<'_>, out: &mut Vec<Finding>) {
    let top = bundle.top();
    if top.get("bundle_digest").is_some() || top.get("bundle_signature").is_some() {
        check_audit_pack(bundle, at, env, out);
    } else if top.get("verification").is_some() || top.get("merkle_root").is_some() {
        check_compliance_bundle(bundle, at, out);
    }
}

fn finding(code: Code, at: &Location, message: impl Into<String>) -> Finding {
    Finding::new(code, message).at(at.clone())
}

/// The `receipts` array, when the bundle has one.
fn receipts(bundle: &Bundle) -> Option<Unbuilt<'_>> {
    match bundle.member("receipts") {
        Some(Slot::Unbuilt(r)) if r.is_array() => Some(r),
        _ => None,
    }
}

fn receipt_count(bundle: &Bundle, at: &Location, out: &mut Vec<Finding>) -> usize {
    let n = receipts(bundle).map_or(0, |r| r.len());
    if let Some(v) = bundle.top().get("receipt_count") {
        let claimed = v.as_number().and_then(|n| n.as_u64());
        if claimed != Some(n as u64) {
            out.push(
                finding(
                    Code::AsqavBundleCountMismatch,
                    at,
                    format!(
                        "receipt_count says {}, but the bundle holds {n} receipts",
                        short(v)
                    ),
                )
                .field("receipt_count")
                .expected_found(n.to_string(), short(v)),
            );
        }
    }
    n
}

/// A member of the signed projection: a value, or the receipts read one at a time.
enum Part<'b> {
    Value(Cow<'b, Value>),
    Receipts(Unbuilt<'b>),
}

/// Why the projection's canonical bytes could not be written.
#[derive(Debug)]
enum Unwritten {
    /// A value the dialect cannot print.
    Canon(CanonError),
    /// A receipt that could not be read (see [`ElementError::finding`]).
    Unread(ElementError),
}

/// The members of an Audit Pack's signed projection (§9.2 `signed_bundle_payload`), unsorted:
/// the first group (absent ones as `null`), `receipt_count` (default: the number of receipts),
/// `receipts`, `revocation_manifest` and `regime_mapping` (`[]` and `{}` when absent or null),
/// then each optional member present and not null (`attested_framework_coverage` only when
/// truthy).
fn pack_projection(
    bundle: &Bundle,
    receipts: usize,
) -> Result<Vec<(&'static str, Part<'_>)>, Unwritten> {
    let pack = bundle.top();
    let get_or = |name: &'static str, default: Value| -> (&'static str, Part<'_>) {
        let v = pack.get(name).map_or(Cow::Owned(default), Cow::Borrowed);
        (name, Part::Value(v))
    };
    let or_if_null = |name: &'static str, default: Value| -> (&'static str, Part<'_>) {
        let v = pack.get(name).filter(|v| !v.is_null());
        (
            name,
            Part::Value(v.map_or(Cow::Owned(default), Cow::Borrowed)),
        )
    };
    let count = pack.get("receipt_count").map_or_else(
        || {
            Cow::Owned(
                parse(receipts.to_string().as_bytes(), &Limits::default()).unwrap_or(Value::Null),
            )
        },
        Cow::Borrowed,
    );
    let receipts = match bundle.member("receipts") {
        None => Part::Value(Cow::Owned(Value::Array(Vec::new()))),
        Some(Slot::Built(v)) => Part::Value(Cow::Borrowed(v)),
        Some(Slot::Unbuilt(r)) if r.is_array() => Part::Receipts(r),
        // No pack that asqav writes has an object there; it is signed as it stands, so built whole.
        Some(Slot::Unbuilt(r)) => Part::Value(Cow::Owned(r.build().map_err(Unwritten::Unread)?)),
    };
    let mut members = vec![
        get_or("organization_id", Value::Null),
        get_or("start", Value::Null),
        get_or("end", Value::Null),
        get_or("agent_id", Value::Null),
        get_or("only_compliance", Value::Null),
        get_or("algorithm_registry_version", Value::Null),
        ("receipt_count", Part::Value(count)),
        ("receipts", receipts),
        or_if_null("revocation_manifest", Value::Array(Vec::new())),
        or_if_null("regime_mapping", Value::Object(Vec::new())),
    ];
    for name in [
        "content_disclosure",
        "regime_mapping_disclaimer",
        "regime_provenance",
        "jwks",
        "exit_manifest",
        "tsa_trust",
    ] {
        if let Some(v) = pack.get(name).filter(|v| !v.is_null()) {
            members.push((name, Part::Value(Cow::Borrowed(v))));
        }
    }
    if let Some(v) = pack.get("attested_framework_coverage") {
        let truthy = !matches!(v, Value::Null | Value::Bool(false))
            && v.as_array().is_none_or(|a| !a.is_empty())
            && v.as_object().is_none_or(|o| !o.is_empty())
            && v.as_str().is_none_or(|s| !s.is_empty());
        if truthy {
            members.push(("attested_framework_coverage", Part::Value(Cow::Borrowed(v))));
        }
    }
    Ok(members)
}

/// The projection's bytes are handed on in pieces of about this size.
const PIECE: usize = 64 * 1024;

/// Writes the asqav-JCS bytes of the signed projection member by member and the receipts element
/// by element, handing them to `sink` in pieces: the bytes `pyjson::to_vec(Dialect::AsqavJcs, …)`
/// gives for the projection built whole, and the same first error. Every receipt is also shown to
/// `each`, in order, even after a receipt the dialect cannot print (which ends the writing).
fn write_projection(
    bundle: &Bundle,
    receipts: usize,
    sink: &mut dyn FnMut(&[u8]),
    each: &mut dyn FnMut(&Value),
) -> Result<(), Unwritten> {
    let mut members = pack_projection(bundle, receipts)?;
    members.sort_by(|a, b| cmp_names(Dialect::AsqavJcs, a.0, b.0));
    let mut out = Vec::with_capacity(2 * PIECE);
    let mut w = Writer::new(Dialect::AsqavJcs, &mut out);
    let mut failed = None;
    w.begin_object();
    for (name, part) in &members {
        w.key(name).map_err(Unwritten::Canon)?;
        match part {
            Part::Value(v) => w.value(v).map_err(Unwritten::Canon)?,
            Part::Receipts(r) => {
                w.begin_array();
                for receipt in r.elements() {
                    let receipt = receipt.map_err(Unwritten::Unread)?;
                    each(&receipt);
                    if failed.is_some() {
                        continue;
                    }
                    if let Err(e) = w.value(&receipt) {
                        failed = Some(e);
                        continue;
                    }
                    if w.output().len() >= PIECE {
                        sink(w.output());
                        w.output().clear();
                    }
                }
                if let Some(e) = failed {
                    return Err(Unwritten::Canon(e));
                }
                w.end();
            }
        }
    }
    w.end();
    sink(w.output());
    Ok(())
}

/// The projection's bytes, whole (tests compare them with the projection built whole).
#[cfg(test)]
fn projection_bytes(bundle: &Bundle, receipts: usize) -> Result<Vec<u8>, Unwritten> {
    let mut bytes = Vec::new();
    write_projection(
        bundle,
        receipts,
        &mut |p| bytes.extend_from_slice(p),
        &mut |_| {},
    )?;
    Ok(bytes)
}

/// Most `asqav.regime_mapping_unresolved` findings listed one by one; the rest are counted in one.
const REGIME_FINDINGS: usize = 100;

/// The references of `regime_mapping` (regime → array of `signature_id`), each of which must name
/// the `signature_id` of exactly one receipt (§9.2), counted as the receipts go by. Regimes whose
/// value is not an array are not references (asqav's verifier skips them too).
struct RegimeRefs<'b> {
    regimes: &'b [crate::canon::json::Member],
    /// How many receipts carry each referenced id (only those are counted, so memory follows the
    /// mapping, not the pack).
    held: HashMap<&'b str, u32>,
}

impl<'b> RegimeRefs<'b> {
    /// The pack's references, if it has any.
    fn new(bundle: &'b Bundle) -> Option<RegimeRefs<'b>> {
        let Some(Value::Object(regimes)) = bundle.top().get("regime_mapping") else {
            return None;
        };
        if regimes
            .iter()
            .all(|m| m.value.as_array().is_none_or(<[Value]>::is_empty))
        {
            return None;
        }
        let held = regimes
            .iter()
            .flat_map(|m| m.value.as_array().unwrap_or_default())
            .filter_map(Value::as_str)
            .map(|id| (id, 0))
            .collect();
        Some(RegimeRefs { regimes, held })
    }

    fn observe(&mut self, receipt: &Value) {
        if let Some(Value::String(id)) = receipt.get("signature_id") {
            if let Some(n) = self.held.get_mut(id.as_str()) {
                *n += 1;
            }
        }
    }

    fn report(&self, at: &Location, out: &mut Vec<Finding>) {
        let mut unresolved = 0usize;
        for regime in self.regimes {
            for reference in regime.value.as_array().unwrap_or_default() {
                let count = reference
                    .as_str()
                    .and_then(|id| self.held.get(id))
                    .copied()
                    .unwrap_or(0);
                if count == 1 {
                    continue;
                }
                unresolved += 1;
                if unresolved > REGIME_FINDINGS {
                    continue;
                }
                let message = match (reference.as_str(), count) {
                    (None, _) => format!(
                        "regime_mapping {:?} lists {}, not a signature_id string",
                        regime.key,
                        short(reference)
                    ),
                    (Some(id), 0) => format!(
                        "regime_mapping {:?} references signature_id {id:?}, which no receipt of the pack carries",
                        regime.key
                    ),
                    (Some(id), n) => format!(
                        "regime_mapping {:?} references signature_id {id:?}, which {n} receipts of the pack carry",
                        regime.key
                    ),
                };
                out.push(
                    finding(Code::AsqavRegimeMappingUnresolved, at, message)
                        .field("regime_mapping"),
                );
            }
        }
        if unresolved > REGIME_FINDINGS {
            out.push(
                finding(
                    Code::AsqavRegimeMappingUnresolved,
                    at,
                    format!(
                        "regime_mapping has {} more references that do not name exactly one receipt (the first {REGIME_FINDINGS} are listed)",
                        unresolved - REGIME_FINDINGS
                    ),
                )
                .field("regime_mapping"),
            );
        }
    }
}

/// How the bundle signature is checked: under a supplied key (its index), or, with no supplied
/// key of those bytes, under the pack's own `bundle_public_key` (only to tell a self-consistent
/// pack from a broken one), or not at all (with the finding that says why).
enum SigPlan {
    Supplied(usize, StreamVerifier),
    Embedded(Option<StreamVerifier>),
    Unchecked(Finding),
}

fn sig_plan(bundle: &Bundle, at: &Location, env: &Env<'_>) -> Option<SigPlan> {
    let pack = bundle.top();
    let sig_text = pack.get("bundle_signature").and_then(Value::as_str)?;
    let alg_name = pack
        .get("bundle_signature_algorithm")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kalg = match SigAlg::from_record(alg_name) {
        Some(SigAlg::Ed25519) => KeyAlg::Ed25519,
        Some(SigAlg::Es256) => KeyAlg::P256,
        Some(SigAlg::MlDsa65) => KeyAlg::MlDsa65,
        _ => {
            return Some(SigPlan::Unchecked(
                finding(
                    Code::SigUnsupportedAlg,
                    at,
                    format!(
                        "bundle_signature_algorithm {alg_name:?} is not Ed25519, ES256 or ML-DSA-65"
                    ),
                )
                .field("bundle_signature_algorithm"),
            ));
        }
    };
    let decode = |t: &str| {
        STANDARD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(t))
            .or_else(|_| URL_SAFE_NO_PAD.decode(t))
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
            .ok()
    };
    let (Some(sig), Some(key_raw)) = (
        decode(sig_text),
        pack.get("bundle_public_key")
            .and_then(Value::as_str)
            .and_then(decode),
    ) else {
        return Some(SigPlan::Unchecked(
            finding(
                Code::SigMalformed,
                at,
                "bundle_signature or bundle_public_key is not base64",
            )
            .field("bundle_signature"),
        ));
    };
    let signature = match kalg {
        KeyAlg::Ed25519 => Signature::Ed25519(&sig),
        KeyAlg::P256 => Signature::EcdsaP1363(&sig),
        KeyAlg::MlDsa65 => Signature::MlDsa65 {
            sig: &sig,
            ctx: b"",
        },
    };
    Some(match env.sig.find_public(kalg, &key_raw) {
        Some(i) => SigPlan::Supplied(i, StreamVerifier::new(&env.keys()[i].public, signature)),
        None => SigPlan::Embedded(
            PublicKey::new(kalg, key_raw)
                .ok()
                .map(|k| StreamVerifier::new(&k, signature)),
        ),
    })
}

fn check_audit_pack(bundle: &Bundle, at: &Location, env: &Env<'_>, out: &mut Vec<Finding>) {
    let n = receipt_count(bundle, at, out);
    let mut regimes = RegimeRefs::new(bundle);
    let mut plan = sig_plan(bundle, at, env);
    // One pass over the receipts: the projection's bytes go to the digest and to the signature
    // check as they are written, the references are counted.
    let mut hash = Sha256::new();
    let written = {
        let mut verifier = match &mut plan {
            Some(SigPlan::Supplied(_, v) | SigPlan::Embedded(Some(v))) => Some(v),
            _ => None,
        };
        let mut sink = |piece: &[u8]| {
            hash.update(piece);
            if let Some(v) = verifier.as_deref_mut() {
                v.update(piece);
            }
        };
        let mut each = |receipt: &Value| {
            if let Some(r) = regimes.as_mut() {
                r.observe(receipt);
            }
        };
        write_projection(bundle, n, &mut sink, &mut each)
    };
    if let Some(r) = &regimes {
        r.report(at, out);
    }
    match written {
        Ok(()) => {}
        Err(Unwritten::Canon(e)) => {
            out.push(finding(
                Code::CanonUnsupported,
                at,
                format!("{e}: the pack's digest and signature cannot be recomputed"),
            ));
            return;
        }
        Err(Unwritten::Unread(e)) => {
            out.extend(e.finding(at, "the pack's digest and signature"));
            return;
        }
    }
    let pack = bundle.top();
    let digest = format!("sha256:{}", hex::encode(hash.finalize()));
    match pack.get("bundle_digest") {
        Some(Value::String(d)) if *d == digest => {}
        Some(v) => out.push(
            finding(
                Code::AsqavBundleDigestMismatch,
                at,
                "bundle_digest does not match the asqav-JCS of the pack's signed projection",
            )
            .field("bundle_digest")
            .expected_found(digest.clone(), short(v)),
        ),
        None => {}
    }
    match plan {
        None => {}
        Some(SigPlan::Unchecked(f)) => out.push(f),
        Some(SigPlan::Supplied(i, verifier)) => {
            if !verifier.finish() {
                out.push(
                    finding(
                        Code::AsqavBundleSignatureInvalid,
                        at,
                        "bundle_signature does not verify over the pack's signed projection under the supplied key",
                    )
                    .field("bundle_signature"),
                );
                return;
            }
            check_bundle_key(bundle, &env.keys()[i], at, out);
        }
        Some(SigPlan::Embedded(verifier)) => {
            if verifier.is_some_and(StreamVerifier::finish) {
                out.push(
                    finding(
                        Code::AsqavBundleKeyUntrusted,
                        at,
                        "the pack verifies under its own bundle_public_key, which is not among the supplied keys: self-consistent, not anchored to a trusted key",
                    )
                    .field("bundle_public_key"),
                );
            } else {
                out.push(
                    finding(
                        Code::AsqavBundleSignatureInvalid,
                        at,
                        "bundle_signature does not verify even under the pack's own bundle_public_key",
                    )
                    .field("bundle_signature"),
                );
            }
        }
    }
}

/// The supplied key that verified the bundle signature: bound to the pack's organization, and
/// not revoked before the pack's start (§9.2).
fn check_bundle_key(bundle: &Bundle, key: &Key, at: &Location, out: &mut Vec<Finding>) {
    let pack = bundle.top();
    let org = pack.get("organization_id").and_then(Value::as_str);
    if let (Some(bound), Some(org)) = (key.binding.org_id.as_deref(), org) {
        if bound != org {
            out.push(
                finding(
                    Code::KeyIssuerMismatch,
                    at,
                    format!(
                        "the bundle key {} is bound to org {bound:?}, the pack to {org:?}",
                        key.source
                    ),
                )
                .field("organization_id")
                .expected_found(bound, org),
            );
        }
    }
    if matches!(
        key.status.as_deref(),
        Some("compromised" | "revoked" | "suspended")
    ) {
        let revoked = key
            .revoked_at
            .as_deref()
            .and_then(|r| r.parse::<jiff::Timestamp>().ok());
        let start = pack
            .get("start")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<jiff::Timestamp>().ok());
        if key.status.as_deref() == Some("compromised")
            || matches!((revoked, start), (Some(r), Some(s)) if r <= s)
            || revoked.is_none()
        {
            out.push(finding(
                Code::KeyRevoked,
                at,
                format!("the bundle key {} is {} (before the pack's start, or without a revocation time)", key.source, key.status.as_deref().unwrap_or("")),
            ));
        }
    }
}

fn check_compliance_bundle(bundle: &Bundle, at: &Location, out: &mut Vec<Finding>) {
    receipt_count(bundle, at, out);
    out.push(finding(
        Code::AsqavBundleUnsigned,
        at,
        "the ComplianceBundle carries no signature: its merkle_root shows internal consistency only",
    ));
    let top = bundle.top();
    let stated: Vec<&str> = get(top, "verification.receipt_hashes")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The root is built as the receipts are read, each hash compared with the one stated for
    // it; only the first that differs is kept.
    let mut tree = HexTree::default();
    let mut differs: Option<(usize, String)> = None;
    let mut canonical = Vec::new();
    for r in receipts(bundle).iter().flat_map(Unbuilt::elements) {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                out.extend(e.finding(at, "the bundle's receipt hashes"));
                return;
            }
        };
        canonical.clear();
        match pyjson::write(Dialect::AsqavJcs, &r, &mut canonical) {
            Ok(()) => {
                let leaf = hex::encode(sha256(&canonical));
                let i = usize::try_from(tree.len()).unwrap_or(usize::MAX);
                if differs.is_none() && stated.get(i).is_some_and(|s| *s != leaf) {
                    differs = Some((i, leaf.clone()));
                }
                tree.push(leaf);
            }
            Err(e) => {
                out.push(finding(
                    Code::CanonUnsupported,
                    at,
                    format!("{e}: the bundle's receipt hashes cannot be recomputed"),
                ));
                return;
            }
        }
    }
    let receipts_read = usize::try_from(tree.len()).unwrap_or(usize::MAX);
    if stated.len() != receipts_read {
        out.push(
            finding(
                Code::AsqavBundleMerkleMismatch,
                at,
                "verification.receipt_hashes does not list one hash per receipt",
            )
            .field("verification")
            .expected_found(receipts_read.to_string(), stated.len().to_string()),
        );
    } else if let Some((i, leaf)) = differs {
        out.push(
            finding(
                Code::AsqavBundleMerkleMismatch,
                at,
                format!("receipt_hashes[{i}] does not match the asqav-JCS hash of receipts[{i}]"),
            )
            .field("verification")
            .expected_found(leaf, stated[i]),
        );
    }
    // asqav's root (§9.4): an odd level repeats its last node; no receipt, SHA-256 of nothing.
    let root = tree.root(Edge::DuplicateLast).unwrap_or_default();
    for path in ["merkle_root", "verification.merkle_root"] {
        if let Some(v) = get(top, path) {
            if v.as_str() != Some(root.as_str()) {
                out.push(
                    finding(
                        Code::AsqavBundleMerkleMismatch,
                        at,
                        format!("{path} does not match the root recomputed over the receipts"),
                    )
                    .field(path)
                    .expected_found(root.clone(), short(v)),
                );
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::canon::json::parse_python;
    use crate::profile::record::object;

    /// The signed projection built whole, as a value: the reference that the written projection
    /// must reproduce byte for byte.
    fn whole_tree_projection(pack: &Value, receipts: usize) -> Value {
        let get_or = |name: &str, default: Value| -> (String, Value) {
            (name.into(), pack.get(name).cloned().unwrap_or(default))
        };
        let or_if_null = |name: &str, default: Value| -> (String, Value) {
            let v = pack.get(name).filter(|v| !v.is_null()).cloned();
            (name.into(), v.unwrap_or(default))
        };
        let count = pack.get("receipt_count").cloned().unwrap_or_else(|| {
            parse(receipts.to_string().as_bytes(), &Limits::default()).unwrap_or(Value::Null)
        });
        let mut members = vec![
            get_or("organization_id", Value::Null),
            get_or("start", Value::Null),
            get_or("end", Value::Null),
            get_or("agent_id", Value::Null),
            get_or("only_compliance", Value::Null),
            get_or("algorithm_registry_version", Value::Null),
            ("receipt_count".into(), count),
            get_or("receipts", Value::Array(Vec::new())),
            or_if_null("revocation_manifest", Value::Array(Vec::new())),
            or_if_null("regime_mapping", Value::Object(Vec::new())),
        ];
        for name in [
            "content_disclosure",
            "regime_mapping_disclaimer",
            "regime_provenance",
            "jwks",
            "exit_manifest",
            "tsa_trust",
        ] {
            if let Some(v) = pack.get(name).filter(|v| !v.is_null()) {
                members.push((name.into(), v.clone()));
            }
        }
        if let Some(v) = pack.get("attested_framework_coverage") {
            let truthy = !matches!(v, Value::Null | Value::Bool(false))
                && v.as_array().is_none_or(|a| !a.is_empty())
                && v.as_object().is_none_or(|o| !o.is_empty())
                && v.as_str().is_none_or(|s| !s.is_empty());
            if truthy {
                members.push(("attested_framework_coverage".into(), v.clone()));
            }
        }
        object(members)
    }

    /// The projection written from the bundle's bytes, and the projection built whole and
    /// canonicalized: both bytes, or both errors.
    fn both(text: &[u8]) -> (Result<Vec<u8>, String>, Result<Vec<u8>, String>) {
        let bundle = Bundle::parse(text.to_vec()).unwrap();
        let n = receipts(&bundle).map_or(0, |r| r.len());
        let streamed = projection_bytes(&bundle, n).map_err(|e| format!("{e:?}"));
        let whole = parse_python(text, &Limits::default()).unwrap();
        let n_whole = whole
            .get("receipts")
            .and_then(Value::as_array)
            .map_or(0, <[Value]>::len);
        assert_eq!(n, n_whole);
        let reference = pyjson::to_vec(Dialect::AsqavJcs, &whole_tree_projection(&whole, n))
            .map_err(|e| format!("{:?}", Unwritten::Canon(e)));
        (streamed, reference)
    }

    fn assert_same_projection(name: &str, text: &[u8]) {
        let (streamed, reference) = both(text);
        match (&streamed, &reference) {
            (Ok(a), Ok(b)) => assert!(
                a == b,
                "{name}: the written projection differs\n  written: {}\n  whole:   {}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            ),
            _ => assert_eq!(streamed, reference, "{name}"),
        }
    }

    /// `shared/interop`, found as the integration tests find it.
    fn interop() -> Option<PathBuf> {
        let dir = std::env::var_os("AUDIT_VERIFY_INTEROP")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("AUDIT_VERIFY_VECTORS")
                    .map(|v| PathBuf::from(v).join("../interop"))
            })
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/interop"));
        if dir.is_dir() {
            Some(dir)
        } else {
            eprintln!(
                "\n*** SKIPPED: interop files not found at {} (set AUDIT_VERIFY_INTEROP) ***\n",
                dir.display()
            );
            None
        }
    }

    #[test]
    fn the_written_projection_of_the_interop_and_generated_packs_is_the_whole_tree_one() {
        let testdata = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/asqav");
        let mut files = vec![
            testdata.join("ok--gen-audit-pack.json"),
            testdata.join("ok--interop-audit-pack.json"),
        ];
        files.extend(interop().map(|dir| dir.join("asqav/audit-pack.json")));
        for path in files {
            let text = std::fs::read(&path).unwrap();
            let bundle = Bundle::parse(text.clone()).unwrap();
            assert!(receipts(&bundle).is_some_and(|r| !r.is_empty()));
            assert_same_projection(&path.display().to_string(), &text);
            // The projection is what the pack signed.
            let bytes = projection_bytes(&bundle, receipts(&bundle).unwrap().len()).unwrap();
            let digest = format!("sha256:{}", hex::encode(sha256(&bytes)));
            assert_eq!(
                bundle.top().get("bundle_digest").and_then(Value::as_str),
                Some(digest.as_str()),
                "{}",
                path.display()
            );
        }
    }

    /// Receipts with escapes, non-ASCII text and names, and the numbers asqav prints with `repr`.
    const RECEIPTS: &str = r#"[
        {"signature_id": "s\u00e9\n\"1\"", "payload": {"\uff41": 1, "\ud83d\ude00": [1.0, -0.0, 1e-7, 1e16, 0.000015],
         "z": {"b": null, "a": "\u0000\u001f\u007f\u2028\\/"}, "A": "caf\u00e9 \ud83d\ude00"}, "anchors": []},
        {"agent_id": "\u65e5\u672c", "payload": {}, "e": [], "o": {}, "n": -12, "t": true},
        "a bare string", 3, null, [[], {}]
    ]"#;

    #[test]
    fn the_written_projection_is_the_whole_tree_one_in_any_member_order_and_for_any_options() {
        let first = [
            ("organization_id", r#""org \u00e9""#),
            ("start", r#""2026-11-01T00:00:00Z""#),
            ("end", "null"),
            ("only_compliance", "false"),
            ("algorithm_registry_version", r#""1""#),
        ];
        let tail = [
            ("bundle_digest", r#""sha256:00""#),
            ("bundle_signature", r#""AA==""#),
            ("bundle_public_key", r#""AA==""#),
            ("bundle_signature_algorithm", r#""Ed25519""#),
        ];
        let optional = [
            "content_disclosure",
            "regime_mapping_disclaimer",
            "regime_provenance",
            "jwks",
            "exit_manifest",
            "tsa_trust",
            "attested_framework_coverage",
            "revocation_manifest",
            "regime_mapping",
        ];
        // Values an optional member takes: present, null, falsy in each way, truthy in each way.
        let values = [
            None,
            Some("null"),
            Some("false"),
            Some("true"),
            Some("0"),
            Some("0.0"),
            Some(r#""""#),
            Some(r#""x""#),
            Some("[]"),
            Some("[1]"),
            Some("{}"),
            Some(r#"{"eu_ai_act": ["s1", "s2"], "\u00e9": {}}"#),
        ];
        let receipts = [
            None,
            Some("[]"),
            Some(RECEIPTS),
            Some(r#""not an array""#),
            Some(r#"{"b": [1], "a": {"x": "\u00e9"}}"#),
        ];
        let counts = [None, Some("6"), Some("99"), Some("\"6\""), Some("null")];
        let mut cases = 0;
        for (i, value) in values.iter().enumerate() {
            for (j, r) in receipts.iter().enumerate() {
                let count = counts[(i + j) % counts.len()];
                let mut members: Vec<(String, String)> = first
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                    .collect();
                members.extend(r.map(|r| ("receipts".to_string(), r.to_string())));
                members.extend(count.map(|c| ("receipt_count".to_string(), c.to_string())));
                for (k, name) in optional.iter().enumerate() {
                    // Each optional member takes each value, in turn with the others.
                    if let Some(v) = values[(i + k) % values.len()] {
                        members.push(((*name).to_string(), v.to_string()));
                    }
                }
                if let Some(v) = value {
                    members.push(("agent_id".into(), (*v).to_string()));
                }
                members.extend(
                    tail.iter()
                        .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
                );
                // Three orders: as built, reversed, and rotated so that receipts and the bundle_*
                // members fall elsewhere.
                let n = members.len();
                let orders: [Vec<usize>; 3] = [
                    (0..n).collect(),
                    (0..n).rev().collect(),
                    (0..n).map(|x| (x + i + 2 * j) % n).collect(),
                ];
                for order in orders {
                    let text = format!(
                        "{{\n{}\n}}",
                        order
                            .iter()
                            .map(|&x| format!("  \"{}\": {}", members[x].0, members[x].1))
                            .collect::<Vec<_>>()
                            .join(",\n")
                    );
                    assert_same_projection(&text, text.as_bytes());
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, values.len() * receipts.len() * 3);
    }

    #[test]
    fn a_receipt_the_dialect_cannot_print_fails_the_written_projection_as_the_whole_one() {
        for receipts in [
            r#"[{"a": 1}, {"n": 9007199254740993}, {"z": 1e999}]"#,
            r#"[{"a": 1}, {"z": 1e999}, {"n": 9007199254740993}]"#,
        ] {
            let text = format!(
                r#"{{"receipts": {receipts}, "regime_mapping": {{"x": -9007199254740992}}, "bundle_digest": "sha256:00"}}"#
            );
            let (streamed, reference) = both(text.as_bytes());
            assert!(streamed.is_err(), "{text}");
            assert_eq!(streamed, reference, "{text}");
        }
    }

    #[test]
    fn the_receipts_are_not_built_with_the_bundle() {
        let text = format!(
            r#"{{"organization_id": "o", "receipts": {RECEIPTS}, "bundle_digest": "sha256:00"}}"#
        );
        let bundle = Bundle::parse(text.into_bytes()).unwrap();
        // The built members hold no receipts: they are read from the bytes when needed.
        assert!(bundle.top().get("receipts").is_none());
        assert_eq!(bundle.top().as_object().unwrap().len(), 2);
        let r = receipts(&bundle).unwrap();
        assert_eq!(r.len(), 6);
        assert!(r.bytes().starts_with(b"[") && r.bytes().ends_with(b"]"));
        assert_eq!(r.elements().count(), 6);
    }
}
