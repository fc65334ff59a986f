//! The human report: a verdict line, a table of chains with their guarantees, and each finding as
//! a miette diagnostic quoting the offending line with a label on the field at fault.
//!
//! Output is plain and stable when colour is off (tests and pipes); repeated findings of one code
//! are shown up to a limit and then counted.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use comfy_table::{ContentArrangement, Table, presets};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::{CheckpointOutcome, Report, Status, TailAnchor, Verdict};
use crate::finding::{Code, Finding, Location, Severity};

/// How the human report looks.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    /// ANSI colours.
    pub color: bool,
    /// Width for wrapping diagnostics and the table.
    pub width: usize,
    /// Findings shown per code before the rest are only counted.
    pub max_per_code: usize,
}

impl Default for HumanStyle {
    fn default() -> Self {
        HumanStyle {
            color: false,
            width: 100,
            max_per_code: 10,
        }
    }
}

/// Renders the report as text.
pub fn render_human(report: &Report, style: HumanStyle) -> String {
    let mut out = String::new();
    let verdict = report.verdict();
    let word = match verdict {
        Verdict::Verified => "VERIFIED",
        Verdict::Failed => "FAILED",
        Verdict::Inconclusive => "INCONCLUSIVE",
    };
    let word = if style.color {
        let code = match verdict {
            Verdict::Verified => "32",
            Verdict::Failed => "31",
            Verdict::Inconclusive => "33",
        };
        format!("\x1b[1;{code}m{word}\x1b[0m")
    } else {
        word.to_string()
    };
    out.push_str(&format!(
        "{word} (exit {}): {} error(s), {} warning(s), {} note(s)\n",
        verdict.exit_code(),
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Info)
    ));
    out.push_str(&report.statement());
    out.push('\n');
    if report.inputs.len() > 1 || report.inputs.iter().any(|i| i.format != "jsonl" || i.gzip) {
        let list: Vec<String> = report
            .inputs
            .iter()
            .map(|i| {
                format!(
                    "{} ({}{})",
                    i.file,
                    i.format,
                    if i.gzip { ", gzip" } else { "" }
                )
            })
            .collect();
        out.push_str(&format!("Read, in this order: {}\n", list.join(", ")));
    }
    out.push('\n');
    out.push_str(&table(report, style));
    out.push_str(&anchors_table(report, style));
    out.push('\n');

    let handler = GraphicalReportHandler::new_themed(if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    })
    .with_width(style.width)
    .with_links(false);
    let mut shown: BTreeMap<Code, usize> = BTreeMap::new();
    let ordered = [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .flat_map(|sev| report.findings.iter().filter(move |f| f.severity() == sev));
    for f in ordered {
        let n = shown.entry(f.code).or_insert(0);
        *n += 1;
        if *n > style.max_per_code {
            continue;
        }
        let diag = FindingDiagnostic::new(report, f, style.width.saturating_sub(12).max(40));
        let mut s = String::new();
        if handler.render_report(&mut s, &diag).is_ok() {
            out.push('\n');
            out.push_str(s.trim_end());
            out.push('\n');
        }
    }
    let mut hidden: Vec<String> = Vec::new();
    for (code, total) in &report.counts {
        let seen = shown
            .get(code)
            .copied()
            .unwrap_or(0)
            .min(style.max_per_code) as u64;
        if *total > seen {
            hidden.push(format!("{} more {}", total - seen, code.as_str()));
        }
    }
    if !hidden.is_empty() {
        out.push_str(&format!(
            "\n… and {} (see --format json).\n",
            hidden.join(", ")
        ));
    }
    out
}

/// Above this many chains the report shows one compact row per chain instead of a table each.
const DETAILED_CHAINS: usize = 20;

fn table(report: &Report, style: HumanStyle) -> String {
    if report.chains.len() > DETAILED_CHAINS {
        return compact_table(report, style);
    }
    let mut out = String::new();
    for c in &report.chains {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(style.width as u16);
        t.set_header(vec![
            format!("chain {}", c.id),
            format!("verdict: {}", c.verdict().as_str()),
        ]);
        let records = if c.first.source == c.last.source {
            format!(
                "{} (lines {} to {} of {})",
                c.records,
                c.first.line,
                c.last.line,
                report
                    .inputs
                    .get(c.first.source)
                    .map_or("?", |i| i.file.as_str())
            )
        } else {
            format!(
                "{} ({} to {})",
                c.records,
                report.place(Some(&c.first)),
                report.place(Some(&c.last))
            )
        };
        t.add_row(vec!["records".to_string(), records]);
        if let (Some(a), Some(b)) = (c.first_seq, c.last_seq) {
            t.add_row(vec!["sequence".to_string(), format!("{a} to {b}")]);
        }
        if let (Some(a), Some(b)) = (&c.first_time, &c.last_time) {
            t.add_row(vec!["time".to_string(), format!("{a} to {b}")]);
        }
        let signers = if c.signers.is_empty() {
            "–".to_string()
        } else {
            c.signers.join("\n")
        };
        t.add_row(vec!["signed by".to_string(), signers]);
        t.add_row(vec!["integrity".to_string(), mark(&c.integrity, true)]);
        t.add_row(vec![
            "authenticity".to_string(),
            mark(&c.authenticity, c.authenticity_required),
        ]);
        t.add_row(vec![
            "head".to_string(),
            mark(&c.head, c.completeness_required),
        ]);
        t.add_row(vec![
            "tail".to_string(),
            mark(&c.tail, c.completeness_required),
        ]);
        let anchors: Vec<String> = c
            .tail_anchors
            .iter()
            .map(|a| match a {
                TailAnchor::CloseRecord(at) => {
                    format!("close record ({})", report.place(Some(at)))
                }
                TailAnchor::Checkpoint { source, size } => {
                    format!("checkpoint {source} (size {size})")
                }
            })
            .collect();
        t.add_row(vec![
            "tail anchored by".to_string(),
            if anchors.is_empty() {
                "nothing".to_string()
            } else {
                anchors.join("\n")
            },
        ]);
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out
}

/// Rows per compact table: past this many chains the rows are shown in several tables of this
/// size, each laid out on its own, so the layout never holds every chain's cells at once.
const ROWS_PER_TABLE: usize = 1000;

fn compact_table(report: &Report, style: HumanStyle) -> String {
    let mut out = String::new();
    for block in report.chains.chunks(ROWS_PER_TABLE) {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(style.width as u16)
            .set_header(vec![
                "chain",
                "records",
                "verdict",
                "integrity",
                "authenticity",
                "head",
                "tail",
            ]);
        for c in block {
            t.add_row(vec![
                short_id(&c.id),
                c.records.to_string(),
                c.verdict().as_str().to_string(),
                c.integrity.as_str().to_string(),
                c.authenticity.as_str().to_string(),
                c.head.as_str().to_string(),
                c.tail.as_str().to_string(),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out
}

/// Checkpoints and batch epochs, when there are any.
fn anchors_table(report: &Report, style: HumanStyle) -> String {
    if report.checkpoints.is_empty() && report.epochs.is_empty() {
        return String::new();
    }
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width as u16)
        .set_header(vec!["anchor", "size", "signature", "outcome"]);
    for c in &report.checkpoints {
        let outcome = match &c.outcome {
            CheckpointOutcome::NotTrusted => "not trusted: not compared".to_string(),
            CheckpointOutcome::AnchorsExport => "anchors the whole export (tail)".to_string(),
            CheckpointOutcome::AnchorsPrefix { uncovered } => {
                format!(
                    "anchors the first {} records; {uncovered} after them not covered",
                    c.size
                )
            }
            CheckpointOutcome::AnchorsEpoch => format!("anchors epoch {}", c.epochs.join(", ")),
            CheckpointOutcome::Truncated { missing } => {
                format!("FAILED: truncated, {missing} record(s) missing")
            }
            CheckpointOutcome::RootMismatch => "FAILED: root not reproduced".to_string(),
            CheckpointOutcome::Unverifiable => "root cannot be recomputed".to_string(),
        };
        let signature = if c.signers.is_empty() {
            c.signature.to_string()
        } else {
            format!("{}: {}", c.signature, c.signers.join("; "))
        };
        t.add_row(vec![
            format!("checkpoint {}", c.source),
            c.size.to_string(),
            signature,
            outcome,
        ]);
    }
    for e in &report.epochs {
        let outcome = match (&e.anchored_by, e.status) {
            (Some(by), _) => format!("anchored by checkpoint {by}"),
            (None, super::EpochStatus::Consistent) => {
                "consistent, unanchored: proves nothing by itself".to_string()
            }
            (None, s) => s.as_str().to_string(),
        };
        t.add_row(vec![
            format!("batch epoch {}", short_id(&e.id)),
            e.tree_size.unwrap_or(e.records).to_string(),
            "unsigned (batch)".to_string(),
            outcome,
        ]);
    }
    let mut out = t.to_string();
    out.push('\n');
    out
}

fn short_id(id: &str) -> String {
    if id.chars().count() > 40 {
        format!("{}…", id.chars().take(39).collect::<String>())
    } else {
        id.to_string()
    }
}

fn mark(s: &Status, required: bool) -> String {
    match s {
        Status::Established(how) => format!("established: {how}"),
        Status::Failed => "FAILED: contradicted by the findings below".into(),
        Status::NotEstablished(why) if required => format!("NOT ESTABLISHED (required): {why}"),
        Status::NotEstablished(why) => format!("not established (not required): {why}"),
    }
}

/// A finding presented as a miette diagnostic.
struct FindingDiagnostic {
    message: String,
    code: &'static str,
    severity: miette::Severity,
    help: String,
    source: Option<LineSource>,
    label: Option<LabeledSpan>,
}

impl FindingDiagnostic {
    fn new(report: &Report, f: &Finding, quote_width: usize) -> Self {
        let place = report.place(f.at.as_ref());
        let mut help = f.code.help().to_string();
        if let (Some(e), Some(found)) = (&f.expected, &f.found) {
            help = format!("expected {e}, found {found}\n{help}");
        }
        if let Some(r) = &f.related {
            help.push_str(&format!("\nsee also {}", report.place(Some(r))));
        }
        if let Some(c) = &f.context {
            help.push_str(&format!("\nfrom {c}"));
        }
        let (source, label) = match &f.quote {
            Some(q) => {
                let text = match &f.field {
                    Some(field) => field.clone(),
                    None => "here".into(),
                };
                let (shown, span, column0) = cut_around(&q.text, q.span.clone(), quote_width);
                let label = LabeledSpan::new(Some(text), span.start, span.len());
                let source = LineSource {
                    name: report
                        .place(
                            f.at.as_ref()
                                .map(|a| Location {
                                    line: 0,
                                    ..a.clone()
                                })
                                .as_ref(),
                        )
                        .trim_end_matches(":0")
                        .to_string(),
                    text: shown,
                    line0: f
                        .at
                        .as_ref()
                        .map_or(0, |a| a.line.saturating_sub(1) as usize),
                    column0,
                };
                (Some(source), Some(label))
            }
            None => (None, None),
        };
        let message = match &f.chain {
            Some(chain) if f.quote.is_none() => {
                format!("{place}: {} [chain {}]", f.message, short_id(chain))
            }
            _ => format!("{place}: {}", f.message),
        };
        FindingDiagnostic {
            message,
            code: f.code.as_str(),
            severity: match f.severity() {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            },
            help,
            source,
            label,
        }
    }
}

/// One quoted line shown at its real line and column in the input.
struct LineSource {
    name: String,
    text: String,
    /// 0-based line of the quote in the input.
    line0: usize,
    /// Characters of the line cut away before the quote (less the `…` marker).
    column0: usize,
}

impl SourceCode for LineSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.line0,
            inner.column() + self.column0,
            inner.line_count(),
        )))
    }
}

/// Cuts a quoted line to about `width` characters around `span`, marking cuts with `…`.
/// Returns the text, the span within it, and the number of characters cut before it.
fn cut_around(
    text: &str,
    span: Option<Range<usize>>,
    width: usize,
) -> (String, Range<usize>, usize) {
    let span = span.unwrap_or(0..0);
    if text.chars().count() <= width {
        return (text.to_string(), span, 0);
    }
    // Work in bytes on char boundaries; the quote is already free of control characters.
    let label_len = (span.end - span.start).min(width / 2);
    let before = (width.saturating_sub(label_len)) / 3;
    let mut start = span.start.saturating_sub(before);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let end = text[start..]
        .char_indices()
        .nth(width)
        .map_or(text.len(), |(i, _)| start + i);
    let prefix = if start > 0 { "…" } else { "" };
    let suffix = if end < text.len() { "…" } else { "" };
    let shown = format!("{prefix}{}{suffix}", &text[start..end]);
    let a = span.start.clamp(start, end) - start + prefix.len();
    let b = span.end.min(span.start + label_len).clamp(start, end) - start + prefix.len();
    let column0 = text[..start]
        .chars()
        .count()
        .saturating_sub(usize::from(start > 0));
    (shown, a..b, column0)
}

impl fmt::Debug for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}
