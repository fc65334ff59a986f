//! RFC 8785 canonicalization (the one canonicalization dialect of the crate): the strict parser
//! and the JCS writer, with oracles: the parser agrees with serde_json on what is JSON, JCS is
//! idempotent and its output parses, and canonicalizing an object while excluding members equals
//! canonicalizing the object without them.
#![no_main]

use audit_verify::canon::jcs::write_jcs_object_excluding;
use audit_verify::canon::json::{Limits, Value, parse};
use audit_verify_fuzz::{canon, check_canonical, check_parser_agrees_with_serde};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_parser_agrees_with_serde(data);
    check_canonical(data);
    let Ok(value) = parse(data, &Limits::default()) else {
        return;
    };
    let Some(members) = value.as_object() else {
        return;
    };
    // Exclude the first and the last member names (what `batch`/`signature` exclusion does).
    let mut exclude: Vec<&str> = Vec::new();
    if let Some(m) = members.first() {
        exclude.push(&m.key);
    }
    if let Some(m) = members.last() {
        exclude.push(&m.key);
    }
    let mut excluded = Vec::new();
    let direct = write_jcs_object_excluding(members, &exclude, &mut excluded);
    let kept: Vec<_> = members
        .iter()
        .filter(|m| !exclude.contains(&m.key.as_str()))
        .cloned()
        .collect();
    let filtered = canon(&Value::Object(kept));
    match (direct, filtered) {
        (Ok(()), Ok(f)) => assert_eq!(excluded, f, "exclusion differs from filtering"),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("exclusion {a:?} vs filtering {:?}", b.map(|_| ())),
    }
});
