//! `m=` lines and the media section they open.

use super::attr::{Direction, RtcpAttr};
use super::connection::ConnectionAddress;
use crate::inspect::action::{MediaKind, Transport};
use crate::inspect::sip::error::SdpError;
use crate::inspect::sip::host::port;
use crate::inspect::sip::limits::ParseLimits;

/// The `<media>` field of an `m=` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaType<'a> {
    /// audio.
    Audio,
    /// video.
    Video,
    /// image (T.38 fax over UDPTL).
    Image,
    /// application.
    Application,
    /// Any other media type (text, message, ...): recognised, opens nothing.
    Other(&'a [u8]),
}

impl MediaType<'_> {
    /// The pinhole kind for this media type, if the ALG opens pinholes for it.
    pub fn kind(&self) -> Option<MediaKind> {
        match self {
            MediaType::Audio => Some(MediaKind::Audio),
            MediaType::Video => Some(MediaKind::Video),
            MediaType::Image => Some(MediaKind::Image),
            MediaType::Application => Some(MediaKind::Application),
            MediaType::Other(_) => None,
        }
    }
}

/// One media section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaDescription<'a> {
    /// The media type.
    pub media_type: MediaType<'a>,
    /// The port (0 = stream disabled).
    pub port: u16,
    /// The number of ports (`m=audio 49170/2 ...`), at least 1.
    pub port_count: u16,
    /// The transport protocol (`RTP/AVP`, `udptl`, ...).
    pub proto: &'a [u8],
    /// The media-level `c=`, when present.
    pub connection: Option<ConnectionAddress<'a>>,
    /// `a=rtcp`, when present.
    pub rtcp: Option<RtcpAttr<'a>>,
    /// `a=rtcp-mux`.
    pub rtcp_mux: bool,
    /// The media-level direction attribute, when present.
    pub direction: Option<Direction>,
}

impl<'a> MediaDescription<'a> {
    /// A placeholder for unused inline storage.
    pub(crate) const EMPTY: MediaDescription<'static> = MediaDescription {
        media_type: MediaType::Other(b""),
        port: 0,
        port_count: 1,
        proto: b"",
        connection: None,
        rtcp: None,
        rtcp_mux: false,
        direction: None,
    };

    /// Whether the protocol is RTP-based (and so has RTCP unless multiplexed).
    pub fn is_rtp(&self) -> bool {
        self.proto
            .split(|b| *b == b'/')
            .any(|p| p.eq_ignore_ascii_case(b"RTP"))
    }

    /// The layer-4 transport of the stream.
    pub fn transport(&self) -> Transport {
        let first = self.proto.split(|b| *b == b'/').next().unwrap_or_default();
        if first.eq_ignore_ascii_case(b"TCP") {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }
}

fn is_proto_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.')
}

/// Parse an `m=` value: `<media> <port>[/<count>] <proto> <fmt> ...`.
pub(crate) fn parse_media_line<'a>(
    value: &'a [u8],
    limits: &ParseLimits,
) -> Result<MediaDescription<'a>, SdpError> {
    let mut fields = value.split(|b| *b == b' ').filter(|f| !f.is_empty());
    let (Some(media), Some(ports), Some(proto), Some(_first_fmt)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(SdpError::BadMedia);
    };
    let media_type = match media {
        b"audio" => MediaType::Audio,
        b"video" => MediaType::Video,
        b"image" => MediaType::Image,
        b"application" => MediaType::Application,
        other
            if other
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-') =>
        {
            MediaType::Other(other)
        }
        _ => return Err(SdpError::BadMedia),
    };
    if !proto.iter().all(|b| is_proto_char(*b)) {
        return Err(SdpError::BadMedia);
    }
    let mut port_fields = ports.split(|b| *b == b'/');
    let whole_port = |text: &[u8]| match port(text) {
        Ok((b"", p)) => Some(p),
        _ => None,
    };
    let p = port_fields
        .next()
        .and_then(whole_port)
        .ok_or(SdpError::BadMedia)?;
    let count = match port_fields.next() {
        None => 1,
        Some(c) => whole_port(c).ok_or(SdpError::BadMedia)?,
    };
    if port_fields.next().is_some() {
        return Err(SdpError::BadMedia);
    }
    if count == 0 || count > limits.max_port_count {
        return Err(SdpError::BadPortCount);
    }
    // Every RTP/RTCP port of the range must exist: port + 2*(count-1) + 1 <= 65535.
    let last_port = u32::from(p) + 2 * (u32::from(count) - 1) + 1;
    if count > 1 && p != 0 && last_port > u32::from(u16::MAX) {
        return Err(SdpError::BadPortCount);
    }
    Ok(MediaDescription {
        media_type,
        port: p,
        port_count: count,
        proto,
        ..MediaDescription::EMPTY
    })
}
