//! Frame construction for tests, property tests, benches, fuzz seeds, replay fixtures
//! and traffic generation. Allocates freely: never call it on the fast path.
//!
//! Builders produce well-formed headers (lengths and the IPv4 header checksum filled
//! in) so a test states only what it is about; tests of malformed input corrupt the
//! result afterwards. Transport checksums are left zero except ICMPv4's, which needs
//! no pseudo-header; the parser does not verify them.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum::internet_checksum;
use super::ethernet::{EtherType, MacAddr};
use super::l4::{Port, TcpFlags};
use super::summary::IpProtocol;

/// Minimum Ethernet frame length without the FCS: shorter frames are padded.
pub const MIN_FRAME_LEN: usize = 60;

/// Default destination MAC used by the convenience builders.
pub const DST_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
/// Default source MAC used by the convenience builders.
pub const SRC_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);

/// An Ethernet frame: MACs, then each `(tpid, vlan id)` tag outermost first, then
/// `ethertype` and `payload`. No padding: see [`pad`].
pub fn ethernet(
    dst: MacAddr,
    src: MacAddr,
    vlans: &[(EtherType, u16)],
    ethertype: EtherType,
    payload: &[u8],
) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + 4 * vlans.len() + payload.len());
    frame.extend_from_slice(&dst.0);
    frame.extend_from_slice(&src.0);
    for (tpid, vlan) in vlans {
        frame.extend_from_slice(&tpid.0.to_be_bytes());
        frame.extend_from_slice(&vlan.to_be_bytes());
    }
    frame.extend_from_slice(&ethertype.0.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Pad `frame` with zeros to the 60-byte Ethernet minimum, as a NIC would.
pub fn pad(mut frame: Vec<u8>) -> Vec<u8> {
    if frame.len() < MIN_FRAME_LEN {
        frame.resize(MIN_FRAME_LEN, 0);
    }
    frame
}

/// An untagged Ethernet frame carrying `ip` with the ethertype its version implies.
pub fn ethernet_ip(ip: &[u8]) -> Vec<u8> {
    let ethertype = match ip.first().map(|b| b >> 4) {
        Some(6) => EtherType::IPV6,
        _ => EtherType::IPV4,
    };
    ethernet(DST_MAC, SRC_MAC, &[], ethertype, ip)
}

/// The fields of an IPv4 header a test may want to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// More Fragments.
    pub more_fragments: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub fragment_offset: u16,
    /// Raw option bytes; padded with End-of-List to a multiple of 4.
    pub options: Vec<u8>,
}

impl Ipv4Header {
    /// A header with TTL 64, id 0, no flags and no options.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol) -> Self {
        Ipv4Header {
            src,
            dst,
            protocol,
            ttl: 64,
            id: 0,
            dont_fragment: false,
            more_fragments: false,
            fragment_offset: 0,
            options: Vec::new(),
        }
    }

    /// The datagram: this header (length and checksum filled in) followed by `payload`.
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut options = self.options.clone();
        while !options.len().is_multiple_of(4) {
            options.push(0);
        }
        let header_len = 20 + options.len();
        let total = header_len + payload.len();
        let mut flags_offset = (self.fragment_offset / 8) & 0x1fff;
        if self.dont_fragment {
            flags_offset |= 0x4000;
        }
        if self.more_fragments {
            flags_offset |= 0x2000;
        }
        let ihl = u8::try_from(header_len / 4).unwrap_or(0x0f) & 0x0f;
        let mut ip = Vec::with_capacity(total);
        ip.push(0x40 | ihl);
        ip.push(0);
        ip.extend_from_slice(&u16::try_from(total).unwrap_or(u16::MAX).to_be_bytes());
        ip.extend_from_slice(&self.id.to_be_bytes());
        ip.extend_from_slice(&flags_offset.to_be_bytes());
        ip.push(self.ttl);
        ip.push(self.protocol.0);
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(&self.src.octets());
        ip.extend_from_slice(&self.dst.octets());
        ip.extend_from_slice(&options);
        set_ipv4_checksum(&mut ip);
        ip.extend_from_slice(payload);
        ip
    }
}

/// Recompute the header checksum of the IPv4 datagram `ip` (after a test edits it).
pub fn set_ipv4_checksum(ip: &mut [u8]) {
    let header_len = ip.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    if let Some(field) = ip.get_mut(10..12) {
        field.copy_from_slice(&[0, 0]);
    }
    let sum = ip.get(..header_len).map_or(0, internet_checksum);
    if let Some(field) = ip.get_mut(10..12) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
}

/// An IPv6 datagram: fixed header, then `payload` (extension headers included),
/// whose first header is `next_header`.
pub fn ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: IpProtocol,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut ip = Vec::with_capacity(40 + payload.len());
    ip.extend_from_slice(&[0x60, 0, 0, 0]);
    ip.extend_from_slice(
        &u16::try_from(payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    ip.push(next_header.0);
    ip.push(hop_limit);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    ip.extend_from_slice(payload);
    ip
}

/// A generic-format extension header (Hop-by-Hop, Routing, Destination Options):
/// `body` follows the two-byte next-header/length prefix and is padded with zeros
/// (Pad1/PadN-compatible) to a multiple of 8 bytes overall.
pub fn ipv6_extension(next_header: IpProtocol, body: &[u8]) -> Vec<u8> {
    let mut header = vec![next_header.0, 0];
    header.extend_from_slice(body);
    while !header.len().is_multiple_of(8) || header.len() < 8 {
        header.push(0);
    }
    let units = u8::try_from(header.len() / 8 - 1).unwrap_or(u8::MAX);
    if let Some(len) = header.get_mut(1) {
        *len = units;
    }
    header
}

/// An IPv6 Fragment header.
pub fn ipv6_fragment_header(next_header: IpProtocol, offset: u16, more: bool, id: u32) -> [u8; 8] {
    let offset_flags = (offset & 0xfff8) | u16::from(more);
    let [o0, o1] = offset_flags.to_be_bytes();
    let [i0, i1, i2, i3] = id.to_be_bytes();
    [next_header.0, 0, o0, o1, i0, i1, i2, i3]
}

/// A UDP header (length filled in, checksum zero) and `payload`.
pub fn udp(src: Port, dst: Port, payload: &[u8]) -> Vec<u8> {
    let mut segment = Vec::with_capacity(8 + payload.len());
    segment.extend_from_slice(&src.0.to_be_bytes());
    segment.extend_from_slice(&dst.0.to_be_bytes());
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    segment.extend_from_slice(&len.to_be_bytes());
    segment.extend_from_slice(&[0, 0]);
    segment.extend_from_slice(payload);
    segment
}

/// The fields of a TCP header a test may want to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source port.
    pub src: Port,
    /// Destination port.
    pub dst: Port,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window.
    pub window: u16,
    /// Raw option bytes; padded with End-of-List to a multiple of 4.
    pub options: Vec<u8>,
}

impl TcpHeader {
    /// A header with the given ports and flags, zero sequence numbers, window 65535.
    pub fn new(src: Port, dst: Port, flags: TcpFlags) -> Self {
        TcpHeader {
            src,
            dst,
            seq: 0,
            ack: 0,
            flags,
            window: 65_535,
            options: Vec::new(),
        }
    }

    /// The segment: this header (data offset filled in, checksum zero) and `payload`.
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut options = self.options.clone();
        while !options.len().is_multiple_of(4) {
            options.push(0);
        }
        let words = u8::try_from((20 + options.len()) / 4).unwrap_or(0x0f) & 0x0f;
        let mut segment = Vec::with_capacity(20 + options.len() + payload.len());
        segment.extend_from_slice(&self.src.0.to_be_bytes());
        segment.extend_from_slice(&self.dst.0.to_be_bytes());
        segment.extend_from_slice(&self.seq.to_be_bytes());
        segment.extend_from_slice(&self.ack.to_be_bytes());
        segment.push(words << 4);
        segment.push(self.flags.0);
        segment.extend_from_slice(&self.window.to_be_bytes());
        segment.extend_from_slice(&[0, 0, 0, 0]);
        segment.extend_from_slice(&options);
        segment.extend_from_slice(payload);
        segment
    }
}

/// An ICMP (or ICMPv6) message: type, code, checksum, the four "rest of header"
/// bytes, then `body`. The checksum is the ICMPv4 one (no pseudo-header).
pub fn icmp(icmp_type: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut message = vec![icmp_type, code, 0, 0];
    message.extend_from_slice(&rest);
    message.extend_from_slice(body);
    let sum = internet_checksum(&message);
    if let Some(field) = message.get_mut(2..4) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
    message
}

/// An echo request or reply body's first eight bytes: `icmp(type, 0, echo_rest(id, seq), ..)`.
pub fn echo_rest(id: u16, seq: u16) -> [u8; 4] {
    let [a, b] = id.to_be_bytes();
    let [c, d] = seq.to_be_bytes();
    [a, b, c, d]
}

/// Split the IPv4 datagram `ip` into fragments of at most `max_data` bytes of data
/// each (rounded down to a multiple of 8), every one with the original header and
/// options. Returns the datagram unchanged in a one-element list if it fits.
pub fn fragment_ipv4(ip: &[u8], max_data: usize) -> Vec<Vec<u8>> {
    let header_len = ip.first().map_or(20, |b| usize::from(b & 0x0f) * 4);
    let (Some(header), Some(data)) = (ip.get(..header_len), ip.get(header_len..)) else {
        return vec![ip.to_vec()];
    };
    let chunk = (max_data / 8).max(1) * 8;
    if data.len() <= chunk {
        return vec![ip.to_vec()];
    }
    let pieces = data.chunks(chunk).count();
    data.chunks(chunk)
        .enumerate()
        .map(|(i, piece)| {
            let mut fragment = header.to_vec();
            let total = u16::try_from(header_len + piece.len()).unwrap_or(u16::MAX);
            let offset = u16::try_from(i * chunk / 8).unwrap_or(0) & 0x1fff;
            let more = if i + 1 < pieces { 0x2000 } else { 0 };
            if let Some(field) = fragment.get_mut(2..4) {
                field.copy_from_slice(&total.to_be_bytes());
            }
            if let Some(field) = fragment.get_mut(6..8) {
                let df = u16::from_be_bytes([field.first().copied().unwrap_or(0), 0]) & 0x4000;
                field.copy_from_slice(&(df | offset | more).to_be_bytes());
            }
            set_ipv4_checksum(&mut fragment);
            fragment.extend_from_slice(piece);
            fragment
        })
        .collect()
}

/// Split the IPv6 datagram `ip` into fragments of at most `max_data` bytes of data
/// each (rounded down to a multiple of 8), inserting a Fragment header with `id`
/// after the fixed header (and after a Hop-by-Hop header, which must stay
/// unfragmentable). Always fragments, even if it fits.
pub fn fragment_ipv6(ip: &[u8], max_data: usize, id: u32) -> Vec<Vec<u8>> {
    let mut unfragmentable = 40;
    let mut next_field = 6;
    if ip.get(6) == Some(&0) {
        let hbh_len = ip.get(41).map_or(0, |l| (usize::from(*l) + 1) * 8);
        next_field = 40;
        unfragmentable += hbh_len;
    }
    let (Some(header), Some(data), Some(&next)) = (
        ip.get(..unfragmentable),
        ip.get(unfragmentable..),
        ip.get(next_field),
    ) else {
        return vec![ip.to_vec()];
    };
    let chunk = (max_data / 8).max(1) * 8;
    let pieces = data.chunks(chunk).count();
    data.chunks(chunk)
        .enumerate()
        .map(|(i, piece)| {
            let mut fragment = header.to_vec();
            if let Some(field) = fragment.get_mut(next_field) {
                *field = IpProtocol::FRAGMENT.0;
            }
            let payload_len = unfragmentable - 40 + 8 + piece.len();
            if let Some(field) = fragment.get_mut(4..6) {
                field
                    .copy_from_slice(&u16::try_from(payload_len).unwrap_or(u16::MAX).to_be_bytes());
            }
            let offset = u16::try_from(i * chunk).unwrap_or(0);
            fragment.extend_from_slice(&ipv6_fragment_header(
                IpProtocol(next),
                offset,
                i + 1 < pieces,
                id,
            ));
            fragment.extend_from_slice(piece);
            fragment
        })
        .collect()
}

/// A padded, untagged Ethernet/IPv4/UDP frame: the common case for tests and benches.
pub fn udp4_frame(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let ip =
        Ipv4Header::new(src, dst, IpProtocol::UDP).build(&udp(Port(sport), Port(dport), payload));
    pad(ethernet_ip(&ip))
}

/// A padded, untagged Ethernet/IPv4/TCP frame.
pub fn tcp4_frame(src: Ipv4Addr, dst: Ipv4Addr, tcp: &TcpHeader, payload: &[u8]) -> Vec<u8> {
    let ip = Ipv4Header::new(src, dst, IpProtocol::TCP).build(&tcp.build(payload));
    pad(ethernet_ip(&ip))
}
