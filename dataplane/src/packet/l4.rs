//! Transport headers: TCP, UDP, ICMP and ICMPv6. Checksums are not verified here:
//! the NIC verifies them where it can, and a wrong transport checksum only harms the
//! receiver, which verifies it again; verifying in software would cost a pass over
//! every payload byte on the fast path.

use std::fmt;

use super::bytes::{be16, be32, to_u32, u8_at};
use super::error::ParseError;
use super::summary::{IpProtocol, IpVersion};

/// A TCP or UDP port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(pub u16);

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The TCP flags byte (CWR, ECE, URG, ACK, PSH, RST, SYN, FIN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: no more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: synchronise sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: push.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: the acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG: the urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE: ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR: congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// Whether every flag in `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// SYN set.
    pub const fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// ACK set.
    pub const fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// FIN set.
    pub const fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// RST set.
    pub const fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH set.
    pub const fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// URG set.
    pub const fn urg(self) -> bool {
        self.contains(Self::URG)
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// A TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSummary {
    /// Source port.
    pub src_port: Port,
    /// Destination port.
    pub dst_port: Port,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Offset of the segment's data in the parsed buffer.
    pub payload_offset: u32,
    /// Length of the segment's data (for a first fragment: the part it carries).
    pub payload_len: u32,
}

/// A UDP header. The checksum is not verified (see the module comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpSummary {
    /// Source port.
    pub src_port: Port,
    /// Destination port.
    pub dst_port: Port,
    /// Offset of the datagram's data in the parsed buffer.
    pub payload_offset: u32,
    /// Length of the data per the UDP length field (for a first fragment: the part
    /// it carries). Bytes after it in the IP payload are ignored.
    pub payload_len: u32,
}

/// Identifier and sequence number of an echo request or reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IcmpEcho {
    /// Identifier: the "port" of ICMP sessions.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
}

/// An ICMP or ICMPv6 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpSummary {
    /// Message type.
    pub icmp_type: u8,
    /// Message code.
    pub code: u8,
    /// For echo requests and replies.
    pub echo: Option<IcmpEcho>,
    /// For error messages (unreachable, time exceeded, parameter problem, ...): the
    /// offset of the embedded offending IP header in the parsed buffer. What follows
    /// is usually truncated, so it is not parsed here.
    pub embedded_offset: Option<u32>,
}

impl IcmpSummary {
    /// Whether this is an error message carrying an offending packet.
    pub const fn is_error(&self) -> bool {
        self.embedded_offset.is_some()
    }
}

/// The transport layer of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4Summary {
    /// TCP.
    Tcp(TcpSummary),
    /// UDP.
    Udp(UdpSummary),
    /// ICMP over IPv4.
    Icmp(IcmpSummary),
    /// ICMPv6 over IPv6.
    Icmpv6(IcmpSummary),
    /// A fragment other than the first: its transport header is in the first one.
    NonFirstFragment,
    /// A protocol this parser does not look into (GRE, ESP, SCTP, ...).
    Other(IpProtocol),
}

/// Length of the fixed TCP header.
const TCP_MIN_HEADER: usize = 20;
/// Length of the UDP header.
const UDP_HEADER: usize = 8;
/// Length of the ICMP and ICMPv6 header (type, code, checksum, four bytes of rest).
const ICMP_HEADER: usize = 8;

/// Parse the transport header at `offset` in `ip`, which ends exactly where the IP
/// datagram ends. `first_fragment` relaxes length checks that refer to the whole
/// datagram and turns a short header into [`ParseError::TinyFirstFragment`].
pub(crate) fn parse_l4(
    ip: &[u8],
    offset: usize,
    protocol: IpProtocol,
    version: IpVersion,
    first_fragment: bool,
) -> Result<L4Summary, ParseError> {
    let available = ip.len().saturating_sub(offset);
    let short = |whole: ParseError| {
        if first_fragment {
            ParseError::TinyFirstFragment
        } else {
            whole
        }
    };
    match (protocol, version) {
        (IpProtocol::TCP, _) => {
            if available < TCP_MIN_HEADER {
                return Err(short(ParseError::TruncatedTcp));
            }
            let field = |at: usize| be16(ip, offset + at).ok_or(ParseError::TruncatedTcp);
            let word = |at: usize| be32(ip, offset + at).ok_or(ParseError::TruncatedTcp);
            let data_offset = u8_at(ip, offset + 12).ok_or(ParseError::TruncatedTcp)? >> 4;
            let header_len = usize::from(data_offset) * 4;
            if header_len < TCP_MIN_HEADER {
                return Err(ParseError::BadTcpDataOffset);
            }
            if header_len > available {
                return Err(short(ParseError::BadTcpDataOffset));
            }
            Ok(L4Summary::Tcp(TcpSummary {
                src_port: Port(field(0)?),
                dst_port: Port(field(2)?),
                seq: word(4)?,
                ack: word(8)?,
                flags: TcpFlags(u8_at(ip, offset + 13).ok_or(ParseError::TruncatedTcp)?),
                window: field(14)?,
                payload_offset: to_u32(offset + header_len),
                payload_len: to_u32(available - header_len),
            }))
        }
        (IpProtocol::UDP, _) => {
            if available < UDP_HEADER {
                return Err(short(ParseError::TruncatedUdp));
            }
            let field = |at: usize| be16(ip, offset + at).ok_or(ParseError::TruncatedUdp);
            let length = usize::from(field(4)?);
            let payload_len = if first_fragment {
                // The length covers the whole datagram; this fragment holds a prefix.
                if length < available {
                    return Err(ParseError::BadUdpLength);
                }
                available - UDP_HEADER
            } else {
                if length < UDP_HEADER || length > available {
                    return Err(ParseError::BadUdpLength);
                }
                length - UDP_HEADER
            };
            Ok(L4Summary::Udp(UdpSummary {
                src_port: Port(field(0)?),
                dst_port: Port(field(2)?),
                payload_offset: to_u32(offset + UDP_HEADER),
                payload_len: to_u32(payload_len),
            }))
        }
        (IpProtocol::ICMP, IpVersion::V4) => {
            let icmp = parse_icmp(
                ip,
                offset,
                available,
                ParseError::TruncatedIcmp,
                first_fragment,
            )?;
            let echo = matches!(icmp.icmp_type, 0 | 8);
            let error = matches!(icmp.icmp_type, 3 | 4 | 5 | 11 | 12);
            Ok(L4Summary::Icmp(finish_icmp(icmp, ip, offset, echo, error)))
        }
        (IpProtocol::ICMPV6, IpVersion::V6) => {
            let icmp = parse_icmp(
                ip,
                offset,
                available,
                ParseError::TruncatedIcmpv6,
                first_fragment,
            )?;
            let echo = matches!(icmp.icmp_type, 128 | 129);
            let error = matches!(icmp.icmp_type, 1..=4);
            Ok(L4Summary::Icmpv6(finish_icmp(
                icmp, ip, offset, echo, error,
            )))
        }
        (other, _) => Ok(L4Summary::Other(other)),
    }
}

/// Type and code of an ICMP or ICMPv6 header, after checking it is complete.
fn parse_icmp(
    ip: &[u8],
    offset: usize,
    available: usize,
    truncated: ParseError,
    first_fragment: bool,
) -> Result<IcmpSummary, ParseError> {
    if available < ICMP_HEADER {
        return Err(if first_fragment {
            ParseError::TinyFirstFragment
        } else {
            truncated
        });
    }
    Ok(IcmpSummary {
        icmp_type: u8_at(ip, offset).ok_or(truncated)?,
        code: u8_at(ip, offset + 1).ok_or(truncated)?,
        echo: None,
        embedded_offset: None,
    })
}

/// Fill in the echo fields or the embedded packet offset of an ICMP header.
fn finish_icmp(
    mut icmp: IcmpSummary,
    ip: &[u8],
    offset: usize,
    echo: bool,
    error: bool,
) -> IcmpSummary {
    if echo {
        if let (Some(id), Some(seq)) = (be16(ip, offset + 4), be16(ip, offset + 6)) {
            icmp.echo = Some(IcmpEcho { id, seq });
        }
    }
    if error && ip.len() > offset + ICMP_HEADER {
        icmp.embedded_offset = Some(to_u32(offset + ICMP_HEADER));
    }
    icmp
}
