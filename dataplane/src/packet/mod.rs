//! Packet parsing: Ethernet, 802.1Q and QinQ, IPv4 (options, checksum, lengths),
//! IPv6 (extension header chain), TCP, UDP, ICMP and ICMPv6, into a small `Copy`
//! [`PacketSummary`] of offsets into the caller's buffer; and IP fragment
//! reassembly ([`frag`]).
//!
//! Why hand-written rather than a crate (etherparse, pnet, smoltcp's wire module):
//! this is the first thing every packet meets, so the fast path must own its exact
//! cost and its exact judgement. The parser reads each header field once with a
//! bounds-checked `.get()`, allocates nothing, stops at a fixed number of VLAN tags
//! and extension headers, measures the datagram by the IP length fields (so Ethernet
//! padding on a 60-byte frame is never taken for payload), and turns every
//! malformation into one named, countable [`ParseError`] that the firewall policy and
//! its counters speak in. The crates make different choices on each of those points
//! (lax or strict length handling, checksum policy, lazy slices versus a summary,
//! error granularity) and would still need a layer like this one on top.
//!
//! Layout: [`ethernet`] (L2), `ipv4` and `ipv6` (L3, crate-private), [`l4`]
//! (transport), [`summary`] (the result types), [`checksum`], [`frag`]
//! (reassembly), [`build`] (frame construction for tests, replay and traffic
//! generation; not for the fast path), [`exercise`] (the fuzz target's checks).

pub mod build;
mod bytes;
pub mod checksum;
pub mod error;
pub mod ethernet;
pub mod exercise;
pub mod frag;
mod ipv4;
mod ipv6;
pub mod l4;
pub mod summary;

use std::net::IpAddr;

pub use error::ParseError;
pub use ethernet::{EtherType, L2Summary, MacAddr, VlanId};
pub use ipv4::{IPV4_MAX_DATAGRAM, IPV4_MIN_HEADER};
pub use ipv6::{IPV6_HEADER, IPV6_MAX_PAYLOAD, MAX_EXTENSION_HEADERS};
pub use l4::{IcmpEcho, IcmpSummary, L4Summary, Port, TcpFlags, TcpSummary, UdpSummary};
pub use summary::{FragmentInfo, IpProtocol, IpVersion, PacketSummary, Parsed};

/// What the IPv4 or IPv6 parser learned before the transport header.
pub(crate) struct L3Header {
    pub(crate) version: IpVersion,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) protocol: IpProtocol,
    pub(crate) hop_limit: u8,
    pub(crate) source_routed: bool,
    /// Length of the datagram per its header.
    pub(crate) ip_len: usize,
    /// Absolute offset of the transport header (or non-first fragment data).
    pub(crate) l4_offset: usize,
    pub(crate) fragment: Option<FragmentInfo>,
}

/// Parse an Ethernet frame. Non-IP ethertypes are not errors: they come back as
/// [`Parsed::NonIp`] for the pipeline to pass (ARP on a virtual wire) or drop.
#[inline]
pub fn parse(frame: &[u8]) -> Result<Parsed, ParseError> {
    let l2 = ethernet::parse_ethernet(frame)?;
    let l3 = l2.payload_offset as usize;
    let header = match l2.ethertype {
        EtherType::IPV4 => ipv4::parse_ipv4(frame, l3)?,
        EtherType::IPV6 => ipv6::parse_ipv6(frame, l3)?,
        _ => return Ok(Parsed::NonIp(l2)),
    };
    finish(frame, l2, l3, header).map(Parsed::Ip)
}

/// Parse an IP datagram that starts at offset 0 of `datagram` (a reassembled
/// datagram, or a tunnel's inner packet). The version nibble picks IPv4 or IPv6;
/// `l2` is carried into the summary unchanged (pass the first fragment's).
/// Offsets in the result are relative to `datagram`.
#[inline]
pub fn parse_ip(datagram: &[u8], l2: L2Summary) -> Result<PacketSummary, ParseError> {
    let header = match bytes::u8_at(datagram, 0).map(|b| b >> 4) {
        Some(4) => ipv4::parse_ipv4(datagram, 0)?,
        Some(6) => ipv6::parse_ipv6(datagram, 0)?,
        Some(_) => return Err(ParseError::BadIpVersion),
        None if l2.ethertype == EtherType::IPV6 => return Err(ParseError::TruncatedIpv6),
        None => return Err(ParseError::TruncatedIpv4),
    };
    finish(datagram, l2, 0, header)
}

/// Parse the transport header and assemble the summary.
#[inline]
fn finish(
    buf: &[u8],
    l2: L2Summary,
    l3: usize,
    header: L3Header,
) -> Result<PacketSummary, ParseError> {
    let ip_end = l3 + header.ip_len;
    // The L3 parsers checked the datagram fits; slicing here drops Ethernet padding
    // so no transport length check can count it.
    let ip = buf.get(..ip_end).unwrap_or_default();
    let l4 = match header.fragment {
        Some(fragment) if !fragment.is_first() => L4Summary::NonFirstFragment,
        _ => l4::parse_l4(
            ip,
            header.l4_offset,
            header.protocol,
            header.version,
            header.fragment.is_some(),
        )?,
    };
    Ok(PacketSummary {
        l2,
        version: header.version,
        src: header.src,
        dst: header.dst,
        protocol: header.protocol,
        hop_limit: header.hop_limit,
        source_routed: header.source_routed,
        l3_offset: bytes::to_u32(l3),
        ip_len: bytes::to_u32(header.ip_len),
        l4_offset: bytes::to_u32(header.l4_offset),
        l4_len: bytes::to_u32(ip_end.saturating_sub(header.l4_offset)),
        fragment: header.fragment,
        l4,
    })
}
