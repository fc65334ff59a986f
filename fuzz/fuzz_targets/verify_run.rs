//! The whole run: bytes in, report out. The first byte chooses options (forced container, policy
//! flags, Merkle state, crypto provider, a checkpoint); the rest is written to a temporary file
//! (compressed with gzip when asked) and verified with `verify::verify` against the fixture keys
//! and, unless the container bits are 7, the AGT HMAC key.
//! The report is rendered as JSON, human text, JUnit and GitHub annotations, and certified, and
//! none of it may panic; the JSON report must be JSON and the verdict a known exit code.
#![no_main]

use std::io::Write as _;

use audit_verify::cert;
use audit_verify::config::VerifyConfig;
use audit_verify::ingest::InputFormat;
use audit_verify::report::human::{HumanStyle, render_human};
use audit_verify::report::json::render_json;
use audit_verify::report::{github::render_github, junit::render_junit};
use audit_verify::verify::{NoProgress, verify};
use audit_verify_fuzz::{key_files, testdata};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("export");
    if flags & 0x80 != 0 {
        let file = std::fs::File::create(&path).expect("create");
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        gz.write_all(body).expect("gzip");
        gz.finish().expect("gzip");
    } else {
        std::fs::write(&path, body).expect("write export");
    }
    let mut config = VerifyConfig::new(vec![path], key_files());
    config.jobs = Some(1);
    config.input_format = match flags & 0x07 {
        1 => Some(InputFormat::Jsonl),
        2 => Some(InputFormat::Json),
        3 => Some(InputFormat::Syslog),
        4 => Some(InputFormat::Csv),
        _ => None,
    };
    config.hmac_key_file = (flags & 0x07 != 7).then(|| testdata("keys/agt-gen-hmac-key.txt"));
    config.require_signatures = flags & 0x08 != 0;
    config.require_complete = flags & 0x10 != 0;
    config.merkle_state = flags & 0x20 != 0;
    if flags & 0x40 != 0 {
        config.provider = "rustcrypto".into();
        config.checkpoints = vec![testdata("checkpoints/gen-es256-seq.checkpoint.json")];
    }
    let Ok(report) = verify(&config, &NoProgress) else {
        return;
    };
    assert!(matches!(report.verdict().exit_code(), 0 | 1 | 3));
    let json = render_json(&report);
    serde_json::from_str::<serde_json::Value>(&json).expect("the JSON report is JSON");
    let _ = render_human(
        &report,
        HumanStyle {
            color: flags & 0x01 != 0,
            width: 80,
            max_per_code: 3,
        },
    );
    let _ = render_junit(&report);
    let _ = render_github(&report);
    let statement = cert::statement(&report, jiff::Timestamp::UNIX_EPOCH);
    let _ = cert::payload(&statement);
});
