//! The per-packet summary the parser hands to the rest of the pipeline: small,
//! `Copy`, and made only of offsets into the caller's buffer (nothing is copied out).

use std::net::IpAddr;
use std::ops::Range;

use super::ethernet::L2Summary;
use super::l4::{L4Summary, Port};

/// IP version of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpVersion {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// An IP protocol / IPv6 next-header number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 Hop-by-Hop Options.
    pub const HOP_BY_HOP: IpProtocol = IpProtocol(0);
    /// ICMP (IPv4).
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// TCP.
    pub const TCP: IpProtocol = IpProtocol(6);
    /// UDP.
    pub const UDP: IpProtocol = IpProtocol(17);
    /// IPv6 Routing header.
    pub const ROUTING: IpProtocol = IpProtocol(43);
    /// IPv6 Fragment header.
    pub const FRAGMENT: IpProtocol = IpProtocol(44);
    /// Encapsulating Security Payload: opaque, ends the walk.
    pub const ESP: IpProtocol = IpProtocol(50);
    /// Authentication Header.
    pub const AH: IpProtocol = IpProtocol(51);
    /// ICMPv6.
    pub const ICMPV6: IpProtocol = IpProtocol(58);
    /// IPv6 No Next Header.
    pub const NO_NEXT_HEADER: IpProtocol = IpProtocol(59);
    /// IPv6 Destination Options.
    pub const DESTINATION_OPTIONS: IpProtocol = IpProtocol(60);
}

/// Where a fragment sits in its datagram and what reassembly needs to rebuild it.
///
/// Only real fragments carry one: an IPv4 packet with offset 0 and MF clear, or an
/// IPv6 "atomic fragment" (Fragment header with offset 0 and M clear, RFC 6946), is
/// a whole datagram and has `fragment: None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragmentInfo {
    /// Identification (IPv4: 16 bits widened; IPv6: the Fragment header's 32 bits).
    pub id: u32,
    /// Offset of this fragment's data in the reassembled payload, in bytes.
    pub offset: u32,
    /// More fragments follow (IPv4 MF, IPv6 M).
    pub more: bool,
    /// Length of the part every fragment repeats, from the start of the IP header:
    /// the IPv4 header with options, or the IPv6 header plus the extension headers
    /// before the Fragment header.
    pub header_len: u32,
    /// IPv6: offset, from the start of the IP header, of the next-header byte that
    /// names the Fragment header (reassembly rewrites it). IPv4: the protocol field.
    pub next_header_field: u32,
    /// IPv6: the Fragment header's next header (what follows once it is removed).
    /// IPv4: the protocol.
    pub next_header: IpProtocol,
    /// Offset of the fragment's data in the buffer that was parsed.
    pub data_offset: u32,
    /// Length of the fragment's data.
    pub data_len: u32,
}

impl FragmentInfo {
    /// Whether this is the first fragment (offset zero): the only one with the
    /// transport header.
    pub const fn is_first(&self) -> bool {
        self.offset == 0
    }

    /// Whether this is the last fragment (no more follow).
    pub const fn is_last(&self) -> bool {
        !self.more
    }

    /// Offset one past this fragment's data in the reassembled payload.
    pub const fn end(&self) -> u32 {
        self.offset.saturating_add(self.data_len)
    }

    /// The fragment's data as a range of the parsed buffer.
    pub fn data_range(&self) -> Range<usize> {
        let start = self.data_offset as usize;
        start..start.saturating_add(self.data_len as usize)
    }
}

/// Everything the pipeline needs to know about an IP packet, as offsets into the
/// buffer that was parsed (the frame for [`super::parse`], the datagram for
/// [`super::parse_ip`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketSummary {
    /// Link-layer facts (MACs, VLANs, ethertype).
    pub l2: L2Summary,
    /// IPv4 or IPv6.
    pub version: IpVersion,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The upper-layer protocol: IPv4 protocol field, or the last next-header value
    /// of the IPv6 extension header chain.
    pub protocol: IpProtocol,
    /// IPv4 TTL or IPv6 hop limit.
    pub hop_limit: u8,
    /// An IPv4 loose or strict source route option, or an IPv6 Routing header with
    /// segments left: most firewalls drop these, the policy decides.
    pub source_routed: bool,
    /// Offset of the IP header.
    pub l3_offset: u32,
    /// Length of the IP datagram from its header, as the header states it. Anything
    /// after `l3_offset + ip_len` in the frame is Ethernet padding and is ignored.
    pub ip_len: u32,
    /// Offset of the transport header (for a non-first fragment: of its data).
    pub l4_offset: u32,
    /// Bytes from `l4_offset` to the end of the IP datagram (L3 payload length).
    pub l4_len: u32,
    /// Fragment facts, if this is a fragment.
    pub fragment: Option<FragmentInfo>,
    /// The transport header.
    pub l4: L4Summary,
}

impl PacketSummary {
    /// Whether this packet is one fragment of a larger datagram.
    pub const fn is_fragment(&self) -> bool {
        self.fragment.is_some()
    }

    /// Source and destination ports, for TCP and UDP.
    pub const fn ports(&self) -> Option<(Port, Port)> {
        match self.l4 {
            L4Summary::Tcp(tcp) => Some((tcp.src_port, tcp.dst_port)),
            L4Summary::Udp(udp) => Some((udp.src_port, udp.dst_port)),
            _ => None,
        }
    }

    /// The IP datagram (header to last payload byte, padding excluded) as a range.
    pub fn ip_range(&self) -> Range<usize> {
        let start = self.l3_offset as usize;
        start..start.saturating_add(self.ip_len as usize)
    }

    /// The L3 payload (transport header onwards) as a range.
    pub fn l4_range(&self) -> Range<usize> {
        let start = self.l4_offset as usize;
        start..start.saturating_add(self.l4_len as usize)
    }

    /// The application payload (after the TCP or UDP header) as a range, if any.
    pub fn payload_range(&self) -> Option<Range<usize>> {
        let (offset, len) = match self.l4 {
            L4Summary::Tcp(tcp) => (tcp.payload_offset, tcp.payload_len),
            L4Summary::Udp(udp) => (udp.payload_offset, udp.payload_len),
            _ => return None,
        };
        let start = offset as usize;
        Some(start..start.saturating_add(len as usize))
    }
}

/// The result of parsing a frame: an IP packet, or a frame the firewall does not
/// parse further (ARP, LLDP, STP, MPLS...) whose fate the pipeline decides from its
/// ethertype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// An IPv4 or IPv6 packet.
    Ip(PacketSummary),
    /// Anything else, with its link-layer facts.
    NonIp(L2Summary),
}

impl Parsed {
    /// The IP summary, if this is an IP packet.
    pub const fn ip(&self) -> Option<&PacketSummary> {
        match self {
            Parsed::Ip(summary) => Some(summary),
            Parsed::NonIp(_) => None,
        }
    }

    /// The link-layer facts, for either outcome.
    pub const fn l2(&self) -> &L2Summary {
        match self {
            Parsed::Ip(summary) => &summary.l2,
            Parsed::NonIp(l2) => l2,
        }
    }
}
