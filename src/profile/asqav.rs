//! asqav 0.10.14 specifics that a profile declaration cannot express (`shared/formats/asqav.md`):
//! the key directory's resolution order, issuer binding and key thumbprints (§6.2),
//! `payload_digest`/`action_ref` (§7), Audit Pack outer copies (§9.3), the legacy flat hash-mode
//! receipt (§10), and the bundle-level checks of the Audit Pack (§9.2: `receipt_count`,
//! `bundle_digest`, `bundle_signature` over the signed projection) and the ComplianceBundle (§9.4:
//! whole-receipt leaves, Bitcoin-style Merkle root; in the `bundle` submodule). Everything is
//! canonicalized with asqav's JCS dialect ([`Dialect::AsqavJcs`]).

mod bundle;

pub use bundle::check_bundle;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

use crate::canon::json::Value;
use crate::canon::pyjson::{self, Dialect};
use crate::crypto::KeyAlg;
use crate::finding::{Code, Finding};
use crate::keys::Key;
use crate::profile::engine::sha256;
use crate::profile::record::{Counterparty, Facts, Prepared, get, object, short};
use crate::profile::sigcheck::Env;
use crate::profile::spec::{SigAlg, Spec};
use crate::sig::SigOutcome;

/// asqav's key thumbprint of a supplied key: `sha256:` + hex SHA-256 of the JCS of
/// `{"alg","kty":"AKP","pub"}` (§6.2), whatever the algorithm.
pub fn thumbprint(key: &Key) -> String {
    let alg = match key.public.alg() {
        KeyAlg::P256 => "ES256",
        KeyAlg::Ed25519 => "Ed25519",
        KeyAlg::MlDsa65 => "ML-DSA-65",
    };
    let json = format!(
        "{{\"alg\":\"{alg}\",\"kty\":\"AKP\",\"pub\":\"{}\"}}",
        URL_SAFE_NO_PAD.encode(key.public.bytes())
    );
    format!("sha256:{}", hex::encode(Sha256::digest(json.as_bytes())))
}

fn str_at<'v>(v: &'v Value, path: &str) -> Option<&'v str> {
    get(v, path).and_then(Value::as_str)
}

/// Normalises the other envelope shapes to `{payload, signature: {alg, kid, sig}}` (§2): the
/// hosted form's `signature_envelope`, and a flat string `signature` with `algorithm` beside it.
pub fn normalise(record: Value) -> Value {
    let Value::Object(mut members) = record else {
        return record;
    };
    let has = |ms: &[crate::canon::json::Member], k: &str| ms.iter().any(|m| m.key == k);
    if !has(&members, "signature") && has(&members, "signature_envelope") {
        for m in members.iter_mut() {
            if m.key == "signature_envelope" {
                m.key = "signature".into();
            }
        }
    }
    let algorithm = members
        .iter()
        .find(|m| m.key == "algorithm")
        .map(|m| m.value.clone());
    for m in members.iter_mut() {
        if m.key == "signature" {
            if let Value::String(sig) = &m.value {
                let mut inner = vec![("sig".to_string(), Value::String(sig.clone()))];
                if let Some(alg) = &algorithm {
                    inner.push(("alg".into(), alg.clone()));
                }
                m.value = object(inner);
            }
        }
    }
    Value::Object(members)
}

/// The claims that select a key: from the payload of an envelope, or from the top level of a flat
/// receipt (`key_id`, `agent_id`, `org_id`).
struct Claims<'v> {
    thumbprint: Option<&'v str>,
    kid: Option<&'v str>,
    agent: Option<&'v str>,
    issuer: Option<&'v str>,
    org: Option<&'v str>,
}

fn claims(record: &Value) -> Claims<'_> {
    if is_flat(record) {
        return Claims {
            thumbprint: None,
            kid: str_at(record, "key_id"),
            agent: str_at(record, "agent_id"),
            issuer: None,
            org: str_at(record, "org_id"),
        };
    }
    Claims {
        thumbprint: str_at(record, "payload.key_thumbprint"),
        kid: str_at(record, "signature.kid"),
        agent: str_at(record, "payload.agent_id").or_else(|| str_at(record, "agent_id")),
        issuer: str_at(record, "payload.issuer_id"),
        org: str_at(record, "payload.org_id"),
    }
}

/// Finds the signing key by asqav's resolution order (§6.2).
pub fn resolve_key(
    p: &Prepared,
    record: &Value,
    kalg: KeyAlg,
    env: &Env<'_>,
    out: &mut Vec<Finding>,
) -> Result<(usize, String), SigOutcome> {
    let keys = env.keys();
    let of_alg = |i: &usize| keys.get(*i).is_some_and(|k| k.public.alg() == kalg);
    let c = claims(record);
    let agent = c.agent;
    if let Some(tp) = c.thumbprint {
        let mut hits: Vec<usize> = (0..keys.len())
            .filter(|i| env.asqav_thumbprints.get(*i).map(String::as_str) == Some(tp))
            .collect();
        hits.sort_by_key(|i| {
            let k = &keys[*i];
            (
                k.binding.agent_id.as_deref() != agent,
                k.declared_kid.clone(),
            )
        });
        if let Some(&i) = hits.first() {
            return Ok((i, format!("{} (by signed key_thumbprint)", keys[i].source)));
        }
    }
    let kid = c.kid;
    if let Some(kid) = kid {
        if let Some(i) =
            (0..keys.len()).find(|i| keys[*i].declared_kid.as_deref() == Some(kid) && of_alg(i))
        {
            return Ok((i, format!("{kid} (kid in the key directory)")));
        }
        if let Some((i, d)) = env.sig.find_kid(kid) {
            return Ok((i, d));
        }
    }
    let (issuer, org) = (c.issuer, c.org);
    if let Some(agent) = agent {
        if let Some(i) = (0..keys.len()).filter(of_alg).find(|i| {
            let b = &keys[*i].binding;
            b.agent_id.as_deref() == Some(agent)
                && ((issuer.is_some()
                    && (b.issuer_id.as_deref() == issuer || b.org_id.as_deref() == issuer))
                    || (org.is_some() && b.org_id.as_deref() == org))
        }) {
            return Ok((i, format!("{} (bound to agent {agent})", keys[i].source)));
        }
    }
    if let Some(kid) = kid {
        if let Some(i) = (0..keys.len()).filter(of_alg).find(|i| {
            let b = &keys[*i].binding;
            b.issuer_id.as_deref() == Some(kid) || b.org_id.as_deref() == Some(kid)
        }) {
            return Ok((
                i,
                format!("{} (signature.kid names its issuer)", keys[i].source),
            ));
        }
    }
    out.push(p.finding(
        Code::SigUnknownKey,
        match kid {
            Some(kid) => format!("no supplied key matches signature.kid {kid:?}, the signed key_thumbprint or the agent and issuer"),
            None => "no supplied key matches the signed key_thumbprint or the agent and issuer".into(),
        },
        Some("signature.kid"),
    ));
    Err(SigOutcome::Unknown)
}

/// Issuer binding and key substitution (§6.2) for the key that verified.
pub fn check_binding(
    p: &Prepared,
    record: &Value,
    key: &Key,
    index: usize,
    env: &Env<'_>,
    out: &mut Vec<Finding>,
) -> Option<SigOutcome> {
    let c = claims(record);
    check_key_copy(p, record, key, out);
    if let Some(tp) = c.thumbprint {
        let actual = env.asqav_thumbprints.get(index).map(String::as_str);
        if actual != Some(tp) {
            out.push(
                p.finding(
                    Code::KeyThumbprintMismatch,
                    format!(
                        "the signed key_thumbprint names another key than {}",
                        key.source
                    ),
                    Some("payload.key_thumbprint"),
                )
                .expected_found(actual.unwrap_or_default(), tp),
            );
            return Some(SigOutcome::Failed);
        }
    }
    let claims = [c.issuer, c.org];
    let bound = [
        key.binding.issuer_id.as_deref(),
        key.binding.org_id.as_deref(),
    ];
    let comparable = claims.iter().flatten().count() > 0 && bound.iter().flatten().count() > 0;
    let matches = claims
        .iter()
        .flatten()
        .any(|c| bound.iter().flatten().any(|b| b == c));
    if comparable && !matches {
        out.push(
            p.finding(
                Code::KeyIssuerMismatch,
                format!(
                    "key {} is bound to another issuer than the receipt claims",
                    key.source
                ),
                Some("payload.issuer_id"),
            )
            .expected_found(
                bound
                    .iter()
                    .flatten()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" / "),
                claims
                    .iter()
                    .flatten()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
        );
        return Some(SigOutcome::Failed);
    }
    None
}

/// Decodes base64 in either alphabet, padded or not (asqav's `_b64decode` leniency without its
/// tolerance of stray characters).
fn decode_b64_any(text: &str) -> Option<Vec<u8>> {
    let normalised: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(normalised)
        .ok()
}

/// The Audit Pack's unsigned `public_key_b64` must be the key the signature verified under
/// (§9.3; oracle vector asqav-48). Only called once the signature has verified.
fn check_key_copy(p: &Prepared, record: &Value, key: &Key, out: &mut Vec<Finding>) {
    let Some(copy) = record.get("public_key_b64") else {
        return;
    };
    if matches!(copy, Value::Null) {
        return;
    }
    let same = copy
        .as_str()
        .and_then(decode_b64_any)
        .is_some_and(|b| b == key.public.bytes());
    if !same {
        out.push(
            p.finding(
                Code::AsqavOuterCopyMismatch,
                format!(
                    "the unsigned outer copy public_key_b64 is not the key the signature verified under ({})",
                    key.source
                ),
                Some("public_key_b64"),
            )
            .expected_found(STANDARD.encode(key.public.bytes()), short(copy)),
        );
    }
}

/// `payload_digest` and `action_ref` recomputed from `context` (§7).
pub fn check_payload_digest(p: &Prepared, record: &Value, out: &mut Vec<Finding>) {
    let Some(digest) = get(record, "payload.payload_digest") else {
        return;
    };
    let field = "payload.payload_digest";
    if str_at(record, "payload.hash_algo").is_some_and(|a| a != "sha256") {
        out.push(p.finding(
            Code::AsqavPayloadDigestNotChecked,
            "payload_digest is keyed (hash_algo is not sha256): it cannot be recomputed without the holder's key",
            Some(field),
        ));
        return;
    }
    let hash = digest.get("hash").and_then(Value::as_str);
    let size = digest
        .get("size")
        .and_then(|v| v.as_number())
        .and_then(|n| n.as_u64());
    let (Some(hash), Some(size)) = (hash, size) else {
        out.push(p.finding(
            Code::AsqavPayloadDigestMismatch,
            "payload_digest is malformed: it needs a 64-hex hash and a non-negative integer size",
            Some(field),
        ));
        return;
    };
    if crate::profile::aat::parse_hex32(hash).is_none() {
        out.push(p.finding(
            Code::AsqavPayloadDigestMismatch,
            format!(
                "payload_digest.hash {} is not 64 lowercase hex digits",
                short(&Value::String(hash.into()))
            ),
            Some(field),
        ));
        return;
    }
    // action_ref is not compared: production receipts (asqav-06 in the oracle corpus) carry an
    // action_ref that is not "sha256:" + payload_digest.hash, and asqav's verifier accepts them.
    let context = match get(record, "payload.context") {
        None | Some(Value::Null) => {
            out.push(p.finding(
                Code::AsqavPayloadDigestNotChecked,
                "context is absent (redacted or hash mode): payload_digest cannot be recomputed",
                Some(field),
            ));
            return;
        }
        Some(c) => c,
    };
    let Ok(bytes) = pyjson::to_vec(Dialect::AsqavJcs, context) else {
        return;
    };
    let computed = hex::encode(sha256(&bytes));
    if computed != hash || bytes.len() as u64 != size {
        out.push(
            p.finding(
                Code::AsqavPayloadDigestMismatch,
                "payload_digest does not match the asqav-JCS of context",
                Some(field),
            )
            .expected_found(
                format!("hash {computed}, size {}", bytes.len()),
                format!("hash {hash}, size {size}"),
            ),
        );
    }
}

/// Outer copies of an Audit Pack entry against their signed twins (§9.3). Copies that agree are
/// taken off the uncovered list; members without a signed twin stay on it.
pub fn check_outer_copies(
    p: &Prepared,
    record: &Value,
    canonical: Option<&[u8]>,
    key_copy_agreed: bool,
    uncovered: &mut Vec<String>,
    out: &mut Vec<Finding>,
) {
    let twins: &[(&str, &str)] = &[
        ("agent_id", "payload.agent_id"),
        ("action_id", "payload.action_id"),
        ("action_type", "payload.action_type"),
        ("receipt_type", "payload.type"),
        ("supersedes", "payload.supersedes"),
        ("algorithm", "signature.alg"),
        ("signature_b64", "signature.sig"),
    ];
    let mut agreed: Vec<&str> = Vec::new();
    let mut differ = |name: &str, expected: String, found: String| {
        out.push(
            p.finding(
                Code::AsqavOuterCopyMismatch,
                format!("the unsigned outer copy {name} differs from its signed twin"),
                Some(name),
            )
            .expected_found(expected, found),
        );
    };
    for (outer, signed) in twins {
        let Some(copy) = record.get(outer) else {
            continue;
        };
        match get(record, signed) {
            Some(twin) if twin == copy => agreed.push(outer),
            Some(twin) if *outer == "algorithm" => {
                let same = twin
                    .as_str()
                    .zip(copy.as_str())
                    .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
                if same {
                    agreed.push(outer);
                } else {
                    differ(outer, short(twin), short(copy));
                }
            }
            Some(twin) => differ(outer, short(twin), short(copy)),
            None => {}
        }
    }
    if let (Some(copy), Some(signed)) = (
        str_at(record, "signed_at"),
        str_at(record, "payload.issued_at"),
    ) {
        // The outer copy may be a naive Python datetime (taken as UTC, as asqav does).
        let instant = |t: &str| crate::profile::agt::py_datetime(t).map(|d| d.instant);
        let a = instant(copy);
        let b = instant(signed);
        if a.is_some() && a == b {
            agreed.push("signed_at");
        } else {
            differ("signed_at", signed.into(), copy.into());
        }
    }
    if let Some(c) = canonical {
        if let Some(copy) = str_at(record, "message_b64") {
            let want = STANDARD.encode(c);
            if copy == want {
                agreed.push("message_b64");
            } else {
                differ(
                    "message_b64",
                    "base64 of the signed bytes".into(),
                    copy.chars().take(40).collect(),
                );
            }
        }
        if let Some(copy) = str_at(record, "message_sha256") {
            let want = hex::encode(sha256(c));
            if copy == want {
                agreed.push("message_sha256");
            } else {
                differ("message_sha256", want, copy.into());
            }
        }
    }
    if key_copy_agreed && record.get("public_key_b64").is_some() {
        agreed.push("public_key_b64");
    }
    uncovered.retain(|u| !agreed.contains(&u.as_str()));
}

/// Receipt types asqav 0.10.14 implements (`ALLOWED_TYPES`, registry edition `2026-09-15.v1`).
const IMPLEMENTED_TYPES: &[&str] = &[
    "protectmcp:decision",
    "protectmcp:restraint",
    "protectmcp:lifecycle",
    "protectmcp:lifecycle:configuration_change",
    "protectmcp:lifecycle:risk_acceptance",
    "protectmcp:lifecycle:code_authorship",
    "protectmcp:acknowledgment",
    "protectmcp:observation",
    "protectmcp:observation:result_bound",
];

/// Registered (registry 1.1.0) but not implemented by asqav 0.10.14.
const REGISTERED_UNIMPLEMENTED: &[&str] = &["protectmcp:lifecycle:oversight_ruling"];

/// The structure rules of asqav's verifier (`check_structure`, §3; oracle vectors asqav-37 … 40,
/// asqav-28): the `type` registry, the wire version `v`, `mode`, and the shape of `anchors`.
/// Legacy flat receipts are not envelopes and are left to their own rules.
pub fn check_structure(p: &Prepared, record: &Value, out: &mut Vec<Finding>) {
    match record.get("anchors") {
        None | Some(Value::Array(_)) => {}
        Some(v) => out.push(
            p.finding(
                Code::AsqavAnchorsMalformed,
                format!(
                    "anchors is {}, not an array: absent or [] is the conformant spelling of no anchors",
                    if v.is_null() { "null".to_string() } else { format!("a {}", v.type_name()) }
                ),
                Some("anchors"),
            ),
        ),
    }
    let Some(payload) = record.get("payload").filter(|v| v.as_object().is_some()) else {
        return;
    };
    match payload.get("type") {
        None => {}
        Some(Value::String(t)) if IMPLEMENTED_TYPES.contains(&t.as_str()) => {}
        Some(Value::String(t)) if REGISTERED_UNIMPLEMENTED.contains(&t.as_str()) => {
            out.push(p.finding(
                Code::AsqavTypeUnsupported,
                format!("type {t:?} is registered but not implemented by asqav 0.10.14: its semantics are not checked"),
                Some("payload.type"),
            ));
            return;
        }
        Some(Value::String(t)) if t.starts_with("protectmcp:") => {
            out.push(p.finding(
                Code::AsqavTypeInvalid,
                format!("type {t:?} claims the reserved protectmcp namespace, but no registry carries it"),
                Some("payload.type"),
            ));
            return;
        }
        Some(Value::String(t)) => {
            out.push(p.finding(
                Code::AsqavTypeUnsupported,
                format!(
                    "type {t:?} is outside the known namespace: profile membership cannot be judged"
                ),
                Some("payload.type"),
            ));
            return;
        }
        Some(v) => {
            out.push(p.finding(
                Code::AsqavTypeInvalid,
                format!("type {} is a {}, not a string", short(v), v.type_name()),
                Some("payload.type"),
            ));
            return;
        }
    }
    let version_ok = |v: &Value| v.as_number().is_some_and(|n| matches!(n.text(), "1" | "2"));
    match payload.get("v") {
        None => {
            out.push(p.finding(
                Code::AsqavVersionUnsupported,
                "the payload has no v member: not a compliance receipt of a known version (absence is not version 1)",
                Some("payload"),
            ));
            return;
        }
        Some(v) if !version_ok(v) => {
            out.push(p.finding(
                Code::AsqavVersionUnsupported,
                format!("wire version v {} is not recognised (1 or 2): the receipt's shape is not guessed", short(v)),
                Some("payload.v"),
            ));
            return;
        }
        Some(_) => {}
    }
    match payload.get("mode") {
        Some(Value::String(m)) if m == "payload" || m == "hash" => {}
        None => out.push(p.finding(
            Code::AsqavVersionUnsupported,
            "the payload has no mode member: absence selects no mode",
            Some("payload"),
        )),
        Some(v) => out.push(p.finding(
            Code::AsqavVersionUnsupported,
            format!("mode {} is not recognised (payload or hash)", short(v)),
            Some("payload.mode"),
        )),
    }
}

/// What a counterparty binding to this record commits to: SHA-256 of the asqav-JCS of
/// `{payload, signature}`, the envelope minus anchors and outer copies (§8), when the record has a
/// payload object and a complete signature object.
pub fn envelope_hash(record: &Value) -> Option<[u8; 32]> {
    let payload = record.get("payload").filter(|v| v.as_object().is_some())?;
    let signature = record
        .get("signature")
        .filter(|v| v.as_object().is_some())?;
    let complete = ["alg", "kid", "sig"].iter().all(|k| {
        signature
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    });
    if !complete {
        return None;
    }
    let projection = object(vec![
        ("payload".into(), payload.clone()),
        ("signature".into(), signature.clone()),
    ]);
    pyjson::to_vec(Dialect::AsqavJcs, &projection)
        .ok()
        .map(|b| sha256(&b))
}

/// The cross-org profile version asqav 0.10.14 speaks, and the members such a binding may carry.
const COUNTERPARTY_PROFILE: &str = "0.1";
const COUNTERPARTY_MEMBERS: &[&str] = &[
    "envelope_hash",
    "receipt_ref",
    "expect_ack_from",
    "transport_label",
    "scope",
    "profile_version",
    "terms",
    "terms_digest",
];

fn has_negative_zero(v: &Value) -> bool {
    match v {
        Value::Number(n) => !n.is_integer_token() && n.text().starts_with('-') && n.as_f64() == 0.0,
        Value::Array(a) => a.iter().any(has_negative_zero),
        Value::Object(o) => o.iter().any(|m| has_negative_zero(&m.value)),
        _ => false,
    }
}

/// The `counterparty_binding` rules of asqav's verifier (`check_counterparty_binding`; oracle
/// vectors asqav-31 … 43): the structure is judged here; a sound binding is returned to be
/// resolved against the originating receipt (`receipt_ref` = a record id of the export) once the
/// whole export has been read.
pub fn check_counterparty(
    p: &Prepared,
    record: &Value,
    chain: &str,
    env: &Env<'_>,
    out: &mut Vec<Finding>,
) -> Option<Counterparty> {
    let payload = record.get("payload").filter(|v| v.as_object().is_some())?;
    let binding = payload.get("counterparty_binding")?;
    let field = "payload.counterparty_binding";
    let invalid = |why: String| p.finding(Code::AsqavCounterpartyInvalid, why, Some(field));
    let unverifiable =
        |why: String| p.finding(Code::AsqavCounterpartyUnverifiable, why, Some(field));
    if binding.as_object().is_none() {
        out.push(invalid(format!(
            "counterparty_binding is a {}, not an object",
            binding.type_name()
        )));
        return None;
    }
    let text = |name: &str| binding.get(name).and_then(Value::as_str);
    match binding.get("scope") {
        None => {
            out.push(unverifiable(
                "legacy scope: the signed binding omits its digest scope".into(),
            ));
            return None;
        }
        Some(Value::String(s)) if s == "envelope_minus_anchors" => {}
        Some(v) => {
            out.push(unverifiable(format!(
                "digest scope {} is not one this verifier implements (envelope_minus_anchors)",
                short(v)
            )));
            return None;
        }
    }
    if let Some(v) = binding.get("profile_version").filter(|v| !v.is_null()) {
        if v.as_str() != Some(COUNTERPARTY_PROFILE) {
            out.push(unverifiable(format!(
                "cross-org profile version {} is not supported ({COUNTERPARTY_PROFILE})",
                short(v)
            )));
            return None;
        }
        let extra: Vec<&str> = binding
            .as_object()
            .unwrap_or_default()
            .iter()
            .map(|m| m.key.as_str())
            .filter(|k| !COUNTERPARTY_MEMBERS.contains(k))
            .collect();
        if !extra.is_empty() {
            out.push(invalid(format!(
                "a profile-declaring binding carries members this verifier does not implement: {}",
                extra.join(", ")
            )));
            return None;
        }
    }
    if binding.get("terms").is_some() || binding.get("terms_digest").is_some() {
        let (Some(terms), Some(claimed)) = (
            binding.get("terms").filter(|t| t.as_object().is_some()),
            text("terms_digest"),
        ) else {
            out.push(invalid(
                "terms and terms_digest must travel together (an object and a string)".into(),
            ));
            return None;
        };
        if has_negative_zero(terms) {
            out.push(invalid("terms carry a negative zero".into()));
            return None;
        }
        let Ok(bytes) = pyjson::to_vec(Dialect::AsqavJcs, terms) else {
            out.push(invalid("terms are not canonically encodable".into()));
            return None;
        };
        let computed = STANDARD.encode(sha256(&bytes));
        if computed != claimed {
            out.push(
                invalid("terms_digest does not recompute over terms".into())
                    .expected_found(computed, claimed),
            );
            return None;
        }
    }
    let Some(receipt_ref) = text("receipt_ref").filter(|s| !s.is_empty()) else {
        out.push(invalid(
            "counterparty_binding.receipt_ref is missing or not a string".into(),
        ));
        return None;
    };
    let Some(claimed) = text("envelope_hash").filter(|s| !s.is_empty()) else {
        out.push(invalid(
            "counterparty_binding.envelope_hash is missing or not a string".into(),
        ));
        return None;
    };
    let digest: [u8; 32] = match decode_b64_any(claimed).map(<[u8; 32]>::try_from) {
        Some(Ok(d)) => d,
        Some(Err(raw)) => {
            out.push(invalid(format!(
                "counterparty_binding.envelope_hash decodes to {} bytes, not a SHA-256",
                raw.len()
            )));
            return None;
        }
        None => {
            out.push(invalid(format!(
                "counterparty_binding.envelope_hash {} is not base64",
                short(&Value::String(claimed.into()))
            )));
            return None;
        }
    };
    for name in ["expect_ack_from", "transport_label"] {
        if binding
            .get(name)
            .is_some_and(|v| !v.is_null() && v.as_str().is_none())
        {
            out.push(invalid(format!(
                "counterparty_binding.{name} is not a string"
            )));
            return None;
        }
    }
    // The acknowledging party: signature.kid as written, kept only when it names the key that
    // signed (its directory kid or issuer); without a resolvable key, as written.
    let mut kid = str_at(record, "signature.kid").map(str::to_string);
    let kalg = str_at(record, "signature.alg").and_then(|a| match SigAlg::from_record(a) {
        Some(SigAlg::Ed25519) => Some(KeyAlg::Ed25519),
        Some(SigAlg::Es256) => Some(KeyAlg::P256),
        Some(SigAlg::MlDsa65) => Some(KeyAlg::MlDsa65),
        _ => None,
    });
    if let Some(kalg) = kalg {
        let mut scratch = Vec::new();
        if let Ok((i, _)) = resolve_key(p, record, kalg, env, &mut scratch) {
            if let Some(key) = env.keys().get(i) {
                let names = [
                    key.declared_kid.as_deref(),
                    key.binding.issuer_id.as_deref(),
                ];
                if !names.contains(&kid.as_deref()) {
                    kid = None;
                }
            }
        }
    }
    let kid_mismatch = text("expect_ack_from")
        .filter(|want| kid.as_deref() != Some(*want))
        .map(|want| {
            invalid(format!(
                "the binding expects an acknowledgment from {want:?}, but this receipt is signed as {}",
                kid.as_deref().map_or_else(|| "a party that does not name its key".to_string(), |k| format!("{k:?}"))
            ))
            .expected_found(want, kid.clone().unwrap_or_default())
            .chain(chain.to_string())
        });
    Some(Counterparty {
        receipt_ref: receipt_ref.to_string(),
        digest,
        mismatch: invalid(format!(
            "counterparty_binding.envelope_hash does not match the originating receipt {receipt_ref:?} in the export (SHA-256 of its payload and signature)"
        ))
        .chain(chain.to_string()),
        kid_mismatch,
        unresolved: unverifiable(format!(
            "the originating receipt {receipt_ref:?} is not in the export (no record with that signature_id): the corroboration is not checked"
        ))
        .chain(chain.to_string()),
    })
}

/// Anchors are present but cannot be checked offline without trust material.
pub fn note_anchors(p: &Prepared, record: &Value, out: &mut Vec<Finding>) {
    if record
        .get("anchors")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        out.push(p.finding(
            Code::AsqavAnchorsNotChecked,
            "RFC 3161 / OpenTimestamps anchors are present but not checked (no pinned TSA keys or Bitcoin headers): the receipt's time is issuer-asserted",
            Some("anchors"),
        ));
    }
}

/// Whether a record is a legacy flat hash-mode receipt (§10).
pub fn is_flat(record: &Value) -> bool {
    record.get("mode").and_then(Value::as_str) == Some("hash")
        && record.get("signature_b64").is_some()
        && !matches!(record.get("payload"), Some(Value::Object(_)))
}

/// The 11-member signed object of a flat receipt, with asqav's defaults.
fn flat_signed_object(record: &Value) -> Value {
    let truthy = |v: &Value| match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(n) => n.as_f64() != 0.0,
    };
    let take = |name: &str, default: Option<Value>| -> (String, Value) {
        let v = record.get(name).filter(|v| truthy(v)).cloned();
        (name.to_string(), v.or(default).unwrap_or(Value::Null))
    };
    object(vec![
        take("v", None),
        ("mode".into(), Value::String("hash".into())),
        take("hash", None),
        take("hash_algo", Some(Value::String("sha256".into()))),
        take("metadata", Some(Value::Object(Vec::new()))),
        take("server_timestamp", None),
        take("action_id", None),
        take("agent_id", None),
        take("org_id", None),
        take("policy_digest", None),
        take("policy_decision", None),
    ])
}

/// The per-record work for a flat receipt: a signed statement outside any chain.
///
/// # Errors
/// Never in practice; the signature of the engine's extract step.
pub fn extract_flat(
    spec: &Spec,
    p: &Prepared,
    record: &Value,
    env: &Env<'_>,
) -> Result<(Facts, Vec<Finding>), Box<Finding>> {
    let mut out = Vec::new();
    let chain = format!(
        "{} (flat receipts)",
        str_at(record, "agent_id").unwrap_or("unknown agent")
    );
    out.push(p.finding(
        Code::AsqavFlatReceipt,
        "legacy flat hash-mode receipt: signed alone, without an envelope or chain link",
        Some("mode"),
    ));
    let signed = flat_signed_object(record);
    let canonical = match pyjson::to_vec(Dialect::AsqavJcs, &signed) {
        Ok(b) => Some(b),
        Err(e) => {
            out.push(p.finding(Code::CanonUnsupported, e.to_string(), None));
            None
        }
    };
    // The server timestamp has no zone: asqav takes it as UTC.
    let time_text = str_at(record, "server_timestamp").map(str::to_string);
    let time = time_text
        .as_deref()
        .and_then(|t| crate::profile::agt::py_datetime(t).map(|d| d.instant));
    let flat_spec = crate::profile::spec::SigSpec {
        value: "signature_b64".into(),
        encoding: crate::profile::spec::SigEncoding::Base64url,
        lenient_base64: true,
        algorithm: None,
        algorithm_field: Some("algorithm".into()),
        signs: crate::profile::spec::Signs::Canonical,
        kid: Some("key_id".into()),
        kid_match: crate::profile::spec::KidMatch::Ring,
        embedded_key: None,
        expect: Default::default(),
    };
    let sig = crate::profile::sigcheck::check(
        spec,
        &flat_spec,
        p,
        record,
        canonical.as_deref(),
        None,
        time,
        env,
        &mut out,
    );
    let hash = canonical.as_deref().map(sha256);
    Ok((
        Facts {
            chain,
            record_id: str_at(record, "action_id").map(str::to_string),
            link: None,
            hash,
            seq: None,
            time_text,
            time,
            terminal: false,
            sig,
            uncovered: Vec::new(),
            standalone: true,
            envelope_hash: None,
            counterparty: None,
        },
        out,
    ))
}
