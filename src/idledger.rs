//! Export-wide facts about record ids, in memory that does not grow with the export: the
//! uniqueness check of record ids, and the envelope hashes that asqav counterparty bindings are
//! resolved against.
//!
//! Every id is kept as a 128-bit fingerprint (the first half of its SHA-256) with a fixed-size
//! payload: the place of its record (40 bytes an entry), or the place and a digest (72 bytes).
//! The entries gather in a buffer of [`RUN_ENTRIES`]; a full buffer is sorted and written as
//! one run to an anonymous temporary file (`tempfile::tempfile`, in `TMPDIR`). At the end the
//! runs and the buffer are merged in fingerprint order, so all entries of one id arrive
//! together, the earliest record first. For record ids, every entry after the first of its
//! fingerprint is a repeat of the first. The check is exact but for a 2^-127 chance per pair of
//! ids, as a fingerprint set in memory would be, and its memory is the buffer (640 KiB or
//! 1.1 MiB) during the run and a read buffer of about 1,000 bytes per run at the end.
//!
//! An export with at most one run's worth of ids never touches the disk. If the temporary file
//! cannot be written, the ids already held stay checked and the later ones are refused
//! ([`Refused`]); the caller reports that once (`limit.record_ids`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Debug;
use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};

/// Entries held in memory before a run is written.
pub const RUN_ENTRIES: usize = 1 << 14;
/// Most runs merged at the end, so most ids held: 2^28 (268,435,456) records, 10 GiB of
/// temporary file for record ids; the merge then reads 16,384 runs through buffers of about
/// 1,000 bytes (16 MiB).
pub const MAX_RUNS: usize = 1 << 14;
/// Bytes read from a run at a time during the merge (rounded down to whole entries).
const READ_BYTES: usize = 1000;

/// The fingerprint of a record id: the first half of its SHA-256.
pub fn fingerprint(id: &str) -> u128 {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(id.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&d[..16]);
    u128::from_be_bytes(key)
}

/// What an entry carries besides its fingerprint: fixed-size, ordered (entries of one
/// fingerprint arrive in this order).
pub trait Payload: Copy + Ord + Debug {
    /// Its encoded size.
    const BYTES: usize;
    /// Appends its encoding ([`Self::BYTES`] bytes).
    fn encode(&self, out: &mut Vec<u8>);
    /// Decodes [`Self::BYTES`] bytes.
    fn decode(b: &[u8]) -> Self;
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// Where a record is: its input, line and record index, and its chain's index in the caller's
/// chain table (`u32::MAX` for a record of an untracked chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// Index of the input in the run's sources.
    pub source: u32,
    /// 1-based physical line.
    pub line: u64,
    /// 0-based record index within its input.
    pub record: u64,
    /// The chain's index, or `u32::MAX`.
    pub chain: u32,
}

impl Payload for Place {
    const BYTES: usize = 24;

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source.to_le_bytes());
        out.extend_from_slice(&self.line.to_le_bytes());
        out.extend_from_slice(&self.record.to_le_bytes());
        out.extend_from_slice(&self.chain.to_le_bytes());
    }

    fn decode(b: &[u8]) -> Self {
        Place {
            source: u32_at(b, 0),
            line: u64_at(b, 4),
            record: u64_at(b, 12),
            chain: u32_at(b, 20),
        }
    }
}

/// A record's place and a digest it carries (an asqav envelope hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamped {
    /// Where the record is (first, so the earliest record of an id comes first).
    pub place: Place,
    /// Its digest.
    pub digest: [u8; 32],
}

impl Payload for Stamped {
    const BYTES: usize = Place::BYTES + 32;

    fn encode(&self, out: &mut Vec<u8>) {
        self.place.encode(out);
        out.extend_from_slice(&self.digest);
    }

    fn decode(b: &[u8]) -> Self {
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&b[Place::BYTES..Place::BYTES + 32]);
        Stamped {
            place: Place::decode(b),
            digest,
        }
    }
}

/// One id: its fingerprint (high half first, so that they order as the whole), then its
/// payload; ordered by fingerprint, then by payload. Two `u64` halves rather than a `u128`,
/// whose 16-byte alignment would pad a 40-byte entry to 48.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry<P> {
    high: u64,
    low: u64,
    payload: P,
}

impl<P: Payload> Entry<P> {
    const BYTES: usize = 16 + P::BYTES;

    fn new(fingerprint: u128, payload: P) -> Self {
        Entry {
            high: (fingerprint >> 64) as u64,
            low: fingerprint as u64,
            payload,
        }
    }

    fn fingerprint(&self) -> u128 {
        u128::from(self.high) << 64 | u128::from(self.low)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.high.to_le_bytes());
        out.extend_from_slice(&self.low.to_le_bytes());
        self.payload.encode(out);
    }

    fn decode(b: &[u8]) -> Self {
        Entry {
            high: u64_at(b, 0),
            low: u64_at(b, 8),
            payload: P::decode(&b[16..]),
        }
    }
}

/// Why an id was not taken.
#[derive(Debug)]
pub enum Refused {
    /// [`MAX_RUNS`] runs are written: no more ids are checked.
    Full,
    /// The temporary file could not be written: no more ids are checked.
    Io(io::Error),
}

/// A repeated id: the record that repeats it and the first record that had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    /// The later record.
    pub at: Place,
    /// The earliest record with the same id.
    pub first: Place,
}

/// Id fingerprints with their payloads, sorted at the end (see the module).
#[derive(Debug)]
pub struct Ledger<P> {
    buffer: Vec<Entry<P>>,
    run_entries: usize,
    max_runs: usize,
    file: Option<File>,
    /// Entries in each run written, in file order.
    runs: Vec<u64>,
    closed: bool,
}

/// Record ids with their places: the uniqueness check.
pub type IdLedger = Ledger<Place>;

impl<P: Payload> Default for Ledger<P> {
    fn default() -> Self {
        Ledger::with_limits(RUN_ENTRIES, MAX_RUNS)
    }
}

impl<P: Payload> Ledger<P> {
    /// A ledger writing runs of `run_entries`, at most `max_runs` of them (small values let the
    /// tests reach the disk and the limit).
    pub fn with_limits(run_entries: usize, max_runs: usize) -> Self {
        Ledger {
            buffer: Vec::new(),
            run_entries: run_entries.max(1),
            max_runs,
            file: None,
            runs: Vec::new(),
            closed: false,
        }
    }

    /// How many ids are held.
    pub fn len(&self) -> u64 {
        self.runs.iter().sum::<u64>() + self.buffer.len() as u64
    }

    /// Whether no id is held.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.runs.is_empty()
    }

    /// Adds the id with `fingerprint` and its payload. Once refused (the limit reached or the
    /// temporary file not writable), every later id is refused with [`Refused::Full`] and the
    /// ids held so far stay checked.
    ///
    /// # Errors
    /// [`Refused`] when the id is not taken.
    pub fn insert(&mut self, fingerprint: u128, payload: P) -> Result<(), Refused> {
        if self.closed {
            return Err(Refused::Full);
        }
        if self.buffer.len() >= self.run_entries {
            if self.runs.len() >= self.max_runs {
                self.closed = true;
                return Err(Refused::Full);
            }
            if let Err(e) = self.spill() {
                self.closed = true;
                return Err(Refused::Io(e));
            }
        }
        if self.buffer.capacity() == 0 {
            self.buffer.reserve_exact(self.run_entries);
        }
        self.buffer.push(Entry::new(fingerprint, payload));
        Ok(())
    }

    /// Sorts the buffer and appends it to the temporary file as one run (the file is only
    /// written, in order, until [`Ledger::sorted`] reads it).
    fn spill(&mut self) -> io::Result<()> {
        self.buffer.sort_unstable();
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        let mut bytes = Vec::with_capacity(Entry::<P>::BYTES * 1024);
        for chunk in self.buffer.chunks(1024) {
            bytes.clear();
            for e in chunk {
                e.encode(&mut bytes);
            }
            file.write_all(&bytes)?;
        }
        self.runs.push(self.buffer.len() as u64);
        self.buffer.clear();
        Ok(())
    }

    /// Merges everything held and calls `each` with every entry in order: by fingerprint, and
    /// within one fingerprint by payload.
    ///
    /// # Errors
    /// Reading the temporary file back failed; the entries given before stand.
    pub fn sorted(mut self, mut each: impl FnMut(u128, P)) -> io::Result<()> {
        self.buffer.sort_unstable();
        // One file for all the runs (one descriptor however many runs), read at each run's
        // offset in turn.
        let mut file = self.file.take();
        let mut cursors = Vec::with_capacity(self.runs.len() + 1);
        let mut offset = 0u64;
        for &n in &self.runs {
            cursors.push(Cursor::File(RunReader::new(offset, n)));
            offset += n * Entry::<P>::BYTES as u64;
        }
        cursors.push(Cursor::Memory(std::mem::take(&mut self.buffer).into_iter()));
        let mut heap = BinaryHeap::with_capacity(cursors.len());
        for (i, c) in cursors.iter_mut().enumerate() {
            if let Some(e) = c.next(file.as_mut())? {
                heap.push(Reverse((e, i)));
            }
        }
        while let Some(Reverse((e, i))) = heap.pop() {
            if let Some(next) = cursors[i].next(file.as_mut())? {
                heap.push(Reverse((next, i)));
            }
            each(e.fingerprint(), e.payload);
        }
        Ok(())
    }
}

impl Ledger<Place> {
    /// Calls `repeat` for each record whose id an earlier record had, in fingerprint order (the
    /// caller orders its findings).
    ///
    /// # Errors
    /// Reading the temporary file back failed; the repeats reported before stand.
    pub fn repeats(self, mut repeat: impl FnMut(Repeat)) -> io::Result<()> {
        let mut first: Option<(u128, Place)> = None;
        self.sorted(|fingerprint, place| match first {
            Some((f, at)) if f == fingerprint => repeat(Repeat {
                at: place,
                first: at,
            }),
            _ => first = Some((fingerprint, place)),
        })
    }
}

/// One sorted run being merged.
enum Cursor<P> {
    File(RunReader),
    Memory(std::vec::IntoIter<Entry<P>>),
}

impl<P: Payload> Cursor<P> {
    fn next(&mut self, file: Option<&mut File>) -> io::Result<Option<Entry<P>>> {
        match self {
            Cursor::File(r) => r.next(file),
            Cursor::Memory(it) => Ok(it.next()),
        }
    }
}

/// Reads one run of the temporary file through a small buffer.
struct RunReader {
    /// Byte offset of the next unread entry.
    offset: u64,
    /// Entries not yet read from the file.
    left: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl RunReader {
    fn new(offset: u64, entries: u64) -> Self {
        RunReader {
            offset,
            left: entries,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn next<P: Payload>(&mut self, file: Option<&mut File>) -> io::Result<Option<Entry<P>>> {
        let size = Entry::<P>::BYTES;
        if self.pos == self.buf.len() {
            if self.left == 0 {
                return Ok(None);
            }
            let file = file.ok_or_else(|| io::Error::other("the ledger's runs have no file"))?;
            let n = self.left.min((READ_BYTES / size).max(1) as u64);
            self.buf.resize(n as usize * size, 0);
            file.seek(SeekFrom::Start(self.offset))?;
            file.read_exact(&mut self.buf)?;
            self.offset += self.buf.len() as u64;
            self.left -= n;
            self.pos = 0;
        }
        let e = Entry::decode(&self.buf[self.pos..self.pos + size]);
        self.pos += size;
        Ok(Some(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn place(line: u64) -> Place {
        Place {
            source: 0,
            line,
            record: line - 1,
            chain: (line % 7) as u32,
        }
    }

    /// The repeats of a sequence of fingerprints, as (later line, first line), sorted.
    fn repeats(ledger: IdLedger) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        ledger
            .repeats(|r| out.push((r.at.line, r.first.line)))
            .unwrap();
        out.sort_unstable();
        out
    }

    /// The same from a map, the plain definition.
    fn expected(fps: &[u128]) -> Vec<(u64, u64)> {
        let mut first: HashMap<u128, u64> = HashMap::new();
        let mut out = Vec::new();
        for (i, &f) in fps.iter().enumerate() {
            let line = i as u64 + 1;
            match first.get(&f) {
                Some(&l) => out.push((line, l)),
                None => {
                    first.insert(f, line);
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn fill(fps: &[u128], run_entries: usize) -> IdLedger {
        let mut l = IdLedger::with_limits(run_entries, usize::MAX);
        for (i, &f) in fps.iter().enumerate() {
            l.insert(f, place(i as u64 + 1)).unwrap();
        }
        l
    }

    #[test]
    fn repeats_equal_the_plain_definition_in_memory_and_across_runs() {
        // A deterministic mix: mostly distinct, some repeated once, one repeated many times,
        // repeats inside a run, across runs, and between the last run and the buffer.
        let mut fps = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..5_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = match i % 11 {
                3 => u128::from(x % 50),
                7 => 0xdead_beef,
                _ => u128::from(x) << 64 | u128::from(i),
            };
            fps.push(f);
        }
        let want = expected(&fps);
        assert!(want.len() > 500, "the input has repeats");
        for run in [1, 2, 7, 64, 1000, 5_000, 10_000] {
            let l = fill(&fps, run);
            assert_eq!(l.len(), 5_000);
            assert_eq!(repeats(l), want, "runs of {run}");
        }
    }

    #[test]
    fn the_first_record_is_the_earliest_place_even_across_inputs() {
        let mut l = IdLedger::with_limits(2, MAX_RUNS);
        let at = |source, line| Place {
            source,
            line,
            record: line - 1,
            chain: 0,
        };
        l.insert(5, at(1, 1)).unwrap();
        l.insert(5, at(0, 9)).unwrap();
        l.insert(6, at(0, 10)).unwrap();
        l.insert(5, at(1, 2)).unwrap();
        let mut out = Vec::new();
        l.repeats(|r| out.push((r.at, r.first))).unwrap();
        out.sort_unstable();
        assert_eq!(out, [(at(1, 1), at(0, 9)), (at(1, 2), at(0, 9))]);
    }

    #[test]
    fn past_the_last_run_ids_are_refused_and_those_held_stay_checked() {
        let mut l = IdLedger::with_limits(2, 2);
        for line in 1..=6 {
            l.insert(u128::from(line % 3), place(line)).unwrap();
        }
        assert!(matches!(l.insert(9, place(7)), Err(Refused::Full)));
        assert!(matches!(l.insert(9, place(8)), Err(Refused::Full)));
        assert_eq!(l.len(), 6);
        assert_eq!(repeats(l), [(4, 1), (5, 2), (6, 3)]);
    }

    #[test]
    fn ids_are_told_apart_by_their_fingerprints() {
        let mut l = IdLedger::with_limits(4096, MAX_RUNS);
        for i in 0..20_000u64 {
            l.insert(fingerprint(&format!("id-{i}")), place(i + 1))
                .unwrap();
        }
        for i in (0..20_000u64).step_by(997) {
            l.insert(fingerprint(&format!("id-{i}")), place(20_001 + i))
                .unwrap();
        }
        let got = repeats(l);
        let want: Vec<(u64, u64)> = (0..20_000u64)
            .step_by(997)
            .map(|i| (20_001 + i, i + 1))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn entries_take_their_encoded_size_in_memory_too_and_round_trip() {
        assert_eq!(std::mem::size_of::<Entry<Place>>(), Entry::<Place>::BYTES);
        assert_eq!(Entry::<Place>::BYTES, 40);
        assert_eq!(
            std::mem::size_of::<Entry<Stamped>>(),
            Entry::<Stamped>::BYTES
        );
        let at = Place {
            source: 7,
            line: u64::MAX,
            record: 3,
            chain: u32::MAX,
        };
        let e = Entry::new(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10, at);
        let mut bytes = Vec::new();
        e.encode(&mut bytes);
        assert_eq!(bytes.len(), Entry::<Place>::BYTES);
        assert_eq!(Entry::decode(&bytes), e);
        assert_eq!(e.fingerprint(), 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
        let s = Entry::new(
            5,
            Stamped {
                place: at,
                digest: [9; 32],
            },
        );
        bytes.clear();
        s.encode(&mut bytes);
        assert_eq!(bytes.len(), Entry::<Stamped>::BYTES);
        assert_eq!(Entry::decode(&bytes), s);
        // The halves order as the whole fingerprint.
        assert!(Entry::new(1 << 64, at) > Entry::new(u128::from(u64::MAX), at));
    }

    #[test]
    fn stamped_entries_come_back_by_id_then_earliest_first() {
        let stamp = |line: u64, d: u8| Stamped {
            place: place(line),
            digest: [d; 32],
        };
        for run in [1, 3, 100] {
            let mut l: Ledger<Stamped> = Ledger::with_limits(run, usize::MAX);
            // Digests deliberately out of order against the places.
            for (fp, line, d) in [(9, 1, 5), (3, 2, 1), (9, 3, 0), (3, 4, 7), (1, 5, 2)] {
                l.insert(fp, stamp(line, d)).unwrap();
            }
            let mut out = Vec::new();
            l.sorted(|fp, s| out.push((fp, s.place.line, s.digest[0])))
                .unwrap();
            assert_eq!(
                out,
                [(1, 5, 2), (3, 2, 1), (3, 4, 7), (9, 1, 5), (9, 3, 0)],
                "runs of {run}"
            );
        }
    }

    #[test]
    fn an_empty_ledger_has_no_repeats() {
        assert!(repeats(IdLedger::default()).is_empty());
    }
}
