//! The IPv6 header and its extension header chain (Hop-by-Hop, Routing, Fragment,
//! Destination Options, AH, and the RFC 7045 generic-format headers), walked up to a
//! fixed number of headers so a crafted chain cannot make the fast path loop.

use std::net::{IpAddr, Ipv6Addr};

use super::bytes::{array, be16, be32, to_u32, u8_at};
use super::error::ParseError;
use super::summary::{FragmentInfo, IpProtocol, IpVersion};
use super::L3Header;

/// Length of the fixed IPv6 header.
pub const IPV6_HEADER: usize = 40;
/// Most extension headers walked before the packet is rejected.
pub const MAX_EXTENSION_HEADERS: usize = 8;
/// Largest IPv6 payload without jumbograms (the payload length field is 16 bits).
pub const IPV6_MAX_PAYLOAD: usize = 65_535;
/// Length of the Fragment extension header.
const FRAGMENT_HEADER: usize = 8;

/// Parse the IPv6 header and extension chain at `l3` in `buf`.
pub(crate) fn parse_ipv6(buf: &[u8], l3: usize) -> Result<L3Header, ParseError> {
    let packet = buf.get(l3..).unwrap_or_default();
    let first = u8_at(packet, 0).ok_or(ParseError::TruncatedIpv6)?;
    if first >> 4 != 6 {
        return Err(ParseError::BadIpVersion);
    }
    if packet.len() < IPV6_HEADER {
        return Err(ParseError::TruncatedIpv6);
    }
    let payload_len = usize::from(be16(packet, 4).ok_or(ParseError::TruncatedIpv6)?);
    let first_next = u8_at(packet, 6).ok_or(ParseError::TruncatedIpv6)?;
    if payload_len == 0 && IpProtocol(first_next) == IpProtocol::HOP_BY_HOP {
        return Err(ParseError::Ipv6Jumbogram);
    }
    let ip_len = IPV6_HEADER + payload_len;
    let ip = packet
        .get(..ip_len)
        .ok_or(ParseError::Ipv6PayloadLengthMismatch)?;

    let chain = walk_chain(ip, l3, IpProtocol(first_next))?;
    let src = array::<16>(ip, 8).ok_or(ParseError::TruncatedIpv6)?;
    let dst = array::<16>(ip, 24).ok_or(ParseError::TruncatedIpv6)?;
    Ok(L3Header {
        version: IpVersion::V6,
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        protocol: chain.protocol,
        hop_limit: u8_at(ip, 7).ok_or(ParseError::TruncatedIpv6)?,
        source_routed: chain.source_routed,
        ip_len,
        l4_offset: l3 + chain.l4_offset,
        fragment: chain.fragment,
    })
}

/// Where the extension header walk ended.
struct Chain {
    protocol: IpProtocol,
    l4_offset: usize,
    source_routed: bool,
    fragment: Option<FragmentInfo>,
}

/// Walk the extension headers of `ip` (exactly the datagram, offsets relative to its
/// start; `l3` only shifts the fragment data offset into buffer coordinates).
fn walk_chain(ip: &[u8], l3: usize, first_next: IpProtocol) -> Result<Chain, ParseError> {
    let mut next = first_next;
    let mut at = IPV6_HEADER;
    // Offset of the byte that holds `next`, for reassembly to rewrite.
    let mut next_field = 6;
    let mut source_routed = false;
    let mut fragment: Option<FragmentInfo> = None;
    let mut seen_fragment_header = false;
    for count in 0..=MAX_EXTENSION_HEADERS {
        // After a first fragment's Fragment header the rest of the chain must be in
        // this fragment (RFC 7112); running out of bytes there is a tiny fragment.
        let cut = if fragment.is_some() {
            ParseError::TinyFirstFragment
        } else {
            ParseError::Ipv6BadExtensionChain
        };
        let header_len = match next {
            IpProtocol::HOP_BY_HOP if count != 0 => {
                return Err(ParseError::Ipv6BadExtensionChain);
            }
            IpProtocol::HOP_BY_HOP
            | IpProtocol::ROUTING
            | IpProtocol::DESTINATION_OPTIONS
            | IpProtocol(135 | 139 | 140) => (usize::from(u8_at(ip, at + 1).ok_or(cut)?) + 1) * 8,
            IpProtocol::AH => (usize::from(u8_at(ip, at + 1).ok_or(cut)?) + 2) * 4,
            IpProtocol::FRAGMENT => {
                if seen_fragment_header {
                    return Err(ParseError::Ipv6BadExtensionChain);
                }
                seen_fragment_header = true;
                let inner = IpProtocol(u8_at(ip, at).ok_or(cut)?);
                let offset_flags = be16(ip, at + 2).ok_or(cut)?;
                let id = be32(ip, at + 4).ok_or(cut)?;
                let offset = usize::from(offset_flags & 0xfff8);
                let more = offset_flags & 0x0001 != 0;
                let data_start = at + FRAGMENT_HEADER;
                if data_start > ip.len() {
                    return Err(cut);
                }
                if offset == 0 && !more {
                    // Atomic fragment (RFC 6946): a whole datagram.
                    next_field = at;
                    next = inner;
                    at = data_start;
                    continue;
                }
                let data_len = ip.len() - data_start;
                if more && (data_len == 0 || !data_len.is_multiple_of(8)) {
                    return Err(ParseError::BadFragmentLength);
                }
                if (at - IPV6_HEADER) + offset + data_len > IPV6_MAX_PAYLOAD {
                    return Err(ParseError::FragmentTooLarge);
                }
                let info = FragmentInfo {
                    id,
                    offset: to_u32(offset),
                    more,
                    header_len: to_u32(at),
                    next_header_field: to_u32(next_field),
                    next_header: inner,
                    data_offset: to_u32(l3 + data_start),
                    data_len: to_u32(data_len),
                };
                if offset != 0 {
                    // The rest is another fragment's continuation: nothing to walk.
                    return Ok(Chain {
                        protocol: inner,
                        l4_offset: data_start,
                        source_routed,
                        fragment: Some(info),
                    });
                }
                fragment = Some(info);
                next_field = at;
                next = inner;
                at = data_start;
                continue;
            }
            _ => {
                return Ok(Chain {
                    protocol: next,
                    l4_offset: at,
                    source_routed,
                    fragment,
                });
            }
        };
        if at + header_len > ip.len() {
            return Err(cut);
        }
        if next == IpProtocol::ROUTING {
            // Segments left is the fourth byte: a route still to follow.
            source_routed |= u8_at(ip, at + 3).ok_or(cut)? != 0;
        }
        next_field = at;
        next = IpProtocol(u8_at(ip, at).ok_or(cut)?);
        at += header_len;
    }
    Err(ParseError::Ipv6TooManyExtensionHeaders)
}
