//! `--format github`: GitHub Actions workflow commands, so that each finding appears as an
//! annotation on the export file at its line (`::error file=…,line=…,title=…::message`).
//!
//! Errors become `::error`, warnings `::warning`, notes `::notice`; the last line is a notice with
//! the verdict and the one-sentence statement. Values are escaped as the workflow-command syntax
//! requires (`%`, CR and LF in messages; also `:` and `,` in properties).

use super::Report;
use crate::finding::Severity;

fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders the report as workflow commands.
pub fn render_github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let level = match f.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(at) = &f.at {
            if let Some(input) = report.inputs.get(at.source) {
                props.push(format!("file={}", property(&input.file)));
                props.push(format!("line={}", at.line));
            }
        }
        props.push(format!("title={}", property(f.code.as_str())));
        let mut message = f.message.clone();
        if let (Some(e), Some(found)) = (&f.expected, &f.found) {
            message.push_str(&format!(" (expected {e}, found {found})"));
        }
        if let Some(chain) = &f.chain {
            message.push_str(&format!(" [chain {chain}]"));
        }
        out.push_str(&format!(
            "::{level} {}::{}\n",
            props.join(","),
            data(&message)
        ));
    }
    out.push_str(&format!(
        "::notice title={}::{}\n",
        property(&format!("audit-verify {}", report.verdict().as_str())),
        data(&report.statement())
    ));
    out
}
