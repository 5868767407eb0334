//! Ethernet II with up to two VLAN tags (802.1Q, and QinQ with 802.1ad or the
//! pre-standard 0x9100 outer TPID).

use std::fmt;

use super::bytes::{array, be16};
use super::error::ParseError;

/// Length of an untagged Ethernet II header.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Length of one VLAN tag (TPID is counted in the previous ethertype slot, so 4 bytes
/// are inserted per tag).
pub const VLAN_TAG_LEN: usize = 4;
/// Most VLAN tags accepted: an outer service tag and an inner customer tag.
pub const MAX_VLAN_TAGS: usize = 2;

/// A 48-bit MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Whether the group bit is set (multicast or broadcast).
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 0x01 != 0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A 12-bit VLAN identifier (the TCI with priority and DEI bits removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VlanId(pub u16);

impl VlanId {
    /// The VLAN id carried in a tag control information field.
    pub const fn from_tci(tci: u16) -> Self {
        VlanId(tci & 0x0fff)
    }
}

/// An Ethernet type (or, below 0x0600, an 802.3 length field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EtherType(pub u16);

impl EtherType {
    /// IPv4.
    pub const IPV4: EtherType = EtherType(0x0800);
    /// ARP: a virtual wire must pass it, so it is surfaced, not rejected.
    pub const ARP: EtherType = EtherType(0x0806);
    /// IPv6.
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// 802.1Q customer VLAN tag.
    pub const VLAN: EtherType = EtherType(0x8100);
    /// 802.1ad service VLAN tag (QinQ outer).
    pub const QINQ: EtherType = EtherType(0x88a8);
    /// Pre-standard QinQ outer tag still used by some switches.
    pub const QINQ_LEGACY: EtherType = EtherType(0x9100);

    /// Whether this value announces a VLAN tag.
    pub const fn is_vlan_tpid(self) -> bool {
        matches!(self.0, 0x8100 | 0x88a8 | 0x9100)
    }

    /// Whether this is an 802.3 length (LLC frames such as STP), not a type.
    pub const fn is_length(self) -> bool {
        self.0 < 0x0600
    }
}

/// What the parser learned from the link layer. Kept for non-IP frames too, so the
/// pipeline can decide (a virtual wire passes ARP and STP; a routed port would not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct L2Summary {
    /// Destination MAC address.
    pub dst_mac: MacAddr,
    /// Source MAC address.
    pub src_mac: MacAddr,
    /// The first (outermost) VLAN tag: the only one for 802.1Q, the service tag for QinQ.
    pub outer_vlan: Option<VlanId>,
    /// The second VLAN tag of a QinQ frame.
    pub inner_vlan: Option<VlanId>,
    /// The ethertype after the VLAN tags.
    pub ethertype: EtherType,
    /// Offset of the first byte after the link-layer header (the L3 header).
    pub payload_offset: u32,
}

impl L2Summary {
    /// A link-layer summary for a datagram that never had one (tests, tunnels).
    pub const fn none(ethertype: EtherType) -> Self {
        L2Summary {
            dst_mac: MacAddr([0; 6]),
            src_mac: MacAddr([0; 6]),
            outer_vlan: None,
            inner_vlan: None,
            ethertype,
            payload_offset: 0,
        }
    }
}

/// Parse the Ethernet header and VLAN tags of `frame`.
pub fn parse_ethernet(frame: &[u8]) -> Result<L2Summary, ParseError> {
    let dst_mac = array::<6>(frame, 0).ok_or(ParseError::TruncatedEthernet)?;
    let src_mac = array::<6>(frame, 6).ok_or(ParseError::TruncatedEthernet)?;
    let mut ethertype = EtherType(be16(frame, 12).ok_or(ParseError::TruncatedEthernet)?);
    let mut offset = ETHERNET_HEADER_LEN;
    let mut tags = [None; MAX_VLAN_TAGS];
    let mut count = 0;
    while ethertype.is_vlan_tpid() {
        let slot = tags.get_mut(count).ok_or(ParseError::TooManyVlanTags)?;
        let tci = be16(frame, offset).ok_or(ParseError::TruncatedVlan)?;
        ethertype = EtherType(be16(frame, offset + 2).ok_or(ParseError::TruncatedVlan)?);
        *slot = Some(VlanId::from_tci(tci));
        count += 1;
        offset += VLAN_TAG_LEN;
    }
    let [outer_vlan, inner_vlan] = tags;
    Ok(L2Summary {
        dst_mac: MacAddr(dst_mac),
        src_mac: MacAddr(src_mac),
        outer_vlan,
        inner_vlan,
        ethertype,
        payload_offset: super::bytes::to_u32(offset),
    })
}
