//! The AAT profile (draft-sharif-agent-audit-trail -04 … -06): per-record work.
//!
//! For each record line this parses the JSON strictly, extracts the members the chain checks need
//! (type-checked), computes the chain hash `H = SHA-256(JCS(record without batch))` (§5, signatures
//! included) and the signing input `M = JCS(record without signature, signature_classical,
//! batch)` with its digest (§6.2), and verifies the signatures. From the same canonical bytes as
//! the chain hash it takes the RFC 6962 leaf `SHA-256(0x00 ‖ JCS(record without batch))` (§6.4)
//! and checks the record's `batch` inclusion proof ([`crate::epoch`]). All of this is independent
//! of other records, so it runs in parallel; the order-dependent checks live in [`crate::chain`]
//! and [`crate::epoch::Epochs`].

use std::ops::Range;

use sha2::{Digest as _, Sha256};

use crate::canon::jcs::{self, CanonError};
use crate::canon::json::{self, Limits, Member, ParseErrorKind, Value};
use crate::epoch::{self, Batch};
use crate::finding::{Code, Finding, Location, QUOTE_LIMIT, make_quote};
use crate::sig::{self, SigContext, SigOutcome};

/// Members removed before the chain hash (§5).
const HASH_EXCLUDED: &[&str] = &["batch"];
/// Members removed before signing (§6.2): `batch` and these.
const SIGNATURE_MEMBERS: &[&str] = &["signature", "signature_classical"];

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// A `prev_hash` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// JSON `null`: a genesis record.
    Genesis,
    /// A 32-byte digest.
    Hash(Digest),
}

/// What the chain checks need to know about one well-formed record.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `session_id`: the chain.
    pub session_id: String,
    /// `record_id`.
    pub record_id: Option<String>,
    /// `agent_id`.
    pub agent_id: Option<String>,
    /// `prev_hash`.
    pub prev_hash: Option<Link>,
    /// `parent_record_id` (outer `None`: absent or invalid; inner `None`: JSON null).
    pub parent_record_id: Option<Option<String>>,
    /// `sequence_number`.
    pub seq: Option<u64>,
    /// `timestamp` as written.
    pub timestamp_text: Option<String>,
    /// `timestamp` as an instant.
    pub timestamp: Option<jiff::Timestamp>,
    /// Whether this is a `lifecycle`/`session_end` close record.
    pub is_close: bool,
    /// `action_detail.record_count` (close records).
    pub record_count: Option<u64>,
    /// `action_detail.session_hash` (close records), decoded.
    pub session_hash: Option<Digest>,
    /// `action_detail.recording_mode` (genesis).
    pub recording_mode: Option<String>,
    /// `H(record)`; `None` when the record could not be canonicalized.
    pub hash: Option<Digest>,
    /// The signature check's outcome.
    pub sig: SigOutcome,
    /// The RFC 6962 leaf hash `SHA-256(0x00 ‖ JCS(record without batch))` (§6.4), computed when
    /// the record has a `batch` or [`PrepareOptions::leaf_hashes`] is set and the record could
    /// be canonicalized.
    pub leaf: Option<Digest>,
    /// The `batch` member, checked as far as one record allows (see [`crate::epoch`]).
    pub batch: Option<Batch>,
}

/// Per-run choices for [`prepare_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PrepareOptions {
    /// Compute the Merkle leaf hash of every record, not only of records with a `batch` (needed
    /// when checkpoints are held against the export).
    pub leaf_hashes: bool,
    /// `--since`: records timestamped before it are hashed and linked, not signature-checked.
    pub since: Option<jiff::Timestamp>,
    /// `--until`: records timestamped after it are hashed and linked, not signature-checked.
    pub until: Option<jiff::Timestamp>,
}

impl PrepareOptions {
    /// Whether a record at `t` gets the signature checks.
    fn in_window(&self, t: Option<jiff::Timestamp>) -> bool {
        match t {
            // A record whose time is unknown is always checked in full.
            None => true,
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
        }
    }
}

/// One record line after the per-record work.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Where it is.
    pub at: Location,
    /// The line bytes (for quotes).
    pub line: Vec<u8>,
    /// The facts, or `None` when the line is not a usable record.
    pub facts: Option<Facts>,
    /// Findings of the per-record work.
    pub findings: Vec<Finding>,
    /// Where the container says the record came from.
    pub context: Option<String>,
}

impl Prepared {
    /// A finding about this record, quoting it with a label on `field`.
    pub fn finding(&self, code: Code, message: impl Into<String>, field: Option<&str>) -> Finding {
        let span = field.and_then(|f| self.span_of(f));
        let mut f = Finding::new(code, message)
            .at(self.at.clone())
            .quote(make_quote(&self.line, span, QUOTE_LIMIT));
        if let Some(field) = field {
            f = f.field(field);
        }
        if let Some(facts) = &self.facts {
            f = f.chain(facts.session_id.clone());
        }
        f.context = self.context.clone();
        f
    }

    /// A hole: a unit the container could not deliver as a record, with its finding.
    pub fn unreadable(at: Location, finding: Finding) -> Self {
        Prepared {
            at,
            line: Vec::new(),
            facts: None,
            findings: vec![finding],
            context: None,
        }
    }

    /// The byte span of a top-level member, if present.
    ///
    /// Found by parsing the line again: spans are needed only for findings, which are rare, and
    /// keeping every member name of every record would cost an allocation per member.
    pub fn span_of(&self, field: &str) -> Option<Range<usize>> {
        let value = json::parse(&self.line, &Limits::default()).ok()?;
        value
            .as_object()?
            .iter()
            .find(|m| m.key == field)
            .map(|m| m.span.clone())
    }
}

/// Whether the first record of an input looks like an AAT record.
pub fn looks_like_aat(value: &Value) -> bool {
    let Some(obj) = value.as_object() else {
        return false;
    };
    ["record_id", "session_id", "prev_hash"]
        .iter()
        .all(|k| obj.iter().any(|m| m.key == *k))
}

/// Does the per-record work for one line.
pub fn prepare(at: Location, line: Vec<u8>, context: Option<String>, ctx: &SigContext) -> Prepared {
    prepare_with(at, line, context, ctx, PrepareOptions::default())
}

/// Does the per-record work for one line, with per-run options.
pub fn prepare_with(
    at: Location,
    line: Vec<u8>,
    context: Option<String>,
    ctx: &SigContext,
    opts: PrepareOptions,
) -> Prepared {
    let mut p = Prepared {
        at,
        line,
        facts: None,
        findings: Vec::new(),
        context,
    };
    let value = match json::parse(&p.line, &Limits::default()) {
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
    let Value::Object(members) = &value else {
        let f = p.finding(
            Code::RecordNotObject,
            format!("the line holds a JSON {}, not an object", value.type_name()),
            None,
        );
        p.findings.push(f);
        return p;
    };
    match extract(&p, members, ctx, opts) {
        Ok((facts, findings)) => {
            p.findings = findings
                .into_iter()
                .map(|f| f.chain(facts.session_id.clone()))
                .collect();
            p.facts = Some(facts);
        }
        Err(f) => p.findings.push(*f),
    }
    p
}

/// Extracts and type-checks the members, hashes and verifies. Fails with the one finding that
/// makes the record impossible to place in a chain (no usable `session_id`).
fn extract(
    p: &Prepared,
    members: &[Member],
    ctx: &SigContext,
    opts: PrepareOptions,
) -> Result<(Facts, Vec<Finding>), Box<Finding>> {
    let mut out = Vec::new();
    let get = |name: &str| members.iter().find(|m| m.key == name).map(|m| &m.value);
    let missing =
        |name: &str| p.finding(Code::RecordFieldMissing, format!("{name} is missing"), None);
    let invalid = |name: &str, why: String| p.finding(Code::RecordFieldInvalid, why, Some(name));

    let session_id = match get("session_id") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            let f = invalid(
                "session_id",
                format!("session_id is a {}, expected a string", v.type_name()),
            );
            return Err(Box::new(f));
        }
        None => return Err(Box::new(missing("session_id"))),
    };
    let string_member = |name: &str, out: &mut Vec<Finding>| -> Option<String> {
        match get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => {
                out.push(invalid(
                    name,
                    format!("{name} is a {}, expected a string", v.type_name()),
                ));
                None
            }
            None => {
                out.push(missing(name));
                None
            }
        }
    };
    let record_id = string_member("record_id", &mut out);
    let agent_id = string_member("agent_id", &mut out);
    let prev_hash = match get("prev_hash") {
        Some(Value::Null) => Some(Link::Genesis),
        Some(Value::String(s)) => match parse_hex32(s) {
            Some(d) => Some(Link::Hash(d)),
            None => {
                out.push(invalid(
                    "prev_hash",
                    format!("prev_hash {s:?} is not 64 lowercase hex digits"),
                ));
                None
            }
        },
        Some(v) => {
            out.push(invalid(
                "prev_hash",
                format!(
                    "prev_hash is a {}, expected a hex string or null",
                    v.type_name()
                ),
            ));
            None
        }
        None => {
            out.push(missing("prev_hash"));
            None
        }
    };
    let parent_record_id = match get("parent_record_id") {
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(v) => {
            out.push(invalid(
                "parent_record_id",
                format!(
                    "parent_record_id is a {}, expected a string or null",
                    v.type_name()
                ),
            ));
            None
        }
        None => {
            out.push(missing("parent_record_id"));
            None
        }
    };
    let seq = match get("sequence_number") {
        None => None,
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        Some(v) => {
            out.push(invalid(
                "sequence_number",
                format!("sequence_number {} is not a non-negative integer", short(v)),
            ));
            None
        }
    };
    let timestamp_text = string_member("timestamp", &mut out);
    let timestamp = match &timestamp_text {
        Some(t) => match t.parse::<jiff::Timestamp>() {
            Ok(ts) => Some(ts),
            Err(e) => {
                out.push(p.finding(
                    Code::TimeInvalid,
                    format!("timestamp {t:?} is not an RFC 3339 instant: {e}"),
                    Some("timestamp"),
                ));
                None
            }
        },
        None => None,
    };

    let detail = get("action_detail").and_then(Value::as_object);
    let detail_get = |name: &str| {
        detail
            .and_then(|d| d.iter().find(|m| m.key == name))
            .map(|m| &m.value)
    };
    let is_close = matches!(get("action_type"), Some(Value::String(s)) if s == "lifecycle")
        && matches!(detail_get("event"), Some(Value::String(s)) if s == "session_end");
    let mut record_count = None;
    let mut session_hash = None;
    if is_close {
        match detail_get("record_count") {
            None => {}
            Some(Value::Number(n)) if n.as_u64().is_some() => record_count = n.as_u64(),
            Some(v) => out.push(invalid(
                "action_detail",
                format!(
                    "action_detail.record_count {} is not a non-negative integer",
                    short(v)
                ),
            )),
        }
        match detail_get("session_hash") {
            None => {}
            Some(Value::String(s)) if parse_hex32(s).is_some() => session_hash = parse_hex32(s),
            Some(v) => out.push(invalid(
                "action_detail",
                format!(
                    "action_detail.session_hash {} is not 64 lowercase hex digits",
                    short(v)
                ),
            )),
        }
    }
    let recording_mode = match detail_get("recording_mode") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };

    // Canonical forms: the chain hash (and from the same bytes the Merkle leaf) and the signing
    // input.
    let batch_value = get("batch");
    let mut buf = Vec::with_capacity(p.line.len());
    let mut spans = Vec::new();
    let mut leaf = None;
    let hash = match jcs::write_jcs_object_spans(members, HASH_EXCLUDED, &mut buf, &mut spans) {
        Ok(()) => {
            if batch_value.is_some() || opts.leaf_hashes {
                leaf = Some(crate::merkle::leaf_hash(&buf));
            }
            Some(sha256(&buf))
        }
        Err(e) => {
            out.push(canon_finding(p, &e));
            None
        }
    };
    let batch = batch_value.and_then(|v| epoch::check_batch(p, v, leaf.as_ref(), &mut out));
    // M is only needed to verify a `signature` (without one, the record is unsigned or fails).
    // It is the chain hash's canonical form without the signature members, copied from it.
    let signed = members.iter().any(|m| m.key == "signature");
    let signing_input = if hash.is_some() && signed {
        let mut m = Vec::with_capacity(buf.len());
        jcs::splice_without(&buf, &spans, SIGNATURE_MEMBERS, &mut m);
        Some(m)
    } else {
        None
    };
    let mut notes = Vec::new();
    let in_window = opts.in_window(timestamp);
    let sig = if !in_window && members.iter().any(|m| m.key == "signature") {
        SigOutcome::OutsideWindow
    } else {
        sig::check_aat(members, signing_input.as_deref(), ctx, &mut notes)
    };
    for (code, message, field, ef) in notes {
        let mut f = p.finding(code, message, Some(field));
        if let Some((e, fo)) = ef {
            f = f.expected_found(e, fo);
        }
        out.push(f);
    }
    let facts = Facts {
        session_id,
        record_id,
        agent_id,
        prev_hash,
        parent_record_id,
        seq,
        timestamp_text,
        timestamp,
        is_close,
        record_count,
        session_hash,
        recording_mode,
        hash,
        sig,
        leaf,
        batch,
    };
    Ok((facts, out))
}

fn canon_finding(p: &Prepared, e: &CanonError) -> Finding {
    p.finding(
        Code::CanonUnsupported,
        format!("{e}: the record's hash and signature cannot be recomputed"),
        None,
    )
}

fn short(v: &Value) -> String {
    match v {
        Value::Number(n) => n.text().chars().take(40).collect(),
        Value::String(s) => format!("{:?}", s.chars().take(40).collect::<String>()),
        other => format!("(a {})", other.type_name()),
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

pub use crate::hexdigits::parse_hex32;
