//! RFC 8785 JSON Canonicalization Scheme (JCS): owns turning a parsed
//! [`Value`] into the exact canonical bytes that audit-trail hashes and
//! signatures are computed over. Follows RFC 8785 §3.2: no whitespace;
//! object members sorted by the UTF-16 code units of their names; strings
//! with only `"`, `\` and U+0000..U+001F escaped (`\b \f \n \r \t`, else
//! `\u00xx` in lower case), everything else as raw UTF-8; numbers printed by
//! the ECMAScript `Number.prototype.toString` algorithm (§3.2.2.3).
//!
//! Policy beyond the RFC (see `docs/canonicalization.md`):
//!
//! * An integer token (no `.`, `e` or `E`) whose magnitude is at least 2^53
//!   (9007199254740992) is refused with [`CanonError::IntegerOutOfRange`]:
//!   as a double it could silently change value, and the `rfc8785` Python
//!   package the producers use refuses such integers too. Fraction and
//!   exponent tokens are converted to the nearest double as the RFC says
//!   (`9007199254740993.0` prints as `9007199254740992`), so a canonical
//!   output of a double in [2^53, 1e21) is itself an integer token that is
//!   refused when canonicalized again, exactly as with the producers' tool.
//! * A token that overflows a double (`1e400`) is refused with
//!   [`CanonError::NumberNotFinite`].
//!
//! The writer is iterative, so nesting depth is bounded by the parser's
//! limit rather than by the thread's stack. Objects already in canonical
//! order are written straight from the tree; others are sorted in one
//! scratch vector reused for the whole tree, so there is no allocation per
//! member or per comparison. On error, `out` is left as it was before the
//! call. Duplicate member names are not checked again here: [`parse`]
//! rejects them, and a hand-built [`Value`] with duplicates is written with
//! both members in their original relative order.
//!
//! [`parse`]: super::json::parse

use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::ops::Range;

use super::json::{Member, Number, Value, plain_len};

/// Why a value has no canonical form under our policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanonError {
    /// The number is infinite or NaN as a double (e.g. the token `1e400`).
    NumberNotFinite {
        /// The number token as written.
        text: String,
    },
    /// An integer token whose magnitude is 2^53 or more.
    IntegerOutOfRange {
        /// The integer token as written.
        text: String,
    },
}

impl fmt::Display for CanonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanonError::NumberNotFinite { text } => write!(
                f,
                "number {text} is not a finite IEEE-754 double and has no canonical form"
            ),
            CanonError::IntegerOutOfRange { text } => write!(
                f,
                "integer {text} is outside the exactly representable range \
                 -(2^53-1)..=2^53-1 and has no canonical form"
            ),
        }
    }
}

impl std::error::Error for CanonError {}

/// Append the JCS form of `value` to `out`.
pub fn write_jcs(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonError> {
    let mark = out.len();
    let mut writer = Writer::default();
    let result = writer.open(value, out).and_then(|()| writer.run(out));
    if result.is_err() {
        out.truncate(mark);
    }
    result
}

/// Canonicalize a top-level object leaving out the named members (e.g.
/// `["batch"]` or `["signature", "signature_classical", "batch"]`).
pub fn write_jcs_object_excluding(
    members: &[Member],
    exclude: &[&str],
    out: &mut Vec<u8>,
) -> Result<(), CanonError> {
    let mark = out.len();
    let mut writer = Writer::default();
    out.push(b'{');
    writer.push_object(members, exclude);
    let result = writer.run(out);
    if result.is_err() {
        out.truncate(mark);
    }
    result
}

/// Canonicalize a top-level object leaving out `exclude`, as [`write_jcs_object_excluding`], and
/// record the byte range in `out` of every member written (name, colon and value, without the
/// separating commas), in canonical order. [`splice_without`] then derives the canonical form of
/// the same object without some of those members by copying, instead of canonicalizing again.
///
/// `spans` is cleared first; on error it is left empty and `out` unchanged.
pub fn write_jcs_object_spans<'a>(
    members: &'a [Member],
    exclude: &'a [&'a str],
    out: &mut Vec<u8>,
    spans: &mut Vec<(&'a str, Range<usize>)>,
) -> Result<(), CanonError> {
    let mark = out.len();
    spans.clear();
    let mut writer = Writer {
        spans: Some(std::mem::take(spans)),
        ..Writer::default()
    };
    out.push(b'{');
    writer.push_object(members, exclude);
    let result = writer.run(out);
    *spans = writer.spans.take().unwrap_or_default();
    if result.is_err() {
        out.truncate(mark);
        spans.clear();
    }
    result
}

/// The canonical form of an object without the members named in `drop`, from its canonical form
/// `canonical` (the buffer [`write_jcs_object_spans`] wrote to) and the member spans it recorded
/// (positions in that buffer). Appends to `out`.
pub fn splice_without(
    canonical: &[u8],
    spans: &[(&str, Range<usize>)],
    drop: &[&str],
    out: &mut Vec<u8>,
) {
    out.push(b'{');
    let mut first = true;
    for (name, range) in spans {
        if drop.contains(name) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(&canonical[range.clone()]);
    }
    out.push(b'}');
}

/// An array or object whose children are being written.
enum Frame<'a> {
    Array {
        items: &'a [Value],
        next: usize,
    },
    /// An object whose members are already in canonical order: written
    /// straight from the slice, skipping the names in `exclude`.
    InOrder {
        members: &'a [Member],
        exclude: &'a [&'a str],
        next: usize,
        first: bool,
    },
    /// Members in canonical order are `Writer::order[start..start + len]`.
    Sorted {
        start: usize,
        len: usize,
        next: usize,
    },
}

#[derive(Default)]
struct Writer<'a> {
    /// Scratch for sorted member lists; each `Sorted` frame owns a range,
    /// in stack order.
    order: Vec<&'a Member>,
    stack: Vec<Frame<'a>>,
    /// When set: the spans of the top-level object's members (see [`write_jcs_object_spans`]).
    spans: Option<Vec<(&'a str, Range<usize>)>>,
}

impl<'a> Writer<'a> {
    /// Write a scalar, or the opening bracket of a container and push it.
    fn open(&mut self, value: &'a Value, out: &mut Vec<u8>) -> Result<(), CanonError> {
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Number(n) => write_number(n, out)?,
            Value::String(s) => write_string(s, out),
            Value::Array(items) => {
                out.push(b'[');
                self.push(Frame::Array { items, next: 0 });
            }
            Value::Object(members) => {
                out.push(b'{');
                self.push_object(members, &[]);
            }
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame<'a>) {
        if self.stack.capacity() == 0 {
            self.stack.reserve(16);
        }
        self.stack.push(frame);
    }

    /// Push an object (after its `{`), leaving out the names in `exclude`.
    fn push_object(&mut self, members: &'a [Member], exclude: &'a [&'a str]) {
        let kept = |m: &&Member| !exclude.contains(&m.key.as_str());
        let in_order = |a: &&Member, b: &&Member| cmp_utf16(&a.key, &b.key) != Ordering::Greater;
        // Producers usually emit members already in order: then no sorting
        // and no scratch space is needed.
        if members.iter().filter(kept).is_sorted_by(in_order) {
            self.push(Frame::InOrder {
                members,
                exclude,
                next: 0,
                first: true,
            });
            return;
        }
        let start = self.order.len();
        self.order.extend(members.iter().filter(kept));
        let sorted = &mut self.order[start..];
        sorted.sort_by(|a, b| cmp_utf16(&a.key, &b.key));
        let len = sorted.len();
        self.push(Frame::Sorted {
            start,
            len,
            next: 0,
        });
    }

    /// Write one member and open its value.
    fn member(
        &mut self,
        member: &'a Member,
        first: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), CanonError> {
        let top = self.stack.len() == 1;
        if top {
            self.end_top_span(out.len());
        }
        if !first {
            out.push(b',');
        }
        if top {
            if let Some(spans) = &mut self.spans {
                spans.push((&member.key, out.len()..out.len()));
            }
        }
        write_string(&member.key, out);
        out.push(b':');
        self.open(&member.value, out)
    }

    /// Ends the span of the top-level member being written, if spans are recorded.
    fn end_top_span(&mut self, end: usize) {
        if let Some((_, range)) = self.spans.as_mut().and_then(|s| s.last_mut()) {
            if range.end == range.start {
                range.end = end;
            }
        }
    }

    /// Write children and closing brackets until the stack is empty.
    fn run(&mut self, out: &mut Vec<u8>) -> Result<(), CanonError> {
        while let Some(top) = self.stack.last_mut() {
            match top {
                Frame::Array { items, next } => {
                    let items: &'a [Value] = items;
                    match items.get(*next) {
                        Some(item) => {
                            if *next > 0 {
                                out.push(b',');
                            }
                            *next += 1;
                            self.open(item, out)?;
                        }
                        None => {
                            out.push(b']');
                            self.stack.pop();
                        }
                    }
                }
                Frame::InOrder {
                    members,
                    exclude,
                    next,
                    first,
                } => {
                    let members: &'a [Member] = members;
                    let exclude: &'a [&'a str] = exclude;
                    let mut chosen = None;
                    while let Some(member) = members.get(*next) {
                        *next += 1;
                        if !exclude.contains(&member.key.as_str()) {
                            chosen = Some(member);
                            break;
                        }
                    }
                    match chosen {
                        Some(member) => {
                            let was_first = std::mem::replace(first, false);
                            self.member(member, was_first, out)?;
                        }
                        None => {
                            if self.stack.len() == 1 {
                                self.end_top_span(out.len());
                            }
                            out.push(b'}');
                            self.stack.pop();
                        }
                    }
                }
                Frame::Sorted { start, len, next } => {
                    let member = if *next < *len {
                        self.order.get(*start + *next).copied()
                    } else {
                        None
                    };
                    match member {
                        Some(member) => {
                            let first = *next == 0;
                            *next += 1;
                            self.member(member, first, out)?;
                        }
                        None => {
                            let start = *start;
                            if self.stack.len() == 1 {
                                self.end_top_span(out.len());
                            }
                            out.push(b'}');
                            self.stack.pop();
                            self.order.truncate(start);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Order two member names by their UTF-16 code units without converting
/// them. UTF-8 byte order equals code point order, which equals UTF-16
/// order except where a supplementary-plane character (a surrogate pair,
/// 0xD800..0xDBFF first) meets U+E000..U+FFFF. At the first differing byte
/// both names are at the same character boundary or inside characters with
/// the same lead byte, so looking at that byte decides: a lead byte 0xF0..
/// (supplementary) sorts before 0xEE/0xEF (U+E000..U+FFFF).
pub(crate) fn cmp_utf16(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some((&x, &y)) => {
            let high_bmp = |c: u8| c == 0xEE || c == 0xEF;
            let supplementary = |c: u8| c >= 0xF0;
            if supplementary(x) && high_bmp(y) {
                Ordering::Less
            } else if high_bmp(x) && supplementary(y) {
                Ordering::Greater
            } else {
                x.cmp(&y)
            }
        }
    }
}

/// What each byte becomes inside a canonical string: 0 = itself, 1 =
/// `\u00xx`, anything else = backslash and that byte.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = 1;
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_string(s: &str, out: &mut Vec<u8>) {
    let mut bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    loop {
        let plain = plain_len(bytes);
        let (run, rest) = bytes.split_at(plain);
        out.extend_from_slice(run);
        let Some((&b, rest)) = rest.split_first() else {
            break;
        };
        let escape = ESCAPE[usize::from(b)];
        if escape == 1 {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
        bytes = rest;
    }
    out.push(b'"');
}

/// 2^53 as decimal text: the first integer magnitude we refuse.
const TWO_POW_53: &str = "9007199254740992";

fn write_number(n: &Number, out: &mut Vec<u8>) -> Result<(), CanonError> {
    let text = n.text();
    if n.is_integer_token() {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.len() > TWO_POW_53.len()
            || (digits.len() == TWO_POW_53.len() && digits >= TWO_POW_53)
        {
            return Err(CanonError::IntegerOutOfRange {
                text: text.to_owned(),
            });
        }
        // The grammar forbids leading zeros, so below 2^53 (< 1e21) the
        // token already is the ECMAScript form, except for negative zero.
        if digits == "0" {
            out.push(b'0');
        } else {
            out.extend_from_slice(text.as_bytes());
        }
        return Ok(());
    }
    // `NaN`, `Infinity`, `-Infinity` (accepted only by the Python-compatible parser) have no
    // JCS form; never let them reach the digit-based fast path.
    if !text
        .trim_start_matches('-')
        .starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(CanonError::NumberNotFinite {
            text: text.to_owned(),
        });
    }
    if write_short_decimal(text, out) {
        return Ok(());
    }
    write_es6_number(n.as_f64(), out).map_err(|_| CanonError::NumberNotFinite {
        text: text.to_owned(),
    })
}

/// Most significant digits a decimal may have for the fast path: any
/// decimal of at most 15 significant digits (DBL_DIG) in the normal range
/// survives decimal -> double -> decimal, so no other decimal of 15 or fewer
/// digits maps to the same double, and the token's own digits (trailing
/// zeros dropped) are the unique shortest round-trip digits ECMAScript
/// prints.
const SHORT_DECIMAL_DIGITS: usize = 15;

/// Fast path for a fraction/exponent token of at most 15 significant
/// digits whose value is well inside the normal range (1e-300..1e300):
/// lays out the token's own digits without going through a double.
/// Returns false (writing nothing) for every other token.
fn write_short_decimal(text: &str, out: &mut Vec<u8>) -> bool {
    let bytes = text.as_bytes();
    let (negative, body) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let (mantissa, exponent) = match body.iter().position(|&c| c == b'e' || c == b'E') {
        Some(at) => (&body[..at], &body[at + 1..]),
        None => (body, &b""[..]),
    };
    let (exp_negative, exp_digits) = match exponent.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, exponent),
    };
    if exp_digits.len() > 4 {
        return false;
    }
    let exp_magnitude = exp_digits
        .iter()
        .fold(0i32, |acc, &c| acc * 10 + i32::from(c.wrapping_sub(b'0')));
    let exp = if exp_negative {
        -exp_magnitude
    } else {
        exp_magnitude
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&c| c == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &b""[..]),
    };
    // Significant digits: int_part ++ frac_part without leading zeros (they
    // can only come from a `0.` prefix and fraction) or trailing zeros.
    let mut digits = [0u8; SHORT_DECIMAL_DIGITS];
    let mut k = 0;
    let mut pending_zeros = 0;
    // Position of the decimal point relative to the first significant
    // digit, counted as ECMAScript's n (value = 0.d1d2.. * 10^n).
    let mut n = exp;
    let mut seen_nonzero = false;
    for (i, &c) in int_part.iter().chain(frac_part).enumerate() {
        let in_int = i < int_part.len();
        if !seen_nonzero {
            if c == b'0' {
                if !in_int {
                    n -= 1;
                }
                continue;
            }
            seen_nonzero = true;
            if in_int {
                n += (int_part.len() - i) as i32;
            }
        }
        if c == b'0' {
            pending_zeros += 1;
            continue;
        }
        if k + pending_zeros + 1 > SHORT_DECIMAL_DIGITS {
            return false;
        }
        for _ in 0..pending_zeros {
            digits[k] = b'0';
            k += 1;
        }
        pending_zeros = 0;
        digits[k] = c;
        k += 1;
    }
    if k == 0 {
        // Zero of either sign prints as `0`.
        out.push(b'0');
        return true;
    }
    if !(-300..=300).contains(&n) {
        return false;
    }
    write_layout(negative, &digits[..k], n, out);
    true
}

/// Append `f` as ECMAScript `Number.prototype.toString` prints it (RFC 8785
/// §3.2.2.3): shortest round-trip digits, positional notation for
/// 1e-6 <= |f| < 1e21, otherwise `d.ddde+N` / `de-N`; `-0` prints `0`.
/// NaN and infinities have no JSON form and are an error.
pub fn write_es6_number(f: f64, out: &mut Vec<u8>) -> Result<(), CanonError> {
    if !f.is_finite() {
        return Err(CanonError::NumberNotFinite {
            text: f.to_string(),
        });
    }
    if f == 0.0 {
        out.push(b'0');
        return Ok(());
    }
    let negative = f < 0.0;
    let a = f.abs();
    if a < 9_007_199_254_740_992.0 && a.fract() == 0.0 {
        // Integral doubles below 2^53 convert exactly.
        if negative {
            out.push(b'-');
        }
        write_u64(a as u64, out);
        return Ok(());
    }
    let (digits, k, e) = shortest_digits(a);
    // ECMAScript's n: the value is 0.d1d2..dk * 10^n.
    write_layout(negative, &digits[..k], e + 1, out);
    Ok(())
}

/// The shortest round-trip decimal digits of a positive finite double, with ties between two
/// equally close candidates broken towards the even one (as ECMAScript and CPython's `repr`
/// both do): the digits (no leading or trailing zeros), their count, and the scientific exponent
/// `e` (value = d1.d2…dk × 10^e).
pub(crate) fn shortest_digits(a: f64) -> ([u8; 32], usize, i32) {
    // Rust's `{:e}` prints the shortest digit string that round-trips (the
    // closest one when there are several), which is what ECMAScript asks
    // for except in how an exact tie is broken (see below).
    let mut sci = SciBuf::default();
    let owned;
    let text: &[u8] = if write!(sci, "{a:e}").is_ok() {
        sci.as_bytes()
    } else {
        owned = format!("{a:e}");
        owned.as_bytes()
    };
    let (mantissa, exponent) = match text.iter().position(|&c| c == b'e') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, &b"0"[..]),
    };
    let mut digits = [0u8; 32];
    let mut k = 0;
    for &c in mantissa.iter().filter(|c| c.is_ascii_digit()) {
        if let Some(slot) = digits.get_mut(k) {
            *slot = c;
            k += 1;
        }
    }
    let (negative_exp, exp_digits) = match exponent.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, exponent),
    };
    let magnitude = exp_digits
        .iter()
        .filter(|c| c.is_ascii_digit())
        .fold(0i32, |acc, &c| acc * 10 + i32::from(c - b'0'));
    let mut e = if negative_exp { -magnitude } else { magnitude };
    if let Some((even, even_k, even_e)) = even_tie_alternative(a, &digits[..k]) {
        digits = even;
        k = even_k;
        e = even_e;
    }
    (digits, k, e)
}

/// Lay out significant digits `digits` (no leading or trailing zeros) of
/// the value 0.d1d2..dk * 10^n as ECMAScript's Number::toString does.
fn write_layout(negative: bool, digits: &[u8], n: i32, out: &mut Vec<u8>) {
    if negative {
        out.push(b'-');
    }
    let k = digits.len() as i32;
    if k <= n && n <= 21 {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int_part, frac_part) = digits.split_at(n as usize);
        out.extend_from_slice(int_part);
        out.push(b'.');
        out.extend_from_slice(frac_part);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-n) as usize));
        out.extend_from_slice(digits);
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.extend_from_slice(first);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest);
        }
        let e = n - 1;
        out.push(b'e');
        out.push(if e < 0 { b'-' } else { b'+' });
        write_u64(u64::from(e.unsigned_abs()), out);
    }
}

/// ECMAScript breaks a tie between two equally close shortest digit
/// strings towards the even one; Rust's shortest formatting rounds such a
/// tie away from zero (1424953923781206.25 gives `...206.3`, ECMAScript
/// `...206.2`). A tie needs the exact decimal value of `a` to have exactly
/// one digit more than the shortest form, ending in 5, which is decided here
/// exactly in integer arithmetic. Returns the replacement digits, their
/// count and the scientific exponent, or `None` when Rust's digits stand.
fn even_tie_alternative(a: f64, digits: &[u8]) -> Option<([u8; 32], usize, i32)> {
    let bits = a.to_bits();
    let biased = ((bits >> 52) & 0x7FF) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut m, mut q) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        return None;
    }
    let zeros = m.trailing_zeros();
    m >>= zeros;
    q += zeros as i32;
    // a = m * 2^q with m odd. With q >= 0 the spacing of doubles is at least
    // 1 and no two shortest candidates can tie; with 2^q = 5^-q / 10^-q the
    // exact decimal significand is s = m * 5^-q, which ends in 5. Beyond
    // 5^32 it has more than 18 digits, more than any tie could have.
    if !(-32..0).contains(&q) {
        return None;
    }
    let n = q.unsigned_abs();
    let s = u128::from(m).checked_mul(5u128.checked_pow(n)?)?;
    let k = u32::try_from(digits.len()).ok()?;
    let lower = 10u128.checked_pow(k)?;
    if s < lower || s >= lower.checked_mul(10)? {
        return None;
    }
    // s has exactly k + 1 digits: Rust's digits are s / 10 or s / 10 + 1.
    let below = s / 10;
    let even = if below % 2 == 0 { below } else { below + 1 };
    let chosen = digits
        .iter()
        .fold(0u128, |acc, &d| acc * 10 + u128::from(d - b'0'));
    if chosen == even {
        return None;
    }
    // The candidate is even * 10^(1 - n); take it only if it round-trips.
    let power = 1 - i32::try_from(n).ok()?;
    let round_trip = format!("{even}e{power}").parse::<f64>().ok()?;
    if round_trip.to_bits() != a.to_bits() {
        return None;
    }
    let text = even.to_string();
    let significant = text.trim_end_matches('0');
    let mut replacement = [0u8; 32];
    replacement
        .get_mut(..significant.len())?
        .copy_from_slice(significant.as_bytes());
    let new_e = i32::try_from(text.len()).ok()? - 1 + power;
    Some((replacement, significant.len(), new_e))
}

fn write_u64(mut v: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// Stack buffer for one `{:e}`-formatted double (at most 24 bytes).
#[derive(Default)]
struct SciBuf {
    bytes: [u8; 32],
    len: usize,
}

impl SciBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl fmt::Write for SciBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::json::{Limits, parse};
    use super::*;

    fn jcs(input: &str) -> Result<String, CanonError> {
        let value = parse(input.as_bytes(), &Limits::default()).unwrap();
        let mut out = Vec::new();
        write_jcs(&value, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn ok(input: &str) -> String {
        jcs(input).unwrap()
    }

    fn es6(f: f64) -> String {
        let mut out = Vec::new();
        write_es6_number(f, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Splicing members out of a canonical form equals canonicalizing without them: members in
    /// order and out of order, nested objects with the same names, the dropped member first,
    /// last, the only one, absent, and names that sort by UTF-16 differently from UTF-8.
    #[test]
    fn splice_without_equals_canonicalizing_without() {
        let docs = [
            r#"{"a":1,"signature":"x","z":{"signature":"n","b":[{"signature":1}]}}"#,
            r#"{"z":0,"signature":"x","a":{"signature":"n"},"signature_classical":"y","m":null}"#,
            r#"{"signature":"only"}"#,
            r#"{"signature":"s","a":"first dropped"}"#,
            r#"{"a":"last dropped","zz":1,"signature":"s"}"#,
            r#"{"a":1,"b":2}"#,
            r#"{}"#,
            "{\"\u{e000}\":1,\"\u{1f600}\":2,\"signature\":3,\"batch\":{\"signature\":4}}",
            r#"{"batch":{"a":1},"signature":"s","signature_classical":"c","x":[1.50,"\u00e9"]}"#,
        ];
        let drops: [&[&str]; 4] = [
            &["signature"],
            &["signature", "signature_classical"],
            &["a", "z"],
            &[],
        ];
        for doc in docs {
            let Value::Object(members) = parse(doc.as_bytes(), &Limits::default()).unwrap() else {
                panic!("{doc} is an object");
            };
            for exclude in [&["batch"][..], &[][..]] {
                let mut whole = Vec::new();
                let mut spans = Vec::new();
                write_jcs_object_spans(&members, exclude, &mut whole, &mut spans).unwrap();
                let mut plain = Vec::new();
                write_jcs_object_excluding(&members, exclude, &mut plain).unwrap();
                assert_eq!(whole, plain, "{doc}: the spans do not change the output");
                for drop in drops {
                    let mut spliced = Vec::new();
                    splice_without(&whole, &spans, drop, &mut spliced);
                    let all: Vec<&str> = exclude.iter().chain(drop).copied().collect();
                    let mut expected = Vec::new();
                    write_jcs_object_excluding(&members, &all, &mut expected).unwrap();
                    assert_eq!(
                        String::from_utf8(spliced).unwrap(),
                        String::from_utf8(expected).unwrap(),
                        "{doc} without {all:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn structure_and_whitespace() {
        assert_eq!(
            ok(" { \"b\" : [ 1 , true , null ] , \"a\" : { } } "),
            r#"{"a":{},"b":[1,true,null]}"#
        );
        assert_eq!(ok("[]"), "[]");
        assert_eq!(ok("{}"), "{}");
        assert_eq!(ok("[[],{},[{}]]"), "[[],{},[{}]]");
        assert_eq!(ok("\"x\""), "\"x\"");
        assert_eq!(ok("false"), "false");
    }

    #[test]
    fn member_sorting() {
        assert_eq!(
            ok(r#"{"b":1,"a":2,"aa":3,"":4,"B":5}"#),
            r#"{"":4,"B":5,"a":2,"aa":3,"b":1}"#
        );
        // Nested objects sort independently, at every depth.
        assert_eq!(
            ok(r#"{"z":{"y":1,"x":{"q":1,"p":2}},"a":[{"d":1,"c":2}]}"#),
            r#"{"a":[{"c":2,"d":1}],"z":{"x":{"p":2,"q":1},"y":1}}"#
        );
        // U+007F < U+0080 < U+00FF < U+0100.
        assert_eq!(
            ok("{\"\u{100}\":4,\"\u{ff}\":3,\"\u{80}\":2,\"\u{7f}\":1}"),
            "{\"\u{7f}\":1,\"\u{80}\":2,\"\u{ff}\":3,\"\u{100}\":4}"
        );
        // Supplementary plane (surrogate pair D83D..) sorts before U+E000..U+FFFF,
        // but after U+D7FF and everything below.
        assert_eq!(
            ok("{\"\u{ffff}\":1,\"\u{e000}\":2,\"\u{1F602}\":3,\"\u{d7ff}\":4,\"\u{10FFFF}\":5}"),
            "{\"\u{d7ff}\":4,\"\u{1F602}\":3,\"\u{10FFFF}\":5,\"\u{e000}\":2,\"\u{ffff}\":1}"
        );
        // Same prefix, then the rule applies at the differing character.
        assert_eq!(
            ok("{\"a\u{ef00}\":1,\"a\u{1F600}\":2,\"a\":3}"),
            "{\"a\":3,\"a\u{1F600}\":2,\"a\u{ef00}\":1}"
        );
    }

    #[test]
    fn cmp_utf16_matches_encode_utf16_order() {
        let samples = [
            "",
            "a",
            "ab",
            "b",
            "\u{7f}",
            "\u{80}",
            "\u{7ff}",
            "\u{800}",
            "\u{d7ff}",
            "\u{e000}",
            "\u{efff}",
            "\u{f000}",
            "\u{fb33}",
            "\u{ffff}",
            "\u{10000}",
            "\u{1F389}",
            "\u{10FFFF}",
            "a\u{e000}",
            "a\u{10000}",
            "\u{e000}a",
            "\u{10000}a",
            "\u{20ac}",
            "\u{f6}",
        ];
        for a in samples {
            for b in samples {
                let expected = a.encode_utf16().cmp(b.encode_utf16());
                assert_eq!(cmp_utf16(a, b), expected, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn strings() {
        assert_eq!(
            ok(r#""\u0000\u0001\u001f\b\f\n\r\t\"\\\/\u007f\u2028\u2029<>&'""#),
            "\"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\u{7f}\u{2028}\u{2029}<>&'\""
        );
        assert_eq!(ok(r#""\u000B\u001A""#), r#""\u000b\u001a""#);
        assert_eq!(ok(r#""\u00e9\ud83d\ude02\u20ac""#), "\"é😂€\"");
        assert_eq!(ok(r#"{"\n":1}"#), r#"{"\n":1}"#);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            ok("[0,-0,1,-1,10,-0.0,0.0,1.0,1.5,-1.50e+3,1E2,5e-1]"),
            "[0,0,1,-1,10,0,0,1,1.5,-1500,100,0.5]"
        );
        assert_eq!(
            ok("[1e21,1e20,1e-6,1e-7,123e-9,1.5e-7]"),
            "[1e+21,100000000000000000000,0.000001,1e-7,1.23e-7,1.5e-7]"
        );
        assert_eq!(
            ok("[9007199254740991,-9007199254740991]"),
            "[9007199254740991,-9007199254740991]"
        );
        assert_eq!(ok("9007199254740993.0"), "9007199254740992");
        assert_eq!(ok("9007199254740992.0"), "9007199254740992");
        assert_eq!(ok("333333333.33333329"), "333333333.3333333");
        assert_eq!(ok("0.30000000000000004"), "0.30000000000000004");
        assert_eq!(ok("1e-400"), "0");
        assert_eq!(ok("-1e-400"), "0");
    }

    #[test]
    fn integer_policy() {
        for bad in [
            "9007199254740992",
            "-9007199254740992",
            "9007199254740993",
            "10000000000000000",
            "123456789012345678901234567890",
        ] {
            assert_eq!(
                jcs(bad),
                Err(CanonError::IntegerOutOfRange {
                    text: bad.to_owned()
                }),
                "{bad}"
            );
        }
        assert_eq!(ok("[1000000000000000]"), "[1000000000000000]");
        assert_eq!(ok("8999999999999999"), "8999999999999999");
        // Nested deep inside, and `out` is restored on error.
        let value = parse(br#"{"a":[1,{"b":9007199254740992}]}"#, &Limits::default()).unwrap();
        let mut out = b"prefix".to_vec();
        let e = write_jcs(&value, &mut out).unwrap_err();
        assert_eq!(out, b"prefix");
        assert_eq!(
            e.to_string(),
            "integer 9007199254740992 is outside the exactly representable range \
             -(2^53-1)..=2^53-1 and has no canonical form"
        );
    }

    #[test]
    fn non_finite() {
        assert_eq!(
            jcs("1e400"),
            Err(CanonError::NumberNotFinite {
                text: "1e400".into()
            })
        );
        assert_eq!(
            jcs("[-1.5e999]"),
            Err(CanonError::NumberNotFinite {
                text: "-1.5e999".into()
            })
        );
        let mut out = Vec::new();
        assert!(write_es6_number(f64::NAN, &mut out).is_err());
        assert!(write_es6_number(f64::INFINITY, &mut out).is_err());
        assert_eq!(
            write_es6_number(f64::NEG_INFINITY, &mut out),
            Err(CanonError::NumberNotFinite {
                text: "-inf".into()
            })
        );
        assert!(out.is_empty());
        assert_eq!(
            CanonError::NumberNotFinite {
                text: "1e400".into()
            }
            .to_string(),
            "number 1e400 is not a finite IEEE-754 double and has no canonical form"
        );
    }

    #[test]
    fn es6_formatting() {
        assert_eq!(es6(0.0), "0");
        assert_eq!(es6(-0.0), "0");
        assert_eq!(es6(1.0), "1");
        assert_eq!(es6(-1.0), "-1");
        assert_eq!(es6(0.1), "0.1");
        assert_eq!(es6(-1.5), "-1.5");
        assert_eq!(es6(1e21), "1e+21");
        assert_eq!(es6(1e20), "100000000000000000000");
        assert_eq!(es6(123456789012345680000.0), "123456789012345680000");
        assert_eq!(es6(1.2345e21), "1.2345e+21");
        assert_eq!(es6(1e-6), "0.000001");
        assert_eq!(es6(1.5e-6), "0.0000015");
        assert_eq!(es6(1e-7), "1e-7");
        assert_eq!(es6(-1.5e-7), "-1.5e-7");
        assert_eq!(es6(5e-324), "5e-324");
        assert_eq!(es6(-5e-324), "-5e-324");
        assert_eq!(es6(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(es6(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(es6(9007199254740992.0), "9007199254740992");
        assert_eq!(es6(9007199254740994.0), "9007199254740994");
        assert_eq!(es6(4.5), "4.5");
        assert_eq!(es6(0.002), "0.002");
        assert_eq!(es6(1e30), "1e+30");
        assert_eq!(es6(123.456), "123.456");
        assert_eq!(es6(-3.3333333333333335e21), "-3.3333333333333335e+21");
        assert_eq!(es6(1e100), "1e+100");
        // Ties between two shortest candidates go to the even one.
        // 1424953923781206.25 exactly (spacing 0.25), from the ES6 vectors.
        let tie = f64::from_bits(0x4314_3ff3_c1cb_0959);
        assert_eq!(tie - 1424953923781206.0, 0.25);
        assert_eq!(es6(tie), "1424953923781206.2");
        assert_eq!(es6(-tie), "-1424953923781206.2");
        assert_eq!(es6(tie + 0.5), "1424953923781206.8");
        assert_eq!(es6(0.5), "0.5");
        assert_eq!(es6(2.5), "2.5");
    }

    /// Deterministic generator for the differential tests below.
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *seed >> 33
    }

    #[test]
    fn short_decimal_fast_path_agrees_with_double_path() {
        let mut seed = 7;
        let mut fast_hits = 0;
        let mut tokens: Vec<String> = [
            "0.0",
            "-0.0",
            "0e5",
            "1.0",
            "1.50",
            "0.001",
            "0.0000010",
            "1e-7",
            "123.456e3",
            "100e-2",
            "0.1e1",
            "1e21",
            "1e20",
            "999999999999999e6",
            "1.00000000000000e21",
            "123456789012345.0",
            "1234567890123456.0",
            "0.30000000000000004",
            "1e300",
            "1e301",
            "1e-300",
            "1e-301",
            "-1.5E+10",
            "10.010",
            "0.000000000000000000000000001",
            "333333333.33333329",
            "4.50",
            "2e-3",
            "1E30",
            "5e-324",
            "1.7976931348623157e308",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        for _ in 0..20_000 {
            let digits = lcg(&mut seed) % 10_u64.pow(1 + (lcg(&mut seed) % 17) as u32);
            let frac = (lcg(&mut seed) % 20) as usize;
            let text = format!("{digits:0>width$}", width = frac + 1);
            let (int_part, frac_part) = text.split_at(text.len() - frac);
            let int_part = int_part.trim_start_matches('0');
            let int_part = if int_part.is_empty() { "0" } else { int_part };
            let sign = if lcg(&mut seed) % 2 == 0 { "" } else { "-" };
            let exp = match lcg(&mut seed) % 3 {
                0 => String::new(),
                1 => format!("e{}", lcg(&mut seed) % 320),
                _ => format!("E-{}", lcg(&mut seed) % 320),
            };
            let token = if frac_part.is_empty() && exp.is_empty() {
                format!("{sign}{int_part}.0")
            } else if frac_part.is_empty() {
                format!("{sign}{int_part}{exp}")
            } else {
                format!("{sign}{int_part}.{frac_part}{exp}")
            };
            tokens.push(token);
        }
        for token in &tokens {
            let number = match parse(token.as_bytes(), &Limits::default()).unwrap() {
                Value::Number(n) => n,
                other => panic!("{other:?}"),
            };
            assert!(!number.is_integer_token(), "{token}");
            let mut fast = Vec::new();
            let used_fast = write_short_decimal(token, &mut fast);
            let mut slow = Vec::new();
            let slow_result = write_es6_number(number.as_f64(), &mut slow);
            if used_fast {
                fast_hits += 1;
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&slow),
                    "{token}"
                );
            } else {
                assert!(fast.is_empty(), "{token}");
            }
            let mut via_number = Vec::new();
            match write_number(&number, &mut via_number) {
                Ok(()) => assert_eq!(via_number, slow, "{token}"),
                Err(e) => {
                    assert!(slow_result.is_err(), "{token}: {e}");
                }
            }
        }
        assert!(fast_hits > 5_000, "fast path taken only {fast_hits} times");
    }

    #[test]
    fn excluding() {
        let value = parse(
            br#"{"signature":"s","b":[{"z":1,"signature":2}],"batch":{"x":1},"a":null,"signature_classical":"c"}"#,
            &Limits::default(),
        )
        .unwrap();
        let members = value.as_object().unwrap();
        let mut out = Vec::new();
        write_jcs_object_excluding(members, &["batch"], &mut out).unwrap();
        assert_eq!(
            out,
            br#"{"a":null,"b":[{"signature":2,"z":1}],"signature":"s","signature_classical":"c"}"#
        );
        out.clear();
        write_jcs_object_excluding(
            members,
            &["signature", "signature_classical", "batch"],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, br#"{"a":null,"b":[{"signature":2,"z":1}]}"#);
        out.clear();
        write_jcs_object_excluding(
            members,
            &["a", "b", "batch", "signature", "signature_classical"],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"{}");
        out.clear();
        write_jcs_object_excluding(members, &[], &mut out).unwrap();
        let mut full = Vec::new();
        write_jcs(&value, &mut full).unwrap();
        assert_eq!(out, full);
        // Errors restore `out`, and an excluded member is never looked at.
        let bad = parse(br#"{"a":1,"batch":1e400}"#, &Limits::default()).unwrap();
        let mut out = b"x".to_vec();
        write_jcs_object_excluding(bad.as_object().unwrap(), &["batch"], &mut out).unwrap();
        assert_eq!(out, br#"x{"a":1}"#);
        let mut out = b"x".to_vec();
        assert!(write_jcs_object_excluding(bad.as_object().unwrap(), &[], &mut out).is_err());
        assert_eq!(out, b"x");
    }

    #[test]
    fn appends_to_out() {
        let mut out = b"pre:".to_vec();
        write_jcs(&Value::Null, &mut out).unwrap();
        write_jcs(&Value::Bool(true), &mut out).unwrap();
        assert_eq!(out, b"pre:nulltrue");
    }

    #[test]
    fn idempotent_on_hand_cases() {
        for input in [
            r#"{"b":[1,2.50,{"d":"\u00e9","c":-0}],"a":"\ud83d\ude02\n","\ue000":1,"\ud83c\udf89":2}"#,
            "[1e-7,1e21,0.1,123456789.125,-5e-324,1.7976931348623157e308]",
            r#"{"":{"":[[],{}]}}"#,
            r#""\u001f\u007f\u2028""#,
        ] {
            let first = ok(input);
            let second = ok(&first);
            assert_eq!(first, second, "{input}");
        }
    }

    /// Micro-timing of the hot path; prints, asserts nothing about speed.
    /// `cargo test --release --lib timing -- --ignored --nocapture`
    #[test]
    #[ignore = "micro-timing, run by hand in release mode"]
    fn timing_529_byte_record() {
        let record = br#"{"schema":"audit/v1","seq":1842,"ts":"2026-03-14T09:26:53.589793Z","agent_id":"agent-7f3c2a","session":"sess_01HZX4Q9W2","event":"tool_call","tool":{"name":"http.get","args":{"url":"https://example.com/api/v2/items?limit=50","timeout_ms":3000}},"result":{"status":200,"bytes":18234,"latency_ms":412.75},"prev_hash":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","hash":"sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752","signature":"MEUCIQDx3k9aQ","batch":{"id":7,"root":"ab12"}}"#;
        let best_of = |f: &mut dyn FnMut()| {
            let mut best = f64::MAX;
            for _ in 0..100 {
                let started = std::time::Instant::now();
                for _ in 0..1000 {
                    f();
                }
                best = best.min(started.elapsed().as_nanos() as f64 / 1000.0);
            }
            best
        };
        let limits = Limits::default();
        let parse_ns = best_of(&mut || {
            std::hint::black_box(parse(std::hint::black_box(record), &limits).unwrap());
        });
        let value = parse(record, &limits).unwrap();
        let mut out = Vec::with_capacity(1024);
        let jcs_ns = best_of(&mut || {
            out.clear();
            write_jcs(std::hint::black_box(&value), &mut out).unwrap();
        });
        let members = value.as_object().unwrap();
        let excluding_ns = best_of(&mut || {
            out.clear();
            write_jcs_object_excluding(
                std::hint::black_box(members),
                &["signature", "batch"],
                &mut out,
            )
            .unwrap();
        });
        eprintln!(
            "{} bytes: parse {parse_ns:.0} ns, write_jcs {jcs_ns:.0} ns, excluding {excluding_ns:.0} ns",
            record.len()
        );
    }

    #[test]
    fn deep_values_do_not_recurse() {
        let handle = std::thread::Builder::new()
            .stack_size(8 * 1024 * 1024)
            .spawn(|| {
                let depth = 10_000;
                let input = format!(
                    "{}1{}",
                    "[{\"k\":".repeat(depth / 2),
                    "}]".repeat(depth / 2)
                );
                let value = parse(input.as_bytes(), &Limits { max_depth: depth }).unwrap();
                let mut out = Vec::new();
                write_jcs(&value, &mut out).unwrap();
                assert_eq!(out, input.as_bytes());
            })
            .unwrap();
        handle.join().unwrap();
    }
}
