//! JSON containers: a top-level array of records (streamed element by element), or a bundle
//! object (read whole, up to [`MAX_BUNDLE_BYTES`]) whose records are the array in its first member
//! among [`RECORD_MEMBERS`] (`records`; asqav Audit Pack and ComplianceBundle `receipts`; AGT
//! `export()` `entries`), or the single object in its `entry` member (AGT `get_proof()`); any other
//! object is itself one record (a single receipt file). A bundle's
//! whole bytes are handed on, so that profiles can check what the bundle itself states (digests,
//! signatures, Merkle roots, counts).
//!
//! The array is split without building values: the splitter tracks strings, escapes and nesting
//! depth to find where each element ends, so each element's exact bytes go to the strict parser
//! like a JSONL line. An element over [`MAX_LINE_BYTES`] is skipped unread; a broken array
//! structure (junk between elements, a missing `]`) is a problem unit at its line and ends the input.

use std::io::{self, BufRead, Read};

use super::{ByteCursor, IngestError, MAX_BUNDLE_BYTES, MAX_LINE_BYTES, Unit, Units};
use crate::canon::json::{Limits, Value, parse_python};
use crate::finding::Code;

/// Members of a bundle object that hold its records, in the order they are looked for.
pub const RECORD_MEMBERS: [&str; 3] = ["records", "receipts", "entries"];

/// Opens a JSON container: a streamed array, or a bundle object read whole (returned too).
///
/// # Errors
/// [`IngestError`] when the input cannot be read or a bundle is too large.
#[allow(clippy::type_complexity)]
pub fn open(
    mut stream: Box<dyn BufRead + Send>,
    name: &str,
) -> Result<(Box<dyn Units>, Option<Vec<u8>>), IngestError> {
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
    let mut whole = Vec::new();
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
    let value = match parse_python(&whole, &Limits::default()) {
        Ok(v) => v,
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
    let members = value.as_object().unwrap_or_default();
    let found = RECORD_MEMBERS
        .iter()
        .find_map(|name| members.iter().find(|m| m.key == *name));
    let Some(member) = found else {
        if let Some(entry) = members
            .iter()
            .find(|m| m.key == "entry" && m.value.as_object().is_some())
        {
            let unit = Unit::Record {
                line: line_at(&whole, entry.value_span.start),
                bytes: whole[entry.value_span.clone()].to_vec(),
                context: None,
            };
            drop(value);
            return Ok((Box::new(OneShot(Some(unit))), Some(whole)));
        }
        // Any other object is one record (e.g. a single receipt file).
        drop(value);
        let unit = Unit::Record {
            line: 1,
            bytes: whole,
            context: None,
        };
        return Ok((Box::new(OneShot(Some(unit))), None));
    };
    if !matches!(member.value, Value::Array(_)) {
        return Ok((
            problem(
                line_at(&whole, member.span.start),
                format!(
                    "the bundle's \"{}\" member is a {}, not an array",
                    member.key,
                    member.value.type_name()
                ),
                &whole,
            ),
            None,
        ));
    }
    let start = member.value_span.start;
    let line = line_at(&whole, start);
    let slice = whole[member.value_span.clone()].to_vec();
    drop(value);
    Ok((
        Box::new(ArraySplitter::new(
            Box::new(io::Cursor::new(slice)),
            line,
            start as u64,
        )),
        Some(whole),
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
        open(Box::new(io::Cursor::new(input.as_bytes().to_vec())), "t")
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
        let (_, bundle) =
            open(Box::new(io::Cursor::new(b"{\"entries\":[]}".to_vec())), "t").unwrap();
        assert_eq!(bundle.as_deref(), Some(&b"{\"entries\":[]}"[..]));
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
    fn a_bundle_object_over_the_limit_is_refused() {
        let big = io::Cursor::new(b"{\"records\": [".to_vec())
            .chain(io::repeat(b' ').take(MAX_BUNDLE_BYTES));
        let err = open(Box::new(io::BufReader::new(big)), "big.json").err();
        assert!(
            matches!(err, Some(IngestError::BundleTooLarge { .. })),
            "{err:?}"
        );
    }
}
