//! The id ledger against a plain definition: arbitrary fingerprints and places, with runs of 1 to
//! 32 entries written to the temporary file and 0 to 15 runs allowed, so that every input
//! crosses the disk and the limit. The entries taken must be exactly those before the limit;
//! the repeats must be every entry but the earliest place of its fingerprint, each paired with
//! that earliest place; and the entries must come back sorted by fingerprint, then place, with
//! their digests intact.
#![no_main]

use std::collections::BTreeMap;

use audit_verify::idledger::{IdLedger, Ledger, Place, Refused, Repeat, Stamped};
use libfuzzer_sys::fuzz_target;

/// A fingerprint from two bytes: few distinct values, so ids repeat, with halves at the edges
/// of their range so that both halves order the entries.
fn fingerprint(a: u8, b: u8) -> u128 {
    let half = |x: u8| match x % 4 {
        0 => 0,
        1 => 1,
        2 => u64::MAX / 2 + 1,
        _ => u64::MAX,
    };
    u128::from(half(a)) << 64 | u128::from(half(b))
}

fuzz_target!(|data: &[u8]| {
    let [run, runs, rest @ ..] = data else {
        return;
    };
    let run_entries = usize::from(run % 32) + 1;
    let max_runs = usize::from(runs % 16);
    let entries: Vec<(u128, Place, [u8; 32])> = rest
        .chunks_exact(4)
        .enumerate()
        .map(|(i, c)| {
            let place = Place {
                source: u32::from(c[2] % 3),
                line: u64::from(c[3]) * 7 + i as u64,
                record: i as u64,
                chain: if c[3] & 1 == 0 {
                    u32::MAX
                } else {
                    u32::from(c[3])
                },
            };
            (fingerprint(c[0], c[1]), place, [c[0] ^ c[3]; 32])
        })
        .collect();

    let mut ids = IdLedger::with_limits(run_entries, max_runs);
    let mut stamped = Ledger::<Stamped>::with_limits(run_entries, max_runs);
    let mut taken = 0;
    for &(fp, place, digest) in &entries {
        let a = ids.insert(fp, place);
        let b = stamped.insert(fp, Stamped { place, digest });
        match (a, b) {
            (Ok(()), Ok(())) => taken += 1,
            // The temporary file is not writable here: nothing more to compare against.
            (Err(Refused::Io(_)), _) | (_, Err(Refused::Io(_))) => return,
            (Err(Refused::Full), Err(Refused::Full)) => {}
            (a, b) => panic!("the two ledgers disagree on taking an id: {a:?} {b:?}"),
        }
    }
    let limit = run_entries * (max_runs + 1);
    assert_eq!(
        taken,
        entries.len().min(limit),
        "taken up to the limit, none after"
    );
    assert_eq!(ids.len(), taken as u64);
    let held = &entries[..taken];

    // The plain definition: per fingerprint, the earliest place; every other entry (places are
    // unique: each has its own record index) repeats it, in order of fingerprint, then place.
    let mut earliest: BTreeMap<u128, Place> = BTreeMap::new();
    for &(fp, place, _) in held {
        earliest
            .entry(fp)
            .and_modify(|p| *p = (*p).min(place))
            .or_insert(place);
    }
    let mut sorted_held: Vec<_> = held.to_vec();
    sorted_held.sort_by_key(|&(fp, place, _)| (fp, place));
    let want: Vec<Repeat> = sorted_held
        .iter()
        .filter(|(fp, place, _)| *place != earliest[fp])
        .map(|&(fp, place, _)| Repeat {
            at: place,
            first: earliest[&fp],
        })
        .collect();
    let mut got = Vec::new();
    if ids.repeats(|r| got.push(r)).is_err() {
        return;
    }
    assert_eq!(got, want, "repeats as the plain definition");

    let mut back = Vec::new();
    if stamped
        .sorted(|fp, s| back.push((fp, s.place, s.digest)))
        .is_err()
    {
        return;
    }
    assert_eq!(back, sorted_held, "every entry back, in order, intact");
});
