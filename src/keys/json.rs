//! JSON key files: a JWK (RFC 7517; EC per RFC 7518 6.2, OKP per RFC 8037,
//! AKP per draft-ietf-cose-dilithium), a JWK Set, the asqav key directory
//! (`formats/asqav.md` 6.2: `{"keys":[{kid, alg, public_key (standard
//! base64), status, revoked_at, …}]}`), and the `aat-verify` keystore
//! (`formats/aat.md` 7.6: kid → `{"alg":"ES256","jwk_x_y":{x,y}}` or
//! `{"alg":"ML-DSA-65","pk"}`). Duplicate JSON members are refused, private
//! members are refused, and base64url members must be unpadded base64url.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::spki::shown;
use super::{Key, KeyBinding, KeyError, KeySet, KeyTable, Parsed};
use crate::crypto::{KeyAlg, PublicKey};

/// Members that only a private key has (JWK `d`, AKP `priv`, and the
/// spellings key directories use for secrets).
const PRIVATE_MEMBERS: [&str; 6] = ["d", "priv", "sk", "seed", "private_key", "secret_key"];

/// Parses a JSON key file into `out`.
pub(super) fn parse_json(bytes: &[u8], path: &Path, out: &mut Parsed) -> Result<(), KeyError> {
    let StrictValue(value) = serde_json::from_slice(bytes).map_err(|e| KeyError::Json {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let unknown = || KeyError::UnknownFormat {
        path: path.to_path_buf(),
    };
    let Value::Object(top) = value else {
        return Err(unknown());
    };
    let mut set = SetIndex::default();
    if let Some(keys) = top.get("keys") {
        let entries = keys.as_array().ok_or_else(|| KeyError::BadMember {
            path: path.to_path_buf(),
            at: "JWK Set".into(),
            member: "keys".into(),
            detail: "must be an array".into(),
        })?;
        for (i, entry) in entries.iter().enumerate() {
            let at = Ctx::new(path, format!("keys[{i}]"));
            let obj = entry
                .as_object()
                .ok_or_else(|| at.bad("keys[]", "must be an object"))?;
            if let Some(key) = parse_entry(obj, &at, &i.to_string(), out)? {
                push_deduped(key, path, &mut set, out)?;
            }
        }
    } else if top.contains_key("kty") || top.contains_key("public_key") {
        let at = Ctx::new(path, "JWK".into());
        if let Some(key) = parse_entry(&top, &at, "0", out)? {
            push_deduped(key, path, &mut set, out)?;
        }
    } else if !top.is_empty()
        && top
            .values()
            .all(|v| v.as_object().is_some_and(|o| o.contains_key("alg")))
    {
        for (kid, entry) in &top {
            let at = Ctx::new(path, format!("keystore entry \"{}\"", shown(kid)));
            let obj = entry.as_object().ok_or_else(unknown)?;
            let key = parse_keystore_entry(obj, kid, &at)?;
            push_deduped(key, path, &mut set, out)?;
        }
    } else {
        return Err(unknown());
    }
    Ok(())
}

/// The keys of one set so far, indexed so that a large set is read in linear time.
#[derive(Default)]
struct SetIndex {
    /// (key, declared kid) pairs.
    pairs: KeySet<(PublicKey, Option<String>)>,
    /// The key each declared kid names.
    kids: KeyTable<String, PublicKey>,
}

/// Adds `key` unless the same key with the same kid is already in this set;
/// a kid already naming a different key in this set is an error.
fn push_deduped(
    key: Key,
    path: &Path,
    set: &mut SetIndex,
    out: &mut Parsed,
) -> Result<(), KeyError> {
    let pair = (key.public.clone(), key.declared_kid.clone());
    if set.pairs.contains(&pair) {
        return Ok(());
    }
    if let Some(kid) = &key.declared_kid {
        if set.kids.get(kid).is_some_and(|named| *named != key.public) {
            return Err(KeyError::DuplicateKid {
                path: path.to_path_buf(),
                kid: shown(kid),
            });
        }
        set.kids
            .entry(kid.clone())
            .or_insert_with(|| key.public.clone());
    }
    set.pairs.insert(pair);
    out.keys.push(key);
    Ok(())
}

/// Where in a file an entry sits, for error messages.
struct Ctx<'a> {
    path: &'a Path,
    at: String,
}

impl<'a> Ctx<'a> {
    fn new(path: &'a Path, at: String) -> Self {
        Ctx { path, at }
    }

    fn bad(&self, member: &str, detail: impl Into<String>) -> KeyError {
        KeyError::BadMember {
            path: self.path.to_path_buf(),
            at: self.at.clone(),
            member: shown(member),
            detail: detail.into(),
        }
    }

    fn missing(&self, member: &'static str) -> KeyError {
        KeyError::MissingMember {
            path: self.path.to_path_buf(),
            at: self.at.clone(),
            member,
        }
    }

    /// An optional string member; `null` counts as absent.
    fn opt_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        member: &str,
    ) -> Result<Option<&'v str>, KeyError> {
        match obj.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad(member, "must be a string")),
        }
    }

    fn req_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        member: &'static str,
    ) -> Result<&'v str, KeyError> {
        self.opt_str(obj, member)?
            .ok_or_else(|| self.missing(member))
    }

    /// A required base64url (no padding) member of exactly `len` bytes.
    fn b64url(
        &self,
        obj: &Map<String, Value>,
        member: &'static str,
        len: usize,
    ) -> Result<Vec<u8>, KeyError> {
        let text = self.req_str(obj, member)?;
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| {
            let why = if text.contains('=') {
                "is not base64url without padding (it has '=' padding)"
            } else if text.contains(['+', '/']) {
                "is not base64url (it uses the standard base64 alphabet)"
            } else {
                "is not valid base64url"
            };
            self.bad(member, why)
        })?;
        if bytes.len() != len {
            return Err(self.bad(
                member,
                format!("decodes to {} bytes, expected {len}", bytes.len()),
            ));
        }
        Ok(bytes)
    }

    fn key(&self, alg: KeyAlg, bytes: Vec<u8>) -> Result<PublicKey, KeyError> {
        PublicKey::new(alg, bytes).map_err(|source| KeyError::InvalidKey {
            path: self.path.to_path_buf(),
            at: self.at.clone(),
            source,
        })
    }
}

fn refuse_private(obj: &Map<String, Value>, at: &Ctx<'_>) -> Result<(), KeyError> {
    match PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
        Some(m) => Err(KeyError::PrivateKey {
            path: at.path.to_path_buf(),
            what: format!("{} has a private member \"{m}\"", at.at),
        }),
        None => Ok(()),
    }
}

fn source(path: &Path, kid: Option<&str>, index: &str) -> String {
    format!("{}#{}", path.display(), kid.unwrap_or(index))
}

/// One JWK or asqav key-directory entry; `None` when it is skipped (with a warning).
fn parse_entry(
    obj: &Map<String, Value>,
    at: &Ctx<'_>,
    index: &str,
    out: &mut Parsed,
) -> Result<Option<Key>, KeyError> {
    refuse_private(obj, at)?;
    let kid = at.opt_str(obj, "kid")?;
    let alg = at.opt_str(obj, "alg")?;
    let status = at.opt_str(obj, "status")?.map(str::to_string);
    let revoked_at = at.opt_str(obj, "revoked_at")?.map(str::to_string);
    let src = source(at.path, kid, index);
    let usage = at.opt_str(obj, "use")?;
    if let Some(usage) = usage.filter(|u| *u != "sig") {
        out.warnings.push(format!(
            "{src}: skipped, the key is marked \"use\": \"{}\", not \"sig\"",
            shown(usage)
        ));
        return Ok(None);
    }

    let jwk = match at.opt_str(obj, "kty")? {
        Some(kty) => Some(parse_jwk_key(obj, kty, alg, at)?),
        None => None,
    };
    let asqav = match obj.get("public_key") {
        None => None,
        Some(Value::Null) if jwk.is_none() => {
            out.warnings.push(format!(
                "{src}: skipped, the key directory entry has no public_key"
            ));
            return Ok(None);
        }
        Some(_) => Some(parse_asqav_key(obj, alg, at)?),
    };
    let public = match (jwk, asqav) {
        (Some(j), Some((a, _))) if j != a => {
            return Err(at.bad("public_key", "holds a different key than the JWK members"));
        }
        (_, Some((a, raw))) => {
            check_asqav_thumbprint(obj, alg, &raw, &src, at, out)?;
            a
        }
        (Some(j), None) => j,
        (None, None) => return Err(at.missing("kty")),
    };
    let owned = |m: &str| -> Result<Option<String>, KeyError> {
        Ok(at.opt_str(obj, m)?.map(str::to_string))
    };
    let binding = KeyBinding {
        issuer_id: owned("issuer_id")?,
        org_id: owned("org_id")?,
        agent_id: owned("agent_id")?,
        revocation_reason: owned("revocation_reason")?,
    };
    Ok(Some(Key {
        public,
        declared_kid: kid.map(str::to_string),
        source: src,
        status,
        revoked_at,
        binding,
    }))
}

fn parse_jwk_key(
    obj: &Map<String, Value>,
    kty: &str,
    alg: Option<&str>,
    at: &Ctx<'_>,
) -> Result<PublicKey, KeyError> {
    let (key_alg, allowed): (KeyAlg, &[&str]) = match kty {
        "EC" => (KeyAlg::P256, &["ES256"]),
        "OKP" => (KeyAlg::Ed25519, &["EdDSA", "Ed25519"]),
        "AKP" => (KeyAlg::MlDsa65, &["ML-DSA-65"]),
        other => {
            return Err(KeyError::UnsupportedKty {
                path: at.path.to_path_buf(),
                at: at.at.clone(),
                kty: shown(other),
            });
        }
    };
    if kty == "EC" || kty == "OKP" {
        let crv = at.req_str(obj, "crv")?;
        let expected = if kty == "EC" { "P-256" } else { "Ed25519" };
        if crv != expected {
            return Err(KeyError::UnsupportedCurve {
                path: at.path.to_path_buf(),
                at: at.at.clone(),
                curve: shown(crv),
            });
        }
    }
    match alg {
        Some(a) if !allowed.contains(&a) => {
            if kty == "AKP" {
                return Err(KeyError::UnsupportedAlg {
                    path: at.path.to_path_buf(),
                    at: at.at.clone(),
                    alg: shown(a),
                });
            }
            return Err(KeyError::AlgMismatch {
                path: at.path.to_path_buf(),
                at: at.at.clone(),
                alg: shown(a),
                key_alg,
            });
        }
        None if kty == "AKP" => return Err(at.missing("alg")),
        _ => {}
    }
    let bytes = match key_alg {
        KeyAlg::P256 => {
            let x = at.b64url(obj, "x", 32)?;
            let y = at.b64url(obj, "y", 32)?;
            [&[0x04][..], &x, &y].concat()
        }
        KeyAlg::Ed25519 => at.b64url(obj, "x", 32)?,
        KeyAlg::MlDsa65 => at.b64url(obj, "pub", 1952)?,
    };
    at.key(key_alg, bytes)
}

/// The asqav `public_key` member (standard base64 with padding) under `alg`.
/// Returns the key and the raw decoded bytes (for the thumbprint).
fn parse_asqav_key(
    obj: &Map<String, Value>,
    alg: Option<&str>,
    at: &Ctx<'_>,
) -> Result<(PublicKey, Vec<u8>), KeyError> {
    let alg = alg.ok_or_else(|| at.missing("alg"))?;
    let key_alg = match alg {
        "ML-DSA-65" => KeyAlg::MlDsa65,
        "Ed25519" | "ED25519" | "EdDSA" => KeyAlg::Ed25519,
        "ES256" => KeyAlg::P256,
        other => {
            return Err(KeyError::UnsupportedAlg {
                path: at.path.to_path_buf(),
                at: at.at.clone(),
                alg: shown(other),
            });
        }
    };
    let text = at.req_str(obj, "public_key")?;
    let raw = STANDARD
        .decode(text)
        .map_err(|_| at.bad("public_key", "is not standard base64 with padding"))?;
    Ok((at.key(key_alg, raw.clone())?, raw))
}

/// asqav's `key_thumbprint`: `"sha256:" + hex(SHA-256(JCS({"alg","kty":"AKP","pub"})))`
/// for every algorithm (`formats/asqav.md` 6.2). A mismatch is worth a warning.
fn check_asqav_thumbprint(
    obj: &Map<String, Value>,
    alg: Option<&str>,
    raw: &[u8],
    src: &str,
    at: &Ctx<'_>,
    out: &mut Parsed,
) -> Result<(), KeyError> {
    let (Some(declared), Some(alg)) = (at.opt_str(obj, "key_thumbprint")?, alg) else {
        return Ok(());
    };
    // `alg` is one of the fixed ASCII names accepted above, so no escaping is needed.
    let json = format!(
        "{{\"alg\":\"{alg}\",\"kty\":\"AKP\",\"pub\":\"{}\"}}",
        URL_SAFE_NO_PAD.encode(raw)
    );
    let computed = format!("sha256:{}", hex::encode(Sha256::digest(json.as_bytes())));
    if declared != computed {
        out.warnings.push(format!(
            "{src}: key_thumbprint {} differs from the computed {computed}",
            shown(declared)
        ));
    }
    Ok(())
}

fn parse_keystore_entry(
    obj: &Map<String, Value>,
    kid: &str,
    at: &Ctx<'_>,
) -> Result<Key, KeyError> {
    refuse_private(obj, at)?;
    let alg = at.req_str(obj, "alg")?;
    let public = match alg {
        "ES256" => {
            let xy = obj
                .get("jwk_x_y")
                .ok_or_else(|| at.missing("jwk_x_y"))?
                .as_object()
                .ok_or_else(|| at.bad("jwk_x_y", "must be an object"))?;
            let x = at.b64url(xy, "x", 32)?;
            let y = at.b64url(xy, "y", 32)?;
            at.key(KeyAlg::P256, [&[0x04][..], &x, &y].concat())?
        }
        "ML-DSA-65" => at.key(KeyAlg::MlDsa65, at.b64url(obj, "pk", 1952)?)?,
        other => {
            return Err(KeyError::UnsupportedAlg {
                path: at.path.to_path_buf(),
                at: at.at.clone(),
                alg: shown(other),
            });
        }
    };
    Ok(Key {
        public,
        declared_kid: Some(kid.to_string()),
        source: source(at.path, Some(kid), ""),
        status: None,
        revoked_at: None,
        binding: KeyBinding::default(),
    })
}

/// A `serde_json::Value` that refuses duplicate object members, which would
/// let two readers of one key file see two different keys.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(format!(
                    "duplicate member \"{}\"",
                    shown(&name)
                )));
            }
            let StrictValue(v) = map.next_value()?;
            members.insert(name, v);
        }
        Ok(Value::Object(members))
    }
}
