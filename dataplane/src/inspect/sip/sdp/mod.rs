//! SDP (RFC 4566) as far as a media ALG needs it: session- and media-level `c=`, `m=`
//! lines with port counts, `a=rtcp`, `a=rtcp-mux` and direction attributes; other
//! attributes, `a=crypto` (RFC 4568) included, are accepted and not stored, so no key
//! material outlives the parse. Parsed without allocation: media sections are stored
//! inline, up to [`SDP_MEDIA_CAPACITY`].
//!
//! Policy: every line must be `<letter>=<value>` and the first must be `v=0`, otherwise
//! the whole description is refused (a damaged SDP opens nothing); empty lines are
//! skipped and a bare LF ends a line, as senders do both; lines the ALG does not use
//! (o=, s=, t=, b=, ...) are not checked.

mod attr;
mod connection;
mod endpoint;
mod media;

pub use attr::{Direction, RtcpAttr};
pub use connection::ConnectionAddress;
pub use endpoint::{MediaEndpoint, RtcpTarget};
pub use media::{MediaDescription, MediaType};

use super::error::SdpError;
use super::limits::{ParseLimits, SDP_MEDIA_CAPACITY};
use attr::parse_rtcp;
use connection::parse_connection;
use media::parse_media_line;

/// A parsed session description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    /// The session-level `c=`, when present.
    pub connection: Option<ConnectionAddress<'a>>,
    /// The session-level direction attribute, when present.
    pub direction: Option<Direction>,
    media: [MediaDescription<'a>; SDP_MEDIA_CAPACITY],
    media_len: usize,
}

impl<'a> SessionDescription<'a> {
    /// The media sections, in order.
    pub fn media(&self) -> &[MediaDescription<'a>] {
        self.media.get(..self.media_len).unwrap_or_default()
    }

    /// Parse `body` as SDP.
    pub fn parse(body: &'a [u8], limits: &ParseLimits) -> Result<Self, SdpError> {
        let mut sdp = SessionDescription {
            connection: None,
            direction: None,
            media: [MediaDescription::EMPTY; SDP_MEDIA_CAPACITY],
            media_len: 0,
        };
        let mut seen_version = false;
        let mut lines = 0usize;
        for raw in body.split(|b| *b == b'\n') {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if line.is_empty() {
                continue;
            }
            lines += 1;
            if lines > limits.max_sdp_lines {
                return Err(SdpError::TooManyLines);
            }
            if line.len() > limits.max_line_len {
                return Err(SdpError::LineTooLong);
            }
            let (kind, value) = match line {
                [k, b'=', value @ ..] if k.is_ascii_lowercase() => (*k, value),
                _ => return Err(SdpError::BadLine),
            };
            if value.iter().any(|b| *b == b'\r' || *b == 0) {
                return Err(SdpError::BadLine);
            }
            if !seen_version {
                if kind != b'v' || value != b"0" {
                    return Err(SdpError::BadVersion);
                }
                seen_version = true;
                continue;
            }
            sdp.apply_line(kind, value, limits)?;
        }
        if !seen_version {
            return Err(SdpError::BadVersion);
        }
        let session_connection = sdp.connection;
        if sdp
            .media()
            .iter()
            .any(|m| m.port != 0 && m.connection.or(session_connection).is_none())
        {
            return Err(SdpError::MissingConnection);
        }
        Ok(sdp)
    }

    fn current_media(&mut self) -> Option<&mut MediaDescription<'a>> {
        let idx = self.media_len.checked_sub(1)?;
        self.media.get_mut(idx)
    }

    fn apply_line(
        &mut self,
        kind: u8,
        value: &'a [u8],
        limits: &ParseLimits,
    ) -> Result<(), SdpError> {
        match kind {
            b'm' => {
                if self.media_len >= limits.sdp_media_bound() {
                    return Err(SdpError::TooManyMedia);
                }
                let m = parse_media_line(value, limits)?;
                let slot = self
                    .media
                    .get_mut(self.media_len)
                    .ok_or(SdpError::TooManyMedia)?;
                *slot = m;
                self.media_len += 1;
            }
            b'c' => {
                let c = parse_connection(value)?;
                match self.current_media() {
                    // Several c= in one media section are multicast layers: keep the first.
                    Some(m) => {
                        m.connection.get_or_insert(c);
                    }
                    None => {
                        self.connection.get_or_insert(c);
                    }
                }
            }
            b'a' => self.apply_attribute(value)?,
            _ => {}
        }
        Ok(())
    }

    fn apply_attribute(&mut self, value: &'a [u8]) -> Result<(), SdpError> {
        let (name, attr_value) = match value.iter().position(|b| *b == b':') {
            Some(colon) => {
                let (n, v) = value.split_at(colon);
                (n, v.get(1..))
            }
            None => (value, None),
        };
        if let Some(direction) = Direction::from_attribute(name) {
            match self.current_media() {
                Some(m) => m.direction = Some(direction),
                None => self.direction = Some(direction),
            }
            return Ok(());
        }
        let Some(m) = self.current_media() else {
            return Ok(());
        };
        match (name, attr_value) {
            (b"rtcp", Some(v)) => m.rtcp = Some(parse_rtcp(v)?),
            (b"rtcp", None) => return Err(SdpError::BadRtcp),
            (b"rtcp-mux", _) => m.rtcp_mux = true,
            _ => {}
        }
        Ok(())
    }

    /// The media endpoints this description announces, one per `m=` line (disabled
    /// streams included, with port 0), with session-level defaults applied.
    pub fn endpoints(&self) -> impl Iterator<Item = MediaEndpoint<'a>> + '_ {
        self.media()
            .iter()
            .enumerate()
            .map(move |(index, m)| MediaEndpoint::resolve(index, m, self))
    }
}

#[cfg(test)]
mod tests;
