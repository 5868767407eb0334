//! The IPv4 header: version, IHL, total length, header checksum, options (walked to
//! check their lengths and to spot source routing), fragment fields.

use std::net::{IpAddr, Ipv4Addr};

use super::bytes::{array, be16, to_u32, u8_at};
use super::checksum;
use super::error::ParseError;
use super::summary::{FragmentInfo, IpProtocol, IpVersion};
use super::L3Header;

/// Length of an IPv4 header without options.
pub const IPV4_MIN_HEADER: usize = 20;
/// Largest IPv4 datagram (the total length field is 16 bits).
pub const IPV4_MAX_DATAGRAM: usize = 65_535;
/// The More Fragments flag in the flags/offset field.
pub(crate) const FLAG_MF: u16 = 0x2000;
/// The Don't Fragment flag in the flags/offset field.
pub(crate) const FLAG_DF: u16 = 0x4000;
/// The fragment offset bits (in 8-byte units) of the flags/offset field.
const OFFSET_MASK: u16 = 0x1fff;

/// Parse the IPv4 header at `l3` in `buf`.
pub(crate) fn parse_ipv4(buf: &[u8], l3: usize) -> Result<L3Header, ParseError> {
    let packet = buf.get(l3..).unwrap_or_default();
    let first = u8_at(packet, 0).ok_or(ParseError::TruncatedIpv4)?;
    if first >> 4 != 4 {
        return Err(ParseError::BadIpVersion);
    }
    if packet.len() < IPV4_MIN_HEADER {
        return Err(ParseError::TruncatedIpv4);
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER {
        return Err(ParseError::BadIpv4HeaderLength);
    }
    let header = packet.get(..header_len).ok_or(ParseError::TruncatedIpv4)?;
    let total_len = usize::from(be16(header, 2).ok_or(ParseError::TruncatedIpv4)?);
    if total_len < IPV4_MIN_HEADER {
        return Err(ParseError::BadIpv4TotalLength);
    }
    if total_len < header_len {
        return Err(ParseError::BadIpv4HeaderLength);
    }
    if total_len > packet.len() {
        return Err(ParseError::Ipv4TotalLengthMismatch);
    }
    if !checksum::verifies(header) {
        return Err(ParseError::BadIpv4Checksum);
    }
    let source_routed = walk_options(header.get(IPV4_MIN_HEADER..).unwrap_or_default())?;

    let protocol = IpProtocol(u8_at(header, 9).ok_or(ParseError::TruncatedIpv4)?);
    let flags_offset = be16(header, 6).ok_or(ParseError::TruncatedIpv4)?;
    let more = flags_offset & FLAG_MF != 0;
    let offset = usize::from(flags_offset & OFFSET_MASK) * 8;
    let payload_len = total_len - header_len;
    let fragment = if more || offset != 0 {
        if more && (payload_len == 0 || !payload_len.is_multiple_of(8)) {
            return Err(ParseError::BadFragmentLength);
        }
        if header_len + offset + payload_len > IPV4_MAX_DATAGRAM {
            return Err(ParseError::FragmentTooLarge);
        }
        Some(FragmentInfo {
            id: u32::from(be16(header, 4).ok_or(ParseError::TruncatedIpv4)?),
            offset: to_u32(offset),
            more,
            header_len: to_u32(header_len),
            next_header_field: 9,
            next_header: protocol,
            data_offset: to_u32(l3 + header_len),
            data_len: to_u32(payload_len),
        })
    } else {
        None
    };

    let src = array::<4>(header, 12).ok_or(ParseError::TruncatedIpv4)?;
    let dst = array::<4>(header, 16).ok_or(ParseError::TruncatedIpv4)?;
    Ok(L3Header {
        version: IpVersion::V4,
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        protocol,
        hop_limit: u8_at(header, 8).ok_or(ParseError::TruncatedIpv4)?,
        source_routed,
        ip_len: total_len,
        l4_offset: l3 + header_len,
        fragment,
    })
}

/// Check every option's length (at most 40 bytes, so the walk is bounded) and report
/// whether a loose or strict source route is present.
fn walk_options(options: &[u8]) -> Result<bool, ParseError> {
    const END_OF_LIST: u8 = 0;
    const NO_OPERATION: u8 = 1;
    const LOOSE_SOURCE_ROUTE: u8 = 0x83;
    const STRICT_SOURCE_ROUTE: u8 = 0x89;
    let mut source_routed = false;
    let mut at = 0;
    while let Some(kind) = u8_at(options, at) {
        match kind {
            END_OF_LIST => break,
            NO_OPERATION => at += 1,
            _ => {
                let len = usize::from(u8_at(options, at + 1).ok_or(ParseError::BadIpv4Options)?);
                if len < 2 || at + len > options.len() {
                    return Err(ParseError::BadIpv4Options);
                }
                source_routed |= matches!(kind, LOOSE_SOURCE_ROUTE | STRICT_SOURCE_ROUTE);
                at += len;
            }
        }
    }
    Ok(source_routed)
}
