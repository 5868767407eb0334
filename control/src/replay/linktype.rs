//! Link types a capture may use, and turning each captured packet into the Ethernet
//! frame the pipeline parses. For link types without an Ethernet header (raw IP, Linux
//! cooked, BSD loopback) a header is synthesised in front of the IP packet: fixed,
//! locally administered MACs and the ethertype the capture names (Linux cooked) or the
//! IP version nibble implies (raw IP, loopback).

use std::fmt;

/// IPv4 ethertype.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// IPv6 ethertype.
const ETHERTYPE_IPV6: u16 = 0x86DD;
/// Source MAC of synthesised headers (locally administered).
pub const SYNTH_SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
/// Destination MAC of synthesised headers (locally administered).
pub const SYNTH_DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// Length of the Linux cooked (SLL) header.
const SLL_HEADER: usize = 16;
/// Length of the Linux cooked v2 (SLL2) header.
const SLL2_HEADER: usize = 20;
/// Length of the BSD loopback / NULL header (the address family).
const NULL_HEADER: usize = 4;

/// A link type replay understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet (1): used as is.
    Ethernet,
    /// Raw IP (101, and 12 / 14 as some platforms number `DLT_RAW`; 228 IPv4, 229 IPv6).
    RawIp,
    /// Linux cooked capture (113).
    LinuxSll,
    /// Linux cooked capture v2 (276).
    LinuxSll2,
    /// BSD loopback with a host-order address family (0).
    Null,
    /// OpenBSD loopback with a network-order address family (108).
    Loop,
}

impl LinkType {
    /// The link type with pcap number `n`, if replay supports it.
    pub fn from_number(n: u32) -> Option<LinkType> {
        match n {
            1 => Some(LinkType::Ethernet),
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            0 => Some(LinkType::Null),
            108 => Some(LinkType::Loop),
            _ => None,
        }
    }

    /// Stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::Ethernet => "ethernet",
            LinkType::RawIp => "raw_ip",
            LinkType::LinuxSll => "linux_sll",
            LinkType::LinuxSll2 => "linux_sll2",
            LinkType::Null => "null",
            LinkType::Loop => "loop",
        }
    }

    /// The Ethernet frame for a packet captured with this link type. A packet too short
    /// for its link header becomes an empty frame (the pipeline counts it malformed).
    pub fn to_ethernet(self, data: &[u8]) -> Vec<u8> {
        match self {
            LinkType::Ethernet => data.to_vec(),
            LinkType::RawIp => with_ethernet(ethertype_of_ip(data), data),
            LinkType::Null | LinkType::Loop => match data.get(NULL_HEADER..) {
                Some(ip) => with_ethernet(ethertype_of_ip(ip), ip),
                None => Vec::new(),
            },
            LinkType::LinuxSll => match (be16(data, 14), data.get(SLL_HEADER..)) {
                (Some(proto), Some(payload)) => with_ethernet(proto, payload),
                _ => Vec::new(),
            },
            LinkType::LinuxSll2 => match (be16(data, 0), data.get(SLL2_HEADER..)) {
                (Some(proto), Some(payload)) => with_ethernet(proto, payload),
                _ => Vec::new(),
            },
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// The ethertype an IP packet needs. Anything that is not version 6 is labelled IPv4,
/// so a non-IP payload reaches the pipeline as an IPv4 packet with a bad version and is
/// counted as malformed rather than silently passed as non-IP.
fn ethertype_of_ip(ip: &[u8]) -> u16 {
    match ip.first().map(|b| b >> 4) {
        Some(6) => ETHERTYPE_IPV6,
        _ => ETHERTYPE_IPV4,
    }
}

fn with_ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + payload.len());
    frame.extend_from_slice(&SYNTH_DST_MAC);
    frame.extend_from_slice(&SYNTH_SRC_MAC);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &[u8] = &[0x45, 0, 0, 20];
    const V6: &[u8] = &[0x60, 0, 0, 0];

    fn ethertype(frame: &[u8]) -> u16 {
        u16::from_be_bytes([frame[12], frame[13]])
    }

    #[test]
    fn raw_ip_gets_the_ethertype_of_its_version() {
        let f = LinkType::RawIp.to_ethernet(V4);
        assert_eq!(ethertype(&f), ETHERTYPE_IPV4);
        assert_eq!(&f[14..], V4);
        assert_eq!(ethertype(&LinkType::RawIp.to_ethernet(V6)), ETHERTYPE_IPV6);
    }

    #[test]
    fn loopback_header_is_stripped() {
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(V6);
        let f = LinkType::Null.to_ethernet(&null);
        assert_eq!(ethertype(&f), ETHERTYPE_IPV6);
        assert_eq!(&f[14..], V6);
        assert!(LinkType::Loop.to_ethernet(&[0, 0]).is_empty());
    }

    #[test]
    fn cooked_headers_keep_their_protocol() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&0x0806u16.to_be_bytes());
        sll.extend_from_slice(&[1, 2, 3]);
        let f = LinkType::LinuxSll.to_ethernet(&sll);
        assert_eq!(ethertype(&f), 0x0806);
        assert_eq!(&f[14..], &[1, 2, 3]);

        let mut sll2 = 0x86DDu16.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(V6);
        let f = LinkType::LinuxSll2.to_ethernet(&sll2);
        assert_eq!(ethertype(&f), ETHERTYPE_IPV6);
        assert_eq!(&f[14..], V6);
    }

    #[test]
    fn numbers() {
        for n in [1, 12, 14, 101, 113, 276, 0, 108, 228, 229] {
            assert!(LinkType::from_number(n).is_some(), "{n}");
        }
        assert_eq!(LinkType::from_number(147), None);
    }
}

/// Fill in an IPv4 header checksum of zero, the mark of checksum offload on the
/// capturing host (the NIC would have computed it before the wire, so the engine never
/// sees a zero there). Any other wrong checksum is left for the pipeline to judge.
/// Returns whether the frame was changed.
pub fn fill_offloaded_ipv4_checksum(frame: &mut [u8]) -> bool {
    let mut l3 = 14;
    let mut ethertype = be16(frame, 12);
    // Up to two VLAN tags (802.1Q, QinQ).
    for _ in 0..2 {
        match ethertype {
            Some(0x8100 | 0x88A8) => {
                ethertype = be16(frame, l3 + 2);
                l3 += 4;
            }
            _ => break,
        }
    }
    if ethertype != Some(ETHERTYPE_IPV4) {
        return false;
    }
    let Some(ip) = frame.get_mut(l3..) else {
        return false;
    };
    let header_len = ip.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    if ip.first().map(|b| b >> 4) != Some(4) || header_len < 20 || ip.len() < header_len {
        return false;
    }
    if ip.get(10..12) != Some(&[0, 0][..]) {
        return false;
    }
    pinhole_dataplane::packet::build::set_ipv4_checksum(ip);
    true
}

#[cfg(test)]
mod checksum_tests {
    use super::*;
    use pinhole_dataplane::packet::build::udp4_frame;

    #[test]
    fn zero_checksum_is_filled_and_others_are_kept() {
        let good = udp4_frame([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), 1, 2, b"x");
        let mut zeroed = good.clone();
        zeroed[24] = 0;
        zeroed[25] = 0;
        assert!(fill_offloaded_ipv4_checksum(&mut zeroed));
        assert_eq!(zeroed, good);

        let mut wrong = good.clone();
        wrong[24] ^= 0xff;
        let before = wrong.clone();
        assert!(!fill_offloaded_ipv4_checksum(&mut wrong));
        assert_eq!(wrong, before);
        let mut unchanged = good.clone();
        assert!(!fill_offloaded_ipv4_checksum(&mut unchanged));
    }
}
