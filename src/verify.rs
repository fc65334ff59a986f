//! The verify pipeline: read lines in batches, do the per-record work (parse, canonicalize, hash,
//! verify signatures) in parallel, then feed the records in order to the chain checks.
//!
//! ```text
//! lines --batch--> rayon: aat::prepare --in order--> Chains::observe --> Report
//! ```
//!
//! Memory is bounded by the batch size and the number of chains, never by the file size.

use rayon::prelude::*;

use crate::canon::json::{self, Limits};
use crate::chain::{Chains, FindingSink, Policy};
use crate::config::VerifyConfig;
use crate::error::Error;
use crate::finding::{Code, Finding, Location};
use crate::ingest::{self, IngestError, Line, MAX_LINE_BYTES};
use crate::keys::KeyRing;
use crate::profile::aat;
use crate::report::{InputSummary, KeySummary, Report};
use crate::sig::SigContext;

/// Most lines per batch handed to the workers.
const BATCH_LINES: usize = 2048;
/// A batch ends early once its lines hold this many bytes (large signed records).
const BATCH_BYTES: usize = 2 * 1024 * 1024;

/// Progress observer; the binary shows a bar, tests pass [`NoProgress`].
pub trait Progress: Sync {
    /// Called after each batch with the bytes read so far in the current input.
    fn advance(&self, input: &str, bytes: u64);

    /// Called after each batch, before [`Progress::advance`], with the records read so far in
    /// the current input.
    fn records(&self, _input: &str, _records: u64) {}
}

/// A progress observer that does nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _input: &str, _bytes: u64) {}
}

/// Verifies the inputs of `config`.
///
/// # Errors
/// [`Error`] when verification cannot happen at all: unreadable inputs or keys, no records,
/// an unrecognised format.
pub fn verify(config: &VerifyConfig, progress: &dyn Progress) -> Result<Report, Error> {
    if let Some(p) = &config.profile {
        if p != "aat" {
            return Err(Error::UnknownProfile(p.clone()));
        }
    }
    let provider = crate::crypto::provider_by_name(&config.provider)
        .ok_or_else(|| Error::Provider(config.provider.clone()))?;
    let ring = if config.keys.is_empty() {
        KeyRing::from_keys(Vec::new())
    } else {
        KeyRing::load(&config.keys)?
    };
    let ctx = SigContext::new(&ring, provider).map_err(Error::KeyPrepare)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;

    let policy = Policy {
        require_signatures: config.require_signatures,
        require_complete: config.require_complete,
        keys_supplied: ctx.has_keys(),
    };
    let mut chains = Chains::new(policy);
    let mut sink = FindingSink::new(config.max_stored_per_code);
    let mut inputs = Vec::new();
    let mut detected = config.profile.is_some();
    let mut first_failure: Option<(usize, u64, String)> = None;

    for (index, source) in config.inputs.iter().enumerate() {
        let mut reader = BatchReader::open(index, source)?;
        let mut current = reader.next_batch()?;
        if !detected {
            detected = detect(&current.lines, source, &mut first_failure)?;
        }
        // Two stages overlap: the workers prepare batch k while one of them feeds batch k-1 to
        // the order-dependent checks and then reads batch k+1. Batches stay in file order.
        let mut ready: Option<(Vec<Finding>, Vec<aat::Prepared>)> = None;
        loop {
            let lines = std::mem::take(&mut current.lines);
            let eof = current.eof;
            let (prepared, next) = pool.install(|| {
                rayon::join(
                    || {
                        lines
                            .into_par_iter()
                            .map(|(at, bytes)| aat::prepare(at, bytes, &ctx))
                            .collect::<Vec<_>>()
                    },
                    || -> Result<Option<Batch>, Error> {
                        if let Some((notes, records)) = ready.take() {
                            feed(&mut chains, &mut sink, notes, records);
                        }
                        if eof {
                            return Ok(None);
                        }
                        let next = reader.next_batch()?;
                        if !detected {
                            detected = detect(&next.lines, source, &mut first_failure)?;
                        }
                        progress.records(&source.name, reader.summary.records);
                        progress.advance(&source.name, reader.summary.bytes);
                        Ok(Some(next))
                    },
                )
            });
            ready = Some((std::mem::take(&mut current.notes), prepared));
            match next? {
                Some(next) => current = next,
                None => break,
            }
        }
        if let Some((notes, records)) = ready.take() {
            feed(&mut chains, &mut sink, notes, records);
        }
        progress.records(&source.name, reader.summary.records);
        progress.advance(&source.name, reader.summary.bytes);
        inputs.push(reader.summary);
    }

    let total_records: u64 = inputs.iter().map(|i| i.records).sum();
    let names = || {
        config
            .inputs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if total_records == 0 {
        return Err(Error::NoRecords { name: names() });
    }
    if !detected {
        let (src, line, detail) = first_failure.unwrap_or((0, 1, "no JSON value".into()));
        return Err(Error::NotAnExport {
            name: config
                .inputs
                .get(src)
                .map_or_else(names, |s| s.name.clone()),
            line,
            detail,
        });
    }

    let chain_summaries = chains.finish(&mut sink);
    let mut findings = sink.stored;
    findings.sort_by(|a, b| (&a.at, a.code).cmp(&(&b.at, b.code)));
    Ok(Report {
        profile: "aat".into(),
        provider: ctx.provider().into(),
        require_signatures: config.require_signatures,
        require_complete: config.require_complete,
        inputs,
        keys: key_summaries(ctx.keys()),
        chains: chain_summaries,
        findings,
        counts: sink.counts,
    })
}

/// Feeds one prepared batch to the order-dependent checks: first the findings about its lines
/// (BOM, CR LF, blank and over-long lines), then its records, as a sequential reader would.
fn feed(
    chains: &mut Chains,
    sink: &mut FindingSink,
    notes: Vec<Finding>,
    records: Vec<aat::Prepared>,
) {
    for f in notes {
        sink.push(f);
    }
    for p in records {
        chains.observe(p, sink);
    }
}

/// One batch of record lines and the findings about the input met while reading them.
struct Batch {
    lines: Vec<(Location, Vec<u8>)>,
    notes: Vec<Finding>,
    /// The input ends with this batch.
    eof: bool,
}

/// Reads one input in batches of at most [`BATCH_LINES`] lines or about [`BATCH_BYTES`] bytes.
struct BatchReader<'a> {
    index: usize,
    source: &'a ingest::Source,
    lines: ingest::LineReader<std::io::BufReader<std::fs::File>>,
    summary: InputSummary,
    crlf_noted: bool,
}

impl<'a> BatchReader<'a> {
    fn open(index: usize, source: &'a ingest::Source) -> Result<Self, Error> {
        Ok(BatchReader {
            index,
            source,
            lines: ingest::open(source)?,
            summary: InputSummary {
                file: source.name.clone(),
                ..InputSummary::default()
            },
            crlf_noted: false,
        })
    }

    fn next_batch(&mut self) -> Result<Batch, Error> {
        let index = self.index;
        let summary = &mut self.summary;
        let mut batch = Batch {
            lines: Vec::with_capacity(BATCH_LINES),
            notes: Vec::new(),
            eof: true,
        };
        let mut bytes = 0;
        for line in self.lines.by_ref() {
            let line = line.map_err(|e| IngestError::Io {
                name: self.source.name.clone(),
                source: e,
            })?;
            match line {
                Line::Text {
                    number,
                    bytes: mut text,
                    crlf,
                } => {
                    summary.lines = number;
                    if number == 1 && text.starts_with(b"\xEF\xBB\xBF") {
                        text.drain(..3);
                        batch.notes.push(
                            Finding::new(Code::InputBom, "the file starts with a UTF-8 BOM")
                                .at(loc(index, number, 0)),
                        );
                    }
                    if crlf && !self.crlf_noted {
                        self.crlf_noted = true;
                        batch.notes.push(
                            Finding::new(Code::InputCrlf, "lines end in CR LF").at(loc(
                                index,
                                number,
                                summary.records,
                            )),
                        );
                    }
                    bytes += text.len();
                    batch
                        .lines
                        .push((loc(index, number, summary.records), text));
                    summary.records += 1;
                }
                Line::Blank { number } => {
                    summary.lines = number;
                    batch
                        .notes
                        .push(Finding::new(Code::InputBlankLine, "blank line").at(loc(
                            index,
                            number,
                            summary.records,
                        )));
                }
                Line::TooLong { number, len } => {
                    summary.lines = number;
                    batch.notes.push(
                        Finding::new(
                            Code::InputLineTooLong,
                            format!("line of {len} bytes exceeds the {MAX_LINE_BYTES}-byte limit"),
                        )
                        .at(loc(index, number, summary.records)),
                    );
                    summary.records += 1;
                }
            }
            if batch.lines.len() == BATCH_LINES || bytes >= BATCH_BYTES {
                batch.eof = false;
                break;
            }
        }
        summary.bytes = self.lines.bytes_read();
        Ok(batch)
    }
}

fn loc(source: usize, line: u64, record: u64) -> Location {
    Location {
        source,
        line,
        record,
    }
}

/// Decides from the first parseable line whether the input is an AAT export. Returns `Ok(false)`
/// while no line parsed yet.
fn detect(
    batch: &[(Location, Vec<u8>)],
    source: &ingest::Source,
    first_failure: &mut Option<(usize, u64, String)>,
) -> Result<bool, Error> {
    for (at, bytes) in batch {
        match json::parse(bytes, &Limits::default()) {
            Ok(value) => {
                if aat::looks_like_aat(&value) {
                    return Ok(true);
                }
                return Err(Error::Unrecognised {
                    name: source.name.clone(),
                    line: at.line,
                    candidates: "aat".into(),
                });
            }
            Err(e) => {
                if first_failure.is_none() {
                    *first_failure = Some((at.source, at.line, e.to_string()));
                }
            }
        }
    }
    Ok(false)
}

fn key_summaries(keys: &[crate::keys::Key]) -> Vec<KeySummary> {
    keys.iter()
        .map(|k| KeySummary {
            source: k.source.clone(),
            alg: k.public.alg().to_string(),
            fingerprint: k.fingerprint(),
            kids: k
                .derived_kids()
                .into_iter()
                .map(|(rule, kid)| (rule.to_string(), kid))
                .chain(
                    k.declared_kid
                        .iter()
                        .map(|kid| ("declared".to_string(), kid.clone())),
                )
                .collect(),
        })
        .collect()
}
