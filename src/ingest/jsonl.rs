//! JSON Lines splitting with a hard line-length limit.
//!
//! A line ends at `\n`; a `\r` before it is removed and noted. A line over the limit is consumed
//! without being buffered and reported by length only. Line numbers are 1-based physical lines,
//! blank lines included, as reports promise.

use std::io::{self, BufRead};

/// One physical line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line with content (without its line ending).
    Text {
        /// 1-based line number.
        number: u64,
        /// The bytes, without `\r\n` / `\n`.
        bytes: Vec<u8>,
        /// Whether the line ended in `\r\n`.
        crlf: bool,
    },
    /// An empty line, or one of whitespace only.
    Blank {
        /// 1-based line number.
        number: u64,
    },
    /// A line longer than the limit; its bytes were skipped.
    TooLong {
        /// 1-based line number.
        number: u64,
        /// Its length in bytes.
        len: u64,
    },
}

/// Splits a byte stream into [`Line`]s.
pub struct LineReader<R> {
    inner: R,
    limit: usize,
    number: u64,
    bytes: u64,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    /// A reader that refuses lines longer than `limit` bytes.
    pub fn new(inner: R, limit: usize) -> Self {
        LineReader {
            inner,
            limit,
            number: 0,
            bytes: 0,
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    fn read_line(&mut self) -> io::Result<Option<Line>> {
        if self.done {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        let mut len: u64 = 0;
        let mut too_long = false;
        let mut saw_any = false;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                self.done = true;
                break;
            }
            saw_any = true;
            let (chunk, found_newline) = match memchr_newline(buf) {
                Some(i) => (&buf[..i], true),
                None => (buf, false),
            };
            len += chunk.len() as u64;
            if !too_long {
                if bytes.len() + chunk.len() > self.limit {
                    too_long = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(chunk);
                }
            }
            let consumed = chunk.len() + usize::from(found_newline);
            self.inner.consume(consumed);
            self.bytes += consumed as u64;
            if found_newline {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.number += 1;
        let number = self.number;
        if too_long {
            return Ok(Some(Line::TooLong { number, len }));
        }
        let crlf = bytes.last() == Some(&b'\r');
        if crlf {
            bytes.pop();
        }
        if bytes.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            return Ok(Some(Line::Blank { number }));
        }
        Ok(Some(Line::Text {
            number,
            bytes,
            crlf,
        }))
    }
}

fn memchr_newline(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = io::Result<Line>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_line().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<Line> {
        LineReader::new(io::BufReader::with_capacity(4, input), limit)
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    #[test]
    fn splits_lines_and_counts_blank_ones() {
        let got = lines(b"{}\n\n{\"a\":1}\r\n  \n{}", 100);
        assert_eq!(
            got,
            vec![
                Line::Text {
                    number: 1,
                    bytes: b"{}".to_vec(),
                    crlf: false
                },
                Line::Blank { number: 2 },
                Line::Text {
                    number: 3,
                    bytes: b"{\"a\":1}".to_vec(),
                    crlf: true
                },
                Line::Blank { number: 4 },
                Line::Text {
                    number: 5,
                    bytes: b"{}".to_vec(),
                    crlf: false
                },
            ]
        );
    }

    #[test]
    fn skips_over_long_lines_without_losing_the_next() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\n{}\n");
        let got = lines(&input, 10);
        assert_eq!(got[0], Line::TooLong { number: 1, len: 50 });
        assert_eq!(
            got[1],
            Line::Text {
                number: 2,
                bytes: b"{}".to_vec(),
                crlf: false
            }
        );
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(lines(b"", 10).is_empty());
        assert_eq!(lines(b"\n", 10), vec![Line::Blank { number: 1 }]);
    }
}
