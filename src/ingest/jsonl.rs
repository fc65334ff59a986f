//! JSON Lines: splitting with a hard line-length limit, and the record units of a JSONL input.
//!
//! A line ends at `\n`; a `\r` before it is removed and noted. A line over the limit is consumed
//! without being buffered and reported by length only. Line numbers are 1-based physical lines,
//! blank lines included, as reports promise.

use std::collections::VecDeque;
use std::io::{self, BufRead};

use super::{MAX_LINE_BYTES, Unit, Units};
use crate::finding::Code;

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
    // SIMD search: a byte-at-a-time loop was ~4% of a run over unsigned records.
    memchr::memchr(b'\n', buf)
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = io::Result<Line>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_line().transpose()
    }
}

/// The units of a JSONL input: one record per non-blank line; a leading BOM and CRLF line ends
/// are removed with a note.
pub struct JsonlUnits<R> {
    lines: LineReader<R>,
    crlf_noted: bool,
    queue: VecDeque<Unit>,
}

impl<R: BufRead> JsonlUnits<R> {
    /// Units over a byte stream.
    pub fn new(inner: R) -> Self {
        JsonlUnits {
            lines: LineReader::new(inner, MAX_LINE_BYTES),
            crlf_noted: false,
            queue: VecDeque::new(),
        }
    }
}

impl<R: BufRead> Iterator for JsonlUnits<R> {
    type Item = io::Result<Unit>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(u) = self.queue.pop_front() {
            return Some(Ok(u));
        }
        let line = match self.lines.next()? {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        match line {
            Line::Text {
                number,
                mut bytes,
                crlf,
            } => {
                if number == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                    bytes.drain(..3);
                    self.queue.push_back(Unit::Note {
                        line: 1,
                        code: Code::InputBom,
                        message: "the file starts with a UTF-8 BOM".into(),
                    });
                }
                if crlf && !self.crlf_noted {
                    self.crlf_noted = true;
                    self.queue.push_back(Unit::Note {
                        line: number,
                        code: Code::InputCrlf,
                        message: "lines end in CR LF".into(),
                    });
                }
                self.queue
                    .push_back(if bytes.iter().all(u8::is_ascii_whitespace) {
                        Unit::Blank { line: number }
                    } else {
                        Unit::Record {
                            line: number,
                            bytes,
                            context: None,
                        }
                    });
            }
            Line::Blank { number } => self.queue.push_back(Unit::Blank { line: number }),
            Line::TooLong { number, len } => {
                self.queue.push_back(Unit::TooLong { line: number, len })
            }
        }
        self.queue.pop_front().map(Ok)
    }
}

impl<R: BufRead + Send> Units for JsonlUnits<R> {
    fn bytes_read(&self) -> u64 {
        self.lines.bytes_read()
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
