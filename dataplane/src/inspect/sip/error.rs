//! Typed, `Copy` outcomes for every way a SIP message or its SDP can be refused. Each
//! variant maps to one counter; none carries message bytes (nothing to leak, nothing
//! to allocate).

use thiserror::Error;

use super::header::HeaderName;

/// The message could not be framed or its start line / header section is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum ParseError {
    /// Nothing but CRLF keep-alives (or nothing at all).
    #[error("empty message (keep-alive)")]
    Empty,
    /// Larger than `ParseLimits::max_message_len`.
    #[error("message exceeds the size limit")]
    MessageTooLarge,
    /// A physical line longer than `ParseLimits::max_line_len`.
    #[error("line exceeds the length limit")]
    LineTooLong,
    /// More header fields than `ParseLimits::max_headers`.
    #[error("too many header fields")]
    TooManyHeaders,
    /// Declared body larger than `ParseLimits::max_body_len`.
    #[error("body exceeds the size limit")]
    BodyTooLarge,
    /// The header section is not closed by an empty line.
    #[error("header section not terminated")]
    UnterminatedHeaders,
    /// Request line not `Method SP Request-URI SP SIP/2.0`.
    #[error("malformed request line")]
    BadRequestLine,
    /// The Request-URI is malformed (or, for sip/sips, carries headers).
    #[error("malformed Request-URI")]
    BadRequestUri,
    /// Status line not `SIP/2.0 SP 3DIGIT SP reason`.
    #[error("malformed status line")]
    BadStatusLine,
    /// A SIP version other than 2.0.
    #[error("unsupported SIP version")]
    BadVersion,
    /// A header line without a valid name and colon, a stray CR, or a continuation
    /// line with nothing to continue.
    #[error("malformed header line")]
    BadHeaderLine,
    /// Content-Length not a bounded decimal integer.
    #[error("malformed Content-Length")]
    BadContentLength,
    /// Several Content-Length headers with different values.
    #[error("conflicting Content-Length values")]
    ConflictingContentLength,
    /// Content-Length larger than the bytes of the datagram.
    #[error("Content-Length exceeds the bytes present")]
    TruncatedBody,
    /// A stream transport message without Content-Length cannot be framed.
    #[error("Content-Length missing on a stream transport")]
    MissingContentLength,
}

/// The message parsed, but is not one an ALG may build state from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum InvalidMessage {
    /// A mandatory header is absent.
    #[error("missing {0:?} header")]
    Missing(HeaderName),
    /// A single-valued header appears more than once.
    #[error("duplicate {0:?} header")]
    Duplicate(HeaderName),
    /// A header's value does not follow its grammar.
    #[error("malformed {0:?} header")]
    Malformed(HeaderName),
    /// The CSeq method differs from the request method.
    #[error("CSeq method differs from the request method")]
    CSeqMethodMismatch,
}

/// The session description (or the body that should carry it) is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum SdpError {
    /// A line is not `<letter>=<value>`.
    #[error("malformed SDP line")]
    BadLine,
    /// The first line is not `v=0`.
    #[error("SDP does not start with v=0")]
    BadVersion,
    /// A `c=` line does not parse.
    #[error("malformed c= line")]
    BadConnection,
    /// An `m=` line does not parse.
    #[error("malformed m= line")]
    BadMedia,
    /// An `a=rtcp` attribute does not parse.
    #[error("malformed a=rtcp attribute")]
    BadRtcp,
    /// A media section with a non-zero port has no connection address.
    #[error("media without a connection address")]
    MissingConnection,
    /// More lines than `ParseLimits::max_sdp_lines`.
    #[error("too many SDP lines")]
    TooManyLines,
    /// More media sections than the limit.
    #[error("too many SDP media sections")]
    TooManyMedia,
    /// An SDP line longer than `ParseLimits::max_line_len`.
    #[error("SDP line too long")]
    LineTooLong,
    /// A port count above `ParseLimits::max_port_count`, or ports past 65535.
    #[error("SDP port count out of range")]
    BadPortCount,
    /// A multipart body whose boundaries do not parse.
    #[error("malformed multipart body")]
    BadMultipart,
}
