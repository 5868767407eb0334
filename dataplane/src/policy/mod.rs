//! The compiled policy: an immutable value built by the control plane from the
//! configuration and published to the workers with an atomic pointer swap.
//!
//! Workers load it once per burst; no packet is judged by a mix of two policies.

use std::net::IpAddr;

use crate::ids::{IfaceId, ZoneId};

/// An IP network (address and prefix length), IPv4 or IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// The network address (host bits may be set; they are ignored when matching).
    pub addr: IpAddr,
    /// The prefix length in bits.
    pub len: u8,
}

impl Prefix {
    /// Whether `ip` lies inside this prefix (an IPv4 address never matches an IPv6 prefix).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let len = u32::from(self.len.min(32));
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                (u32::from(net) & mask) == (u32::from(ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let len = u32::from(self.len.min(128));
                let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

/// One interface: a DPDK port, optionally a VLAN on it, and its place in the zone model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// The operator's name for it.
    pub name: String,
    /// The DPDK device name of the port it lives on (PCI address or vdev name).
    pub port: String,
    /// The 802.1Q VLAN id, when the interface is a VLAN sub-interface.
    pub vlan: Option<u16>,
    /// The security zone it belongs to; `None` is an unzoned interface.
    pub zone: Option<ZoneId>,
    /// Networks reached through this interface.
    pub prefixes: Vec<Prefix>,
    /// The engine's own addresses on this interface (the `self` zone).
    pub addresses: Vec<IpAddr>,
}

/// How the egress interface of a packet is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forwarding {
    /// Port pairs: what enters one interface leaves its peer unchanged.
    /// Indexed by ingress interface; `None` for an interface without a peer.
    VirtualWire {
        /// The peer of each interface.
        peer: Vec<Option<IfaceId>>,
    },
}

/// The immutable, compiled policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Monotonic version, bumped by every publish.
    pub version: u64,
    /// Interfaces, indexed by [`IfaceId`].
    pub interfaces: Vec<Interface>,
    /// Forwarding mode and tables.
    pub forwarding: Forwarding,
}

impl Policy {
    /// The interface with this id, if it exists.
    pub fn interface(&self, id: IfaceId) -> Option<&Interface> {
        self.interfaces.get(id.index())
    }

    /// The interface named `name`.
    pub fn interface_by_name(&self, name: &str) -> Option<IfaceId> {
        self.interfaces
            .iter()
            .position(|i| i.name == name)
            .and_then(|i| u16::try_from(i).ok())
            .map(IfaceId)
    }
}
