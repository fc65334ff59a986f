//! Bundle objects read from a regular file without being held: a first pass
//! ([`scan_object`]) reads the object as a stream, keeps its small members, and walks each record
//! array (see [`super::json::RECORD_MEMBERS`]) element by element, hashing its bytes; the record
//! stream and the bundle-level checks then read each array again from the file
//! ([`Reread::span`]), and each of those passes checks that it read the same bytes
//! ([`FileChanged`] otherwise). Memory is the small members and a read buffer, whatever the
//! file's size.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::json::{ArraySplitter, Extent, RECORD_MEMBERS};
use super::{ByteCursor, MAX_LINE_BYTES, Unit, Units};
use crate::canon::json::{Limits, Member, ParseError, ParseErrorKind, Value, parse_python_shallow};
use crate::finding::{Code, Finding, Location};
use crate::tables::HashSet;

/// Most bytes of a file-backed bundle's members other than its record arrays (they are held and
/// built): 64 MiB of text, each member counted with its structures. Built values take more than
/// their text (a value tree costs up to about 20 times the text of an array of one-digit
/// numbers), as for any record.
pub const MAX_MEMBER_BYTES: usize = 64 * 1024 * 1024;

/// What a held member costs besides its text, counted against [`MAX_MEMBER_BYTES`]: its name's
/// entry in the duplicate check and its `Member` (name, value, spans).
const MEMBER_OVERHEAD: usize = 128;

/// Longest member name of a bundle object.
const MAX_NAME_BYTES: usize = 64 * 1024;

/// Read buffer of each pass.
const BUFFER: usize = 256 * 1024;

/// A regular file read again: its bytes as first read (after decompression).
#[derive(Debug, Clone)]
pub struct Reread {
    path: PathBuf,
    gzip: bool,
}

impl Reread {
    /// The file at `path`, gzip-compressed or not.
    pub fn new(path: PathBuf, gzip: bool) -> Reread {
        Reread { path, gzip }
    }

    /// The bytes `range` of the (decompressed) file, read again: the stream fails with
    /// [`FileChanged`] at its end unless they hash to `digest`, the SHA-256 of the first read.
    ///
    /// # Errors
    /// The file cannot be opened, or read up to `range.start`.
    pub fn span(&self, range: Range<u64>, digest: [u8; 32]) -> io::Result<SpanReader> {
        let mut file = File::open(&self.path)?;
        let inner: Box<dyn Read + Send> = if self.gzip {
            let mut gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, file));
            let skipped = io::copy(&mut (&mut gz).take(range.start), &mut io::sink())?;
            if skipped < range.start {
                return Err(changed());
            }
            Box::new(gz)
        } else {
            use std::io::Seek as _;
            file.seek(io::SeekFrom::Start(range.start))?;
            Box::new(file)
        };
        Ok(SpanReader {
            inner: inner.take(range.end.saturating_sub(range.start)),
            hash: Sha256::new(),
            digest,
            checked: false,
        })
    }
}

/// The bundle's file no longer holds the bytes first read from it.
#[derive(Debug)]
pub struct FileChanged;

impl fmt::Display for FileChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the file changed while it was being verified: its records read again differ from their first read",
        )
    }
}

impl std::error::Error for FileChanged {}

fn changed() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, FileChanged)
}

/// A span of a file read again, checked at its end against the first read's digest.
pub struct SpanReader {
    inner: io::Take<Box<dyn Read + Send>>,
    hash: Sha256,
    digest: [u8; 32],
    checked: bool,
}

impl Read for SpanReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        if n == 0 && !buf.is_empty() && !self.checked {
            self.checked = true;
            let hash = std::mem::take(&mut self.hash).finalize();
            if self.inner.limit() > 0 || hash.as_slice() != self.digest {
                return Err(changed());
            }
        }
        Ok(n)
    }
}

/// A record array of a file-backed bundle, as the first pass found it.
#[derive(Debug, Clone)]
pub struct ArrayInFile {
    /// The file.
    pub file: Reread,
    /// Line of its `[`.
    pub line: u64,
    /// SHA-256 of its bytes, `[` to `]`.
    pub digest: [u8; 32],
}

impl ArrayInFile {
    /// The array's elements read again, split as a JSON array's are, starting at its line.
    ///
    /// # Errors
    /// The file cannot be opened again.
    pub fn units(&self, range: Range<u64>) -> io::Result<FileUnits> {
        let start = range.start;
        let reader = BufReader::with_capacity(BUFFER, self.file.span(range, self.digest)?);
        Ok(FileUnits {
            splitter: ArraySplitter::new(Box::new(reader), self.line, start),
            ended: false,
        })
    }
}

/// The units of a record array read again from its file. When the array ends, or breaks (which
/// a changed file can cause), the rest of its bytes are read so that the read is checked whole:
/// a changed file ends the units with [`FileChanged`] instead.
pub struct FileUnits {
    splitter: ArraySplitter,
    ended: bool,
}

impl Iterator for FileUnits {
    type Item = io::Result<Unit>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        match self.splitter.next() {
            None => {
                self.ended = true;
                self.splitter.drain().err().map(Err)
            }
            Some(Ok(problem @ Unit::Problem { .. })) => {
                self.ended = true;
                Some(self.splitter.drain().map(|()| problem))
            }
            Some(Err(e)) => {
                self.ended = true;
                Some(Err(e))
            }
            Some(Ok(unit)) => Some(Ok(unit)),
        }
    }
}

impl Units for FileUnits {
    fn bytes_read(&self) -> u64 {
        self.splitter.bytes_read()
    }
}

/// Why an element of a bundle's record array could not be given to a bundle-level check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementError {
    /// It does not parse. For a bundle held in memory this cannot happen (the whole bundle
    /// parsed); for a file-backed one, the record stream reports the element itself.
    Parse {
        /// Line where the element starts (0 when not known).
        line: u64,
        /// The parser's error.
        error: ParseError,
    },
    /// An element too long to be read as a record (the record stream reports it).
    TooLong {
        /// Line where it starts.
        line: u64,
    },
    /// The file could not be read again, or no longer holds what was first read.
    Reread(String),
}

impl fmt::Display for ElementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElementError::Parse { line, error } => {
                write!(f, "the record at line {line} does not parse ({error})")
            }
            ElementError::TooLong { line } => write!(
                f,
                "the record at line {line} is longer than the {} MiB a record may be",
                MAX_LINE_BYTES >> 20
            ),
            ElementError::Reread(why) => f.write_str(why),
        }
    }
}

impl ElementError {
    /// The finding for a bundle-level check (`what`: what it cannot recompute) that stopped at
    /// this error: none for a held bundle's parse error (it cannot happen: the bundle parsed
    /// whole); `canon.unsupported_value` for a record it cannot read (the record stream reports
    /// the record itself); `container.malformed` for a file that cannot be read again or changed.
    pub fn finding(&self, at: &Location, what: &str) -> Option<Finding> {
        let code = match self {
            ElementError::Parse { line: 0, .. } => return None,
            ElementError::Parse { .. } | ElementError::TooLong { .. } => Code::CanonUnsupported,
            ElementError::Reread(_) => Code::ContainerMalformed,
        };
        Some(Finding::new(code, format!("{self}: {what} cannot be recomputed")).at(at.clone()))
    }
}

/// The elements of a file-backed record array, parsed one at a time as the held bundle's are.
pub struct FileElements {
    splitter: Option<FileUnits>,
    error: Option<ElementError>,
}

impl FileElements {
    /// The elements of `array`, whose bytes are `range` of its file.
    pub fn new(array: &ArrayInFile, range: Range<u64>) -> FileElements {
        match array.units(range) {
            Ok(s) => FileElements {
                splitter: Some(s),
                error: None,
            },
            Err(e) => FileElements {
                splitter: None,
                error: Some(ElementError::Reread(format!(
                    "the file cannot be read again: {e}"
                ))),
            },
        }
    }
}

impl Iterator for FileElements {
    type Item = Result<Value, ElementError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        loop {
            let unit = self.splitter.as_mut()?.next()?;
            let item = match unit {
                Ok(Unit::Record { line, bytes, .. }) => {
                    // An element nests at most the limit less the object and the array.
                    let limits = Limits {
                        max_depth: Limits::default().max_depth - 2,
                    };
                    match crate::canon::json::parse_python(&bytes, &limits) {
                        Ok(v) => return Some(Ok(v)),
                        Err(error) => Err(ElementError::Parse { line, error }),
                    }
                }
                Ok(Unit::TooLong { line, .. }) => Err(ElementError::TooLong { line }),
                Ok(Unit::Problem { message, .. }) => Err(ElementError::Reread(message)),
                Ok(Unit::Blank { .. } | Unit::Note { .. }) => continue,
                Err(e) => Err(ElementError::Reread(e.to_string())),
            };
            self.splitter = None;
            return Some(item);
        }
    }
}

/// A member of a bundle object as the first pass read it.
#[derive(Debug)]
pub enum Scanned {
    /// Built from its bytes (spans are offsets into the file, those of nested members into the
    /// value's own text).
    Built(Member),
    /// A record array, walked and hashed but not held.
    Array {
        /// Name, spans (offsets into the file) and an empty array standing for the value.
        member: Member,
        /// Its element count.
        len: usize,
        /// Line of its `[`.
        line: u64,
        /// SHA-256 of its bytes.
        digest: [u8; 32],
    },
}

/// What the first pass found.
#[derive(Debug)]
pub struct Scan {
    /// The members in file order.
    pub members: Vec<Scanned>,
    /// The line of each member's name.
    pub lines: Vec<u64>,
    /// A built member holds `NaN`, `Infinity` or `-Infinity`.
    pub nonfinite: bool,
    /// SHA-256 of the whole object, when it holds no record array (such an object is then read
    /// again whole, and checked against it).
    pub whole: Option<[u8; 32]>,
    /// Offset just past the object's `}`.
    pub end: u64,
}

/// Why the first pass stopped.
#[derive(Debug)]
pub enum ScanError {
    /// The stream could not be read.
    Io(io::Error),
    /// Not a well-formed JSON object: where, and why.
    Broken {
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The members other than the record arrays are over [`MAX_MEMBER_BYTES`].
    TooLarge,
}

impl Scanned {
    /// The member's name.
    pub fn key(&self) -> &str {
        match self {
            Scanned::Built(m) | Scanned::Array { member: m, .. } => &m.key,
        }
    }
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// Reads a bundle object from `stream`, positioned at its `{` (on `line`, `offset` bytes into
/// the file), to the end of the stream: its members, its record arrays walked (each element's
/// extent found as a JSON array's is: strings, escapes and nesting) and hashed but not held, its
/// other members read and parsed strictly (at most [`MAX_MEMBER_BYTES`] in all), member names
/// unique, nothing but whitespace after it.
///
/// # Errors
/// [`ScanError`].
pub fn scan_object(
    stream: Box<dyn BufRead + Send>,
    line: u64,
    offset: u64,
) -> Result<Scan, ScanError> {
    let mut s = Scanner {
        cur: ByteCursor::new(stream, line, offset),
        whole: Some(Sha256::new()),
        span: None,
        held: 0,
    };
    let scan = s.object()?;
    Ok(scan)
}

struct Scanner {
    cur: ByteCursor<Box<dyn BufRead + Send>>,
    whole: Option<Sha256>,
    span: Option<Sha256>,
    /// Bytes of member values held so far.
    held: usize,
}

/// How a value's text ended.
enum Walked {
    /// Its length.
    Len(u64),
    /// The stream ended inside it.
    Truncated,
}

impl Scanner {
    fn broken(&self, message: impl Into<String>) -> ScanError {
        ScanError::Broken {
            line: self.cur.line,
            message: message.into(),
        }
    }

    /// Consumes `n` buffered bytes, hashing them.
    fn advance(&mut self, n: usize) -> io::Result<()> {
        let buf = self.cur.fill()?;
        let n = n.min(buf.len());
        if let Some(h) = &mut self.whole {
            h.update(&buf[..n]);
        }
        if let Some(h) = &mut self.span {
            h.update(&buf[..n]);
        }
        self.cur.advance(n)
    }

    fn bump(&mut self) -> io::Result<()> {
        self.advance(1)
    }

    /// Skips whitespace; the next byte, not consumed.
    fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = self.cur.fill()?;
            let Some(&first) = buf.first() else {
                return Ok(None);
            };
            let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            if n == 0 {
                return Ok(Some(first));
            }
            self.advance(n)?;
        }
    }

    /// Consumes one value's text, up to the `,`, `]` or `}` that follows it outside any string
    /// and bracket (or the closing quote of a string, or the bracket that closes it), keeping at
    /// most `room` of its bytes in `keep`.
    fn value(&mut self, mut keep: Option<&mut Vec<u8>>, room: usize) -> io::Result<Walked> {
        let mut len: u64 = 0;
        let mut extent = Extent::default();
        loop {
            let buf = self.cur.fill()?;
            if buf.is_empty() {
                return Ok(Walked::Truncated);
            }
            let (k, done) = extent.scan(buf, b",]}");
            if let Some(out) = keep.as_deref_mut() {
                let take = k.min(room.saturating_sub(out.len()));
                out.extend_from_slice(&buf[..take]);
            }
            len += k as u64;
            self.advance(k)?;
            if done {
                return Ok(Walked::Len(len));
            }
        }
    }

    /// Reads and parses one held value (a member's value, or its name), whose text starts here,
    /// keeping at most `room` bytes of it.
    fn held(&mut self, room: usize) -> Result<(Value, Range<u64>, bool), ScanError> {
        let (line, start) = (self.cur.line, self.cur.bytes);
        let mut text = Vec::new();
        let len = match self.value(Some(&mut text), room.saturating_add(1))? {
            Walked::Len(0) => {
                let found = self.cur.fill()?.first().copied().unwrap_or(b' ');
                return Err(self.broken(format!(
                    "the JSON bundle is not valid JSON: expected a value, found {:?}",
                    char::from(found)
                )));
            }
            Walked::Len(n) => n,
            Walked::Truncated => {
                return Err(self.broken("the JSON bundle ends inside a value (truncated)"));
            }
        };
        if len > room as u64 {
            return Err(ScanError::TooLarge);
        }
        while text.last().is_some_and(u8::is_ascii_whitespace) {
            text.pop();
        }
        // The value sits inside the bundle object: one level less of nesting.
        let limits = Limits {
            max_depth: Limits::default().max_depth - 1,
        };
        match parse_python_shallow(&text, &limits, &[]) {
            Ok(shallow) => Ok((
                shallow.value,
                start..start + text.len() as u64,
                shallow.nonfinite,
            )),
            Err(e) => {
                let within = text.get(..e.offset).unwrap_or(&text);
                let error = ParseError {
                    offset: usize::try_from(start).unwrap_or(usize::MAX) + e.offset,
                    kind: match e.kind {
                        ParseErrorKind::TooDeep { .. } => ParseErrorKind::TooDeep {
                            limit: Limits::default().max_depth,
                        },
                        kind => kind,
                    },
                };
                Err(ScanError::Broken {
                    line: line + memchr::memchr_iter(b'\n', within).count() as u64,
                    message: format!("the JSON bundle is not valid JSON: {error}"),
                })
            }
        }
    }

    /// Walks a record array from its `[` to its `]`; its element count.
    fn array(&mut self) -> Result<usize, ScanError> {
        self.bump()?;
        if self.skip_ws()? == Some(b']') {
            self.bump()?;
            return Ok(0);
        }
        let mut n = 0usize;
        loop {
            match self.skip_ws()? {
                Some(b',' | b']' | b'}') => {
                    return Err(self.broken("empty element in the JSON array"));
                }
                None => return Err(self.broken("the JSON array is not closed (truncated)")),
                Some(_) => {}
            }
            match self.value(None, 0)? {
                Walked::Len(_) => n += 1,
                Walked::Truncated => {
                    return Err(self.broken("the JSON array ends inside an element (truncated)"));
                }
            }
            match self.skip_ws()? {
                Some(b',') => self.bump()?,
                Some(b']') => {
                    self.bump()?;
                    return Ok(n);
                }
                Some(b) => {
                    return Err(self.broken(format!(
                        "expected , or ] after an element, found {:?}",
                        char::from(b)
                    )));
                }
                None => return Err(self.broken("the JSON array is not closed (truncated)")),
            }
        }
    }

    fn object(&mut self) -> Result<Scan, ScanError> {
        self.bump()?; // `{`
        let mut members = Vec::new();
        let mut lines = Vec::new();
        let mut names = HashSet::default();
        let mut nonfinite = false;
        let mut first = true;
        loop {
            match self.skip_ws()? {
                Some(b'}') if first => {
                    self.bump()?;
                    break;
                }
                Some(b'"') => {}
                Some(b) => {
                    return Err(self.broken(format!(
                        "the JSON bundle is not valid JSON: expected a member name, found {:?}",
                        char::from(b)
                    )));
                }
                None => return Err(self.broken("the JSON bundle is not closed (truncated)")),
            }
            first = false;
            let key_start = self.cur.bytes;
            lines.push(self.cur.line);
            let room = MAX_NAME_BYTES.min(MAX_MEMBER_BYTES.saturating_sub(self.held));
            let key = match self.held(room) {
                Ok((Value::String(key), _, _)) => key,
                Ok(_) => {
                    return Err(self.broken(
                        "the JSON bundle is not valid JSON: a member name is not a string",
                    ));
                }
                Err(ScanError::TooLarge) if room == MAX_NAME_BYTES => {
                    return Err(self.broken("a member name of the JSON bundle is over 64 KiB"));
                }
                Err(e) => return Err(e),
            };
            // Names are held too, each with its member's structures (counted as
            // [`MEMBER_OVERHEAD`] bytes, so that millions of tiny members are bounded too).
            self.held += key.len() + 2 + MEMBER_OVERHEAD;
            if !names.insert(key.clone()) {
                let error = ParseError {
                    kind: ParseErrorKind::DuplicateKey(key),
                    offset: usize::try_from(key_start).unwrap_or(usize::MAX),
                };
                return Err(self.broken(format!("the JSON bundle is not valid JSON: {error}")));
            }
            match self.skip_ws()? {
                Some(b':') => self.bump()?,
                _ => {
                    return Err(self.broken(format!(
                        "the JSON bundle is not valid JSON: expected ':' after the member name {key:?}"
                    )));
                }
            }
            let next = self.skip_ws()?;
            let (line, start) = (self.cur.line, self.cur.bytes);
            if next == Some(b'[') && RECORD_MEMBERS.contains(&key.as_str()) {
                // The object is read again by its arrays only: no need to hash all of it.
                self.whole = None;
                self.span = Some(Sha256::new());
                let len = self.array()?;
                let digest = self
                    .span
                    .take()
                    .map(|h| h.finalize().into())
                    .unwrap_or_default();
                let end = self.cur.bytes;
                members.push(Scanned::Array {
                    member: member(key, Value::Array(Vec::new()), key_start..end, start..end),
                    len,
                    line,
                    digest,
                });
            } else {
                let room = MAX_MEMBER_BYTES.saturating_sub(self.held);
                let (value, span, nf) = self.held(room)?;
                self.held += (span.end - span.start) as usize;
                nonfinite |= nf;
                members.push(Scanned::Built(member(
                    key,
                    value,
                    key_start..span.end,
                    span,
                )));
            }
            match self.skip_ws()? {
                Some(b',') => self.bump()?,
                Some(b'}') => {
                    self.bump()?;
                    break;
                }
                Some(b) => {
                    return Err(self.broken(format!(
                        "the JSON bundle is not valid JSON: expected , or }} after a member, found {:?}",
                        char::from(b)
                    )));
                }
                None => return Err(self.broken("the JSON bundle is not closed (truncated)")),
            }
        }
        let end = self.cur.bytes;
        let whole = self.whole.take().map(|h| h.finalize().into());
        if self.skip_ws()?.is_some() {
            return Err(self.broken(
                "the JSON bundle is not valid JSON: trailing characters after the JSON value",
            ));
        }
        Ok(Scan {
            members,
            lines,
            nonfinite,
            whole,
            end,
        })
    }
}

fn member(key: String, value: Value, span: Range<u64>, value_span: Range<u64>) -> Member {
    let at = |r: Range<u64>| {
        usize::try_from(r.start).unwrap_or(usize::MAX)..usize::try_from(r.end).unwrap_or(usize::MAX)
    };
    Member {
        key,
        value,
        span: at(span),
        value_span: at(value_span),
    }
}
