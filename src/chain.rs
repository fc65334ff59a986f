//! The order-dependent AAT checks, fed one record at a time in file order (AAT §5, §6.3, §8).
//!
//! Chains are grouped by `session_id`, so sessions may be interleaved in one export. Per chain this
//! holds only what the checks need (last hash, last record id, highest sequence number, latest
//! instant, the running `session_hash` digest, counts), so memory grows with the number of
//! sessions, never with the number of records; the number of sessions tracked is bounded (see
//! [`crate::chain_table`]). Each failed check reports at the first record that is provably wrong
//! and then re-synchronises on it, so one edit gives one finding, not a cascade.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use crate::chain_table::{
    ChainTable, Counts, DEFAULT_MAX_CHAINS, Interner, PendingBudget, SigTally, Slot, emit,
};
use crate::compact::CompactRange;
use crate::finding::{Code, Finding, Guarantee, Location};
use crate::profile::aat::{Digest, Facts, Link, Prepared};
use crate::report::{ChainSummary, Status, TailAnchor, Untracked};
use crate::sig::SigOutcome;
use crate::tables::{HashMap, HashSet};

/// Policy flags and bounds the checks need.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Unsigned records are failures.
    pub require_signatures: bool,
    /// Unanchored head or tail makes the verdict inconclusive.
    pub require_complete: bool,
    /// Keys were supplied.
    pub keys_supplied: bool,
    /// Chains tracked at most (`--max-chains`); records of further chains are counted, not
    /// checked as chains, and make the run inconclusive (`limit.chains`).
    pub max_chains: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            require_signatures: false,
            require_complete: false,
            keys_supplied: false,
            max_chains: DEFAULT_MAX_CHAINS,
        }
    }
}

/// Collected findings, with counts that survive the storage cap. Counts per chain are kept with
/// the chains ([`crate::chain_table`]), so that they are bounded with them.
#[derive(Debug, Default)]
pub struct FindingSink {
    /// Stored findings (at most `cap` per code).
    pub stored: Vec<Finding>,
    /// Count of every finding per code, stored or not.
    pub counts: BTreeMap<Code, u64>,
    cap: usize,
}

impl FindingSink {
    /// A sink storing at most `cap` findings of each code.
    pub fn new(cap: usize) -> Self {
        FindingSink {
            cap,
            ..FindingSink::default()
        }
    }

    /// Records a finding.
    pub fn push(&mut self, f: Finding) {
        let n = self.counts.entry(f.code).or_insert(0);
        *n += 1;
        if *n as usize <= self.cap {
            self.stored.push(f);
        }
    }

    /// How many findings of one code are stored.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Counts `n` findings of `code` that are not kept (as past the storage cap).
    pub fn count(&mut self, code: Code, n: u64) {
        if n > 0 {
            *self.counts.entry(code).or_insert(0) += n;
        }
    }
}

#[derive(Debug)]
enum Head {
    Genesis,
    MidSession,
    /// Continues the head recorded in an `--anchor` certificate.
    Anchored(Box<str>),
    Unknown,
}

/// A chain's head as recorded in a previous certificate (`--anchor`).
#[derive(Debug, Clone)]
pub struct CertAnchor {
    /// `H(last certified record)`.
    pub hash: Digest,
    /// Its record id.
    pub record_id: Option<String>,
    /// Its sequence number.
    pub sequence: Option<u64>,
    /// How many records of the chain the certificate covered.
    pub records: u64,
    /// Whether the chain was closed.
    pub closed: bool,
    /// The certificate's Merkle range of the chain, to continue.
    pub range: Option<CompactRange>,
    /// The certificate, for messages.
    pub source: String,
}

/// A check still to make against an anchor: the record at this position must be the head.
#[derive(Debug, Clone)]
enum AnchorCheck {
    /// When the chain has this many records.
    AtCount(u64, CertAnchor),
    /// When the chain reaches this sequence number.
    AtSeq(u64, CertAnchor),
}

/// What the checks keep of one session between its records. Data that few chains need (an
/// `--anchor` check, the Merkle range, the `session_hash` accumulator of a chain with more than one
/// record) is boxed, so that the many one-record sessions of a hostile export stay small.
#[derive(Debug)]
struct ChainState {
    records: u64,
    first: Location,
    last: Location,
    head: Head,
    last_hash: Option<Digest>,
    last_record_id: Option<String>,
    agent_id: Option<Arc<str>>,
    numbered: bool,
    first_seq: Option<u64>,
    max_seq: Option<u64>,
    first_time: Option<Box<str>>,
    last_time: Option<String>,
    max_instant: Option<jiff::Timestamp>,
    /// SHA-256 over the `prev_hash` of the records so far; made at the first record that has one.
    session_acc: Option<Box<Sha256>>,
    closed: Option<Location>,
    close_signed: bool,
    sig: SigTally,
    self_recorded: bool,
    link_unverifiable: bool,
    last_verified: bool,
    anchor_check: Option<Box<AnchorCheck>>,
    /// The first record's links, as found (for joining shards and anchors).
    start_prev_hash: Option<Digest>,
    start_parent: Option<Box<str>>,
    first_record_id: Option<Box<str>>,
    /// Merkle compact range over the chain's leaves at their global positions; `None` when the
    /// position of the first record is unknown, a record could not be hashed, or leaves are not
    /// computed.
    range: Option<Box<CompactRange>>,
}

/// The AAT chain checks.
pub struct Chains {
    policy: Policy,
    chains: ChainTable<ChainState>,
    /// Agent ids and signers, shared by the chains.
    strings: Interner,
    /// Unsigned records held over all chains before their chain's first signed record.
    pending: PendingBudget,
    /// The line of the last record that could not be read, per source.
    last_unreadable: Option<Location>,
    /// Sources whose container cannot carry every hashed member.
    lossy: HashSet<usize>,
    /// A trusted checkpoint covering the whole export, which anchors every chain's tail.
    export_tail: Option<TailAnchor>,
    /// Chain heads from an `--anchor` certificate.
    cert_anchors: HashMap<String, CertAnchor>,
}

impl Chains {
    /// Empty state.
    pub fn new(policy: Policy) -> Self {
        Chains {
            policy,
            chains: ChainTable::new(policy.max_chains),
            strings: Interner::default(),
            pending: PendingBudget::default(),
            last_unreadable: None,
            lossy: HashSet::default(),
            export_tail: None,
            cert_anchors: HashMap::default(),
        }
    }

    /// Sets the chain heads of an `--anchor` certificate: the export must continue them.
    pub fn set_cert_anchors(&mut self, anchors: HashMap<String, CertAnchor>) {
        self.cert_anchors = anchors;
    }

    /// Marks a source as lossy: hash links into its records are not established when they do
    /// not match, rather than failed.
    pub fn set_lossy(&mut self, source: usize) {
        self.lossy.insert(source);
    }

    /// Records that a trusted checkpoint covers the whole export (see
    /// [`crate::checkpoint::anchor`]): then no chain's tail can have been cut without trace, and
    /// an open session is not reported as such.
    pub fn set_export_tail(&mut self, anchor: Option<TailAnchor>) {
        self.export_tail = anchor;
    }

    /// Feeds one prepared record, in file order.
    pub fn observe(&mut self, p: Prepared, sink: &mut FindingSink) {
        let Some(facts) = p.facts.as_ref() else {
            self.last_unreadable = Some(p.at.clone());
            for f in p.findings {
                sink.push(f);
            }
            return;
        };
        let strings = &mut self.strings;
        let Some((slot, is_new)) = self.chains.entry(&facts.session_id, &p.at, || {
            ChainState::new(&p.at, facts, strings)
        }) else {
            // Past the limit on chains: the record's own findings count, its chain is not
            // checked (`limit.chains`), nor its certified head.
            self.cert_anchors.remove(&facts.session_id);
            for f in p.findings {
                sink.push(f);
            }
            return;
        };
        let state = &mut slot.state;
        let mut out = Vec::new();
        if is_new {
            match self.cert_anchors.get(&facts.session_id) {
                Some(anchor) => check_anchored_head(state, &p, facts, anchor, &mut out),
                None => check_head(state, &p, facts, &mut out),
            }
        } else {
            let lossy =
                self.lossy.contains(&p.at.source) || self.lossy.contains(&state.last.source);
            check_link(
                state,
                &p,
                facts,
                self.last_unreadable.as_ref(),
                lossy,
                &mut out,
            );
            check_seq(state, &p, facts, &mut out);
        }
        check_time(state, &p, facts, &mut out);
        let not_held = state.sig.count(
            &facts.sig,
            &facts.session_id,
            &p.at,
            |message| p.finding(Code::SigMissing, message, None),
            self.policy,
            &mut self.pending,
            &mut self.strings,
            &mut out,
        );
        advance(state, &p, facts);
        if facts.is_close {
            check_close(state, &p, facts, &mut out);
        }
        check_pending_anchor(state, &p, facts, &mut out);
        emit(p.findings.into_iter().chain(out), &mut slot.counts, sink);
        slot.counts.add(Code::SigMissing, not_held);
        sink.count(Code::SigMissing, not_held);
    }

    /// Hands a finding made outside the chain checks (batch epochs, checkpoints) to the sink,
    /// counting it for its chain.
    pub fn push(&mut self, f: Finding, sink: &mut FindingSink) {
        self.chains.push(f, sink);
    }

    /// Ends every chain: completeness, chain-level signature findings, and the summaries; and the
    /// records of chains beyond the limit, if any.
    pub fn finish(mut self, sink: &mut FindingSink) -> (Vec<ChainSummary>, Option<Untracked>) {
        let policy = self.policy;
        let export_tail = self.export_tail;
        let mut absent_ids: Vec<&String> = self
            .cert_anchors
            .keys()
            .filter(|id| !self.chains.contains(id))
            .collect();
        absent_ids.sort();
        for id in absent_ids {
            sink.push(
                Finding::new(
                    Code::AnchorChainAbsent,
                    format!("the certificate's chain {id} has no record in this export (its head stays as certified)"),
                )
                .chain(id.clone()),
            );
        }
        let untracked = self.chains.report_limit(sink);
        let mut summaries = Vec::with_capacity(self.chains.len());
        for (id, slot) in self.chains.into_ordered() {
            let Slot {
                state: mut s,
                mut counts,
                ..
            } = slot;
            let mut out = Vec::new();
            if let Some(check) = s.anchor_check.take() {
                let (AnchorCheck::AtCount(n, a) | AnchorCheck::AtSeq(n, a)) = *check;
                out.push(
                    Finding::new(
                        Code::AnchorTruncated,
                        format!(
                            "{} recorded this chain up to its record {} ({} records); this export ends before it",
                            a.source,
                            a.record_id.as_deref().unwrap_or("?"),
                            a.records
                        ),
                    )
                    .expected_found(format!("position {n}"), format!("{} record(s)", s.records))
                    .at(s.last.clone()),
                );
            }
            let signed = s.sig.signed();
            if signed == 0 && s.sig.unsigned > 0 && !policy.require_signatures {
                out.push(
                    Finding::new(
                        Code::SigChainUnsigned,
                        format!("none of the {} records of this chain is signed", s.records),
                    )
                    .at(s.first.clone()),
                );
            }
            // Unsigned records held before a first signed record that never came: the chain is
            // unsigned, not a signed chain with unsigned records.
            self.pending.forget(&mut s.sig.pending_unsigned);
            if s.closed.is_none() && export_tail.is_none() {
                out.push(
                    Finding::new(
                        Code::ChainTailOpen,
                        format!(
                            "the session's last record (line {}) is not a session_end close record",
                            s.last.line
                        ),
                    )
                    .at(s.last.clone()),
                );
            }
            if s.self_recorded {
                out.push(
                    Finding::new(
                        Code::AatSelfRecorded,
                        "genesis declares recording_mode \"self\"",
                    )
                    .at(s.first.clone()),
                );
            }
            emit(out.into_iter().map(|f| f.chain(&*id)), &mut counts, sink);
            summaries.push(summarise(id, s, counts, policy, export_tail.as_ref()));
        }
        (summaries, untracked)
    }
}

impl ChainState {
    fn new(at: &Location, facts: &Facts, strings: &mut Interner) -> Self {
        ChainState {
            records: 0,
            first: at.clone(),
            last: at.clone(),
            head: Head::Unknown,
            last_hash: None,
            last_record_id: None,
            agent_id: facts.agent_id.as_deref().map(|a| strings.get(a)),
            numbered: false,
            first_seq: None,
            max_seq: None,
            first_time: facts.timestamp_text.as_deref().map(Box::from),
            last_time: None,
            max_instant: None,
            session_acc: None,
            closed: None,
            close_signed: false,
            sig: SigTally::default(),
            self_recorded: false,
            link_unverifiable: false,
            last_verified: false,
            anchor_check: None,
            start_prev_hash: match facts.prev_hash {
                Some(Link::Hash(h)) => Some(h),
                _ => None,
            },
            start_parent: facts.parent_record_id.clone().flatten().map(Box::from),
            first_record_id: facts.record_id.as_deref().map(Box::from),
            range: match (facts.prev_hash, facts.seq) {
                (Some(Link::Genesis), _) => Some(Box::new(CompactRange::new(0))),
                (Some(Link::Hash(_)), Some(seq)) => Some(Box::new(CompactRange::new(seq))),
                _ => None,
            },
        }
    }
}

fn check_head(s: &mut ChainState, p: &Prepared, facts: &Facts, out: &mut Vec<Finding>) {
    match facts.prev_hash {
        Some(Link::Genesis) => {
            s.head = Head::Genesis;
            if let Some(Some(parent)) = &facts.parent_record_id {
                out.push(
                    p.finding(
                        Code::ChainGenesisInvalid,
                        format!("genesis record (prev_hash null) has parent_record_id {parent:?}"),
                        Some("parent_record_id"),
                    )
                    .expected_found("null", parent.clone()),
                );
            }
            if let Some(seq) = facts.seq.filter(|&q| q != 0) {
                out.push(
                    p.finding(
                        Code::SeqGenesisNotZero,
                        format!("genesis record has sequence_number {seq}"),
                        Some("sequence_number"),
                    )
                    .expected_found("0", seq.to_string()),
                );
            }
            s.self_recorded = facts.recording_mode.as_deref() == Some("self");
        }
        Some(Link::Hash(_)) => {
            s.head = Head::MidSession;
            let before = match facts.seq {
                Some(q) => {
                    format!("; sequence_number {q} says {q} earlier record(s) are not present")
                }
                None => String::new(),
            };
            out.push(p.finding(
                Code::ChainHeadUnanchored,
                format!("the first record of this session in the export has a non-null prev_hash{before}"),
                Some("prev_hash"),
            ));
        }
        None => s.head = Head::Unknown,
    }
    if facts.seq.is_some() {
        s.numbered = true;
        s.first_seq = facts.seq;
    }
}

/// The first record of a chain the `--anchor` certificate recorded: it must continue the
/// certified head, or the export must hold the certified records again up to that head.
fn check_anchored_head(
    s: &mut ChainState,
    p: &Prepared,
    facts: &Facts,
    a: &CertAnchor,
    out: &mut Vec<Finding>,
) {
    match facts.prev_hash {
        Some(Link::Hash(h)) if h == a.hash => {
            s.head = Head::Anchored(
                format!(
                    "continues {} at its record {}",
                    a.source,
                    a.record_id.as_deref().unwrap_or("?")
                )
                .into(),
            );
            s.numbered = facts.seq.is_some();
            s.first_seq = facts.seq;
            s.max_seq = a.sequence.filter(|_| facts.seq.is_some());
            s.last_record_id = a.record_id.clone();
            if a.closed {
                out.push(p.finding(
                    Code::SessionRecordAfterClose,
                    format!("{} recorded this session as closed", a.source),
                    None,
                ));
            }
            if let (Some(Some(parent)), Some(id)) = (&facts.parent_record_id, &a.record_id) {
                if parent != id {
                    out.push(
                        p.finding(
                            Code::ChainParentMismatch,
                            "parent_record_id does not name the certificate's head record",
                            Some("parent_record_id"),
                        )
                        .expected_found(id.clone(), parent.clone()),
                    );
                }
            }
            if let (Some(q), Some(hs)) = (facts.seq, a.sequence) {
                if hs.checked_add(1) != Some(q) {
                    out.push(
                        p.finding(
                            Code::AnchorMismatch,
                            format!(
                                "sequence_number {q} does not follow the certificate's head at {hs}"
                            ),
                            Some("sequence_number"),
                        )
                        .expected_found(number_after(hs), q.to_string()),
                    );
                }
            }
            s.range = a.range.clone().map(Box::new);
        }
        Some(Link::Genesis) => {
            check_head(s, p, facts, out);
            s.anchor_check = Some(Box::new(AnchorCheck::AtCount(a.records, a.clone())));
        }
        _ => match (facts.seq, a.sequence) {
            (Some(q), Some(hs)) if q <= hs => {
                check_head(s, p, facts, out);
                s.anchor_check = Some(Box::new(AnchorCheck::AtSeq(hs, a.clone())));
            }
            _ => {
                check_head(s, p, facts, out);
                out.push(
                    p.finding(
                        Code::AnchorMismatch,
                        format!(
                            "the chain does not continue the head recorded in {}",
                            a.source
                        ),
                        Some("prev_hash"),
                    )
                    .expected_found(
                        hex::encode(a.hash),
                        match facts.prev_hash {
                            Some(Link::Hash(h)) => hex::encode(h),
                            _ => "null".into(),
                        },
                    ),
                );
            }
        },
    }
}

/// When the chain reaches the certified position, its record there must be the certified head.
fn check_pending_anchor(s: &mut ChainState, p: &Prepared, facts: &Facts, out: &mut Vec<Finding>) {
    let due = match s.anchor_check.as_deref() {
        Some(AnchorCheck::AtCount(n, _)) => s.records == *n,
        Some(AnchorCheck::AtSeq(q, _)) => facts.seq == Some(*q),
        None => false,
    };
    if !due {
        return;
    }
    let Some(check) = s.anchor_check.take() else {
        return;
    };
    let (AnchorCheck::AtCount(_, a) | AnchorCheck::AtSeq(_, a)) = *check;
    if facts.hash != Some(a.hash) {
        out.push(
            p.finding(
                Code::AnchorMismatch,
                format!(
                    "this record sits where {} recorded the chain's head ({}), but its hash differs: the certified history was rewritten",
                    a.source,
                    a.record_id.as_deref().unwrap_or("?")
                ),
                None,
            )
            .expected_found(hex::encode(a.hash), facts.hash.map_or("(unhashable)".into(), hex::encode)),
        );
    } else if matches!(s.head, Head::MidSession) {
        s.head = Head::Anchored(format!("reaches the head recorded in {}", a.source).into());
    }
}

fn check_link(
    s: &mut ChainState,
    p: &Prepared,
    facts: &Facts,
    unreadable: Option<&Location>,
    lossy: bool,
    out: &mut Vec<Finding>,
) {
    if s.closed.is_some() {
        out.push(
            p.finding(
                Code::SessionRecordAfterClose,
                format!(
                    "the session was closed at line {}",
                    s.closed.as_ref().map_or(0, |c| c.line)
                ),
                None,
            )
            .related(s.closed.clone().unwrap_or_else(|| s.last.clone())),
        );
    }
    if let (Some(agent), Some(this)) = (&s.agent_id, &facts.agent_id) {
        if **agent != **this {
            out.push(
                p.finding(
                    Code::ChainAgentChanged,
                    format!("agent_id {this:?} in a session of {agent:?}"),
                    Some("agent_id"),
                )
                .expected_found(agent.to_string(), this.clone()),
            );
        }
    }
    // A record the reader could not parse may sit between the previous record and this one: then
    // the mismatch is explained by that line, which is already a failure.
    let hole = unreadable.is_some_and(|u| (u.source, u.line) > (s.last.source, s.last.line));
    match facts.prev_hash {
        Some(Link::Genesis) => out.push(
            p.finding(
                Code::ChainUnexpectedGenesis,
                format!("prev_hash is null but the session already has {} record(s) (last at line {})", s.records, s.last.line),
                Some("prev_hash"),
            )
            .related(s.last.clone()),
        ),
        Some(Link::Hash(found)) => match s.last_hash {
            Some(expected) if expected == found => {}
            Some(_) if hole => {}
            Some(expected) if facts.hash == Some(expected) => out.push(
                p.finding(
                    Code::ChainReplayed,
                    format!("this record is byte-for-byte the canonical twin of the previous record (line {})", s.last.line),
                    Some("prev_hash"),
                )
                .related(s.last.clone()),
            ),
            // A lossy container rebuilds records from its fields; a record whose signature verified
            // was rebuilt exactly (the signature covers every member but the signatures and batch),
            // so only links from unverified records are softened.
            Some(_) if lossy && !s.last_verified && s.link_unverifiable => {}
            Some(expected) if lossy && !s.last_verified => {
                s.link_unverifiable = true;
                out.push(
                    p.finding(
                        Code::ChainLinkUnverifiable,
                        "prev_hash does not match the previous record as rebuilt from the container's fields; later such links in this chain are not reported",
                        Some("prev_hash"),
                    )
                    .expected_found(hex::encode(expected), hex::encode(found))
                    .related(s.last.clone()),
                );
            }
            Some(expected) => out.push(
                p.finding(
                    Code::ChainLinkMismatch,
                    format!(
                        "prev_hash does not match the hash of the previous record of this session (line {})",
                        s.last.line
                    ),
                    Some("prev_hash"),
                )
                .expected_found(hex::encode(expected), hex::encode(found))
                .related(s.last.clone()),
            ),
            None => {}
        },
        None => {}
    }
    if let (Some(Some(parent)), Some(prev_id)) = (&facts.parent_record_id, &s.last_record_id) {
        if parent != prev_id && !hole {
            out.push(
                p.finding(
                    Code::ChainParentMismatch,
                    format!("parent_record_id does not name the previous record of this session (line {})", s.last.line),
                    Some("parent_record_id"),
                )
                .expected_found(prev_id.clone(), parent.clone())
                .related(s.last.clone()),
            );
        }
    } else if let (Some(None), Some(prev_id), Some(Link::Hash(_))) =
        (&facts.parent_record_id, &s.last_record_id, facts.prev_hash)
    {
        out.push(
            p.finding(
                Code::ChainParentMismatch,
                "parent_record_id is null in a non-genesis record",
                Some("parent_record_id"),
            )
            .expected_found(prev_id.clone(), "null"),
        );
    }
}

fn check_seq(s: &mut ChainState, p: &Prepared, facts: &Facts, out: &mut Vec<Finding>) {
    match (s.numbered, facts.seq, s.max_seq) {
        (true, None, _) => out.push(p.finding(
            Code::SeqMissing,
            "this record has no sequence_number, but earlier records of its session do",
            None,
        )),
        (false, Some(q), _) => {
            out.push(p.finding(
                Code::SeqMissing,
                format!(
                    "sequence_number {q} appears, but earlier records of this session have none"
                ),
                Some("sequence_number"),
            ));
            s.numbered = true;
        }
        (true, Some(q), Some(max)) => {
            if let Some((code, message, expected)) = sequence_step("sequence_number", max, q) {
                out.push(
                    p.finding(code, message, Some("sequence_number"))
                        .expected_found(expected, q.to_string()),
                );
            }
        }
        _ => {}
    }
}

/// How sequence number `q` in member `field` follows `max`, the highest before it: `None` when
/// it is the next one, else the code and message of a gap, a repeat or a regression, and the
/// number expected. Numbers up to `u64::MAX` are compared without overflow: after `u64::MAX` no
/// number follows.
pub(crate) fn sequence_step(field: &str, max: u64, q: u64) -> Option<(Code, String, String)> {
    let next = max.checked_add(1);
    let (code, message) = match next {
        Some(next) if q == next => return None,
        Some(next) if q > next => (
            Code::SeqGap,
            format!(
                "{field} jumps from {max} to {q}: {} record(s) withheld or removed",
                q - next
            ),
        ),
        _ if q == max => (
            Code::SeqDuplicate,
            format!("{field} {q} repeats the previous record's"),
        ),
        _ => (
            Code::SeqRegression,
            format!("{field} {q} comes after {max}"),
        ),
    };
    Some((code, message, number_after(max)))
}

/// The number that follows `n`, as an expected value: "none after 18446744073709551615" for
/// `u64::MAX`.
fn number_after(n: u64) -> String {
    n.checked_add(1)
        .map_or_else(|| format!("none after {n}"), |next| next.to_string())
}

fn check_time(s: &ChainState, p: &Prepared, facts: &Facts, out: &mut Vec<Finding>) {
    if let (Some(t), Some(max)) = (facts.timestamp, s.max_instant) {
        if t < max {
            out.push(
                p.finding(
                    Code::TimeBackwards,
                    format!(
                        "timestamp {} is before {} (an earlier record of this session)",
                        facts.timestamp_text.as_deref().unwrap_or(""),
                        s.last_time.as_deref().unwrap_or("")
                    ),
                    Some("timestamp"),
                )
                .expected_found(
                    format!(">= {}", s.last_time.as_deref().unwrap_or("")),
                    facts.timestamp_text.clone().unwrap_or_default(),
                ),
            );
        }
    }
}

fn advance(s: &mut ChainState, p: &Prepared, facts: &Facts) {
    s.records += 1;
    s.last_verified = matches!(facts.sig, SigOutcome::Verified { .. });
    match facts.leaf {
        Some(leaf) => {
            if let Some(r) = s.range.as_mut() {
                r.push(leaf);
            }
        }
        None => s.range = None,
    }
    s.last = p.at.clone();
    s.last_hash = facts.hash;
    if facts.record_id.is_some() {
        // clone_from reuses the previous record's buffer: no allocation per record.
        s.last_record_id.clone_from(&facts.record_id);
    }
    if let Some(q) = facts.seq {
        s.max_seq = Some(s.max_seq.map_or(q, |m| m.max(q)));
    }
    if let Some(t) = facts.timestamp {
        if s.max_instant.is_none_or(|m| t >= m) {
            s.max_instant = Some(t);
            s.last_time.clone_from(&facts.timestamp_text);
        }
    }
    if let Some(Link::Hash(h)) = facts.prev_hash {
        s.session_acc
            .get_or_insert_with(|| Box::new(Sha256::new()))
            .update(h);
    }
}

fn check_close(s: &mut ChainState, p: &Prepared, facts: &Facts, out: &mut Vec<Finding>) {
    s.closed = Some(p.at.clone());
    s.close_signed = matches!(facts.sig, SigOutcome::Verified { .. });
    let from_genesis = matches!(s.head, Head::Genesis);
    if let Some(count) = facts.record_count {
        let present = s.records;
        if from_genesis && count != present {
            out.push(
                p.finding(
                    Code::SessionCountMismatch,
                    format!("record_count is {count}, but {present} record(s) of this session are present"),
                    Some("action_detail"),
                )
                .expected_found(count.to_string(), present.to_string()),
            );
        } else if !from_genesis {
            if let Some(q) = facts.seq.filter(|&q| q.checked_add(1) != Some(count)) {
                out.push(
                    p.finding(
                        Code::SessionCountMismatch,
                        format!(
                            "record_count is {count}, but this close record has sequence_number {q}"
                        ),
                        Some("action_detail"),
                    )
                    .expected_found(count.to_string(), (u128::from(q) + 1).to_string()),
                );
            }
        }
    }
    match facts.session_hash {
        Some(claimed) => {
            let computed: Digest = s
                .session_acc
                .as_deref()
                .cloned()
                .unwrap_or_default()
                .finalize()
                .into();
            if computed != claimed {
                if from_genesis {
                    out.push(
                        p.finding(
                            Code::SessionHashMismatch,
                            "session_hash does not match SHA-256 over the prev_hash of every record after the genesis",
                            Some("action_detail"),
                        )
                        .expected_found(hex::encode(claimed), hex::encode(computed)),
                    );
                } else {
                    out.push(p.finding(
                        Code::SessionHashUnverifiable,
                        "session_hash covers links before the first record present, so it cannot be recomputed",
                        Some("action_detail"),
                    ));
                }
            }
        }
        None => out.push(p.finding(
            Code::SessionHashMissing,
            "the close record carries no session_hash",
            Some("action_detail"),
        )),
    }
}

/// The chain's summary, made from its state (which it consumes, moving its strings).
fn summarise(
    id: Box<str>,
    s: ChainState,
    counts: Counts,
    policy: Policy,
    export_tail: Option<&TailAnchor>,
) -> ChainSummary {
    let failed = |g: Guarantee| counts.failed(g);
    let integrity = if failed(Guarantee::Integrity) {
        Status::Failed
    } else if counts.get(Code::CanonUnsupported) > 0 {
        Status::NotEstablished("some records could not be canonicalized".into())
    } else if s.link_unverifiable {
        Status::NotEstablished(
            "prev_hash links cannot be recomputed from the container's fields".into(),
        )
    } else {
        Status::Established("every hash and link recomputed".into())
    };
    let signed = s.sig.signed();
    let (authenticity, auth_required) = if failed(Guarantee::Authenticity) {
        (Status::Failed, true)
    } else if s.sig.unknown > 0 {
        (
            Status::NotEstablished(
                format!("{} record(s) signed by keys not supplied", s.sig.unknown).into(),
            ),
            true,
        )
    } else if signed == 0 {
        (
            Status::NotEstablished("no record is signed".into()),
            policy.keys_supplied || policy.require_signatures,
        )
    } else if s.sig.outside_window > 0 && s.sig.verified == 0 {
        // Out of the spot check's scope: not required (the run as a whole requires some record in
        // the window, see `verify`).
        (
            Status::NotEstablished(format!(
                "no signed record in the --since/--until window; {} outside it hashed and linked only",
                s.sig.outside_window
            ).into()),
            false,
        )
    } else if s.sig.outside_window > 0 {
        (
            Status::Established(format!(
                "the {} signed record(s) in the --since/--until window verified; {} outside it hashed and linked only",
                s.sig.verified, s.sig.outside_window
            ).into()),
            true,
        )
    } else {
        (
            Status::Established(
                format!("all {} records signed and verified", s.sig.verified).into(),
            ),
            true,
        )
    };
    let head = match s.head {
        Head::Genesis => Status::Established("starts at the session's genesis".into()),
        Head::MidSession => Status::NotEstablished("starts mid-session".into()),
        Head::Anchored(how) => Status::Established(String::from(how).into()),
        Head::Unknown => Status::NotEstablished("first record has no usable prev_hash".into()),
    };
    let tail = match (&s.closed, s.close_signed, export_tail) {
        (Some(_), true, _) => Status::Established("ends in a signed session_end record".into()),
        (Some(_), false, _) => Status::Established("ends in a session_end record".into()),
        (None, _, Some(TailAnchor::Checkpoint { source, size })) => Status::Established(
            format!(
                "no session_end record, but checkpoint {source} (size {size}) covers the whole export"
            )
            .into(),
        ),
        (None, _, _) => Status::NotEstablished(
            "no session_end record: records after the last could be missing".into(),
        ),
    };
    let tail_anchors: Vec<TailAnchor> = s
        .closed
        .iter()
        .map(|at| TailAnchor::CloseRecord(at.clone()))
        .chain(export_tail.cloned())
        .collect();
    let signers = s.sig.signers_sorted();
    ChainSummary {
        id: id.into(),
        records: s.records,
        first: s.first,
        last: s.last,
        first_seq: s.first_seq,
        last_seq: s.max_seq,
        first_time: s.first_time.map(String::from),
        last_time: s.last_time,
        signers,
        signed: s.sig.verified,
        unsigned: s.sig.unsigned,
        integrity,
        authenticity,
        authenticity_required: auth_required,
        head,
        tail,
        completeness_required: policy.require_complete,
        tail_anchors,
        findings: counts.into_map(),
        head_hash: s.last_hash,
        head_record_id: s.last_record_id,
        start_prev_hash: s.start_prev_hash,
        start_parent_record_id: s.start_parent.map(String::from),
        first_record_id: s.first_record_id.map(String::from),
        closed: s.closed.is_some(),
        range: s.range.map(|r| *r),
    }
}
