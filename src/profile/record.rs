//! One record of a declared profile (profile file format version 1, `docs/profiles.md`) after the
//! per-record work: what the order-dependent checks of
//! [`super::links`] need (chain id, link, own hash, sequence number, time, signature outcome, the
//! members outside the hash) and the findings already made, with the byte spans of the members
//! so that findings can point at them. The shape mirrors [`crate::profile::aat::Prepared`].

use std::ops::Range;

use crate::canon::json::{Limits, Member, Value, parse_python};
use crate::finding::{Code, Finding, Location, QUOTE_LIMIT, make_quote};
use crate::profile::aat::{Digest, Link};
use crate::sig::SigOutcome;

/// What the chain checks need to know about one well-formed record.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The chain it belongs to.
    pub chain: String,
    /// The record's own id, if the profile names one.
    pub record_id: Option<String>,
    /// The link to the previous record (`None`: absent or unusable).
    pub link: Option<Link>,
    /// The recomputed hash (`None`: not computable).
    pub hash: Option<Digest>,
    /// The sequence number.
    pub seq: Option<u64>,
    /// The time as written.
    pub time_text: Option<String>,
    /// The time as an instant.
    pub time: Option<jiff::Timestamp>,
    /// The record marks the end of its chain.
    pub terminal: bool,
    /// The signature check's outcome.
    pub sig: SigOutcome,
    /// Top-level members present but outside the hash.
    pub uncovered: Vec<String>,
    /// The record stands alone (no link member at all, e.g. an asqav flat receipt).
    pub standalone: bool,
    /// What a counterparty binding commits to when it names this record (asqav: SHA-256 of the
    /// asqav-JCS of `{payload, signature}`), where the profile checks bindings.
    pub envelope_hash: Option<Digest>,
    /// A counterparty binding of this record, to be resolved against the rest of the export.
    pub counterparty: Option<Box<Counterparty>>,
}

/// A structurally sound asqav counterparty binding waiting for its originating receipt, with the
/// findings it yields once that receipt is found (or not).
#[derive(Debug, Clone)]
pub struct Counterparty {
    /// The originating receipt's id (`receipt_ref`, matched against record ids).
    pub receipt_ref: String,
    /// The committed envelope hash.
    pub digest: Digest,
    /// If the originating receipt hashes to something else.
    pub mismatch: Finding,
    /// If the acknowledgment is not signed by the party the binding expects (`None`: it is, or
    /// the binding expects nobody).
    pub kid_mismatch: Option<Finding>,
    /// If the originating receipt is not in the export.
    pub unresolved: Finding,
}

/// One record after the per-record work.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Where it is.
    pub at: Location,
    /// The record bytes (for quotes).
    pub line: Vec<u8>,
    /// The facts, or `None` when the record is not usable.
    pub facts: Option<Facts>,
    /// Findings of the per-record work.
    pub findings: Vec<Finding>,
    /// Where the container says the record came from.
    pub context: Option<String>,
}

impl Prepared {
    /// A finding about this record, quoting it with a label on `field` (a path).
    pub fn finding(&self, code: Code, message: impl Into<String>, field: Option<&str>) -> Finding {
        let span = field.and_then(|f| self.span_of(f));
        let mut f = Finding::new(code, message)
            .at(self.at.clone())
            .quote(make_quote(&self.line, span, QUOTE_LIMIT));
        if let Some(field) = field {
            f = f.field(field);
        }
        if let Some(facts) = &self.facts {
            f = f.chain(facts.chain.clone());
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

    /// The byte span of the member at `path`, or of its nearest present ancestor. The line is
    /// parsed again for it (it parsed once already, so it parses again): spans are only wanted
    /// for findings, which are rare, so no record pays for them up front.
    pub fn span_of(&self, path: &str) -> Option<Range<usize>> {
        let value = parse_python(&self.line, &Limits::default()).ok()?;
        let mut p = path;
        loop {
            if let Some(m) = member(&value, p).filter(|m| !m.span.is_empty()) {
                return Some(m.span.clone());
            }
            p = p.rsplit_once('.')?.0;
        }
    }
}

/// The value at a dotted path.
pub fn get<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, name| v.get(name))
}

/// The member at a dotted path (for its span).
pub fn member<'v>(value: &'v Value, path: &str) -> Option<&'v Member> {
    let (parent, name) = match path.rsplit_once('.') {
        Some((p, n)) => (get(value, p)?, n),
        None => (value, path),
    };
    parent.as_object()?.iter().find(|m| m.key == name)
}

/// A copy of a value with the given members, spans left empty (for projections that are only
/// canonicalized).
pub fn object(members: Vec<(String, Value)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(key, value)| Member {
                key,
                value,
                span: 0..0,
                value_span: 0..0,
            })
            .collect(),
    )
}

/// Short text of a value for messages.
pub fn short(v: &Value) -> String {
    match v {
        Value::Number(n) => n.text().chars().take(40).collect(),
        Value::String(s) => format!("{:?}", s.chars().take(40).collect::<String>()),
        other => format!("(a {})", other.type_name()),
    }
}
