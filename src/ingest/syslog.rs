//! Syslog containers: RFC 5424 messages, one per line or with RFC 6587 octet-counted framing, the
//! record as JSON in MSG (with or without the UTF-8 BOM) or in the structured-data parameter
//! `record` (any SD-ID). RFC 3164 lines carrying JSON are read with a warning.
//!
//! The tokenizer is hand-written over bytes: a message that does not parse is a problem unit at its
//! line (strict where integrity is at stake: a truncated or merged message, a wrong octet count),
//! and the header fields (timestamp, host, app) travel with the record as context for findings.

use std::io::{self, BufRead};

use super::jsonl::{Line, LineReader};
use super::{ByteCursor, MAX_LINE_BYTES, Unit, Units};
use crate::finding::Code;

/// Whether the input starts with an RFC 6587 octet count (`123 <`).
pub fn looks_octet_counted(text: &[u8]) -> bool {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    (1..=10).contains(&digits)
        && text.get(digits) == Some(&b' ')
        && text.get(digits + 1) == Some(&b'<')
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The record bytes.
    pub record: Vec<u8>,
    /// Header context, e.g. `syslog 2026-10-01T12:00:00Z host=h app=a`.
    pub context: String,
    /// RFC 3164 (legacy) framing.
    pub legacy: bool,
}

/// Parses one syslog message.
///
/// # Errors
/// A description of what is wrong, for a problem unit.
pub fn parse_message(msg: &[u8]) -> Result<Message, String> {
    let mut c = Cursor { b: msg, i: 0 };
    if c.next() != Some(b'<') {
        return Err("a syslog message starts with <PRI>".into());
    }
    let pri = c.take_while(|b| b.is_ascii_digit());
    if pri.is_empty() || pri.len() > 3 || c.next() != Some(b'>') {
        return Err("malformed <PRI>".into());
    }
    let pri_value: u32 = std::str::from_utf8(pri)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(999);
    if pri_value > 191 {
        return Err(format!("PRI {pri_value} is out of range (0-191)"));
    }
    let version = c.take_while(|b| b.is_ascii_digit());
    if version.is_empty() || c.peek() != Some(b' ') {
        return legacy(&msg[c.i - version.len()..]);
    }
    c.next();
    let mut header = Vec::with_capacity(5);
    for name in ["TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"] {
        let field = c.take_while(|b| b != b' ');
        if field.is_empty() || c.next() != Some(b' ') {
            return Err(format!(
                "RFC 5424 header ends before {name} (truncated message)"
            ));
        }
        if !field.iter().all(|b| (33..=126).contains(b)) {
            return Err(format!("{name} holds bytes that are not printable ASCII"));
        }
        header.push(String::from_utf8_lossy(field).into_owned());
    }
    let mut sd_record = None;
    match c.peek() {
        Some(b'-') => {
            c.next();
        }
        Some(b'[') => {
            while c.peek() == Some(b'[') {
                c.next();
                let _sd_id = c.take_while(|b| b != b' ' && b != b']');
                loop {
                    match c.next() {
                        Some(b']') => break,
                        Some(b' ') => {
                            let name = c.take_while(|b| b != b'=');
                            if c.next() != Some(b'=') || c.next() != Some(b'"') {
                                return Err("malformed structured-data parameter".into());
                            }
                            let value = sd_value(&mut c)?;
                            if name == b"record" {
                                sd_record = Some(value);
                            }
                        }
                        _ => return Err("structured data is not closed (truncated message)".into()),
                    }
                }
            }
        }
        _ => return Err("missing STRUCTURED-DATA".into()),
    }
    let context = format!("syslog {} host={} app={}", header[0], header[1], header[2]);
    let rest = &msg[c.i..];
    let body = match rest.first() {
        None => &[][..],
        Some(b' ') => &rest[1..],
        Some(_) => return Err("no space between STRUCTURED-DATA and MSG".into()),
    };
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let record = if !body.trim_ascii().is_empty() {
        body.trim_ascii_end().to_vec()
    } else if let Some(r) = sd_record {
        r
    } else {
        return Err(
            "the message carries no record (empty MSG and no record= structured-data parameter)"
                .into(),
        );
    };
    Ok(Message {
        record,
        context,
        legacy: false,
    })
}

/// RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`; the record is the JSON object in MSG.
fn legacy(after_pri: &[u8]) -> Result<Message, String> {
    let Some(start) = after_pri.iter().position(|&b| b == b'{') else {
        return Err("neither RFC 5424 nor an RFC 3164 line carrying a JSON object".into());
    };
    let head = String::from_utf8_lossy(&after_pri[..start]);
    Ok(Message {
        record: after_pri[start..].trim_ascii_end().to_vec(),
        context: format!("syslog (RFC 3164) {}", head.trim()),
        legacy: true,
    })
}

fn sd_value(c: &mut Cursor<'_>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        match c.next() {
            None => return Err("structured-data value is not closed (truncated message)".into()),
            Some(b'"') => return Ok(out),
            Some(b'\\') => match c.next() {
                Some(b @ (b'"' | b'\\' | b']')) => out.push(b),
                Some(b) => {
                    out.push(b'\\');
                    out.push(b);
                }
                None => {
                    return Err("structured-data value is not closed (truncated message)".into());
                }
            },
            Some(b) => out.push(b),
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        if b.is_some() {
            self.i += 1;
        }
        b
    }
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        &self.b[start..self.i]
    }
}

/// The units of a syslog input.
pub struct SyslogUnits<R> {
    framing: Option<Framing<R>>,
    legacy_noted: bool,
    queue: std::collections::VecDeque<Unit>,
}

enum Framing<R> {
    Lines(LineReader<R>),
    Octets(OctetReader<R>),
}

impl<R: BufRead> SyslogUnits<R> {
    /// Units over a byte stream; the framing is decided from its first bytes.
    pub fn new(mut inner: R) -> Self {
        let octets = inner.fill_buf().map(looks_octet_counted).unwrap_or(false);
        let framing = if octets {
            Framing::Octets(OctetReader {
                cur: ByteCursor::new(inner, 1, 0),
            })
        } else {
            Framing::Lines(LineReader::new(inner, MAX_LINE_BYTES))
        };
        SyslogUnits {
            framing: Some(framing),
            legacy_noted: false,
            queue: Default::default(),
        }
    }

    fn message(&mut self, line: u64, bytes: &[u8]) {
        match parse_message(bytes) {
            Ok(m) => {
                if m.legacy && !self.legacy_noted {
                    self.legacy_noted = true;
                    self.queue.push_back(Unit::Note {
                        line,
                        code: Code::SyslogLegacy,
                        message: "RFC 3164 syslog lines: read leniently, the JSON object in MSG taken as the record".into(),
                    });
                }
                self.queue.push_back(Unit::Record {
                    line,
                    bytes: m.record,
                    context: Some(m.context),
                });
            }
            Err(message) => self.queue.push_back(Unit::Problem {
                line,
                code: Code::ContainerMalformed,
                message: format!("syslog message: {message}"),
                text: bytes[..bytes.len().min(4096)].to_vec(),
            }),
        }
    }
}

impl<R: BufRead + Send> Iterator for SyslogUnits<R> {
    type Item = io::Result<Unit>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(u) = self.queue.pop_front() {
                return Some(Ok(u));
            }
            let framing = self.framing.as_mut()?;
            let next = match framing {
                Framing::Lines(lines) => lines.next().map(|r| {
                    r.map(|l| match l {
                        Line::Text { number, bytes, .. } => Frame::Message(number, bytes),
                        Line::Blank { number } => Frame::Unit(Unit::Blank { line: number }),
                        Line::TooLong { number, len } => {
                            Frame::Unit(Unit::TooLong { line: number, len })
                        }
                    })
                }),
                Framing::Octets(o) => o.frame().transpose(),
            };
            match next {
                None => {
                    self.framing = None;
                    return None;
                }
                Some(Err(e)) => {
                    self.framing = None;
                    return Some(Err(e));
                }
                Some(Ok(Frame::Unit(u))) => return Some(Ok(u)),
                Some(Ok(Frame::Message(line, bytes))) => self.message(line, &bytes),
            }
        }
    }
}

impl<R: BufRead + Send> Units for SyslogUnits<R> {
    fn bytes_read(&self) -> u64 {
        match &self.framing {
            Some(Framing::Lines(l)) => l.bytes_read(),
            Some(Framing::Octets(o)) => o.cur.bytes,
            None => 0,
        }
    }
}

enum Frame {
    Message(u64, Vec<u8>),
    Unit(Unit),
}

/// RFC 6587 octet counting: `LEN SP MSG`, frames back to back (a line feed between them is
/// tolerated).
struct OctetReader<R> {
    cur: ByteCursor<R>,
}

impl<R: BufRead> OctetReader<R> {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        self.cur.peek()
    }

    fn bump(&mut self) -> io::Result<Option<u8>> {
        self.cur.bump()
    }

    fn frame(&mut self) -> io::Result<Option<Frame>> {
        while matches!(self.peek()?, Some(b'\n' | b'\r' | b' ')) {
            self.bump()?;
        }
        let line = self.cur.line;
        let mut count: u64 = 0;
        let mut digits = 0;
        while let Some(b @ b'0'..=b'9') = self.peek()? {
            self.bump()?;
            digits += 1;
            count = count.saturating_mul(10).saturating_add(u64::from(b - b'0'));
        }
        if digits == 0 {
            return match self.peek()? {
                None => Ok(None),
                Some(_) => Ok(Some(self.resync(
                    line,
                    "expected an octet count at the start of a frame".into(),
                ))),
            };
        }
        if digits > 10 || self.bump()? != Some(b' ') {
            return Ok(Some(self.resync(line, "malformed octet count".into())));
        }
        let mut msg = Vec::new();
        let mut read: u64 = 0;
        while read < count {
            let Some(b) = self.bump()? else {
                return Ok(Some(Frame::Unit(Unit::Problem {
                    line,
                    code: Code::ContainerMalformed,
                    message: format!("truncated frame: {count} octets announced, {read} present"),
                    text: msg,
                })));
            };
            read += 1;
            if msg.len() < MAX_LINE_BYTES {
                msg.push(b);
            }
        }
        if count as usize > MAX_LINE_BYTES {
            return Ok(Some(Frame::Unit(Unit::TooLong { line, len: count })));
        }
        match self.peek()? {
            None | Some(b'\n' | b'\r' | b'0'..=b'9') => Ok(Some(Frame::Message(line, msg))),
            Some(_) => {
                let mut f = self.resync(line, format!("octet count {count} does not end at a frame boundary (wrong count or merged messages)"));
                if let Frame::Unit(Unit::Problem { text, .. }) = &mut f {
                    *text = msg;
                }
                Ok(Some(f))
            }
        }
    }

    /// Reports a problem and skips to the next line, where framing may resume.
    fn resync(&mut self, line: u64, message: String) -> Frame {
        let mut skipped = 0usize;
        while let Ok(Some(b)) = self.bump() {
            skipped += 1;
            if b == b'\n' || skipped > MAX_LINE_BYTES {
                break;
            }
        }
        Frame::Unit(Unit::Problem {
            line,
            code: Code::ContainerMalformed,
            message: format!("syslog framing: {message}"),
            text: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(input: &[u8]) -> Vec<Unit> {
        SyslogUnits::new(io::Cursor::new(input.to_vec()))
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    fn record_of(u: &Unit) -> (u64, String) {
        match u {
            Unit::Record { line, bytes, .. } => (*line, String::from_utf8(bytes.clone()).unwrap()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_the_record_from_msg_with_and_without_bom() {
        let got = units(b"<14>1 2026-10-01T12:00:00Z h1 app - - - {\"a\":1}\n<14>1 2026-10-01T12:00:00Z h1 app 12 ID [x@1 k=\"v\"] \xEF\xBB\xBF{\"a\":2}\n");
        assert_eq!(record_of(&got[0]), (1, "{\"a\":1}".into()));
        assert_eq!(record_of(&got[1]), (2, "{\"a\":2}".into()));
    }

    #[test]
    fn reads_the_record_from_structured_data() {
        let got = units(b"<14>1 2026-10-01T12:00:00Z h app - - [aat@32473 record=\"{\\\"a\\\":\\\"x\\]y\\\"}\"]\n");
        assert_eq!(record_of(&got[0]), (1, "{\"a\":\"x]y\"}".into()));
    }

    #[test]
    fn keeps_header_context() {
        let got = units(b"<14>1 2026-10-01T12:00:00Z web-1 agentd - - - {}\n");
        let Unit::Record { context, .. } = &got[0] else {
            panic!()
        };
        assert_eq!(
            context.as_deref(),
            Some("syslog 2026-10-01T12:00:00Z host=web-1 app=agentd")
        );
    }

    #[test]
    fn reads_legacy_lines_with_a_note() {
        let got = units(b"<13>Oct  1 12:00:00 host agent: {\"a\":1}\n");
        assert!(matches!(
            got[0],
            Unit::Note {
                code: Code::SyslogLegacy,
                ..
            }
        ));
        assert_eq!(record_of(&got[1]), (1, "{\"a\":1}".into()));
    }

    #[test]
    fn malformed_messages_are_problems_at_their_line() {
        for input in [
            &b"{}\n<14>1 2026 h\n"[..],
            b"ok\n<999>1 a b c d e - {}\n",
            b"x\n<14>1 a b c d e [unclosed k=\"v\n",
            b"x\n<14>1 a b c d e -\n",
            b"x\n<14>",
        ] {
            let got = units(input);
            assert!(
                matches!(
                    got.get(1),
                    Some(Unit::Problem {
                        line: 2,
                        code: Code::ContainerMalformed,
                        ..
                    })
                ),
                "{:?}: {got:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn octet_counted_frames_and_wrong_counts() {
        let m = b"<14>1 2026-10-01T12:00:00Z h a - - - {\"a\":1}";
        let mut input = format!("{} ", m.len()).into_bytes();
        input.extend_from_slice(m);
        input.extend_from_slice(format!("\n{} ", m.len()).as_bytes());
        input.extend_from_slice(m);
        let got = units(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(record_of(&got[1]), (2, "{\"a\":1}".into()));

        // Count one short: the frame ends inside the message.
        let mut bad = format!("{} ", m.len() - 1).into_bytes();
        bad.extend_from_slice(m);
        let got = units(&bad);
        assert!(matches!(got[0], Unit::Problem { line: 1, .. }), "{got:?}");

        // Count too long: truncated.
        let mut bad = format!("{} ", m.len() + 50).into_bytes();
        bad.extend_from_slice(m);
        let got = units(&bad);
        assert!(
            matches!(&got[0], Unit::Problem { message, .. } if message.contains("truncated")),
            "{got:?}"
        );
    }
}
