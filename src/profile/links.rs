//! The order-dependent checks of declared profiles, fed one record at a time in file order: the
//! generalisation of [`crate::chain`] (which stays the AAT checker) to the genesis markers, counters,
//! restarts and terminal records the producers use (profile file format version 1,
//! `docs/profiles.md`; asqav 0.10.14, AGT 5.0.0, Agent Receipts v0.5.0).
//!
//! Per chain: the link must equal the previous record's recomputed hash; a genesis link inside a
//! chain is a failure or, where the profile says so (log rotation), a new unlinked segment; a
//! chain whose first record is not a genesis starts mid-chain (head not established, e.g. AGT's
//! 10,000-entry export window); the counter starts at the profile's first value and steps by one
//! (a gap is records withheld); times never go backwards; ids are unique where the profile says
//! so (export-wide, through [`IdLedger`], whose memory does not grow with the export); nothing
//! follows a terminal record. Memory grows with the number of chains (bounded, see
//! [`crate::chain_table`]).

use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::chain::{FindingSink, Policy};
use crate::chain_table::{ChainTable, Counts, Interner, PendingBudget, SigTally, Slot, emit};
use crate::finding::{Code, Finding, Guarantee, Location};
use crate::idledger::{IdLedger, Ledger, Place, Refused, Repeat, Stamped, fingerprint};
use crate::profile::aat::{Digest, Link};
use crate::profile::record::{Counterparty, Facts, Prepared};
use crate::profile::spec::{Extension, Restart, SigAlg, Spec};
use crate::report::{ChainSummary, Status, Untracked};

/// Most distinct uncovered member names listed per chain.
const UNCOVERED_LIMIT: usize = 64;
/// Most counterparty bindings held until the end of the run, and how many of them keep the
/// quoted lines of their findings (a binding holds two or three findings).
pub const CLAIMS_LIMIT: usize = 100_000;
const CLAIMS_QUOTED: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Genesis,
    MidChain,
    Unknown,
    Standalone,
}

#[derive(Debug)]
struct State {
    records: u64,
    first: Location,
    last: Location,
    head: Head,
    segments: u64,
    last_hash: Option<Digest>,
    numbered: bool,
    first_seq: Option<u64>,
    max_seq: Option<u64>,
    first_time: Option<Box<str>>,
    last_time: Option<String>,
    max_instant: Option<jiff::Timestamp>,
    terminal: Option<Location>,
    sig: SigTally,
    /// Member names outside the hash, shared with the other chains, in order of appearance.
    uncovered: Vec<Arc<str>>,
    uncovered_at: Option<Location>,
}

/// The chain checks of one declared profile.
pub struct Links {
    policy: Policy,
    restart: Restart,
    seq_start: Option<u64>,
    seq_optional: bool,
    seq_field: String,
    link_field: String,
    unique_ids: bool,
    id_field: String,
    hmac: bool,
    has_terminal: bool,
    chains: ChainTable<State>,
    /// Signers and member names, shared by the chains.
    strings: Interner,
    /// Unsigned records held over all chains before their chain's first signed record.
    pending: PendingBudget,
    /// Record ids for the export-wide uniqueness check.
    ids: IdLedger,
    ids_reported: bool,
    claims_limit: usize,
    last_unreadable: Option<Location>,
    counterparty: bool,
    /// Envelope hashes by record id, for the counterparty bindings.
    envelopes: Ledger<Stamped>,
    claims: Vec<Counterparty>,
}

/// Findings that leave a chain's integrity not established (rather than failed).
const NOT_ESTABLISHING: &[(Code, &str)] = &[
    (
        Code::CanonUnsupported,
        "some records could not be canonicalized",
    ),
    (
        Code::ProfileNotRecomputable,
        "some records' hashes cannot be rebuilt from this form",
    ),
    (
        Code::AsqavTypeUnsupported,
        "some receipts have a type this verifier does not implement",
    ),
    (
        Code::AsqavVersionUnsupported,
        "some receipts have no recognised wire version or mode",
    ),
    (
        Code::AsqavAnchorsMalformed,
        "some receipts have malformed anchors",
    ),
    (
        Code::AsqavCounterpartyUnverifiable,
        "some counterparty bindings cannot be checked",
    ),
];

/// A record's place for the ledgers.
fn place_of(at: &Location, chain: u32) -> Place {
    Place {
        source: u32::try_from(at.source).unwrap_or(u32::MAX),
        line: at.line,
        record: at.record,
        chain,
    }
}

/// A ledger's place as a finding's location.
fn location(p: Place) -> Location {
    Location {
        source: p.source as usize,
        line: p.line,
        record: p.record,
    }
}

/// Adds a record's id (its fingerprint) to the ledger; the first id refused gets the one
/// `limit.record_ids`.
fn check_id(
    ids: &mut IdLedger,
    reported: &mut bool,
    p: &Prepared,
    id: u128,
    chain: u32,
    out: &mut Vec<Finding>,
) {
    let why = match ids.insert(id, place_of(&p.at, chain)) {
        Ok(()) => return,
        Err(Refused::Full) => format!("only the first {} record ids are remembered", ids.len()),
        Err(Refused::Io(e)) => format!(
            "only the first {} are checked, because the temporary file for the others could not be written in TMPDIR ({e})",
            ids.len()
        ),
    };
    if !std::mem::replace(reported, true) {
        out.push(p.finding(
            Code::LimitRecordIds,
            format!(
                "record ids from here on are not checked for uniqueness across the export: {why}"
            ),
            None,
        ));
    }
}

impl Links {
    /// Empty state for a profile.
    pub fn new(spec: &Spec, policy: Policy) -> Self {
        Links {
            policy,
            restart: spec.chain.restart,
            seq_start: spec.sequence.as_ref().and_then(|s| s.start),
            seq_optional: spec.sequence.as_ref().is_some_and(|s| s.optional),
            seq_field: spec
                .sequence
                .as_ref()
                .map_or_else(String::new, |s| s.field.clone()),
            link_field: spec
                .link
                .as_ref()
                .map_or_else(String::new, |l| l.field.clone()),
            unique_ids: spec.record_id.as_ref().is_some_and(|r| r.unique),
            id_field: spec
                .record_id
                .as_ref()
                .map_or_else(String::new, |r| r.field.clone()),
            hmac: spec
                .signature
                .as_ref()
                .is_some_and(|s| s.algorithm == Some(SigAlg::HmacSha256)),
            has_terminal: spec.terminal.is_some(),
            chains: ChainTable::new(policy.max_chains),
            strings: Interner::default(),
            pending: PendingBudget::default(),
            ids: IdLedger::default(),
            ids_reported: false,
            claims_limit: CLAIMS_LIMIT,
            last_unreadable: None,
            counterparty: spec.has(Extension::AsqavCounterparty),
            envelopes: Ledger::default(),
            claims: Vec::new(),
        }
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
        let mut out = Vec::new();
        // The id's fingerprint, for the uniqueness check and the envelope hashes.
        let id = (self.unique_ids || self.counterparty)
            .then(|| facts.record_id.as_deref().map(fingerprint))
            .flatten();
        if self.counterparty {
            if let (Some(id), Some(digest)) = (id, facts.envelope_hash) {
                // Refused (the limit, or no temporary file): a binding to this receipt stays
                // unresolved, `asqav.counterparty_unverifiable`.
                let _ = self.envelopes.insert(
                    id,
                    Stamped {
                        place: place_of(&p.at, u32::MAX),
                        digest,
                    },
                );
            }
            if let Some(c) = &facts.counterparty {
                if self.claims.len() < self.claims_limit {
                    let mut c = (**c).clone();
                    if self.claims.len() >= CLAIMS_QUOTED {
                        c.mismatch.quote = None;
                        c.unresolved.quote = None;
                        if let Some(f) = &mut c.kid_mismatch {
                            f.quote = None;
                        }
                    }
                    self.claims.push(c);
                } else {
                    out.push(p.finding(
                        Code::AsqavCounterpartyUnverifiable,
                        format!(
                            "the export holds more than {} counterparty bindings: this one is not resolved against its originating receipt",
                            self.claims_limit
                        ),
                        None,
                    ));
                }
            }
        }
        let entry = self
            .chains
            .entry(&facts.chain, &p.at, || State::new(&p.at, facts));
        if let (true, Some(id)) = (self.unique_ids, id) {
            let chain = entry.as_ref().map_or(u32::MAX, |(s, _)| s.index);
            check_id(
                &mut self.ids,
                &mut self.ids_reported,
                &p,
                id,
                chain,
                &mut out,
            );
        }
        let Some((slot, is_new)) = entry else {
            // Past the limit on chains: the record's own findings count, its chain is not
            // checked (`limit.chains`).
            for f in p.findings.into_iter().chain(out) {
                sink.push(f);
            }
            return;
        };
        let state = &mut slot.state;
        if facts.standalone {
            state.head = Head::Standalone;
        } else if is_new {
            head(
                state,
                &p,
                facts,
                self.seq_start,
                &self.seq_field,
                &self.link_field,
                &mut out,
            );
        } else {
            let hole = self
                .last_unreadable
                .as_ref()
                .is_some_and(|u| (u.source, u.line) > (state.last.source, state.last.line));
            let restarted = link(
                state,
                &p,
                facts,
                self.restart,
                hole,
                &self.link_field,
                &mut out,
            );
            if restarted {
                state.segments += 1;
                state.numbered = false;
                state.max_seq = None;
                head(
                    state,
                    &p,
                    facts,
                    self.seq_start,
                    &self.seq_field,
                    &self.link_field,
                    &mut out,
                );
            } else {
                seq(
                    state,
                    &p,
                    facts,
                    self.seq_optional,
                    &self.seq_field,
                    &mut out,
                );
            }
        }
        time(state, &p, facts, &mut out);
        let not_held = state.sig.count(
            &facts.sig,
            &facts.chain,
            &p.at,
            |message| p.finding(Code::SigMissing, message, None),
            self.policy,
            &mut self.pending,
            &mut self.strings,
            &mut out,
        );
        advance(state, &p, facts, &mut self.strings);
        emit(p.findings.into_iter().chain(out), &mut slot.counts, sink);
        slot.counts.add(Code::SigMissing, not_held);
        sink.count(Code::SigMissing, not_held);
    }

    /// Hands a finding made outside the chain checks (bundles) to the sink, counting it for its
    /// chain.
    pub fn push(&mut self, f: Finding, sink: &mut FindingSink) {
        self.chains.push(f, sink);
    }

    /// One `record.duplicate_id` for every record whose id an earlier record of the export has,
    /// pointing at the first of them; counted for its chain.
    fn report_repeated_ids(&mut self, sink: &mut FindingSink) {
        // The ledger gives the repeats by fingerprint; the findings kept are the first ones in
        // file order, as everywhere else: the `cap` earliest are held (a max-heap by place),
        // the others only counted, for their chain and in the run.
        let cap = sink.cap();
        let mut kept: BinaryHeap<(Place, Place)> = BinaryHeap::new();
        let mut others = 0u64;
        let chains = &mut self.chains;
        let read = std::mem::take(&mut self.ids).repeats(|Repeat { at, first }| {
            if let Some(slot) = chains.slot(at.chain) {
                slot.counts.add(Code::RecordDuplicateId, 1);
            }
            kept.push((at, first));
            if kept.len() > cap {
                kept.pop();
                others += 1;
            }
        });
        let names = if kept.is_empty() {
            Vec::new()
        } else {
            self.chains.names()
        };
        for (at, first) in kept.into_sorted_vec() {
            let whose = if first.source == at.source {
                format!("line {}", first.line)
            } else {
                format!("line {} of input {}", first.line, first.source + 1)
            };
            let field = &self.id_field;
            let mut f = Finding::new(
                Code::RecordDuplicateId,
                format!("{field} repeats the id of an earlier record of the export ({whose})"),
            )
            .at(location(at))
            .related(location(first));
            if !field.is_empty() {
                f = f.field(field.as_str());
            }
            if let Some(name) = names.get(at.chain as usize) {
                f = f.chain(name.to_string());
            }
            sink.push(f);
        }
        sink.count(Code::RecordDuplicateId, others);
        if let Err(e) = read {
            sink.push(Finding::new(
                Code::LimitRecordIds,
                format!("the uniqueness check of record ids could not be completed: reading its temporary file failed ({e})"),
            ));
        }
    }

    /// Resolves the counterparty bindings against the envelope hashes of the originating
    /// receipts anywhere in the export (the first receipt with the id), a merge of the bindings
    /// sorted by id with the ledger's sorted stream; the findings go out in file order.
    fn resolve_claims(&mut self, sink: &mut FindingSink) {
        let claims = std::mem::take(&mut self.claims);
        let mut order: Vec<(u128, usize)> = claims
            .iter()
            .enumerate()
            .map(|(i, c)| (fingerprint(&c.receipt_ref), i))
            .collect();
        order.sort_unstable();
        // Per binding: the originating receipt's digest, once found.
        let mut found: Vec<Option<Digest>> = vec![None; claims.len()];
        let mut next = 0;
        let mut last: Option<u128> = None;
        let read = std::mem::take(&mut self.envelopes).sorted(|fingerprint, stamped| {
            if last == Some(fingerprint) {
                return; // a later receipt with the same id
            }
            last = Some(fingerprint);
            while next < order.len() && order[next].0 < fingerprint {
                next += 1;
            }
            while next < order.len() && order[next].0 == fingerprint {
                found[order[next].1] = Some(stamped.digest);
                next += 1;
            }
        });
        if let Err(e) = read {
            sink.push(Finding::new(
                Code::AsqavCounterpartyUnverifiable,
                format!("the counterparty bindings could not all be resolved: reading the temporary file of envelope hashes failed ({e})"),
            ));
        }
        for (c, digest) in claims.into_iter().zip(found) {
            match digest {
                Some(h) if h != c.digest => self.chains.push(c.mismatch, sink),
                Some(_) => {
                    if let Some(f) = c.kid_mismatch {
                        self.chains.push(f, sink);
                    }
                }
                None => self.chains.push(c.unresolved, sink),
            }
        }
    }

    /// Ends every chain: completeness, chain-level findings, and the summaries.
    pub fn finish(mut self, sink: &mut FindingSink) -> (Vec<ChainSummary>, Option<Untracked>) {
        self.report_repeated_ids(sink);
        self.resolve_claims(sink);
        let policy = self.policy;
        let untracked = self.chains.report_limit(sink);
        let mut summaries = Vec::with_capacity(self.chains.len());
        for (id, slot) in self.chains.into_ordered() {
            let Slot {
                state: mut s,
                mut counts,
                ..
            } = slot;
            let mut out = Vec::new();
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
            // Unsigned records held before a first signed record that never came.
            self.pending.forget(&mut s.sig.pending_unsigned);
            if self.hmac && s.sig.verified > 0 {
                out.push(
                    Finding::new(
                        Code::SigHmacSharedSecret,
                        "the records are HMAC-SHA256 authenticated: whoever holds the secret to verify them can also forge them",
                    )
                    .at(s.first.clone()),
                );
            }
            if !s.uncovered.is_empty() {
                let mut names: Vec<&str> = s.uncovered.iter().map(|n| &**n).collect();
                names.sort_unstable();
                out.push(
                    Finding::new(
                        Code::ProfileFieldsNotCovered,
                        format!(
                            "not covered by the hash or signature, so not verified: {}",
                            names.join(", ")
                        ),
                    )
                    .at(s.uncovered_at.clone().unwrap_or_else(|| s.first.clone())),
                );
            }
            if s.terminal.is_none() && s.head != Head::Standalone {
                let why = if self.has_terminal {
                    "the chain does not end in a terminal record"
                } else {
                    "the format has no terminal record or length commitment"
                };
                out.push(
                    Finding::new(
                        Code::ChainTailOpen,
                        format!(
                            "{why}: records after the last one (line {}) could be missing",
                            s.last.line
                        ),
                    )
                    .at(s.last.clone()),
                );
            }
            emit(out.into_iter().map(|f| f.chain(&*id)), &mut counts, sink);
            summaries.push(summarise(id, s, counts, policy, self.hmac));
        }
        (summaries, untracked)
    }
}

impl State {
    fn new(at: &Location, facts: &Facts) -> Self {
        State {
            records: 0,
            first: at.clone(),
            last: at.clone(),
            head: Head::Unknown,
            segments: 1,
            last_hash: None,
            numbered: false,
            first_seq: None,
            max_seq: None,
            first_time: facts.time_text.as_deref().map(Box::from),
            last_time: None,
            max_instant: None,
            terminal: None,
            sig: SigTally::default(),
            uncovered: Vec::new(),
            uncovered_at: None,
        }
    }
}

fn head(
    s: &mut State,
    p: &Prepared,
    facts: &Facts,
    seq_start: Option<u64>,
    seq_field: &str,
    link_field: &str,
    out: &mut Vec<Finding>,
) {
    let first_segment = s.records == 0;
    match facts.link {
        Some(Link::Genesis) => {
            if first_segment {
                s.head = Head::Genesis;
            }
            if let (Some(start), Some(q)) = (seq_start, facts.seq) {
                if q != start {
                    out.push(
                        p.finding(
                            Code::SeqBadStart,
                            format!("the chain's genesis has {seq_field} {q}; the format starts at {start}"),
                            Some(seq_field),
                        )
                        .expected_found(start.to_string(), q.to_string()),
                    );
                }
            }
        }
        Some(Link::Hash(_)) => {
            if first_segment {
                s.head = Head::MidChain;
            }
            let before = match (facts.seq, seq_start) {
                (Some(q), Some(start)) if q > start => format!(
                    "; {seq_field} {q} says {} earlier record(s) are not present",
                    q - start
                ),
                _ => String::new(),
            };
            out.push(p.finding(
                Code::ChainHeadUnanchored,
                format!("the first record of this chain in the export is not its genesis ({link_field} names an earlier record){before}"),
                Some(link_field),
            ));
        }
        None => {
            if first_segment {
                s.head = Head::Unknown;
            }
        }
    }
    if facts.seq.is_some() {
        s.numbered = true;
        if first_segment {
            s.first_seq = facts.seq;
        }
    }
}

/// Checks the link; returns true when the record starts a new segment.
fn link(
    s: &mut State,
    p: &Prepared,
    facts: &Facts,
    restart: Restart,
    hole: bool,
    link_field: &str,
    out: &mut Vec<Finding>,
) -> bool {
    if let Some(t) = &s.terminal {
        out.push(
            p.finding(
                Code::SessionRecordAfterClose,
                format!("the chain ended with a terminal record at line {}", t.line),
                None,
            )
            .related(t.clone()),
        );
    }
    match facts.link {
        Some(Link::Genesis) => match restart {
            Restart::Segment => {
                out.push(
                    p.finding(
                        Code::ChainSegmentRestart,
                        format!(
                            "the chain restarts at genesis after {} record(s) (last at line {}): a new segment, not linked to the previous one",
                            s.records, s.last.line
                        ),
                        Some(link_field),
                    )
                    .related(s.last.clone()),
                );
                return true;
            }
            Restart::Fail => out.push(
                p.finding(
                    Code::ChainUnexpectedGenesis,
                    format!(
                        "{link_field} is the genesis marker but the chain already has {} record(s) (last at line {})",
                        s.records, s.last.line
                    ),
                    Some(link_field),
                )
                .related(s.last.clone()),
            ),
        },
        Some(Link::Hash(found)) => match s.last_hash {
            Some(expected) if expected == found => {}
            Some(_) if hole => {}
            Some(expected) if facts.hash == Some(expected) => {
                out.push(
                    p.finding(
                        Code::ChainReplayed,
                        format!("this record repeats the previous record (line {})", s.last.line),
                        Some(link_field),
                    )
                    .related(s.last.clone()),
                );
            }
            Some(expected) => {
                out.push(
                    p.finding(
                        Code::ChainLinkMismatch,
                        format!(
                            "{link_field} does not match the hash of the previous record of this chain (line {})",
                            s.last.line
                        ),
                        Some(link_field),
                    )
                    .expected_found(hex::encode(expected), hex::encode(found))
                    .related(s.last.clone()),
                );
            }
            None => {}
        },
        None => {}
    }
    false
}

fn seq(
    s: &mut State,
    p: &Prepared,
    facts: &Facts,
    optional: bool,
    field: &str,
    out: &mut Vec<Finding>,
) {
    match (s.numbered, facts.seq, s.max_seq) {
        (true, None, _) if !optional => out.push(p.finding(
            Code::SeqMissing,
            format!("this record has no {field}, but earlier records of its chain do"),
            None,
        )),
        (false, Some(q), _) if s.records > 0 && !optional => {
            out.push(p.finding(
                Code::SeqMissing,
                format!("{field} {q} appears, but earlier records of this chain have none"),
                Some(field),
            ));
            s.numbered = true;
        }
        (_, Some(q), Some(max)) => {
            if let Some((code, message, expected)) = crate::chain::sequence_step(field, max, q) {
                out.push(
                    p.finding(code, message, Some(field))
                        .expected_found(expected, q.to_string()),
                );
            }
        }
        _ => {}
    }
}

fn time(s: &State, p: &Prepared, facts: &Facts, out: &mut Vec<Finding>) {
    if let (Some(t), Some(max)) = (facts.time, s.max_instant) {
        if t < max {
            out.push(
                p.finding(
                    Code::TimeBackwards,
                    format!(
                        "time {} is before {} (an earlier record of this chain)",
                        facts.time_text.as_deref().unwrap_or(""),
                        s.last_time.as_deref().unwrap_or("")
                    ),
                    None,
                )
                .expected_found(
                    format!(">= {}", s.last_time.as_deref().unwrap_or("")),
                    facts.time_text.clone().unwrap_or_default(),
                ),
            );
        }
    }
}

fn advance(s: &mut State, p: &Prepared, facts: &Facts, strings: &mut Interner) {
    s.records += 1;
    s.last = p.at.clone();
    s.last_hash = facts.hash;
    if facts.terminal {
        s.terminal = Some(p.at.clone());
    }
    if let Some(q) = facts.seq {
        s.max_seq = Some(s.max_seq.map_or(q, |m| m.max(q)));
    }
    if let Some(t) = facts.time {
        if s.max_instant.is_none_or(|m| t >= m) {
            s.max_instant = Some(t);
            s.last_time.clone_from(&facts.time_text);
        }
    }
    for u in &facts.uncovered {
        if s.uncovered.len() < UNCOVERED_LIMIT && !s.uncovered.iter().any(|x| **x == **u) {
            s.uncovered.push(strings.get(u));
            if s.uncovered_at.is_none() {
                s.uncovered_at = Some(p.at.clone());
            }
        }
    }
}

/// The chain's summary, made from its state (which it consumes, moving its strings).
fn summarise(id: Box<str>, s: State, counts: Counts, policy: Policy, hmac: bool) -> ChainSummary {
    let failed = |g: Guarantee| counts.failed(g);
    let not_established = NOT_ESTABLISHING.iter().find(|(c, _)| counts.get(*c) > 0);
    let integrity = if failed(Guarantee::Integrity) {
        Status::Failed
    } else if let Some((_, why)) = not_established {
        Status::NotEstablished((*why).into())
    } else if s.head == Head::Standalone {
        Status::Established("every signed statement recomputed (not chained)".into())
    } else {
        Status::Established("every hash and link recomputed".into())
    };
    let signed = s.sig.signed();
    let (authenticity, auth_required) = if failed(Guarantee::Authenticity) {
        (Status::Failed, true)
    } else if s.sig.unknown > 0 {
        (
            Status::NotEstablished(
                format!(
                    "{} record(s) signed by keys not supplied, not trusted, or not usable",
                    s.sig.unknown
                )
                .into(),
            ),
            true,
        )
    } else if signed == 0 {
        (
            Status::NotEstablished("no record is signed".into()),
            policy.keys_supplied || policy.require_signatures,
        )
    } else if hmac {
        (
            Status::Established(
                format!(
                    "all {} records HMAC-authenticated (shared secret)",
                    s.sig.verified
                )
                .into(),
            ),
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
    let segments = if s.segments > 1 {
        format!(" ({} unlinked segments)", s.segments)
    } else {
        String::new()
    };
    let head = match s.head {
        Head::Genesis if s.segments > 1 => Status::NotEstablished(
            format!("starts at a genesis, but restarts{segments}: whole segments could be missing")
                .into(),
        ),
        Head::Genesis => Status::Established("starts at the chain's genesis".into()),
        Head::MidChain => Status::NotEstablished("starts mid-chain (partial export)".into()),
        Head::Unknown => Status::NotEstablished("first record has no usable link".into()),
        Head::Standalone => Status::NotEstablished("records are not chained".into()),
    };
    let tail = match (&s.terminal, s.head) {
        (Some(_), _) => Status::Established("ends in a terminal record".into()),
        (None, Head::Standalone) => Status::NotEstablished("records are not chained".into()),
        (None, _) => Status::NotEstablished(
            "no terminal record: records after the last could be missing".into(),
        ),
    };
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
        // Checkpoints and certificate anchors apply to AAT chains only.
        tail_anchors: Vec::new(),
        findings: counts.into_map(),
        head_hash: s.last_hash,
        head_record_id: None,
        start_prev_hash: None,
        start_parent_record_id: None,
        first_record_id: None,
        closed: s.terminal.is_some(),
        range: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::keys::KeyRing;
    use crate::profile::{Prepared as Any, Profile, Runner, aat::PrepareOptions};
    use crate::sig::SigContext;

    /// The asqav receipts fixture, a line each.
    fn fixture() -> Vec<&'static str> {
        include_str!("../../testdata/asqav/ok--gen-receipts.jsonl")
            .lines()
            .collect()
    }

    fn run(limits: impl FnOnce(&mut Links)) -> FindingSink {
        run_lines(&fixture(), limits)
    }

    fn run_lines(lines: &[&str], limits: impl FnOnce(&mut Links)) -> FindingSink {
        run_lines_cap(lines, 100, limits)
    }

    fn run_lines_cap(lines: &[&str], cap: usize, limits: impl FnOnce(&mut Links)) -> FindingSink {
        let profile = Profile::builtin("asqav").unwrap().unwrap();
        let ring = KeyRing::from_keys(Vec::new());
        let ctx = SigContext::new(&ring, crate::crypto::all_providers()[0]).unwrap();
        let runner = Runner::new(profile.clone(), &ctx, None, PrepareOptions::default());
        let mut links = Links::new(&profile.spec, Policy::default());
        limits(&mut links);
        let mut sink = FindingSink::new(cap);
        for (i, line) in lines.iter().enumerate() {
            let at = Location {
                source: 0,
                line: i as u64 + 1,
                record: i as u64,
            };
            let Any::Spec(p) = runner.prepare(at, line.as_bytes().to_vec(), None) else {
                panic!("asqav runs on the declarative engine");
            };
            links.observe(*p, &mut sink);
        }
        let _ = links.finish(&mut sink);
        sink
    }

    fn lines_of(sink: &FindingSink, code: Code) -> Vec<u64> {
        sink.stored
            .iter()
            .filter(|f| f.code == code)
            .map(|f| f.at.as_ref().unwrap().line)
            .collect()
    }

    #[test]
    fn record_ids_past_the_limit_are_reported_once_not_silently_skipped() {
        let sink = run(|_| {});
        assert!(lines_of(&sink, Code::LimitRecordIds).is_empty());
        let sink = run(|l| l.ids = IdLedger::with_limits(1, 1));
        assert_eq!(
            lines_of(&sink, Code::LimitRecordIds),
            [3],
            "once, at the first record not remembered"
        );
    }

    #[test]
    fn repeated_ids_point_at_the_first_record_whether_held_in_memory_or_on_disk() {
        let mut lines = fixture();
        let n = lines.len() as u64;
        assert!(n >= 4, "the fixture has records to repeat");
        // The second and the first records again, at the end.
        lines.push(lines[1]);
        lines.push(lines[0]);
        let repeats = |sink: &FindingSink| -> Vec<(u64, u64, Option<String>, Option<String>)> {
            let mut v: Vec<_> = sink
                .stored
                .iter()
                .filter(|f| f.code == Code::RecordDuplicateId)
                .map(|f| {
                    (
                        f.at.as_ref().unwrap().line,
                        f.related.as_ref().unwrap().line,
                        f.chain.clone(),
                        f.field.clone(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let in_memory = repeats(&run_lines(&lines, |_| {}));
        let chain_of = |line: &str| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["agent_id"].as_str().map(String::from)
        };
        assert_eq!(
            in_memory,
            [
                (n + 1, 2, chain_of(lines[1]), Some("signature_id".into())),
                (n + 2, 1, chain_of(lines[0]), Some("signature_id".into())),
            ]
        );
        // Runs of one id each: every id goes through the temporary file.
        let on_disk = repeats(&run_lines(&lines, |l| {
            l.ids = IdLedger::with_limits(1, usize::MAX);
        }));
        assert_eq!(on_disk, in_memory);
        assert!(
            lines_of(
                &run(|l| l.ids = IdLedger::with_limits(1, usize::MAX)),
                Code::RecordDuplicateId
            )
            .is_empty(),
            "the fixture itself has no repeat"
        );
    }

    #[test]
    fn past_the_storage_cap_the_first_repeats_in_file_order_are_kept_and_all_counted() {
        let mut lines = fixture();
        let n = lines.len() as u64;
        // Every record again, in reverse order: the repeats' fingerprints are in no file order.
        let again: Vec<&str> = lines.iter().rev().copied().collect();
        lines.extend(again);
        for small_runs in [false, true] {
            let sink = run_lines_cap(&lines, 3, |l| {
                if small_runs {
                    l.ids = IdLedger::with_limits(2, usize::MAX);
                }
            });
            assert_eq!(
                lines_of(&sink, Code::RecordDuplicateId),
                [n + 1, n + 2, n + 3],
                "the earliest three are kept"
            );
            assert_eq!(
                sink.counts[&Code::RecordDuplicateId],
                n,
                "every repeat counted"
            );
        }
    }

    #[test]
    fn counterparty_bindings_resolve_alike_from_memory_and_from_the_temporary_file() {
        // Line 10 binds to the receipt sig_fx000005 on line 6.
        let lines = fixture();
        assert!(lines[9].contains("\"receipt_ref\":\"sig_fx000005\""));
        assert!(lines[5].contains("\"signature_id\":\"sig_fx000005\""));
        let codes_at = |sink: &FindingSink, line: u64| -> Vec<Code> {
            sink.stored
                .iter()
                .filter(|f| f.at.as_ref().is_some_and(|a| a.line == line))
                .map(|f| f.code)
                .collect()
        };
        let all = |sink: &FindingSink| -> Vec<(Code, u64)> {
            let mut v: Vec<(Code, u64)> = sink
                .stored
                .iter()
                .map(|f| (f.code, f.at.as_ref().map_or(0, |a| a.line)))
                .collect();
            v.sort();
            v
        };
        let both = |lines: &[&str]| {
            let memory = run_lines(lines, |_| {});
            let disk = run_lines(lines, |l| l.envelopes = Ledger::with_limits(1, usize::MAX));
            assert_eq!(all(&memory), all(&disk));
            memory
        };
        let binding = [
            Code::AsqavCounterpartyInvalid,
            Code::AsqavCounterpartyUnverifiable,
        ];
        // As produced: resolved, and no binding finding.
        let sink = both(&lines);
        assert!(!codes_at(&sink, 10).iter().any(|c| binding.contains(c)));
        // The originating receipt changed: its envelope no longer matches.
        let changed = lines[5].replace("\"nonce\":\"", "\"nonce\":\"0");
        assert_ne!(changed, lines[5]);
        let mut edited = lines.clone();
        edited[5] = &changed;
        let sink = both(&edited);
        assert!(codes_at(&sink, 10).contains(&Code::AsqavCounterpartyInvalid));
        // The originating receipt removed: unresolved.
        let mut removed = lines.clone();
        removed.remove(5);
        let sink = both(&removed);
        assert!(codes_at(&sink, 9).contains(&Code::AsqavCounterpartyUnverifiable));
        // A second receipt with the same id after the first, changed: the first one counts.
        let mut repeated = lines.clone();
        repeated.push(&changed);
        let sink = both(&repeated);
        assert!(!codes_at(&sink, 10).iter().any(|c| binding.contains(c)));
    }

    #[test]
    fn counterparty_bindings_past_the_limit_are_unverifiable_not_dropped() {
        let sink = run(|_| {});
        assert!(lines_of(&sink, Code::AsqavCounterpartyUnverifiable).is_empty());
        let bindings: Vec<u64> = fixture()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains("receipt_ref"))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        assert!(!bindings.is_empty(), "the fixture has a binding");
        let sink = run(|l| l.claims_limit = 0);
        assert_eq!(
            lines_of(&sink, Code::AsqavCounterpartyUnverifiable),
            bindings,
            "every binding past the limit is reported"
        );
    }
}
