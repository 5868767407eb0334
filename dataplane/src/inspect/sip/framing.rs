//! Delimiting messages on a byte stream (TCP, TLS after decryption): given the bytes
//! buffered so far, say whether a complete message sits at the front and how long it
//! is. Content-Length is mandatory on streams (RFC 3261 §18.3 / §20.14); its absence is
//! a framing error, not a guess. The framer never consumes a partial message, so a
//! message split across segments is seen once, whole.

use super::error::ParseError;
use super::head::{scan_head, HeadScan};
use super::limits::ParseLimits;
use super::message::leading_crlf_len;
use crate::inspect::stream::FrameResult;

/// What sits at the front of a stream buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFrame {
    /// A complete message of this many bytes.
    Complete(usize),
    /// CRLF keep-alives (RFC 5626 §4.4.1) of this many bytes: consume and continue.
    KeepAlive(usize),
    /// The message is not complete yet: keep the bytes and wait for more.
    NeedMore,
}

/// Frame the message at the front of `buf`. Errors are final for the stream: the
/// buffer cannot be resynchronised without guessing.
pub fn frame_stream(buf: &[u8], limits: &ParseLimits) -> Result<StreamFrame, ParseError> {
    let crlf = leading_crlf_len(buf);
    if crlf > 0 {
        // A lone trailing CR may be the first half of another CRLF: harmless to consume
        // what we have, the next call sees the rest.
        return Ok(StreamFrame::KeepAlive(crlf));
    }
    if buf.is_empty() || buf == b"\r" {
        return Ok(StreamFrame::NeedMore);
    }
    let head = match scan_head(buf, limits)? {
        HeadScan::Complete(h) => h,
        HeadScan::Incomplete => return Ok(StreamFrame::NeedMore),
    };
    let body_len = head
        .content_length
        .ok_or(ParseError::MissingContentLength)?;
    let body_len = usize::try_from(body_len).map_err(|_| ParseError::BodyTooLarge)?;
    let total = head
        .body_start
        .checked_add(body_len)
        .ok_or(ParseError::MessageTooLarge)?;
    if total > limits.max_message_len {
        return Err(ParseError::MessageTooLarge);
    }
    if buf.len() < total {
        Ok(StreamFrame::NeedMore)
    } else {
        Ok(StreamFrame::Complete(total))
    }
}

/// [`frame_stream`] as the framer of the shared TCP reassembler
/// ([`StreamReassembler::feed`](crate::inspect::stream::StreamReassembler::feed)):
/// keep-alives are delivered as (empty) messages, which the inspector counts and ignores.
pub fn frame_for_reassembler(buf: &[u8], limits: &ParseLimits) -> FrameResult {
    match frame_stream(buf, limits) {
        Ok(StreamFrame::Complete(n) | StreamFrame::KeepAlive(n)) => FrameResult::Complete(n),
        Ok(StreamFrame::NeedMore) => FrameResult::NeedMore,
        Err(_) => FrameResult::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembler_adapter() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n";
        assert_eq!(
            frame_for_reassembler(m, &LIM),
            FrameResult::Complete(m.len())
        );
        assert_eq!(
            frame_for_reassembler(b"\r\n", &LIM),
            FrameResult::Complete(2)
        );
        assert_eq!(frame_for_reassembler(&m[..10], &LIM), FrameResult::NeedMore);
        assert_eq!(
            frame_for_reassembler(b"GET / HTTP/1.1\r\n", &LIM),
            FrameResult::Invalid
        );
    }

    const LIM: ParseLimits = ParseLimits::DEFAULT;

    #[test]
    fn complete_needmore_keepalive() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabcOPTIONS";
        assert_eq!(
            frame_stream(m, &LIM),
            Ok(StreamFrame::Complete(m.len() - 7))
        );
        assert_eq!(frame_stream(&m[..20], &LIM), Ok(StreamFrame::NeedMore));
        assert_eq!(
            frame_stream(&m[..m.len() - 9], &LIM),
            Ok(StreamFrame::NeedMore)
        );
        assert_eq!(
            frame_stream(b"\r\n\r\nINVITE", &LIM),
            Ok(StreamFrame::KeepAlive(4))
        );
        assert_eq!(frame_stream(b"", &LIM), Ok(StreamFrame::NeedMore));
    }

    #[test]
    fn stream_errors() {
        assert_eq!(
            frame_stream(b"OPTIONS sip:a@b SIP/2.0\r\nX: 1\r\n\r\n", &LIM),
            Err(ParseError::MissingContentLength)
        );
        assert_eq!(
            frame_stream(b"OPTIONS sip:a@b SIP/2.0\r\nl: 13\r\nl: 5\r\n\r\n", &LIM),
            Err(ParseError::ConflictingContentLength)
        );
        assert_eq!(
            frame_stream(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", &LIM),
            Err(ParseError::BadRequestLine)
        );
        let lim = ParseLimits {
            max_message_len: 64,
            ..LIM
        };
        assert_eq!(
            frame_stream(b"OPTIONS sip:a@b SIP/2.0\r\nl: 100\r\n\r\n", &lim),
            Err(ParseError::MessageTooLarge)
        );
    }

    #[test]
    fn bounded_wait_for_an_unterminated_head() {
        let lim = ParseLimits {
            max_message_len: 64,
            ..LIM
        };
        let mut buf = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
        while buf.len() < 80 {
            buf.extend_from_slice(b"X: y\r\n");
        }
        assert_eq!(frame_stream(&buf, &lim), Err(ParseError::MessageTooLarge));
    }
}
