//! What identifies a datagram's fragments.

use std::net::{IpAddr, Ipv4Addr};

use crate::ids::IfaceId;
use crate::packet::ethernet::VlanId;
use crate::packet::summary::{IpVersion, PacketSummary};

/// The fragments of one datagram share this key: source, destination and
/// identification (and, for IPv4, protocol), as the RFCs define it, narrowed by the
/// ingress interface and VLANs so fragments from different networks never merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragKey {
    /// Interface the fragments arrived on.
    pub ingress: IfaceId,
    /// Outer VLAN.
    pub outer_vlan: Option<VlanId>,
    /// Inner VLAN.
    pub inner_vlan: Option<VlanId>,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Identification.
    pub id: u32,
    /// IPv4 protocol; zero for IPv6, whose key does not include it.
    pub protocol: u8,
}

impl Default for FragKey {
    fn default() -> Self {
        FragKey {
            ingress: IfaceId(0),
            outer_vlan: None,
            inner_vlan: None,
            src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            id: 0,
            protocol: 0,
        }
    }
}

impl FragKey {
    /// The key of a fragment with this summary, arrived on `ingress`, with `id` its
    /// identification.
    pub fn new(summary: &PacketSummary, ingress: IfaceId, id: u32) -> Self {
        FragKey {
            ingress,
            outer_vlan: summary.l2.outer_vlan,
            inner_vlan: summary.l2.inner_vlan,
            src: summary.src,
            dst: summary.dst,
            id,
            protocol: match summary.version {
                IpVersion::V4 => summary.protocol.0,
                IpVersion::V6 => 0,
            },
        }
    }
}
