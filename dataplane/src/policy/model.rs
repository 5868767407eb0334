//! The compiled policy's types. Names are indices into the policy's own tables so the
//! fast path never hashes a string.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use super::Prefix;
use crate::ids::{IfaceId, ZoneId, ZoneLink};
use crate::inspect::action::Transport;

/// Index of a zone pair in [`Policy::zone_pairs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ZonePairId(pub u16);

/// Index of a parameter map in [`Policy::parameter_maps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ParamMapId(pub u16);

/// Index of a class (within all policy maps) in [`Policy::class_names`]: a (policy map,
/// class map) pair, so counters can be kept per class as `show policy-map` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ClassId(pub u16);

/// Reserved zone: the engine's own addresses.
pub const SELF_ZONE: ZoneId = ZoneId(u16::MAX);
/// Reserved zone: interfaces without a zone, when a zone pair names it.
pub const DEFAULT_ZONE: ZoneId = ZoneId(u16::MAX - 1);

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
    /// The MAC address used as source when routing out of this interface.
    pub mac: [u8; 6],
}

/// A static route (routed mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Destination network.
    pub prefix: Prefix,
    /// Egress interface.
    pub interface: IfaceId,
    /// The next hop's MAC address (static neighbour).
    pub next_hop_mac: [u8; 6],
}

/// How the egress interface of a packet is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forwarding {
    /// Port pairs: what enters one interface leaves its peer unchanged.
    VirtualWire {
        /// The peer of each interface, indexed by interface.
        peer: Vec<Option<IfaceId>>,
    },
    /// Egress by longest prefix over static routes; MACs rewritten.
    Routed {
        /// Routes, sorted longest prefix first.
        routes: Vec<Route>,
    },
}

/// A zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Its name.
    pub name: String,
}

/// What a class (or `class_default`) does with the first packet of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create a session: return traffic allowed, ALG attached when the protocol has one.
    Inspect,
    /// Forward this direction statelessly.
    Pass,
    /// Drop.
    Drop,
}

/// An application-layer gateway that a protocol match attaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alg {
    /// SIP.
    Sip,
    /// SCCP (Skinny).
    Skinny,
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port (inclusive).
    pub last: u16,
}

impl PortRange {
    /// A single port.
    pub const fn single(port: u16) -> Self {
        PortRange {
            first: port,
            last: port,
        }
    }

    /// Whether `port` is inside.
    #[inline]
    pub fn contains(&self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

/// Whether `port` matches any range (an empty list matches every port).
#[inline]
pub fn ports_match(ranges: &[PortRange], port: u16) -> bool {
    ranges.is_empty() || ranges.iter().any(|r| r.contains(port))
}

/// A protocol as a class map names it: an IP protocol and, for port-based protocols,
/// destination ports (from the port map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolMatch {
    /// The protocol's name (`sip`, `tcp`, `http`, ...).
    pub name: String,
    /// (IP protocol number, destination ports; empty = any) alternatives.
    pub alternatives: Vec<(u8, Vec<PortRange>)>,
    /// The ALG this protocol attaches under `inspect`.
    pub alg: Option<Alg>,
}

/// An access-group match (Cisco's `match access-group`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AccessGroup {
    /// Source networks (empty = any).
    pub src: Vec<Prefix>,
    /// Destination networks (empty = any).
    pub dst: Vec<Prefix>,
    /// IP protocol number (None = any).
    pub proto: Option<u8>,
    /// Source ports (empty = any).
    pub src_ports: Vec<PortRange>,
    /// Destination ports (empty = any).
    pub dst_ports: Vec<PortRange>,
}

/// One rule of a class map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchRule {
    /// `match protocol NAME`.
    Protocol(ProtocolMatch),
    /// `match access-group`.
    AccessGroup(AccessGroup),
}

/// A class map: rules combined with `match-any` or `match-all`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassMap {
    /// Its name.
    pub name: String,
    /// `match-all` (every rule) rather than `match-any`.
    pub match_all: bool,
    /// Its rules.
    pub rules: Vec<MatchRule>,
}

/// A class inside a policy map, compiled: the class map inline, its action and parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyClass {
    /// This class's id (for counters).
    pub id: ClassId,
    /// The class map's name (for reports).
    pub name: String,
    /// The class map.
    pub class_map: ClassMap,
    /// Its action.
    pub action: Action,
    /// Parameter map applied to sessions it creates.
    pub parameter_map: ParamMapId,
    /// Log matches (audit).
    pub log: bool,
}

/// A policy map (`policy-map type inspect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyMap {
    /// Its name.
    pub name: String,
    /// Classes, evaluated in order; the first that matches decides.
    pub classes: Vec<PolicyClass>,
    /// What `class-default` does.
    pub class_default: Action,
    /// Counter id of class-default.
    pub class_default_id: ClassId,
}

/// A zone pair (`zone-pair security`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZonePair {
    /// Its name.
    pub name: String,
    /// Source zone.
    pub source: ZoneId,
    /// Destination zone.
    pub destination: ZoneId,
    /// Index of its service policy in [`Policy::policy_maps`].
    pub policy_map: usize,
}

/// Where media admitted by a pinhole may come from (per zone pair, reference 13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaSource {
    /// From the address the other party announced in its SDP (the default).
    #[default]
    Announced,
    /// From the signalling peer's address.
    SignallingPeer,
    /// From the same /24 (IPv4) or /64 (IPv6) as the announced address.
    SamePrefix,
    /// From anywhere.
    Any,
}

/// Session timeouts (`parameter-map type inspect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Half-open TCP (SYN seen, no handshake).
    pub tcp_syn: Duration,
    /// Established TCP idle.
    pub tcp_established: Duration,
    /// TCP after FIN or RST.
    pub tcp_fin: Duration,
    /// UDP idle.
    pub udp: Duration,
    /// ICMP idle.
    pub icmp: Duration,
    /// Media (pinhole-created) idle.
    pub media_inactivity: Duration,
    /// Maximum call duration for ALG-created state.
    pub max_call_duration: Duration,
}

impl Default for Timeouts {
    /// The session table's defaults ([`crate::session::Timeouts::default`]), plus the
    /// media and call limits only a parameter map has.
    fn default() -> Self {
        let session = crate::session::Timeouts::default();
        Timeouts {
            tcp_syn: session.tcp_syn,
            tcp_established: session.tcp_established,
            tcp_fin: session.tcp_fin,
            udp: session.udp,
            icmp: session.icmp,
            media_inactivity: Duration::from_secs(120),
            max_call_duration: Duration::from_secs(12 * 3600),
        }
    }
}

/// A parameter map (`parameter-map type inspect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterMap {
    /// Its name (`default` for the built-in one).
    pub name: String,
    /// Emit alerts (limit hits, ALG anomalies).
    pub alert: bool,
    /// Emit session start/end audit records.
    pub audit_trail: bool,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Maximum half-open TCP sessions (None = unlimited).
    pub max_incomplete: Option<u32>,
    /// Maximum sessions created under this map (None = unlimited).
    pub max_sessions: Option<u32>,
    /// Where pinhole media may come from.
    pub media_source: MediaSource,
    /// The Skinny inspection profile.
    pub skinny: crate::inspect::sccp::SkinnyConfig,
    /// The SIP inspect profile (conformance and application security), if one is named.
    pub sip_profile: Option<std::sync::Arc<crate::inspect::sip::SipProfile>>,
}

impl Default for ParameterMap {
    fn default() -> Self {
        ParameterMap {
            name: "default".into(),
            alert: true,
            audit_trail: false,
            timeouts: Timeouts::default(),
            max_incomplete: None,
            max_sessions: None,
            media_source: MediaSource::default(),
            skinny: crate::inspect::sccp::SkinnyConfig::default(),
            sip_profile: None,
        }
    }
}

/// Which ports a protocol name means per transport (Cisco's `ip port-map`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapEntry {
    /// Protocol name.
    pub protocol: String,
    /// Transport.
    pub transport: Transport,
    /// Ports.
    pub ports: Vec<PortRange>,
}

/// Session-table settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionSettings {
    /// Sessions each worker's shard holds at most.
    pub capacity_per_worker: u32,
    /// Pick up TCP connections established before the engine saw them.
    pub midstream_pickup: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            capacity_per_worker: 1 << 20,
            midstream_pickup: false,
        }
    }
}

/// The interfaces sharing one port, each with its VLAN (`None`: untagged).
pub type PortSiblings = Box<[(Option<u16>, IfaceId)]>;

/// The immutable, compiled policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Monotonic version, bumped by every publish.
    pub version: u64,
    /// Interfaces, indexed by [`IfaceId`].
    pub interfaces: Vec<Interface>,
    /// Forwarding mode and tables.
    pub forwarding: Forwarding,
    /// User zones, indexed by [`ZoneId`] (reserved zones are not in this list).
    pub zones: Vec<Zone>,
    /// Zone pairs.
    pub zone_pairs: Vec<ZonePair>,
    /// Policy maps.
    pub policy_maps: Vec<PolicyMap>,
    /// Parameter maps; index 0 is the built-in `default`.
    pub parameter_maps: Vec<ParameterMap>,
    /// Names of every class id (policy map / class), for counters.
    pub class_names: Vec<String>,
    /// The port map (after defaults).
    pub port_map: Vec<PortMapEntry>,
    /// Session-table settings.
    pub sessions: SessionSettings,
    /// Whether any zone pair names the `default` zone (unzoned interfaces join it).
    pub uses_default_zone: bool,
    /// Zone pair lookup: `[source slot][destination slot]`, slots from [`Policy::zone_slot`].
    pub zone_pair_matrix: Vec<Option<ZonePairId>>,
    /// Per interface, every interface on the same port with its VLAN (itself included):
    /// a tagged frame finds its sub-interface without comparing port names.
    pub port_siblings: Vec<PortSiblings>,
}

impl Policy {
    /// A policy with interfaces and forwarding only: no zones, so everything passes
    /// (unzoned to unzoned) — the virtual wire of the foundation.
    pub fn forwarding_only(interfaces: Vec<Interface>, forwarding: Forwarding) -> Policy {
        let mut p = Policy {
            version: 1,
            interfaces,
            forwarding,
            zones: Vec::new(),
            zone_pairs: Vec::new(),
            policy_maps: Vec::new(),
            parameter_maps: vec![ParameterMap::default()],
            class_names: Vec::new(),
            port_map: Vec::new(),
            sessions: SessionSettings::default(),
            uses_default_zone: false,
            zone_pair_matrix: Vec::new(),
            port_siblings: Vec::new(),
        };
        p.rebuild_indexes();
        p
    }

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

    /// The parameter map with this id (the built-in default when out of range).
    pub fn parameter_map(&self, id: ParamMapId) -> &ParameterMap {
        self.parameter_maps
            .get(usize::from(id.0))
            .or_else(|| self.parameter_maps.first())
            .unwrap_or(&FALLBACK_PARAMETER_MAP)
    }

    /// The id of the parameter map named `name`, `hint` when that map still has the
    /// name (the usual case: maps are positional and pushes rarely move them), the
    /// built-in default when no map has it.
    pub fn param_map_named(&self, hint: ParamMapId, name: &str) -> ParamMapId {
        if self
            .parameter_maps
            .get(usize::from(hint.0))
            .is_some_and(|m| m.name == name)
        {
            return hint;
        }
        self.parameter_maps
            .iter()
            .position(|m| m.name == name)
            .and_then(|i| u16::try_from(i).ok())
            .map_or(ParamMapId(0), ParamMapId)
    }

    /// Name of a zone id, reserved zones included.
    pub fn zone_name(&self, zone: ZoneId) -> &str {
        match zone {
            SELF_ZONE => "self",
            DEFAULT_ZONE => "default",
            z => self
                .zones
                .get(z.index())
                .map(|z| z.name.as_str())
                .unwrap_or("?"),
        }
    }

    /// The zone link of zone pair `id` (both its directions share it).
    pub fn zone_link(&self, id: ZonePairId) -> ZoneLink {
        self.zone_pairs
            .get(usize::from(id.0))
            .map_or(ZoneLink::UNZONED, |zp| {
                ZoneLink::between(self.zone_name(zp.source), self.zone_name(zp.destination))
            })
    }

    /// Dense slot of a zone in the zone-pair matrix.
    pub fn zone_slot(&self, zone: ZoneId) -> usize {
        match zone {
            DEFAULT_ZONE => self.zones.len(),
            SELF_ZONE => self.zones.len() + 1,
            z => z.index(),
        }
    }

    /// The zone pair from `src` to `dst`, if configured.
    #[inline]
    pub fn zone_pair(&self, src: ZoneId, dst: ZoneId) -> Option<ZonePairId> {
        let n = self.zones.len() + 2;
        let (s, d) = (self.zone_slot(src), self.zone_slot(dst));
        if s >= n || d >= n {
            return None;
        }
        self.zone_pair_matrix.get(s * n + d).copied().flatten()
    }

    /// The interface on `iface`'s port that carries `vlan` (`None`: untagged).
    #[inline]
    pub fn sub_interface(&self, iface: IfaceId, vlan: Option<u16>) -> Option<IfaceId> {
        self.port_siblings
            .get(iface.index())?
            .iter()
            .find(|(v, _)| *v == vlan)
            .map(|&(_, id)| id)
    }

    /// Recompute every derived lookup (zone-pair matrix, reserved-zone flags, port
    /// siblings) after the interfaces or zone pairs changed.
    pub fn rebuild_indexes(&mut self) {
        self.rebuild_zone_pair_matrix();
        self.port_siblings = self
            .interfaces
            .iter()
            .map(|me| {
                self.interfaces
                    .iter()
                    .enumerate()
                    .filter(|(_, other)| other.port == me.port)
                    .filter_map(|(i, other)| Some((other.vlan, IfaceId(u16::try_from(i).ok()?))))
                    .collect()
            })
            .collect();
    }

    /// Recompute the zone-pair matrix and the reserved-zone flags from `zone_pairs`.
    fn rebuild_zone_pair_matrix(&mut self) {
        let n = self.zones.len() + 2;
        let mut m = vec![None; n * n];
        self.uses_default_zone = false;
        for (i, zp) in self.zone_pairs.iter().enumerate() {
            for z in [zp.source, zp.destination] {
                self.uses_default_zone |= z == DEFAULT_ZONE;
            }
            let (s, d) = (self.zone_slot(zp.source), self.zone_slot(zp.destination));
            if let (Some(slot), Ok(id)) = (m.get_mut(s * n + d), u16::try_from(i)) {
                *slot = Some(ZonePairId(id));
            }
        }
        self.zone_pair_matrix = m;
    }
}

static FALLBACK_PARAMETER_MAP: std::sync::LazyLock<ParameterMap> =
    std::sync::LazyLock::new(ParameterMap::default);

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, port: &str, vlan: Option<u16>) -> Interface {
        Interface {
            name: name.into(),
            port: port.into(),
            vlan,
            zone: None,
            prefixes: Vec::new(),
            addresses: Vec::new(),
            mac: [0; 6],
        }
    }

    #[test]
    fn a_tag_finds_its_sub_interface_on_the_same_port_only() {
        let p = Policy::forwarding_only(
            vec![
                iface("a", "p0", None),
                iface("a10", "p0", Some(10)),
                iface("b10", "p1", Some(10)),
                iface("b", "p1", None),
            ],
            Forwarding::VirtualWire {
                peer: vec![None; 4],
            },
        );
        assert_eq!(p.sub_interface(IfaceId(0), Some(10)), Some(IfaceId(1)));
        assert_eq!(p.sub_interface(IfaceId(1), None), Some(IfaceId(0)));
        assert_eq!(p.sub_interface(IfaceId(3), Some(10)), Some(IfaceId(2)));
        assert_eq!(p.sub_interface(IfaceId(0), Some(20)), None);
        assert_eq!(p.sub_interface(IfaceId(9), None), None);
    }
}
