//! The outcome of a run: verdict, per-chain guarantees and findings, rendered as text or JSON.
//!
//! The verdict follows PRODUCT's policy: `failed` when any finding is an error (positive evidence
//! of tampering or corruption), else `inconclusive` when a guarantee that is required (integrity
//! always; authenticity when records are signed, keys were supplied or signatures are required;
//! completeness under `--require-complete`) was not established, else `verified`.

pub mod github;
pub mod human;
pub mod json;
pub mod junit;

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::finding::{Code, Finding, Location, Severity};

/// The run's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing failed and every required guarantee was established.
    Verified,
    /// Positive evidence that the records are not as recorded or signed.
    Failed,
    /// Nothing failed, but a required guarantee could not be established.
    Inconclusive,
}

impl Verdict {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Failed => "failed",
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// The process exit code: 0, 1 or 3 (2 is for errors, which produce no report).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Verified => 0,
            Verdict::Failed => 1,
            Verdict::Inconclusive => 3,
        }
    }
}

/// Whether a guarantee holds. The explanations are mostly fixed sentences, borrowed rather than
/// allocated once per chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Established, and how.
    Established(Cow<'static, str>),
    /// Evidence contradicts it.
    Failed,
    /// Could not be established, and why.
    NotEstablished(Cow<'static, str>),
}

impl Status {
    /// `established`, `failed` or `not_established`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Established(_) => "established",
            Status::Failed => "failed",
            Status::NotEstablished(_) => "not_established",
        }
    }

    /// The explanation.
    pub fn detail(&self) -> &str {
        match self {
            Status::Established(d) | Status::NotEstablished(d) => d,
            Status::Failed => "contradicted by findings",
        }
    }
}

/// One chain (one AAT session) as verified.
#[derive(Debug, Clone)]
pub struct ChainSummary {
    /// The chain id (`session_id`).
    pub id: String,
    /// Records present.
    pub records: u64,
    /// First record's location.
    pub first: Location,
    /// Last record's location.
    pub last: Location,
    /// First `sequence_number`, if numbered.
    pub first_seq: Option<u64>,
    /// Highest `sequence_number`, if numbered.
    pub last_seq: Option<u64>,
    /// First timestamp as written.
    pub first_time: Option<String>,
    /// Latest timestamp as written.
    pub last_time: Option<String>,
    /// Keys that signed, with the kid rule.
    pub signers: Vec<String>,
    /// Records with verified signatures.
    pub signed: u64,
    /// Records without signature.
    pub unsigned: u64,
    /// Hashes and links.
    pub integrity: Status,
    /// Signatures.
    pub authenticity: Status,
    /// Whether authenticity is required for a verified verdict.
    pub authenticity_required: bool,
    /// Nothing missing before the first record.
    pub head: Status,
    /// Nothing missing after the last record.
    pub tail: Status,
    /// Whether head and tail are required (`--require-complete`).
    pub completeness_required: bool,
    /// What anchors the tail (empty: nothing).
    pub tail_anchors: Vec<TailAnchor>,
    /// Finding counts per code.
    pub findings: BTreeMap<Code, u64>,
    /// `H(last record)`: what the next record must link to.
    pub head_hash: Option<[u8; 32]>,
    /// The last record's id.
    pub head_record_id: Option<String>,
    /// The first record's `prev_hash` when it is not a genesis.
    pub start_prev_hash: Option<[u8; 32]>,
    /// The first record's `parent_record_id` when it is not a genesis.
    pub start_parent_record_id: Option<String>,
    /// The first record's id.
    pub first_record_id: Option<String>,
    /// Whether the chain ends in a close record.
    pub closed: bool,
    /// Merkle compact range over the chain's records at their positions in the chain.
    pub range: Option<crate::compact::CompactRange>,
}

/// What anchors a chain's tail: evidence that no record after its last one was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailAnchor {
    /// The chain ends in a `session_end` close record (at this place).
    CloseRecord(Location),
    /// A trusted checkpoint whose size is the export's record count, and whose root the records
    /// reproduce.
    Checkpoint {
        /// The checkpoint file as given.
        source: String,
        /// Its tree size.
        size: u64,
    },
}

impl TailAnchor {
    /// `close_record` or `checkpoint`.
    pub fn kind(&self) -> &'static str {
        match self {
            TailAnchor::CloseRecord(_) => "close_record",
            TailAnchor::Checkpoint { .. } => "checkpoint",
        }
    }
}

/// What the checks established about an AAT batch epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochStatus {
    /// Proofs, leaf indexes and the recomputed root agree, but no trusted checkpoint matches.
    Consistent,
    /// Consistent, and a trusted checkpoint has its size and root.
    Anchored,
    /// A check failed.
    Failed,
    /// The root could not be recomputed.
    Unverifiable,
}

impl EpochStatus {
    /// `consistent_unanchored`, `anchored`, `failed` or `unverifiable`.
    pub fn as_str(self) -> &'static str {
        match self {
            EpochStatus::Consistent => "consistent_unanchored",
            EpochStatus::Anchored => "anchored",
            EpochStatus::Failed => "failed",
            EpochStatus::Unverifiable => "unverifiable",
        }
    }
}

/// One AAT batch epoch as verified.
#[derive(Debug, Clone)]
pub struct EpochSummary {
    /// `epoch_id`.
    pub id: String,
    /// Records of the epoch present.
    pub records: u64,
    /// `tree_size` as the records give it.
    pub tree_size: Option<u64>,
    /// `merkle_root` as the records give it (hex).
    pub root: String,
    /// First record of the epoch.
    pub first: Location,
    /// The outcome.
    pub status: EpochStatus,
    /// The checkpoint that anchors it, if any.
    pub anchored_by: Option<String>,
}

/// What a checkpoint established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// Not trusted (unsigned, unknown key or bad signature): not compared with the records.
    NotTrusted,
    /// The records reproduce its root and its size is the export's record count.
    AnchorsExport,
    /// The first `size` records reproduce its root; `uncovered` records follow.
    AnchorsPrefix {
        /// Records after the covered prefix.
        uncovered: u64,
    },
    /// It anchors a batch epoch only (its root is the epoch's, not the export's).
    AnchorsEpoch,
    /// Fewer records than its size.
    Truncated {
        /// Records missing.
        missing: u64,
    },
    /// The records give another root at its size.
    RootMismatch,
    /// A record in its range could not be hashed.
    Unverifiable,
}

impl CheckpointOutcome {
    /// The stable name used in the JSON report.
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckpointOutcome::NotTrusted => "not_trusted",
            CheckpointOutcome::AnchorsExport => "anchors_export",
            CheckpointOutcome::AnchorsPrefix { .. } => "anchors_prefix",
            CheckpointOutcome::AnchorsEpoch => "anchors_epoch",
            CheckpointOutcome::Truncated { .. } => "truncated",
            CheckpointOutcome::RootMismatch => "root_mismatch",
            CheckpointOutcome::Unverifiable => "unverifiable",
        }
    }
}

/// One `--checkpoint` as verified.
#[derive(Debug, Clone)]
pub struct CheckpointSummary {
    /// The file as given.
    pub source: String,
    /// `c2sp-note` or `json`.
    pub format: &'static str,
    /// The origin line (note) or `origin` member (JSON), if any.
    pub origin: Option<String>,
    /// Tree size.
    pub size: u64,
    /// Root hash (hex).
    pub root: String,
    /// `verified`, `invalid`, `unknown_key` or `unsigned`.
    pub signature: &'static str,
    /// The keys whose signatures verified, described.
    pub signers: Vec<String>,
    /// What it established against the records.
    pub outcome: CheckpointOutcome,
    /// Epochs whose size and root it matches.
    pub epochs: Vec<String>,
}

impl ChainSummary {
    /// This chain's verdict.
    pub fn verdict(&self) -> Verdict {
        let failed = [&self.integrity, &self.authenticity]
            .iter()
            .any(|s| **s == Status::Failed)
            || self
                .findings
                .iter()
                .any(|(c, n)| *n > 0 && c.severity() == Severity::Error);
        if failed {
            return Verdict::Failed;
        }
        let missing = |s: &Status| matches!(s, Status::NotEstablished(_));
        if missing(&self.integrity)
            || (self.authenticity_required && missing(&self.authenticity))
            || (self.completeness_required && (missing(&self.head) || missing(&self.tail)))
        {
            return Verdict::Inconclusive;
        }
        Verdict::Verified
    }
}

/// An input file as read.
#[derive(Debug, Clone, Default)]
pub struct InputSummary {
    /// The path as given (a directory's files as `dir/name`).
    pub file: String,
    /// The container read (`jsonl`, `json`, `syslog`, `csv`).
    pub format: String,
    /// Whether it was gzip-compressed.
    pub gzip: bool,
    /// Physical lines.
    pub lines: u64,
    /// Lines holding a record (well-formed or not).
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// SHA-256 of the raw input file (lowercase hex).
    pub sha256: String,
}

/// A supplied key, as reported.
#[derive(Debug, Clone)]
pub struct KeySummary {
    /// Where it came from.
    pub source: String,
    /// Its algorithm.
    pub alg: String,
    /// `sha256:` of its SPKI DER.
    pub fingerprint: String,
    /// `(rule, kid)` pairs it answers to.
    pub kids: Vec<(String, String)>,
}

/// Everything a run established.
#[derive(Debug, Clone)]
pub struct Report {
    /// The profile used.
    pub profile: String,
    /// The crypto provider used.
    pub provider: String,
    /// `--require-signatures`.
    pub require_signatures: bool,
    /// `--require-complete`.
    pub require_complete: bool,
    /// The inputs, in order.
    pub inputs: Vec<InputSummary>,
    /// The keys supplied.
    pub keys: Vec<KeySummary>,
    /// The chains, in order of first appearance.
    pub chains: Vec<ChainSummary>,
    /// The `--checkpoint` files, in command-line order.
    pub checkpoints: Vec<CheckpointSummary>,
    /// The AAT batch epochs, in order of first appearance.
    pub epochs: Vec<EpochSummary>,
    /// Stored findings, sorted by place then code.
    pub findings: Vec<Finding>,
    /// Count of every finding per code (stored or not).
    pub counts: BTreeMap<Code, u64>,
    /// Records of chains beyond the limit on chains (`limit.chains`), if any.
    pub untracked: Option<Untracked>,
}

/// Records whose chains were not tracked because the export has more chains than the limit
/// (`--max-chains`): each was read, hashed and signature-checked, but not checked against its
/// chain, so the run cannot be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Untracked {
    /// The limit: chains tracked.
    pub max_chains: usize,
    /// Records of the chains beyond it.
    pub records: u64,
}

impl Report {
    /// The overall verdict.
    pub fn verdict(&self) -> Verdict {
        let errors = self
            .counts
            .iter()
            .any(|(c, n)| *n > 0 && c.severity() == Severity::Error);
        if errors || self.chains.iter().any(|c| c.verdict() == Verdict::Failed) {
            Verdict::Failed
        } else if self.untracked.is_some()
            || self.counts.iter().any(|(c, n)| *n > 0 && c.limits_run())
            || self
                .chains
                .iter()
                .any(|c| c.verdict() == Verdict::Inconclusive)
        {
            Verdict::Inconclusive
        } else {
            Verdict::Verified
        }
    }

    /// How many findings of a severity (stored or not).
    pub fn count(&self, severity: Severity) -> u64 {
        self.counts
            .iter()
            .filter(|(c, _)| c.severity() == severity)
            .map(|(_, n)| n)
            .sum()
    }

    /// Total records in all chains.
    pub fn records(&self) -> u64 {
        self.chains.iter().map(|c| c.records).sum()
    }

    /// Findings not stored, per code.
    pub fn omitted(&self) -> BTreeMap<Code, u64> {
        let mut stored: BTreeMap<Code, u64> = BTreeMap::new();
        for f in &self.findings {
            *stored.entry(f.code).or_insert(0) += 1;
        }
        self.counts
            .iter()
            .filter_map(|(c, n)| {
                let s = stored.get(c).copied().unwrap_or(0);
                (n > &s).then_some((*c, n - s))
            })
            .collect()
    }

    /// One sentence saying what was and was not proven.
    pub fn statement(&self) -> String {
        let records = self.records();
        let chains = self.chains.len();
        let plural = |n: u64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let scope = format!(
            "{} in {}",
            plural(records, "record"),
            plural(chains as u64, "chain")
        );
        let chains_beyond = self.untracked.map(|u| {
            format!(
                "{} more record{} in chains beyond the first {} {} not checked as chains (limit.chains)",
                u.records,
                if u.records == 1 { "" } else { "s" },
                u.max_chains,
                if u.records == 1 { "was" } else { "were" }
            )
        });
        let epochs_beyond = self
            .counts
            .get(&Code::LimitEpochs)
            .is_some_and(|n| *n > 0)
            .then(|| {
                format!(
                    "batch epochs beyond the first {} were not checked for missing leaves (limit.epochs)",
                    crate::epoch::MAX_EPOCHS
                )
            });
        let beyond = match (chains_beyond, epochs_beyond) {
            (Some(c), Some(e)) => Some(format!("{c}; {e}")),
            (c, e) => c.or(e),
        };
        match self.verdict() {
            Verdict::Failed => {
                let first = self
                    .findings
                    .iter()
                    .find(|f| f.severity() == Severity::Error);
                match first {
                    Some(f) => format!(
                        "The evidence does not hold up: {scope} checked, first failure {} at {} ({}){}.",
                        f.code.as_str(),
                        self.place(f.at.as_ref()),
                        f.code.title(),
                        beyond.map_or_else(String::new, |b| format!("; {b}"))
                    ),
                    None => format!(
                        "The evidence does not hold up: {scope} checked{}.",
                        beyond.map_or_else(String::new, |b| format!("; {b}"))
                    ),
                }
            }
            verdict => {
                let count = |pred: &dyn Fn(&ChainSummary) -> bool| {
                    self.chains.iter().filter(|c| pred(c)).count()
                };
                let unsigned = count(&|c| matches!(c.authenticity, Status::NotEstablished(_)));
                let open = count(&|c| {
                    matches!(c.head, Status::NotEstablished(_))
                        || matches!(c.tail, Status::NotEstablished(_))
                });
                let mut s = format!(
                    "{} {scope}: every hash and link recomputed and consistent",
                    if verdict == Verdict::Verified {
                        "Verified"
                    } else {
                        "Inconclusive for"
                    }
                );
                if unsigned == 0 {
                    s.push_str(", every signature valid under the supplied keys");
                } else {
                    s.push_str(&format!(
                        ", but authenticity not established for {unsigned} of {chains}"
                    ));
                }
                if open == 0 {
                    s.push_str("; complete from genesis to close as far as the file can show");
                } else {
                    s.push_str(&format!(
                        "; completeness not established for {open} of {chains} (open head or tail)"
                    ));
                }
                if let Some(b) = beyond {
                    s.push_str(&format!("; {b}"));
                }
                s.push('.');
                s
            }
        }
    }

    /// `file:line` for a location.
    pub fn place(&self, at: Option<&Location>) -> String {
        match at {
            Some(at) => format!(
                "{}:{}",
                self.inputs.get(at.source).map_or("?", |i| i.file.as_str()),
                at.line
            ),
            None => "(whole run)".into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn empty() -> Report {
        Report {
            profile: "aat".into(),
            provider: "aws-lc-rs".into(),
            require_signatures: false,
            require_complete: false,
            inputs: Vec::new(),
            keys: Vec::new(),
            chains: Vec::new(),
            checkpoints: Vec::new(),
            epochs: Vec::new(),
            findings: Vec::new(),
            counts: BTreeMap::new(),
            untracked: None,
        }
    }

    #[test]
    fn epochs_beyond_the_limit_make_the_run_inconclusive_and_say_why() {
        let mut r = empty();
        assert_eq!(r.verdict(), Verdict::Verified);
        r.counts.insert(Code::MerkleEpochUnanchored, 3);
        assert_eq!(
            r.verdict(),
            Verdict::Verified,
            "a warning alone is not enough"
        );
        let mut chains_only = r.clone();
        chains_only.counts.insert(Code::LimitChains, 1);
        assert_eq!(
            chains_only.verdict(),
            Verdict::Inconclusive,
            "limit.chains too"
        );
        r.counts.insert(Code::LimitEpochs, 1);
        assert_eq!(r.verdict(), Verdict::Inconclusive);
        assert!(
            r.statement().contains("(limit.epochs)"),
            "{}",
            r.statement()
        );
        r.untracked = Some(Untracked {
            max_chains: 10,
            records: 2,
        });
        let s = r.statement();
        assert!(
            s.contains("(limit.chains)") && s.contains("(limit.epochs)"),
            "{s}"
        );
        r.counts.insert(Code::ChainLinkMismatch, 1);
        assert_eq!(r.verdict(), Verdict::Failed);
    }
}
