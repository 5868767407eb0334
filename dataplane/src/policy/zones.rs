//! Zone semantics: which zone pair (if any) judges a flow between two interfaces.
//!
//! The rules are Cisco's zone-based policy firewall's:
//! - between two unzoned interfaces traffic passes;
//! - between a zoned and an unzoned interface it is dropped (unless a zone pair names
//!   the reserved `default` zone, which unzoned interfaces then join);
//! - within one zone it passes unless a zone pair from that zone to itself exists;
//! - between two zones it needs a zone pair, else it is dropped;
//! - traffic from or to the engine's own addresses is in the `self` zone; where no zone
//!   pair covers a `self` direction, that direction passes (Cisco's self-zone exception).

use std::net::IpAddr;

use super::model::{Policy, ZonePairId, DEFAULT_ZONE, SELF_ZONE};
use crate::ids::{IfaceId, ZoneId};

/// The outcome of zone resolution for a new flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneResolution {
    /// No zone pair applies and the rules let it through.
    Pass,
    /// This zone pair's service policy decides.
    Policy(ZonePairId),
    /// Between a zoned and an unzoned interface.
    DropZonedUnzoned,
    /// Between two zones without a zone pair.
    DropNoZonePair,
}

impl Policy {
    /// Whether `ip` is one of the engine's own addresses.
    pub fn is_own_address(&self, ip: IpAddr) -> bool {
        self.interfaces.iter().any(|i| i.addresses.contains(&ip))
    }

    /// The zone of an interface for zone-pair purposes (`None`: unzoned and no
    /// zone pair uses `default`).
    fn interface_zone(&self, iface: IfaceId) -> Option<ZoneId> {
        match self.interface(iface).and_then(|i| i.zone) {
            Some(z) => Some(z),
            None if self.uses_default_zone => Some(DEFAULT_ZONE),
            None => None,
        }
    }

    /// Source and destination zones of a flow (`self` for the engine's own addresses).
    pub fn flow_zones(
        &self,
        ingress: IfaceId,
        egress: IfaceId,
        src: IpAddr,
        dst: IpAddr,
    ) -> (Option<ZoneId>, Option<ZoneId>) {
        let from = if self.is_own_address(src) {
            Some(SELF_ZONE)
        } else {
            self.interface_zone(ingress)
        };
        let to = if self.is_own_address(dst) {
            Some(SELF_ZONE)
        } else {
            self.interface_zone(egress)
        };
        (from, to)
    }

    /// Resolve the zone rules for a new flow.
    pub fn resolve_zones(
        &self,
        ingress: IfaceId,
        egress: IfaceId,
        src: IpAddr,
        dst: IpAddr,
    ) -> ZoneResolution {
        let (from, to) = self.flow_zones(ingress, egress, src, dst);
        match (from, to) {
            (Some(f), Some(t)) if f == SELF_ZONE || t == SELF_ZONE => match self.zone_pair(f, t) {
                Some(zp) => ZoneResolution::Policy(zp),
                None => ZoneResolution::Pass,
            },
            (Some(SELF_ZONE), None) | (None, Some(SELF_ZONE)) => ZoneResolution::Pass,
            (None, None) => ZoneResolution::Pass,
            (Some(_), None) | (None, Some(_)) => ZoneResolution::DropZonedUnzoned,
            (Some(f), Some(t)) => match self.zone_pair(f, t) {
                Some(zp) => ZoneResolution::Policy(zp),
                None if f == t => ZoneResolution::Pass,
                None => ZoneResolution::DropNoZonePair,
            },
        }
    }
}
