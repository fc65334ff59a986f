//! The JSON report, schema `audit-verify/report/v1` (documented in `docs/report.md`).
//!
//! Member order is fixed and every map is ordered, so the same inputs give the same bytes.

use serde_json::{Map, Value, json};

use super::{ChainSummary, CheckpointOutcome, Report, Status, TailAnchor};
use crate::finding::{Finding, Location};

/// The schema identifier.
pub const SCHEMA: &str = "audit-verify/report/v1";

/// Renders the report as pretty-printed JSON with a final newline.
pub fn render_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(report)).unwrap_or_default();
    s.push('\n');
    s
}

/// The report as a JSON value.
pub fn to_value(report: &Report) -> Value {
    let verdict = report.verdict();
    json!({
        "schema": SCHEMA,
        "tool": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
        "verdict": verdict.as_str(),
        "exit_code": verdict.exit_code(),
        "statement": report.statement(),
        "profile": report.profile,
        "crypto_provider": report.provider,
        "policy": {
            "require_signatures": report.require_signatures,
            "require_complete": report.require_complete,
        },
        "inputs": report.inputs.iter().map(|i| json!({
            "file": i.file, "format": i.format, "gzip": i.gzip, "lines": i.lines, "records": i.records, "bytes": i.bytes, "sha256": i.sha256,
        })).collect::<Vec<_>>(),
        "keys": report.keys.iter().map(|k| json!({
            "source": k.source,
            "alg": k.alg,
            "fingerprint": k.fingerprint,
            "kids": k.kids.iter().map(|(rule, kid)| json!({"rule": rule, "kid": kid})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "summary": {
            "chains": report.chains.len(),
            "records": report.records(),
            "errors": report.count(crate::finding::Severity::Error),
            "warnings": report.count(crate::finding::Severity::Warning),
            "infos": report.count(crate::finding::Severity::Info),
            "findings_by_code": report.counts.iter().map(|(c, n)| (c.as_str().to_string(), json!(n))).collect::<Map<_, _>>(),
        },
        "chains": report.chains.iter().map(|c| chain(report, c)).collect::<Vec<_>>(),
        "checkpoints": report.checkpoints.iter().map(|c| {
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
        }).collect::<Vec<_>>(),
        "epochs": report.epochs.iter().map(|e| json!({
            "id": e.id,
            "records": e.records,
            "tree_size": e.tree_size,
            "root": e.root,
            "first": place(report, &e.first),
            "status": e.status.as_str(),
            "anchored_by": e.anchored_by,
        })).collect::<Vec<_>>(),
        "findings": report.findings.iter().map(|f| finding(report, f)).collect::<Vec<_>>(),
        "findings_omitted": report.omitted().iter().map(|(c, n)| (c.as_str().to_string(), json!(n))).collect::<Map<_, _>>(),
    })
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
        "findings": c.findings,
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
