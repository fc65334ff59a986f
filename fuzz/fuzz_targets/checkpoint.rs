//! Checkpoints: C2SP signed notes and JSON checkpoints parsed from memory, their signatures
//! checked by both providers (which must agree), each line also tried as a vkey; a checkpoint
//! that parses is then held against a fixed genuine export in a whole verify run, so hostile
//! sizes, roots and consistency proofs reach the anchor logic.
#![no_main]

use std::path::Path;

use audit_verify::checkpoint::{self, note};
use audit_verify::config::VerifyConfig;
use audit_verify::report::human::{HumanStyle, render_human};
use audit_verify::report::json::render_json;
use audit_verify::verify::{NoProgress, verify};
use audit_verify_fuzz::{key_files, note_keys, providers, ring, testdata};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in String::from_utf8_lossy(data).lines().take(8) {
        let _ = note::parse_vkey(line);
    }
    let Ok(cp) = checkpoint::parse(data, Path::new("fuzz.checkpoint")) else {
        return;
    };
    let verdicts: Vec<_> = providers()
        .into_iter()
        .map(|p| {
            let checked = checkpoint::verify(cp.clone(), ring(), note_keys(), p);
            let _ = checkpoint::trust_finding(&checked);
            checked.trust
        })
        .collect();
    assert!(
        verdicts.windows(2).all(|w| w[0] == w[1]),
        "providers disagree: {verdicts:?}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fuzz.checkpoint");
    std::fs::write(&path, data).expect("write checkpoint");
    let mut config = VerifyConfig::new(vec![testdata("aat/ok--gen-es256-seq.jsonl")], key_files());
    config.jobs = Some(1);
    config.checkpoints = vec![path];
    config.checkpoint_keys = ["test-log.vkey", "test-witness.vkey"]
        .iter()
        .map(|k| testdata(&format!("checkpoints/{k}")).display().to_string())
        .collect();
    if let Ok(report) = verify(&config, &NoProgress) {
        let _ = render_json(&report);
        let _ = render_human(&report, HumanStyle::default());
    }
});
