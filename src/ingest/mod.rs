//! Opening inputs and splitting them into record lines.
//!
//! Inputs are read as streams, never whole: JSON Lines (RFC 8259 values, one per `\n`-terminated
//! line, CRLF tolerated) with a hard line-length limit, so that memory stays bounded by the batch
//! size whatever the export's size. Containers other than JSONL files are refused with a clear
//! error until they are supported.

pub mod jsonl;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

pub use jsonl::{Line, LineReader};

/// Longest line read as a record: 4 MiB. AAT records must not exceed 256 KB, so anything this long
/// is not a genuine record; it is reported as `input.line_too_long` and skipped without buffering.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// An input as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as given (shown in reports).
    pub name: String,
    /// The path to open.
    pub path: PathBuf,
}

/// Errors that make an input unreadable as a whole.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum IngestError {
    /// The file cannot be opened or read.
    #[error("cannot read {name}: {source}")]
    #[diagnostic(
        code(audit_verify::ingest::io),
        help("check that the path exists and is readable")
    )]
    Io {
        /// The input.
        name: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The input is a container this version does not read yet.
    #[error("{name}: {what} input is not supported yet")]
    #[diagnostic(
        code(audit_verify::ingest::unsupported),
        help("give the JSONL files themselves (decompress gzip, list the files of a directory)")
    )]
    Unsupported {
        /// The input.
        name: String,
        /// What it is.
        what: &'static str,
    },
}

/// Opens a source for line reading, refusing directories and gzip streams with a clear error.
///
/// # Errors
/// [`IngestError`] when the file cannot be opened or is not a plain file.
pub fn open(source: &Source) -> Result<LineReader<BufReader<File>>, IngestError> {
    let io = |e| IngestError::Io {
        name: source.name.clone(),
        source: e,
    };
    if source.name == "-" {
        return Err(IngestError::Unsupported {
            name: "-".into(),
            what: "standard input",
        });
    }
    let meta = std::fs::metadata(&source.path).map_err(io)?;
    if meta.is_dir() {
        return Err(IngestError::Unsupported {
            name: source.name.clone(),
            what: "directory",
        });
    }
    if !meta.is_file() {
        return Err(IngestError::Unsupported {
            name: source.name.clone(),
            what: "non-regular file (FIFO, device or socket)",
        });
    }
    let mut file = File::open(&source.path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = read_prefix(&mut file, &mut magic).map_err(io)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        return Err(IngestError::Unsupported {
            name: source.name.clone(),
            what: "gzip",
        });
    }
    let file = File::open(&source.path).map_err(io)?;
    Ok(LineReader::new(
        BufReader::with_capacity(256 * 1024, file),
        MAX_LINE_BYTES,
    ))
}

fn read_prefix(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

impl Source {
    /// A source for a path given on the command line.
    pub fn from_path(path: &Path) -> Self {
        Source {
            name: path.display().to_string(),
            path: path.to_path_buf(),
        }
    }
}
