//! The syslog tokenizer: one message (RFC 5424, RFC 3164) and whole inputs in both framings
//! (one message per line, RFC 6587 octet counting). Units stay bounded and in line order.
#![no_main]

use std::io::Cursor;

use audit_verify::ingest::syslog::{SyslogUnits, parse_message};
use audit_verify::ingest::{MAX_LINE_BYTES, Unit};
use audit_verify_fuzz::check_canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_message(data) {
        assert!(m.record.len() <= data.len());
        check_canonical(&m.record);
    }
    let mut last = 0;
    for unit in SyslogUnits::new(Cursor::new(data)) {
        let unit = unit.expect("reading from memory cannot fail");
        let line = match &unit {
            Unit::Record { line, bytes, .. } => {
                assert!(bytes.len() <= MAX_LINE_BYTES);
                *line
            }
            Unit::Problem { line, text, .. } => {
                assert!(text.len() <= MAX_LINE_BYTES);
                *line
            }
            Unit::Blank { line } | Unit::TooLong { line, .. } | Unit::Note { line, .. } => *line,
        };
        assert!(line >= 1 && line >= last, "line {line} after {last}");
        last = line;
    }
});
