//! RFC 8785 §3.2.2.3 number serialization against an independent ECMAScript
//! `Number.prototype.toString` implementation (the `ryu-js` crate), on raw doubles and on JSON
//! number tokens; every output must parse back to the same double.
#![no_main]

use audit_verify::canon::jcs::write_es6_number;
use audit_verify::canon::json::{Limits, Value, parse};
use audit_verify_fuzz::canon;
use libfuzzer_sys::fuzz_target;

fn reference(f: f64) -> String {
    let mut buf = ryu_js::Buffer::new();
    buf.format_finite(f).to_string()
}

fn check_double(f: f64) {
    let mut out = Vec::new();
    let ours = write_es6_number(f, &mut out);
    if !f.is_finite() {
        assert!(ours.is_err(), "non-finite {f} was serialized");
        assert!(out.is_empty());
        return;
    }
    ours.unwrap_or_else(|e| panic!("finite {f:e} refused: {e}"));
    let text = String::from_utf8(out).expect("ASCII");
    assert_eq!(text, reference(f), "bits {:016x}", f.to_bits());
    let back: f64 = text.parse().expect("output parses as a double");
    assert!(back == f, "{text} does not round-trip to {f:e}");
}

fuzz_target!(|data: &[u8]| {
    if let Some(bits) = data.get(..8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(bits);
        check_double(f64::from_bits(u64::from_le_bytes(b)));
    }
    // As a JSON number token: a non-integer token is printed like its nearest double; an integer
    // token is printed like its double when below 2^53 and refused at or above.
    let Ok(Value::Number(n)) = parse(data, &Limits::default()) else {
        return;
    };
    let f = n.as_f64();
    match canon(&Value::Number(n.clone())) {
        Ok(bytes) => {
            assert!(f.is_finite());
            let text = String::from_utf8(bytes).expect("ASCII");
            assert_eq!(text, reference(f), "token {}", n.text());
            if n.is_integer_token() {
                assert!(f.abs() < 9_007_199_254_740_992.0, "token {}", n.text());
            }
        }
        Err(_) => assert!(
            !f.is_finite() || (n.is_integer_token() && f.abs() >= 9_007_199_254_740_992.0),
            "token {} refused",
            n.text()
        ),
    }
});
