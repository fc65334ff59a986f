//! Strict JSON parser: owns turning untrusted bytes into a [`Value`] tree,
//! following RFC 8259 plus the I-JSON restrictions of RFC 7493 (UTF-8 only,
//! no duplicate member names, no lone surrogates). Anything outside that
//! grammar is an error with the byte offset where it was found; nothing is
//! silently repaired, because a verifier that normalises its input could
//! "verify" bytes other than the ones that were signed.
//!
//! Details of the accepted language:
//!
//! * The whole input must be valid UTF-8 ([`ParseErrorKind::InvalidUtf8`] at
//!   the first bad byte, also inside strings; overlong forms and UTF-8
//!   encoded surrogates are invalid). A leading byte order mark is not
//!   accepted: callers that allow one strip it first.
//! * Whitespace is space, tab, LF and CR only.
//! * Numbers follow the RFC 8259 grammar exactly (no leading zeros, no `+`,
//!   no `.5`, no `NaN`/`Infinity`). The token text is kept verbatim in
//!   [`Number`]; converting it is left to the consumer.
//! * `\uXXXX` escapes are decoded; a high surrogate must be followed at once
//!   by an escaped low surrogate, and a low surrogate may not stand alone
//!   ([`ParseErrorKind::LoneSurrogate`]). Raw U+0000..U+001F in strings are
//!   rejected.
//! * Member names are compared after unescaping; a repeated name in one
//!   object is [`ParseErrorKind::DuplicateKey`] at the second name.
//! * Nesting of arrays and objects is limited by [`Limits::max_depth`]. The
//!   parser is iterative (an explicit stack on the heap), so the limit, not
//!   the thread's stack, decides how deep a document may go. Dropping,
//!   cloning, comparing or debug-printing a [`Value`] is recursive, which is
//!   fine for the depths a limit of up to about 10,000 allows on an 8 MiB
//!   stack.

use std::fmt;
use std::ops::Range;

use crate::tables::HashSet;

/// A parsed JSON value. Objects keep their members in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, kept as its token.
    Number(Number),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in input order (names are unique).
    Object(Vec<Member>),
}

/// A JSON number, kept as the exact token text from the input.
///
/// Equality compares the text: `1.0` and `1` are different tokens.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    repr: NumberRepr,
}

/// Longest token kept inline; longer ones go to the heap.
const INLINE_NUMBER: usize = 21;

/// Token storage: short tokens (nearly all of them) inline, so a number
/// costs no allocation. Which variant holds a token depends only on its
/// length, so the derived equality compares texts.
#[derive(Clone, PartialEq, Eq, Hash)]
enum NumberRepr {
    Inline {
        len: u8,
        integer: bool,
        bytes: [u8; INLINE_NUMBER],
    },
    Heap {
        text: Box<str>,
        integer: bool,
    },
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.text())
    }
}

/// One member of an object, with where it came from in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member name, unescaped.
    pub key: String,
    /// The member value.
    pub value: Value,
    /// Byte range from the name's opening quote to the end of the value.
    pub span: Range<usize>,
    /// Byte range of the value alone.
    pub value_span: Range<usize>,
}

/// Resource limits for [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Greatest number of arrays and objects that may be open at once.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 128 }
    }
}

/// Why and where (byte offset into the input) parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Byte offset in the input where it went wrong.
    pub offset: usize,
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The input is not valid UTF-8; the offset is the first bad byte.
    InvalidUtf8,
    /// A `\uXXXX` surrogate escape without its partner; the offset is its backslash.
    LoneSurrogate,
    /// A member name repeated in one object; the offset is the second name's quote.
    DuplicateKey(String),
    /// More arrays/objects open at once than the limit; the offset is the bracket.
    TooDeep {
        /// The nesting limit in force.
        limit: usize,
    },
    /// The input ended inside a value; the offset is the input length.
    UnexpectedEnd,
    /// A byte that cannot start or continue the expected token.
    UnexpectedByte(u8),
    /// A number that breaks the RFC 8259 grammar; the offset is the first wrong byte.
    InvalidNumber,
    /// An unknown escape or bad hex digits; the offset is the backslash.
    InvalidEscape,
    /// A raw U+0000..U+001F inside a string.
    ControlCharacterInString,
    /// Something other than whitespace after the top-level value.
    TrailingCharacters,
    /// No value at all (empty or whitespace-only input).
    Empty,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8"),
            ParseErrorKind::LoneSurrogate => f.write_str("lone UTF-16 surrogate in a \\u escape"),
            ParseErrorKind::DuplicateKey(key) => write!(f, "duplicate member name {key:?}"),
            ParseErrorKind::TooDeep { limit } => {
                write!(f, "arrays/objects nested deeper than the limit of {limit}")
            }
            ParseErrorKind::UnexpectedEnd => f.write_str("unexpected end of input"),
            ParseErrorKind::UnexpectedByte(b) if b.is_ascii_graphic() => {
                write!(f, "unexpected byte 0x{b:02x} ('{}')", char::from(*b))
            }
            ParseErrorKind::UnexpectedByte(b) => write!(f, "unexpected byte 0x{b:02x}"),
            ParseErrorKind::InvalidNumber => f.write_str("invalid number"),
            ParseErrorKind::InvalidEscape => f.write_str("invalid escape sequence"),
            ParseErrorKind::ControlCharacterInString => {
                f.write_str("unescaped control character in a string")
            }
            ParseErrorKind::TrailingCharacters => {
                f.write_str("trailing characters after the JSON value")
            }
            ParseErrorKind::Empty => f.write_str("empty input: no JSON value"),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte offset {}", self.kind, self.offset)?;
        if self.offset == 0 && self.kind == ParseErrorKind::UnexpectedByte(0xEF) {
            f.write_str(" (a UTF-8 byte order mark is not accepted here)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

impl Number {
    /// The exact token as written in the input, e.g. `-1.50e+3`.
    pub fn text(&self) -> &str {
        match &self.repr {
            // Inline bytes are always a copy of an ASCII token.
            NumberRepr::Inline { len, bytes, .. } => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            NumberRepr::Heap { text, .. } => text,
        }
    }

    /// True when the token has no fraction and no exponent (`-12`, `0`).
    pub fn is_integer_token(&self) -> bool {
        match self.repr {
            NumberRepr::Inline { integer, .. } | NumberRepr::Heap { integer, .. } => integer,
        }
    }

    /// Wrap a token the parser has checked against the number grammar.
    fn from_token(text: &str, integer: bool) -> Number {
        let mut bytes = [0u8; INLINE_NUMBER];
        let repr = match (bytes.get_mut(..text.len()), u8::try_from(text.len())) {
            (Some(slot), Ok(len)) => {
                slot.copy_from_slice(text.as_bytes());
                NumberRepr::Inline {
                    len,
                    integer,
                    bytes,
                }
            }
            _ => NumberRepr::Heap {
                text: text.into(),
                integer,
            },
        };
        Number { repr }
    }

    /// The correctly rounded double nearest the token; `1e400` gives
    /// infinity and `1e-400` gives zero.
    pub fn as_f64(&self) -> f64 {
        // Every token the parser accepts is also accepted by Rust's float
        // grammar, so the fallback is unreachable.
        self.text().parse::<f64>().unwrap_or(f64::NAN)
    }

    /// The exact value of an integer token that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_integer_token() {
            self.text().parse::<i64>().ok()
        } else {
            None
        }
    }

    /// The exact value of a non-negative integer token that fits in `u64`
    /// (`-0` counts as zero).
    pub fn as_u64(&self) -> Option<u64> {
        if !self.is_integer_token() {
            None
        } else if self.text() == "-0" {
            Some(0)
        } else {
            self.text().parse::<u64>().ok()
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl Value {
    /// The value of the first member named `key`, if this is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&[Member]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The number, if this is a number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The JSON type: "null", "boolean", "number", "string", "array" or "object".
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Parse exactly one JSON value, with optional surrounding whitespace.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Value, ParseError> {
    parse_inner(input, limits, false)
}

/// Like [`parse`], but also accepts the tokens `NaN`, `Infinity` and `-Infinity` that Python's
/// `json.dumps` writes by default (`allow_nan=True`) and `json.loads` reads. They become
/// [`Number`]s whose text is the token (not integer tokens); only the Python dialects of
/// [`super::pyjson`] can print them, every other canonical form refuses them.
pub fn parse_python(input: &[u8], limits: &Limits) -> Result<Value, ParseError> {
    parse_inner(input, limits, true)
}

fn parse_inner(input: &[u8], limits: &Limits, nonfinite: bool) -> Result<Value, ParseError> {
    parse_whole(input, limits, nonfinite, &[], &mut Vec::new()).map(|(value, _)| value)
}

/// Parses the whole input (one value between optional whitespace); the values of the top-level
/// members named in `skip` that are arrays or objects are checked but not built (see
/// [`parse_python_shallow`]). Also says whether a `NaN`/`Infinity` token was read.
fn parse_whole(
    input: &[u8],
    limits: &Limits,
    nonfinite: bool,
    skip: &[&str],
    skipped: &mut Vec<Skipped>,
) -> Result<(Value, bool), ParseError> {
    let src = std::str::from_utf8(input).map_err(|e| ParseError {
        kind: ParseErrorKind::InvalidUtf8,
        offset: e.valid_up_to(),
    })?;
    let mut parser = Parser {
        src,
        bytes: input,
        pos: 0,
        nonfinite,
        nonfinite_seen: false,
    };
    parser.skip_ws();
    if parser.pos == input.len() {
        return Err(parser.error(ParseErrorKind::Empty, parser.pos));
    }
    let value = parser.parse_tree(limits.max_depth, skip, skipped)?;
    parser.end()?;
    Ok((value, parser.nonfinite_seen))
}

/// A top-level member whose array or object value [`parse_python_shallow`] checked but did not
/// build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The member name.
    pub key: String,
    /// How many elements (array) or members (object) the value holds.
    pub len: usize,
}

/// The result of [`parse_python_shallow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shallow {
    /// The value, in which each skipped member holds an empty array or object of its kind (its
    /// spans are those of the real value).
    pub value: Value,
    /// The skipped members, in input order.
    pub skipped: Vec<Skipped>,
    /// Whether the input holds a `NaN`, `Infinity` or `-Infinity` token (which [`parse`]
    /// refuses).
    pub nonfinite: bool,
}

/// Like [`parse_python`], but the value of each top-level member named in `skip` that is an array
/// or an object is checked as thoroughly (same errors at the same offsets) without being built:
/// only its kind, its element count and its spans are kept. For a large object whose bulk is one
/// member (a bundle's record array), whose elements are then parsed one at a time from its span
/// with [`parse_python_elements`].
///
/// # Errors
/// Exactly those of [`parse_python`] on the same input.
pub fn parse_python_shallow(
    input: &[u8],
    limits: &Limits,
    skip: &[&str],
) -> Result<Shallow, ParseError> {
    let mut skipped = Vec::new();
    let (value, nonfinite) = parse_whole(input, limits, true, skip, &mut skipped)?;
    Ok(Shallow {
        value,
        skipped,
        nonfinite,
    })
}

/// The elements of a JSON array, parsed one at a time as [`parse_python`] parses them: only one
/// element is held at once. Yields each element, or the error that [`parse_python`] of the whole
/// input would report (then ends); on a valid array exactly its elements (their spans are offsets
/// into the array's text).
pub struct Elements<'a> {
    parser: Parser<'a>,
    /// The nesting limit of the whole array.
    depth: usize,
    /// Where the input stops being UTF-8.
    utf8_error: Option<usize>,
    state: ElementsState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElementsState {
    /// Before the opening bracket.
    Start,
    /// After the bracket or a comma: an element follows.
    Element,
    /// After an element: a comma or the closing bracket.
    After,
    /// Ended.
    Done,
}

/// The elements of the array `input` (with optional whitespace around it), one at a time.
pub fn parse_python_elements<'a>(input: &'a [u8], limits: &Limits) -> Elements<'a> {
    // A text that is not UTF-8 is refused before its first element.
    let (src, utf8_error) = match std::str::from_utf8(input) {
        Ok(src) => (src, None),
        Err(e) => ("", Some(e.valid_up_to())),
    };
    Elements {
        parser: Parser {
            src,
            bytes: input,
            pos: 0,
            nonfinite: true,
            nonfinite_seen: false,
        },
        depth: limits.max_depth,
        utf8_error,
        state: ElementsState::Start,
    }
}

impl Elements<'_> {
    fn step(&mut self) -> Result<Option<Value>, ParseError> {
        let p = &mut self.parser;
        loop {
            match self.state {
                ElementsState::Done => return Ok(None),
                ElementsState::Start => {
                    if let Some(offset) = self.utf8_error {
                        return Err(p.error(ParseErrorKind::InvalidUtf8, offset));
                    }
                    p.skip_ws();
                    match p.peek() {
                        None => return Err(p.error(ParseErrorKind::Empty, p.pos)),
                        Some(b'[') if self.depth == 0 => {
                            let limit = self.depth;
                            return Err(p.error(ParseErrorKind::TooDeep { limit }, p.pos));
                        }
                        Some(b'[') => {
                            p.pos += 1;
                            p.skip_ws();
                            if p.peek() == Some(b']') {
                                p.pos += 1;
                                self.state = ElementsState::Done;
                                return p.end().map(|()| None);
                            }
                            self.state = ElementsState::Element;
                        }
                        // Not an array: whatever the whole parse says (at worst, no elements).
                        Some(_) => {
                            p.parse_tree(self.depth, &[], &mut Vec::new())?;
                            p.end()?;
                            return Ok(None);
                        }
                    }
                }
                ElementsState::Element => {
                    // An element may nest one level less than the array; an error names the
                    // array's limit, as the whole parse does.
                    let limit = self.depth;
                    let value =
                        p.parse_tree(limit - 1, &[], &mut Vec::new())
                            .map_err(|mut e| {
                                if let ParseErrorKind::TooDeep { limit: l } = &mut e.kind {
                                    *l = limit;
                                }
                                e
                            })?;
                    self.state = ElementsState::After;
                    return Ok(Some(value));
                }
                ElementsState::After => {
                    p.skip_ws();
                    match p.peek() {
                        Some(b',') => {
                            p.pos += 1;
                            p.skip_ws();
                            self.state = ElementsState::Element;
                        }
                        Some(b']') => {
                            p.pos += 1;
                            self.state = ElementsState::Done;
                            return p.end().map(|()| None);
                        }
                        _ => return Err(p.unexpected(p.pos)),
                    }
                }
            }
        }
    }
}

impl Iterator for Elements<'_> {
    type Item = Result<Value, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(Some(v)) => Some(Ok(v)),
            Ok(None) => {
                self.state = ElementsState::Done;
                None
            }
            Err(e) => {
                self.state = ElementsState::Done;
                Some(Err(e))
            }
        }
    }
}

/// Bytes that end the plain (copy-as-is) part of a string: `"`, `\` and
/// the control characters.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Length of the longest prefix of `bytes` with no `"`, `\` or control
/// byte (U+0000..U+001F): the part of a string that needs no escaping, in
/// either direction. Looks at eight bytes at a time: in each word, the
/// lowest flagged byte is exact (a borrow only runs towards higher bytes).
pub(super) fn plain_len(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let control = x.wrapping_sub(ONES * 0x20) & !x;
        let q = x ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let b = x ^ (ONES * u64::from(b'\\'));
        let backslash = b.wrapping_sub(ONES) & !b;
        let found = (control | quote | backslash) & HIGHS;
        if found != 0 {
            return offset + (found.trailing_zeros() / 8) as usize;
        }
        offset += 8;
    }
    let rest = chunks.remainder();
    offset
        + rest
            .iter()
            .position(|&c| STRING_STOP[usize::from(c)])
            .unwrap_or(rest.len())
}

/// Objects with more members than this check duplicates with a hash set
/// instead of a linear scan.
const LINEAR_DUPLICATE_SCAN: usize = 32;

/// An array or object that is still open. Its children so far sit at the
/// end of the parser's shared `values` or `members` scratch vector, from
/// `base` on, so growing them costs no allocation per container; closing
/// moves them into one exactly sized vector.
enum Frame {
    Array {
        start: usize,
        base: usize,
    },
    Object {
        start: usize,
        base: usize,
        /// Name of the member whose value is being parsed.
        key: String,
        key_start: usize,
        /// Names seen so far, built once the object grows large.
        seen: Option<HashSet<String>>,
    },
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Accept Python's `NaN`, `Infinity`, `-Infinity`.
    nonfinite: bool,
    /// One of them was read.
    nonfinite_seen: bool,
}

impl<'a> Parser<'a> {
    fn error(&self, kind: ParseErrorKind, offset: usize) -> ParseError {
        ParseError { kind, offset }
    }

    fn unexpected(&self, at: usize) -> ParseError {
        match self.bytes.get(at) {
            Some(&b) => self.error(ParseErrorKind::UnexpectedByte(b), at),
            None => self.error(ParseErrorKind::UnexpectedEnd, self.bytes.len()),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Only whitespace may follow the value.
    fn end(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.error(ParseErrorKind::TrailingCharacters, self.pos))
        }
    }

    /// The input between two offsets that sit on ASCII bytes.
    fn slice(&self, from: usize, to: usize) -> Result<&'a str, ParseError> {
        self.src
            .get(from..to)
            .ok_or_else(|| self.error(ParseErrorKind::InvalidUtf8, from))
    }

    /// Parse one value (which starts at `self.pos`, after whitespace) and
    /// everything nested in it, without recursion. The array or object
    /// value of a top-level member named in `skip` is checked but not
    /// built: an empty one of its kind stands for it, and `skipped` says
    /// how long it was.
    fn parse_tree(
        &mut self,
        max_depth: usize,
        skip: &[&str],
        skipped: &mut Vec<Skipped>,
    ) -> Result<Value, ParseError> {
        let mut stack: Vec<Frame> = Vec::with_capacity(8);
        let mut values: Vec<Value> = Vec::new();
        let mut members: Vec<Member> = Vec::with_capacity(32);
        // The skipped value being read: its frame's index in `stack`, its
        // length so far and its member name. Values completed inside it are
        // dropped (object members keep their names, for the duplicate check).
        let mut discard: Option<(usize, Skipped)> = None;
        'value: loop {
            let start = self.pos;
            let Some(byte) = self.peek() else {
                return Err(self.unexpected(start));
            };
            let mut value = match byte {
                b'"' => Value::String(self.parse_string()?),
                b'N' | b'I' if self.nonfinite => Value::Number(self.parse_nonfinite()?),
                b'-' if self.nonfinite && self.bytes.get(start + 1) == Some(&b'I') => {
                    Value::Number(self.parse_nonfinite()?)
                }
                b'-' | b'0'..=b'9' => Value::Number(self.parse_number()?),
                b'[' | b'{' => {
                    if stack.len() >= max_depth {
                        return Err(self.error(ParseErrorKind::TooDeep { limit: max_depth }, start));
                    }
                    let skipping = match stack.as_slice() {
                        [Frame::Object { key, .. }] if skip.contains(&key.as_str()) => {
                            Some(key.clone())
                        }
                        _ => None,
                    };
                    self.pos += 1;
                    self.skip_ws();
                    let empty = if byte == b'[' {
                        if self.peek() == Some(b']') {
                            self.pos += 1;
                            Value::Array(Vec::new())
                        } else {
                            stack.push(Frame::Array {
                                start,
                                base: values.len(),
                            });
                            if let Some(key) = skipping {
                                discard = Some((stack.len() - 1, Skipped { key, len: 0 }));
                            }
                            continue 'value;
                        }
                    } else if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Value::Object(Vec::new())
                    } else {
                        let (key, key_start) = self.parse_key()?;
                        self.parse_colon()?;
                        stack.push(Frame::Object {
                            start,
                            base: members.len(),
                            key,
                            key_start,
                            seen: None,
                        });
                        if let Some(key) = skipping {
                            discard = Some((stack.len() - 1, Skipped { key, len: 0 }));
                        }
                        continue 'value;
                    };
                    if let Some(key) = skipping {
                        skipped.push(Skipped { key, len: 0 });
                    }
                    empty
                }
                b't' => {
                    self.parse_literal(b"true")?;
                    Value::Bool(true)
                }
                b'f' => {
                    self.parse_literal(b"false")?;
                    Value::Bool(false)
                }
                b'n' => {
                    self.parse_literal(b"null")?;
                    Value::Null
                }
                _ => return Err(self.unexpected(start)),
            };
            let mut value_start = start;
            // A value is complete: hand it to the enclosing containers,
            // closing each one that ends right after it.
            loop {
                let value_end = self.pos;
                // Whether the container receiving the value is (inside) the
                // skipped one, and whether it is the skipped one itself.
                let (inside, direct) = match &mut discard {
                    Some((at, skipped)) => {
                        let direct = stack.len() == *at + 1;
                        if direct {
                            skipped.len += 1;
                        }
                        (stack.len() > *at, direct)
                    }
                    None => (false, false),
                };
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(Frame::Array { start, base }) => {
                        if !inside {
                            values.push(value);
                        }
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                continue 'value;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                value = if inside {
                                    Value::Array(Vec::new())
                                } else {
                                    Value::Array(values.drain(*base..).collect())
                                };
                                value_start = *start;
                                stack.pop();
                            }
                            _ => return Err(self.unexpected(self.pos)),
                        }
                    }
                    Some(Frame::Object {
                        start,
                        base,
                        key,
                        key_start,
                        seen,
                    }) => {
                        members.push(Member {
                            key: std::mem::take(key),
                            value: if inside { Value::Null } else { value },
                            span: *key_start..value_end,
                            value_span: value_start..value_end,
                        });
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                let (next_key, next_start) = self.parse_key()?;
                                let siblings = members.get(*base..).unwrap_or_default();
                                if is_duplicate(siblings, seen, &next_key) {
                                    return Err(self.error(
                                        ParseErrorKind::DuplicateKey(next_key),
                                        next_start,
                                    ));
                                }
                                self.parse_colon()?;
                                *key = next_key;
                                *key_start = next_start;
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                value = if inside {
                                    members.truncate(*base);
                                    Value::Object(Vec::new())
                                } else {
                                    Value::Object(members.drain(*base..).collect())
                                };
                                value_start = *start;
                                stack.pop();
                            }
                            _ => return Err(self.unexpected(self.pos)),
                        }
                    }
                }
                // The skipped value itself has ended.
                if direct && discard.as_ref().is_some_and(|(at, _)| stack.len() == *at) {
                    if let Some((_, done)) = discard.take() {
                        skipped.push(done);
                    }
                }
            }
        }
    }

    /// A member name (at `self.pos`) and the offset of its opening quote.
    fn parse_key(&mut self) -> Result<(String, usize), ParseError> {
        let key_start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(self.unexpected(key_start));
        }
        Ok((self.parse_string()?, key_start))
    }

    /// The `:` after a member name, with whitespace on both sides.
    fn parse_colon(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.unexpected(self.pos));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    fn parse_literal(&mut self, literal: &[u8]) -> Result<(), ParseError> {
        for (i, &expected) in literal.iter().enumerate() {
            let at = self.pos + i;
            if self.bytes.get(at) != Some(&expected) {
                return Err(self.unexpected(at));
            }
        }
        self.pos += literal.len();
        Ok(())
    }

    /// Offset of the first byte at or after `from` that is not an ASCII digit.
    fn skip_digits(&self, mut from: usize) -> usize {
        while let Some(b'0'..=b'9') = self.bytes.get(from) {
            from += 1;
        }
        from
    }

    /// At least one digit must be at `at`; returns the offset after the run.
    fn require_digits(&self, at: usize) -> Result<usize, ParseError> {
        match self.bytes.get(at) {
            Some(b'0'..=b'9') => Ok(self.skip_digits(at + 1)),
            Some(_) => Err(self.error(ParseErrorKind::InvalidNumber, at)),
            None => Err(self.error(ParseErrorKind::UnexpectedEnd, at)),
        }
    }

    /// `NaN`, `Infinity` or `-Infinity` at `self.pos`.
    fn parse_nonfinite(&mut self) -> Result<Number, ParseError> {
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let token: &'static str = if rest.starts_with(b"NaN") {
            "NaN"
        } else if rest.starts_with(b"Infinity") {
            "Infinity"
        } else if rest.starts_with(b"-Infinity") {
            "-Infinity"
        } else {
            return Err(self.unexpected(start));
        };
        self.pos += token.len();
        self.nonfinite_seen = true;
        Ok(Number::from_token(token, false))
    }

    fn parse_number(&mut self) -> Result<Number, ParseError> {
        let start = self.pos;
        let mut i = start;
        if self.bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match self.bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if let Some(b'0'..=b'9') = self.bytes.get(i) {
                    return Err(self.error(ParseErrorKind::InvalidNumber, i));
                }
            }
            _ => i = self.require_digits(i)?,
        }
        let mut integer = true;
        if self.bytes.get(i) == Some(&b'.') {
            integer = false;
            i = self.require_digits(i + 1)?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(i) {
            integer = false;
            i += 1;
            if let Some(b'+' | b'-') = self.bytes.get(i) {
                i += 1;
            }
            i = self.require_digits(i)?;
        }
        let text = self.slice(start, i)?;
        self.pos = i;
        Ok(Number::from_token(text, integer))
    }

    /// A string whose opening quote is at `self.pos`.
    fn parse_string(&mut self) -> Result<String, ParseError> {
        let start = self.pos + 1;
        let end = self.scan_plain(start);
        match self.bytes.get(end) {
            Some(b'"') => {
                let s = self.slice(start, end)?;
                self.pos = end + 1;
                Ok(s.to_owned())
            }
            Some(b'\\') => self.parse_escaped_string(start, end),
            Some(_) => Err(self.error(ParseErrorKind::ControlCharacterInString, end)),
            None => Err(self.error(ParseErrorKind::UnexpectedEnd, end)),
        }
    }

    /// Offset of the first `"`, `\` or control byte at or after `from`.
    fn scan_plain(&self, from: usize) -> usize {
        match self.bytes.get(from..) {
            Some(rest) => from + plain_len(rest),
            None => from,
        }
    }

    /// Slow path for a string with escapes: `start` is after the opening
    /// quote, `escape` the offset of the first backslash.
    fn parse_escaped_string(&mut self, start: usize, escape: usize) -> Result<String, ParseError> {
        let mut out = String::with_capacity(escape - start + 16);
        out.push_str(self.slice(start, escape)?);
        let mut i = escape;
        loop {
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(out);
                }
                Some(b'\\') => i = self.parse_escape(i, &mut out)?,
                Some(_) => return Err(self.error(ParseErrorKind::ControlCharacterInString, i)),
                None => return Err(self.error(ParseErrorKind::UnexpectedEnd, i)),
            }
            let run_end = self.scan_plain(i);
            out.push_str(self.slice(i, run_end)?);
            i = run_end;
        }
    }

    /// Decode the escape whose backslash is at `at` into `out`; returns the
    /// offset after it.
    fn parse_escape(&self, at: usize, out: &mut String) -> Result<usize, ParseError> {
        let decoded = match self.bytes.get(at + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.parse_unicode_escape(at, out),
            Some(_) => return Err(self.error(ParseErrorKind::InvalidEscape, at)),
            None => return Err(self.error(ParseErrorKind::UnexpectedEnd, at + 1)),
        };
        out.push(decoded);
        Ok(at + 2)
    }

    /// A `\uXXXX` escape (with its low-surrogate partner when it is a high
    /// surrogate) whose backslash is at `at`.
    fn parse_unicode_escape(&self, at: usize, out: &mut String) -> Result<usize, ParseError> {
        let lone = || self.error(ParseErrorKind::LoneSurrogate, at);
        let unit = self.hex4(at)?;
        let (code_point, next) = match unit {
            0xD800..=0xDBFF => {
                let second = at + 6;
                if self.bytes.get(second) != Some(&b'\\')
                    || self.bytes.get(second + 1) != Some(&b'u')
                {
                    return Err(lone());
                }
                let low = self.hex4(second)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(lone());
                }
                (
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00),
                    second + 6,
                )
            }
            0xDC00..=0xDFFF => return Err(lone()),
            _ => (unit, at + 6),
        };
        out.push(char::from_u32(code_point).ok_or_else(lone)?);
        Ok(next)
    }

    /// The four hex digits of the `\u` escape whose backslash is at `at`.
    fn hex4(&self, at: usize) -> Result<u32, ParseError> {
        let mut unit = 0u32;
        for i in at + 2..at + 6 {
            let digit = match self.bytes.get(i) {
                Some(&b) => char::from(b)
                    .to_digit(16)
                    .ok_or_else(|| self.error(ParseErrorKind::InvalidEscape, at))?,
                None => return Err(self.error(ParseErrorKind::UnexpectedEnd, i)),
            };
            unit = unit * 16 + digit;
        }
        Ok(unit)
    }
}

/// Whether `key` is already a member name, switching to a hash set once the
/// object is large so that many-member objects stay linear.
fn is_duplicate(members: &[Member], seen: &mut Option<HashSet<String>>, key: &str) -> bool {
    if let Some(set) = seen {
        return !set.insert(key.to_owned());
    }
    if members.len() < LINEAR_DUPLICATE_SCAN {
        return members.iter().any(|m| m.key == key);
    }
    let mut set: HashSet<String> = members.iter().map(|m| m.key.clone()).collect();
    let duplicate = !set.insert(key.to_owned());
    *seen = Some(set);
    duplicate
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn p(input: &[u8]) -> Result<Value, ParseError> {
        parse(input, &Limits::default())
    }

    fn err(input: &[u8]) -> (ParseErrorKind, usize) {
        match p(input) {
            Ok(v) => panic!("expected an error for {input:?}, got {v:?}"),
            Err(e) => (e.kind, e.offset),
        }
    }

    fn num(text: &str) -> Number {
        match p(text.as_bytes()) {
            Ok(Value::Number(n)) => n,
            other => panic!("{text}: {other:?}"),
        }
    }

    use ParseErrorKind as K;

    #[test]
    fn scalars_and_whitespace() {
        assert_eq!(p(b" \t\r\nnull \n").unwrap(), Value::Null);
        assert_eq!(p(b"true").unwrap(), Value::Bool(true));
        assert_eq!(p(b"false").unwrap(), Value::Bool(false));
        assert_eq!(p(b"\"a\"").unwrap(), Value::String("a".into()));
        assert_eq!(num("-1.50e+3").text(), "-1.50e+3");
    }

    #[test]
    fn structure() {
        let v = p(br#"{"a":[1,2,{"b":null}],"c":{}, "d" : [ ] }"#).unwrap();
        assert_eq!(v.type_name(), "object");
        assert_eq!(v.get("a").unwrap().as_array().unwrap().len(), 3);
        assert_eq!(v.get("c").unwrap().as_object().unwrap().len(), 0);
        assert_eq!(v.get("d").unwrap().as_array().unwrap().len(), 0);
        assert!(v.get("zz").is_none());
        assert!(Value::Null.get("a").is_none());
        let names: Vec<&str> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|m| m.key.as_str())
            .collect();
        assert_eq!(names, ["a", "c", "d"]);
    }

    #[test]
    fn type_names_and_accessors() {
        let v = p(br#"[null,true,1,"s",[],{}]"#).unwrap();
        let names: Vec<&str> = v.as_array().unwrap().iter().map(Value::type_name).collect();
        assert_eq!(
            names,
            ["null", "boolean", "number", "string", "array", "object"]
        );
        let items = v.as_array().unwrap();
        assert!(items[0].is_null());
        assert_eq!(items[1].as_bool(), Some(true));
        assert_eq!(items[2].as_number().unwrap().as_i64(), Some(1));
        assert_eq!(items[3].as_str(), Some("s"));
        assert_eq!(items[3].as_bool(), None);
    }

    #[test]
    fn numbers_accessors() {
        assert!(num("12").is_integer_token());
        assert!(!num("1.0").is_integer_token());
        assert!(!num("1e2").is_integer_token());
        assert!(!num("1E2").is_integer_token());
        assert_eq!(num("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(num("9223372036854775808").as_i64(), None);
        assert_eq!(num("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(num("18446744073709551616").as_u64(), None);
        assert_eq!(num("-1").as_u64(), None);
        assert_eq!(num("-0").as_u64(), Some(0));
        assert_eq!(num("-0").as_i64(), Some(0));
        assert_eq!(num("1.0").as_i64(), None);
        assert_eq!(num("1e2").as_u64(), None);
        assert_eq!(num("1e400").as_f64(), f64::INFINITY);
        assert_eq!(num("-1e400").as_f64(), f64::NEG_INFINITY);
        assert_eq!(num("0.1").as_f64(), 0.1);
        assert_eq!(num("9007199254740993").as_f64(), 9007199254740992.0);
        assert_eq!(num("-0.0").as_f64().to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn number_storage() {
        // Short tokens inline, long ones on the heap; same behaviour.
        let short = num("-1.50e+3");
        let boundary = num("123456789012345678901");
        let long = num("1234567890123456789012345.5e-10");
        assert_eq!(boundary.text().len(), INLINE_NUMBER);
        assert_eq!(boundary.text(), "123456789012345678901");
        assert!(boundary.is_integer_token());
        assert!(matches!(boundary.repr, NumberRepr::Inline { .. }));
        assert!(matches!(long.repr, NumberRepr::Heap { .. }));
        assert_eq!(long.text(), "1234567890123456789012345.5e-10");
        assert!(!long.is_integer_token());
        assert_eq!(
            num("12345678901234567890123").text(),
            "12345678901234567890123"
        );
        assert!(num("12345678901234567890123").is_integer_token());
        assert_eq!(short.to_string(), "-1.50e+3");
        assert_eq!(format!("{short:?}"), "Number(-1.50e+3)");
        assert_ne!(num("1.0"), num("1"));
        assert_eq!(num("1.0"), num("1.0"));
        assert!(std::mem::size_of::<Value>() <= 32);
    }

    #[test]
    fn number_grammar() {
        for ok in [
            "0", "-0", "0.0", "1e5", "1E+5", "1e-5", "-12.5e0", "10", "0e0",
        ] {
            assert!(p(ok.as_bytes()).is_ok(), "{ok}");
        }
        assert_eq!(err(b"01"), (K::InvalidNumber, 1));
        assert_eq!(err(b"-01"), (K::InvalidNumber, 2));
        assert_eq!(err(b"[1.]"), (K::InvalidNumber, 3));
        assert_eq!(err(b"1.e5"), (K::InvalidNumber, 2));
        assert_eq!(err(b"1e"), (K::UnexpectedEnd, 2));
        assert_eq!(err(b"1e+"), (K::UnexpectedEnd, 3));
        assert_eq!(err(b"[1e+]"), (K::InvalidNumber, 4));
        assert_eq!(err(b"-"), (K::UnexpectedEnd, 1));
        assert_eq!(err(b"-a"), (K::InvalidNumber, 1));
        assert_eq!(err(b"-Infinity"), (K::InvalidNumber, 1));
        assert_eq!(err(b"+1"), (K::UnexpectedByte(b'+'), 0));
        assert_eq!(err(b".5"), (K::UnexpectedByte(b'.'), 0));
        assert_eq!(err(b"NaN"), (K::UnexpectedByte(b'N'), 0));
        assert_eq!(err(b"Infinity"), (K::UnexpectedByte(b'I'), 0));
        assert_eq!(err(b"0x10"), (K::TrailingCharacters, 1));
    }

    #[test]
    fn literal_errors() {
        assert_eq!(err(b"nul"), (K::UnexpectedEnd, 3));
        assert_eq!(err(b"nulx"), (K::UnexpectedByte(b'x'), 3));
        assert_eq!(err(b"True"), (K::UnexpectedByte(b'T'), 0));
        assert_eq!(err(b"truex"), (K::TrailingCharacters, 4));
        assert_eq!(err(b"[fals]"), (K::UnexpectedByte(b']'), 5));
    }

    #[test]
    fn structural_errors() {
        assert_eq!(err(b""), (K::Empty, 0));
        assert_eq!(err(b" \n\t\r"), (K::Empty, 4));
        assert_eq!(err(b"1 2"), (K::TrailingCharacters, 2));
        assert_eq!(err(b"{} x"), (K::TrailingCharacters, 3));
        assert_eq!(err(b"["), (K::UnexpectedEnd, 1));
        assert_eq!(err(b"[1"), (K::UnexpectedEnd, 2));
        assert_eq!(err(b"[1,"), (K::UnexpectedEnd, 3));
        assert_eq!(err(b"[1 2]"), (K::UnexpectedByte(b'2'), 3));
        assert_eq!(err(b"[1,]"), (K::UnexpectedByte(b']'), 3));
        assert_eq!(err(b"[,1]"), (K::UnexpectedByte(b','), 1));
        assert_eq!(err(b"{"), (K::UnexpectedEnd, 1));
        assert_eq!(err(b"{1:2}"), (K::UnexpectedByte(b'1'), 1));
        assert_eq!(err(br#"{"a" 1}"#), (K::UnexpectedByte(b'1'), 5));
        assert_eq!(err(br#"{"a":}"#), (K::UnexpectedByte(b'}'), 5));
        assert_eq!(err(br#"{"a":1,}"#), (K::UnexpectedByte(b'}'), 7));
        assert_eq!(err(br#"{"a":1"#), (K::UnexpectedEnd, 6));
        assert_eq!(err(br#"{"a":1 "b":2}"#), (K::UnexpectedByte(b'"'), 7));
        assert_eq!(err(b"[1]]"), (K::TrailingCharacters, 3));
        assert_eq!(err(b"]"), (K::UnexpectedByte(b']'), 0));
        // Only the four RFC 8259 whitespace bytes.
        assert_eq!(err(b"\x0c1"), (K::UnexpectedByte(0x0c), 0));
        assert_eq!(err(b"[1,\xc2\xa02]"), (K::UnexpectedByte(0xc2), 3));
    }

    #[test]
    fn bom_is_rejected() {
        assert_eq!(err(b"\xef\xbb\xbf{}"), (K::UnexpectedByte(0xEF), 0));
        let e = p(b"\xef\xbb\xbf{}").unwrap_err();
        assert!(e.to_string().contains("byte order mark"), "{e}");
        // A BOM elsewhere is an ordinary unexpected byte.
        assert_eq!(err(b" \xef\xbb\xbf{}"), (K::UnexpectedByte(0xEF), 1));
    }

    #[test]
    fn strings_and_escapes() {
        let v = p(br#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude02z""#).unwrap();
        assert_eq!(
            v.as_str().unwrap(),
            "a\"b\\c/d\u{8}\u{c}\n\r\tA\u{e9}\u{20ac}\u{1F602}z"
        );
        assert_eq!(
            p("\"é€😂\u{7f}\"".as_bytes()).unwrap().as_str().unwrap(),
            "é€😂\u{7f}"
        );
        assert_eq!(p(br#""\u0000""#).unwrap().as_str().unwrap(), "\0");
        assert_eq!(
            p(br#""\uDBFF\uDFFF""#).unwrap().as_str().unwrap(),
            "\u{10FFFF}"
        );
        assert_eq!(p(br#""""#).unwrap().as_str().unwrap(), "");
    }

    #[test]
    fn string_errors() {
        assert_eq!(err(br#""abc"#), (K::UnexpectedEnd, 4));
        assert_eq!(err(br#""a\"#), (K::UnexpectedEnd, 3));
        assert_eq!(err(br#""a\x""#), (K::InvalidEscape, 2));
        assert_eq!(err(br#""a\'""#), (K::InvalidEscape, 2));
        assert_eq!(err(br#""\u12g4""#), (K::InvalidEscape, 1));
        assert_eq!(err(br#""\u12""#), (K::InvalidEscape, 1));
        assert_eq!(err(br#""\u12"#), (K::UnexpectedEnd, 5));
        assert_eq!(err(br#""\U0041""#), (K::InvalidEscape, 1));
        assert_eq!(err(b"\"a\x01b\""), (K::ControlCharacterInString, 2));
        assert_eq!(err(b"\"a\nb\""), (K::ControlCharacterInString, 2));
        assert_eq!(err(b"\"\\n\x1f\""), (K::ControlCharacterInString, 3));
        assert_eq!(err(b"\"a\tb\""), (K::ControlCharacterInString, 2));
        assert_eq!(err(b"\"\x00\""), (K::ControlCharacterInString, 1));
    }

    #[test]
    fn lone_surrogates() {
        assert_eq!(err(br#""\ud800""#), (K::LoneSurrogate, 1));
        assert_eq!(err(br#""ab\uDBFF""#), (K::LoneSurrogate, 3));
        assert_eq!(err(br#""\udc00""#), (K::LoneSurrogate, 1));
        assert_eq!(err(br#""x\uDFFF\ud800""#), (K::LoneSurrogate, 2));
        assert_eq!(err(br#""\ud800\u0041""#), (K::LoneSurrogate, 1));
        assert_eq!(err(br#""\ud800\ud800""#), (K::LoneSurrogate, 1));
        assert_eq!(err(br#""\ud800x""#), (K::LoneSurrogate, 1));
        assert_eq!(err(br#""\ud800\n""#), (K::LoneSurrogate, 1));
        assert_eq!(err(br#""\ud800\u12x4""#), (K::InvalidEscape, 7));
        assert_eq!(err(br#"{"\udfff":1}"#), (K::LoneSurrogate, 2));
        assert_eq!(err(br#""\ud800"#), (K::LoneSurrogate, 1));
    }

    #[test]
    fn invalid_utf8() {
        // Overlong encoding of '/'.
        assert_eq!(err(b"\"\xc0\xaf\""), (K::InvalidUtf8, 1));
        // Truncated three-byte sequence before the closing quote.
        assert_eq!(err(b"\"ab\xe2\x82\""), (K::InvalidUtf8, 3));
        // Truncated at the end of input.
        assert_eq!(err(b"\"ab\xe2\x82"), (K::InvalidUtf8, 3));
        // U+D800 encoded directly in UTF-8.
        assert_eq!(err(b"\"\xed\xa0\x80\""), (K::InvalidUtf8, 1));
        // Stray continuation byte, lone 0xFF, beyond U+10FFFF.
        assert_eq!(err(b"[\"a\",\"\x80\"]"), (K::InvalidUtf8, 6));
        assert_eq!(err(b"[1,\xff]"), (K::InvalidUtf8, 3));
        assert_eq!(err(b"\"\xf4\x90\x80\x80\""), (K::InvalidUtf8, 1));
        // In a member name, and after the value.
        assert_eq!(err(b"{\"k\xe9y\":1}"), (K::InvalidUtf8, 3));
        assert_eq!(err(b"{} \xfe"), (K::InvalidUtf8, 3));
    }

    #[test]
    fn duplicate_keys() {
        assert_eq!(err(br#"{"a":1,"a":2}"#), (K::DuplicateKey("a".into()), 7));
        assert_eq!(
            err(br#"{"a":1,"\u0061":2}"#),
            (K::DuplicateKey("a".into()), 7)
        );
        assert_eq!(
            err(br#"{"x":{"b":1, "c":2, "b":3}}"#),
            (K::DuplicateKey("b".into()), 20)
        );
        assert_eq!(
            err("{\"é\":1,\"\\u00e9\":2}".as_bytes()),
            (K::DuplicateKey("é".into()), 8)
        );
        // Same name in different objects is fine; so are near misses.
        assert!(p(br#"{"a":{"a":1},"b":[{"a":1},{"a":2}],"A":0,"a ":1}"#).is_ok());
        // Large objects (hash-set path): duplicate at the end, and a clean one.
        let mut big = String::from("{");
        for i in 0..100 {
            big.push_str(&format!("\"k{i}\":{i},"));
        }
        let clean = format!("{}\"last\":0}}", big);
        assert_eq!(p(clean.as_bytes()).unwrap().as_object().unwrap().len(), 101);
        let dup_at = big.len();
        big.push_str("\"k7\":0}");
        assert_eq!(err(big.as_bytes()), (K::DuplicateKey("k7".into()), dup_at));
        // Duplicate of a name added after the hash set was built.
        let mut big2 = String::from("{");
        for i in 0..40 {
            big2.push_str(&format!("\"k{i}\":{i},"));
        }
        let at2 = big2.len();
        big2.push_str("\"k39\":0}");
        assert_eq!(err(big2.as_bytes()), (K::DuplicateKey("k39".into()), at2));
    }

    #[test]
    fn member_spans() {
        let input = br#" { "a" : 1 , "bb":{"c":[true, "x"]},"d":"\u0041" } "#;
        let v = p(input).unwrap();
        let members = v.as_object().unwrap();
        let text = |r: &Range<usize>| std::str::from_utf8(&input[r.clone()]).unwrap();
        assert_eq!(text(&members[0].span), r#""a" : 1"#);
        assert_eq!(text(&members[0].value_span), "1");
        assert_eq!(text(&members[1].span), r#""bb":{"c":[true, "x"]}"#);
        assert_eq!(text(&members[1].value_span), r#"{"c":[true, "x"]}"#);
        let inner = members[1].value.as_object().unwrap();
        assert_eq!(text(&inner[0].span), r#""c":[true, "x"]"#);
        assert_eq!(text(&inner[0].value_span), r#"[true, "x"]"#);
        assert_eq!(text(&members[2].span), r#""d":"\u0041""#);
        assert_eq!(text(&members[2].value_span), r#""\u0041""#);
        assert_eq!(members[2].value.as_str(), Some("A"));
        assert_eq!(members[0].span, 3..10);
        assert_eq!(members[0].value_span, 9..10);
    }

    #[test]
    fn depth_limit_exact() {
        let limits = Limits { max_depth: 3 };
        assert!(parse(b"[[[]]]", &limits).is_ok());
        assert!(parse(b"[{\"a\":[1]}]", &limits).is_ok());
        assert_eq!(
            parse(b"[[[[]]]]", &limits).unwrap_err(),
            ParseError {
                kind: K::TooDeep { limit: 3 },
                offset: 3
            }
        );
        assert_eq!(
            parse(b"[{\"a\": {}}]", &limits).map(|_| ()),
            Ok(()),
            "empty containers count but fit"
        );
        assert_eq!(
            parse(b"[{\"a\":[{}]}]", &limits).unwrap_err(),
            ParseError {
                kind: K::TooDeep { limit: 3 },
                offset: 7
            }
        );
        assert_eq!(
            parse(b"[]", &Limits { max_depth: 0 }).unwrap_err().kind,
            K::TooDeep { limit: 0 }
        );
        assert!(parse(b"1", &Limits { max_depth: 0 }).is_ok());
        assert_eq!(Limits::default().max_depth, 128);
    }

    #[test]
    fn hundred_thousand_brackets_is_too_deep() {
        let input = vec![b'['; 100_000];
        let started = std::time::Instant::now();
        let e = p(&input).unwrap_err();
        assert_eq!(e.kind, K::TooDeep { limit: 128 });
        assert_eq!(e.offset, 128);
        // Not a timing assertion on the result, only a guard against
        // accidentally quadratic behaviour: seconds would mean a bug.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let objects = b"{\"a\":".repeat(100_000);
        let e = p(&objects).unwrap_err();
        assert_eq!(e.kind, K::TooDeep { limit: 128 });
        assert_eq!(e.offset, 128 * 5);
    }

    #[test]
    fn ten_thousand_deep_parses_on_an_8_mib_stack() {
        // Cargo runs tests on 2 MiB threads; give this one the size of a
        // default main thread so the test matches the documented guarantee.
        let handle = std::thread::Builder::new()
            .stack_size(8 * 1024 * 1024)
            .spawn(|| {
                let depth = 10_000;
                let mut input = "[".repeat(depth);
                input.push_str("\"x\"");
                input.push_str(&"]".repeat(depth));
                let limits = Limits { max_depth: depth };
                let value = parse(input.as_bytes(), &limits).unwrap();
                let mut level = 0;
                let mut cur = &value;
                while let Value::Array(items) = cur {
                    level += 1;
                    cur = &items[0];
                }
                assert_eq!(level, depth);
                assert_eq!(cur.as_str(), Some("x"));
                let objects = format!("{}1{}", "{\"k\":".repeat(depth), "}".repeat(depth));
                assert!(parse(objects.as_bytes(), &limits).is_ok());
                let one_more = format!("[{input}]");
                assert_eq!(
                    parse(one_more.as_bytes(), &limits).unwrap_err().kind,
                    K::TooDeep { limit: depth }
                );
            })
            .unwrap();
        handle.join().unwrap();
    }

    #[test]
    fn plain_len_matches_bytewise_scan() {
        let naive = |b: &[u8]| {
            b.iter()
                .position(|&c| c < 0x20 || c == b'"' || c == b'\\')
                .unwrap_or(b.len())
        };
        let alphabet = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, 0x5b, 0x5d,
        ];
        let mut seed: u64 = 99;
        for len in 0..40 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        let r = (seed >> 33) as usize;
                        if r % 4 == 0 {
                            alphabet[r / 4 % alphabet.len()]
                        } else {
                            b'x'
                        }
                    })
                    .collect();
                assert_eq!(plain_len(&bytes), naive(&bytes), "{bytes:?}");
            }
        }
        for b in 0..=255u8 {
            for at in 0..17 {
                let mut bytes = vec![b'q'; 17];
                bytes[at] = b;
                assert_eq!(plain_len(&bytes), naive(&bytes), "byte {b:#x} at {at}");
            }
        }
    }

    /// Differential check against serde_json (used only as an oracle in
    /// tests): on randomly damaged documents both parsers must agree on
    /// accept/reject, except where our rules are stricter on purpose
    /// (duplicate names) or serde_json's are (numbers beyond f64 range).
    #[test]
    fn agrees_with_serde_json_on_damaged_documents() {
        let seeds: [&[u8]; 5] = [
            br#"{"a":[1,-2.5e-3,true,null,{"b":"x\u00e9\n"}],"c":{"d":[]},"e":"\ud83d\ude02"}"#,
            br#"[0, 1.0, "s", {"k": false}, [[]], -0, 1E+2]"#,
            "{\"\u{e9}\u{20ac}\":\"\u{1F602}\", \"t\":\"tab\\t\"}".as_bytes(),
            b" \"plain string\" ",
            br#"{"seq":1842,"ts":"2026-03-14T09:26:53Z","x":{"y":{"z":[1,2,3]}}}"#,
        ];
        let inserts: [&[u8]; 24] = [
            b"\"",
            b"\\",
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b":",
            b"0",
            b"-",
            b"e",
            b".",
            b"\\u",
            b"\\ud800",
            b"\\udc00",
            b"\xff",
            b"\xc3",
            b"\xe2\x82",
            b"\x00",
            b"\x1f",
            b"\xed\xa0\x80",
            b"+",
            b"1e999",
            b" ",
        ];
        let mut seed: u64 = 42;
        let mut rnd = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        let (mut accepted, mut rejected) = (0, 0);
        for doc in seeds {
            assert!(p(doc).is_ok(), "{}", String::from_utf8_lossy(doc));
            for _ in 0..3000 {
                let mut m = doc.to_vec();
                for _ in 0..=rnd(3) {
                    let at = rnd(m.len() + 1);
                    if rnd(3) == 0 && at < m.len() {
                        m.remove(at);
                    } else {
                        let ins = inserts[rnd(inserts.len())];
                        m.splice(at..at, ins.iter().copied());
                    }
                }
                let ours = p(&m);
                let theirs = serde_json::from_slice::<serde_json::Value>(&m);
                match (&ours, &theirs) {
                    (Ok(_), Ok(_)) => accepted += 1,
                    (Err(_), Err(_)) => rejected += 1,
                    (Err(e), Ok(_)) if matches!(e.kind, K::DuplicateKey(_)) => {}
                    (Ok(_), Err(e)) if e.to_string().contains("out of range") => {}
                    _ => panic!(
                        "disagree on {:?}: ours {:?}, serde_json {:?}",
                        String::from_utf8_lossy(&m),
                        ours.map(|_| ()),
                        theirs.map(|_| ())
                    ),
                }
            }
        }
        assert!(accepted > 500 && rejected > 5000, "{accepted} {rejected}");
    }

    #[test]
    fn error_display() {
        let e = p(br#"{"a":1,"a":2}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "duplicate member name \"a\" at byte offset 7"
        );
        let e = p(b"[1 x").unwrap_err();
        assert_eq!(e.to_string(), "unexpected byte 0x78 ('x') at byte offset 3");
        let e = p(b"[").unwrap_err();
        assert_eq!(e.to_string(), "unexpected end of input at byte offset 1");
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().contains("offset 1"));
    }

    /// `value` with each top-level member named in `skip` that holds an array or object replaced
    /// by an empty one (spans kept), and the lengths of those members: what a shallow parse gives.
    fn hollowed(value: &Value, skip: &[&str]) -> (Value, Vec<Skipped>) {
        let Value::Object(members) = value else {
            return (value.clone(), Vec::new());
        };
        let mut skipped = Vec::new();
        let members = members
            .iter()
            .map(|m| {
                let mut m = m.clone();
                if skip.contains(&m.key.as_str()) {
                    let len = match &m.value {
                        Value::Array(a) => Some((Value::Array(Vec::new()), a.len())),
                        Value::Object(o) => Some((Value::Object(Vec::new()), o.len())),
                        _ => None,
                    };
                    if let Some((empty, len)) = len {
                        m.value = empty;
                        skipped.push(Skipped {
                            key: m.key.clone(),
                            len,
                        });
                    }
                }
                m
            })
            .collect();
        (Value::Object(members), skipped)
    }

    /// Every prefix of `doc` and every one-byte replacement from a small set: the shallow parse
    /// and the element parse report what the whole parse reports.
    fn variants(doc: &[u8]) -> Vec<Vec<u8>> {
        let mut out = vec![doc.to_vec()];
        for cut in 0..doc.len() {
            out.push(doc[..cut].to_vec());
        }
        for at in 0..doc.len() {
            for b in [
                b'"', b'\\', b',', b']', b'}', b'{', b'[', b'x', b'N', 0x01, 0xff,
            ] {
                let mut m = doc.to_vec();
                m[at] = b;
                out.push(m);
            }
        }
        out
    }

    const SHALLOW_DOCS: &[&str] = &[
        r#"{"meta":{"x":[1,2]},"records":[{"a":"\u00e9\n","b":[1,{"c":null}]},{"a":2.5e-3}],"n":2}"#,
        r#" {"receipts" : [ ], "entries": {"k": [true, false], "j": {}}, "records": "text"} "#,
        r#"{"a":1,"entries":[[],[[]],{"d":{"d":{"d":[NaN,-Infinity]}}}],"entries2":[1]}"#,
        r#"{"receipts":[{"x":"\ud83d\ude00","y":"a\"b\\c"}],"receipts_count":{"receipts":[1]}}"#,
    ];

    #[test]
    fn a_shallow_parse_skips_the_named_members_and_reports_every_error_the_whole_parse_does() {
        let skip = ["records", "receipts", "entries"];
        let limits = Limits::default();
        for doc in SHALLOW_DOCS {
            for input in variants(doc.as_bytes()) {
                let whole = parse_python(&input, &limits);
                let shallow = parse_python_shallow(&input, &limits, &skip);
                let text = String::from_utf8_lossy(&input);
                match (whole, shallow) {
                    (Ok(whole), Ok(shallow)) => {
                        let (value, skipped) = hollowed(&whole, &skip);
                        assert_eq!(shallow.value, value, "{text}");
                        assert_eq!(shallow.skipped, skipped, "{text}");
                        assert_eq!(shallow.nonfinite, parse(&input, &limits).is_err(), "{text}");
                    }
                    (Err(whole), Err(shallow)) => assert_eq!(shallow, whole, "{text}"),
                    (whole, shallow) => panic!("{text}: {whole:?} against {shallow:?}"),
                }
            }
        }
        // Nesting is counted inside a skipped value as everywhere else.
        let deep = format!("{{\"records\":[{}{}]}}", "[".repeat(126), "]".repeat(126));
        let shallow = parse_python_shallow(deep.as_bytes(), &limits, &skip).unwrap();
        assert_eq!(shallow.skipped[0].len, 1);
        let deeper = format!("{{\"records\":[{}{}]}}", "[".repeat(127), "]".repeat(127));
        assert_eq!(
            parse_python_shallow(deeper.as_bytes(), &limits, &skip).unwrap_err(),
            parse_python(deeper.as_bytes(), &limits).unwrap_err()
        );
        // A duplicate name inside a skipped element is found at the same offset.
        let dup = br#"{"records":[{"a":1},{"b":1,"c":2,"b":3}]}"#;
        assert_eq!(
            parse_python_shallow(dup, &limits, &skip).unwrap_err(),
            ParseError {
                kind: K::DuplicateKey("b".into()),
                offset: 33
            }
        );
    }

    #[test]
    fn elements_are_parsed_one_at_a_time_as_the_whole_array_is() {
        let limits = Limits::default();
        let docs = [
            r#"[{"a":"\u00e9\n","b":[1,{"c":null}]},{"a":2.5e-3}, "s" ,NaN, [] ,{}]"#,
            " [ ] ",
            "[1]",
            r#"[{"x":"\ud83d\ude00","y":"a\"b\\c"},[[[]]]]"#,
        ];
        for doc in docs {
            for input in variants(doc.as_bytes()) {
                let text = String::from_utf8_lossy(&input);
                let got: Vec<Result<Value, ParseError>> =
                    parse_python_elements(&input, &limits).collect();
                match parse_python(&input, &limits) {
                    Ok(Value::Array(items)) => {
                        let got: Vec<Value> = got.into_iter().map(Result::unwrap).collect();
                        assert_eq!(got, items, "{text}");
                    }
                    Ok(_) => assert!(got.is_empty(), "{text}"),
                    Err(e) => {
                        let last = got.last().cloned();
                        assert_eq!(last, Some(Err(e)), "{text}");
                        assert!(got[..got.len() - 1].iter().all(Result::is_ok), "{text}");
                    }
                }
            }
        }
        let deep = format!("[{}{}]", "[".repeat(127), "]".repeat(127));
        assert!(parse_python_elements(deep.as_bytes(), &limits).all(|e| e.is_ok()));
        let deeper = format!("[{}{}]", "[".repeat(128), "]".repeat(128));
        assert_eq!(
            parse_python_elements(deeper.as_bytes(), &limits).last(),
            Some(parse_python(deeper.as_bytes(), &limits).map(|_| Value::Null))
        );
    }
}
