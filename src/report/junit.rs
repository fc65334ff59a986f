//! `--format junit`: the report as JUnit XML, one test case per chain, so CI systems show each
//! chain as a passed, failed or skipped test with its findings.
//!
//! A chain whose verdict is `failed` gets a `<failure>` listing its error findings; an
//! `inconclusive` chain is `<skipped>` with the guarantee that could not be established; findings
//! that concern no chain (unreadable lines, checkpoints) form one more test case, `input`, which is
//! `<skipped>` when records of chains beyond the limit on chains were not checked.

use super::{Report, Verdict};
use crate::finding::{Finding, Severity};

/// Escapes text for XML content and attributes, replacing characters XML 1.0 cannot carry.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn line(report: &Report, f: &Finding) -> String {
    let mut s = format!(
        "{} {}: {}",
        report.place(f.at.as_ref()),
        f.code.as_str(),
        f.message
    );
    if let (Some(e), Some(found)) = (&f.expected, &f.found) {
        s.push_str(&format!(" (expected {e}, found {found})"));
    }
    s
}

/// Renders the report as JUnit XML.
pub fn render_junit(report: &Report) -> String {
    let mut cases = Vec::new();
    let mut failures = 0;
    let mut skipped = 0;
    for c in &report.chains {
        let errors: Vec<String> = report
            .findings
            .iter()
            .filter(|f| {
                f.chain.as_deref() == Some(c.id.as_str()) && f.severity() == Severity::Error
            })
            .map(|f| line(report, f))
            .collect();
        let mut case = format!(
            "    <testcase classname=\"audit-verify.chain\" name=\"{}\" time=\"0\">\n",
            xml(&c.id)
        );
        match c.verdict() {
            Verdict::Failed => {
                failures += 1;
                let first = errors.first().cloned().unwrap_or_else(|| "failed".into());
                case.push_str(&format!(
                    "      <failure message=\"{}\" type=\"failed\">{}</failure>\n",
                    xml(&first),
                    xml(&errors.join("\n"))
                ));
            }
            Verdict::Inconclusive => {
                skipped += 1;
                let why: Vec<String> = [
                    ("integrity", &c.integrity),
                    ("authenticity", &c.authenticity),
                    ("head", &c.head),
                    ("tail", &c.tail),
                ]
                .iter()
                .filter(|(_, s)| s.as_str() == "not_established")
                .map(|(g, s)| format!("{g} not established: {}", s.detail()))
                .collect();
                case.push_str(&format!(
                    "      <skipped message=\"inconclusive: {}\"/>\n",
                    xml(&why.join("; "))
                ));
            }
            Verdict::Verified => {}
        }
        case.push_str(&format!(
            "      <system-out>{} records; integrity {}, authenticity {}, head {}, tail {}</system-out>\n    </testcase>\n",
            c.records,
            c.integrity.as_str(),
            c.authenticity.as_str(),
            c.head.as_str(),
            c.tail.as_str()
        ));
        cases.push(case);
    }
    let unchained: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.chain.is_none() && f.severity() == Severity::Error)
        .map(|f| line(report, f))
        .collect();
    let input_failed = report.verdict() == Verdict::Failed
        && report.chains.iter().all(|c| c.verdict() != Verdict::Failed)
        || !unchained.is_empty();
    let mut input =
        String::from("    <testcase classname=\"audit-verify.input\" name=\"input\" time=\"0\">\n");
    if input_failed {
        failures += 1;
        let first = unchained
            .first()
            .cloned()
            .unwrap_or_else(|| report.statement());
        input.push_str(&format!(
            "      <failure message=\"{}\" type=\"failed\">{}</failure>\n",
            xml(&first),
            xml(&unchained.join("\n"))
        ));
    } else if let Some(u) = report.untracked {
        // Chains past the limit on chains were not checked: the run is not verified.
        skipped += 1;
        input.push_str(&format!(
            "      <skipped message=\"inconclusive: {} record(s) of chains beyond the first {} not checked as chains (limit.chains)\"/>\n",
            u.records, u.max_chains
        ));
    }
    input.push_str(&format!(
        "      <system-out>{}</system-out>\n    </testcase>\n",
        xml(&report.statement())
    ));
    cases.push(input);
    let tests = cases.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"audit-verify\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n"
    ));
    out.push_str(&format!(
        "  <testsuite name=\"audit-verify {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n",
        xml(report.verdict().as_str())
    ));
    for c in cases {
        out.push_str(&c);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
