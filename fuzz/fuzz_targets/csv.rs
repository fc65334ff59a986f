//! CSV mapping (AAT §10.3): header and rows to JSON records; every row is one unit at its line,
//! and the JSON built from string cells is always valid JSON.
#![no_main]

use std::io::Cursor;

use audit_verify::ingest::Unit;
use audit_verify::ingest::csv::CsvUnits;
use audit_verify_fuzz::check_canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut last = 0;
    for unit in CsvUnits::new(Cursor::new(data)) {
        let unit = unit.expect("reading from memory cannot fail");
        match &unit {
            Unit::Record { line, bytes, .. } => {
                assert!(*line >= last);
                last = *line;
                check_canonical(bytes);
            }
            Unit::Problem { line, .. } | Unit::Blank { line } => {
                assert!(*line >= 1);
            }
            Unit::TooLong { .. } | Unit::Note { .. } => {}
        }
    }
});
