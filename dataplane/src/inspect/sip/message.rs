//! A parsed SIP message: its start line, its header section (scanned once, then read
//! lazily and without allocation by the typed accessors) and its body.

use std::fmt;

use super::body::{parse_content_type, ContentType};
use super::error::{InvalidMessage, ParseError};
use super::head::{scan_head, split_header_line, HeadScan, HeaderIndex, IndexEntry};
use super::header::{split_list, HeaderName};
use super::lex::trim_lws;
use super::limits::ParseLimits;
use super::method::Method;
use super::nameaddr::{parse_contact, parse_name_addr, Contact, NameAddr};
use super::scalar::{parse_cseq, parse_expires, parse_max_forwards, valid_call_id, CSeq};
use super::startline::{StartLine, StatusCode};
use super::via::{parse_via, Via};

/// One header field: its name as classified and written, and its value (LWS-trimmed,
/// folds still inside).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HeaderField<'a> {
    /// The classified name.
    pub name: HeaderName,
    /// The name as written.
    pub raw_name: &'a [u8],
    /// The value.
    pub value: &'a [u8],
}

impl fmt::Debug for HeaderField<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            String::from_utf8_lossy(self.raw_name),
            String::from_utf8_lossy(self.value)
        )
    }
}

/// A SIP message over a borrowed buffer.
#[derive(Clone, Copy)]
pub struct SipMessage<'a> {
    start: StartLine<'a>,
    /// The message from its start line (offsets of `index` are relative to it).
    raw: &'a [u8],
    index: HeaderIndex,
    headers: &'a [u8],
    header_count: usize,
    content_length: Option<u32>,
    body: &'a [u8],
    len: usize,
}

impl fmt::Debug for SipMessage<'_> {
    /// Headers are shown; the body is not (it may hold SDP `a=crypto` keys).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipMessage")
            .field("start", &self.start)
            .field("headers", &HeaderList(*self))
            .field("body_len", &self.body.len())
            .finish()
    }
}

struct HeaderList<'a>(SipMessage<'a>);

impl fmt::Debug for HeaderList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.headers()).finish()
    }
}

/// Skip the CRLFs RFC 3261 §7.5 says to ignore before a start line.
pub(crate) fn leading_crlf_len(buf: &[u8]) -> usize {
    let mut n = 0;
    loop {
        let rest = buf.get(n..).unwrap_or_default();
        if rest.starts_with(b"\r\n") {
            n += 2;
        } else if rest.starts_with(b"\n") {
            n += 1;
        } else {
            return n;
        }
    }
}

impl<'a> SipMessage<'a> {
    /// Parse one message from a datagram (or from exactly the bytes a stream framer
    /// delimited), with UDP's rules (RFC 3261 §18.3): a Content-Length beyond the bytes
    /// present is an error; without Content-Length the body is the rest of the buffer;
    /// bytes after a complete message are ignored (RFC 4475 dblreq).
    pub fn parse(buf: &'a [u8], limits: &ParseLimits) -> Result<SipMessage<'a>, ParseError> {
        let skip = leading_crlf_len(buf);
        let msg = buf.get(skip..).unwrap_or_default();
        if msg.is_empty() {
            return Err(ParseError::Empty);
        }
        let head = match scan_head(msg, limits)? {
            HeadScan::Complete(h) => h,
            HeadScan::Incomplete => return Err(ParseError::UnterminatedHeaders),
        };
        let available = msg.len() - head.body_start;
        let body_len = match head.content_length {
            Some(n) => {
                let n = usize::try_from(n).map_err(|_| ParseError::BodyTooLarge)?;
                if n > available {
                    return Err(ParseError::TruncatedBody);
                }
                n
            }
            None => {
                if available > limits.max_body_len {
                    return Err(ParseError::BodyTooLarge);
                }
                if msg.len() > limits.max_message_len {
                    return Err(ParseError::MessageTooLarge);
                }
                available
            }
        };
        let end = head.body_start + body_len;
        Ok(SipMessage {
            start: head.start,
            raw: msg,
            index: head.index,
            headers: head.headers,
            header_count: head.header_count,
            content_length: head.content_length,
            body: msg.get(head.body_start..end).unwrap_or_default(),
            len: skip + end,
        })
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start
    }

    /// The method, for a request.
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code, for a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The body (exactly Content-Length bytes, or the rest of the datagram).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Bytes of the input this message used (leading CRLFs, head and body; trailing
    /// bytes of a datagram excluded).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: a message has at least a start line. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of header fields.
    pub fn header_count(&self) -> usize {
        self.header_count
    }

    /// The Content-Length, when present.
    pub fn content_length(&self) -> Option<u32> {
        self.content_length
    }

    /// Every header field in order.
    pub fn headers(&self) -> Headers<'_, 'a> {
        match self.index.entries() {
            Some(entries) => Headers {
                source: Source::Indexed {
                    raw: self.raw,
                    entries: entries.iter(),
                },
            },
            None => Headers {
                source: Source::Scan { rest: self.headers },
            },
        }
    }

    /// The values of every `name` header, one per header line (not comma-split).
    pub fn values(&self, name: HeaderName) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.headers()
            .filter(move |h| h.name == name)
            .map(|h| h.value)
    }

    /// The elements of every `name` header, comma-split (for list-valued headers).
    pub fn list_values(&self, name: HeaderName) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.values(name).flat_map(split_list)
    }

    /// The single value of a single-valued header: `Ok(None)` when absent, an error when
    /// it appears more than once (RFC 4475 multi01).
    pub fn single(&self, name: HeaderName) -> Result<Option<&'a [u8]>, InvalidMessage> {
        let mut it = self.values(name);
        let first = it.next();
        if it.next().is_some() {
            return Err(InvalidMessage::Duplicate(name));
        }
        Ok(first)
    }

    fn required(&self, name: HeaderName) -> Result<&'a [u8], InvalidMessage> {
        self.single(name)?.ok_or(InvalidMessage::Missing(name))
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Result<&'a [u8], InvalidMessage> {
        let v = self.required(HeaderName::CallId)?;
        if valid_call_id(v) {
            Ok(v)
        } else {
            Err(InvalidMessage::Malformed(HeaderName::CallId))
        }
    }

    fn name_addr(&self, name: HeaderName) -> Result<NameAddr<'a>, InvalidMessage> {
        parse_name_addr(self.required(name)?).ok_or(InvalidMessage::Malformed(name))
    }

    /// The From header.
    pub fn from(&self) -> Result<NameAddr<'a>, InvalidMessage> {
        self.name_addr(HeaderName::From)
    }

    /// The To header.
    pub fn to(&self) -> Result<NameAddr<'a>, InvalidMessage> {
        self.name_addr(HeaderName::To)
    }

    /// The CSeq header.
    pub fn cseq(&self) -> Result<CSeq<'a>, InvalidMessage> {
        parse_cseq(self.required(HeaderName::CSeq)?)
            .ok_or(InvalidMessage::Malformed(HeaderName::CSeq))
    }

    /// Every Via element, top first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, InvalidMessage>> + '_ {
        self.list_values(HeaderName::Via)
            .map(|v| parse_via(v).ok_or(InvalidMessage::Malformed(HeaderName::Via)))
    }

    /// The topmost Via element.
    pub fn top_via(&self) -> Result<Via<'a>, InvalidMessage> {
        self.vias()
            .next()
            .unwrap_or(Err(InvalidMessage::Missing(HeaderName::Via)))
    }

    /// Every Contact element.
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact<'a>, InvalidMessage>> + '_ {
        self.list_values(HeaderName::Contact)
            .map(|v| parse_contact(v).ok_or(InvalidMessage::Malformed(HeaderName::Contact)))
    }

    /// Every Record-Route element.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, InvalidMessage>> + '_ {
        self.name_addr_list(HeaderName::RecordRoute)
    }

    /// Every Route element.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, InvalidMessage>> + '_ {
        self.name_addr_list(HeaderName::Route)
    }

    fn name_addr_list(
        &self,
        name: HeaderName,
    ) -> impl Iterator<Item = Result<NameAddr<'a>, InvalidMessage>> + '_ {
        self.list_values(name)
            .map(move |v| parse_name_addr(v).ok_or(InvalidMessage::Malformed(name)))
    }

    /// The Content-Type, when present.
    pub fn content_type(&self) -> Result<Option<ContentType<'a>>, InvalidMessage> {
        match self.single(HeaderName::ContentType)? {
            None => Ok(None),
            Some(v) => parse_content_type(v)
                .map(Some)
                .ok_or(InvalidMessage::Malformed(HeaderName::ContentType)),
        }
    }

    /// The Expires header, when present.
    pub fn expires(&self) -> Result<Option<u32>, InvalidMessage> {
        match self.single(HeaderName::Expires)? {
            None => Ok(None),
            Some(v) => parse_expires(v)
                .map(Some)
                .ok_or(InvalidMessage::Malformed(HeaderName::Expires)),
        }
    }

    /// The Max-Forwards header, when present.
    pub fn max_forwards(&self) -> Result<Option<u8>, InvalidMessage> {
        match self.single(HeaderName::MaxForwards)? {
            None => Ok(None),
            Some(v) => parse_max_forwards(v)
                .map(Some)
                .ok_or(InvalidMessage::Malformed(HeaderName::MaxForwards)),
        }
    }

    /// Whether the body is encoded (Content-Encoding other than `identity`), in which
    /// case the ALG cannot read an SDP in it.
    pub fn body_is_encoded(&self) -> bool {
        self.list_values(HeaderName::ContentEncoding)
            .any(|v| !v.is_empty() && !v.eq_ignore_ascii_case(b"identity"))
    }
}

/// Iterator over the header fields of a scanned header section.
#[derive(Clone)]
pub struct Headers<'m, 'a> {
    source: Source<'m, 'a>,
}

#[derive(Clone)]
enum Source<'m, 'a> {
    /// From the index built while scanning (the common case).
    Indexed {
        raw: &'a [u8],
        entries: std::slice::Iter<'m, IndexEntry>,
    },
    /// Re-scanning the section (messages with more headers than the index holds).
    Scan { rest: &'a [u8] },
}

impl<'a> Iterator for Headers<'_, 'a> {
    type Item = HeaderField<'a>;

    fn next(&mut self) -> Option<HeaderField<'a>> {
        match &mut self.source {
            Source::Indexed { raw, entries } => {
                let e = entries.next()?;
                let name_end = e.name_start as usize + e.name_len as usize;
                Some(HeaderField {
                    name: e.name,
                    raw_name: raw.get(e.name_start as usize..name_end)?,
                    value: trim_lws(raw.get(e.value_start as usize..e.value_end as usize)?),
                })
            }
            Source::Scan { rest } => scan_next(rest),
        }
    }
}

/// The next header of a section being re-scanned (validated by `scan_head`: every line
/// ends in LF, the first is a header line, continuation lines start with SP/HTAB).
fn scan_next<'a>(rest: &mut &'a [u8]) -> Option<HeaderField<'a>> {
    let all = *rest;
    let first_lf = all.iter().position(|b| *b == b'\n')?;
    let mut end = first_lf + 1;
    while matches!(all.get(end), Some(b' ' | b'\t')) {
        let lf = all.get(end..)?.iter().position(|b| *b == b'\n')?;
        end += lf + 1;
    }
    let field = all.get(..end)?;
    *rest = all.get(end..).unwrap_or_default();
    let (raw_name, value) = split_header_line(field)?;
    Some(HeaderField {
        name: HeaderName::from_bytes(raw_name),
        raw_name,
        value: trim_lws(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1, SIP/2.0/TCP proxy.example.com\r\n\
f: \"Alice\" <sip:alice@example.com>;tag=a1\r\n\
t: <sip:bob@example.com>\r\n\
i: call-1@10.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
m: <sip:alice@10.0.0.1:5060>;expires=60\r\n\
Max-Forwards: 70\r\n\
Subject: folded\r\n  value\r\n\
c: application/sdp\r\n\
l: 4\r\n\
\r\n\
v=0\r\ntrailing";

    #[test]
    fn accessors() {
        let m = SipMessage::parse(INVITE, &ParseLimits::DEFAULT).unwrap();
        assert_eq!(m.method(), Some(Method::Invite));
        assert_eq!(m.body(), b"v=0\r");
        assert_eq!(m.len(), INVITE.len() - b"\ntrailing".len());
        assert_eq!(m.call_id().unwrap(), b"call-1@10.0.0.1");
        assert_eq!(m.from().unwrap().tag(), Some(&b"a1"[..]));
        assert_eq!(m.to().unwrap().tag(), None);
        assert_eq!(m.cseq().unwrap().seq, 1);
        assert_eq!(m.vias().count(), 2);
        assert_eq!(m.top_via().unwrap().port, Some(5060));
        let c = m.contacts().next().unwrap().unwrap();
        assert_eq!(c.expires(), Some(60));
        assert_eq!(m.max_forwards().unwrap(), Some(70));
        assert!(m
            .content_type()
            .unwrap()
            .unwrap()
            .is(b"application", b"sdp"));
        assert_eq!(
            m.values(HeaderName::Subject).next(),
            Some(&b"folded\r\n  value"[..])
        );
        assert_eq!(m.header_count(), 10);
    }

    #[test]
    fn datagram_rules() {
        let lim = ParseLimits::DEFAULT;
        let short = b"OPTIONS sip:a@b SIP/2.0\r\nl: 10\r\n\r\nabc";
        assert_eq!(
            SipMessage::parse(short, &lim).unwrap_err(),
            ParseError::TruncatedBody
        );
        let no_cl = b"OPTIONS sip:a@b SIP/2.0\r\nX: y\r\n\r\nabc";
        assert_eq!(SipMessage::parse(no_cl, &lim).unwrap().body(), b"abc");
        assert_eq!(
            SipMessage::parse(b"\r\n\r\n", &lim).unwrap_err(),
            ParseError::Empty
        );
        let unterminated = b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n";
        assert_eq!(
            SipMessage::parse(unterminated, &lim).unwrap_err(),
            ParseError::UnterminatedHeaders
        );
    }

    #[test]
    fn duplicates_are_reported() {
        let m = SipMessage::parse(
            b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: a\r\ni: b\r\n\r\n",
            &ParseLimits::DEFAULT,
        )
        .unwrap();
        assert_eq!(
            m.call_id(),
            Err(InvalidMessage::Duplicate(HeaderName::CallId))
        );
        assert_eq!(m.from(), Err(InvalidMessage::Missing(HeaderName::From)));
    }

    #[test]
    fn many_headers_fall_back_to_scanning_with_the_same_result() {
        let mut text = String::from("OPTIONS sip:a@b SIP/2.0\r\n");
        for i in 0..60 {
            text.push_str(&format!("X-{i}: v{i}\r\n  folded\r\n"));
        }
        text.push_str("Call-ID: last\r\n\r\n");
        let m = SipMessage::parse(text.as_bytes(), &ParseLimits::DEFAULT).unwrap();
        assert_eq!(m.headers().count(), 61);
        assert_eq!(m.call_id().unwrap(), b"last");
        let x59 = m.headers().nth(59).unwrap();
        assert_eq!(
            (x59.raw_name, x59.value),
            (&b"X-59"[..], &b"v59\r\n  folded"[..])
        );
        // And the indexed path on a short message agrees with a scan.
        let short = SipMessage::parse(INVITE, &ParseLimits::DEFAULT).unwrap();
        let mut rest = short.headers;
        let scanned: Vec<_> = std::iter::from_fn(|| scan_next(&mut rest)).collect();
        assert_eq!(short.headers().collect::<Vec<_>>(), scanned);
    }

    #[test]
    fn debug_hides_the_body() {
        let m = SipMessage::parse(INVITE, &ParseLimits::DEFAULT).unwrap();
        let s = format!("{m:?}");
        assert!(s.contains("body_len: 4"));
        assert!(!s.contains("v=0"));
    }
}
