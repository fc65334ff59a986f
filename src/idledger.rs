//! The export-wide record-id uniqueness check, in memory that does not grow with the export.
//!
//! Every id is kept as a 128-bit fingerprint (the first half of its SHA-256) with the place of
//! its record, 40 bytes. The entries gather in a buffer of [`RUN_ENTRIES`]; a full buffer is
//! sorted and written as one run to an anonymous temporary file (`tempfile::tempfile`, in
//! `TMPDIR`). At the end the runs and the buffer are merged in fingerprint order, and every
//! entry whose fingerprint equals an earlier one's is a repeat of the first. The check is exact
//! but for a 2^-127 chance per pair of ids, as a fingerprint set in memory would be, and its
//! memory is the buffer (640 KiB) during the run and a 1,000-byte read buffer per run at the
//! end.
//!
//! An export with at most one run's worth of ids never touches the disk. If the temporary file
//! cannot be written, the ids already held stay checked and the later ones are refused
//! ([`Refused`]); the caller reports that once (`limit.record_ids`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};

/// Entries held in memory before a run is written (40 bytes each: 640 KiB).
pub const RUN_ENTRIES: usize = 1 << 14;
/// Most runs merged at the end, so most ids checked: 2^28 (268,435,456) records, 10 GiB of
/// temporary file; the merge then reads 16,384 runs through 1,000-byte buffers (16 MiB).
pub const MAX_RUNS: usize = 1 << 14;
/// Bytes of one entry, in memory and in a run.
const ENTRY_BYTES: usize = 40;
/// Entries read from a run at a time during the merge.
const READ_ENTRIES: usize = 25;

/// The fingerprint of a record id: the first half of its SHA-256.
pub fn fingerprint(id: &str) -> u128 {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(id.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&d[..16]);
    u128::from_be_bytes(key)
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

/// One id: its fingerprint (high half first, so that they order as the whole), then its place;
/// ordered by fingerprint, then by place (so the first entry of a fingerprint is its earliest
/// record). Two `u64` halves rather than a `u128`, whose 16-byte alignment would pad the entry to
/// 48 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    high: u64,
    low: u64,
    place: Place,
}

impl Entry {
    fn new(fingerprint: u128, place: Place) -> Self {
        Entry {
            high: (fingerprint >> 64) as u64,
            low: fingerprint as u64,
            place,
        }
    }

    fn same_id(&self, other: &Entry) -> bool {
        (self.high, self.low) == (other.high, other.low)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.high.to_le_bytes());
        out.extend_from_slice(&self.low.to_le_bytes());
        out.extend_from_slice(&self.place.source.to_le_bytes());
        out.extend_from_slice(&self.place.line.to_le_bytes());
        out.extend_from_slice(&self.place.record.to_le_bytes());
        out.extend_from_slice(&self.place.chain.to_le_bytes());
    }

    fn decode(b: &[u8; ENTRY_BYTES]) -> Entry {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(a)
        };
        Entry {
            high: u64_at(0),
            low: u64_at(8),
            place: Place {
                source: u32_at(16),
                line: u64_at(20),
                record: u64_at(28),
                chain: u32_at(36),
            },
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

/// Record-id fingerprints with their places, for the uniqueness check (see the module).
#[derive(Debug)]
pub struct IdLedger {
    buffer: Vec<Entry>,
    run_entries: usize,
    max_runs: usize,
    file: Option<File>,
    /// Entries in each run written, in file order.
    runs: Vec<u64>,
    len: u64,
    closed: bool,
}

impl Default for IdLedger {
    fn default() -> Self {
        IdLedger::with_limits(RUN_ENTRIES, MAX_RUNS)
    }
}

impl IdLedger {
    /// A ledger writing runs of `run_entries`, at most `max_runs` of them (small values let the
    /// tests reach the disk and the limit).
    pub fn with_limits(run_entries: usize, max_runs: usize) -> Self {
        IdLedger {
            buffer: Vec::new(),
            run_entries: run_entries.max(1),
            max_runs,
            file: None,
            runs: Vec::new(),
            len: 0,
            closed: false,
        }
    }

    /// How many ids are held.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no id is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the id with `fingerprint` at `place`. Once refused (the limit reached or the
    /// temporary file not writable), every later id is refused with [`Refused::Full`] and the
    /// ids held so far stay checked.
    ///
    /// # Errors
    /// [`Refused`] when the id is not taken.
    pub fn insert(&mut self, fingerprint: u128, place: Place) -> Result<(), Refused> {
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
        self.buffer.push(Entry::new(fingerprint, place));
        self.len += 1;
        Ok(())
    }

    /// Sorts the buffer and appends it to the temporary file as one run.
    fn spill(&mut self) -> io::Result<()> {
        self.buffer.sort_unstable();
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        let mut bytes = Vec::with_capacity(ENTRY_BYTES * 1024);
        let written: u64 = self.runs.iter().sum::<u64>() * ENTRY_BYTES as u64;
        file.seek(SeekFrom::Start(written))?;
        for chunk in self.buffer.chunks(1024) {
            bytes.clear();
            for e in chunk {
                e.encode(&mut bytes);
            }
            file.write_all(&bytes)?;
        }
        file.flush()?;
        self.runs.push(self.buffer.len() as u64);
        self.buffer.clear();
        Ok(())
    }

    /// Merges everything held and calls `repeat` for each record whose id an earlier record
    /// had, in fingerprint order (the caller sorts its findings).
    ///
    /// # Errors
    /// Reading the temporary file back failed; the repeats reported before stand.
    pub fn finish(mut self, mut repeat: impl FnMut(Repeat)) -> io::Result<()> {
        self.buffer.sort_unstable();
        // One file for all the runs (one descriptor however many runs), read at each run's
        // offset in turn.
        let mut file = self.file.take();
        let mut cursors = Vec::with_capacity(self.runs.len() + 1);
        let mut offset = 0u64;
        for &n in &self.runs {
            cursors.push(Cursor::File(RunReader::new(offset, n)));
            offset += n * ENTRY_BYTES as u64;
        }
        cursors.push(Cursor::Memory(std::mem::take(&mut self.buffer).into_iter()));
        let mut heap = BinaryHeap::with_capacity(cursors.len());
        for (i, c) in cursors.iter_mut().enumerate() {
            if let Some(e) = c.next(file.as_mut())? {
                heap.push(Reverse((e, i)));
            }
        }
        let mut first: Option<Entry> = None;
        while let Some(Reverse((e, i))) = heap.pop() {
            if let Some(next) = cursors[i].next(file.as_mut())? {
                heap.push(Reverse((next, i)));
            }
            match first {
                Some(f) if f.same_id(&e) => repeat(Repeat {
                    at: e.place,
                    first: f.place,
                }),
                _ => first = Some(e),
            }
        }
        Ok(())
    }
}

/// One sorted run being merged.
enum Cursor {
    File(RunReader),
    Memory(std::vec::IntoIter<Entry>),
}

impl Cursor {
    fn next(&mut self, file: Option<&mut File>) -> io::Result<Option<Entry>> {
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

    fn next(&mut self, file: Option<&mut File>) -> io::Result<Option<Entry>> {
        if self.pos == self.buf.len() {
            if self.left == 0 {
                return Ok(None);
            }
            let file = file.ok_or_else(|| io::Error::other("the ledger's runs have no file"))?;
            let n = self.left.min(READ_ENTRIES as u64);
            self.buf.resize(n as usize * ENTRY_BYTES, 0);
            file.seek(SeekFrom::Start(self.offset))?;
            file.read_exact(&mut self.buf)?;
            self.offset += self.buf.len() as u64;
            self.left -= n;
            self.pos = 0;
        }
        let mut b = [0u8; ENTRY_BYTES];
        b.copy_from_slice(&self.buf[self.pos..self.pos + ENTRY_BYTES]);
        self.pos += ENTRY_BYTES;
        Ok(Some(Entry::decode(&b)))
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
            .finish(|r| out.push((r.at.line, r.first.line)))
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
        l.finish(|r| out.push((r.at, r.first))).unwrap();
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
    fn an_entry_takes_its_40_bytes_in_memory_too() {
        assert_eq!(std::mem::size_of::<Entry>(), ENTRY_BYTES);
        let e = Entry::new(
            0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10,
            Place {
                source: 7,
                line: u64::MAX,
                record: 3,
                chain: u32::MAX,
            },
        );
        let mut bytes = Vec::new();
        e.encode(&mut bytes);
        assert_eq!(bytes.len(), ENTRY_BYTES);
        assert_eq!(Entry::decode(bytes.as_slice().try_into().unwrap()), e);
        // The halves order as the whole fingerprint.
        assert!(Entry::new(1 << 64, e.place) > Entry::new(u128::from(u64::MAX), e.place));
    }

    #[test]
    fn an_empty_ledger_has_no_repeats() {
        assert!(repeats(IdLedger::default()).is_empty());
    }
}
