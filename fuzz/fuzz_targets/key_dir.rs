//! Key directories: the input is split at `\n%%\n` into up to eight files written into a fresh
//! directory (some hidden, one a README, plus a subdirectory and a dangling link that must be
//! skipped or refused), then loaded as a directory and file by file.
#![no_main]

use audit_verify::keys::KeyRing;
use audit_verify_fuzz::split_parts;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "a.pem",
    "b.jwks.json",
    ".hidden.pem",
    "README.md",
    "c.key",
    "d.json",
    "e.hex",
    "f",
];

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let parts = split_parts(data, NAMES.len());
    let mut files = Vec::new();
    for (part, name) in parts.iter().zip(NAMES) {
        let path = dir.path().join(name);
        std::fs::write(&path, part).expect("write key file");
        files.push(path);
    }
    std::fs::create_dir(dir.path().join("sub")).expect("subdirectory");
    if data.first().is_some_and(|b| b & 1 == 1) {
        let _ = std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("g.link"));
    }
    let whole = KeyRing::load(&[dir.path().to_path_buf()]);
    if let Ok(ring) = &whole {
        assert!(!ring.is_empty());
    }
    let _ = KeyRing::load(&files);
});
