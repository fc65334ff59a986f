//! The JSON report, schema `audit-verify/report/v1` (documented in `docs/report.md`).
//!
//! Member order is fixed and every map is ordered, so the same inputs give the same bytes. The
//! report is written as it is serialized, one chain at a time: an export of many chains never
//! holds its whole JSON text, or a JSON tree of it, in memory.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value, json};

use super::{ChainSummary, CheckpointOutcome, Report, Status, TailAnchor};
use crate::finding::{Finding, Location};

/// The schema identifier.
pub const SCHEMA: &str = "audit-verify/report/v1";

/// Renders the report as pretty-printed JSON with a final newline.
pub fn render_json(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and serde_json writes valid UTF-8.
    let _ = write_json(report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the report as pretty-printed JSON with a final newline, chain by chain.
///
/// # Errors
/// The writer's.
pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut ser = serde_json::Serializer::pretty(&mut *out);
    Whole(report).serialize(&mut ser).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// The report as a JSON value (the same members as [`write_json`] writes).
pub fn to_value(report: &Report) -> Value {
    serde_json::to_value(Whole(report)).unwrap_or(Value::Null)
}

/// The whole report, serialized member by member.
struct Whole<'a>(&'a Report);

/// The `chains` array, each chain made into a JSON value only while it is written.
struct Chains<'a>(&'a Report);

/// The `findings` array, likewise.
struct Findings<'a>(&'a Report);

impl Serialize for Whole<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let verdict = report.verdict();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema", SCHEMA)?;
        m.serialize_entry(
            "tool",
            &json!({"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")}),
        )?;
        m.serialize_entry("verdict", verdict.as_str())?;
        m.serialize_entry("exit_code", &verdict.exit_code())?;
        m.serialize_entry("statement", &report.statement())?;
        m.serialize_entry("profile", &report.profile)?;
        m.serialize_entry("crypto_provider", &report.provider)?;
        m.serialize_entry(
            "policy",
            &json!({
                "require_signatures": report.require_signatures,
                "require_complete": report.require_complete,
            }),
        )?;
        m.serialize_entry("inputs", &report.inputs.iter().map(|i| json!({
            "file": i.file, "format": i.format, "gzip": i.gzip, "lines": i.lines, "records": i.records, "bytes": i.bytes, "sha256": i.sha256,
        })).collect::<Vec<_>>())?;
        m.serialize_entry("keys", &report.keys.iter().map(|k| json!({
            "source": k.source,
            "alg": k.alg,
            "fingerprint": k.fingerprint,
            "kids": k.kids.iter().map(|(rule, kid)| json!({"rule": rule, "kid": kid})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>())?;
        m.serialize_entry("summary", &json!({
            "chains": report.chains.len(),
            "records": report.records(),
            "untracked_records": report.untracked.map_or(0, |u| u.records),
            "errors": report.count(crate::finding::Severity::Error),
            "warnings": report.count(crate::finding::Severity::Warning),
            "infos": report.count(crate::finding::Severity::Info),
            "findings_by_code": report.counts.iter().map(|(c, n)| (c.as_str().to_string(), json!(n))).collect::<Map<_, _>>(),
        }))?;
        m.serialize_entry("chains", &Chains(report))?;
        m.serialize_entry(
            "checkpoints",
            &report
                .checkpoints
                .iter()
                .map(|c| {
                    let (missing, uncovered) = match c.outcome {
                        CheckpointOutcome::Truncated { missing } => (Some(missing), None),
                        CheckpointOutcome::AnchorsPrefix { uncovered } => (None, Some(uncovered)),
                        _ => (None, None),
                    };
                    json!({
                        "file": c.source,
                        "format": c.format,
                        "origin": c.origin,
                        "size": c.size,
                        "root": c.root,
                        "signature": c.signature,
                        "signers": c.signers,
                        "outcome": c.outcome.as_str(),
                        "missing_records": missing,
                        "uncovered_records": uncovered,
                        "epochs": c.epochs,
                    })
                })
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry(
            "epochs",
            &report
                .epochs
                .iter()
                .map(|e| {
                    json!({
                        "id": e.id,
                        "records": e.records,
                        "tree_size": e.tree_size,
                        "root": e.root,
                        "first": place(report, &e.first),
                        "status": e.status.as_str(),
                        "anchored_by": e.anchored_by,
                    })
                })
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry("findings", &Findings(report))?;
        m.serialize_entry(
            "findings_omitted",
            &report
                .omitted()
                .iter()
                .map(|(c, n)| (c.as_str().to_string(), json!(n)))
                .collect::<Map<_, _>>(),
        )?;
        m.end()
    }
}

impl Serialize for Chains<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.chains.len()))?;
        for c in &self.0.chains {
            seq.serialize_element(&chain(self.0, c))?;
        }
        seq.end()
    }
}

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.findings.len()))?;
        for f in &self.0.findings {
            seq.serialize_element(&finding(self.0, f))?;
        }
        seq.end()
    }
}

fn status(s: &Status, required: bool) -> Value {
    json!({"status": s.as_str(), "required": required, "detail": s.detail()})
}

fn place(report: &Report, at: &Location) -> Value {
    json!({
        "file": report.inputs.get(at.source).map(|i| i.file.as_str()),
        "line": at.line,
        "record_index": at.record,
    })
}

fn chain(report: &Report, c: &ChainSummary) -> Value {
    json!({
        "id": c.id,
        "verdict": c.verdict().as_str(),
        "records": c.records,
        "first": place(report, &c.first),
        "last": place(report, &c.last),
        "first_sequence": c.first_seq,
        "last_sequence": c.last_seq,
        "first_timestamp": c.first_time,
        "last_timestamp": c.last_time,
        "signed_records": c.signed,
        "unsigned_records": c.unsigned,
        "signers": c.signers,
        "guarantees": {
            "integrity": status(&c.integrity, true),
            "authenticity": status(&c.authenticity, c.authenticity_required),
            "head": status(&c.head, c.completeness_required),
            "tail": status(&c.tail, c.completeness_required),
        },
        "tail_anchors": c.tail_anchors.iter().map(|a| match a {
            TailAnchor::CloseRecord(at) => json!({
                "kind": a.kind(),
                "file": report.inputs.get(at.source).map(|i| i.file.as_str()),
                "line": at.line,
                "record_index": at.record,
            }),
            TailAnchor::Checkpoint { source, size } => json!({
                "kind": a.kind(), "checkpoint": source, "size": size,
            }),
        }).collect::<Vec<_>>(),
        "findings": c.findings.iter().map(|(code, n)| (code.as_str(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
    })
}

fn finding(report: &Report, f: &Finding) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), json!(f.code.as_str()));
    m.insert("severity".into(), json!(f.severity().as_str()));
    let (file, line, index) = match &f.at {
        Some(at) => (
            json!(report.inputs.get(at.source).map(|i| i.file.as_str())),
            json!(at.line),
            json!(at.record),
        ),
        None => (Value::Null, Value::Null, Value::Null),
    };
    m.insert("file".into(), file);
    m.insert("line".into(), line);
    m.insert("record_index".into(), index);
    m.insert("chain".into(), json!(f.chain));
    m.insert("message".into(), json!(f.message));
    if let Some(field) = &f.field {
        m.insert("field".into(), json!(field));
    }
    if let Some(e) = &f.expected {
        m.insert("expected".into(), json!(e));
    }
    if let Some(found) = &f.found {
        m.insert("found".into(), json!(found));
    }
    if let Some(c) = &f.context {
        m.insert("context".into(), json!(c));
    }
    if let Some(r) = &f.related {
        m.insert("related".into(), place(report, r));
    }
    Value::Object(m)
}
