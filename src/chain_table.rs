//! The chains of one run, for the order-dependent checks of AAT ([`crate::chain`]) and of
//! declared profiles ([`crate::profile::links`]): each chain's state in order of first
//! appearance, its finding counts, the unsigned records held until its first signed one, and the
//! bound on how many chains are tracked.
//!
//! Memory grows with the number of chains, not of records, so their number is bounded
//! ([`DEFAULT_MAX_CHAINS`], `--max-chains`). A record whose chain is first met when the table is
//! full is not checked against its chain: it is counted, its own findings (parse, hash,
//! signature) still count, and the run gets one `limit.chains` finding and is at best
//! inconclusive, never verified.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::chain::{FindingSink, Policy};
use crate::finding::{Code, Finding, Guarantee, Location, Severity};
use crate::report::Untracked;
use crate::sig::SigOutcome;
use crate::tables::{HashMap, HashSet};

/// Chains tracked by default. Each costs about 1 KiB until the report is written (measured: see
/// `docs/limits.md`), so the default bounds this part of memory to about 100 MiB.
pub const DEFAULT_MAX_CHAINS: usize = 100_000;

/// Unsigned records held over all chains until their chain's first signed record shows whether
/// the chain is signed at all; the first [`PENDING_QUOTED`] keep their quoted line.
pub const PENDING_HELD: usize = 10_000;
/// Held unsigned records that keep the whole finding (with the quoted line).
pub const PENDING_QUOTED: usize = 1_000;

/// The message of a `sig.missing` finding about an unsigned record in a signed chain.
pub const UNSIGNED_IN_SIGNED_CHAIN: &str =
    "record is unsigned in a chain whose other records are signed";

/// Finding counts of one chain, per code in code order. A chain has few distinct codes, so a
/// short sorted vector, empty (no allocation) for a chain without findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(Vec<(Code, u64)>);

impl Counts {
    /// Counts `n` findings of `code`.
    pub fn add(&mut self, code: Code, n: u64) {
        if n == 0 {
            return;
        }
        match self.0.binary_search_by_key(&code, |(c, _)| *c) {
            Ok(i) => {
                if let Some((_, m)) = self.0.get_mut(i) {
                    *m += n;
                }
            }
            Err(i) => self.0.insert(i, (code, n)),
        }
    }

    /// How many findings of `code`.
    pub fn get(&self, code: Code) -> u64 {
        self.0
            .binary_search_by_key(&code, |(c, _)| *c)
            .ok()
            .and_then(|i| self.0.get(i))
            .map_or(0, |(_, n)| *n)
    }

    /// Whether an error finding bears on `g` (input findings bear on integrity).
    pub fn failed(&self, g: Guarantee) -> bool {
        self.0.iter().any(|(c, n)| {
            *n > 0
                && c.severity() == Severity::Error
                && (c.guarantee() == g
                    || (g == Guarantee::Integrity && c.guarantee() == Guarantee::Input))
        })
    }

    /// The counts as a map.
    pub fn into_map(self) -> BTreeMap<Code, u64> {
        self.0.into_iter().collect()
    }
}

/// Hands findings about one tracked chain to the sink, counting for the chain those that name a
/// chain (they name this one: the findings about a record of it, or about it as a whole).
pub fn emit(
    findings: impl IntoIterator<Item = Finding>,
    counts: &mut Counts,
    sink: &mut FindingSink,
) {
    for f in findings {
        if f.chain.is_some() {
            counts.add(f.code, 1);
        }
        sink.push(f);
    }
}

/// One tracked chain.
#[derive(Debug)]
pub struct Slot<S> {
    /// Its place in the table, in order of first appearance.
    pub index: u32,
    /// The checks' state.
    pub state: S,
    /// Its findings so far.
    pub counts: Counts,
}

/// Slots per chunk of the table.
const CHUNK: usize = 4096;

/// The tracked chains, at most `max` of them, and the records of those beyond.
///
/// The slots are kept in chunks of 4,096 (`CHUNK`): the table grows without copying itself or holding
/// twice its size, and [`ChainTable::into_ordered`] frees each chunk once its chains have been
/// summarised, so the states and the summaries made from them are not all held at once.
#[derive(Debug)]
pub struct ChainTable<S> {
    /// Chain id to its place among the slots: the id is stored once, here.
    index: HashMap<Box<str>, u32>,
    chunks: Vec<Vec<Slot<S>>>,
    len: usize,
    max: usize,
    untracked: u64,
    first_untracked: Option<Location>,
}

impl<S> ChainTable<S> {
    /// An empty table tracking at most `max` chains (and never more than `u32::MAX`).
    pub fn new(max: usize) -> Self {
        ChainTable {
            index: HashMap::default(),
            chunks: Vec::new(),
            len: 0,
            max: max.min(u32::MAX as usize),
            untracked: 0,
            first_untracked: None,
        }
    }

    /// How many chains are tracked.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no chain is tracked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chain at `i` ([`Slot::index`]).
    pub fn slot(&mut self, i: u32) -> Option<&mut Slot<S>> {
        let i = i as usize;
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    /// The chain of a record at `at`, made with `make` if new, and whether it is new; `None`
    /// when the chain is new but the table is full, and then the record is counted as untracked.
    pub fn entry(
        &mut self,
        id: &str,
        at: &Location,
        make: impl FnOnce() -> S,
    ) -> Option<(&mut Slot<S>, bool)> {
        // Look up before inserting: an owned key would cost an allocation per record.
        if let Some(&i) = self.index.get(id) {
            return self.slot(i).map(|s| (s, false));
        }
        if self.len >= self.max {
            self.untracked += 1;
            if self.first_untracked.is_none() {
                self.first_untracked = Some(at.clone());
            }
            return None;
        }
        if self.len % CHUNK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let chunk = self.chunks.last_mut()?;
        chunk.push(Slot {
            index: self.len as u32,
            state: make(),
            counts: Counts::default(),
        });
        self.index.insert(id.into(), self.len as u32);
        self.len += 1;
        chunk.last_mut().map(|s| (s, true))
    }

    /// The tracked chain `id`.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Slot<S>> {
        let i = *self.index.get(id)?;
        self.slot(i)
    }

    /// Whether `id` is tracked.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Hands a finding to the sink, counting it for its chain when that chain is tracked.
    pub fn push(&mut self, f: Finding, sink: &mut FindingSink) {
        if let Some(slot) = f.chain.as_deref().and_then(|c| self.get_mut(c)) {
            slot.counts.add(f.code, 1);
        }
        sink.push(f);
    }

    /// Records beyond the limit, if any.
    pub fn untracked(&self) -> Option<Untracked> {
        (self.untracked > 0).then_some(Untracked {
            max_chains: self.max,
            records: self.untracked,
        })
    }

    /// Pushes the `limit.chains` finding, when records were beyond the limit, and returns them.
    pub fn report_limit(&self, sink: &mut FindingSink) -> Option<Untracked> {
        if let Some(f) = self.limit_finding() {
            sink.push(f);
        }
        self.untracked()
    }

    /// The `limit.chains` finding, when records were beyond the limit.
    pub fn limit_finding(&self) -> Option<Finding> {
        let u = self.untracked()?;
        let f = Finding::new(
            Code::LimitChains,
            format!(
                "the export has more than {max} chains (--max-chains {max}): {n} record(s) of the chains met after the first {max}, from this one on, were read, hashed and signature-checked but not checked against their chains (links, sequence, time, close records), and those chains are not listed",
                max = u.max_chains,
                n = u.records
            ),
        );
        Some(match &self.first_untracked {
            Some(at) => f.at(at.clone()),
            None => f,
        })
    }

    /// The tracked chains' ids by [`Slot::index`].
    pub fn names(&self) -> Vec<Box<str>> {
        by_index(self.len, self.index.iter().map(|(id, &i)| (id.clone(), i)))
    }

    /// The tracked chains with their ids, in order of first appearance. Each chunk of slots is
    /// freed as soon as its chains have been taken.
    pub fn into_ordered(self) -> impl Iterator<Item = (Box<str>, Slot<S>)> {
        let ids = by_index(self.len, self.index.into_iter());
        ids.into_iter().zip(self.chunks.into_iter().flatten())
    }
}

/// Chain ids placed by their index among `len` slots.
fn by_index(len: usize, ids: impl Iterator<Item = (Box<str>, u32)>) -> Vec<Box<str>> {
    let mut out: Vec<Box<str>> = vec![Box::default(); len];
    for (id, i) in ids {
        if let Some(slot) = out.get_mut(i as usize) {
            *slot = id;
        }
    }
    out
}

/// Strings that many chains share (agent ids, signers), each kept once.
#[derive(Debug, Default)]
pub struct Interner(HashSet<Arc<str>>);

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(Arc::clone(&a));
        a
    }
}

/// An unsigned record held until its chain's first signed record.
#[derive(Debug)]
pub enum Pending {
    /// The finding, quoting the line.
    Quoted(Box<Finding>),
    /// Only where the record is.
    Located(Location),
}

/// The unsigned records held over all chains, bounded by [`PENDING_HELD`].
#[derive(Debug, Default)]
pub struct PendingBudget {
    held: usize,
    quoted: usize,
}

impl PendingBudget {
    /// Holds an unsigned record of a chain that has no signed record yet, if the budget allows:
    /// with its finding (made by `finding`) while fewer than [`PENDING_QUOTED`] are quoted,
    /// else with its place. A record not held is still counted when the chain turns out signed
    /// (see [`PendingBudget::release`]).
    pub fn hold(
        &mut self,
        pending: &mut Vec<Pending>,
        at: &Location,
        finding: impl FnOnce() -> Finding,
    ) {
        if self.held >= PENDING_HELD {
            return;
        }
        self.held += 1;
        if self.quoted < PENDING_QUOTED {
            self.quoted += 1;
            pending.push(Pending::Quoted(Box::new(finding())));
        } else {
            pending.push(Pending::Located(at.clone()));
        }
    }

    /// The chain's first signed record: its `unsigned` records so far (all of its records before
    /// this one) are `sig.missing`. The held ones become findings in `out`; returns how many
    /// more were not held, to be counted without being listed.
    pub fn release(
        &mut self,
        pending: &mut Vec<Pending>,
        unsigned: u64,
        chain: &str,
        out: &mut Vec<Finding>,
    ) -> u64 {
        let held = pending.len() as u64;
        for p in pending.drain(..) {
            self.held = self.held.saturating_sub(1);
            out.push(match p {
                Pending::Quoted(f) => {
                    self.quoted = self.quoted.saturating_sub(1);
                    *f
                }
                Pending::Located(at) => Finding::new(Code::SigMissing, UNSIGNED_IN_SIGNED_CHAIN)
                    .at(at)
                    .chain(chain.to_string()),
            });
        }
        *pending = Vec::new();
        unsigned.saturating_sub(held)
    }

    /// Forgets the records held for a chain that ended without a signed record.
    pub fn forget(&mut self, pending: &mut Vec<Pending>) {
        for p in pending.drain(..) {
            self.held = self.held.saturating_sub(1);
            if matches!(p, Pending::Quoted(_)) {
                self.quoted = self.quoted.saturating_sub(1);
            }
        }
    }
}

/// One chain's signature outcomes, counted the same way by the AAT checks ([`crate::chain`]) and
/// the declared profiles' ([`crate::profile::links`]).
#[derive(Debug, Default)]
pub struct SigTally {
    /// Records whose signature verified.
    pub verified: u64,
    /// Records whose signature did not verify.
    pub failed: u64,
    /// Records signed by keys not supplied (or not trusted, or not usable).
    pub unknown: u64,
    /// Signed records outside the `--since`/`--until` window (AAT only).
    pub outside_window: u64,
    /// Unsigned records.
    pub unsigned: u64,
    /// The signers of the verified records, each once.
    pub signers: Vec<Arc<str>>,
    /// Unsigned records held until the chain shows whether it is signed at all.
    pub pending_unsigned: Vec<Pending>,
}

impl SigTally {
    /// Records that carry a signature, whatever became of it.
    pub fn signed(&self) -> u64 {
        self.verified + self.failed + self.unknown + self.outside_window
    }

    /// Counts one record's signature outcome. An unsigned record is `sig.missing` (made by
    /// `missing`, which quotes the line) once the chain is known to be signed, or always under
    /// `--require-signatures`; before the chain's first signed record it is held in `pending`.
    /// At that first signed record the held ones are released into `out`. Returns how many
    /// unsigned records before it are `sig.missing` without being held as findings (to be
    /// counted only).
    #[allow(clippy::too_many_arguments)]
    pub fn count(
        &mut self,
        sig: &SigOutcome,
        chain: &str,
        at: &Location,
        missing: impl Fn(&'static str) -> Finding,
        policy: Policy,
        pending: &mut PendingBudget,
        strings: &mut Interner,
        out: &mut Vec<Finding>,
    ) -> u64 {
        let signed_before = self.signed() > 0;
        match sig {
            SigOutcome::Unsigned => {
                self.unsigned += 1;
                // The finding quotes the line: build it only when it is kept.
                if policy.require_signatures {
                    out.push(missing(
                        "record is unsigned and --require-signatures is set",
                    ));
                } else if signed_before {
                    out.push(missing(UNSIGNED_IN_SIGNED_CHAIN));
                } else {
                    pending.hold(&mut self.pending_unsigned, at, || {
                        missing(UNSIGNED_IN_SIGNED_CHAIN)
                    });
                }
                return 0;
            }
            SigOutcome::Verified { signer } => {
                self.verified += 1;
                if !self.signers.iter().any(|x| **x == **signer) {
                    self.signers.push(strings.get(signer));
                }
            }
            SigOutcome::Failed => self.failed += 1,
            SigOutcome::Unknown => self.unknown += 1,
            SigOutcome::OutsideWindow => self.outside_window += 1,
        }
        if signed_before || policy.require_signatures {
            return 0;
        }
        // The first signed record: the unsigned ones before it now sit in a signed chain.
        pending.release(&mut self.pending_unsigned, self.unsigned, chain, out)
    }

    /// The signers, sorted.
    pub fn signers_sorted(&self) -> Vec<String> {
        let mut signers: Vec<String> = self.signers.iter().map(|x| x.to_string()).collect();
        signers.sort();
        signers
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(line: u64) -> Location {
        Location {
            source: 0,
            line,
            record: line - 1,
        }
    }

    #[test]
    fn chains_past_the_limit_are_counted_not_tracked() {
        let mut t: ChainTable<u32> = ChainTable::new(2);
        assert!(t.entry("a", &at(1), || 1).unwrap().1);
        assert!(t.entry("b", &at(2), || 2).unwrap().1);
        assert!(!t.entry("a", &at(3), || 9).unwrap().1);
        assert!(t.entry("c", &at(4), || 3).is_none());
        assert!(t.entry("c", &at(5), || 3).is_none());
        assert!(t.entry("d", &at(6), || 4).is_none());
        // Known chains go on being tracked after the limit was reached.
        assert!(!t.entry("b", &at(7), || 9).unwrap().1);
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.untracked(),
            Some(Untracked {
                max_chains: 2,
                records: 3
            })
        );
        let f = t.limit_finding().unwrap();
        assert_eq!(f.code, Code::LimitChains);
        assert_eq!(f.at.unwrap().line, 4);
        assert!(f.message.contains("3 record(s)"), "{}", f.message);
        let ids: Vec<(String, u32)> = t
            .into_ordered()
            .map(|(id, s)| (id.to_string(), s.state))
            .collect();
        assert_eq!(ids, [("a".to_string(), 1), ("b".to_string(), 2)]);
    }

    #[test]
    fn chains_in_several_chunks_keep_their_order() {
        let n = 2 * CHUNK + 3;
        let mut t: ChainTable<usize> = ChainTable::new(n);
        for i in 0..n {
            t.entry(&format!("c{i}"), &at(1), || i);
        }
        for i in (0..n).rev() {
            assert_eq!(t.get_mut(&format!("c{i}")).unwrap().state, i);
        }
        assert!(t.entry("one more", &at(2), || 0).is_none());
        let all: Vec<(Box<str>, Slot<usize>)> = t.into_ordered().collect();
        assert_eq!(all.len(), n);
        for (i, (id, slot)) in all.iter().enumerate() {
            assert_eq!((&**id, slot.state), (&*format!("c{i}"), i));
        }
    }

    #[test]
    fn no_finding_within_the_limit() {
        let mut t: ChainTable<()> = ChainTable::new(1);
        t.entry("a", &at(1), || ());
        t.entry("a", &at(2), || ());
        assert!(t.untracked().is_none());
        assert!(t.limit_finding().is_none());
        let mut t: ChainTable<()> = ChainTable::new(0);
        assert!(t.entry("a", &at(1), || ()).is_none());
        assert_eq!(t.untracked().unwrap().records, 1);
    }

    #[test]
    fn findings_count_for_tracked_chains_only() {
        let mut t: ChainTable<()> = ChainTable::new(1);
        let mut sink = FindingSink::new(10);
        t.entry("a", &at(1), || ());
        t.entry("b", &at(2), || ());
        t.push(Finding::new(Code::SeqGap, "x").chain("a"), &mut sink);
        t.push(Finding::new(Code::SeqGap, "y").chain("a"), &mut sink);
        t.push(Finding::new(Code::SeqGap, "z").chain("b"), &mut sink);
        t.push(Finding::new(Code::InputBom, "w"), &mut sink);
        assert_eq!(sink.counts.get(&Code::SeqGap), Some(&3));
        let (_, slot) = t.into_ordered().next().unwrap();
        assert_eq!(slot.counts.get(Code::SeqGap), 2);
        assert!(slot.counts.failed(Guarantee::Integrity));
        assert!(!slot.counts.failed(Guarantee::Authenticity));
        assert_eq!(slot.counts.into_map().len(), 1);
    }

    #[test]
    fn counts_stay_sorted_by_code() {
        let mut c = Counts::default();
        for code in [Code::SeqGap, Code::InputBom, Code::SeqGap, Code::SigMissing] {
            c.add(code, 1);
        }
        c.add(Code::SigMissing, 5);
        assert_eq!(c.get(Code::SeqGap), 2);
        assert_eq!(c.get(Code::SigMissing), 6);
        assert_eq!(c.get(Code::SeqDuplicate), 0);
        let codes: Vec<Code> = c.into_map().into_keys().collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn held_unsigned_records_are_bounded_and_the_rest_counted() {
        let mut budget = PendingBudget::default();
        let mut a = Vec::new();
        let mut b = Vec::new();
        let finding = || Finding::new(Code::SigMissing, UNSIGNED_IN_SIGNED_CHAIN).chain("a");
        for i in 0..(PENDING_HELD as u64 + 5) {
            budget.hold(&mut a, &at(i + 1), finding);
        }
        assert_eq!(a.len(), PENDING_HELD);
        let quoted = a.iter().filter(|p| matches!(p, Pending::Quoted(_))).count();
        assert_eq!(quoted, PENDING_QUOTED);
        // The budget is spent: another chain's unsigned record is not held...
        budget.hold(&mut b, &at(1), finding);
        assert!(b.is_empty());
        // ...but counted when its chain turns out signed.
        let mut out = Vec::new();
        assert_eq!(budget.release(&mut b, 1, "b", &mut out), 1);
        assert!(out.is_empty());
        // Releasing a chain gives its findings back and frees the budget.
        let more = budget.release(&mut a, PENDING_HELD as u64 + 5, "a", &mut out);
        assert_eq!(more, 5);
        assert_eq!(out.len(), PENDING_HELD);
        assert!(out.iter().all(|f| f.chain.as_deref() == Some("a")));
        budget.hold(&mut b, &at(1), finding);
        assert!(matches!(b.as_slice(), [Pending::Quoted(_)]));
        budget.forget(&mut b);
        assert!(b.is_empty());
        assert_eq!((budget.held, budget.quoted), (0, 0));
    }
}
