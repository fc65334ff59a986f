//! Microsoft Agent Governance Toolkit specifics (`shared/formats/agt.md`, agent-governance-toolkit
//! core/protocols 5.0.0) that a profile declaration cannot express: Python datetime renderings
//! re-rendered as `datetime.isoformat()` (§3.3), the CloudEvents mapping back to the hashed
//! `AuditEntry` members (§3.7), the `AuditLog.export()` bundle (`entry_count`, the incremental
//! Merkle root of §3.5 with its literal zero padding) and the `get_proof()` inclusion proof (§3.6).

use crate::canon::json::Value;
use crate::finding::{Code, Finding, Location};
use crate::hextree::{self, Edge, HexTree};
use crate::ingest::json::{Bundle, Slot, Unbuilt};
use crate::profile::engine::{hash_input, sha256};
use crate::profile::record::{get, object, short};
use crate::profile::spec::Spec;

/// A Python datetime rendering, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyDatetime {
    /// As `datetime.isoformat()` prints it.
    pub iso: String,
    /// The instant (a naive time is taken as UTC).
    pub instant: jiff::Timestamp,
    /// The rendering had a producer quirk (`+00:00Z`).
    pub quirk: bool,
}

/// Parses `str(datetime)`, `isoformat()`, pydantic's `Z` form and the CloudEvents `+00:00Z`
/// quirk, and re-renders the value as `datetime.isoformat()`: `YYYY-MM-DDTHH:MM:SS`, then
/// `.ffffff` only when the microsecond is non-zero, then `+HH:MM` (none for a naive time).
pub fn py_datetime(text: &str) -> Option<PyDatetime> {
    let b = text.as_bytes();
    if b.len() < 19 || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let date = text.get(0..10)?;
    let time = text.get(11..19)?;
    let mut rest = text.get(19..)?;
    let mut micros: u32 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 6 {
            return None;
        }
        // The digits, right-padded with zeros to six: microseconds.
        micros = frac
            .bytes()
            .take(n)
            .chain(std::iter::repeat(b'0'))
            .take(6)
            .fold(0, |m, d| m * 10 + u32::from(d - b'0'));
        rest = frac.get(n..)?;
    }
    let mut quirk = false;
    let offset = match rest {
        "" => None,
        "Z" => Some("+00:00"),
        o => {
            let o = match o.strip_suffix('Z') {
                Some(inner) => {
                    quirk = true;
                    inner
                }
                None => o,
            };
            let ob = o.as_bytes();
            let ok = ob.len() == 6
                && (ob[0] == b'+' || ob[0] == b'-')
                && ob[1..3].iter().all(u8::is_ascii_digit)
                && ob[3] == b':'
                && ob[4..6].iter().all(u8::is_ascii_digit);
            if !ok {
                return None;
            }
            Some(o)
        }
    };
    // `isoformat()`: the fraction only when the microsecond is not 0, the offset when aware.
    let mut fraction = [b'.', b'0', b'0', b'0', b'0', b'0', b'0'];
    let mut m = micros;
    for d in fraction[1..].iter_mut().rev() {
        *d = b'0' + (m % 10) as u8;
        m /= 10;
    }
    let fraction = std::str::from_utf8(&fraction).ok()?;
    let mut iso = String::with_capacity(32);
    iso.push_str(date);
    iso.push('T');
    iso.push_str(time);
    if micros != 0 {
        iso.push_str(fraction);
    }
    if let Some(o) = offset {
        iso.push_str(o);
    }
    let mut rfc = String::with_capacity(32);
    rfc.push_str(date);
    rfc.push('T');
    rfc.push_str(time);
    rfc.push_str(fraction);
    rfc.push_str(offset.unwrap_or("+00:00"));
    let instant = rfc.parse::<jiff::Timestamp>().ok()?;
    Some(PyDatetime {
        iso,
        instant,
        quirk,
    })
}

/// The AuditEntry rebuilt from a CloudEvent, and what the event carries outside the hash.
pub struct CloudEventView {
    /// The nine hashed members.
    pub value: Value,
    /// Members outside the hash (paths).
    pub uncovered: Vec<String>,
    /// The event's top-level members the hashed members are rebuilt from.
    pub read: &'static [&'static str],
    /// The time had the `+00:00Z` quirk.
    pub quirk: bool,
}

/// `data` members that `to_cloudevent()` adds beside the entry's own data.
const SPREAD: [&str; 10] = [
    "action",
    "resource",
    "outcome",
    "policy_decision",
    "matched_rule",
    "policy_version",
    "arguments_hash",
    "approver_did",
    "issued_at",
    "completed_at",
];

const TYPES: [(&str, &str); 9] = [
    ("tool_invocation", "ai.agentmesh.tool.invoked"),
    ("tool_blocked", "ai.agentmesh.tool.blocked"),
    ("policy_evaluation", "ai.agentmesh.policy.evaluation"),
    ("policy_violation", "ai.agentmesh.policy.violation"),
    ("trust_handshake", "ai.agentmesh.trust.handshake"),
    ("trust_score_updated", "ai.agentmesh.trust.score.updated"),
    ("agent_registered", "ai.agentmesh.agent.registered"),
    ("agent_verified", "ai.agentmesh.agent.verified"),
    ("audit_integrity", "ai.agentmesh.audit.integrity.verified"),
];

/// Rebuilds the hashed `AuditEntry` members from an AGT CloudEvent (§3.7).
///
/// # Errors
/// A message when the event lacks what the mapping needs.
pub fn cloudevent_view(event: &Value) -> Result<CloudEventView, String> {
    let s = |name: &str| -> Result<String, String> {
        event
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                format!("the CloudEvent has no string {name}: its entry hash cannot be rebuilt")
            })
    };
    let ty = s("type")?;
    let event_type = TYPES
        .iter()
        .find(|(_, t)| *t == ty)
        .map(|(e, _)| (*e).to_string())
        .or_else(|| ty.strip_prefix("ai.agentmesh.").map(str::to_string))
        .ok_or_else(|| format!("type {ty:?} is not an ai.agentmesh event type"))?;
    let time = s("time")?;
    let dt = py_datetime(&time)
        .ok_or_else(|| format!("time {time:?} is not a Python datetime rendering"))?;
    let data = event
        .get("data")
        .and_then(Value::as_object)
        .ok_or("the CloudEvent has no data object: its entry hash cannot be rebuilt")?;
    let from_data = |name: &str| data.iter().find(|m| m.key == name).map(|m| m.value.clone());
    let original: Vec<(String, Value)> = data
        .iter()
        .filter(|m| !SPREAD.contains(&m.key.as_str()))
        .map(|m| (m.key.clone(), m.value.clone()))
        .collect();
    let previous = event
        .get("agentmeshprevioushash")
        .cloned()
        .ok_or("the CloudEvent has no agentmeshprevioushash")?;
    let value = object(vec![
        ("entry_id".into(), Value::String(s("id")?)),
        ("timestamp".into(), Value::String(dt.iso.clone())),
        ("event_type".into(), Value::String(event_type)),
        ("agent_did".into(), Value::String(s("source")?)),
        ("action".into(), from_data("action").unwrap_or(Value::Null)),
        (
            "resource".into(),
            from_data("resource").unwrap_or(Value::Null),
        ),
        ("data".into(), object(original)),
        (
            "outcome".into(),
            from_data("outcome").unwrap_or(Value::Null),
        ),
        ("previous_hash".into(), previous),
    ]);
    let mut uncovered: Vec<String> = ["specversion", "datacontenttype", "traceid", "sessionid"]
        .iter()
        .filter(|n| event.get(n).is_some())
        .map(|n| (*n).to_string())
        .collect();
    uncovered.extend(
        SPREAD[3..]
            .iter()
            .filter(|n| from_data(n).is_some())
            .map(|n| format!("data.{n}")),
    );
    Ok(CloudEventView {
        value,
        uncovered,
        read: &[
            "id",
            "type",
            "source",
            "time",
            "data",
            "agentmeshprevioushash",
        ],
        quirk: dt.quirk,
    })
}

/// AGT's incremental Merkle root (§3.5): leaves are hex strings, a node hashes the ASCII of its
/// children's hex, an empty subtree of any height is the literal 64 zeros, one leaf is the root.
pub fn incremental_root(leaves: &[String]) -> Option<String> {
    hextree::root(leaves.iter().map(String::as_str), Edge::PadZeros)
}

fn entry_hash(spec: &Spec, entry: &Value) -> Option<String> {
    let input = hash_input(spec, entry).ok()?;
    let bytes = input.canonical(spec.hash.dialect).ok()?;
    Some(hex::encode(sha256(&bytes)))
}

fn finding(code: Code, at: &Location, message: impl Into<String>) -> Finding {
    Finding::new(code, message).at(at.clone())
}

/// Bundle-level checks of an `export()` object or a `get_proof()` object. The entries are read one
/// at a time from the bundle's bytes.
pub fn check_bundle(spec: &Spec, bundle: &Bundle, at: &Location, out: &mut Vec<Finding>) {
    match bundle.member("entries") {
        Some(Slot::Unbuilt(entries)) if entries.is_array() => {
            check_export(spec, bundle.top(), entries, at, out);
        }
        _ if bundle.top().get("merkle_proof").is_some() => check_proof(spec, bundle.top(), at, out),
        _ => {}
    }
}

fn check_export(
    spec: &Spec,
    bundle: &Value,
    entries: Unbuilt<'_>,
    at: &Location,
    out: &mut Vec<Finding>,
) {
    let count = entries.len();
    if let Some(v) = bundle.get("entry_count") {
        if v.as_number().and_then(|n| n.as_u64()) != Some(count as u64) {
            out.push(
                finding(
                    Code::AgtEntryCountMismatch,
                    at,
                    format!(
                        "entry_count says {}, but the export holds {count} entries",
                        short(v),
                    ),
                )
                .field("entry_count")
                .expected_found(count.to_string(), short(v)),
            );
        }
    }
    let roots: Vec<(&str, &Value)> = ["merkle_root", "chain_root"]
        .iter()
        .filter_map(|n| bundle.get(n).map(|v| (*n, v)))
        .collect();
    if roots.is_empty() || entries.is_empty() {
        return;
    }
    let first = match entries.elements().next() {
        Some(Ok(first)) => first,
        Some(Err(e)) => {
            out.extend(e.finding(at, "the export's merkle_root"));
            return;
        }
        None => return,
    };
    let whole = first.get("previous_hash").and_then(Value::as_str) == Some("");
    drop(first);
    if !whole {
        out.push(finding(
            Code::AgtMerkleRootUnverifiable,
            at,
            "the export's first entry is not the log's genesis (a partial export, e.g. AGT's 10,000-entry window): merkle_root covers entries not in the file and cannot be checked",
        ).field("merkle_root"));
        return;
    }
    // The root is built as the entries are read, one node per level held.
    let mut tree = HexTree::default();
    for entry in entries.elements() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                out.extend(e.finding(at, "the export's merkle_root"));
                return;
            }
        };
        // An entry that cannot be hashed is reported by the record checks.
        let Some(leaf) = entry_hash(spec, &entry) else {
            return;
        };
        tree.push(leaf);
    }
    let Some(root) = tree.root(Edge::PadZeros) else {
        return;
    };
    for (name, v) in roots {
        if v.as_str() != Some(root.as_str()) {
            out.push(
                finding(
                    Code::AgtMerkleRootMismatch,
                    at,
                    format!("{name} does not match the incremental Merkle root recomputed over the {count} entries (an export filtered by end time would also differ)"),
                )
                .field(name)
                .expected_found(root.clone(), short(v)),
            );
        }
    }
}

fn check_proof(spec: &Spec, bundle: &Value, at: &Location, out: &mut Vec<Finding>) {
    let bad = |why: String| finding(Code::AgtProofInvalid, at, why).field("merkle_proof");
    let Some(entry) = bundle.get("entry") else {
        out.push(bad("the proof object has no entry".into()));
        return;
    };
    let Some(mut h) = entry_hash(spec, entry) else {
        return;
    };
    let steps = get(bundle, "merkle_proof")
        .and_then(Value::as_array)
        .unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        let pair = step.as_array().unwrap_or_default();
        match (
            pair.first().and_then(Value::as_str),
            pair.get(1).and_then(Value::as_str),
        ) {
            (Some(sib), Some("right")) => h = hextree::node(&h, sib),
            (Some(sib), Some("left")) => h = hextree::node(sib, &h),
            _ => {
                out.push(bad(format!(
                    "merkle_proof[{i}] is not [sibling hex, \"left\"|\"right\"]"
                )));
                return;
            }
        }
    }
    match bundle.get("merkle_root") {
        Some(Value::String(r)) if *r == h => {}
        Some(v) => out.push(
            bad(format!(
                "the {}-step proof from the recomputed entry hash does not lead to merkle_root",
                steps.len()
            ))
            .expected_found(h, short(v)),
        ),
        None => out.push(bad("the proof object has no merkle_root".into())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn python_datetimes_rerender_as_isoformat() {
        let cases = [
            (
                "2026-11-22 05:39:43.651779+00:00",
                "2026-11-22T05:39:43.651779+00:00",
                false,
            ),
            (
                "2026-11-22T05:39:43.651779Z",
                "2026-11-22T05:39:43.651779+00:00",
                false,
            ),
            (
                "2026-11-22T05:39:43.651779+00:00Z",
                "2026-11-22T05:39:43.651779+00:00",
                true,
            ),
            (
                "2026-11-22T05:39:43.000000+00:00",
                "2026-11-22T05:39:43+00:00",
                false,
            ),
            (
                "2026-11-22T05:39:43.5+05:30",
                "2026-11-22T05:39:43.500000+05:30",
                false,
            ),
            (
                "2026-06-04T20:31:38.361764",
                "2026-06-04T20:31:38.361764",
                false,
            ),
            (
                "2026-06-04T20:31:38.000001-02:00",
                "2026-06-04T20:31:38.000001-02:00",
                false,
            ),
            (
                "2026-06-04T20:31:38.000Z",
                "2026-06-04T20:31:38+00:00",
                false,
            ),
        ];
        for (input, iso, quirk) in cases {
            let d = py_datetime(input).unwrap();
            assert_eq!(d.iso, iso, "{input}");
            assert_eq!(d.quirk, quirk, "{input}");
        }
        let d = py_datetime("2026-06-04T20:31:38.000001-02:00").unwrap();
        assert_eq!(d.instant.to_string(), "2026-06-04T22:31:38.000001Z");
        for bad in [
            "2026-11-22",
            "2026-11-22T05:39:43.1234567Z",
            "2026-13-01T00:00:00Z",
            "x026-11-22T05:39:43Z",
        ] {
            assert!(py_datetime(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn incremental_root_pads_with_literal_zeros() {
        let leaf = |c: char| c.to_string().repeat(64);
        let (a, b, c) = (leaf('a'), leaf('b'), leaf('c'));
        let node_hash = hextree::node;
        assert_eq!(incremental_root(std::slice::from_ref(&a)), Some(a.clone()));
        assert_eq!(
            incremental_root(&[a.clone(), b.clone()]),
            Some(node_hash(&a, &b))
        );
        let zero = "0".repeat(64);
        assert_eq!(
            incremental_root(&[a.clone(), b.clone(), c.clone()]),
            Some(node_hash(&node_hash(&a, &b), &node_hash(&c, &zero)))
        );
        let five: Vec<String> = (0..5).map(|_| a.clone()).collect();
        let left = node_hash(&node_hash(&a, &a), &node_hash(&a, &a));
        let right = node_hash(&node_hash(&a, &zero), &zero);
        assert_eq!(incremental_root(&five), Some(node_hash(&left, &right)));
    }
}
