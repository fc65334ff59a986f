//! The per-record work of a declared profile (profile file format version 1, `docs/profiles.md`): parse the record strictly (with
//! `NaN`/`Infinity` where the dialect is a Python one), build the hash input the profile declares
//! (a member, a projection of members, or the record minus some members, optionally through a
//! built-in view and re-renderings), canonicalize it in the profile's dialect, compare the hash the
//! record states, decode link, sequence number and time, and check the signature
//! ([`super::sigcheck`]). Independent of other records, so it runs in parallel.

use std::borrow::Cow;

use sha2::{Digest as _, Sha256};

use crate::canon::json::{self, Limits, Member, ParseError, ParseErrorKind, Value};
use crate::canon::pyjson;
use crate::finding::{Code, Finding, Location, QUOTE_LIMIT, make_quote};
use crate::hexdigits;
use crate::profile::aat::{Digest, Link, parse_hex32};
use crate::profile::record::{Facts, Prepared, get, member, object, short};
use crate::profile::sigcheck::{self, Env};
use crate::profile::spec::{DigestEncoding, Extension, Genesis, Render, Spec, TimeFormat, View};
use crate::profile::{agt, asqav};
use crate::sig::SigOutcome;

/// Parses a record as the profile's dialect requires.
///
/// # Errors
/// The parser's error.
pub fn parse(spec: &Spec, bytes: &[u8]) -> Result<Value, ParseError> {
    if spec.hash.dialect.allows_nonfinite() {
        json::parse_python(bytes, &Limits::default())
    } else {
        json::parse(bytes, &Limits::default())
    }
}

/// Does the per-record work for one record.
pub fn prepare(
    spec: &Spec,
    at: Location,
    line: Vec<u8>,
    context: Option<String>,
    env: &Env<'_>,
) -> Prepared {
    let mut p = Prepared {
        at,
        line,
        facts: None,
        findings: Vec::new(),
        context,
    };
    let value = match parse(spec, &p.line) {
        Ok(v) => v,
        Err(e) => {
            let code = match e.kind {
                ParseErrorKind::InvalidUtf8 => Code::RecordInvalidUtf8,
                ParseErrorKind::LoneSurrogate => Code::RecordLoneSurrogate,
                ParseErrorKind::DuplicateKey(_) => Code::RecordDuplicateKey,
                ParseErrorKind::TooDeep { .. } => Code::RecordTooDeep,
                _ => Code::RecordMalformed,
            };
            let span = e.offset.min(p.line.len())..(e.offset + 1).min(p.line.len());
            let mut f = Finding::new(code, format!("{e} (byte {} of the record)", e.offset + 1))
                .at(p.at.clone())
                .quote(make_quote(&p.line, Some(span), QUOTE_LIMIT));
            f.context = p.context.clone();
            p.findings.push(f);
            return p;
        }
    };
    if value.as_object().is_none() {
        let f = p.finding(
            Code::RecordNotObject,
            format!("the record is a JSON {}, not an object", value.type_name()),
            None,
        );
        p.findings.push(f);
        return p;
    }
    let value = if spec.has(Extension::AsqavKeys) {
        asqav::normalise(value)
    } else {
        value
    };
    let result = if spec.has(Extension::AsqavFlatReceipts) && asqav::is_flat(&value) {
        asqav::extract_flat(spec, &p, &value, env)
    } else {
        extract(spec, &p, &value, env)
    };
    match result {
        Ok((facts, findings)) => {
            p.findings = findings
                .into_iter()
                .map(|f| f.chain(facts.chain.clone()))
                .collect();
            p.facts = Some(facts);
        }
        Err(f) => p.findings.push(*f),
    }
    p
}

/// Why the hash input could not be built.
#[derive(Debug, Clone)]
pub enum InputError {
    /// A member the hash covers is missing.
    Missing(String),
    /// A member could not be re-rendered.
    Render {
        /// The member.
        field: String,
        /// Why.
        why: String,
    },
    /// The view cannot rebuild the hashed object.
    View(String),
}

/// The hash input of a record: the object that is canonicalized, the top-level members it
/// covers, members a view says are outside it, and whether a producer quirk was undone.
#[derive(Debug, Clone)]
pub struct HashInput<'a> {
    /// The object to canonicalize.
    pub value: Input<'a>,
    /// Top-level members of the record that the hash covers.
    pub covered: Cow<'a, [String]>,
    /// Members (paths) that a view leaves outside the hash.
    pub view_uncovered: Vec<String>,
    /// A timestamp quirk was undone (AGT CloudEvents `+00:00Z`).
    pub quirk: bool,
}

/// The object a hash covers.
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// A value built for the hash (a view, a member, the record minus some members).
    Built(Value),
    /// Named members of the record, borrowed unless re-rendered: written as one object without
    /// being copied into one (the common case: a projection of members).
    Members(Vec<(&'a str, Cow<'a, Value>)>),
}

impl HashInput<'_> {
    /// The canonical bytes of the input in `dialect`.
    ///
    /// # Errors
    /// As [`pyjson::write`].
    pub fn canonical(&self, dialect: pyjson::Dialect) -> Result<Vec<u8>, crate::canon::CanonError> {
        self.canonical_sized(dialect, 0)
    }

    /// As [`Self::canonical`], with room for `size_hint` bytes reserved up front (a record's own
    /// length is a good guess for its hash input's).
    ///
    /// # Errors
    /// As [`pyjson::write`].
    pub fn canonical_sized(
        &self,
        dialect: pyjson::Dialect,
        size_hint: usize,
    ) -> Result<Vec<u8>, crate::canon::CanonError> {
        let mut out = Vec::with_capacity(size_hint);
        match &self.value {
            Input::Built(v) => pyjson::write(dialect, v, &mut out)?,
            Input::Members(members) => {
                let mut refs: Vec<(&str, &Value)> =
                    members.iter().map(|(k, v)| (*k, v.as_ref())).collect();
                pyjson::write_members(dialect, &mut refs, &mut out)?;
            }
        }
        Ok(out)
    }
}

/// Builds the hash input the profile declares.
///
/// # Errors
/// [`InputError`] when a covered member is missing or cannot be rendered.
pub fn hash_input<'a>(spec: &'a Spec, record: &'a Value) -> Result<HashInput<'a>, InputError> {
    let h = &spec.hash;
    let (base, view_uncovered, view_quirk, view_read) = match h.view {
        Some(View::AgtCloudevent) => {
            let v = agt::cloudevent_view(record).map_err(InputError::View)?;
            (Cow::Owned(v.value), v.uncovered, v.quirk, Some(v.read))
        }
        None => (Cow::Borrowed(record), Vec::new(), false, None),
    };
    let mut quirk = view_quirk;
    let mut render = |name: &str, v: &Value| -> Result<Option<Value>, InputError> {
        match (h.render.get(name), v) {
            (Some(Render::PyIsoformat), Value::String(s)) => match agt::py_datetime(s) {
                Some(dt) => {
                    quirk |= dt.quirk;
                    Ok(Some(Value::String(dt.iso)))
                }
                None => Err(InputError::Render {
                    field: name.into(),
                    why: format!("{s:?} is not a Python datetime rendering"),
                }),
            },
            (Some(Render::PyIsoformat), other) => Err(InputError::Render {
                field: name.into(),
                why: format!("a {} is not a datetime string", other.type_name()),
            }),
            (None, _) => Ok(None),
        }
    };
    let (value, mut covered) = if let Some(path) = &h.member {
        let v = get(&base, path)
            .cloned()
            .ok_or_else(|| InputError::Missing(path.clone()))?;
        let first = path.split('.').next().unwrap_or(path).to_string();
        (Input::Built(v), Cow::Owned(vec![first]))
    } else if let Some(names) = &h.members {
        let mut out = Vec::with_capacity(names.len());
        // In the dialect's order when the profile was loaded so (the writer then need not sort).
        let ordered = if h.members_sorted.len() == names.len() {
            &h.members_sorted
        } else {
            names
        };
        let mut cursor = 0;
        for name in ordered {
            // Borrowed from the record itself; copied only out of a view built here.
            let found: Option<Cow<'a, Value>> = match &base {
                Cow::Borrowed(r) => {
                    let r: &'a Value = r;
                    let members = r.as_object().unwrap_or_default();
                    find_from(members, name, &mut cursor).map(Cow::Borrowed)
                }
                Cow::Owned(v) => v.get(name).map(|v| Cow::Owned(v.clone())),
            };
            let v = match found {
                None if h.omit_null.contains(name) => continue,
                Some(v) if v.is_null() && h.omit_null.contains(name) => continue,
                None => return Err(InputError::Missing(name.clone())),
                Some(v) => v,
            };
            let v = match render(name, &v)? {
                Some(rendered) => Cow::Owned(rendered),
                None => v,
            };
            out.push((name.as_str(), v));
        }
        // The covered names in the same order, so that the uncovered ones are found in one walk.
        (Input::Members(out), Cow::Borrowed(ordered.as_slice()))
    } else {
        let exclude = h.exclude.as_deref().unwrap_or_default();
        let mut out = Vec::new();
        for m in base.as_object().unwrap_or_default() {
            if exclude.contains(&m.key) {
                continue;
            }
            let mut v = render(&m.key, &m.value)?.unwrap_or_else(|| m.value.clone());
            if h.drop_null {
                drop_nulls(&mut v, &m.key, &h.keep_null);
            }
            out.push((m.key.clone(), v));
        }
        let covered = out.iter().map(|(k, _)| k.clone()).collect();
        (Input::Built(object(out)), Cow::Owned(covered))
    };
    if let Some(read) = view_read {
        // The view's inputs are the record's members it read; any other member is outside the hash.
        covered = Cow::Owned(
            record
                .as_object()
                .unwrap_or_default()
                .iter()
                .filter(|m| read.contains(&m.key.as_str()))
                .map(|m| m.key.clone())
                .collect(),
        );
    }
    Ok(HashInput {
        value,
        covered,
        view_uncovered,
        quirk,
    })
}

/// The value of member `name`, looked for from `*from` on and wrapping around; `*from` moves past
/// it. Names looked up in the order the record holds them (producers that sort their keys write
/// them in the order a profile's sorted members are read) are found in a step or two each.
fn find_from<'v>(members: &'v [Member], name: &str, from: &mut usize) -> Option<&'v Value> {
    position_from(members, |m| m.key == name, from).map(|i| &members[i].value)
}

/// The first position from `*from` on, wrapping around, whose item matches; `*from` moves past it.
fn position_from<T>(items: &[T], matches: impl Fn(&T) -> bool, from: &mut usize) -> Option<usize> {
    let start = (*from).min(items.len());
    let (before, after) = items.split_at(start);
    let found = after
        .iter()
        .position(&matches)
        .map(|i| start + i)
        .or_else(|| before.iter().position(&matches))?;
    *from = found + 1;
    Some(found)
}

/// Removes null-valued members at any depth, except at the `keep` paths.
fn drop_nulls(v: &mut Value, path: &str, keep: &[String]) {
    match v {
        Value::Object(members) => {
            members.retain(|m| {
                let p = format!("{path}.{}", m.key);
                !m.value.is_null() || keep.contains(&p)
            });
            for m in members.iter_mut() {
                let p = format!("{path}.{}", m.key);
                drop_nulls(&mut m.value, &p, keep);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                drop_nulls(item, path, keep);
            }
        }
        _ => {}
    }
}

/// The canonical bytes of a record's hash input (for known-answer tests).
///
/// # Errors
/// A message when the input cannot be built or canonicalized.
pub fn canonical_bytes(spec: &Spec, record: &Value) -> Result<Vec<u8>, String> {
    let input = hash_input(spec, record).map_err(|e| format!("{e:?}"))?;
    input
        .canonical(spec.hash.dialect)
        .map_err(|e| e.to_string())
}

/// Encodes a digest as the profile writes it.
pub fn encode_digest(d: &Digest, enc: DigestEncoding) -> String {
    match enc {
        DigestEncoding::Hex => hexdigits::encode(d),
        DigestEncoding::Sha256Hex => format!("sha256:{}", hexdigits::encode(d)),
    }
}

/// Decodes a digest written as the profile writes it.
pub fn decode_digest(s: &str, enc: DigestEncoding) -> Option<Digest> {
    match enc {
        DigestEncoding::Hex => parse_hex32(s),
        DigestEncoding::Sha256Hex => parse_hex32(s.strip_prefix("sha256:")?),
    }
}

fn extract(
    spec: &Spec,
    p: &Prepared,
    value: &Value,
    env: &Env<'_>,
) -> Result<(Facts, Vec<Finding>), Box<Finding>> {
    let mut out = Vec::new();
    let missing =
        |name: &str| p.finding(Code::RecordFieldMissing, format!("{name} is missing"), None);
    let invalid = |name: &str, why: String| p.finding(Code::RecordFieldInvalid, why, Some(name));

    // The chain.
    let mut chain = None;
    for path in &spec.chain.id {
        match get(value, path) {
            Some(Value::String(s)) => {
                chain = Some(s.clone());
                break;
            }
            Some(Value::Null) | None => {}
            Some(v) => {
                return Err(Box::new(invalid(
                    path,
                    format!("{path} is a {}, expected a string", v.type_name()),
                )));
            }
        }
    }
    let chain = match chain {
        Some(c) => c,
        None if spec.chain.id.is_empty() => spec.default_chain().to_string(),
        None => return Err(Box::new(missing(&spec.chain.id.join(" or ")))),
    };

    let record_id = match &spec.record_id {
        None => None,
        Some(r) => match get(value, &r.field) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                out.push(invalid(
                    &r.field,
                    format!("{} is a {}, expected a string", r.field, v.type_name()),
                ));
                None
            }
            // Ids are compared when present; the hash and link say the rest.
            None => None,
        },
    };

    // The hash.
    let mut canonical = None;
    let mut hash = None;
    let mut uncovered = Vec::new();
    match hash_input(spec, value) {
        Ok(input) => {
            if input.quirk {
                out.push(p.finding(
                    Code::AgtTimeQuirk,
                    "the time ends in an offset and a Z; hashed without the final Z, as the producer did",
                    spec.time.as_ref().map(|t| t.field.as_str()),
                ));
            }
            match input.canonical_sized(spec.hash.dialect, p.line.len() + p.line.len() / 4) {
                Ok(bytes) => {
                    hash = Some(sha256(&bytes));
                    canonical = Some(bytes);
                }
                Err(e) => out.push(p.finding(
                    Code::CanonUnsupported,
                    format!(
                        "{e}: the record's hash and signature cannot be recomputed in {}",
                        spec.hash.dialect.as_str()
                    ),
                    None,
                )),
            }
            uncovered = uncovered_members(spec, value, &input);
        }
        Err(InputError::Missing(name)) => out.push(p.finding(
            Code::RecordFieldMissing,
            format!("{name} is missing, and the hash covers it"),
            None,
        )),
        Err(InputError::Render { field, why }) => out.push(p.finding(
            Code::TimeInvalid,
            format!("{field}: {why}; the hash cannot be recomputed"),
            Some(&field),
        )),
        Err(InputError::View(why)) => out.push(p.finding(Code::ProfileNotRecomputable, why, None)),
    }
    if let (Some(claimed), Some(computed)) = (&spec.hash.claimed, &hash) {
        match get(value, claimed) {
            Some(Value::String(s)) => match decode_digest(s, spec.hash.encoding) {
                Some(d) if d == *computed => {}
                Some(_) => out.push(
                    p.finding(
                        Code::RecordHashMismatch,
                        format!("{claimed} does not match the hash recomputed from the members it covers"),
                        Some(claimed),
                    )
                    .expected_found(encode_digest(computed, spec.hash.encoding), s.clone()),
                ),
                None => out.push(invalid(
                    claimed,
                    format!("{claimed} {} is not a digest in the profile's encoding", short(&Value::String(s.clone()))),
                )),
            },
            Some(v) => out.push(invalid(
                claimed,
                format!("{claimed} is a {}, expected a digest string", v.type_name()),
            )),
            None => out.push(missing(claimed)),
        }
    }

    // The link.
    let link = match &spec.link {
        None => None,
        Some(l) => match (get(value, &l.field), l.genesis) {
            (None | Some(Value::Null), Genesis::Null) => Some(Link::Genesis),
            (Some(Value::String(s)), Genesis::Empty) if s.is_empty() => Some(Link::Genesis),
            (Some(Value::String(s)), Genesis::Zeros)
                if s.len() == 64 && s.bytes().all(|b| b == b'0') =>
            {
                Some(Link::Genesis)
            }
            (Some(Value::String(s)), _) => match decode_digest(s, l.encoding) {
                Some(d) => Some(Link::Hash(d)),
                None => {
                    out.push(invalid(
                        &l.field,
                        format!(
                            "{} {} is neither the genesis marker nor a digest",
                            l.field,
                            short(&Value::String(s.clone()))
                        ),
                    ));
                    None
                }
            },
            (None, _) => {
                out.push(missing(&l.field));
                None
            }
            (Some(v), _) => {
                out.push(invalid(
                    &l.field,
                    format!(
                        "{} is a {}, expected a digest string",
                        l.field,
                        v.type_name()
                    ),
                ));
                None
            }
        },
    };

    let seq = match &spec.sequence {
        None => None,
        Some(s) => match get(value, &s.field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
            Some(v) => {
                out.push(invalid(
                    &s.field,
                    format!("{} {} is not a non-negative integer", s.field, short(v)),
                ));
                None
            }
        },
    };

    let (time_text, time) = match &spec.time {
        None => (None, None),
        Some(t) => read_time(p, value, &t.field, t.format, &mut out),
    };

    let terminal = spec.terminal.as_ref().is_some_and(|t| {
        let want = match &t.equals {
            toml::Value::Boolean(b) => Value::Bool(*b),
            toml::Value::String(s) => Value::String(s.clone()),
            _ => return false,
        };
        get(value, &t.field) == Some(&want)
    });

    let sig = match &spec.signature {
        None => SigOutcome::Unsigned,
        Some(s) => sigcheck::check(
            spec,
            s,
            p,
            value,
            canonical.as_deref(),
            hash.as_ref(),
            time,
            env,
            &mut out,
        ),
    };

    if spec.has(Extension::AsqavPayloadDigest) {
        asqav::check_payload_digest(p, value, &mut out);
    }
    if spec.has(Extension::AsqavOuterCopies) {
        // public_key_b64 was compared with the key that verified (asqav::check_binding).
        let key_copy_agreed = matches!(sig, SigOutcome::Verified { .. })
            && !out.iter().any(|f| {
                f.code == Code::AsqavOuterCopyMismatch
                    && f.field.as_deref() == Some("public_key_b64")
            });
        asqav::check_outer_copies(
            p,
            value,
            canonical.as_deref(),
            key_copy_agreed,
            &mut uncovered,
            &mut out,
        );
    }
    if spec.has(Extension::AsqavKeys) {
        asqav::note_anchors(p, value, &mut out);
    }
    if spec.has(Extension::AsqavStructure) {
        asqav::check_structure(p, value, &mut out);
    }
    let (envelope_hash, counterparty) = if spec.has(Extension::AsqavCounterparty) {
        (
            asqav::envelope_hash(value),
            asqav::check_counterparty(p, value, &chain, env, &mut out).map(Box::new),
        )
    } else {
        (None, None)
    };

    Ok((
        Facts {
            chain,
            record_id,
            link,
            hash,
            seq,
            time_text,
            time,
            terminal,
            sig,
            uncovered,
            standalone: false,
            envelope_hash,
            counterparty,
        },
        out,
    ))
}

/// Top-level members present in the record but outside the hash and the signature machinery.
fn uncovered_members(spec: &Spec, record: &Value, input: &HashInput<'_>) -> Vec<String> {
    if !spec.report_uncovered {
        return Vec::new();
    }
    fn first(p: &str) -> &str {
        p.split('.').next().unwrap_or(p)
    }
    let sig = spec.signature.as_ref();
    let machinery: [Option<&str>; 5] = [
        spec.hash.claimed.as_deref(),
        sig.map(|s| s.value.as_str()),
        sig.and_then(|s| s.algorithm_field.as_deref()),
        sig.and_then(|s| s.kid.as_deref()),
        sig.and_then(|s| s.embedded_key.as_deref()),
    ]
    .map(|p| p.map(first));
    let machinery = |k: &str| machinery.contains(&Some(k));
    // Only the names that are reported are copied.
    let covered: &[String] = &input.covered;
    let mut cursor = 0;
    let mut out: Vec<String> = record
        .as_object()
        .unwrap_or_default()
        .iter()
        .filter(|m| {
            position_from(covered, |c| *c == m.key, &mut cursor).is_none() && !machinery(&m.key)
        })
        .map(|m| m.key.clone())
        .collect();
    for u in &input.view_uncovered {
        if !out.contains(u) && !machinery(first(u)) {
            out.push(u.clone());
        }
    }
    out
}

/// Reads a time member in the declared form.
pub fn read_time(
    p: &Prepared,
    value: &Value,
    field: &str,
    format: TimeFormat,
    out: &mut Vec<Finding>,
) -> (Option<String>, Option<jiff::Timestamp>) {
    let bad = |why: String| p.finding(Code::TimeInvalid, why, Some(field));
    match (get(value, field), format) {
        (None | Some(Value::Null), _) => (None, None),
        (Some(Value::String(s)), TimeFormat::Rfc3339) => match s.parse::<jiff::Timestamp>() {
            Ok(t) => (Some(s.clone()), Some(t)),
            Err(e) => {
                out.push(bad(format!(
                    "{field} {s:?} is not an RFC 3339 instant: {e}"
                )));
                (Some(s.clone()), None)
            }
        },
        (Some(Value::String(s)), TimeFormat::PyDatetime) => match agt::py_datetime(s) {
            Some(dt) => (Some(s.clone()), Some(dt.instant)),
            None => {
                out.push(bad(format!(
                    "{field} {s:?} is not a Python datetime rendering"
                )));
                (Some(s.clone()), None)
            }
        },
        (Some(Value::Number(n)), TimeFormat::EpochSeconds) => {
            let f = n.as_f64();
            let t = if f.is_finite() && f.abs() < 1e11 {
                let secs = f.floor();
                let nanos = ((f - secs) * 1e9).round().min(999_999_999.0);
                jiff::Timestamp::new(secs as i64, nanos as i32).ok()
            } else {
                None
            };
            if t.is_none() {
                out.push(bad(format!(
                    "{field} {} is not a time in seconds since the epoch",
                    n.text()
                )));
            }
            (Some(n.text().to_string()), t)
        }
        (Some(v), _) => {
            out.push(bad(format!(
                "{field} is a {}, not a time in the profile's form",
                v.type_name()
            )));
            (None, None)
        }
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

/// Whether a parsed record has the shape the profile detects.
pub fn looks_like(spec: &Spec, value: &Value) -> bool {
    if value.as_object().is_none() {
        return false;
    }
    let has = |p: &String| member(value, p).is_some();
    let shape = spec.detect.require.iter().all(has) && !spec.detect.require.is_empty();
    let alt = spec
        .detect
        .or_require
        .iter()
        .any(|group| !group.is_empty() && group.iter().all(has));
    (shape || alt) && !spec.detect.forbid.iter().any(has)
}
