//! CSV containers (AAT §10.3): a header row naming the members, one record per row, quoting and
//! embedded newlines handled by the `csv` crate.
//!
//! Each row becomes one JSON object: `parent_record_id` and `prev_hash` cells that are empty become
//! `null`; `sequence_number` cells are integers; JSON-typed columns (`action_detail` and the other
//! object, array or number members of AAT §3.2) are taken as JSON text, checked later by the strict
//! parser; every other non-empty cell is a string. An empty cell is an empty string for the
//! mandatory §3.1 string members and an absent member otherwise. The §10.3 layout carries no signature and no optional member, so the record a
//! row yields is in general not the record that was hashed and signed: the caller treats the
//! container as lossy (see `docs/formats.md`).
//!
//! Memory stays bounded: the reader refuses to buffer more than [`MAX_LINE_BYTES`] for one row, so
//! an unbalanced quote cannot make a field swallow the rest of a large file into memory.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{MAX_LINE_BYTES, Unit, Units};
use crate::finding::Code;

/// Columns whose cells hold JSON text.
const JSON_COLUMNS: &[&str] = &[
    "action_detail",
    "trust_assignment",
    "batch",
    "human_override",
    "sanctions_check",
    "external_timestamp",
    "deny_reasons",
    "risk_score",
];
/// Columns whose cells are integers.
const INTEGER_COLUMNS: &[&str] = &["sequence_number"];
/// Columns whose empty cells mean JSON null.
const NULLABLE_COLUMNS: &[&str] = &["parent_record_id", "prev_hash"];
/// AAT §3.1 mandatory string members: an empty cell is an empty string, not an absent member.
const MANDATORY_STRING_COLUMNS: &[&str] = &[
    "record_id",
    "timestamp",
    "agent_id",
    "agent_version",
    "session_id",
    "action_type",
    "outcome",
    "trust_level",
    "record_phase",
];
/// Columns a CSV export must have to be read as records.
const REQUIRED_COLUMNS: &[&str] = &["record_id", "session_id", "prev_hash"];

/// Whether a first line looks like a CSV header of records.
pub fn looks_like_header(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let cols: Vec<&str> = text
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    cols.len() >= 3 && REQUIRED_COLUMNS.iter().all(|r| cols.contains(r))
}

/// Counts bytes handed to the CSV parser since the last row and refuses to hand more than the limit.
struct Bounded<R> {
    inner: R,
    since_row: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_row.load(Ordering::Relaxed) > MAX_LINE_BYTES as u64 {
            return Err(io::Error::other(format!(
                "a CSV row exceeds {MAX_LINE_BYTES} bytes"
            )));
        }
        let n = self.inner.read(buf)?;
        self.since_row.fetch_add(n as u64, Ordering::Relaxed);
        self.total.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The units of a CSV input.
pub struct CsvUnits<R> {
    reader: csv::Reader<Bounded<R>>,
    header: Option<Vec<String>>,
    since_row: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    done: bool,
}

impl<R: BufRead> CsvUnits<R> {
    /// Units over a byte stream.
    pub fn new(inner: R) -> Self {
        let since_row = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(64 * 1024)
            .from_reader(Bounded {
                inner,
                since_row: since_row.clone(),
                total: total.clone(),
            });
        CsvUnits {
            reader,
            header: None,
            since_row,
            total,
            done: false,
        }
    }

    fn problem(&mut self, line: u64, message: String, stop: bool) -> Unit {
        self.done |= stop;
        Unit::Problem {
            line,
            code: Code::ContainerMalformed,
            message: format!("CSV: {message}"),
            text: Vec::new(),
        }
    }

    fn row(&mut self, rec: &csv::ByteRecord, line: u64) -> Unit {
        let Some(header) = &self.header else {
            return self.problem(line, "no header row".into(), true);
        };
        if rec.len() != header.len() {
            let (want, got) = (header.len(), rec.len());
            return self.problem(
                line,
                format!("row has {got} fields, the header {want}"),
                false,
            );
        }
        let mut out = Vec::with_capacity(rec.as_slice().len() + 16 * rec.len());
        out.push(b'{');
        let mut first = true;
        for (name, cell) in header.iter().zip(rec.iter()) {
            let cell_text = cell.trim_ascii();
            let value: Vec<u8> = if cell_text.is_empty() {
                if NULLABLE_COLUMNS.contains(&name.as_str()) {
                    b"null".to_vec()
                } else if MANDATORY_STRING_COLUMNS.contains(&name.as_str()) {
                    b"\"\"".to_vec()
                } else {
                    // An empty optional cell: the member was absent.
                    continue;
                }
            } else if JSON_COLUMNS.contains(&name.as_str())
                || INTEGER_COLUMNS.contains(&name.as_str())
            {
                cell.to_vec()
            } else {
                match std::str::from_utf8(cell) {
                    Ok(s) => serde_json::to_vec(s).unwrap_or_default(),
                    Err(_) => {
                        return self.problem(
                            line,
                            format!("column {name} is not valid UTF-8"),
                            false,
                        );
                    }
                }
            };
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend(serde_json::to_vec(name).unwrap_or_default());
            out.push(b':');
            out.extend(value);
        }
        out.push(b'}');
        Unit::Record {
            line,
            bytes: out,
            context: None,
        }
    }
}

impl<R: BufRead + Send> Iterator for CsvUnits<R> {
    type Item = io::Result<Unit>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut rec = csv::ByteRecord::new();
        self.since_row.store(0, Ordering::Relaxed);
        match self.reader.read_byte_record(&mut rec) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = rec.position().map_or(0, |p| p.line());
                if self.header.is_none() {
                    let names: Vec<String> = rec
                        .iter()
                        .map(|c| String::from_utf8_lossy(c.trim_ascii()).into_owned())
                        .collect();
                    let missing: Vec<&str> = REQUIRED_COLUMNS
                        .iter()
                        .copied()
                        .filter(|r| !names.iter().any(|n| n == r))
                        .collect();
                    if !missing.is_empty() {
                        return Some(Ok(self.problem(
                            line,
                            format!("the header lacks the columns {}", missing.join(", ")),
                            true,
                        )));
                    }
                    let mut seen = crate::tables::HashSet::default();
                    if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
                        return Some(Ok(self.problem(
                            line,
                            format!("the header names column {dup} twice"),
                            true,
                        )));
                    }
                    self.header = Some(names);
                    return self.next();
                }
                if rec.len() == 1 && rec.get(0).is_some_and(|c| c.trim_ascii().is_empty()) {
                    return Some(Ok(Unit::Blank { line }));
                }
                Some(Ok(self.row(&rec, line)))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::Io(io) => io.to_string(),
                    _ => e.to_string(),
                };
                let line = if line == 0 { 1 } else { line };
                Some(Ok(self.problem(line, message, true)))
            }
        }
    }
}

impl<R: BufRead + Send> Units for CsvUnits<R> {
    fn bytes_read(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(input: &[u8]) -> Vec<Unit> {
        CsvUnits::new(io::Cursor::new(input.to_vec()))
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    #[test]
    fn rows_become_records_with_typed_columns() {
        let got = units(b"record_id,session_id,prev_hash,parent_record_id,action_detail,sequence_number\nr1,s,,,\"{\"\"event\"\":\"\"x\"\"}\",0\n");
        let Unit::Record { line, bytes, .. } = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(*line, 2);
        assert_eq!(
            String::from_utf8_lossy(bytes),
            "{\"record_id\":\"r1\",\"session_id\":\"s\",\"prev_hash\":null,\"parent_record_id\":null,\"action_detail\":{\"event\":\"x\"},\"sequence_number\":0}"
        );
    }

    #[test]
    fn embedded_newlines_keep_the_row_start_line() {
        let got = units(b"record_id,session_id,prev_hash,note\na,s,,\"one\ntwo\"\nb,s,,x\n");
        assert!(matches!(got[0], Unit::Record { line: 2, .. }));
        assert!(matches!(got[1], Unit::Record { line: 4, .. }));
    }

    #[test]
    fn bad_rows_and_headers_are_problems() {
        let got = units(b"record_id,session_id,prev_hash\na,s\n");
        assert!(matches!(got[0], Unit::Problem { line: 2, .. }), "{got:?}");
        let got = units(b"a,b,c\n1,2,3\n");
        assert!(matches!(got[0], Unit::Problem { line: 1, .. }), "{got:?}");
        let got = units(b"record_id,session_id,prev_hash,prev_hash\n");
        assert!(matches!(got[0], Unit::Problem { line: 1, .. }), "{got:?}");
    }

    #[test]
    fn an_unbalanced_quote_cannot_buffer_without_bound() {
        let mut input = b"record_id,session_id,prev_hash\na,s,\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 1024 * 1024));
        let got = units(&input);
        assert!(
            matches!(got.last(), Some(Unit::Problem { .. })),
            "{:?}",
            got.len()
        );
    }
}
