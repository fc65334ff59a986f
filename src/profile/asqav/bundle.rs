//! The bundle-level checks of asqav exports (`shared/formats/asqav.md`): the Audit Pack (§9.2:
//! `receipt_count`, `bundle_digest`, `bundle_signature` over the signed projection) and the
//! ComplianceBundle (§9.4: whole-receipt leaves, Bitcoin-style Merkle root), both canonicalized
//! with asqav's JCS dialect ([`Dialect::AsqavJcs`]).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

use crate::canon::json::Value;
use crate::canon::pyjson::{self, Dialect};
use crate::crypto::{self, KeyAlg, PublicKey, Signature};
use crate::finding::{Code, Finding, Location};
use crate::profile::engine::sha256;
use crate::profile::record::{get, object, short};
use crate::profile::sigcheck::Env;
use crate::profile::spec::SigAlg;

/// Bundle-level checks of an Audit Pack or a ComplianceBundle.
pub fn check_bundle(bundle: &Value, at: &Location, env: &Env<'_>, out: &mut Vec<Finding>) {
    if bundle.get("bundle_digest").is_some() || bundle.get("bundle_signature").is_some() {
        check_audit_pack(bundle, at, env, out);
    } else if bundle.get("verification").is_some() || bundle.get("merkle_root").is_some() {
        check_compliance_bundle(bundle, at, out);
    }
}

fn finding(code: Code, at: &Location, message: impl Into<String>) -> Finding {
    Finding::new(code, message).at(at.clone())
}

fn receipt_count(bundle: &Value, at: &Location, out: &mut Vec<Finding>) -> usize {
    let n = bundle
        .get("receipts")
        .and_then(Value::as_array)
        .map_or(0, <[Value]>::len);
    if let Some(v) = bundle.get("receipt_count") {
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

/// The signed projection of an Audit Pack (§9.2 `signed_bundle_payload`).
fn pack_projection(pack: &Value, receipts: usize) -> Value {
    let get_or = |name: &str, default: Value| -> (String, Value) {
        (name.into(), pack.get(name).cloned().unwrap_or(default))
    };
    let or_if_falsy = |name: &str, default: Value| -> (String, Value) {
        let v = pack.get(name).filter(|v| !v.is_null()).cloned();
        (name.into(), v.unwrap_or(default))
    };
    let count = pack.get("receipt_count").cloned().unwrap_or_else(|| {
        crate::canon::json::parse(receipts.to_string().as_bytes(), &Default::default())
            .unwrap_or(Value::Null)
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
        or_if_falsy("revocation_manifest", Value::Array(Vec::new())),
        or_if_falsy("regime_mapping", Value::Object(Vec::new())),
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

fn check_audit_pack(pack: &Value, at: &Location, env: &Env<'_>, out: &mut Vec<Finding>) {
    let n = receipt_count(pack, at, out);
    let projection = pack_projection(pack, n);
    let bytes = match pyjson::to_vec(Dialect::AsqavJcs, &projection) {
        Ok(b) => b,
        Err(e) => {
            out.push(finding(
                Code::CanonUnsupported,
                at,
                format!("{e}: the pack's digest and signature cannot be recomputed"),
            ));
            return;
        }
    };
    let digest = format!("sha256:{}", hex::encode(sha256(&bytes)));
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
    let Some(sig_text) = pack.get("bundle_signature").and_then(Value::as_str) else {
        return;
    };
    let alg_name = pack
        .get("bundle_signature_algorithm")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kalg = match SigAlg::from_record(alg_name) {
        Some(SigAlg::Ed25519) => KeyAlg::Ed25519,
        Some(SigAlg::Es256) => KeyAlg::P256,
        Some(SigAlg::MlDsa65) => KeyAlg::MlDsa65,
        _ => {
            out.push(
                finding(
                    Code::SigUnsupportedAlg,
                    at,
                    format!(
                        "bundle_signature_algorithm {alg_name:?} is not Ed25519, ES256 or ML-DSA-65"
                    ),
                )
                .field("bundle_signature_algorithm"),
            );
            return;
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
        out.push(
            finding(
                Code::SigMalformed,
                at,
                "bundle_signature or bundle_public_key is not base64",
            )
            .field("bundle_signature"),
        );
        return;
    };
    let signature = match kalg {
        KeyAlg::Ed25519 => Signature::Ed25519(&sig),
        KeyAlg::P256 => Signature::EcdsaP1363(&sig),
        KeyAlg::MlDsa65 => Signature::MlDsa65 {
            sig: &sig,
            ctx: b"",
        },
    };
    match env.sig.find_public(kalg, &key_raw) {
        Some(i) => {
            if !env.sig.verify_with(i, signature, &bytes) {
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
            let key = &env.keys()[i];
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
        None => {
            let valid = PublicKey::new(kalg, key_raw)
                .ok()
                .and_then(|k| {
                    crypto::provider_by_name(env.sig.provider())
                        .and_then(|prov| prov.prepare(&k).ok())
                        .map(|pk| pk.verify(signature, &bytes))
                })
                .unwrap_or(false);
            if valid {
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

/// asqav ComplianceBundle root (§9.4): pairs of hex strings hashed as ASCII, an odd level
/// duplicating its last node; the empty bundle is SHA-256 of nothing.
pub fn bitcoin_root(leaves: &[String]) -> String {
    if leaves.is_empty() {
        return hex::encode(Sha256::digest(b""));
    }
    let mut level: Vec<String> = leaves.to_vec();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            if let Some(last) = level.last().cloned() {
                level.push(last);
            }
        }
        level = level
            .chunks(2)
            .map(|pair| {
                let mut h = Sha256::new();
                for node in pair {
                    h.update(node.as_bytes());
                }
                hex::encode(h.finalize())
            })
            .collect();
    }
    level.pop().unwrap_or_default()
}

fn check_compliance_bundle(bundle: &Value, at: &Location, out: &mut Vec<Finding>) {
    receipt_count(bundle, at, out);
    out.push(finding(
        Code::AsqavBundleUnsigned,
        at,
        "the ComplianceBundle carries no signature: its merkle_root shows internal consistency only",
    ));
    let receipts = bundle
        .get("receipts")
        .and_then(Value::as_array)
        .unwrap_or_default();
    let mut leaves = Vec::with_capacity(receipts.len());
    for r in receipts {
        match pyjson::to_vec(Dialect::AsqavJcs, r) {
            Ok(b) => leaves.push(hex::encode(sha256(&b))),
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
    let stated: Vec<&str> = get(bundle, "verification.receipt_hashes")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if stated.len() != leaves.len() {
        out.push(
            finding(
                Code::AsqavBundleMerkleMismatch,
                at,
                "verification.receipt_hashes does not list one hash per receipt",
            )
            .field("verification")
            .expected_found(leaves.len().to_string(), stated.len().to_string()),
        );
    } else if let Some(i) = (0..leaves.len()).find(|i| leaves[*i] != stated[*i]) {
        out.push(
            finding(
                Code::AsqavBundleMerkleMismatch,
                at,
                format!("receipt_hashes[{i}] does not match the asqav-JCS hash of receipts[{i}]"),
            )
            .field("verification")
            .expected_found(leaves[i].clone(), stated[i]),
        );
    }
    let root = bitcoin_root(&leaves);
    for path in ["merkle_root", "verification.merkle_root"] {
        if let Some(v) = get(bundle, path) {
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
