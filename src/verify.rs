//! The verify pipeline: read lines in batches, do the per-record work (parse, canonicalize, hash,
//! verify signatures) in parallel, then feed the records in order to the chain checks.
//!
//! ```text
//! lines --batch--> rayon: aat::prepare --in order--> Anchors::observe, Chains::observe --> Report
//! ```
//!
//! Checkpoints (`--checkpoint`) are parsed and their signatures verified before the first record
//! is read; [`Anchors`] then holds the records' Merkle tree and the AAT batch epochs against them.
//!
//! Memory is bounded by the batch size (units and bytes) and the number of chains, never by the
//! file size.

use rayon::prelude::*;

use crate::canon::json::{self, Limits};
use crate::chain::{Chains, FindingSink, Policy};
use crate::checkpoint::{self, anchor::Anchors};
use crate::config::VerifyConfig;
use crate::error::Error;
use crate::finding::{Code, Finding, Location, QUOTE_LIMIT, make_quote};
use crate::ingest::{self, IngestError, MAX_LINE_BYTES, Unit};
use crate::keys::KeyRing;
use crate::profile::aat;
use crate::report::{InputSummary, KeySummary, Report};
use crate::sig::SigContext;

/// Units per batch handed to the workers.
const BATCH_UNITS: usize = 2048;
/// Record bytes per batch: with units of up to 4 MiB, 2,048 of them would hold 8 GiB.
const BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Progress observer; the binary shows a bar, tests pass [`NoProgress`].
pub trait Progress: Sync {
    /// Called after each batch with the bytes read so far in the current input.
    fn advance(&self, input: &str, bytes: u64);
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
    let note_keys = checkpoint::load_note_keys(&config.checkpoint_keys)?;
    let mut checked = Vec::with_capacity(config.checkpoints.len());
    for path in &config.checkpoints {
        let cp = checkpoint::load(path)?;
        checked.push(checkpoint::verify(cp, &ring, &note_keys, provider));
    }
    let mut anchors = Anchors::new(checked);
    let prepare_opts = aat::PrepareOptions {
        leaf_hashes: anchors.needs_leaves() || config.merkle_state,
        since: config.since,
        until: config.until,
    };
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
    if let Some(anchor) = &config.anchor {
        let anchor_ring = if config.anchor_keys.is_empty() {
            KeyRing::load(&config.keys)?
        } else {
            KeyRing::load(&config.anchor_keys)?
        };
        let certified = crate::cert::read_certificate(anchor, &anchor_ring, provider)?;
        chains.set_cert_anchors(crate::cert::anchors_of(
            &certified,
            &anchor.display().to_string(),
        ));
    }
    let mut sink = FindingSink::new(config.max_stored_per_code);
    for note in ring.warnings() {
        sink.push(Finding::new(Code::KeyNote, note.clone()));
    }
    let mut inputs = Vec::new();
    let mut detected = config.profile.is_some();
    let mut first_failure: Option<(usize, u64, String)> = None;

    let sources = ingest::expand(&config.inputs)?;
    for (index, source) in sources.iter().enumerate() {
        let ingest::Opened {
            digest,
            format,
            gzip,
            lossy,
            mut units,
        } = ingest::open(source, config.input_format)?;
        let mut summary = InputSummary {
            file: source.name.clone(),
            format: format.as_str().into(),
            gzip,
            ..InputSummary::default()
        };
        if let Some(what) = lossy {
            chains.set_lossy(index);
            sink.push(Finding::new(Code::ContainerLossy, what).at(loc(index, 1, 0)));
        }
        loop {
            let mut batch: Vec<(Location, Vec<u8>, Option<String>)> =
                Vec::with_capacity(BATCH_UNITS);
            let mut holes: Vec<aat::Prepared> = Vec::new();
            let mut eof = true;
            let mut batch_bytes = 0;
            for unit in units.by_ref() {
                let unit = unit.map_err(|e| IngestError::read(&source.name, e))?;
                match unit {
                    Unit::Record {
                        line,
                        bytes,
                        context,
                    } => {
                        summary.lines = summary.lines.max(line);
                        batch_bytes += bytes.len();
                        batch.push((loc(index, line, summary.records), bytes, context));
                        summary.records += 1;
                    }
                    Unit::Blank { line } => {
                        summary.lines = summary.lines.max(line);
                        sink.push(Finding::new(Code::InputBlankLine, "blank line").at(loc(
                            index,
                            line,
                            summary.records,
                        )));
                    }
                    Unit::TooLong { line, len } => {
                        summary.lines = summary.lines.max(line);
                        sink.push(
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
                        if first_failure.is_none() {
                            first_failure = Some((index, line, message.clone()));
                        }
                        let at = loc(index, line, summary.records);
                        let quote =
                            (!text.is_empty()).then(|| make_quote(&text, None, QUOTE_LIMIT));
                        let mut f = Finding::new(code, message).at(at.clone());
                        f.quote = quote;
                        // The hole must reach the chain checks in order with the records around it.
                        holes.push(aat::Prepared::unreadable(at, f));
                        batch.push((loc(index, line, u64::MAX), Vec::new(), None));
                        summary.records += 1;
                    }
                    Unit::Note {
                        line,
                        code,
                        message,
                    } => {
                        sink.push(Finding::new(code, message).at(loc(
                            index,
                            line,
                            summary.records,
                        )));
                    }
                }
                if batch.len() == BATCH_UNITS || batch_bytes >= BATCH_BYTES {
                    eof = false;
                    break;
                }
            }
            if !detected {
                detected = detect(&batch, source, &mut first_failure)?;
            }
            let prepared: Vec<Option<aat::Prepared>> = pool.install(|| {
                batch
                    .into_par_iter()
                    .map(|(at, bytes, context)| {
                        (at.record != u64::MAX)
                            .then(|| aat::prepare_with(at, bytes, context, &ctx, prepare_opts))
                    })
                    .collect()
            });
            let mut holes = holes.into_iter();
            let mut anchor_findings = Vec::new();
            for p in prepared
                .into_iter()
                .filter_map(|p| p.or_else(|| holes.next()))
            {
                anchors.observe(&p, &mut anchor_findings);
                chains.observe(p, &mut sink);
            }
            for f in anchor_findings {
                sink.push(f);
            }
            summary.bytes = units.bytes_read();
            progress.advance(&source.name, summary.bytes);
            if eof {
                break;
            }
        }
        drop(units);
        let digest = ingest::input_sha256(source, &digest).map_err(|e| IngestError::Io {
            name: source.name.clone(),
            source: e,
        })?;
        summary.sha256 = hex::encode(digest);
        anchors.end_source(index, summary.records);
        inputs.push(summary);
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

    let mut anchor_findings = Vec::new();
    let anchored = anchors.finish(&mut anchor_findings);
    for f in anchor_findings {
        sink.push(f);
    }
    chains.set_export_tail(anchored.export_tail.clone());
    let mut chain_summaries = chains.finish(&mut sink);
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
        profile: "aat".into(),
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
    })
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
    batch: &[(Location, Vec<u8>, Option<String>)],
    source: &ingest::Source,
    first_failure: &mut Option<(usize, u64, String)>,
) -> Result<bool, Error> {
    for (at, bytes, _) in batch.iter().filter(|(at, ..)| at.record != u64::MAX) {
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
