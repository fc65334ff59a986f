//! Opening inputs and splitting them into record units.
//!
//! An input is a file, a directory (every regular file in it, in name order), or `-` for standard
//! input; gzip is decompressed transparently. The container is detected from the content (with
//! `--input-format` to force it): JSON Lines, a JSON array or bundle object, syslog (RFC 5424, RFC
//! 6587 octet counting, RFC 3164 with a warning), or CSV. Every container yields the same
//! [`Unit`]s — the bytes of one JSON record and the line where it starts — so the checks never see
//! container-specific bytes and the same records give the same verdict in any container.
//!
//! Everything streams with bounded buffers: a unit longer than [`MAX_LINE_BYTES`] is skipped
//! without being held, so memory is bounded by the batch size whatever the input's size. A JSON
//! bundle *object* from a regular file is read as a stream too, its record arrays read again from
//! the file for the records and for the bundle-level checks (see [`reread`]). The one exception is
//! a bundle object from standard input or a FIFO, which cannot be read twice: its bytes are read
//! whole (up to [`MAX_BUNDLE_BYTES`]), once, and shared between its record stream and the
//! bundle-level checks; it is parsed without building its record array, whose elements are built
//! one at a time (see [`json`]).

pub mod csv;
pub mod json;
pub mod jsonl;
pub mod reread;
pub mod syslog;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};

use crate::finding::Code;

pub use json::Bundle;
pub use jsonl::{Line, LineReader};

/// Longest unit read as a record: 4 MiB. AAT records must not exceed 256 KB, so anything this long
/// is not a genuine record; it is reported as `input.line_too_long` and skipped without buffering.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Largest JSON bundle object held whole (one read from standard input or a FIFO, which cannot be
/// read twice; or a file's object without a record array).
pub const MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;

/// Most files taken from one directory.
pub const MAX_DIR_FILES: usize = 100_000;

/// How much of an input is looked at to detect its container.
const SNIFF_BYTES: usize = 64 * 1024;

/// Decompressed bytes of a gzip input always accepted, whatever the compression ratio.
pub const GZIP_RATIO_FLOOR: u64 = 64 * 1024 * 1024;

/// Past [`GZIP_RATIO_FLOOR`], the most bytes a gzip input may expand to per compressed byte.
/// Exports compress about 3:1 (70:1 for a file repeated verbatim); deflate reaches about 1000:1
/// only on degenerate data such as a run of zeros, so a gzip bomb is stopped after 64 MiB instead
/// of costing time in proportion to its expanded size.
pub const MAX_GZIP_RATIO: u64 = 200;

/// An input as named on the command line (or found in a directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as given (shown in reports); `-` for standard input.
    pub name: String,
    /// The path to open.
    pub path: PathBuf,
}

impl Source {
    /// A source for a path given on the command line.
    pub fn from_path(path: &Path) -> Self {
        Source {
            name: path.display().to_string(),
            path: path.to_path_buf(),
        }
    }

    fn is_stdin(&self) -> bool {
        self.name == "-"
    }
}

/// Containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON record per line.
    Jsonl,
    /// A JSON array of records, or a bundle object with a `records` array.
    Json,
    /// Syslog: RFC 5424 (one message per line or RFC 6587 octet-counted), RFC 3164 with a warning.
    Syslog,
    /// CSV with a header row (AAT §10.3 layout).
    Csv,
}

impl InputFormat {
    /// The lower-case name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Jsonl => "jsonl",
            InputFormat::Json => "json",
            InputFormat::Syslog => "syslog",
            InputFormat::Csv => "csv",
        }
    }
}

/// One unit read from a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// The bytes of one JSON record, starting at `line`.
    Record {
        /// 1-based line where the record starts.
        line: u64,
        /// The record as JSON text.
        bytes: Vec<u8>,
        /// Where the container says it came from (syslog header), for findings.
        context: Option<String>,
    },
    /// An empty line (JSONL, syslog).
    Blank {
        /// 1-based line.
        line: u64,
    },
    /// A unit over [`MAX_LINE_BYTES`], skipped.
    TooLong {
        /// 1-based line where it starts.
        line: u64,
        /// Its length in bytes (as far as read).
        len: u64,
    },
    /// A unit the container itself cannot deliver (bad frame, bad CSV row): evidence of damage,
    /// and a hole where a record should be.
    Problem {
        /// 1-based line.
        line: u64,
        /// The finding code.
        code: Code,
        /// What is wrong.
        message: String,
        /// The offending bytes, bounded, for the quote.
        text: Vec<u8>,
    },
    /// A fact about the container that is not a hole (CRLF, BOM, RFC 3164 framing).
    Note {
        /// 1-based line.
        line: u64,
        /// The finding code.
        code: Code,
        /// What was seen.
        message: String,
    },
}

/// A stream of units.
pub trait Units: Iterator<Item = io::Result<Unit>> + Send {
    /// Bytes consumed so far (after decompression).
    fn bytes_read(&self) -> u64;
}

/// SHA-256 over the raw bytes of an input (before decompression), fed as it is read.
#[derive(Clone, Default)]
pub struct InputDigest(Arc<Mutex<(Sha256, u64)>>);

impl InputDigest {
    /// The digest and the byte count so far.
    pub fn current(&self) -> ([u8; 32], u64) {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        (guard.0.clone().finalize().into(), guard.1)
    }

    /// The byte count so far.
    fn len(&self) -> u64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

/// Why a gzip input was refused as a likely decompression bomb (carried inside an
/// [`io::Error`] from the decompressing reader to [`IngestError::read`]).
#[derive(Debug)]
struct GzipBomb {
    expanded: u64,
    compressed: u64,
}

impl std::fmt::Display for GzipBomb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gzip data expanded to {} bytes from {} compressed bytes",
            self.expanded, self.compressed
        )
    }
}

impl std::error::Error for GzipBomb {}

/// Counts decompressed bytes and stops a gzip stream whose expansion passes
/// [`MAX_GZIP_RATIO`] once it has produced [`GZIP_RATIO_FLOOR`] bytes.
struct RatioLimit<R> {
    inner: R,
    compressed: InputDigest,
    expanded: u64,
}

impl<R: Read> Read for RatioLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.expanded += n as u64;
        if self.expanded > GZIP_RATIO_FLOOR {
            let compressed = self.compressed.len();
            if self.expanded > compressed.saturating_mul(MAX_GZIP_RATIO) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    GzipBomb {
                        expanded: self.expanded,
                        compressed,
                    },
                ));
            }
        }
        Ok(n)
    }
}

struct HashingReader<R> {
    inner: R,
    digest: InputDigest,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut guard = self.digest.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.update(&buf[..n]);
        guard.1 += n as u64;
        Ok(n)
    }
}

/// The SHA-256 of a whole input: the bytes hashed while reading when they were all read, else the
/// file read again (a container may stop before the end, e.g. after a broken JSON array). A
/// stream (standard input, a FIFO) cannot be read again: its digest covers the bytes read.
///
/// # Errors
/// An I/O error when the file cannot be read again.
pub fn input_sha256(source: &Source, digest: &InputDigest) -> io::Result<[u8; 32]> {
    let (hash, count) = digest.current();
    if source.is_stdin() {
        return Ok(hash);
    }
    let meta = std::fs::metadata(&source.path)?;
    // Opening a FIFO again would wait for a writer that never comes.
    if !meta.is_file() || meta.len() == count {
        return Ok(hash);
    }
    let mut h = Sha256::new();
    let mut file = File::open(&source.path)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => h.update(&buf[..n]),
        }
    }
    Ok(h.finalize().into())
}

/// An opened input.
pub struct Opened {
    /// SHA-256 of the raw input, fed as it is read.
    pub digest: InputDigest,
    /// The detected or forced container.
    pub format: InputFormat,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    /// What this container cannot carry, if anything (CSV).
    pub lossy: Option<&'static str>,
    /// The bundle object holding the records (JSON bundles), for bundle-level checks; its bytes
    /// are shared with the units.
    pub bundle: Option<json::Bundle>,
    /// The units.
    pub units: Box<dyn Units>,
}

/// Errors that make an input unreadable as a whole.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum IngestError {
    /// The file cannot be opened or read.
    #[error("cannot read {name}")]
    #[diagnostic(
        code(audit_verify::ingest::io),
        help("check that the path exists and is readable")
    )]
    Io {
        /// The input.
        name: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The input is not something that can hold records.
    #[error("{name}: {what} cannot be read as an export")]
    #[diagnostic(
        code(audit_verify::ingest::unsupported),
        help("give regular files, directories of them, or - for standard input")
    )]
    Unsupported {
        /// The input.
        name: String,
        /// What it is.
        what: &'static str,
    },
    /// A directory holds no file, or too many.
    #[error("{name}: {what}")]
    #[diagnostic(
        code(audit_verify::ingest::directory),
        help("point at the directory that holds the export's files")
    )]
    Directory {
        /// The directory.
        name: String,
        /// What is wrong.
        what: String,
    },
    /// A JSON bundle object is too large to be read whole.
    #[error("{name}: JSON bundle object larger than {MAX_BUNDLE_BYTES} bytes")]
    #[diagnostic(
        code(audit_verify::ingest::bundle_too_large),
        help("convert the bundle to JSON Lines (one record per line), which is read as a stream")
    )]
    BundleTooLarge {
        /// The input.
        name: String,
    },
    /// A bundle object read from a file holds more than [`reread::MAX_MEMBER_BYTES`] beside its
    /// record arrays (those members are held and built).
    #[error(
        "{name}: the JSON bundle's members other than its record array exceed {} bytes",
        reread::MAX_MEMBER_BYTES
    )]
    #[diagnostic(
        code(audit_verify::ingest::bundle_members_too_large),
        help(
            "a bundle's records belong in its records, receipts or entries array, which is streamed"
        )
    )]
    BundleMembersTooLarge {
        /// The input.
        name: String,
    },
    /// `-` given more than once.
    #[error("standard input (-) can be read only once")]
    #[diagnostic(code(audit_verify::ingest::stdin_twice))]
    StdinTwice,
    /// A gzip input that expands beyond [`MAX_GZIP_RATIO`] (a likely decompression bomb).
    #[error(
        "{name}: gzip data expands more than {MAX_GZIP_RATIO} times ({expanded} bytes from {compressed}); refused as a likely decompression bomb"
    )]
    #[diagnostic(
        code(audit_verify::ingest::gzip_bomb),
        help(
            "exports compress about 3:1; if this one is genuine, decompress it and verify the plain file"
        )
    )]
    GzipBomb {
        /// The input.
        name: String,
        /// Decompressed bytes when it was stopped.
        expanded: u64,
        /// Compressed bytes read by then.
        compressed: u64,
    },
}

impl IngestError {
    /// The error for a failed read of input `name`: [`IngestError::GzipBomb`] when the
    /// decompressing reader stopped a bomb, else [`IngestError::Io`].
    pub fn read(name: &str, source: io::Error) -> IngestError {
        if let Some(bomb) = source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<GzipBomb>())
        {
            return IngestError::GzipBomb {
                name: name.to_string(),
                expanded: bomb.expanded,
                compressed: bomb.compressed,
            };
        }
        IngestError::Io {
            name: name.to_string(),
            source,
        }
    }
}

/// Expands directories into their files (name order, hidden files skipped, not recursive) and
/// checks that `-` appears at most once.
///
/// # Errors
/// [`IngestError`] for unreadable or empty directories.
pub fn expand(inputs: &[Source]) -> Result<Vec<Source>, IngestError> {
    let mut out = Vec::new();
    let mut stdin_seen = false;
    for source in inputs {
        if source.is_stdin() {
            if stdin_seen {
                return Err(IngestError::StdinTwice);
            }
            stdin_seen = true;
            out.push(source.clone());
            continue;
        }
        let io = |e| IngestError::Io {
            name: source.name.clone(),
            source: e,
        };
        let meta = std::fs::metadata(&source.path).map_err(io)?;
        if !meta.is_dir() {
            out.push(source.clone());
            continue;
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&source.path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            // Follow links to files, but never descend: a directory, FIFO or socket inside is
            // skipped. An entry that cannot be examined (a dangling link, a link loop, no
            // permission) may be a missing part of the export: an error, as in key directories.
            match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_file() => files.push(name),
                Ok(_) => {}
                Err(e) => {
                    return Err(IngestError::Directory {
                        name: source.name.clone(),
                        what: format!("its entry {name:?} cannot be read ({e})"),
                    });
                }
            }
            if files.len() > MAX_DIR_FILES {
                return Err(IngestError::Directory {
                    name: source.name.clone(),
                    what: format!("more than {MAX_DIR_FILES} files"),
                });
            }
        }
        if files.is_empty() {
            return Err(IngestError::Directory {
                name: source.name.clone(),
                what: "the directory holds no regular file".into(),
            });
        }
        files.sort();
        for f in files {
            out.push(Source {
                name: Path::new(&source.name).join(&f).display().to_string(),
                path: source.path.join(&f),
            });
        }
    }
    Ok(out)
}

/// A byte-at-a-time cursor over a buffered stream that counts lines and bytes, for the containers
/// that must find their own boundaries (JSON arrays, RFC 6587 frames).
pub struct ByteCursor<R> {
    inner: R,
    /// 1-based line of the next byte.
    pub line: u64,
    /// Bytes consumed (plus the starting offset).
    pub bytes: u64,
}

impl<R: BufRead> ByteCursor<R> {
    /// A cursor whose first byte is on `line`, `offset` bytes into its file.
    pub fn new(inner: R, line: u64, offset: u64) -> Self {
        ByteCursor {
            inner,
            line,
            bytes: offset,
        }
    }

    /// The next byte, not consumed.
    ///
    /// # Errors
    /// The stream's read error.
    pub fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.inner.fill_buf()?.first().copied())
    }

    /// The buffered bytes ahead (empty at the end of the stream), not consumed.
    ///
    /// # Errors
    /// The stream's read error.
    pub fn fill(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    /// Consumes `n` of the bytes [`ByteCursor::fill`] returned, counting their lines.
    ///
    /// # Errors
    /// The stream's read error.
    pub fn advance(&mut self, n: usize) -> io::Result<()> {
        let buf = self.inner.fill_buf()?;
        let n = n.min(buf.len());
        self.line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        self.bytes += n as u64;
        self.inner.consume(n);
        Ok(())
    }

    /// Consumes and returns the next byte.
    ///
    /// # Errors
    /// The stream's read error.
    pub fn bump(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.inner.consume(1);
            self.bytes += 1;
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }
}

/// Opens a source: decompresses gzip, detects (or takes) the container, and returns its units.
///
/// # Errors
/// The expanded size a gzip file states in its last 4 bytes (RFC 1952 ISIZE: the last member's
/// size modulo 2^32), if it can be read.
fn gzip_expanded_size(path: &Path) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::End(-4)).ok()?;
    let mut trailer = [0u8; 4];
    file.read_exact(&mut trailer).ok()?;
    Some(u64::from(u32::from_le_bytes(trailer)))
}

/// [`IngestError`] when the input cannot be opened or is not a readable kind of file.
pub fn open(source: &Source, forced: Option<InputFormat>) -> Result<Opened, IngestError> {
    let io = |e| IngestError::Io {
        name: source.name.clone(),
        source: e,
    };
    // The size of a regular file, so that a bundle object is read into one allocation.
    let mut size = None;
    let raw: Box<dyn Read + Send> = if source.is_stdin() {
        Box::new(io::stdin())
    } else {
        let meta = std::fs::metadata(&source.path).map_err(io)?;
        if meta.is_dir() {
            return Err(IngestError::Unsupported {
                name: source.name.clone(),
                what: "a directory inside a directory",
            });
        }
        if !meta.is_file() {
            // FIFOs are streams like stdin: read them; devices and sockets are refused.
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                if !meta.file_type().is_fifo() {
                    return Err(IngestError::Unsupported {
                        name: source.name.clone(),
                        what: "a device or socket",
                    });
                }
            }
        }
        if meta.is_file() {
            size = Some(meta.len());
        }
        Box::new(File::open(&source.path).map_err(io)?)
    };
    let digest = InputDigest::default();
    let raw = HashingReader {
        inner: raw,
        digest: digest.clone(),
    };
    let mut raw = BufReader::with_capacity(256 * 1024, raw);
    let gzip = raw.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            RatioLimit {
                inner: flate2::bufread::MultiGzDecoder::new(raw),
                compressed: digest.clone(),
                expanded: 0,
            },
        ))
    } else {
        Box::new(raw)
    };
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)
        .map_err(io)?;
    let format = forced.unwrap_or_else(|| sniff(&prefix));
    let stream: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(
        256 * 1024,
        Cursor::new(prefix).chain(reader),
    ));
    let mut bundle = None;
    let (units, lossy): (Box<dyn Units>, _) = match format {
        InputFormat::Jsonl => (Box::new(jsonl::JsonlUnits::new(stream)), None),
        InputFormat::Syslog => (Box::new(syslog::SyslogUnits::new(stream)), None),
        InputFormat::Json => {
            // A gzip file states its last member's expanded size in its trailer: a hint only
            // (modulo 2^32, and the file says it), capped where the bundle's reader stops anyway.
            let hint = match (size, gzip) {
                (Some(size), false) => Some(size),
                (Some(_), true) => {
                    gzip_expanded_size(&source.path).map(|n| n.min(MAX_BUNDLE_BYTES))
                }
                (None, _) => None,
            };
            // A regular file's bundle is read as a stream and its records read again from it.
            let file = size.map(|_| reread::Reread::new(source.path.clone(), gzip));
            let (units, whole) = json::open(stream, &source.name, hint, file)?;
            bundle = whole;
            (units, None)
        }
        InputFormat::Csv => (
            Box::new(csv::CsvUnits::new(stream)),
            Some(
                "CSV carries only its columns (AAT §10.3: no signature or optional members), so prev_hash links and signatures cannot be recomputed unless the columns hold every member",
            ),
        ),
    };
    Ok(Opened {
        digest,
        format,
        gzip,
        lossy,
        bundle,
        units,
    })
}

/// Detects the container from the first bytes.
pub fn sniff(prefix: &[u8]) -> InputFormat {
    let text = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(b"");
    let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    match text.first() {
        Some(b'[') => InputFormat::Json,
        Some(b'{') => {
            match crate::canon::json::parse(first_line, &crate::canon::json::Limits::default()) {
                Ok(v)
                    if json::RECORD_MEMBERS
                        .iter()
                        .any(|m| v.get(m).is_some_and(|r| r.as_array().is_some()))
                        && v.get("session_id").is_none() =>
                {
                    InputFormat::Json
                }
                Ok(_) => InputFormat::Jsonl,
                // A pretty-printed object spans lines; a broken first record does not start a new value.
                Err(_) if first_line.trim_ascii() == b"{" => InputFormat::Json,
                // A compact bundle longer than the prefix: its record array is named at the top
                // level before the prefix ends.
                Err(_) if !text.contains(&b'\n') && names_record_array(text) => InputFormat::Json,
                Err(_) => InputFormat::Jsonl,
            }
        }
        Some(b'<') => InputFormat::Syslog,
        Some(b'0'..=b'9') if syslog::looks_octet_counted(text) => InputFormat::Syslog,
        Some(_) if csv::looks_like_header(first_line) => InputFormat::Csv,
        _ => InputFormat::Jsonl,
    }
}

/// Whether an object that starts the prefix has, at its top level, a member named as in
/// [`json::RECORD_MEMBERS`] whose value opens an array: scanned token by token without parsing,
/// since the prefix may end anywhere inside the object.
fn names_record_array(text: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < text.len() && text[j] != b'"' {
                    j += if text[j] == b'\\' { 2 } else { 1 };
                }
                if j >= text.len() {
                    return false;
                }
                let name = &text[start..j];
                i = j + 1;
                if depth == 1 && json::RECORD_MEMBERS.iter().any(|m| m.as_bytes() == name) {
                    let rest = text[i..].trim_ascii_start();
                    if let Some(rest) = rest.strip_prefix(b":") {
                        if rest.trim_ascii_start().first() == Some(&b'[') {
                            return true;
                        }
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gzip_file_states_its_expanded_size_in_its_trailer() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pack.json.gz");
        let text = format!("{{\"receipts\":[{}]}}", vec!["{}"; 1000].join(","));
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
        assert_eq!(gzip_expanded_size(&path), Some(text.len() as u64));
        // Too short to have a trailer, or missing: no hint.
        let short = dir.path().join("short.gz");
        std::fs::write(&short, [0x1f, 0x8b]).unwrap();
        assert_eq!(gzip_expanded_size(&short), None);
        assert_eq!(gzip_expanded_size(&dir.path().join("absent.gz")), None);
    }

    #[test]
    fn a_compact_bundle_longer_than_the_prefix_is_json() {
        let receipt = format!("{{\"payload\":{{\"note\":\"{}\"}}}}", "x".repeat(500));
        let receipts = vec![receipt; 200].join(",");
        let pack = format!(
            "{{\"organization_id\":\"o\",\"nested\":{{\"receipts\":[]}},\"receipts\":[{receipts}],\"receipt_count\":200}}"
        );
        assert!(pack.len() > 65_536);
        assert_eq!(sniff(&pack.as_bytes()[..65_536]), InputFormat::Json);
        // A long JSONL record that merely mentions the names is still JSONL.
        let record = format!(
            "{{\"note\":\"\\\"receipts\\\":[\",\"x\":\"{}\",\"nested\":{{\"records\":[]}}}}\n",
            "y".repeat(70_000)
        );
        assert_eq!(sniff(&record.as_bytes()[..65_536]), InputFormat::Jsonl);
        // The same record complete within the prefix parses and is JSONL.
        assert_eq!(sniff(b"{\"a\":{\"records\":[]}}\n"), InputFormat::Jsonl);
    }

    #[test]
    fn sniffs_containers_from_content() {
        assert_eq!(sniff(b"{\"a\":1}\n{\"a\":2}\n"), InputFormat::Jsonl);
        assert_eq!(sniff(b"\xEF\xBB\xBF{\"a\":1}\n"), InputFormat::Jsonl);
        assert_eq!(sniff(b"  [\n {\"a\":1}\n]"), InputFormat::Json);
        assert_eq!(sniff(b"{\n  \"records\": []\n}"), InputFormat::Json);
        assert_eq!(sniff(b"{\"records\":[{\"a\":1}]}"), InputFormat::Json);
        assert_eq!(
            sniff(b"<14>1 2026-10-01T12:00:00Z h a - - - {}\n"),
            InputFormat::Syslog
        );
        assert_eq!(
            sniff(b"42 <14>1 2026-10-01T12:00:00Z h a - - - {}"),
            InputFormat::Syslog
        );
        assert_eq!(
            sniff(b"record_id,timestamp,session_id,prev_hash\n1,2,3,4\n"),
            InputFormat::Csv
        );
        assert_eq!(sniff(b"a,b,c\n1,2,3\n"), InputFormat::Jsonl);
        assert_eq!(sniff(b"{\"broken\n"), InputFormat::Jsonl);
        assert_eq!(sniff(b"hello"), InputFormat::Jsonl);
        assert_eq!(sniff(b""), InputFormat::Jsonl);
    }
}
