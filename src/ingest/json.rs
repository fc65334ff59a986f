//! JSON containers: a top-level array of records (streamed element by element), or a bundle
//! object (read whole, up to [`MAX_BUNDLE_BYTES`]) whose records are the array in its first member
//! among [`RECORD_MEMBERS`] (`records`; asqav Audit Pack and ComplianceBundle `receipts`; AGT
//! `export()` `entries`), or the single object in its `entry` member (AGT `get_proof()`); any other
//! object is itself one record (a single receipt file).
//!
//! A bundle is checked whole by the strict parser without being built as one value: the values of
//! its [`RECORD_MEMBERS`] are checked as thoroughly but left unbuilt
//! ([`crate::canon::json::parse_python_shallow`]), so what stays in memory is the file's bytes and
//! its other, small members. The bytes are read once and shared, not copied: the record array is
//! split from them like any array, and the [`Bundle`] handed on lets profiles check what the
//! bundle itself states (digests, signatures, Merkle roots, counts), reading the record array
//! element by element from the same bytes.
//!
//! The array is split without building values: the splitter tracks strings, escapes and nesting
//! depth to find where each element ends, so each element's exact bytes go to the strict parser
//! like a JSONL line. An element over [`MAX_LINE_BYTES`] is skipped unread; a broken array
//! structure (junk between elements, a missing `]`) is a problem unit at its line and ends the input.

use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::sync::Arc;

use super::{ByteCursor, IngestError, MAX_BUNDLE_BYTES, MAX_LINE_BYTES, Unit, Units};
use crate::canon::json::{
    Elements, Limits, Member, ParseError, Shallow, Value, parse_python, parse_python_elements,
    parse_python_shallow,
};
use crate::finding::Code;

/// Members of a bundle object that hold its records, in the order they are looked for.
pub const RECORD_MEMBERS: [&str; 3] = ["records", "receipts", "entries"];

/// A bundle object as the bundle-level checks see it: its bytes (shared with the record stream)
/// and its top-level members, those named in [`RECORD_MEMBERS`] that hold an array or object left
/// unbuilt ([`Slot::Unbuilt`]).
#[derive(Debug)]
pub struct Bundle {
    bytes: Arc<Vec<u8>>,
    /// The built members, as an object.
    top: Value,
    /// The unbuilt members (an empty array or object of their kind stands for the value; the spans
    /// are the real ones), with their lengths.
    unbuilt: Vec<(Member, usize)>,
    /// The bundle holds a `NaN`, `Infinity` or `-Infinity` token.
    nonfinite: bool,
}

/// A top-level member of a [`Bundle`].
#[derive(Debug, Clone, Copy)]
pub enum Slot<'b> {
    /// A member built as a value.
    Built(&'b Value),
    /// An array or object named in [`RECORD_MEMBERS`], checked but not built.
    Unbuilt(Unbuilt<'b>),
}

impl Slot<'_> {
    /// The JSON type of the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Slot::Built(v) => v.type_name(),
            Slot::Unbuilt(u) => u.member.value.type_name(),
        }
    }
}

/// An array or object member of a bundle that was checked but not built.
#[derive(Debug, Clone, Copy)]
pub struct Unbuilt<'b> {
    member: &'b Member,
    len: usize,
    bundle: &'b [u8],
}

impl<'b> Unbuilt<'b> {
    /// Whether it is an array (else an object).
    pub fn is_array(&self) -> bool {
        matches!(self.member.value, Value::Array(_))
    }

    /// How many elements (members of an object) it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value's text.
    pub fn bytes(&self) -> &'b [u8] {
        self.bundle
            .get(self.member.value_span.clone())
            .unwrap_or_default()
    }

    /// The elements of an array, parsed one at a time (nothing for an object). The bundle parsed,
    /// so each parses: an error cannot happen short of a bug.
    pub fn elements(&self) -> Elements<'b> {
        let text: &'b [u8] = if self.is_array() { self.bytes() } else { b"[]" };
        parse_python_elements(text, &Limits::default())
    }

    /// The value built whole (for the rare check that needs an unbuilt object as a value).
    ///
    /// # Errors
    /// None short of a bug: the bundle parsed.
    pub fn build(&self) -> Result<Value, ParseError> {
        parse_python(self.bytes(), &Limits::default())
    }
}

impl Bundle {
    /// Parses a bundle object: the whole text is checked as [`parse_python`] checks it, the record
    /// members are left unbuilt.
    ///
    /// # Errors
    /// The parser's error.
    pub fn parse(bytes: Vec<u8>) -> Result<Bundle, ParseError> {
        let shallow = parse_python_shallow(&bytes, &Limits::default(), &RECORD_MEMBERS)?;
        Ok(Bundle::from_parts(bytes, shallow))
    }

    /// A bundle from its bytes and their shallow parse.
    fn from_parts(bytes: Vec<u8>, shallow: Shallow) -> Bundle {
        let members = match shallow.value {
            Value::Object(members) => members,
            _ => Vec::new(),
        };
        let mut built = Vec::with_capacity(members.len());
        let mut unbuilt = Vec::new();
        for m in members {
            match shallow.skipped.iter().find(|s| s.key == m.key) {
                Some(s) => unbuilt.push((m, s.len)),
                None => built.push(m),
            }
        }
        Bundle {
            bytes: Arc::new(bytes),
            top: Value::Object(built),
            unbuilt,
            nonfinite: shallow.nonfinite,
        }
    }

    /// The bundle's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The top-level members that were built, as an object: everything but the unbuilt
    /// [`RECORD_MEMBERS`] (which [`Bundle::member`] gives).
    pub fn top(&self) -> &Value {
        &self.top
    }

    /// A top-level member, built or not.
    pub fn member(&self, name: &str) -> Option<Slot<'_>> {
        if let Some((member, len)) = self.unbuilt.iter().find(|(m, _)| m.key == name) {
            return Some(Slot::Unbuilt(Unbuilt {
                member,
                len: *len,
                bundle: &self.bytes,
            }));
        }
        self.top.get(name).map(Slot::Built)
    }

    /// Where a top-level member is, built or not: from its name's opening quote to the end of its
    /// value.
    pub fn span(&self, name: &str) -> Option<Range<usize>> {
        let built = self.top.as_object().unwrap_or_default().iter();
        built
            .chain(self.unbuilt.iter().map(|(m, _)| m))
            .find(|m| m.key == name)
            .map(|m| m.span.clone())
    }

    /// Whether the bundle holds a `NaN`, `Infinity` or `-Infinity` token: not JSON, though Python
    /// writes and reads them; profiles whose dialect refuses them do not read such a bundle.
    pub fn has_nonfinite(&self) -> bool {
        self.nonfinite
    }

    /// The bytes, taken back (copied only if the record stream still shares them).
    fn into_bytes(self) -> Vec<u8> {
        Arc::try_unwrap(self.bytes).unwrap_or_else(|shared| shared.as_ref().clone())
    }
}

/// A range of a bundle's shared bytes as a buffered stream, without copying: the rest of the range
/// is the buffer.
struct SharedSlice {
    bytes: Arc<Vec<u8>>,
    pos: usize,
    end: usize,
}

impl SharedSlice {
    fn rest(&self) -> &[u8] {
        self.bytes.get(self.pos..self.end).unwrap_or_default()
    }
}

impl Read for SharedSlice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.rest().read(buf)?;
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for SharedSlice {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.rest())
    }

    fn consume(&mut self, amount: usize) {
        self.pos = self.pos.saturating_add(amount).min(self.end);
    }
}

/// Opens a JSON container: a streamed array, or a bundle object read whole (returned too).
/// `size` is the input's size when known (a regular file), so that the bundle is read into one
/// allocation of the right size.
///
/// # Errors
/// [`IngestError`] when the input cannot be read or a bundle is too large.
#[allow(clippy::type_complexity)]
pub fn open(
    mut stream: Box<dyn BufRead + Send>,
    name: &str,
    size: Option<u64>,
) -> Result<(Box<dyn Units>, Option<Bundle>), IngestError> {
    let io_err = |e| IngestError::read(name, e);
    // Skip a BOM and whitespace to see which kind it is.
    let first = loop {
        let buf = stream.fill_buf().map_err(io_err)?;
        match buf.first() {
            None => break None,
            Some(b) if b.is_ascii_whitespace() => stream.consume(1),
            Some(0xEF) if buf.starts_with(b"\xEF\xBB\xBF") => stream.consume(3),
            Some(&b) => break Some(b),
        }
    };
    if first != Some(b'{') {
        return Ok((Box::new(ArraySplitter::new(stream, 1, 0)), None));
    }
    let capacity = size.unwrap_or(0).min(MAX_BUNDLE_BYTES) + 1;
    let mut whole = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    stream
        .take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut whole)
        .map_err(io_err)?;
    if whole.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(IngestError::BundleTooLarge {
            name: name.to_string(),
        });
    }
    let problem = |line: u64, message: String, text: &[u8]| -> Box<dyn Units> {
        Box::new(OneShot(Some(Unit::Problem {
            line,
            code: Code::ContainerMalformed,
            message,
            text: text[..text.len().min(4096)].to_vec(),
        })))
    };
    let shallow = match parse_python_shallow(&whole, &Limits::default(), &RECORD_MEMBERS) {
        Ok(shallow) => shallow,
        Err(e) => {
            let line = line_at(&whole, e.offset);
            return Ok((
                problem(
                    line,
                    format!("the JSON bundle is not valid JSON: {e}"),
                    &whole,
                ),
                None,
            ));
        }
    };
    let bundle = Bundle::from_parts(whole, shallow);
    let found = RECORD_MEMBERS
        .iter()
        .find_map(|name| bundle.member(name).map(|slot| (*name, slot)));
    let Some((member_name, slot)) = found else {
        let entry = bundle
            .top()
            .as_object()
            .unwrap_or_default()
            .iter()
            .find(|m| m.key == "entry" && m.value.as_object().is_some());
        if let Some(entry) = entry {
            let unit = Unit::Record {
                line: line_at(bundle.bytes(), entry.value_span.start),
                bytes: bundle.bytes()[entry.value_span.clone()].to_vec(),
                context: None,
            };
            return Ok((Box::new(OneShot(Some(unit))), Some(bundle)));
        }
        // Any other object is one record (e.g. a single receipt file).
        let unit = Unit::Record {
            line: 1,
            bytes: bundle.into_bytes(),
            context: None,
        };
        return Ok((Box::new(OneShot(Some(unit))), None));
    };
    let array = match slot {
        Slot::Unbuilt(u) if u.is_array() => u.member.value_span.clone(),
        other => {
            let at = bundle.span(member_name).map_or(0, |s| s.start);
            return Ok((
                problem(
                    line_at(bundle.bytes(), at),
                    format!(
                        "the bundle's \"{member_name}\" member is a {}, not an array",
                        other.type_name()
                    ),
                    bundle.bytes(),
                ),
                None,
            ));
        }
    };
    let line = line_at(bundle.bytes(), array.start);
    let records = SharedSlice {
        bytes: Arc::clone(&bundle.bytes),
        pos: array.start,
        end: array.end,
    };
    Ok((
        Box::new(ArraySplitter::new(
            Box::new(records),
            line,
            array.start as u64,
        )),
        Some(bundle),
    ))
}

fn line_at(bytes: &[u8], offset: usize) -> u64 {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

struct OneShot(Option<Unit>);

impl Iterator for OneShot {
    type Item = io::Result<Unit>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.take().map(Ok)
    }
}

impl Units for OneShot {
    fn bytes_read(&self) -> u64 {
        0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[` or `,`: an element or (after `[`) `]` may follow.
    Element { first: bool },
    /// After an element: `,` or `]`.
    After,
    /// After `]`: only whitespace.
    End,
    /// Stopped (done or broken).
    Done,
}

/// Streams the elements of a JSON array.
pub struct ArraySplitter {
    cur: ByteCursor<Box<dyn BufRead + Send>>,
    state: State,
}

impl ArraySplitter {
    /// A splitter over a stream that starts at `line` (and `offset` bytes into its file).
    pub fn new(inner: Box<dyn BufRead + Send>, line: u64, offset: u64) -> Self {
        ArraySplitter {
            cur: ByteCursor::new(inner, line, offset),
            state: State::Start,
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        self.cur.peek()
    }

    fn bump(&mut self) -> io::Result<Option<u8>> {
        self.cur.bump()
    }

    fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b) if b.is_ascii_whitespace() => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    fn broken(&mut self, message: String) -> Unit {
        self.state = State::Done;
        Unit::Problem {
            line: self.cur.line,
            code: Code::ContainerMalformed,
            message,
            text: Vec::new(),
        }
    }

    /// Reads one element's bytes (bounded), ending before the `,` or `]` that follows it. Scans
    /// the reader's buffer a chunk at a time and copies the element's part of each chunk whole.
    fn element(&mut self) -> io::Result<Unit> {
        let line = self.cur.line;
        let mut out = Vec::new();
        let mut len: u64 = 0;
        let mut depth: u32 = 0;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = self.cur.fill()?;
            if buf.is_empty() {
                return Ok(self.broken("the JSON array ends inside an element (truncated)".into()));
            }
            let mut k = 0;
            let mut done = false;
            while k < buf.len() {
                let b = buf[k];
                if !in_string && depth == 0 && (b == b',' || b == b']') {
                    done = true;
                    break;
                }
                k += 1;
                if in_string {
                    match (escaped, b) {
                        (true, _) => escaped = false,
                        (false, b'\\') => escaped = true,
                        (false, b'"') => {
                            in_string = false;
                            if depth == 0 {
                                done = true;
                                break;
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    // Saturating: 2^32 brackets would otherwise overflow (the unit is too long
                    // anyway).
                    b'{' | b'[' => depth = depth.saturating_add(1),
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let room = MAX_LINE_BYTES.saturating_sub(out.len());
            out.extend_from_slice(&buf[..k.min(room)]);
            len += k as u64;
            self.cur.advance(k)?;
            if done {
                break;
            }
        }
        while out.last().is_some_and(u8::is_ascii_whitespace) {
            out.pop();
        }
        if len as usize > MAX_LINE_BYTES {
            return Ok(Unit::TooLong { line, len });
        }
        Ok(Unit::Record {
            line,
            bytes: out,
            context: None,
        })
    }

    fn step(&mut self) -> io::Result<Option<Unit>> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => match self.skip_ws()? {
                    Some(b'[') => {
                        self.bump()?;
                        self.state = State::Element { first: true };
                    }
                    Some(b) => {
                        return Ok(Some(self.broken(format!(
                            "expected a JSON array, found {:?}",
                            char::from(b)
                        ))));
                    }
                    None => {
                        self.state = State::Done;
                        return Ok(None);
                    }
                },
                State::Element { first } => match self.skip_ws()? {
                    Some(b']') if first => {
                        self.bump()?;
                        self.state = State::End;
                    }
                    Some(b']') | Some(b',') => {
                        return Ok(Some(self.broken("empty element in the JSON array".into())));
                    }
                    Some(_) => {
                        let unit = self.element()?;
                        if self.state != State::Done {
                            self.state = State::After;
                        }
                        return Ok(Some(unit));
                    }
                    None => {
                        return Ok(Some(
                            self.broken("the JSON array is not closed (truncated)".into()),
                        ));
                    }
                },
                State::After => match self.skip_ws()? {
                    Some(b',') => {
                        self.bump()?;
                        self.state = State::Element { first: false };
                    }
                    Some(b']') => {
                        self.bump()?;
                        self.state = State::End;
                    }
                    Some(b) => {
                        return Ok(Some(self.broken(format!(
                            "expected , or ] after an element, found {:?}",
                            char::from(b)
                        ))));
                    }
                    None => {
                        return Ok(Some(
                            self.broken("the JSON array is not closed (truncated)".into()),
                        ));
                    }
                },
                State::End => match self.skip_ws()? {
                    None => {
                        self.state = State::Done;
                        return Ok(None);
                    }
                    Some(_) => {
                        return Ok(Some(
                            self.broken("data after the end of the JSON array".into()),
                        ));
                    }
                },
            }
        }
    }
}

impl Iterator for ArraySplitter {
    type Item = io::Result<Unit>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(Some(u)) => Some(Ok(u)),
            Ok(None) => None,
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

impl Units for ArraySplitter {
    fn bytes_read(&self) -> u64 {
        self.cur.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(input: &str) -> Vec<Unit> {
        open(
            Box::new(io::Cursor::new(input.as_bytes().to_vec())),
            "t",
            None,
        )
        .unwrap()
        .0
        .collect::<io::Result<Vec<_>>>()
        .unwrap()
    }

    fn rec(line: u64, s: &str) -> Unit {
        Unit::Record {
            line,
            bytes: s.as_bytes().to_vec(),
            context: None,
        }
    }

    #[test]
    fn splits_an_array_with_element_lines() {
        let got = units("[\n  {\"a\":\"],[\\\"\"},\n  {\"b\":[1,{\"c\":2}]}\n]\n");
        assert_eq!(
            got,
            vec![
                rec(2, "{\"a\":\"],[\\\"\"}"),
                rec(3, "{\"b\":[1,{\"c\":2}]}")
            ]
        );
        assert!(units("[]").is_empty());
        assert!(units("  [ ]  ").is_empty());
    }

    #[test]
    fn reads_the_records_of_a_bundle() {
        let got =
            units("{\n \"meta\": {\"x\": 1},\n \"records\": [\n  {\"a\":1},\n  {\"a\":2}\n ]\n}");
        assert_eq!(got, vec![rec(4, "{\"a\":1}"), rec(5, "{\"a\":2}")]);
    }

    #[test]
    fn reads_receipts_entries_and_a_single_entry() {
        let got = units("{\"receipt_count\": 1,\n \"receipts\": [\n  {\"a\":1}\n ]}");
        assert_eq!(got, vec![rec(3, "{\"a\":1}")]);
        let got = units("{\"entries\": [{\"a\":1}], \"entry_count\": 1}");
        assert_eq!(got, vec![rec(1, "{\"a\":1}")]);
        let got = units("{\n \"entry\": {\"a\": 1},\n \"merkle_proof\": []\n}");
        assert_eq!(got, vec![rec(2, "{\"a\": 1}")]);
        let (_, bundle) = open(
            Box::new(io::Cursor::new(b"{\"entries\":[]}".to_vec())),
            "t",
            None,
        )
        .unwrap();
        assert_eq!(bundle.unwrap().bytes(), b"{\"entries\":[]}");
    }

    #[test]
    fn broken_arrays_are_problems_at_their_line() {
        for (input, line) in [
            ("[{\"a\":1}", 1),
            ("[{\"a\":1},\n\n", 3),
            ("[{\"a\":1} x]", 1),
            ("[1,,2]", 1),
            ("[1] 2", 1),
        ] {
            let got = units(input);
            match got.last() {
                Some(Unit::Problem { line: l, code, .. }) => {
                    assert_eq!((*l, *code), (line, Code::ContainerMalformed), "{input}");
                }
                other => panic!("{input}: {other:?}"),
            }
        }
        // An object without a records array is one record.
        assert_eq!(units("{\"other\": []}"), vec![rec(1, "{\"other\": []}")]);
        assert!(matches!(units("{\"records\": 5}")[0], Unit::Problem { .. }));
        assert!(matches!(units("{\"records\": [}")[0], Unit::Problem { .. }));
    }

    #[test]
    fn a_bundle_shares_its_bytes_with_its_record_stream_and_leaves_the_records_unbuilt() {
        let text = "{\n \"receipt_count\": 2,\n \"receipts\": [\n  {\"a\":1},\n  {\"a\":2}\n ],\n \"entries\": {\"x\": [1]},\n \"bundle_digest\": \"x\"\n}";
        let size = text.len() as u64;
        let (units, bundle) = open(
            Box::new(io::Cursor::new(text.as_bytes().to_vec())),
            "t",
            Some(size),
        )
        .unwrap();
        let bundle = bundle.unwrap();
        // Read into one allocation of the file's size, shared (not copied) with the records.
        assert_eq!(bundle.bytes.capacity() as u64, size + 1);
        assert_eq!(Arc::strong_count(&bundle.bytes), 2);
        // The record members are not built; the others are.
        let top = bundle.top().as_object().unwrap();
        let names: Vec<&str> = top.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(names, ["receipt_count", "bundle_digest"]);
        let Some(Slot::Unbuilt(receipts)) = bundle.member("receipts") else {
            panic!("receipts built");
        };
        assert!(receipts.is_array());
        assert_eq!(receipts.len(), 2);
        let at = text.find("\"receipts\"").unwrap();
        assert_eq!(bundle.span("receipts").unwrap().start, at);
        assert_eq!(bundle.span("bundle_digest").unwrap().end, text.len() - 2);
        let elements: Vec<Value> = receipts.elements().map(Result::unwrap).collect();
        assert_eq!(elements.len(), 2);
        assert_eq!(
            elements[1].get("a").unwrap().as_number().unwrap().text(),
            "2"
        );
        let Some(Slot::Unbuilt(entries)) = bundle.member("entries") else {
            panic!("entries built");
        };
        assert!(!entries.is_array() && entries.len() == 1);
        assert_eq!(entries.elements().count(), 0);
        assert_eq!(
            entries.build().unwrap(),
            parse_python(b"{\"x\": [1]}", &Limits::default()).unwrap()
        );
        let got = units.collect::<io::Result<Vec<_>>>().unwrap();
        assert_eq!(got, vec![rec(4, "{\"a\":1}"), rec(5, "{\"a\":2}")]);
        assert_eq!(Arc::strong_count(&bundle.bytes), 1);
        assert!(!bundle.has_nonfinite());
        assert!(
            Bundle::parse(b"{\"receipts\": [NaN]}".to_vec())
                .unwrap()
                .has_nonfinite()
        );
    }

    #[test]
    fn a_broken_bundle_is_reported_as_the_whole_parse_reports_it() {
        for input in [
            "{\"records\": [}",
            "{\n \"receipts\": [\n  {\"a\": 1},\n  {\"a\": 1, \"a\": 2}\n ]\n}",
            "{\n \"receipts\": [\n  {\"a\": \"\\ud800\"}\n ]\n}",
            "{\"entries\": [1], \"x\": 1,}",
            "{\"receipts\": [1]} x",
            "{\n\n \"receipts\": [1, [[[[",
        ] {
            let e = parse_python(input.as_bytes(), &Limits::default()).unwrap_err();
            let want = (
                line_at(input.as_bytes(), e.offset),
                format!("the JSON bundle is not valid JSON: {e}"),
            );
            match units(input).as_slice() {
                [
                    Unit::Problem {
                        line,
                        code,
                        message,
                        ..
                    },
                ] => {
                    assert_eq!(*code, Code::ContainerMalformed, "{input}");
                    assert_eq!((*line, message.clone()), want, "{input}");
                }
                other => panic!("{input}: {other:?}"),
            }
        }
        for (input, line, message) in [
            (
                "{\"records\": 5}",
                1,
                "the bundle's \"records\" member is a number, not an array",
            ),
            (
                "{\n \"x\": 1,\n \"receipts\": {\"a\": []}}",
                3,
                "the bundle's \"receipts\" member is a object, not an array",
            ),
        ] {
            match units(input).as_slice() {
                [
                    Unit::Problem {
                        line: l,
                        message: m,
                        ..
                    },
                ] => {
                    assert_eq!((*l, m.as_str()), (line, message), "{input}");
                }
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_bundle_object_over_the_limit_is_refused() {
        let big = io::Cursor::new(b"{\"records\": [".to_vec())
            .chain(io::repeat(b' ').take(MAX_BUNDLE_BYTES));
        let err = open(Box::new(io::BufReader::new(big)), "big.json", None).err();
        assert!(
            matches!(err, Some(IngestError::BundleTooLarge { .. })),
            "{err:?}"
        );
    }
}
