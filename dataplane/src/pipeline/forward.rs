//! Egress selection and the in-place rewrites forwarding needs.

use std::net::IpAddr;

use super::verdict::DropReason;
use crate::ids::IfaceId;
use crate::packet::{L2Summary, PacketSummary};
use crate::policy::{Forwarding, Policy};

/// Where a packet leaves, and for routed mode what to rewrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Egress {
    /// Virtual wire: leave unchanged.
    Wire(IfaceId),
    /// Routed: rewrite MACs, decrement the TTL.
    Routed {
        /// Egress interface.
        iface: IfaceId,
        /// Next hop MAC.
        next_hop: [u8; 6],
    },
}

impl Egress {
    pub(super) fn iface(self) -> IfaceId {
        match self {
            Egress::Wire(i) | Egress::Routed { iface: i, .. } => i,
        }
    }
}

/// Resolve the ingress interface from the port's interface and the frame's VLAN tag.
pub(super) fn resolve_vlan(
    policy: &Policy,
    ingress: IfaceId,
    l2: &L2Summary,
) -> Result<IfaceId, DropReason> {
    let Some(base) = policy.interface(ingress) else {
        return Err(DropReason::UnknownIngress);
    };
    let vlan = l2.outer_vlan.map(|v| v.0);
    if base.vlan == vlan {
        return Ok(ingress);
    }
    policy
        .sub_interface(ingress, vlan)
        .ok_or(DropReason::UnknownVlan)
}

/// Choose the egress of an IP packet.
pub(super) fn egress_for(
    policy: &Policy,
    ingress: IfaceId,
    dst: IpAddr,
) -> Result<Egress, DropReason> {
    match &policy.forwarding {
        Forwarding::VirtualWire { peer } => peer
            .get(ingress.index())
            .copied()
            .flatten()
            .map(Egress::Wire)
            .ok_or(DropReason::NoEgress),
        Forwarding::Routed { .. } => policy
            .route(dst)
            .map(|r| Egress::Routed {
                iface: r.interface,
                next_hop: r.next_hop_mac,
            })
            .ok_or(DropReason::NoRoute),
    }
}

/// Choose the egress of a non-IP frame: only a virtual wire carries them.
pub(super) fn egress_non_ip(policy: &Policy, ingress: IfaceId) -> Result<IfaceId, DropReason> {
    match &policy.forwarding {
        Forwarding::VirtualWire { peer } => peer
            .get(ingress.index())
            .copied()
            .flatten()
            .ok_or(DropReason::NoEgress),
        Forwarding::Routed { .. } => Err(DropReason::NonIpRouted),
    }
}

/// Replace the outer tag's VLAN id (TCI at 14..16), keeping PCP and DEI.
fn set_vlan_id(frame: &mut [u8], vlan: u16) {
    if let Some(tci) = frame.get_mut(14..16) {
        let old = u16::from_be_bytes([tci[0], tci[1]]);
        let new = (old & 0xF000) | (vlan & 0x0FFF);
        tci.copy_from_slice(&new.to_be_bytes());
    }
}

/// Apply the egress rewrite to a frame. Routed mode: MACs, VLAN id, TTL (with the IPv4
/// checksum updated incrementally, RFC 1624). Virtual wire: the VLAN id between two
/// sub-interfaces.
pub(super) fn rewrite(
    policy: &Policy,
    frame: &mut [u8],
    summary: &PacketSummary,
    egress: Egress,
) -> Result<(), DropReason> {
    let (iface, next_hop) = match egress {
        Egress::Routed { iface, next_hop } => (iface, next_hop),
        Egress::Wire(iface) => {
            // A wire between two VLAN sub-interfaces (typically of one port) carries the
            // frame onto the peer's VLAN. A wire between a tagged and an untagged
            // interface leaves the frame as it is (no tag push or pop in place).
            let out_vlan = policy.interface(iface).and_then(|i| i.vlan);
            if let (Some(vlan), true) = (out_vlan, summary.l2.outer_vlan.is_some()) {
                set_vlan_id(frame, vlan);
            }
            return Ok(());
        }
    };
    let Some(out) = policy.interface(iface) else {
        return Err(DropReason::NoRoute);
    };
    if summary.hop_limit <= 1 {
        return Err(DropReason::TtlExceeded);
    }
    let tagged = summary.l2.outer_vlan.is_some();
    if tagged != out.vlan.is_some() || summary.l2.inner_vlan.is_some() {
        return Err(DropReason::VlanMismatch);
    }
    if let Some(dst) = frame.get_mut(0..6) {
        dst.copy_from_slice(&next_hop);
    }
    if let Some(src) = frame.get_mut(6..12) {
        src.copy_from_slice(&out.mac);
    }
    if let (Some(vlan), true) = (out.vlan, tagged) {
        set_vlan_id(frame, vlan);
    }
    let l3 = summary.l3_offset as usize;
    match summary.src {
        IpAddr::V4(_) => {
            // TTL at +8, checksum at +10; TTL is the high byte of the 16-bit word at +8.
            let (Some(&ttl), Some(&proto)) = (frame.get(l3 + 8), frame.get(l3 + 9)) else {
                return Err(DropReason::TtlExceeded);
            };
            let old_word = u16::from_be_bytes([ttl, proto]);
            let new_word = u16::from_be_bytes([ttl - 1, proto]);
            if let Some(t) = frame.get_mut(l3 + 8) {
                *t = ttl - 1;
            }
            if let Some(c) = frame.get_mut(l3 + 10..l3 + 12) {
                let old_sum = u16::from_be_bytes([c[0], c[1]]);
                // HC' = ~(~HC + ~m + m')
                let mut sum = u32::from(!old_sum) + u32::from(!old_word) + u32::from(new_word);
                sum = (sum & 0xFFFF) + (sum >> 16);
                sum = (sum & 0xFFFF) + (sum >> 16);
                let new_sum = !(sum as u16);
                c.copy_from_slice(&new_sum.to_be_bytes());
            }
        }
        IpAddr::V6(_) => {
            if let Some(h) = frame.get_mut(l3 + 7) {
                *h -= 1;
            }
        }
    }
    Ok(())
}
