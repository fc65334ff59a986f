//! JSONL record parsing and canonicalization: lines split with the line-length limit, each record
//! parsed, canonicalized, hashed and signature-checked exactly as a verify run does, under both
//! crypto providers, which must agree on every finding.
#![no_main]

use std::io::Cursor;

use audit_verify::finding::Location;
use audit_verify::ingest::{MAX_LINE_BYTES, Unit, jsonl::JsonlUnits};
use audit_verify::profile::aat::{self, PrepareOptions};
use audit_verify_fuzz::{check_canonical, sig_contexts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = PrepareOptions {
        leaf_hashes: true,
        ..PrepareOptions::default()
    };
    let mut last_line = 0;
    for (i, unit) in JsonlUnits::new(Cursor::new(data)).enumerate() {
        let unit = unit.expect("reading from memory cannot fail");
        let line = match &unit {
            Unit::Record { line, .. }
            | Unit::Blank { line }
            | Unit::TooLong { line, .. }
            | Unit::Problem { line, .. }
            | Unit::Note { line, .. } => *line,
        };
        assert!(line >= last_line, "line numbers go backwards");
        last_line = line;
        let Unit::Record {
            line,
            bytes,
            context,
        } = unit
        else {
            continue;
        };
        assert!(bytes.len() <= MAX_LINE_BYTES);
        check_canonical(&bytes);
        let at = Location {
            source: 0,
            line,
            record: i as u64,
        };
        let outcomes: Vec<_> = sig_contexts()
            .iter()
            .map(|ctx| {
                let p = aat::prepare_with(at.clone(), bytes.clone(), context.clone(), ctx, opts);
                let findings: Vec<(String, String)> = p
                    .findings
                    .iter()
                    .map(|f| (f.code.as_str().to_string(), f.message.clone()))
                    .collect();
                let facts = p.facts.map(|f| (f.sig, f.hash, f.leaf));
                (findings, facts)
            })
            .collect();
        assert!(
            outcomes.windows(2).all(|w| w[0] == w[1]),
            "providers disagree: {outcomes:?}"
        );
    }
});
