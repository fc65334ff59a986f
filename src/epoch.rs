//! AAT batch epochs (draft-sharif-agent-audit-trail §6.4; `formats/aat.md` §8), checked in two
//! steps like the chain:
//!
//! * per record, in parallel ([`check_batch`]): parse the detached `batch` member and fold the
//!   record's leaf `SHA-256(0x00 ‖ JCS(record without batch))` with its `inclusion_proof` by the
//!   side labels up to `merkle_root`; with `tree_size`, also derive the sides from `leaf_index`
//!   (RFC 9162 §2.1.3.2) and require that they agree and that the proof length is exact;
//! * in file order ([`Epochs`]): group records by `epoch_id` (several epochs per file), require
//!   one root and size per epoch, leaf indexes exactly `0 … tree_size-1` without repeats, and
//!   recompute the RFC 6962 root over the epoch's leaves in leaf order with a [`Frontier`].
//!
//! A record without `batch` is not an error. An epoch that passes is only *consistent*: `batch`
//! is neither signed nor chained, so its root proves something only when a trusted checkpoint
//! matches it (decided in [`crate::checkpoint::anchor`]).

use std::collections::BTreeMap;

use crate::canon::json::Value;
use crate::finding::{Code, Finding, Location};
use crate::merkle::{self, Frontier, Side};
use crate::profile::aat::{Digest, Prepared, parse_hex32};
use crate::report::EpochStatus;
use crate::tables::HashMap;

/// Longest inclusion proof accepted (a tree of 2^64 leaves).
const MAX_PROOF_LEN: usize = 64;
/// Out-of-order leaves held per epoch, and in all epochs together, before an epoch is given up
/// as unverifiable: memory stays bounded whatever the leaf order.
const MAX_PENDING: usize = 1 << 16;
const MAX_PENDING_TOTAL: usize = 1 << 20;

/// A record's `batch`, checked as far as one record allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// `epoch_id`.
    pub epoch_id: String,
    /// `merkle_root`.
    pub root: Digest,
    /// `leaf_index`.
    pub leaf_index: u64,
    /// `tree_size`, if given.
    pub tree_size: Option<u64>,
    /// Whether the proof leads to `root`; `None` when the leaf could not be computed.
    pub proof_ok: Option<bool>,
}

/// Parses and checks one record's `batch` member. Returns `None` (with a finding) when the record
/// cannot be placed in an epoch at all.
pub fn check_batch(
    p: &Prepared,
    value: &Value,
    leaf: Option<&Digest>,
    out: &mut Vec<Finding>,
) -> Option<Batch> {
    let invalid = |why: String| p.finding(Code::MerkleBatchInvalid, why, Some("batch"));
    let Some(obj) = value.as_object() else {
        out.push(invalid(format!(
            "batch is a {}, expected an object",
            value.type_name()
        )));
        return None;
    };
    let get = |k: &str| obj.iter().find(|m| m.key == k).map(|m| &m.value);
    let epoch_id = match get("epoch_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            out.push(invalid(
                "batch.epoch_id is missing or not a non-empty string".into(),
            ));
            return None;
        }
    };
    let Some(root) = get("merkle_root")
        .and_then(Value::as_str)
        .and_then(parse_hex32)
    else {
        out.push(invalid(
            "batch.merkle_root is missing or not 64 lowercase hex digits".into(),
        ));
        return None;
    };
    let Some(leaf_index) = get("leaf_index")
        .and_then(Value::as_number)
        .and_then(|n| n.as_u64())
    else {
        out.push(invalid(
            "batch.leaf_index is missing or not a non-negative integer".into(),
        ));
        return None;
    };
    let tree_size = match get("tree_size") {
        None => None,
        Some(v) => match v.as_number().and_then(|n| n.as_u64()) {
            Some(n) if n > 0 => Some(n),
            _ => {
                out.push(invalid("batch.tree_size is not a positive integer".into()));
                return None;
            }
        },
    };
    if let Some(n) = tree_size.filter(|&n| leaf_index >= n) {
        out.push(
            invalid(format!(
                "batch.leaf_index {leaf_index} is not below tree_size {n}"
            ))
            .expected_found(format!("< {n}"), leaf_index.to_string()),
        );
        return None;
    }
    let mut batch = Batch {
        epoch_id,
        root,
        leaf_index,
        tree_size,
        proof_ok: None,
    };
    let proof = match parse_proof(get("inclusion_proof")) {
        Ok(proof) => proof,
        Err(why) => {
            out.push(invalid(why));
            batch.proof_ok = Some(false);
            return Some(batch);
        }
    };
    let Some(leaf) = leaf else {
        return Some(batch);
    };
    batch.proof_ok = Some(check_proof(p, &batch, leaf, &proof, out));
    Some(batch)
}

fn parse_proof(value: Option<&Value>) -> Result<Vec<(Digest, Side)>, String> {
    let Some(items) = value.and_then(Value::as_array) else {
        return Err("batch.inclusion_proof is missing or not an array".into());
    };
    if items.len() > MAX_PROOF_LEN {
        return Err(format!(
            "batch.inclusion_proof has {} steps; no tree needs more than {MAX_PROOF_LEN}",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let hash = step
                .get("hash")
                .and_then(Value::as_str)
                .and_then(parse_hex32)
                .ok_or_else(|| {
                    format!("batch.inclusion_proof[{i}].hash is not 64 lowercase hex digits")
                })?;
            let side = match step.get("side").and_then(Value::as_str) {
                Some("left") => Side::Left,
                Some("right") => Side::Right,
                _ => {
                    return Err(format!(
                        "batch.inclusion_proof[{i}].side is not \"left\" or \"right\""
                    ));
                }
            };
            Ok((hash, side))
        })
        .collect()
}

/// Checks the proof; one finding for the first reason it fails.
fn check_proof(
    p: &Prepared,
    batch: &Batch,
    leaf: &Digest,
    proof: &[(Digest, Side)],
    out: &mut Vec<Finding>,
) -> bool {
    if let Some(size) = batch.tree_size {
        // leaf_index < tree_size was checked by the caller.
        let derived = merkle::inclusion_sides(batch.leaf_index, size).unwrap_or_default();
        if derived.len() != proof.len() {
            out.push(
                p.finding(
                    Code::MerkleProofLength,
                    format!(
                        "inclusion proof has {} step(s); leaf {} of a tree of {size} needs {}",
                        proof.len(),
                        batch.leaf_index,
                        derived.len()
                    ),
                    Some("batch"),
                )
                .expected_found(derived.len().to_string(), proof.len().to_string()),
            );
            return false;
        }
        if let Some((i, (want, (_, got)))) = derived
            .iter()
            .zip(proof)
            .enumerate()
            .find(|(_, (want, (_, got)))| want != &got)
        {
            out.push(
                p.finding(
                    Code::MerkleSideMismatch,
                    format!(
                        "inclusion_proof[{i}].side is {:?}, but leaf {} of a tree of {size} has its sibling on the {}",
                        got.as_str(),
                        batch.leaf_index,
                        want.as_str()
                    ),
                    Some("batch"),
                )
                .expected_found(want.as_str(), got.as_str()),
            );
            return false;
        }
    }
    let computed = merkle::root_from_sided_proof(leaf, proof);
    if computed != batch.root {
        out.push(
            p.finding(
                Code::MerkleProofInvalid,
                format!(
                    "the inclusion proof of leaf {} leads to {}, not to the epoch's merkle_root",
                    batch.leaf_index,
                    hex::encode(computed)
                ),
                Some("batch"),
            )
            .expected_found(hex::encode(batch.root), hex::encode(computed)),
        );
        return false;
    }
    true
}

/// One epoch as the in-order pass leaves it, for the anchor step to judge.
#[derive(Debug, Clone)]
pub struct EpochResult {
    /// `epoch_id`.
    pub id: String,
    /// The root the records claim.
    pub root: Digest,
    /// `tree_size`, if the records give it.
    pub tree_size: Option<u64>,
    /// Records of the epoch present.
    pub records: u64,
    /// Leaves `0 … n-1` present without gaps (`n` = this), when nothing else is present.
    pub contiguous: Option<u64>,
    /// Whether every record's proof led to the root.
    pub proofs_ok: bool,
    /// What the epoch checks established (anchoring is decided later).
    pub status: EpochStatus,
    /// The first record of the epoch, and its chain.
    pub first: (Location, String),
    /// The last record of the epoch, and its chain.
    pub last: (Location, String),
}

impl EpochResult {
    /// The epoch's size, when the records establish it.
    pub fn size(&self) -> Option<u64> {
        self.tree_size.or(self.contiguous)
    }
}

#[derive(Debug)]
struct EpochState {
    order: usize,
    root: Digest,
    tree_size: Option<u64>,
    records: u64,
    frontier: Frontier,
    /// Next leaf index the frontier expects.
    next: u64,
    /// Leaves seen ahead of `next` (`None`: leaf unknown).
    pending: BTreeMap<u64, Option<Digest>>,
    overflow: bool,
    unhashable: bool,
    proofs_ok: bool,
    failed: bool,
    gap_at: Option<(Location, String)>,
    first: (Location, String),
    last: (Location, String),
}

impl EpochState {
    /// Appends the leaf at `next`, then any held leaves that now follow without a gap.
    fn append(&mut self, leaf: Option<Digest>) {
        self.push_leaf(leaf);
        while let Some(l) = self.pending.remove(&self.next) {
            self.push_leaf(l);
        }
    }

    fn push_leaf(&mut self, leaf: Option<Digest>) {
        match leaf {
            Some(l) => self.frontier.push(l),
            None => {
                // The index still counts; the root can no longer be recomputed.
                self.unhashable = true;
                self.frontier.push([0; 32]);
            }
        }
        self.next += 1;
    }
}

/// The in-order epoch checks. Memory grows with the number of epochs (like chains with the
/// number of sessions) and with out-of-order leaves up to a fixed bound, never with the records.
#[derive(Debug)]
pub struct Epochs {
    epochs: HashMap<String, EpochState>,
    pending_total: usize,
    max: usize,
    /// Records of epochs met after the first `max`, and the finding at the first of them.
    untracked: u64,
    limit: Option<Finding>,
}

impl Default for Epochs {
    fn default() -> Self {
        Epochs {
            epochs: HashMap::default(),
            pending_total: 0,
            max: MAX_EPOCHS,
            untracked: 0,
            limit: None,
        }
    }
}

/// The most batch epochs tracked in one run. Each costs a few hundred bytes up to a few KiB (its
/// Merkle frontier and the records that name it first and last) and is listed in the report.
pub const MAX_EPOCHS: usize = 100_000;

impl Epochs {
    /// No epoch yet.
    pub fn new() -> Self {
        Epochs::default()
    }

    /// No epoch yet, tracking at most `max` epochs.
    pub fn with_limit(max: usize) -> Self {
        Epochs {
            max,
            ..Epochs::default()
        }
    }

    /// Feeds one record in file order.
    pub fn observe(&mut self, p: &Prepared, out: &mut Vec<Finding>) {
        let Some(facts) = &p.facts else {
            return;
        };
        let Some(batch) = &facts.batch else {
            return;
        };
        if self.epochs.len() >= self.max && !self.epochs.contains_key(&batch.epoch_id) {
            self.untracked += 1;
            if self.limit.is_none() {
                self.limit = Some(p.finding(
                    Code::LimitEpochs,
                    format!(
                        "more than {} batch epochs: epoch {} and the epochs met after it are not checked for completeness",
                        self.max, batch.epoch_id
                    ),
                    Some("batch"),
                ));
            }
            return;
        }
        let here = (p.at.clone(), facts.session_id.clone());
        let order = self.epochs.len();
        let e = self
            .epochs
            .entry(batch.epoch_id.clone())
            .or_insert_with(|| EpochState {
                order,
                root: batch.root,
                tree_size: batch.tree_size,
                records: 0,
                frontier: Frontier::new(),
                next: 0,
                pending: BTreeMap::new(),
                overflow: false,
                unhashable: false,
                proofs_ok: true,
                failed: false,
                gap_at: None,
                first: here.clone(),
                last: here.clone(),
            });
        e.records += 1;
        e.last = here.clone();
        if batch.proof_ok != Some(true) {
            e.proofs_ok = false;
        }
        if batch.root != e.root || batch.tree_size != e.tree_size {
            let (what, expected, found) = if batch.root != e.root {
                ("merkle_root", hex::encode(e.root), hex::encode(batch.root))
            } else {
                ("tree_size", opt(e.tree_size), opt(batch.tree_size))
            };
            out.push(
                p.finding(
                    Code::MerkleEpochInconsistent,
                    format!(
                        "epoch {} has {what} {found} here but {expected} at line {}",
                        batch.epoch_id, e.first.0.line
                    ),
                    Some("batch"),
                )
                .expected_found(expected, found)
                .related(e.first.0.clone()),
            );
            e.failed = true;
            return;
        }
        let index = batch.leaf_index;
        if index < e.next || e.pending.contains_key(&index) {
            out.push(p.finding(
                Code::MerkleLeafDuplicate,
                format!(
                    "leaf_index {index} of epoch {} appears a second time",
                    batch.epoch_id
                ),
                Some("batch"),
            ));
            e.failed = true;
            return;
        }
        let held = e.pending.len();
        if index == e.next {
            e.append(facts.leaf);
        } else if held < MAX_PENDING && self.pending_total < MAX_PENDING_TOTAL {
            if e.gap_at.is_none() {
                e.gap_at = Some(here);
            }
            e.pending.insert(index, facts.leaf);
        } else {
            e.overflow = true;
        }
        self.pending_total = (self.pending_total + e.pending.len()).saturating_sub(held);
    }

    /// Ends every epoch: completeness and the recomputed root. Anchoring is decided by the
    /// caller, which also reports unanchored epochs.
    pub fn finish(self, out: &mut Vec<Finding>) -> Vec<EpochResult> {
        if let Some(mut f) = self.limit {
            f.message = format!(
                "{}: {} record(s) of those epochs had their inclusion proofs checked, but their epochs are not checked for completeness and not listed",
                f.message, self.untracked
            );
            out.push(f);
        }
        let mut epochs: Vec<(String, EpochState)> = self.epochs.into_iter().collect();
        epochs.sort_by_key(|(_, e)| e.order);
        epochs
            .into_iter()
            .map(|(id, e)| finish_one(id, e, out))
            .collect()
    }
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "absent".into(), |n| n.to_string())
}

fn finish_one(id: String, e: EpochState, out: &mut Vec<Finding>) -> EpochResult {
    let mut status = if e.failed {
        EpochStatus::Failed
    } else {
        EpochStatus::Consistent
    };
    let place = |at: &(Location, String), code: Code, msg: String| {
        Finding::new(code, msg).at(at.0.clone()).chain(at.1.clone())
    };
    if e.overflow {
        out.push(place(
            &e.first,
            Code::MerkleEpochUnverifiable,
            format!("epoch {id}: leaves too far out of order to recompute its root"),
        ));
        return result(id, &e, None, EpochStatus::Unverifiable);
    }
    // Leaves present ahead of the contiguous prefix mean a gap at `next`. Counted in u128: a
    // leaf_index may be u64::MAX when the epoch declares no tree_size.
    let highest = e.pending.keys().next_back().map(|&k| u128::from(k) + 1);
    let span = e.tree_size.map(u128::from).or(highest);
    if let Some(n) = span.filter(|&n| n > u128::from(e.next)) {
        let missing = n - u128::from(e.next) - e.pending.len() as u128;
        let at = e.gap_at.clone().unwrap_or_else(|| e.last.clone());
        let of = match e.tree_size {
            Some(n) => format!("{n}"),
            None => format!("at least {n}"),
        };
        out.push(
            place(
                &at,
                Code::MerkleLeafMissing,
                format!(
                    "epoch {id}: {missing} of {of} leaves missing, the first is leaf_index {}",
                    e.next
                ),
            )
            .expected_found(of.clone(), (n - missing).to_string()),
        );
        return result(id, &e, None, EpochStatus::Failed);
    }
    let contiguous = Some(e.next);
    if e.unhashable {
        out.push(place(
            &e.first,
            Code::MerkleEpochUnverifiable,
            format!("epoch {id}: a record of the epoch could not be canonicalized"),
        ));
        return result(id, &e, contiguous, EpochStatus::Unverifiable);
    }
    let computed = e.frontier.root();
    if computed != e.root {
        if e.tree_size.is_none() && e.proofs_ok {
            // Every proof leads to the root, yet the leaves present do not make it up: the
            // epoch is larger than what the export holds.
            out.push(
                place(
                    &e.last,
                    Code::MerkleLeafMissing,
                    format!(
                        "epoch {id}: every proof leads to merkle_root, but the {} leaves present do not make it up: leaves after leaf_index {} are missing",
                        e.next,
                        e.next.saturating_sub(1)
                    ),
                )
                .expected_found(hex::encode(e.root), hex::encode(computed)),
            );
        } else {
            out.push(
                place(
                    &e.first,
                    Code::MerkleRootMismatch,
                    format!(
                        "epoch {id}: the root over its {} leaves in leaf order is not its merkle_root",
                        e.next
                    ),
                )
                .expected_found(hex::encode(e.root), hex::encode(computed)),
            );
        }
        status = EpochStatus::Failed;
    }
    result(id, &e, contiguous, status)
}

fn result(id: String, e: &EpochState, contiguous: Option<u64>, status: EpochStatus) -> EpochResult {
    EpochResult {
        id,
        root: e.root,
        tree_size: e.tree_size,
        records: e.records,
        contiguous,
        proofs_ok: e.proofs_ok,
        status,
        first: e.first.clone(),
        last: e.last.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::canon::jcs;
    use crate::canon::json::{Limits, Value, parse};
    use crate::keys::KeyRing;
    use crate::profile::aat;
    use crate::sig::SigContext;

    /// Record `i` of the unsigned fixture, in a single-leaf epoch of its own named `e{i}`.
    fn own_epoch(i: usize) -> Vec<u8> {
        let line = include_str!("../testdata/aat/ok--gen-unsigned.jsonl")
            .lines()
            .nth(i)
            .unwrap();
        let Value::Object(members) = parse(line.as_bytes(), &Limits::default()).unwrap() else {
            panic!("a record is an object");
        };
        let mut canonical = Vec::new();
        jcs::write_jcs_object_excluding(&members, &["batch"], &mut canonical).unwrap();
        let root = hex::encode(crate::merkle::leaf_hash(&canonical));
        let batch = format!(
            r#","batch":{{"epoch_id":"e{i}","merkle_root":"{root}","leaf_index":0,"tree_size":1,"inclusion_proof":[]}}}}"#
        );
        format!("{}{batch}", line.strip_suffix('}').unwrap()).into_bytes()
    }

    #[test]
    fn epochs_past_the_limit_are_counted_in_one_finding_not_tracked() {
        let ring = KeyRing::from_keys(Vec::new());
        let ctx = SigContext::new(&ring, crate::crypto::all_providers()[0]).unwrap();
        let mut epochs = Epochs::with_limit(3);
        let mut out = Vec::new();
        for i in 0..5 {
            let at = Location {
                source: 0,
                line: i as u64 + 1,
                record: i as u64,
            };
            let p = aat::prepare(at, own_epoch(i), None, &ctx);
            assert!(p.findings.is_empty(), "record {i}: {:?}", p.findings);
            epochs.observe(&p, &mut out);
        }
        // A record of an epoch already tracked is still checked against it (here: a second leaf 0).
        let p = aat::prepare(
            Location {
                source: 0,
                line: 6,
                record: 5,
            },
            own_epoch(1),
            None,
            &ctx,
        );
        epochs.observe(&p, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code, Code::MerkleLeafDuplicate);
        out.clear();
        let results = epochs.finish(&mut out);
        assert_eq!(
            results.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["e0", "e1", "e2"]
        );
        assert_eq!(results[1].records, 2);
        let limit: Vec<_> = out.iter().filter(|f| f.code == Code::LimitEpochs).collect();
        assert_eq!(limit.len(), 1, "{out:?}");
        assert_eq!(
            limit[0].at.as_ref().unwrap().line,
            4,
            "at the first untracked record"
        );
        assert!(
            limit[0].message.contains("epoch e3"),
            "{}",
            limit[0].message
        );
        assert!(
            limit[0].message.contains(": 2 record(s)"),
            "{}",
            limit[0].message
        );
        assert!(limit[0].chain.is_some(), "placed in the record's chain");
    }
}
