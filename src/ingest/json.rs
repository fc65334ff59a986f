//! JSON containers: a top-level array of records (streamed element by element), or a bundle
//! object whose records are the array in its first member
//! among [`RECORD_MEMBERS`] (`records`; asqav Audit Pack and ComplianceBundle `receipts`; AGT
//! `export()` `entries`), or the single object in its `entry` member (AGT `get_proof()`); any other
//! object is itself one record (a single receipt file).
//!
//! A bundle from a regular file is read as a stream ([`super::reread`]): its members other than
//! the record arrays are read and built, its record arrays walked and hashed; the record stream
//! and the bundle-level checks read the arrays again from the file, each checking that it read the
//! same bytes. Its records are strictly parsed one at a time, by the record stream (a broken one is
//! a finding at its line, as in an array) and by the bundle checks.
//!
//! A bundle from standard input or a FIFO cannot be read twice: it is read whole (up to
//! [`MAX_BUNDLE_BYTES`]) and checked whole by the strict parser without being built as one value:
//! the values of its [`RECORD_MEMBERS`] are checked as thoroughly but left unbuilt
//! ([`crate::canon::json::parse_python_shallow`]), so what stays in memory is its bytes and its
//! other, small members. The bytes are read once and shared, not copied: the record array is split
//! from them like any array.
//!
//! Either way the [`Bundle`] handed on lets profiles check what the bundle itself states (digests,
//! signatures, Merkle roots, counts), reading the record array element by element.
//!
//! The array is split without building values: the splitter tracks strings, escapes and nesting
//! depth to find where each element ends, so each element's exact bytes go to the strict parser
//! like a JSONL line. An element over [`MAX_LINE_BYTES`] is skipped unread; a broken array
//! structure (junk between elements, a missing `]`) is a problem unit at its line and ends the input.

use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::sync::Arc;

use super::reread::{
    ArrayInFile, ElementError, FileElements, Reread, Scan, ScanError, Scanned, scan_object,
};
use super::{ByteCursor, IngestError, MAX_BUNDLE_BYTES, MAX_LINE_BYTES, Unit, Units};
use crate::canon::json::{
    Elements, Limits, Member, ParseError, Shallow, Value, parse_python, parse_python_elements,
    parse_python_shallow,
};
use crate::finding::Code;

/// Members of a bundle object that hold its records, in the order they are looked for.
pub const RECORD_MEMBERS: [&str; 3] = ["records", "receipts", "entries"];

/// A bundle object as the bundle-level checks see it: its top-level members, those named in
/// [`RECORD_MEMBERS`] that hold an array (or, held in memory, an object) left unbuilt
/// ([`Slot::Unbuilt`]), and where their bytes are: in memory (read from a stream, shared with the
/// record stream), or in the regular file the bundle came from, read again for each pass
/// ([`super::reread`]).
#[derive(Debug)]
pub struct Bundle {
    /// The bytes, when held.
    bytes: Arc<Vec<u8>>,
    /// The built members, as an object.
    top: Value,
    /// The unbuilt members (an empty array or object of their kind stands for the value; the spans
    /// are the real ones).
    unbuilt: Vec<UnbuiltMember>,
    /// The bundle holds a `NaN`, `Infinity` or `-Infinity` token (for a file-backed bundle: in a
    /// built member; its records are parsed by the record stream).
    nonfinite: bool,
}

#[derive(Debug)]
struct UnbuiltMember {
    member: Member,
    /// Elements (members of an object).
    len: usize,
    /// Where to read it again, for a file-backed bundle.
    file: Option<ArrayInFile>,
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
    file: Option<&'b ArrayInFile>,
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

    /// The value's text, when the bundle is held in memory (empty for a file-backed bundle).
    pub fn bytes(&self) -> &'b [u8] {
        if self.file.is_some() {
            return &[];
        }
        self.bundle
            .get(self.member.value_span.clone())
            .unwrap_or_default()
    }

    /// The elements of an array, parsed one at a time (nothing for an object). A held bundle
    /// parsed whole, so each of its elements parses; a file-backed bundle's are read again from
    /// the file, and an element that does not parse, or a file that changed, ends them with an
    /// error.
    pub fn elements(&self) -> BundleElements<'b> {
        if let Some(file) = self.file {
            let span = &self.member.value_span;
            return BundleElements::File(FileElements::new(
                file,
                span.start as u64..span.end as u64,
            ));
        }
        let text: &'b [u8] = if self.is_array() { self.bytes() } else { b"[]" };
        BundleElements::Held(parse_python_elements(text, &Limits::default()))
    }

    /// The value built whole (for the rare check that needs an unbuilt object as a value; a
    /// file-backed bundle builds its objects).
    ///
    /// # Errors
    /// None short of a bug for a held bundle: it parsed. A file-backed record array is not built.
    pub fn build(&self) -> Result<Value, ElementError> {
        if self.file.is_some() {
            return Err(ElementError::Reread(
                "a record array read from a file is not built whole".into(),
            ));
        }
        parse_python(self.bytes(), &Limits::default())
            .map_err(|error| ElementError::Parse { line: 0, error })
    }
}

/// The elements of a bundle's record array, one at a time.
pub enum BundleElements<'b> {
    /// From the bundle's bytes in memory.
    Held(Elements<'b>),
    /// Read again from the bundle's file.
    File(FileElements),
}

impl Iterator for BundleElements<'_> {
    type Item = Result<Value, ElementError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            BundleElements::Held(e) => e
                .next()
                .map(|r| r.map_err(|error| ElementError::Parse { line: 0, error })),
            BundleElements::File(e) => e.next(),
        }
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
                Some(s) => unbuilt.push(UnbuiltMember {
                    member: m,
                    len: s.len,
                    file: None,
                }),
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

    /// A file-backed bundle from the first pass over its file.
    fn from_scan(scan: Scan, file: &Reread) -> Bundle {
        let mut built = Vec::new();
        let mut unbuilt = Vec::new();
        for m in scan.members {
            match m {
                Scanned::Built(m) => built.push(m),
                Scanned::Array {
                    member,
                    len,
                    line,
                    digest,
                } => unbuilt.push(UnbuiltMember {
                    member,
                    len,
                    file: Some(ArrayInFile {
                        file: file.clone(),
                        line,
                        digest,
                    }),
                }),
            }
        }
        Bundle {
            bytes: Arc::new(Vec::new()),
            top: Value::Object(built),
            unbuilt,
            nonfinite: scan.nonfinite,
        }
    }

    /// Whether the bundle's records are read again from its file (else its bytes are held).
    pub fn is_file_backed(&self) -> bool {
        self.unbuilt.iter().any(|u| u.file.is_some())
    }

    /// The bundle's bytes, when held (empty for a file-backed bundle).
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
        if let Some(u) = self.unbuilt.iter().find(|u| u.member.key == name) {
            return Some(Slot::Unbuilt(Unbuilt {
                member: &u.member,
                len: u.len,
                bundle: &self.bytes,
                file: u.file.as_ref(),
            }));
        }
        self.top.get(name).map(Slot::Built)
    }

    /// Where a top-level member is, built or not: from its name's opening quote to the end of its
    /// value.
    pub fn span(&self, name: &str) -> Option<Range<usize>> {
        let built = self.top.as_object().unwrap_or_default().iter();
        built
            .chain(self.unbuilt.iter().map(|u| &u.member))
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

/// Opens a JSON container: a streamed array, or a bundle object (returned too). A bundle from a
/// regular file (`file`) is read as a stream and its record arrays read again from the file
/// ([`super::reread`]); from any other stream it is read whole into memory. `size` is the
/// input's size when known, so that a bundle read whole is read into one allocation of the right
/// size.
///
/// # Errors
/// [`IngestError`] when the input cannot be read or a bundle is too large.
#[allow(clippy::type_complexity)]
pub fn open(
    mut stream: Box<dyn BufRead + Send>,
    name: &str,
    size: Option<u64>,
    file: Option<Reread>,
) -> Result<(Box<dyn Units>, Option<Bundle>), IngestError> {
    let io_err = |e| IngestError::read(name, e);
    // Skip a BOM and whitespace to see which kind it is.
    let (mut offset, mut line) = (0u64, 1u64);
    let first = loop {
        let buf = stream.fill_buf().map_err(io_err)?;
        match buf.first() {
            None => break None,
            Some(b) if b.is_ascii_whitespace() => {
                line += u64::from(*b == b'\n');
                offset += 1;
                stream.consume(1);
            }
            Some(0xEF) if buf.starts_with(b"\xEF\xBB\xBF") => {
                offset += 3;
                stream.consume(3);
            }
            Some(&b) => break Some(b),
        }
    };
    if first != Some(b'{') {
        return Ok((Box::new(ArraySplitter::new(stream, line, offset)), None));
    }
    if let Some(file) = file {
        return open_file_backed(stream, name, &file, line, offset);
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
    Ok(held(whole, line, offset))
}

/// One problem unit: the container cannot be read as a bundle.
fn problem(line: u64, message: String, text: &[u8]) -> Box<dyn Units> {
    Box::new(OneShot(Some(Unit::Problem {
        line,
        code: Code::ContainerMalformed,
        message,
        text: text[..text.len().min(4096)].to_vec(),
    })))
}

/// A bundle object held in memory (`whole`, which starts on `first_line`, `offset` bytes into its
/// input): parsed whole, its record array split from the same bytes.
fn held(whole: Vec<u8>, first_line: u64, offset: u64) -> (Box<dyn Units>, Option<Bundle>) {
    let line_of = |bytes: &[u8], at: usize| line_at(bytes, at) + first_line - 1;
    let shallow = match parse_python_shallow(&whole, &Limits::default(), &RECORD_MEMBERS) {
        Ok(shallow) => shallow,
        Err(e) => {
            let line = line_of(&whole, e.offset);
            return (
                problem(
                    line,
                    format!("the JSON bundle is not valid JSON: {e}"),
                    &whole,
                ),
                None,
            );
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
                line: line_of(bundle.bytes(), entry.value_span.start),
                bytes: bundle.bytes()[entry.value_span.clone()].to_vec(),
                context: None,
            };
            return (Box::new(OneShot(Some(unit))), Some(bundle));
        }
        // Any other object is one record (e.g. a single receipt file).
        let unit = Unit::Record {
            line: first_line,
            bytes: bundle.into_bytes(),
            context: None,
        };
        return (Box::new(OneShot(Some(unit))), None);
    };
    let array = match slot {
        Slot::Unbuilt(u) if u.is_array() => u.member.value_span.clone(),
        other => {
            let at = bundle.span(member_name).map_or(0, |s| s.start);
            return (
                problem(
                    line_of(bundle.bytes(), at),
                    format!(
                        "the bundle's \"{member_name}\" member is a {}, not an array",
                        other.type_name()
                    ),
                    bundle.bytes(),
                ),
                None,
            );
        }
    };
    let line = line_of(bundle.bytes(), array.start);
    let records = SharedSlice {
        bytes: Arc::clone(&bundle.bytes),
        pos: array.start,
        end: array.end,
    };
    (
        Box::new(ArraySplitter::new(
            Box::new(records),
            line,
            offset + array.start as u64,
        )),
        Some(bundle),
    )
}

/// A bundle object of a regular file: read as a stream ([`scan_object`]), its record array read
/// again from the file. An object without a record array is one record, or an AGT `get_proof()`
/// object: read again whole (it is small: everything in it was held) and taken as from a stream.
#[allow(clippy::type_complexity)]
fn open_file_backed(
    stream: Box<dyn BufRead + Send>,
    name: &str,
    file: &Reread,
    line: u64,
    offset: u64,
) -> Result<(Box<dyn Units>, Option<Bundle>), IngestError> {
    let io_err = |e| IngestError::read(name, e);
    let scan = match scan_object(stream, line, offset) {
        Ok(scan) => scan,
        Err(ScanError::Io(e)) => return Err(io_err(e)),
        Err(ScanError::Broken { line, message }) => return Ok((problem(line, message, &[]), None)),
        Err(ScanError::TooLarge) => {
            return Err(IngestError::BundleMembersTooLarge {
                name: name.to_string(),
            });
        }
    };
    if let Some(digest) = scan.whole {
        if scan.end - offset > MAX_BUNDLE_BYTES {
            return Err(IngestError::BundleTooLarge {
                name: name.to_string(),
            });
        }
        let mut whole = Vec::with_capacity(usize::try_from(scan.end - offset).unwrap_or(0));
        file.span(offset..scan.end, digest)
            .and_then(|mut r| r.read_to_end(&mut whole))
            .map_err(io_err)?;
        return Ok(held(whole, line, offset));
    }
    // The member that holds the records, and the line of its name.
    let found = RECORD_MEMBERS.iter().find_map(|want| {
        scan.members
            .iter()
            .zip(&scan.lines)
            .find(|(m, _)| m.key() == *want)
            .map(|(m, line)| (*want, m, *line))
    });
    let bundle_problem = match found {
        Some((_, Scanned::Array { .. }, _)) | None => None,
        Some((member_name, Scanned::Built(m), line)) => Some((
            line,
            format!(
                "the bundle's \"{member_name}\" member is a {}, not an array",
                m.value.type_name()
            ),
        )),
    };
    if let Some((line, message)) = bundle_problem {
        return Ok((problem(line, message, &[]), None));
    }
    let bundle = Bundle::from_scan(scan, file);
    let records = RECORD_MEMBERS
        .iter()
        .find_map(|want| match bundle.member(want) {
            Some(Slot::Unbuilt(u)) => u.file.map(|f| (f, u.member.value_span.clone())),
            _ => None,
        });
    let Some((array, span)) = records else {
        // Cannot happen: a record array was found.
        return Ok((
            problem(line, "the bundle's record array was not found".into(), &[]),
            None,
        ));
    };
    let units = array
        .units(span.start as u64..span.end as u64)
        .map_err(io_err)?;
    Ok((Box::new(units), Some(bundle)))
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

/// Where a JSON value's text ends, found chunk by chunk without parsing it: strings (with their
/// escapes) and bracket nesting are tracked, so that a delimiter inside either is not taken for
/// the end. Shared by the array splitter and the bundle's first pass ([`super::reread`]).
#[derive(Debug, Default)]
pub(super) struct Extent {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl Extent {
    /// Scans the next chunk of the value's text: how many of its bytes belong to the value, and
    /// whether the value ends there (before a byte of `stops` outside any string and bracket,
    /// after the closing quote of a string, or after the bracket that closes it).
    pub(super) fn scan(&mut self, buf: &[u8], stops: &[u8]) -> (usize, bool) {
        let mut k = 0;
        while k < buf.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    k += 1;
                    continue;
                }
                // The plain run of the string at once: most of a record's bytes.
                let Some(j) = memchr::memchr2(b'"', b'\\', &buf[k..]) else {
                    return (buf.len(), false);
                };
                k += j + 1;
                if buf[k - 1] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                    if self.depth == 0 {
                        return (k, true);
                    }
                }
                continue;
            }
            let b = buf[k];
            if self.depth == 0 && stops.contains(&b) {
                return (k, true);
            }
            k += 1;
            match b {
                b'"' => self.in_string = true,
                // Saturating: 2^32 brackets would otherwise overflow (the unit is too long
                // anyway).
                b'{' | b'[' => self.depth = self.depth.saturating_add(1),
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return (k, true);
                    }
                }
                _ => {}
            }
        }
        (k, false)
    }
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
        let mut extent = Extent::default();
        loop {
            let buf = self.cur.fill()?;
            if buf.is_empty() {
                return Ok(self.broken("the JSON array ends inside an element (truncated)".into()));
            }
            let (k, done) = extent.scan(buf, b",]");
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

impl ArraySplitter {
    /// Reads the rest of the stream, unsplit (so that a stream that checks what it read at its
    /// end, [`super::reread::SpanReader`], gets to check).
    ///
    /// # Errors
    /// The stream's read error.
    pub fn drain(&mut self) -> io::Result<()> {
        self.state = State::Done;
        loop {
            let n = self.cur.fill()?.len();
            if n == 0 {
                return Ok(());
            }
            self.cur.advance(n)?;
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

    /// The units of `input` read from a stream (a bundle held in memory).
    fn units(input: &str) -> Vec<Unit> {
        open(
            Box::new(io::Cursor::new(input.as_bytes().to_vec())),
            "t",
            None,
            None,
        )
        .unwrap()
        .0
        .collect::<io::Result<Vec<_>>>()
        .unwrap()
    }

    /// `input` written to a file (gzipped when `gzip`), and opened from it as `ingest::open`
    /// opens a regular file: the stream, and the file to read again.
    #[allow(clippy::type_complexity)]
    fn open_file(
        dir: &tempfile::TempDir,
        input: &[u8],
        gzip: bool,
    ) -> Result<(Box<dyn Units>, Option<Bundle>), IngestError> {
        use std::io::Write as _;
        let path = dir.path().join(if gzip { "b.json.gz" } else { "b.json" });
        let bytes = if gzip {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(input).unwrap();
            gz.finish().unwrap()
        } else {
            input.to_vec()
        };
        std::fs::write(&path, bytes).unwrap();
        let stream = io::Cursor::new(input.to_vec());
        open(
            Box::new(stream),
            "t",
            Some(input.len() as u64),
            Some(Reread::new(path, gzip)),
        )
    }

    /// The units of `input` read from a file, plain and gzipped (both must agree).
    fn file_units(input: &str) -> Vec<Unit> {
        let dir = tempfile::tempdir().unwrap();
        let read = |gzip| {
            open_file(&dir, input.as_bytes(), gzip)
                .unwrap()
                .0
                .collect::<io::Result<Vec<_>>>()
                .unwrap()
        };
        let plain = read(false);
        assert_eq!(plain, read(true), "{input}");
        plain
    }

    /// The units of a valid bundle, the same from a stream and from a file.
    fn both_units(input: &str) -> Vec<Unit> {
        let held = units(input);
        assert_eq!(held, file_units(input), "{input}");
        held
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
        let got = both_units(
            "{\n \"meta\": {\"x\": 1},\n \"records\": [\n  {\"a\":1},\n  {\"a\":2}\n ]\n}",
        );
        assert_eq!(got, vec![rec(4, "{\"a\":1}"), rec(5, "{\"a\":2}")]);
    }

    #[test]
    fn reads_receipts_entries_and_a_single_entry() {
        let got = both_units("{\"receipt_count\": 1,\n \"receipts\": [\n  {\"a\":1}\n ]}");
        assert_eq!(got, vec![rec(3, "{\"a\":1}")]);
        let got = both_units("{\"entries\": [{\"a\":1}], \"entry_count\": 1}");
        assert_eq!(got, vec![rec(1, "{\"a\":1}")]);
        let got = both_units("{\n \"entry\": {\"a\": 1},\n \"merkle_proof\": []\n}");
        assert_eq!(got, vec![rec(2, "{\"a\": 1}")]);
        // After leading lines, a BOM and spaces, the lines still count from the file's start.
        let got = both_units("\u{feff}\n\n  {\"records\": [\n {\"a\":1}]}");
        assert_eq!(got, vec![rec(4, "{\"a\":1}")]);
        let got = both_units("\n\n{\"x\": 1}");
        assert_eq!(got, vec![rec(3, "{\"x\": 1}")]);
        let got = both_units("\n[\n{\"a\":1}]");
        assert_eq!(got, vec![rec(3, "{\"a\":1}")]);
        let (_, bundle) = open(
            Box::new(io::Cursor::new(b"{\"entries\":[]}".to_vec())),
            "t",
            None,
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
        assert_eq!(
            both_units("{\"other\": []}"),
            vec![rec(1, "{\"other\": []}")]
        );
        assert!(matches!(
            both_units("{\"records\": 5}")[0],
            Unit::Problem { .. }
        ));
        assert!(matches!(units("{\"records\": [}")[0], Unit::Problem { .. }));
        assert!(matches!(
            file_units("{\"records\": [}")[0],
            Unit::Problem { .. }
        ));
    }

    #[test]
    fn a_bundle_shares_its_bytes_with_its_record_stream_and_leaves_the_records_unbuilt() {
        let text = "{\n \"receipt_count\": 2,\n \"receipts\": [\n  {\"a\":1},\n  {\"a\":2}\n ],\n \"entries\": {\"x\": [1]},\n \"bundle_digest\": \"x\"\n}";
        let size = text.len() as u64;
        let (units, bundle) = open(
            Box::new(io::Cursor::new(text.as_bytes().to_vec())),
            "t",
            Some(size),
            None,
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
        let err = open(Box::new(io::BufReader::new(big)), "big.json", None, None).err();
        assert!(
            matches!(err, Some(IngestError::BundleTooLarge { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn a_file_backed_bundle_holds_its_members_and_reads_its_records_again() {
        let text = "{\n \"receipt_count\": 2,\n \"receipts\": [\n  {\"a\":1},\n  {\"a\":2}\n ],\n \"entries\": {\"x\": [1]},\n \"bundle_digest\": \"x\"\n}";
        let dir = tempfile::tempdir().unwrap();
        for gzip in [false, true] {
            let (units, bundle) = open_file(&dir, text.as_bytes(), gzip).unwrap();
            let bundle = bundle.unwrap();
            assert!(bundle.is_file_backed());
            assert!(bundle.bytes().is_empty());
            // The record array is not held; the other members are built, an object in a record
            // member too.
            let top = bundle.top().as_object().unwrap();
            let names: Vec<&str> = top.iter().map(|m| m.key.as_str()).collect();
            assert_eq!(names, ["receipt_count", "entries", "bundle_digest"]);
            let Some(Slot::Unbuilt(receipts)) = bundle.member("receipts") else {
                panic!("receipts built");
            };
            assert!(receipts.is_array() && receipts.len() == 2);
            assert!(receipts.bytes().is_empty() && receipts.build().is_err());
            assert_eq!(
                bundle.span("receipts").unwrap().start,
                text.find("\"receipts\"").unwrap()
            );
            assert_eq!(bundle.span("bundle_digest").unwrap().end, text.len() - 2);
            // Read again, as often as asked.
            for _ in 0..2 {
                let elements: Vec<Value> = receipts.elements().map(Result::unwrap).collect();
                assert_eq!(elements.len(), 2);
                assert_eq!(
                    elements[1].get("a").unwrap().as_number().unwrap().text(),
                    "2"
                );
            }
            let got = units.collect::<io::Result<Vec<_>>>().unwrap();
            assert_eq!(got, vec![rec(4, "{\"a\":1}"), rec(5, "{\"a\":2}")]);
        }
    }

    #[test]
    fn a_file_that_changes_between_its_reads_is_caught() {
        let text = "{\"receipts\": [{\"a\":1}, {\"a\":2}], \"n\": 2}";
        let dir = tempfile::tempdir().unwrap();
        for gzip in [false, true] {
            // The same length, one byte changed; then shorter.
            for changed in [
                text.replace("\"a\":2", "\"a\":3"),
                text.replace("{\"a\":2}", "{}"),
            ] {
                let (units, bundle) = open_file(&dir, text.as_bytes(), gzip).unwrap();
                let bundle = bundle.unwrap();
                // Rewrite the file behind the first read.
                let path = dir.path().join(if gzip { "b.json.gz" } else { "b.json" });
                let bytes = if gzip {
                    use std::io::Write as _;
                    let mut gz =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    gz.write_all(changed.as_bytes()).unwrap();
                    gz.finish().unwrap()
                } else {
                    changed.clone().into_bytes()
                };
                std::fs::write(&path, bytes).unwrap();
                // The record stream opened its file before the change: it reads the change (a
                // plain file is read when the units are), or the bytes it had already read (a
                // gzip file's first buffer); never a mix.
                match units.collect::<io::Result<Vec<_>>>() {
                    Err(err) => assert!(err.to_string().contains("the file changed"), "{err}"),
                    Ok(got) => {
                        assert!(gzip, "{got:?}");
                        assert_eq!(got, vec![rec(1, "{\"a\":1}"), rec(1, "{\"a\":2}")]);
                    }
                }
                let Some(Slot::Unbuilt(receipts)) = bundle.member("receipts") else {
                    panic!("receipts built");
                };
                let last = receipts.elements().last().unwrap();
                match last {
                    Err(ElementError::Reread(why)) => {
                        assert!(why.contains("the file changed"), "{why}")
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_broken_file_backed_bundle_is_a_problem_at_its_line() {
        for (input, line) in [
            ("{\"records\": [}", 1),
            ("{\"records\": [1,,2]}", 1),
            ("{\"records\": [1] 2}", 1),
            ("{\n\"records\": [1],\n \"records\": [2]}", 3),
            ("{\"entries\": [1], \"x\": 1,}", 1),
            ("{\"receipts\": [1]} x", 1),
            ("{\n\n \"receipts\": [1, [[[[", 3),
            ("{\"receipts\": [1], \"x\": tru}", 1),
            ("{\"receipts\": [1], \"x\"\n 1}", 2),
            ("{\"receipts\": [1], \"x\": \"\\ud800\"}", 1),
            ("{\"receipts\": [1], 5: 1}", 1),
            ("{\"receipts\": [1],\n\"x\": [\n1,]}", 3),
        ] {
            match file_units(input).as_slice() {
                [Unit::Problem { line: l, code, .. }] => {
                    assert_eq!((*l, *code), (line, Code::ContainerMalformed), "{input}");
                }
                other => panic!("{input}: {other:?}"),
            }
        }
        // A broken record is the record stream's to report, at its line, as in an array.
        let got = file_units("{\"receipts\": [\n{\"a\": 1, \"a\": 2},\n{\"b\": 1}]}");
        assert_eq!(
            got,
            vec![rec(2, "{\"a\": 1, \"a\": 2}"), rec(3, "{\"b\": 1}")]
        );
        // Members other than the records are bounded.
        let dir = tempfile::tempdir().unwrap();
        let mut big = b"{\"receipts\": [], \"x\": \"".to_vec();
        big.resize(big.len() + super::super::reread::MAX_MEMBER_BYTES, b'a');
        big.extend_from_slice(b"\"}");
        let err = open_file(&dir, &big, false).err();
        assert!(
            matches!(err, Some(IngestError::BundleMembersTooLarge { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn elements_split_the_same_whatever_the_read_buffer() {
        // Escapes, quotes and brackets inside strings, across every buffer boundary.
        let input = "[{\"a\":\"x\\\\\",\"b\":\"],[{\\\"\"},\n \"s\\\"]\", [1,{\"c\":\"}\"}],\"\\\\\\\\\" ,{}]";
        let split = |cap: usize| {
            let reader =
                io::BufReader::with_capacity(cap, io::Cursor::new(input.as_bytes().to_vec()));
            ArraySplitter::new(Box::new(reader), 1, 0)
                .collect::<io::Result<Vec<_>>>()
                .unwrap()
        };
        let want = split(4096);
        assert_eq!(want.len(), 5, "{want:?}");
        for unit in &want {
            let Unit::Record { bytes, .. } = unit else {
                panic!("{unit:?}");
            };
            parse_python(bytes, &Limits::default()).unwrap();
        }
        for cap in 1..=9 {
            assert_eq!(split(cap), want, "buffer of {cap}");
        }
        // The first pass over a bundle walks the same elements whatever its buffer.
        let bundle = format!("{{\"x\": \"}}\\\\\", \"records\": {input}, \"y\": [\"]\"]}}");
        for cap in [1, 2, 3, 5, 8, 4096] {
            let reader =
                io::BufReader::with_capacity(cap, io::Cursor::new(bundle.clone().into_bytes()));
            let scan = scan_object(Box::new(reader), 1, 0).unwrap();
            let lens: Vec<(String, usize)> = scan
                .members
                .iter()
                .map(|m| match m {
                    Scanned::Built(m) => (m.key.clone(), m.value_span.len()),
                    Scanned::Array { member, len, .. } => (member.key.clone(), *len),
                })
                .collect();
            assert_eq!(
                lens,
                [
                    ("x".to_string(), 5),
                    ("records".to_string(), 5),
                    ("y".to_string(), 5)
                ],
                "buffer of {cap}"
            );
        }
    }

    #[test]
    fn millions_of_tiny_members_are_bounded_like_one_large_one() {
        // 600,000 members of 7 bytes each: 4 MiB of text, but each member's structures count.
        let mut text = b"{\"receipts\": []".to_vec();
        for i in 0..600_000u32 {
            text.extend_from_slice(format!(",\"{:x}\":1", i).as_bytes());
        }
        text.push(b'}');
        let dir = tempfile::tempdir().unwrap();
        let err = open_file(&dir, &text, false).err();
        assert!(
            matches!(err, Some(IngestError::BundleMembersTooLarge { .. })),
            "{err:?}"
        );
    }
}
