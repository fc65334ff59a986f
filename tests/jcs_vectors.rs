//! Conformance of `canon::json` + `canon::jcs` against third-party RFC 8785
//! vectors: the cyberphone/json-canonicalization `input`/`output`/`outhex`
//! files and the first 10,000 lines of its ES6 number file, and the
//! agent-receipts cross-SDK canonicalization vectors. The vectors live in
//! `<CARGO_MANIFEST_DIR>/../shared/vectors` (override with the environment
//! variable `AUDIT_VERIFY_VECTORS` naming the `vectors` directory). When they
//! are absent the tests say so loudly on stderr and pass; CI always has them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use audit_verify::canon::{
    CanonError, Limits, Value, parse, write_es6_number, write_jcs, write_jcs_object_excluding,
};

fn vectors_dir() -> PathBuf {
    match std::env::var_os("AUDIT_VERIFY_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"),
    }
}

/// The vector subdirectory, or `None` (after a loud notice) when absent.
fn vectors_or_skip(sub: &str, test: &str) -> Option<PathBuf> {
    let dir = vectors_dir().join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n*** WARNING: conformance vectors SKIPPED in {test}: {} not found. \
             Set AUDIT_VERIFY_VECTORS to the shared `vectors` directory. ***\n",
            dir.display()
        );
        None
    }
}

fn canonical(input: &[u8]) -> Result<Vec<u8>, CanonError> {
    let value = parse(input, &Limits::default())
        .unwrap_or_else(|e| panic!("parse failed: {e} in {:?}", String::from_utf8_lossy(input)));
    let mut out = Vec::new();
    write_jcs(&value, &mut out)?;
    Ok(out)
}

fn decode_hex_dump(text: &str) -> Vec<u8> {
    text.split_ascii_whitespace()
        .map(|byte| u8::from_str_radix(byte, 16).unwrap())
        .collect()
}

#[test]
fn rfc8785_input_files_canonicalize_to_output_files() {
    let Some(dir) = vectors_or_skip("jcs", "rfc8785_input_files_canonicalize_to_output_files")
    else {
        return;
    };
    let mut names: Vec<_> = fs::read_dir(dir.join("input"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 6,
        "expected the six RFC 8785 sample files, found {names:?}"
    );
    for name in &names {
        let input = fs::read(dir.join("input").join(name)).unwrap();
        let expected = fs::read(dir.join("output").join(name)).unwrap();
        let stem = name.trim_end_matches(".json");
        let hex = fs::read_to_string(dir.join("outhex").join(format!("{stem}.txt"))).unwrap();
        assert_eq!(
            decode_hex_dump(&hex),
            expected,
            "outhex disagrees with output for {name}"
        );
        let got = canonical(&input).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
        assert_eq!(got, expected, "{name}");
        // Idempotence: the canonical form is its own canonical form.
        assert_eq!(canonical(&got).unwrap(), expected, "{name} (second pass)");
        // Excluding nothing from a top-level object is the same as write_jcs.
        if let Some(members) = parse(&input, &Limits::default()).unwrap().as_object() {
            let mut out = Vec::new();
            write_jcs_object_excluding(members, &[], &mut out).unwrap();
            assert_eq!(out, expected, "{name} via write_jcs_object_excluding");
        }
    }
}

/// Whether an ES6 output is an integer token of magnitude >= 2^53, which
/// our policy refuses to canonicalize again.
fn is_big_integer_token(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() > 16 || (digits.len() == 16 && digits >= "9007199254740992"))
}

#[test]
fn es6_numbers_first_10000() {
    let Some(dir) = vectors_or_skip("jcs", "es6_numbers_first_10000") else {
        return;
    };
    let text = fs::read_to_string(dir.join("es6-numbers-first-10000.txt")).unwrap();
    let mut checked = 0;
    let mut refused_big_integers = 0;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let (hex, expected) = line
            .split_once(',')
            .unwrap_or_else(|| panic!("line {line_no}: no comma in {line:?}"));
        let bits = u64::from_str_radix(hex, 16).unwrap();
        let f = f64::from_bits(bits);

        let mut out = Vec::new();
        write_es6_number(f, &mut out).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            expected,
            "line {line_no}: bits {hex}"
        );

        // The expected text as a JSON number token parses back to the same
        // double (zero's sign aside) and canonicalizes to itself.
        let value = parse(expected.as_bytes(), &Limits::default()).unwrap();
        let Value::Number(number) = &value else {
            panic!("line {line_no}: {expected} is not a number");
        };
        let back = number.as_f64();
        assert!(
            back.to_bits() == bits || (back == 0.0 && f == 0.0),
            "line {line_no}: {expected} parses to {back:e}, not bits {hex}"
        );
        let mut again = Vec::new();
        match write_jcs(&value, &mut again) {
            Ok(()) => assert_eq!(again, expected.as_bytes(), "line {line_no} round trip"),
            Err(CanonError::IntegerOutOfRange { text }) => {
                assert!(
                    is_big_integer_token(expected),
                    "line {line_no}: refused {text}"
                );
                assert_eq!(text, expected);
                refused_big_integers += 1;
            }
            Err(e) => panic!("line {line_no}: {expected}: {e}"),
        }
        assert_eq!(
            is_big_integer_token(expected),
            again.is_empty(),
            "line {line_no}: integer policy applied inconsistently"
        );
        checked += 1;
    }
    assert_eq!(checked, 10_000, "the file must have exactly 10,000 lines");
    // The file's integer-looking outputs of 2^53 or more (e.g.
    // 333333333333333300000) are refused by the integer policy on re-entry.
    assert_eq!(refused_big_integers, 84);
}

#[test]
fn agent_receipts_cross_sdk_canonicalization_vectors() {
    let Some(dir) = vectors_or_skip(
        "agent-receipts/cross-sdk-tests",
        "agent_receipts_cross_sdk_canonicalization_vectors",
    ) else {
        return;
    };
    let bytes = fs::read(dir.join("canonicalization_vectors.json")).unwrap();
    let file = parse(&bytes, &Limits::default()).unwrap();
    let cases = file
        .get("canonicalization_vectors")
        .and_then(Value::as_array)
        .expect("canonicalization_vectors array");
    let mut checked = 0;
    let mut hashes = 0;
    for case in cases {
        let name = case.get("name").and_then(Value::as_str).unwrap();
        let input = case.get("input").unwrap();
        let expected = case.get("canonical").and_then(Value::as_str).unwrap();
        let mut out = Vec::new();
        let result = write_jcs(input, &mut out);
        if name == "number_2_to_53" {
            // Deliberate deviation: the vector expects 9007199254740992 to be
            // accepted; our integer policy (like the `rfc8785` Python
            // package) refuses integer tokens of magnitude >= 2^53.
            assert_eq!(expected, "9007199254740992");
            assert_eq!(
                result,
                Err(CanonError::IntegerOutOfRange {
                    text: "9007199254740992".into()
                })
            );
            checked += 1;
            continue;
        }
        result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(std::str::from_utf8(&out).unwrap(), expected, "{name}");
        if let Some(hash) = case.get("expectedHash").and_then(Value::as_str) {
            use sha2::{Digest, Sha256};
            let digest = hex::encode(Sha256::digest(&out));
            assert_eq!(hash, format!("sha256:{digest}"), "{name}");
            hashes += 1;
        }
        // Idempotence on the produced bytes, except that an output which is
        // an integer token of 2^53 or more is refused on re-entry.
        match canonical(&out) {
            Ok(again) => assert_eq!(again, out, "{name} (second pass)"),
            Err(CanonError::IntegerOutOfRange { text }) => {
                assert!(is_big_integer_token(&text), "{name}: {text}");
                assert_eq!(name, "number_large_exp_boundary_fixed");
            }
            Err(e) => panic!("{name} (second pass): {e}"),
        }
        checked += 1;
    }
    assert_eq!(checked, cases.len());
    assert!(checked >= 32, "only {checked} canonicalization vectors");
    assert!(hashes >= 3, "only {hashes} expectedHash checks");
}
