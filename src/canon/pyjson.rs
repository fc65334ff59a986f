//! Canonicalization dialects other than plain RFC 8785, byte-exact as the producers write them
//! (`shared/formats/README.md` §2, checked against CPython 3.11 `json` and asqav 0.10.14
//! `asqav/_jcs.py`):
//!
//! * [`Dialect::AsqavJcs`]: members in UTF-16 code-unit order (as RFC 8785), compact, raw UTF-8,
//!   but non-integer numbers as Python `repr`; integers beyond ±(2^53 − 1) and `NaN`/`Infinity`
//!   refused (asqav's `UnsafeIntegerError`, `allow_nan=False`).
//! * [`Dialect::AsqavLegacy`]: the same with members in code-point order (the cloud's
//!   `json.dumps(sort_keys=True, …)` before the UTF-16 cutover).
//! * [`Dialect::PyCompactUtf8`]: `json.dumps(sort_keys=True, separators=(",",":"),
//!   ensure_ascii=False)` (AGT MCP receipts).
//! * [`Dialect::PyCompactAscii`]: the same with `ensure_ascii=True` (AGT `args_hash`).
//! * [`Dialect::PyDefault`]: `json.dumps(sort_keys=True)`: `", "` and `": "` separators, ASCII
//!   escapes (AGT AuditLog `entry_hash`, FileAuditSink `content_hash`).
//!
//! Python numbers: an integer token is an exact integer of any size (`-0` is `0`); a token with
//! `.`, `e` or `E` is the nearest double (overflow gives infinity), printed with `repr` (§2.2):
//! shortest round-trip digits, positional notation for decimal exponents −4 ≤ e < 16 with `.0`
//! appended to integral values, else `d.ddde±XX`. `NaN`, `Infinity` and `-Infinity` (the tokens
//! [`super::json::parse_python`] accepts) print as such in the `py-*` dialects.
//!
//! Depth is bounded by the parser's nesting limit, so the writer may recurse.

use std::cmp::Ordering;

use serde::Deserialize;

use super::jcs::{self, CanonError, cmp_utf16, shortest_digits};
use super::json::{Member, Number, Value};

/// A named canonicalization dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// RFC 8785 JCS.
    Jcs,
    /// asqav's JCS dialect: UTF-16 order, Python `repr` numbers, safe integers only.
    AsqavJcs,
    /// asqav before the UTF-16 cutover: code-point order, otherwise as [`Dialect::AsqavJcs`].
    AsqavLegacy,
    /// `json.dumps(sort_keys=True, separators=(",",":"), ensure_ascii=False)`.
    PyCompactUtf8,
    /// `json.dumps(sort_keys=True, separators=(",",":"), ensure_ascii=True)`.
    PyCompactAscii,
    /// `json.dumps(sort_keys=True)`.
    PyDefault,
}

impl Dialect {
    /// Every dialect, in documentation order.
    pub const ALL: [Dialect; 6] = [
        Dialect::Jcs,
        Dialect::AsqavJcs,
        Dialect::AsqavLegacy,
        Dialect::PyCompactUtf8,
        Dialect::PyCompactAscii,
        Dialect::PyDefault,
    ];

    /// The name used in profile files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Jcs => "jcs",
            Dialect::AsqavJcs => "asqav-jcs",
            Dialect::AsqavLegacy => "asqav-legacy",
            Dialect::PyCompactUtf8 => "py-compact-utf8",
            Dialect::PyCompactAscii => "py-compact-ascii",
            Dialect::PyDefault => "py-default",
        }
    }

    /// Whether records in this dialect may hold `NaN`/`Infinity` tokens.
    pub fn allows_nonfinite(self) -> bool {
        matches!(
            self,
            Dialect::PyCompactUtf8 | Dialect::PyCompactAscii | Dialect::PyDefault
        )
    }

    fn ascii(self) -> bool {
        matches!(self, Dialect::PyCompactAscii | Dialect::PyDefault)
    }

    fn utf16_order(self) -> bool {
        matches!(self, Dialect::Jcs | Dialect::AsqavJcs)
    }

    fn safe_integers_only(self) -> bool {
        matches!(self, Dialect::AsqavJcs | Dialect::AsqavLegacy)
    }

    fn separators(self) -> (&'static [u8], &'static [u8]) {
        if self == Dialect::PyDefault {
            (b", ", b": ")
        } else {
            (b",", b":")
        }
    }
}

/// Appends the canonical form of `value` in `dialect` to `out`. On error `out` is unchanged.
///
/// # Errors
/// [`CanonError`] for values the dialect cannot print (RFC 8785 and asqav: integers beyond 2^53,
/// non-finite numbers).
pub fn write(dialect: Dialect, value: &Value, out: &mut Vec<u8>) -> Result<(), CanonError> {
    if dialect == Dialect::Jcs {
        return jcs::write_jcs(value, out);
    }
    let mark = out.len();
    let result = write_value(dialect, value, out);
    if result.is_err() {
        out.truncate(mark);
    }
    result
}

/// The canonical bytes of `value` in `dialect`.
///
/// # Errors
/// As [`write()`].
pub fn to_vec(dialect: Dialect, value: &Value) -> Result<Vec<u8>, CanonError> {
    let mut out = Vec::new();
    write(dialect, value, &mut out)?;
    Ok(out)
}

/// Writes one value piece by piece, for values too large to build whole (a bundle's record
/// array, written element by element): the same bytes as [`write()`] of the built value, provided
/// the caller gives each object's members in the dialect's order ([`cmp_names`]) and closes every
/// container it opens. After an error the output is incomplete and the writer is of no further use.
pub struct Writer<'o> {
    dialect: Dialect,
    out: &'o mut Vec<u8>,
    /// The open containers, innermost last: whether it is an object, and whether it holds an item
    /// yet (so that a separator is due before the next one).
    open: Vec<(bool, bool)>,
    /// A member name was written: its value follows without a separator.
    after_key: bool,
}

impl<'o> Writer<'o> {
    /// A writer that appends to `out`.
    pub fn new(dialect: Dialect, out: &'o mut Vec<u8>) -> Self {
        Writer {
            dialect,
            out,
            open: Vec::new(),
            after_key: false,
        }
    }

    /// The bytes written and not yet taken: a caller that streams the output hands them on and
    /// clears them between items (what follows does not depend on them).
    pub fn output(&mut self) -> &mut Vec<u8> {
        self.out
    }

    /// The separator before an item of the innermost container, if one is due.
    fn separate(&mut self) {
        if std::mem::take(&mut self.after_key) {
            return;
        }
        if let Some((_, items)) = self.open.last_mut() {
            if std::mem::replace(items, true) {
                self.out.extend_from_slice(self.dialect.separators().0);
            }
        }
    }

    /// Opens an object (a value of the innermost container).
    pub fn begin_object(&mut self) {
        self.separate();
        self.out.push(b'{');
        self.open.push((true, false));
    }

    /// Opens an array (a value of the innermost container).
    pub fn begin_array(&mut self) {
        self.separate();
        self.out.push(b'[');
        self.open.push((false, false));
    }

    /// Writes a member name of the innermost object; its value comes next.
    ///
    /// # Errors
    /// None in practice: a string always prints.
    pub fn key(&mut self, name: &str) -> Result<(), CanonError> {
        self.separate();
        write(self.dialect, &Value::String(name.to_owned()), self.out)?;
        self.out.extend_from_slice(self.dialect.separators().1);
        self.after_key = true;
        Ok(())
    }

    /// Writes a whole value (an element, or the value of the member just named).
    ///
    /// # Errors
    /// As [`write()`].
    pub fn value(&mut self, value: &Value) -> Result<(), CanonError> {
        self.separate();
        write(self.dialect, value, self.out)
    }

    /// Closes the innermost container.
    pub fn end(&mut self) {
        if let Some((object, _)) = self.open.pop() {
            self.out.push(if object { b'}' } else { b']' });
        }
    }
}

fn write_value(dialect: Dialect, value: &Value, out: &mut Vec<u8>) -> Result<(), CanonError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(dialect, n, out)?,
        Value::String(s) => write_string(s, dialect.ascii(), out),
        Value::Array(items) => {
            let (item_sep, _) = dialect.separators();
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(item_sep);
                }
                write_value(dialect, item, out)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&str, &Value)> =
                members.iter().map(|m| (m.key.as_str(), &m.value)).collect();
            write_object(dialect, &mut sorted, out)?;
        }
    }
    Ok(())
}

/// Writes an object of `members` (any order; sorted here as the dialect sorts).
fn write_object(
    dialect: Dialect,
    members: &mut [(&str, &Value)],
    out: &mut Vec<u8>,
) -> Result<(), CanonError> {
    let (item_sep, key_sep) = dialect.separators();
    if dialect.utf16_order() {
        if !members.is_sorted_by(|a, b| cmp_utf16(a.0, b.0).is_le()) {
            members.sort_by(|a, b| cmp_utf16(a.0, b.0));
        }
    } else if !members.is_sorted_by(|a, b| a.0 <= b.0) {
        // UTF-8 byte order is code-point order (Python's `str` comparison).
        members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    out.push(b'{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(item_sep);
        }
        write_string(key, dialect.ascii(), out);
        out.extend_from_slice(key_sep);
        write_value(dialect, value, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Appends the canonical form of the object made of `members` (names and values borrowed, in
/// any order) to `out`, as [`write()`] would for that object, without building it. On error `out`
/// is unchanged.
///
/// # Errors
/// As [`write()`].
pub fn write_members(
    dialect: Dialect,
    members: &mut [(&str, &Value)],
    out: &mut Vec<u8>,
) -> Result<(), CanonError> {
    if dialect == Dialect::Jcs {
        let object = Value::Object(
            members
                .iter()
                .map(|(key, value)| Member {
                    key: (*key).to_owned(),
                    value: (*value).clone(),
                    span: 0..0,
                    value_span: 0..0,
                })
                .collect(),
        );
        return jcs::write_jcs(&object, out);
    }
    let mark = out.len();
    let result = write_object(dialect, members, out);
    if result.is_err() {
        out.truncate(mark);
    }
    result
}

/// 2^53 − 1, the largest integer magnitude asqav accepts.
const MAX_SAFE: &str = "9007199254740991";

fn write_number(dialect: Dialect, n: &Number, out: &mut Vec<u8>) -> Result<(), CanonError> {
    let text = n.text();
    if n.is_integer_token() {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if dialect.safe_integers_only()
            && (digits.len() > MAX_SAFE.len()
                || (digits.len() == MAX_SAFE.len() && digits > MAX_SAFE))
        {
            return Err(CanonError::IntegerOutOfRange {
                text: text.to_owned(),
            });
        }
        // Python's int: `-0` is 0; the grammar rules out leading zeros.
        if digits == "0" {
            out.push(b'0');
        } else {
            out.extend_from_slice(text.as_bytes());
        }
        return Ok(());
    }
    let f = n.as_f64();
    if !f.is_finite() {
        if !dialect.allows_nonfinite() {
            return Err(CanonError::NumberNotFinite {
                text: text.to_owned(),
            });
        }
        out.extend_from_slice(if f.is_nan() {
            b"NaN".as_slice()
        } else if f > 0.0 {
            b"Infinity".as_slice()
        } else {
            b"-Infinity".as_slice()
        });
        return Ok(());
    }
    write_py_repr(f, out);
    Ok(())
}

/// Appends CPython's `repr(f)` of a finite double (`formats/README.md` §2.2).
pub fn write_py_repr(f: f64, out: &mut Vec<u8>) {
    if f.is_sign_negative() {
        out.push(b'-');
    }
    let a = f.abs();
    if a == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    let (digits, k, e) = shortest_digits(a);
    let digits = &digits[..k];
    if (-4..16).contains(&e) {
        if e >= 0 {
            let int_len = e as usize + 1;
            if k <= int_len {
                out.extend_from_slice(digits);
                out.extend(std::iter::repeat_n(b'0', int_len - k));
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-e - 1) as usize));
            out.extend_from_slice(digits);
        }
        return;
    }
    let (first, rest) = digits.split_at(1);
    out.extend_from_slice(first);
    if !rest.is_empty() {
        out.push(b'.');
        out.extend_from_slice(rest);
    }
    out.push(b'e');
    out.push(if e < 0 { b'-' } else { b'+' });
    let m = e.unsigned_abs();
    if m < 10 {
        out.push(b'0');
    }
    out.extend_from_slice(m.to_string().as_bytes());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_u_escape(unit: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[((unit >> shift) & 0xF) as usize]);
    }
}

/// Python's string encoder: `ensure_ascii=False` escapes only `"`, `\` and C0 controls (as RFC
/// 8785 does); `ensure_ascii=True` also escapes everything outside U+0020..U+007E as `\uXXXX`
/// (lower-case hex, surrogate pairs above U+FFFF).
fn write_string(s: &str, ascii: bool, out: &mut Vec<u8>) {
    // Runs of bytes that need no escape are copied whole; only the others are looked at.
    let plain = |b: u8| match b {
        b'"' | b'\\' | 0x00..=0x1f => false,
        0x7f..=0xff => !ascii,
        _ => true,
    };
    let bytes = s.as_bytes();
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if plain(b) {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        if b >= 0x80 {
            // `ascii` and a character outside ASCII (`i` is at its first byte): UTF-16 escapes.
            let c = s
                .get(i..)
                .and_then(|t| t.chars().next())
                .unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                push_u_escape(u32::from(*unit), out);
            }
            i += c.len_utf8().max(1);
        } else {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                // Other control characters, and DEL when escaping to ASCII.
                _ => push_u_escape(u32::from(b), out),
            }
            i += 1;
        }
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Orders member names as `dialect` does (for callers that merge projections).
pub fn cmp_names(dialect: Dialect, a: &str, b: &str) -> Ordering {
    if dialect.utf16_order() {
        cmp_utf16(a, b)
    } else {
        a.as_bytes().cmp(b.as_bytes())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::json::{Limits, parse_python};
    use super::*;

    /// `json.dumps`'s string escaping, character by character (the reference for the run-copying
    /// writer).
    fn reference_string(s: &str, ascii: bool) -> Vec<u8> {
        let mut out = vec![b'"'];
        for c in s.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                '\u{c}' => out.extend_from_slice(b"\\f"),
                c if (c as u32) < 0x20 || (ascii && !(' '..='~').contains(&c)) => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.extend_from_slice(format!("\\u{:04x}", unit).as_bytes());
                    }
                }
                c => out.extend_from_slice(c.to_string().as_bytes()),
            }
        }
        out.push(b'"');
        out
    }

    #[test]
    fn the_string_writer_escapes_like_python_character_by_character() {
        let mut samples: Vec<String> = (0u32..0x250)
            .chain([0x7ff, 0x800, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff])
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b{c}{c}"))
            .collect();
        samples.push(String::new());
        samples.push("plain ascii only".into());
        samples.push("\"\\\u{7f}caf\u{e9} \u{1f600}\n\u{0}end".into());
        for s in &samples {
            for ascii in [false, true] {
                let mut got = Vec::new();
                write_string(s, ascii, &mut got);
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&reference_string(s, ascii)),
                    "{s:?} ascii={ascii}"
                );
            }
        }
    }

    fn canon(d: Dialect, input: &str) -> Result<String, CanonError> {
        let v = parse_python(input.as_bytes(), &Limits::default()).unwrap();
        to_vec(d, &v).map(|b| String::from_utf8(b).unwrap())
    }

    use Dialect::*;

    /// The byte table of `formats/README.md` §2.1, one row per input: JCS, asqav JCS,
    /// py-compact-utf8, py-compact-ascii, py-default (`None`: refused).
    #[test]
    fn members_are_written_as_the_object_they_make() {
        // Names that sort differently in UTF-16 and code-point order, nesting, escapes.
        let text = r#"{"b": [1, {"z": null, "a": "\u00e9"}], "\ud83d\ude00": 1.5, "\uff61": true, "a": "x\ny", "": 0}"#;
        let object = parse_python(text.as_bytes(), &Limits::default()).unwrap();
        let members = object.as_object().unwrap();
        for dialect in Dialect::ALL {
            let whole = to_vec(dialect, &object).unwrap();
            // In file order, reversed, and already sorted: the same bytes.
            let mut refs: Vec<(&str, &Value)> =
                members.iter().map(|m| (m.key.as_str(), &m.value)).collect();
            for round in 0..3 {
                let mut out = b"prefix".to_vec();
                write_members(dialect, &mut refs, &mut out).unwrap();
                assert_eq!(&out[6..], whole.as_slice(), "{dialect:?} round {round}");
                refs.reverse();
            }
        }
        // An error leaves the output as it was.
        let big = parse_python(br#"{"n": 12345678901234567890}"#, &Limits::default()).unwrap();
        let m = &big.as_object().unwrap()[0];
        let mut out = b"kept".to_vec();
        assert!(
            write_members(
                Dialect::AsqavJcs,
                &mut [(m.key.as_str(), &m.value)],
                &mut out
            )
            .is_err()
        );
        assert_eq!(out, b"kept");
    }

    #[test]
    fn matches_the_dialect_table() {
        let rows: &[(&str, [Option<&str>; 5])] = &[
            (
                r#"{"b":1,"a":"é"}"#,
                [
                    Some(r#"{"a":"é","b":1}"#),
                    Some(r#"{"a":"é","b":1}"#),
                    Some(r#"{"a":"é","b":1}"#),
                    Some(r#"{"a":"\u00e9","b":1}"#),
                    Some(r#"{"a": "\u00e9", "b": 1}"#),
                ],
            ),
            (
                r#"{"x":1.0}"#,
                [
                    Some(r#"{"x":1}"#),
                    Some(r#"{"x":1.0}"#),
                    Some(r#"{"x":1.0}"#),
                    Some(r#"{"x":1.0}"#),
                    Some(r#"{"x": 1.0}"#),
                ],
            ),
            (
                r#"{"x":1e-7}"#,
                [
                    Some(r#"{"x":1e-7}"#),
                    Some(r#"{"x":1e-07}"#),
                    Some(r#"{"x":1e-07}"#),
                    Some(r#"{"x":1e-07}"#),
                    Some(r#"{"x": 1e-07}"#),
                ],
            ),
            (
                r#"{"x":0.000015}"#,
                [
                    Some(r#"{"x":0.000015}"#),
                    Some(r#"{"x":1.5e-05}"#),
                    Some(r#"{"x":1.5e-05}"#),
                    Some(r#"{"x":1.5e-05}"#),
                    Some(r#"{"x": 1.5e-05}"#),
                ],
            ),
            (
                r#"{"x":1e16}"#,
                [
                    Some(r#"{"x":10000000000000000}"#),
                    Some(r#"{"x":1e+16}"#),
                    Some(r#"{"x":1e+16}"#),
                    Some(r#"{"x":1e+16}"#),
                    Some(r#"{"x": 1e+16}"#),
                ],
            ),
            (
                r#"{"x":123456789012345680000.0}"#,
                [
                    Some(r#"{"x":123456789012345680000}"#),
                    Some(r#"{"x":1.2345678901234568e+20}"#),
                    Some(r#"{"x":1.2345678901234568e+20}"#),
                    Some(r#"{"x":1.2345678901234568e+20}"#),
                    Some(r#"{"x": 1.2345678901234568e+20}"#),
                ],
            ),
            (
                r#"{"x":-0.0}"#,
                [
                    Some(r#"{"x":0}"#),
                    Some(r#"{"x":-0.0}"#),
                    Some(r#"{"x":-0.0}"#),
                    Some(r#"{"x":-0.0}"#),
                    Some(r#"{"x": -0.0}"#),
                ],
            ),
            (
                r#"{"x":0.92,"y":1e21}"#,
                [
                    Some(r#"{"x":0.92,"y":1e+21}"#),
                    Some(r#"{"x":0.92,"y":1e+21}"#),
                    Some(r#"{"x":0.92,"y":1e+21}"#),
                    Some(r#"{"x":0.92,"y":1e+21}"#),
                    Some(r#"{"x": 0.92, "y": 1e+21}"#),
                ],
            ),
            (
                "{\"\u{ff41}\":2,\"\u{1f600}\":1}",
                [
                    Some("{\"\u{1f600}\":1,\"\u{ff41}\":2}"),
                    Some("{\"\u{1f600}\":1,\"\u{ff41}\":2}"),
                    Some("{\"\u{ff41}\":2,\"\u{1f600}\":1}"),
                    Some(r#"{"\uff41":2,"\ud83d\ude00":1}"#),
                    Some(r#"{"\uff41": 2, "\ud83d\ude00": 1}"#),
                ],
            ),
            (
                r#"{"s":"a\u007fb"}"#,
                [
                    Some("{\"s\":\"a\u{7f}b\"}"),
                    Some("{\"s\":\"a\u{7f}b\"}"),
                    Some("{\"s\":\"a\u{7f}b\"}"),
                    Some(r#"{"s":"a\u007fb"}"#),
                    Some(r#"{"s": "a\u007fb"}"#),
                ],
            ),
            (
                r#"{"s":"a\u2028b"}"#,
                [
                    Some("{\"s\":\"a\u{2028}b\"}"),
                    Some("{\"s\":\"a\u{2028}b\"}"),
                    Some("{\"s\":\"a\u{2028}b\"}"),
                    Some(r#"{"s":"a\u2028b"}"#),
                    Some(r#"{"s": "a\u2028b"}"#),
                ],
            ),
            (
                r#"{"n":9007199254740993}"#,
                [
                    None,
                    None,
                    Some(r#"{"n":9007199254740993}"#),
                    Some(r#"{"n":9007199254740993}"#),
                    Some(r#"{"n": 9007199254740993}"#),
                ],
            ),
        ];
        let dialects = [Jcs, AsqavJcs, PyCompactUtf8, PyCompactAscii, PyDefault];
        for (input, expected) in rows {
            for (d, want) in dialects.iter().zip(expected) {
                let got = canon(*d, input).ok();
                assert_eq!(got.as_deref(), *want, "{input} in {}", d.as_str());
            }
        }
    }

    #[test]
    #[allow(clippy::excessive_precision)]
    fn python_repr_numbers() {
        let cases: &[(f64, &str)] = &[
            (100.0, "100.0"),
            (1e15, "1000000000000000.0"),
            (9007199254740993.0, "9007199254740992.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1795325983.6587408, "1795325983.6587408"),
            (1e16, "1e+16"),
            (2.5e-7, "2.5e-07"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (1424953923781206.25, "1424953923781206.2"),
            (-1.5, "-1.5"),
            (0.0, "0.0"),
            (1e22, "1e+22"),
            (123.456, "123.456"),
        ];
        for (f, want) in cases {
            let mut out = Vec::new();
            write_py_repr(*f, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), *want, "{f:e}");
        }
    }

    #[test]
    fn nonfinite_tokens_print_only_in_python_dialects() {
        assert_eq!(
            canon(
                PyDefault,
                r#"{"a":NaN,"b":-Infinity,"c":Infinity,"d":1e400}"#
            )
            .unwrap(),
            r#"{"a": NaN, "b": -Infinity, "c": Infinity, "d": Infinity}"#
        );
        assert!(canon(AsqavJcs, r#"{"a":NaN}"#).is_err());
        assert!(canon(Jcs, r#"{"a":NaN}"#).is_err());
        assert!(canon(Jcs, r#"{"a":-Infinity}"#).is_err());
    }

    #[test]
    fn asqav_refuses_unsafe_integers_at_the_boundary() {
        assert_eq!(
            canon(AsqavJcs, "[9007199254740991,-9007199254740991]").unwrap(),
            "[9007199254740991,-9007199254740991]"
        );
        assert!(canon(AsqavJcs, "[9007199254740992]").is_err());
        assert!(canon(AsqavLegacy, "[-9007199254740992]").is_err());
        assert_eq!(canon(PyCompactUtf8, "[-0,0]").unwrap(), "[0,0]");
    }

    #[test]
    fn escapes_controls_identically() {
        let input = r#"["\u0000\b\f\n\r\t\u001f\"\\/"]"#;
        let want = r#"["\u0000\b\f\n\r\t\u001f\"\\/"]"#;
        for d in [AsqavJcs, PyCompactUtf8, PyCompactAscii] {
            assert_eq!(canon(d, input).unwrap(), want, "{}", d.as_str());
        }
    }

    #[test]
    fn legacy_order_is_code_points() {
        assert_eq!(
            canon(AsqavLegacy, "{\"\u{ff41}\":2,\"\u{1f600}\":1}").unwrap(),
            "{\"\u{ff41}\":2,\"\u{1f600}\":1}"
        );
    }

    /// Writes `value` through a [`Writer`], containers piece by piece, members sorted by
    /// [`cmp_names`].
    fn write_piecewise(
        w: &mut Writer<'_>,
        value: &Value,
        dialect: Dialect,
    ) -> Result<(), CanonError> {
        match value {
            Value::Array(items) => {
                w.begin_array();
                for item in items {
                    write_piecewise(w, item, dialect)?;
                }
                w.end();
            }
            Value::Object(members) => {
                let mut sorted: Vec<&Member> = members.iter().collect();
                sorted.sort_by(|a, b| cmp_names(dialect, &a.key, &b.key));
                w.begin_object();
                for m in sorted {
                    w.key(&m.key)?;
                    write_piecewise(w, &m.value, dialect)?;
                }
                w.end();
            }
            scalar => w.value(scalar)?,
        }
        Ok(())
    }

    #[test]
    fn the_piecewise_writer_writes_what_the_whole_writer_writes() {
        let docs = [
            r#"{"b":[1,{"z":null,"a":[]},{}],"a":"\u00e9\n\"","\uff41":2,"\ud83d\ude00":1.5e-7}"#,
            r#"[[],[[]],{"":{"x":true}},"s",-0,-0.0,1e16,false]"#,
            r#"{"receipts":[{"k":"v"},{"k":"\u0000\u007f\u2028"}],"receipt_count":2,"e":{}}"#,
            "[]",
            "{}",
            "\"text\"",
        ];
        for doc in docs {
            let v = parse_python(doc.as_bytes(), &Limits::default()).unwrap();
            for d in Dialect::ALL {
                let mut got = Vec::new();
                write_piecewise(&mut Writer::new(d, &mut got), &v, d).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&to_vec(d, &v).unwrap()),
                    "{doc} in {}",
                    d.as_str()
                );
            }
        }
        // A value the dialect cannot print is refused as by the whole writer.
        let v = parse_python(br#"{"a":[1,9007199254740993]}"#, &Limits::default()).unwrap();
        let mut out = Vec::new();
        let e = write_piecewise(&mut Writer::new(AsqavJcs, &mut out), &v, AsqavJcs).unwrap_err();
        assert_eq!(e, to_vec(AsqavJcs, &v).unwrap_err());
    }
}
