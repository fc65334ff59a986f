//! The verify pipeline: read lines in batches, do the per-record work (parse, canonicalize, hash,
//! verify signatures) in parallel, then feed the records in order to the chain checks.
//!
//! ```text
//! lines --batch--> rayon: Runner::prepare --in order--> Anchors::observe, Checker::observe --> Report
//! ```
//!
//! Checkpoints (`--checkpoint`) are parsed and their signatures verified before the first record
//! is read; [`Anchors`] then holds the records' Merkle tree and the AAT batch epochs against them.
//! An `--anchor` certificate is authenticated before its chain heads are trusted.
//!
//! The profile is forced (`--profile`) or detected from the first record that parses; the AAT
//! profile runs [`crate::profile::aat`] and [`crate::chain`], the others the declarative
//! [`crate::profile::engine`] and [`crate::profile::links`].
//!
//! Memory is bounded by the batch size and the number of chains (itself bounded: `--max-chains`),
//! never by the file size; a JSON bundle object adds its members beside its records (and its
//! bytes, when read from standard input: see [`crate::ingest::json`]).

use rayon::prelude::*;

use crate::canon::json::{self, Limits};
use crate::chain::{FindingSink, Policy};
use crate::checkpoint::{self, anchor::Anchors};
use crate::config::VerifyConfig;
use crate::error::Error;
use crate::finding::{Code, Finding, Location, QUOTE_LIMIT, make_quote};
use crate::ingest::{self, IngestError, InputFormat, MAX_LINE_BYTES, Unit};
use crate::keys::KeyRing;
use crate::profile::{Checker, Profile, Runner};
use crate::report::{InputSummary, KeySummary, Report};
use crate::sig::SigContext;

/// Most worker threads: a larger `jobs` is taken as this many (each thread is started at once).
pub const MAX_JOBS: usize = 1024;
/// Units per batch handed to the workers.
const BATCH_UNITS: usize = 2048;
/// A batch ends early once its units hold this many bytes (large signed records).
const BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Most units one worker prepares without offering the rest to the others, so that a batch ends
/// on all workers at about the same time.
const PIECE_UNITS: usize = 8;

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
    let forced = match &config.profile {
        Some(p) => Some(Profile::resolve(p)?.ok_or_else(|| Error::UnknownProfile(p.clone()))?),
        None => None,
    };
    let builtins = Profile::builtins()?;
    let mut hmac = match &config.hmac_key_file {
        Some(path) => Some(read_secret(path)?),
        None => None,
    };
    let provider = crate::crypto::provider_by_name(&config.provider)
        .ok_or_else(|| Error::Provider(config.provider.clone()))?;
    let ring = if config.keys.is_empty() {
        KeyRing::from_keys(Vec::new())
    } else {
        KeyRing::load(&config.keys)?
    };
    let ctx = SigContext::new(&ring, provider).map_err(Error::KeyPrepare)?;
    let note_keys = checkpoint::load_note_keys(&config.checkpoint_keys)?;
    let mut checked = Vec::with_capacity(config.checkpoints.len());
    for path in &config.checkpoints {
        let cp = checkpoint::load(path)?;
        checked.push(checkpoint::verify(cp, &ring, &note_keys, provider));
    }
    let mut anchors = Anchors::new(checked);
    let prepare_opts = crate::profile::aat::PrepareOptions {
        leaf_hashes: anchors.needs_leaves() || config.merkle_state,
        since: config.since,
        until: config.until,
    };
    let cert_anchors = match &config.anchor {
        Some(anchor) => {
            let anchor_ring = if config.anchor_keys.is_empty() {
                KeyRing::load(&config.keys)?
            } else {
                KeyRing::load(&config.anchor_keys)?
            };
            let certified = crate::cert::read_certificate(anchor, &anchor_ring, provider)?;
            Some(crate::cert::anchors_of(
                &certified,
                &anchor.display().to_string(),
            ))
        }
        None => None,
    };
    let policy = Policy {
        require_signatures: config.require_signatures,
        require_complete: config.require_complete,
        keys_supplied: ctx.has_keys(),
        max_chains: config.max_chains,
    };
    // The order-dependent checks of a runner, told which inputs so far were read lossily.
    let make_checker = |r: &Runner, lossy: &[usize]| {
        let mut c = r.checker(policy);
        if let Some(a) = &cert_anchors {
            c.set_cert_anchors(a.clone());
        }
        for s in lossy {
            c.set_lossy(*s);
        }
        c
    };
    let mut runner: Option<Runner> =
        forced.map(|p| Runner::new(p, &ctx, hmac.take(), prepare_opts));
    let mut checker: Option<Checker> = runner.as_ref().map(|r| make_checker(r, &[]));
    let mut lossy_sources = Vec::new();
    let mut sink = FindingSink::new(config.max_stored_per_code);
    for note in ring.warnings() {
        sink.push(Finding::new(Code::KeyNote, note.clone()));
    }
    let mut inputs = Vec::new();
    let mut first_failure: Option<(usize, u64, String)> = None;
    // The container each input was read as, for the error when nothing in it was a record.
    let mut formats = Vec::new();

    let sources = ingest::expand(&config.inputs)?;
    // Until a record parses, lines are unparseable whatever the profile: the AAT engine reports them.
    let fallback = Runner::new(
        builtins
            .iter()
            .find(|p| p.is_aat())
            .cloned()
            .ok_or_else(|| Error::UnknownProfile("aat".into()))?,
        &ctx,
        None,
        prepare_opts,
    );
    // The workers are joined before this returns (a scoped pool): a library caller is left
    // no thread behind.
    let threads = config.jobs.unwrap_or(0).min(MAX_JOBS);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_scoped(rayon::ThreadBuilder::run, |pool| {
            // Bundle-level checks run on a thread of this scope beside the records (see below).
            std::thread::scope(|scope| -> Result<(), Error> {
                for (index, source) in sources.iter().enumerate() {
                    let ingest::Opened {
                        digest,
                        format,
                        gzip,
                        lossy,
                        bundle,
                        units,
                    } = ingest::open(source, config.input_format)?;
                    formats.push(format);
                    let summary = InputSummary {
                        file: source.name.clone(),
                        format: format.as_str().into(),
                        gzip,
                        ..InputSummary::default()
                    };
                    if let Some(what) = lossy {
                        lossy_sources.push(index);
                        if let Some(c) = checker.as_mut() {
                            c.set_lossy(index);
                        }
                        sink.push(Finding::new(Code::ContainerLossy, what).at(loc(index, 1, 0)));
                    }
                    let mut reader = BatchReader {
                        index,
                        source,
                        units,
                        summary,
                        first_problem: None,
                    };
                    let mut current = reader.next_batch()?;
                    if runner.is_none() {
                        if let Some(p) =
                            detect(&current.units, source, &builtins, &mut first_failure)?
                        {
                            let r = Runner::new(p, &ctx, hmac.take(), prepare_opts);
                            checker = Some(make_checker(&r, &lossy_sources));
                            runner = Some(r);
                        }
                    }
                    // The bundle-level checks (a bundle object's members read, its records read again, its
                    // signed projection canonicalized receipt by receipt into its digest and its signature
                    // check) need only the profile:
                    // they run on their own thread while the records are checked, and their findings follow
                    // the records' as before.
                    let (bundle_job, bundle_late) = match (bundle, runner.as_ref()) {
                        (Some(bundle), Some(r)) => {
                            let r = Runner::new(r.profile().clone(), &ctx, None, prepare_opts);
                            let at = loc(index, 1, 0);
                            let job = scope.spawn(move || {
                                let mut out = Vec::new();
                                r.check_bundle(&bundle, &at, &mut out);
                                out
                            });
                            (Some(job), None)
                        }
                        (bundle, _) => (None, bundle),
                    };
                    // Two stages overlap: the workers prepare batch k while one of them feeds batch k-1 to
                    // the order-dependent checks and then reads batch k+1. Batches stay in file order; the
                    // profile is decided on a batch before that batch is prepared.
                    let mut ready: Option<(Batch, Vec<Option<crate::profile::Prepared>>)> = None;
                    loop {
                        let units = std::mem::take(&mut current.units);
                        let eof = current.eof;
                        let active = runner.as_ref().unwrap_or(&fallback);
                        let undetected = runner.is_none();
                        let (prepared, next) = pool.install(|| {
                            rayon::join(
                                || {
                                    units
                                        .into_par_iter()
                                        .with_max_len(PIECE_UNITS)
                                        .map(|(at, bytes, context)| {
                                            (at.record != u64::MAX)
                                                .then(|| active.prepare(at, bytes, context))
                                        })
                                        .collect::<Vec<_>>()
                                },
                                || -> Result<Option<(Batch, Option<Profile>)>, Error> {
                                    if let Some((batch, prepared)) = ready.take() {
                                        feed(
                                            active,
                                            checker.as_mut(),
                                            policy,
                                            &mut anchors,
                                            &mut sink,
                                            batch,
                                            prepared,
                                        );
                                    }
                                    if eof {
                                        return Ok(None);
                                    }
                                    let next = reader.next_batch()?;
                                    let found = if undetected {
                                        detect(&next.units, source, &builtins, &mut first_failure)?
                                    } else {
                                        None
                                    };
                                    progress.records(&source.name, reader.summary.records);
                                    progress.advance(&source.name, reader.summary.bytes);
                                    Ok(Some((next, found)))
                                },
                            )
                        });
                        ready = Some((current, prepared));
                        match next? {
                            Some((next, found)) => {
                                if let Some(p) = found {
                                    let r = Runner::new(p, &ctx, hmac.take(), prepare_opts);
                                    checker = Some(make_checker(&r, &lossy_sources));
                                    runner = Some(r);
                                }
                                current = next;
                            }
                            None => break,
                        }
                    }
                    if let Some((batch, prepared)) = ready.take() {
                        let active = runner.as_ref().unwrap_or(&fallback);
                        feed(
                            active,
                            checker.as_mut(),
                            policy,
                            &mut anchors,
                            &mut sink,
                            batch,
                            prepared,
                        );
                    }
                    progress.records(&source.name, reader.summary.records);
                    progress.advance(&source.name, reader.summary.bytes);
                    if first_failure.is_none() {
                        first_failure = reader.first_problem.take();
                    }
                    let BatchReader {
                        units, mut summary, ..
                    } = reader;
                    drop(units);
                    let mut bundle_findings = match bundle_job {
                        Some(job) => job
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                        None => Vec::new(),
                    };
                    if let (Some(bundle), Some(r)) = (bundle_late, &runner) {
                        r.check_bundle(&bundle, &loc(index, 1, 0), &mut bundle_findings);
                    }
                    for f in bundle_findings {
                        match checker.as_mut() {
                            Some(c) => c.push(f, &mut sink),
                            None => sink.push(f),
                        }
                    }
                    let digest =
                        ingest::input_sha256(source, &digest).map_err(|e| IngestError::Io {
                            name: source.name.clone(),
                            source: e,
                        })?;
                    summary.sha256 = hex::encode(digest);
                    anchors.end_source(index, summary.records);
                    inputs.push(summary);
                }
                Ok(())
            })
        })
        .map_err(|e| Error::Threads(e.to_string()))??;

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

    let (Some(runner), Some(checker)) = (runner, checker) else {
        let (src, line, detail) = first_failure.unwrap_or((0, 1, "no JSON value".into()));
        let (what, help) = not_an_export(formats.get(src).copied());
        return Err(Error::NotAnExport {
            name: sources.get(src).map_or_else(names, |s| s.name.clone()),
            what,
            line,
            detail,
            help,
        });
    };

    let mut checker = checker;
    let mut anchor_findings = Vec::new();
    let anchored = anchors.finish(&mut anchor_findings);
    for f in anchor_findings {
        checker.push(f, &mut sink);
    }
    checker.set_export_tail(anchored.export_tail.clone());
    let (mut chain_summaries, untracked) = checker.finish(&mut sink);
    // A spot check whose window holds no signed record at all has checked no signature: nothing
    // about authenticity was established, so it is required and the verdict inconclusive.
    if (config.since.is_some() || config.until.is_some())
        && chain_summaries.iter().all(|c| c.signed == 0)
    {
        for c in &mut chain_summaries {
            c.authenticity_required = true;
        }
    }
    let mut findings = sink.stored;
    findings.sort_by(|a, b| (&a.at, a.code).cmp(&(&b.at, b.code)));
    Ok(Report {
        profile: runner.profile().name().to_string(),
        provider: ctx.provider().into(),
        require_signatures: config.require_signatures,
        require_complete: config.require_complete,
        inputs,
        keys: key_summaries(ctx.keys()),
        chains: chain_summaries,
        checkpoints: anchored.checkpoints,
        epochs: anchored.epochs,
        findings,
        counts: sink.counts,
        untracked,
    })
}

/// A record unit: where it is, its bytes and the container's context. A hole (a unit the
/// container could not deliver) has `record == u64::MAX` and its finding waits in
/// [`Batch::holes`].
type RecordUnit = (Location, Vec<u8>, Option<String>);

/// One batch of units and the findings about the input met while reading them.
struct Batch {
    units: Vec<RecordUnit>,
    holes: Vec<(Location, Finding)>,
    /// Findings about the input itself (blank and over-long lines, container notes), in order.
    notes: Vec<Finding>,
    /// The input ends with this batch.
    eof: bool,
}

/// Feeds one prepared batch to the order-dependent checks: first the findings about its input
/// lines, then its records (holes in place), then the anchor findings, as a sequential reader
/// would.
fn feed(
    runner: &Runner,
    checker: Option<&mut Checker>,
    policy: Policy,
    anchors: &mut Anchors,
    sink: &mut FindingSink,
    batch: Batch,
    prepared: Vec<Option<crate::profile::Prepared>>,
) {
    for f in batch.notes {
        sink.push(f);
    }
    let mut holes = batch.holes.into_iter().map(|(at, f)| runner.hole(at, f));
    let mut anchor_findings = Vec::new();
    // Before any record parsed there is no checker: the records carry only findings.
    let mut scratch;
    let checker = match checker {
        Some(c) => c,
        None => {
            scratch = Checker::Aat(crate::chain::Chains::new(policy));
            &mut scratch
        }
    };
    for p in prepared
        .into_iter()
        .filter_map(|p| p.or_else(|| holes.next()))
    {
        if let crate::profile::Prepared::Aat(a) = &p {
            anchors.observe(a, &mut anchor_findings);
        }
        checker.observe(p, sink);
    }
    for f in anchor_findings {
        checker.push(f, sink);
    }
}

/// Reads one input in batches of at most [`BATCH_UNITS`] units or about [`BATCH_BYTES`] bytes.
struct BatchReader<'a> {
    index: usize,
    source: &'a ingest::Source,
    units: Box<dyn ingest::Units>,
    summary: InputSummary,
    /// The first unit the container could not deliver: `(source, line, why)`.
    first_problem: Option<(usize, u64, String)>,
}

impl BatchReader<'_> {
    fn next_batch(&mut self) -> Result<Batch, Error> {
        let index = self.index;
        let summary = &mut self.summary;
        let mut batch = Batch {
            units: Vec::with_capacity(BATCH_UNITS),
            holes: Vec::new(),
            notes: Vec::new(),
            eof: true,
        };
        let mut bytes_in_batch = 0;
        for unit in self.units.by_ref() {
            let unit = unit.map_err(|e| IngestError::read(&self.source.name, e))?;
            match unit {
                Unit::Record {
                    line,
                    bytes,
                    context,
                } => {
                    summary.lines = summary.lines.max(line);
                    bytes_in_batch += bytes.len();
                    batch
                        .units
                        .push((loc(index, line, summary.records), bytes, context));
                    summary.records += 1;
                }
                Unit::Blank { line } => {
                    summary.lines = summary.lines.max(line);
                    batch
                        .notes
                        .push(Finding::new(Code::InputBlankLine, "blank line").at(loc(
                            index,
                            line,
                            summary.records,
                        )));
                }
                Unit::TooLong { line, len } => {
                    summary.lines = summary.lines.max(line);
                    batch.notes.push(
                        Finding::new(
                            Code::InputLineTooLong,
                            format!(
                                "a unit of {len} bytes exceeds the {MAX_LINE_BYTES}-byte limit"
                            ),
                        )
                        .at(loc(index, line, summary.records)),
                    );
                    summary.records += 1;
                }
                Unit::Problem {
                    line,
                    code,
                    message,
                    text,
                } => {
                    summary.lines = summary.lines.max(line);
                    // A container that yields nothing else (a broken bundle) says why here.
                    if self.first_problem.is_none() {
                        self.first_problem = Some((index, line, message.clone()));
                    }
                    let at = loc(index, line, summary.records);
                    let quote = (!text.is_empty()).then(|| make_quote(&text, None, QUOTE_LIMIT));
                    let mut f = Finding::new(code, message).at(at.clone());
                    f.quote = quote;
                    // The hole must reach the chain checks in order with the records around it.
                    batch.holes.push((at, f));
                    batch
                        .units
                        .push((loc(index, line, u64::MAX), Vec::new(), None));
                    summary.records += 1;
                }
                Unit::Note {
                    line,
                    code,
                    message,
                } => {
                    batch.notes.push(Finding::new(code, message).at(loc(
                        index,
                        line,
                        summary.records,
                    )));
                }
            }
            if batch.units.len() == BATCH_UNITS || bytes_in_batch >= BATCH_BYTES {
                batch.eof = false;
                break;
            }
        }
        summary.bytes = self.units.bytes_read();
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

/// Detects the profile from the first record that parses. Returns `Ok(None)` while no record
/// parsed yet.
fn detect(
    batch: &[(Location, Vec<u8>, Option<String>)],
    source: &ingest::Source,
    builtins: &[Profile],
    first_failure: &mut Option<(usize, u64, String)>,
) -> Result<Option<Profile>, Error> {
    for (at, bytes, _) in batch.iter().filter(|(at, ..)| at.record != u64::MAX) {
        match json::parse_python(bytes, &Limits::default()) {
            Ok(value) => {
                let found = crate::profile::candidates(builtins, &value);
                let names =
                    |ps: &[&Profile]| ps.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
                return match found.as_slice() {
                    [one] => Ok(Some((*one).clone())),
                    [] => Err(Error::Unrecognised {
                        name: source.name.clone(),
                        line: at.line,
                        candidates: names(&builtins.iter().collect::<Vec<_>>()),
                    }),
                    many => Err(Error::Ambiguous {
                        name: source.name.clone(),
                        line: at.line,
                        candidates: names(many),
                    }),
                };
            }
            Err(e) => {
                if first_failure.is_none() {
                    *first_failure = Some((at.source, at.line, e.to_string()));
                }
            }
        }
    }
    Ok(None)
}

/// Largest HMAC secret file read.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Reads an HMAC secret: the exact bytes of the file (no newline is stripped), bounded.
fn read_secret(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    use crate::bounded::{ReadError, read_file};
    let err = |source| Error::HmacKey {
        path: path.display().to_string(),
        source,
    };
    let bytes = match read_file(path, MAX_SECRET_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(e)) => return Err(err(e)),
        // Refused below with the empty file: both are outside 1..=MAX_SECRET_BYTES.
        Err(ReadError::TooLarge(_)) => Vec::new(),
    };
    if bytes.is_empty() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("an HMAC secret file holds 1 to {MAX_SECRET_BYTES} bytes"),
        )));
    }
    Ok(bytes)
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

/// What an input read as `format` should have been, and what such an input holds, for
/// [`Error::NotAnExport`].
fn not_an_export(format: Option<InputFormat>) -> (&'static str, &'static str) {
    match format {
        Some(InputFormat::Json) => (
            "a JSON export",
            "a JSON export is one array of record objects or one bundle object holding them; check that this is the right file",
        ),
        Some(InputFormat::Syslog) => (
            "a syslog export",
            "a syslog export holds one message per line (RFC 5424 or RFC 3164) or octet-counted frames (RFC 6587), each with a JSON record as its message; check that this is the right file",
        ),
        Some(InputFormat::Csv) => (
            "a CSV export",
            "a CSV export has a header row naming the record's members and one record per row; check that this is the right file",
        ),
        Some(InputFormat::Jsonl) | None => (
            "a JSON Lines export",
            "an export holds one JSON object per line; check that this is the right file",
        ),
    }
}
