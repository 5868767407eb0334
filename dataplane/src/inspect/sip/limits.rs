//! Bounds on every length the SIP and SDP parsers accept. A message beyond any bound is
//! a counted, typed error, never a partial parse or an unbounded wait.

/// Hard ceiling on SDP media sections, whatever [`ParseLimits::max_sdp_media`] says,
/// because a parsed session description stores them inline (no allocation).
pub const SDP_MEDIA_CAPACITY: usize = 16;

/// Limits applied while framing and parsing one SIP message and its SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest message (start line + headers + body) in bytes; also bounds how much a
    /// TCP stream may buffer before a message is complete.
    pub max_message_len: usize,
    /// Longest physical line (start line, header line, SDP line) in bytes.
    pub max_line_len: usize,
    /// Most header fields (a folded header counts once).
    pub max_headers: usize,
    /// Largest body in bytes (the declared Content-Length).
    pub max_body_len: usize,
    /// Most SDP lines.
    pub max_sdp_lines: usize,
    /// Most SDP media sections (`m=` lines); capped at [`SDP_MEDIA_CAPACITY`].
    pub max_sdp_media: usize,
    /// Largest port count in an `m=` line (`m=audio 49170/2 ...`).
    pub max_port_count: u16,
    /// Most parts inspected in a `multipart/*` body.
    pub max_multipart_parts: usize,
}

impl ParseLimits {
    /// Defaults sized for real SIP: messages up to 64 KiB (the largest a UDP datagram
    /// can carry), 8 KiB lines (long Identity/Authorization headers), 128 headers.
    pub const DEFAULT: ParseLimits = ParseLimits {
        max_message_len: 65_535,
        max_line_len: 8_192,
        max_headers: 128,
        max_body_len: 65_535,
        max_sdp_lines: 1_024,
        max_sdp_media: SDP_MEDIA_CAPACITY,
        max_port_count: 16,
        max_multipart_parts: 16,
    };

    /// The effective media-section bound (never above [`SDP_MEDIA_CAPACITY`]).
    pub fn sdp_media_bound(&self) -> usize {
        self.max_sdp_media.min(SDP_MEDIA_CAPACITY)
    }
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits::DEFAULT
    }
}
