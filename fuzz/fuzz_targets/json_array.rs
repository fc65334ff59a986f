//! The JSON array splitter and bundle reader: on any input it yields bounded units; on an array
//! (or a bundle object) that our strict parser accepts, the units are exactly its elements.
#![no_main]

use std::io::Cursor;

use audit_verify::canon::json::{Limits, Value, parse};
use audit_verify::ingest::{MAX_LINE_BYTES, Unit, json};
use audit_verify_fuzz::same_value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((units, _bundle)) = json::open(Box::new(Cursor::new(data.to_vec())), "fuzz", None, None)
    else {
        return;
    };
    let units: Vec<Unit> = units
        .map(|u| u.expect("reading from memory cannot fail"))
        .collect();
    for u in &units {
        if let Unit::Record { bytes, .. } = u {
            assert!(bytes.len() <= MAX_LINE_BYTES);
        }
    }
    let limits = Limits::default();
    let Ok(whole) = parse(data, &limits) else {
        return;
    };
    let elements = match &whole {
        Value::Array(items) => items,
        Value::Object(_) => match json::RECORD_MEMBERS.iter().find_map(|m| whole.get(m)) {
            Some(Value::Array(items)) => items,
            _ => return,
        },
        _ => return,
    };
    assert_eq!(units.len(), elements.len(), "one unit per element");
    for (u, e) in units.iter().zip(elements) {
        let Unit::Record { bytes, .. } = u else {
            panic!("element became {u:?}");
        };
        let v = parse(bytes, &limits).expect("an element of a valid array parses");
        assert!(same_value(&v, e), "element differs");
    }
});
