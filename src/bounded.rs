//! Reading the small files a run is given (keys, checkpoints, profile files, HMAC secrets) with a
//! size bound that also holds for pipes and devices, whose size is not known in advance.

use std::io::{self, Read as _};
use std::path::Path;

/// Why a bounded read failed.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io(io::Error),
    /// It holds more than the limit: at least this many bytes.
    TooLarge(u64),
}

/// Reads the whole file at `path` if it holds at most `limit` bytes. A regular file larger than
/// the limit is refused from its size without being read; anything else is read up to one byte
/// past the limit.
///
/// # Errors
/// [`ReadError::Io`] when the file cannot be opened or read, [`ReadError::TooLarge`] past the
/// limit.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_at_the_limit_are_read_and_past_it_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_file(&path, 5).unwrap(), b"12345");
        assert!(matches!(read_file(&path, 4), Err(ReadError::TooLarge(5))));
        assert!(matches!(
            read_file(&dir.path().join("missing"), 4),
            Err(ReadError::Io(_))
        ));
        // A device of unknown size is read only up to one byte past the limit.
        assert!(matches!(
            read_file(Path::new("/dev/zero"), 1000),
            Err(ReadError::TooLarge(1001))
        ));
    }
}
