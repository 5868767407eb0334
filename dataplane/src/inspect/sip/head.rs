//! One bounded pass over a message head (start line and header section): finds where
//! the head ends, checks every line's shape and length, counts headers and reads
//! Content-Length. Shared by UDP parsing and TCP framing so both apply the same rules.
//!
//! Lines end in CRLF; a bare LF is also accepted as a line end (many stacks emit it and
//! refusing it would only break calls), but a CR anywhere else is refused.

use nom::combinator::all_consuming;

use super::error::ParseError;
use super::header::HeaderName;
use super::lex::{bounded_decimal, is_token, trim_lws};
use super::limits::ParseLimits;
use super::startline::{parse_start_line, StartLine};

/// Headers indexed inline during the scan, so that typed accessors never re-scan the
/// header section; messages with more headers fall back to scanning.
pub(crate) const HEADER_INDEX_CAPACITY: usize = 48;

/// Where one header field lies in the scanned buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub name: HeaderName,
    pub name_start: u32,
    pub name_len: u32,
    pub value_start: u32,
    pub value_end: u32,
}

const EMPTY_ENTRY: IndexEntry = IndexEntry {
    name: HeaderName::Other,
    name_start: 0,
    name_len: 0,
    value_start: 0,
    value_end: 0,
};

/// The header index of a scanned head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderIndex {
    entries: [IndexEntry; HEADER_INDEX_CAPACITY],
    len: usize,
    complete: bool,
}

impl HeaderIndex {
    fn new() -> Self {
        HeaderIndex {
            entries: [EMPTY_ENTRY; HEADER_INDEX_CAPACITY],
            len: 0,
            complete: true,
        }
    }

    fn push(&mut self, entry: IndexEntry) {
        match self.entries.get_mut(self.len) {
            Some(slot) => {
                *slot = entry;
                self.len += 1;
            }
            None => self.complete = false,
        }
    }

    /// Every header, when all fit in the index.
    pub fn entries(&self) -> Option<&[IndexEntry]> {
        if self.complete {
            self.entries.get(..self.len)
        } else {
            None
        }
    }
}

/// A fully scanned head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head<'a> {
    /// The parsed start line.
    pub start: StartLine<'a>,
    /// The header lines with their terminators (empty when there are none).
    pub headers: &'a [u8],
    /// How many header fields.
    pub header_count: usize,
    /// Offset of the first body byte in the scanned buffer.
    pub body_start: usize,
    /// The Content-Length, when present (all copies agree).
    pub content_length: Option<u32>,
    /// Positions of the header fields (offsets into the scanned buffer).
    pub index: HeaderIndex,
}

/// The outcome of scanning a buffer that may hold only part of a message.
// Returned by value once per message and consumed at once; boxing the large variant
// would allocate on the packet path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum HeadScan<'a> {
    /// The head is complete.
    Complete(Head<'a>),
    /// More bytes are needed to finish the head (within the limits).
    Incomplete,
}

/// The next line at `pos`: (content without terminator, position after the terminator).
/// `Ok(None)` when the line is not terminated yet.
fn next_line<'a>(
    buf: &'a [u8],
    pos: usize,
    limits: &ParseLimits,
) -> Result<Option<(&'a [u8], usize)>, ParseError> {
    let rest = buf.get(pos..).unwrap_or_default();
    // Look no further than a maximal line and its CRLF.
    let window = rest
        .get(..limits.max_line_len.saturating_add(2))
        .unwrap_or(rest);
    match window.iter().position(|b| *b == b'\n') {
        Some(lf) => {
            let raw = rest.get(..lf).unwrap_or_default();
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if line.len() > limits.max_line_len {
                return Err(ParseError::LineTooLong);
            }
            Ok(Some((line, pos + lf + 1)))
        }
        None if window.len() > limits.max_line_len.saturating_add(1) => {
            Err(ParseError::LineTooLong)
        }
        None => Ok(None),
    }
}

/// The name and value start of a header line (`name *WSP ":"`), or an error.
pub(crate) fn split_header_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let name_len = line.iter().position(|b| !is_token(*b))?;
    if name_len == 0 {
        return None;
    }
    let (name, rest) = line.split_at(name_len);
    let mut rest = rest;
    while let Some((b' ' | b'\t', r)) = rest.split_first() {
        rest = r;
    }
    let value = rest.strip_prefix(b":")?;
    Some((name, value))
}

fn parse_content_length(value: &[u8]) -> Result<u32, ParseError> {
    let v = trim_lws(value);
    all_consuming(bounded_decimal(10, u64::from(u32::MAX)))(v)
        .ok()
        .and_then(|(_, n)| u32::try_from(n).ok())
        .ok_or(ParseError::BadContentLength)
}

/// Scan the head of the message starting at `buf[0]`.
pub(crate) fn scan_head<'a>(
    buf: &'a [u8],
    limits: &ParseLimits,
) -> Result<HeadScan<'a>, ParseError> {
    let incomplete = || {
        if buf.len() >= limits.max_message_len {
            Err(ParseError::MessageTooLarge)
        } else {
            Ok(HeadScan::Incomplete)
        }
    };
    let Some((start_line, mut pos)) = next_line(buf, 0, limits)? else {
        return incomplete();
    };
    let start = parse_start_line(start_line)?;
    let headers_start = pos;
    let mut header_count = 0usize;
    let mut content_length: Option<u32> = None;
    let mut index = HeaderIndex::new();
    // The header being accumulated (its value end moves with continuation lines).
    let mut current: Option<IndexEntry> = None;
    // Offsets fit in u32: `max_message_len` bounds them long before.
    let off = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    loop {
        if pos > limits.max_message_len {
            return Err(ParseError::MessageTooLarge);
        }
        let Some((line, next)) = next_line(buf, pos, limits)? else {
            return incomplete();
        };
        if line.contains(&b'\r') {
            return Err(ParseError::BadHeaderLine);
        }
        let line_end = pos + line.len();
        let is_continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if is_continuation {
            match current.as_mut() {
                Some(entry) => entry.value_end = off(line_end),
                None => return Err(ParseError::BadHeaderLine),
            }
            pos = next;
            continue;
        }
        // A new header or the end of the head: finish the current header.
        if let Some(entry) = current.take() {
            index.push(entry);
            if entry.name == HeaderName::ContentLength {
                let value = buf
                    .get(entry.value_start as usize..entry.value_end as usize)
                    .unwrap_or_default();
                let n = parse_content_length(value)?;
                match content_length {
                    Some(prev) if prev != n => return Err(ParseError::ConflictingContentLength),
                    _ => content_length = Some(n),
                }
            }
        }
        if line.is_empty() {
            let headers = buf.get(headers_start..pos).unwrap_or_default();
            if let Some(n) = content_length {
                let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
                if n_usize > limits.max_body_len {
                    return Err(ParseError::BodyTooLarge);
                }
                if next.saturating_add(n_usize) > limits.max_message_len {
                    return Err(ParseError::MessageTooLarge);
                }
            }
            return Ok(HeadScan::Complete(Head {
                start,
                headers,
                header_count,
                body_start: next,
                content_length,
                index,
            }));
        }
        let (name, value) = split_header_line(line).ok_or(ParseError::BadHeaderLine)?;
        header_count += 1;
        if header_count > limits.max_headers {
            return Err(ParseError::TooManyHeaders);
        }
        current = Some(IndexEntry {
            name: HeaderName::from_bytes(name),
            name_start: off(pos),
            name_len: off(name.len()),
            value_start: off(line_end - value.len()),
            value_end: off(line_end),
        });
        pos = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(buf: &[u8]) -> Result<HeadScan<'_>, ParseError> {
        scan_head(buf, &ParseLimits::DEFAULT)
    }

    #[test]
    fn complete_head() {
        let buf = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n l: 3\r\nl: 3\r\n\r\nabc";
        let HeadScan::Complete(h) = scan(buf).unwrap() else {
            panic!()
        };
        assert_eq!(h.header_count, 2);
        assert_eq!(h.content_length, Some(3));
        assert_eq!(h.body_start, buf.len() - 3);
    }

    #[test]
    fn incomplete_and_errors() {
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n"),
            Ok(HeadScan::Incomplete)
        ));
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\n x\r\n\r\n"),
            Err(ParseError::BadHeaderLine)
        ));
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\nfoo bar\r\n\r\n"),
            Err(ParseError::BadHeaderLine)
        ));
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\nl: 13\r\nl: 5\r\n\r\n"),
            Err(ParseError::ConflictingContentLength)
        ));
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\nl: -999\r\n\r\n"),
            Err(ParseError::BadContentLength)
        ));
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\nl: 99999999999\r\n\r\n"),
            Err(ParseError::BadContentLength)
        ));
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\nl: bad\r\n\r\n"),
            Err(ParseError::BadContentLength)
        ));
        assert!(matches!(
            scan(b"OPTIONS sip:a@b SIP/2.0\r\nX: a\rb\r\n\r\n"),
            Err(ParseError::BadHeaderLine)
        ));
    }

    #[test]
    fn limits_apply_to_partial_input() {
        let limits = ParseLimits {
            max_line_len: 16,
            ..ParseLimits::DEFAULT
        };
        let long = [b'A'; 40];
        assert!(matches!(
            scan_head(&long, &limits),
            Err(ParseError::LineTooLong)
        ));
        let limits = ParseLimits {
            max_headers: 1,
            ..ParseLimits::DEFAULT
        };
        assert!(matches!(
            scan_head(b"OPTIONS sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\n\r\n", &limits),
            Err(ParseError::TooManyHeaders)
        ));
    }
}
