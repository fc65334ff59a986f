//! The JSON array splitter and bundle reader: on any input it yields bounded units; on an array
//! (or a bundle object) that our strict parser accepts, the units are exactly its elements. A
//! bundle that parses held in memory reads the same from a file (its first pass, then its record
//! array read again), with the same members and elements.
#![no_main]

use std::io::Cursor;

use audit_verify::canon::json::{Limits, Value, parse};
use audit_verify::ingest::json::Slot;
use audit_verify::ingest::reread::Reread;
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
    if let Some(held) = &_bundle {
        same_from_a_file(data, &units, held);
    }
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

/// The same bytes as a file: the same units, members and elements as the bundle held in memory.
fn same_from_a_file(data: &[u8], held_units: &[Unit], held: &json::Bundle) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bundle.json");
    std::fs::write(&path, data).expect("write");
    let (units, bundle) = json::open(
        Box::new(Cursor::new(data.to_vec())),
        "fuzz",
        Some(data.len() as u64),
        Some(Reread::new(path, false)),
    )
    .expect("a bundle that parses held reads from its file");
    let units: Vec<Unit> = units.map(|u| u.expect("the file is unchanged")).collect();
    assert_eq!(units, held_units, "units from the file");
    let bundle = bundle.expect("a bundle from the file");
    // The same members; an object in a record member is built from the file, unbuilt held.
    let built = bundle.top().as_object().expect("an object");
    for m in built {
        let want = match held.member(&m.key) {
            Some(Slot::Built(v)) => v.clone(),
            Some(Slot::Unbuilt(u)) => u.build().expect("held object builds"),
            None => panic!("{:?} only in the file's bundle", m.key),
        };
        assert!(
            same_value(&m.value, &want),
            "member {:?} from the file",
            m.key
        );
    }
    let held_count = held.top().as_object().map_or(0, <[_]>::len)
        + json::RECORD_MEMBERS
            .iter()
            .filter(|n| matches!(held.member(n), Some(Slot::Unbuilt(_))))
            .count();
    let file_count = built.len()
        + json::RECORD_MEMBERS
            .iter()
            .filter(|n| matches!(bundle.member(n), Some(Slot::Unbuilt(_))))
            .count();
    assert_eq!(file_count, held_count, "member count");
    for name in json::RECORD_MEMBERS {
        let (Some(Slot::Unbuilt(f)), Some(Slot::Unbuilt(h))) =
            (bundle.member(name), held.member(name))
        else {
            continue;
        };
        assert_eq!(f.len(), h.len(), "{name}: length");
        let from_file: Vec<Value> = f
            .elements()
            .map(|e| e.expect("element from the file"))
            .collect();
        let from_memory: Vec<Value> = h.elements().map(|e| e.expect("element held")).collect();
        assert_eq!(from_file.len(), from_memory.len(), "{name}: elements");
        for (a, b) in from_file.iter().zip(&from_memory) {
            assert!(same_value(a, b), "{name}: element differs");
        }
    }
}
