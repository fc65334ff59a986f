//! Holding the export against its checkpoints and batch epochs (RFC 9162 §2.1; C2SP
//! tlog-checkpoint; AAT §6.4).
//!
//! The export's Merkle tree has one leaf per record line of the export, in file order across all
//! inputs: the AAT leaf `SHA-256(0x00 ‖ JCS(record without batch))`. It is computed as records
//! stream past with a [`Frontier`] (O(log n) memory), keeping the root only at the sizes some
//! trusted checkpoint (or consistency proof) names. A record line without a leaf (unparseable,
//! too long, not canonicalizable) makes every root from its position on unknown.
//!
//! For each trusted checkpoint of size `n`: fewer than `n` records is truncation (failed, with
//! the number missing); another root at `n` is a mismatch (failed); the same root anchors the
//! records up to `n` — the whole export, and so every chain's tail, when `n` is the record count.
//! A checkpoint whose size and root are those of a batch epoch anchors that epoch instead.
//! Trusted checkpoints must agree: one size with two roots, or a failing consistency proof, is a
//! failure. Untrusted checkpoints are reported and otherwise ignored.

use std::collections::{BTreeMap, BTreeSet};

use crate::epoch::{EpochResult, Epochs};
use crate::finding::{Code, Finding, Location};
use crate::merkle::{self, Frontier, Hash};
use crate::profile::aat::Prepared;
use crate::report::{CheckpointOutcome, CheckpointSummary, EpochStatus, EpochSummary, TailAnchor};

use super::{CheckedCheckpoint, Trust};

/// The export's Merkle tree, with roots kept at the sizes of interest.
#[derive(Debug, Default)]
struct ExportTree {
    frontier: Frontier,
    /// Leaf position of the first record line without a leaf.
    first_hole: Option<u64>,
    want: BTreeSet<u64>,
    roots: BTreeMap<u64, Option<Hash>>,
    /// Where the last leaf of each size of interest sits.
    places: BTreeMap<u64, Location>,
    last: Option<Location>,
    source: usize,
    next_record: u64,
}

impl ExportTree {
    fn push(&mut self, leaf: Option<Hash>, at: Option<&Location>) {
        let index = self.frontier.size();
        match leaf {
            Some(l) => self.frontier.push(l),
            None => {
                self.first_hole.get_or_insert(index);
                self.frontier.push([0; 32]);
            }
        }
        if let Some(at) = at {
            self.last = Some(at.clone());
        }
        let size = index + 1;
        if self.want.contains(&size) {
            let root = self.first_hole.is_none().then(|| self.frontier.root());
            self.roots.insert(size, root);
            if let Some(last) = &self.last {
                self.places.insert(size, last.clone());
            }
        }
    }

    /// Record lines of `source` before `record` that never reached the checks are holes.
    fn sync(&mut self, source: usize, record: u64) {
        if source != self.source {
            self.source = source;
            self.next_record = 0;
        }
        while self.next_record < record {
            self.push(None, None);
            self.next_record += 1;
        }
    }

    fn root_at(&self, size: u64) -> Option<Hash> {
        if size == 0 {
            return Some(merkle::empty_root());
        }
        self.roots.get(&size).copied().flatten()
    }
}

/// What the anchors established, for the report.
#[derive(Debug, Default)]
pub struct AnchorOutcome {
    /// One per `--checkpoint`, in order.
    pub checkpoints: Vec<CheckpointSummary>,
    /// One per batch epoch, in order of first appearance.
    pub epochs: Vec<EpochSummary>,
    /// The trusted checkpoint that covers the whole export, if any.
    pub export_tail: Option<TailAnchor>,
}

/// The export tree, the batch epochs and the checkpoints, fed in file order.
#[derive(Debug)]
pub struct Anchors {
    checkpoints: Vec<CheckedCheckpoint>,
    tree: ExportTree,
    epochs: Epochs,
}

impl Anchors {
    /// Starts with the checkpoints, their signatures already verified.
    pub fn new(checkpoints: Vec<CheckedCheckpoint>) -> Self {
        let mut tree = ExportTree::default();
        for c in checkpoints.iter().filter(|c| c.trusted()) {
            tree.want.insert(c.checkpoint.size);
            tree.want
                .extend(c.checkpoint.consistency.iter().map(|p| p.from_size));
        }
        Anchors {
            checkpoints,
            tree,
            epochs: Epochs::new(),
        }
    }

    /// Whether any checkpoint was given (then every record needs its leaf hash).
    pub fn needs_leaves(&self) -> bool {
        !self.checkpoints.is_empty()
    }

    /// Feeds one record line in file order.
    pub fn observe(&mut self, p: &Prepared, out: &mut Vec<Finding>) {
        if self.needs_leaves() {
            self.tree.sync(p.at.source, p.at.record);
            let leaf = p.facts.as_ref().and_then(|f| f.leaf);
            self.tree.push(leaf, Some(&p.at));
            self.tree.next_record = p.at.record + 1;
        }
        self.epochs.observe(p, out);
    }

    /// Ends an input file that held `records` record lines (some may never have reached
    /// [`Anchors::observe`], e.g. lines over the length limit).
    pub fn end_source(&mut self, source: usize, records: u64) {
        if self.needs_leaves() {
            self.tree.sync(source, records);
        }
    }

    /// Judges epochs and checkpoints once every record has been seen.
    pub fn finish(self, out: &mut Vec<Finding>) -> AnchorOutcome {
        let epochs = self.epochs.finish(out);
        let tree = self.tree;
        let total = tree.frontier.size();
        let mut outcome = AnchorOutcome::default();
        let mut anchored: BTreeMap<usize, String> = BTreeMap::new();
        for c in &self.checkpoints {
            let cp = &c.checkpoint;
            let signers = match &c.trust {
                Trust::Verified { signers } => signers.clone(),
                _ => Vec::new(),
            };
            let mut summary = CheckpointSummary {
                source: cp.source.clone(),
                format: cp.format(),
                origin: cp.origin.clone(),
                size: cp.size,
                root: hex::encode(cp.root),
                signature: c.trust.as_str(),
                signers,
                outcome: CheckpointOutcome::NotTrusted,
                epochs: Vec::new(),
            };
            if let Some(f) = super::trust_finding(c) {
                out.push(f);
            }
            if !c.trusted() {
                outcome.checkpoints.push(summary);
                continue;
            }
            let what = format!("checkpoint {} (size {})", cp.source, cp.size);
            for (i, e) in epochs.iter().enumerate() {
                if e.root == cp.root && e.tree_size.is_none_or(|n| n == cp.size) {
                    summary.epochs.push(e.id.clone());
                    anchored.entry(i).or_insert_with(|| cp.source.clone());
                }
            }
            let against_export = if total < cp.size {
                CheckpointOutcome::Truncated {
                    missing: cp.size - total,
                }
            } else {
                match tree.root_at(cp.size) {
                    None => CheckpointOutcome::Unverifiable,
                    Some(r) if r != cp.root => CheckpointOutcome::RootMismatch,
                    Some(_) if cp.size == total => CheckpointOutcome::AnchorsExport,
                    Some(_) => CheckpointOutcome::AnchorsPrefix {
                        uncovered: total - cp.size,
                    },
                }
            };
            summary.outcome = match against_export {
                CheckpointOutcome::AnchorsExport | CheckpointOutcome::AnchorsPrefix { .. } => {
                    against_export
                }
                _ if !summary.epochs.is_empty() => CheckpointOutcome::AnchorsEpoch,
                other => other,
            };
            let place = |size: u64| tree.places.get(&size).cloned();
            let line_of = |at: &Option<Location>| at.as_ref().map_or(0, |l| l.line);
            let epochs_note = if summary.epochs.is_empty() {
                String::new()
            } else {
                format!(
                    "; it is also the root of batch epoch {}",
                    summary.epochs.join(", ")
                )
            };
            match &summary.outcome {
                CheckpointOutcome::AnchorsExport => {
                    out.push(at(
                        Finding::new(
                            Code::CheckpointMatched,
                            format!(
                                "{what}: the export's {total} records reproduce its root, so nothing after the last record was removed before it was signed{epochs_note}"
                            ),
                        ),
                        tree.last.clone(),
                    ));
                    if outcome.export_tail.is_none() {
                        outcome.export_tail = Some(TailAnchor::Checkpoint {
                            source: cp.source.clone(),
                            size: cp.size,
                        });
                    }
                }
                CheckpointOutcome::AnchorsPrefix { uncovered } => {
                    let end = place(cp.size);
                    out.push(at(
                        Finding::new(
                            Code::CheckpointPrefix,
                            format!(
                                "{what}: the first {} records (to line {}) reproduce its root; the {uncovered} record(s) after them are not covered by it{epochs_note}",
                                cp.size,
                                line_of(&end)
                            ),
                        ),
                        end,
                    ));
                }
                CheckpointOutcome::AnchorsEpoch => {
                    let first = summary.epochs.first().and_then(|id| {
                        epochs
                            .iter()
                            .find(|e| &e.id == id)
                            .map(|e| e.first.0.clone())
                    });
                    out.push(at(
                        Finding::new(
                            Code::CheckpointMatched,
                            format!(
                                "{what}: its root is that of batch epoch {}, which it anchors (it is not the root of the export's records)",
                                summary.epochs.join(", ")
                            ),
                        ),
                        first,
                    ));
                }
                CheckpointOutcome::Truncated { missing } => {
                    let last = tree.last.clone();
                    out.push(at(
                        Finding::new(
                            Code::CheckpointTruncated,
                            format!(
                                "truncated: {missing} record(s) missing after line {} ({what} covers {} records, the export holds {total})",
                                line_of(&last),
                                cp.size
                            ),
                        )
                        .expected_found(cp.size.to_string(), total.to_string()),
                        last,
                    ));
                }
                CheckpointOutcome::RootMismatch => {
                    let end = place(cp.size);
                    let got = tree.root_at(cp.size).map(hex::encode).unwrap_or_default();
                    out.push(at(
                        Finding::new(
                            Code::CheckpointRootMismatch,
                            format!(
                                "{what}: the first {} records (to line {}) do not reproduce its root",
                                cp.size,
                                line_of(&end)
                            ),
                        )
                        .expected_found(hex::encode(cp.root), got),
                        end,
                    ));
                }
                CheckpointOutcome::Unverifiable => {
                    out.push(Finding::new(
                        Code::CheckpointUnverifiable,
                        format!(
                            "{what}: the record line at position {} of the export has no leaf hash (unreadable or not canonicalizable), so the root cannot be recomputed",
                            tree.first_hole.map_or(0, |h| h + 1)
                        ),
                    ));
                }
                CheckpointOutcome::NotTrusted => {}
            }
            outcome.checkpoints.push(summary);
        }
        check_consistency(&self.checkpoints, &tree, out);
        outcome.epochs = epochs
            .into_iter()
            .enumerate()
            .map(|(i, e)| epoch_summary(e, anchored.get(&i).cloned(), out))
            .collect();
        outcome
    }
}

fn at(f: Finding, place: Option<Location>) -> Finding {
    match place {
        Some(p) => f.at(p),
        None => f,
    }
}

/// Trusted checkpoints must agree with each other: one root per size, and every consistency
/// proof must verify against the root known at its earlier size.
fn check_consistency(checkpoints: &[CheckedCheckpoint], tree: &ExportTree, out: &mut Vec<Finding>) {
    let trusted: Vec<&CheckedCheckpoint> = checkpoints.iter().filter(|c| c.trusted()).collect();
    for (j, b) in trusted.iter().enumerate() {
        let b = &b.checkpoint;
        if let Some(a) = trusted[..j]
            .iter()
            .map(|c| &c.checkpoint)
            .find(|a| a.size == b.size && a.root != b.root)
        {
            out.push(
                Finding::new(
                    Code::CheckpointInconsistent,
                    format!(
                        "checkpoints {} and {} both have size {} but different roots: a fork",
                        a.source, b.source, b.size
                    ),
                )
                .expected_found(hex::encode(a.root), hex::encode(b.root)),
            );
        }
        for proof in &b.consistency {
            let earlier = trusted
                .iter()
                .map(|c| &c.checkpoint)
                .find(|a| a.size == proof.from_size)
                .map(|a| (a.root, format!("checkpoint {}", a.source)))
                .or_else(|| {
                    tree.root_at(proof.from_size)
                        .map(|r| (r, format!("the first {} records", proof.from_size)))
                });
            let Some((root1, whose)) = earlier else {
                continue;
            };
            if let Err(e) =
                merkle::verify_consistency(proof.from_size, b.size, &proof.proof, &root1, &b.root)
            {
                out.push(Finding::new(
                    Code::CheckpointInconsistent,
                    format!(
                        "checkpoint {}: its consistency proof from size {} ({whose}) does not verify: {e}",
                        b.source, proof.from_size
                    ),
                ));
            }
        }
    }
}

fn epoch_summary(e: EpochResult, anchor: Option<String>, out: &mut Vec<Finding>) -> EpochSummary {
    let mut status = e.status;
    let mut anchored_by = None;
    if status == EpochStatus::Consistent {
        match anchor {
            Some(source) => {
                status = EpochStatus::Anchored;
                anchored_by = Some(source);
            }
            None => out.push(
                Finding::new(
                    Code::MerkleEpochUnanchored,
                    format!(
                        "batch epoch {} (root {}, {} records) is consistent, but no trusted checkpoint anchors it",
                        e.id,
                        hex::encode(e.root),
                        e.records
                    ),
                )
                .at(e.first.0.clone())
                .chain(e.first.1.clone()),
            ),
        }
    }
    EpochSummary {
        id: e.id,
        records: e.records,
        tree_size: e.tree_size,
        root: hex::encode(e.root),
        first: e.first.0,
        status,
        anchored_by,
    }
}
