//! Which DPDK ports the policy uses, and how interfaces map onto them.

use crate::ids::IfaceId;
use crate::policy::Policy;

/// One port the engine drives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSlot {
    /// The DPDK device name.
    pub device: String,
    /// The first interface (config order) on this port, for error messages.
    pub first_iface: usize,
    /// The interface packets received on this port enter the pipeline on: the untagged
    /// one, else the port's first VLAN sub-interface (the pipeline resolves the frame's
    /// tag to its sub-interface either way, so a trunk of sub-interfaces alone works).
    pub ingress: Option<IfaceId>,
}

/// The ports of a policy and the interface → port mapping, in first-use order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMap {
    /// The ports, indexed by slot.
    pub slots: Vec<PortSlot>,
    /// For each interface (by index), the slot of its port.
    pub egress_slot: Vec<usize>,
}

impl PortMap {
    /// Derive the ports from the policy's interfaces.
    pub fn from_policy(policy: &Policy) -> PortMap {
        let mut slots: Vec<PortSlot> = Vec::new();
        let mut egress_slot = Vec::with_capacity(policy.interfaces.len());
        for (i, iface) in policy.interfaces.iter().enumerate() {
            let slot = match slots.iter().position(|s| s.device == iface.port) {
                Some(slot) => slot,
                None => {
                    slots.push(PortSlot {
                        device: iface.port.clone(),
                        first_iface: i,
                        ingress: None,
                    });
                    slots.len() - 1
                }
            };
            if let (Some(s), Ok(id)) = (slots.get_mut(slot), u16::try_from(i)) {
                let untagged_known = s
                    .ingress
                    .and_then(|known| policy.interface(known))
                    .is_some_and(|known| known.vlan.is_none());
                if s.ingress.is_none() || (iface.vlan.is_none() && !untagged_known) {
                    s.ingress = Some(IfaceId(id));
                }
            }
            egress_slot.push(slot);
        }
        PortMap { slots, egress_slot }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Forwarding, Interface};

    fn iface(name: &str, port: &str, vlan: Option<u16>) -> Interface {
        Interface {
            name: name.into(),
            port: port.into(),
            vlan,
            zone: None,
            prefixes: vec![],
            addresses: vec![],
            mac: [0; 6],
        }
    }

    #[test]
    fn ports_are_deduplicated_and_ingress_is_the_untagged_interface_else_the_first() {
        let policy = Policy::forwarding_only(
            vec![
                iface("v10", "net_ring0", Some(10)),
                iface("inside", "net_ring0", None),
                iface("outside", "net_ring1", None),
                iface("v20", "net_ring2", Some(20)),
            ],
            Forwarding::VirtualWire {
                peer: vec![None, Some(IfaceId(2)), Some(IfaceId(1)), None],
            },
        );
        let map = PortMap::from_policy(&policy);
        let devices: Vec<_> = map.slots.iter().map(|s| s.device.as_str()).collect();
        assert_eq!(devices, ["net_ring0", "net_ring1", "net_ring2"]);
        let ingress: Vec<_> = map.slots.iter().map(|s| s.ingress).collect();
        // net_ring2 has only a sub-interface: its frames enter there and the tag decides.
        assert_eq!(
            ingress,
            [Some(IfaceId(1)), Some(IfaceId(2)), Some(IfaceId(3))]
        );
        assert_eq!(
            map.slots.iter().map(|s| s.first_iface).collect::<Vec<_>>(),
            [0, 2, 3]
        );
        assert_eq!(map.egress_slot, [0, 0, 1, 2]);
    }
}
