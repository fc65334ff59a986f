//! Profile files (`--profile FILE`, `docs/profiles.md`): TOML text, then `\n%%\n`, then a JSONL
//! export. The text is loaded as a profile (parsed with `deny_unknown_fields`, validated, its
//! known-answer tests run); when it loads, every line of the export is matched against it and run
//! through its per-record work and its chain checks. Oracles: loading is deterministic (the same
//! text loads again to the same declaration), a built-in name is never shadowed by a file, and
//! nothing panics whatever the declaration says.
#![no_main]

use audit_verify::chain::{FindingSink, Policy};
use audit_verify::finding::Location;
use audit_verify::profile::{self, Profile, Runner, aat::PrepareOptions, engine};
use audit_verify_fuzz::sig_contexts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, export) = match data.windows(4).position(|w| w == b"\n%%\n") {
        Some(i) => (&data[..i], &data[i + 4..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(profile) = Profile::from_text(text, "fuzz.toml", false) else {
        return;
    };
    let again = Profile::from_text(text, "fuzz.toml", false).expect("a loaded profile loads again");
    assert_eq!(
        format!("{:?}", again.spec),
        format!("{:?}", profile.spec),
        "loading is deterministic"
    );
    let profiles = [profile.clone()];
    let runner = Runner::new(
        profile,
        &sig_contexts()[0],
        Some(b"fuzz-hmac-secret".to_vec()),
        PrepareOptions::default(),
    );
    let mut checker = runner.checker(Policy::default());
    let mut sink = FindingSink::new(8);
    for (i, line) in export.split(|b| *b == b'\n').enumerate().take(64) {
        if line.is_empty() {
            continue;
        }
        if let Ok(value) = engine::parse(&runner.profile().spec, line) {
            let _ = profile::candidates(&profiles, &value);
        }
        let at = Location {
            source: 0,
            line: i as u64 + 1,
            record: i as u64,
        };
        checker.observe(runner.prepare(at, line.to_vec(), None), &mut sink);
    }
    let _ = checker.finish(&mut sink);
});
