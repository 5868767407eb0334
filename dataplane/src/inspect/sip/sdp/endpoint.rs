//! What a session description announces, resolved per stream: where to send media
//! (address and port), what kind, where its RTCP goes, and the direction. This is what
//! pinholes are built from.

use std::net::IpAddr;

use super::attr::Direction;
use super::connection::ConnectionAddress;
use super::media::{MediaDescription, MediaType};
use super::SessionDescription;
use crate::inspect::action::{MediaKind, Transport};

/// Where a stream's RTCP is to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcpTarget<'a> {
    /// A separate RTCP flow (port + 1 by default, or as `a=rtcp` says).
    Separate {
        /// The RTCP address.
        address: ConnectionAddress<'a>,
        /// The RTCP port.
        port: u16,
    },
    /// `a=rtcp-mux`: RTCP shares the RTP port.
    Muxed,
    /// Not an RTP stream (UDPTL, TCP, ...), or no port left for RTCP.
    None,
}

/// One announced media stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaEndpoint<'a> {
    /// Index of the `m=` line (stable identity of the stream across offer/answer).
    pub index: usize,
    /// The media type.
    pub media_type: MediaType<'a>,
    /// The transport of the media flow.
    pub transport: Transport,
    /// Where media is to be sent (media-level `c=` wins over session-level).
    pub address: ConnectionAddress<'a>,
    /// The first port (0 = stream disabled).
    pub port: u16,
    /// Number of ports (RTP at port + 2i, RTCP at port + 2i + 1).
    pub port_count: u16,
    /// Where RTCP is to be sent.
    pub rtcp: RtcpTarget<'a>,
    /// The effective direction.
    pub direction: Direction,
}

impl<'a> MediaEndpoint<'a> {
    pub(crate) fn resolve(
        index: usize,
        m: &MediaDescription<'a>,
        sdp: &SessionDescription<'a>,
    ) -> MediaEndpoint<'a> {
        // Parsing refused a non-zero port without any c=; Unspecified only for port 0.
        let address = m
            .connection
            .or(sdp.connection)
            .unwrap_or(ConnectionAddress::Unspecified);
        let rtcp = if !m.is_rtp() || m.transport() == Transport::Tcp {
            RtcpTarget::None
        } else if m.rtcp_mux {
            RtcpTarget::Muxed
        } else if let Some(attr) = m.rtcp {
            RtcpTarget::Separate {
                address: attr.address.unwrap_or(address),
                port: attr.port,
            }
        } else {
            match m.port.checked_add(1) {
                Some(port) => RtcpTarget::Separate { address, port },
                None => RtcpTarget::None,
            }
        };
        MediaEndpoint {
            index,
            media_type: m.media_type,
            transport: m.transport(),
            address,
            port: m.port,
            port_count: m.port_count,
            rtcp,
            direction: m.direction.or(sdp.direction).unwrap_or_default(),
        }
    }

    /// The pinhole kind, when the ALG opens pinholes for this media type.
    pub fn kind(&self) -> Option<MediaKind> {
        self.media_type.kind()
    }

    /// Whether the stream is disabled (port 0).
    pub fn is_disabled(&self) -> bool {
        self.port == 0
    }

    /// The destination a pinhole is opened toward: `None` for a disabled stream, a
    /// hold address, a host name or a media type the ALG does not open.
    pub fn target(&self) -> Option<(IpAddr, u16)> {
        if self.is_disabled() {
            return None;
        }
        self.kind()?;
        Some((self.address.ip()?, self.port))
    }

    /// The RTCP destination, when there is a separate one toward an address literal.
    pub fn rtcp_target(&self) -> Option<(IpAddr, u16)> {
        self.target()?;
        match self.rtcp {
            RtcpTarget::Separate { address, port } => Some((address.ip()?, port)),
            RtcpTarget::Muxed | RtcpTarget::None => None,
        }
    }
}
