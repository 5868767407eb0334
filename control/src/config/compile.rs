//! Compilation of a validated configuration into the immutable policy workers read:
//! names become indices, protocols become (IP protocol, ports) alternatives with the
//! port map applied, timeouts become durations.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use pinhole_dataplane::ids::{IfaceId, ZoneId};
use pinhole_dataplane::inspect::action::Transport;
use pinhole_dataplane::inspect::sccp::SkinnyConfig;
use pinhole_dataplane::inspect::sip::{
    BlockPolicy, ProfileRule, RateLimit, RuleAction, RuleActions, SipProfile,
};
use pinhole_dataplane::policy::{
    AccessGroup, Action, ClassId, ClassMap, Forwarding, Interface, MatchRule, MediaSource,
    ParamMapId, ParameterMap, Policy, PolicyClass, PolicyMap, PortMapEntry, PortRange, Prefix,
    ProtocolMatch, Route, SessionSettings, Timeouts, Zone, ZonePair, DEFAULT_ZONE, SELF_ZONE,
};

use super::model::*;
use super::protocols::{builtin_protocol, ip_protocol_number, TCP, UDP};
use super::validate::{parse_mac, parse_port_spec};

/// Compile a configuration (which must have passed [`super::validate`]) into a policy
/// with the given version. Anything unresolvable is skipped rather than panicking.
pub fn compile(c: &Config, version: u64) -> Policy {
    let zones: Vec<Zone> = c
        .zones
        .iter()
        .map(|z| Zone {
            name: z.name.clone(),
        })
        .collect();
    let zone_id = |name: &str| -> Option<ZoneId> {
        match name {
            "self" => Some(SELF_ZONE),
            "default" => Some(DEFAULT_ZONE),
            n => zones
                .iter()
                .position(|z| z.name == n)
                .and_then(|i| u16::try_from(i).ok())
                .map(ZoneId),
        }
    };

    let interfaces: Vec<Interface> = c
        .interfaces
        .iter()
        .enumerate()
        .map(|(i, itf)| Interface {
            name: itf.name.clone(),
            port: itf.port.clone(),
            vlan: itf.vlan,
            zone: itf.zone.as_deref().and_then(zone_id),
            prefixes: itf.prefixes.iter().filter_map(|p| p.parse().ok()).collect(),
            addresses: itf
                .addresses
                .iter()
                .filter_map(|a| a.parse::<IpAddr>().ok())
                .collect(),
            mac: itf.mac.as_deref().and_then(parse_mac).unwrap_or([
                0x02,
                0,
                0,
                0,
                0,
                u8::try_from(i + 1).unwrap_or(0xff),
            ]),
        })
        .collect();
    let iface_id = |name: &str| {
        interfaces
            .iter()
            .position(|i| i.name == name)
            .and_then(|i| u16::try_from(i).ok())
            .map(IfaceId)
    };

    let forwarding = match &c.forwarding {
        ForwardingConfig::VirtualWire { pairs } => {
            let mut peer = vec![None; interfaces.len()];
            for [a, b] in pairs {
                if let (Some(a), Some(b)) = (iface_id(a), iface_id(b)) {
                    if let Some(p) = peer.get_mut(a.index()) {
                        *p = Some(b);
                    }
                    if let Some(p) = peer.get_mut(b.index()) {
                        *p = Some(a);
                    }
                }
            }
            Forwarding::VirtualWire { peer }
        }
        ForwardingConfig::Routed { routes } => {
            let mut routes: Vec<Route> = routes
                .iter()
                .filter_map(|r| {
                    Some(Route {
                        prefix: r.prefix.parse().ok()?,
                        interface: iface_id(&r.interface)?,
                        next_hop_mac: parse_mac(&r.next_hop_mac)?,
                    })
                })
                .collect();
            routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len));
            Forwarding::Routed { routes }
        }
    };

    let port_map = port_map_entries(c);

    let sip_profiles: HashMap<&str, Arc<SipProfile>> = c
        .sip_profiles
        .iter()
        .map(|p| (p.name.as_str(), Arc::new(sip_profile(p))))
        .collect();
    let mut parameter_maps = vec![ParameterMap::default()];
    parameter_maps.extend(c.parameter_maps.iter().map(|m| {
        let mut compiled = parameter_map(m);
        compiled.sip_profile = m
            .sip_profile
            .as_deref()
            .and_then(|name| sip_profiles.get(name))
            .cloned();
        compiled
    }));
    let param_id = |name: Option<&str>| match name {
        None | Some("default") => ParamMapId(0),
        Some(n) => c
            .parameter_maps
            .iter()
            .position(|m| m.name == n)
            .and_then(|i| u16::try_from(i + 1).ok())
            .map(ParamMapId)
            .unwrap_or(ParamMapId(0)),
    };

    let mut class_names = Vec::new();
    let mut next_class = |name: String| {
        let id = ClassId(u16::try_from(class_names.len()).unwrap_or(u16::MAX));
        class_names.push(name);
        id
    };
    let policy_maps: Vec<PolicyMap> = c
        .policy_maps
        .iter()
        .map(|pm| {
            let classes = pm
                .classes
                .iter()
                .filter_map(|cl| {
                    let cm = c.class_maps.iter().find(|m| m.name == cl.class)?;
                    Some(PolicyClass {
                        id: next_class(format!("{}/{}", pm.name, cl.class)),
                        name: cl.class.clone(),
                        class_map: class_map(cm, &port_map),
                        action: match cl.action {
                            ActionName::Inspect => Action::Inspect,
                            ActionName::Pass => Action::Pass,
                            ActionName::Drop => Action::Drop,
                        },
                        parameter_map: param_id(cl.parameter_map.as_deref()),
                        log: cl.log,
                    })
                })
                .collect();
            PolicyMap {
                name: pm.name.clone(),
                classes,
                class_default: match pm.class_default {
                    DefaultActionName::Drop => Action::Drop,
                    DefaultActionName::Pass => Action::Pass,
                },
                class_default_id: next_class(format!("{}/class-default", pm.name)),
            }
        })
        .collect();

    let zone_pairs = c
        .zone_pairs
        .iter()
        .filter_map(|zp| {
            Some(ZonePair {
                name: zp.name.clone(),
                source: zone_id(&zp.source)?,
                destination: zone_id(&zp.destination)?,
                policy_map: c
                    .policy_maps
                    .iter()
                    .position(|m| m.name == zp.service_policy)?,
            })
        })
        .collect();

    let mut policy = Policy {
        version,
        interfaces,
        forwarding,
        zones,
        zone_pairs,
        policy_maps,
        parameter_maps,
        class_names,
        port_map,
        sessions: SessionSettings {
            capacity_per_worker: c.sessions.capacity_per_worker,
            midstream_pickup: c.sessions.midstream_pickup,
        },
        uses_default_zone: false,
        zone_pair_matrix: Vec::new(),
        port_siblings: Vec::new(),
    };
    policy.rebuild_indexes();
    policy
}

fn ranges(ports: &[PortSpec]) -> Vec<PortRange> {
    ports
        .iter()
        .filter_map(|p| parse_port_spec(p).ok())
        .map(|(first, last)| PortRange { first, last })
        .collect()
}

/// The effective port map: built-in application ports, with each configured entry
/// replacing the built-in ports of its (protocol, transport).
fn port_map_entries(c: &Config) -> Vec<PortMapEntry> {
    let mut map: HashMap<(String, Transport), Vec<PortRange>> = HashMap::new();
    for b in super::protocols::BUILTIN_PROTOCOLS {
        for (proto, ports) in b.ports {
            let transport = match *proto {
                TCP => Transport::Tcp,
                UDP => Transport::Udp,
                _ => continue,
            };
            if ports.is_empty() {
                continue;
            }
            map.insert(
                (b.name.to_string(), transport),
                ports.iter().map(|p| PortRange::single(*p)).collect(),
            );
        }
    }
    for e in &c.port_map {
        let t = match e.transport {
            TransportName::Udp => Transport::Udp,
            TransportName::Tcp => Transport::Tcp,
        };
        map.insert((e.protocol.clone(), t), ranges(&e.ports));
    }
    let mut entries: Vec<PortMapEntry> = map
        .into_iter()
        .map(|((protocol, transport), ports)| PortMapEntry {
            protocol,
            transport,
            ports,
        })
        .collect();
    entries.sort_by(|a, b| {
        a.protocol
            .cmp(&b.protocol)
            .then((a.transport as u8).cmp(&(b.transport as u8)))
    });
    entries
}

fn protocol_match(name: &str, port_map: &[PortMapEntry]) -> ProtocolMatch {
    let builtin = builtin_protocol(name);
    let mut alternatives: Vec<(u8, Vec<PortRange>)> = port_map
        .iter()
        .filter(|e| e.protocol == name)
        .map(|e| {
            let proto = match e.transport {
                Transport::Tcp => TCP,
                Transport::Udp => UDP,
            };
            (proto, e.ports.clone())
        })
        .collect();
    if let Some(b) = builtin {
        // Port-less built-ins (tcp, udp, icmp) are not in the port map.
        for (proto, ports) in b.ports {
            if ports.is_empty() {
                alternatives.push((*proto, Vec::new()));
            }
        }
    }
    ProtocolMatch {
        name: name.to_string(),
        alternatives,
        alg: builtin.and_then(|b| b.alg),
    }
}

fn class_map(cm: &ClassMapConfig, port_map: &[PortMapEntry]) -> ClassMap {
    let rules = cm
        .rules
        .iter()
        .filter_map(|r| match (&r.protocol, &r.access_group) {
            (Some(p), _) => Some(MatchRule::Protocol(protocol_match(p, port_map))),
            (None, Some(ag)) => Some(MatchRule::AccessGroup(access_group(ag))),
            (None, None) => None,
        })
        .collect();
    ClassMap {
        name: cm.name.clone(),
        match_all: cm.match_kind == MatchKind::All,
        rules,
    }
}

fn access_group(ag: &AccessGroupConfig) -> AccessGroup {
    let nets = |n: &Option<OneOrMany<String>>| -> Vec<Prefix> {
        n.iter()
            .flat_map(|n| n.as_slice())
            .filter_map(|s| s.parse().ok())
            .collect()
    };
    AccessGroup {
        src: nets(&ag.src),
        dst: nets(&ag.dst),
        proto: match &ag.proto {
            Some(ProtoSpec::Number(n)) => Some(*n),
            Some(ProtoSpec::Name(n)) => ip_protocol_number(n),
            None => None,
        },
        src_ports: ranges(&ag.src_ports),
        dst_ports: ranges(&ag.dst_ports),
    }
}

fn parameter_map(m: &ParameterMapConfig) -> ParameterMap {
    let d = Timeouts::default();
    let secs = |v: Option<u64>, default: Duration| v.map(Duration::from_secs).unwrap_or(default);
    let t = &m.timeouts;
    ParameterMap {
        name: m.name.clone(),
        alert: m.alert,
        audit_trail: m.audit_trail,
        timeouts: Timeouts {
            tcp_syn: secs(t.tcp_syn, d.tcp_syn),
            tcp_established: secs(t.tcp_established, d.tcp_established),
            tcp_fin: secs(t.tcp_fin, d.tcp_fin),
            udp: secs(t.udp, d.udp),
            icmp: secs(t.icmp, d.icmp),
            media_inactivity: secs(t.media_inactivity, d.media_inactivity),
            max_call_duration: secs(t.max_call_duration, d.max_call_duration),
        },
        max_incomplete: m.max_incomplete,
        max_sessions: m.max_sessions,
        media_source: match m.media_source {
            MediaSourceName::Announced => MediaSource::Announced,
            MediaSourceName::SignallingPeer => MediaSource::SignallingPeer,
            MediaSourceName::SamePrefix => MediaSource::SamePrefix,
            MediaSourceName::Any => MediaSource::Any,
        },
        skinny: SkinnyConfig {
            max_data_length: m.skinny.max_data_length,
            strict: m.skinny.strict,
            enforce_registration: m.skinny.enforce_registration,
            calls_per_second: m.skinny.calls_per_second,
            max_pinholes_per_station: m.skinny.max_pinholes_per_station,
            ..SkinnyConfig::default()
        },
        sip_profile: None,
    }
}

fn bytes_list(items: &[String]) -> Vec<Box<[u8]>> {
    items.iter().map(|s| s.as_bytes().into()).collect()
}

fn sip_profile(p: &SipProfileConfig) -> SipProfile {
    let mut actions = RuleActions::default();
    for (name, action) in &p.actions {
        if let Some(rule) = ProfileRule::from_name(name) {
            actions.set(
                rule,
                match action {
                    RuleActionName::Forward => RuleAction::Forward,
                    RuleActionName::Drop => RuleAction::Drop,
                },
            );
        }
    }
    SipProfile {
        name: p.name.clone(),
        max_message_size: usize::try_from(p.max_message_size).unwrap_or(usize::MAX),
        max_line_size: usize::try_from(p.max_line_size).unwrap_or(usize::MAX),
        min_max_forwards: p.min_max_forwards,
        allow_methods: bytes_list(&p.allow_methods),
        deny_methods: bytes_list(&p.deny_methods),
        deny_users: bytes_list(&p.deny_users),
        deny_domains: bytes_list(&p.deny_domains),
        rate_limits: p
            .rate_limits
            .iter()
            .map(|r| RateLimit {
                method: r.method.as_bytes().into(),
                per_second: r.per_second,
                burst: r.burst.unwrap_or(r.per_second),
            })
            .collect(),
        max_sources: usize::try_from(p.max_sources).unwrap_or(usize::MAX),
        max_dialogs: p.max_dialogs,
        max_pinholes_per_call: p.max_pinholes_per_call,
        block: p.block.as_ref().map(|b| BlockPolicy {
            rejected_invites: b.rejected_invites,
            window: Duration::from_secs(b.window),
            duration: Duration::from_secs(b.duration),
            count_challenges: b.count_challenges,
        }),
        actions,
    }
}
