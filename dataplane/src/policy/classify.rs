//! Class matching: the first class of a zone pair's policy map that matches a new flow
//! decides its action (`class-default` otherwise).

use std::net::IpAddr;

use super::model::{
    ports_match, AccessGroup, Action, Alg, ClassId, ClassMap, MatchRule, ParamMapId, Policy,
    ProtocolMatch, ZonePairId,
};

/// The flow fields classification looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassMatch {
    /// IP protocol number.
    pub proto: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port (0 when the protocol has none).
    pub src_port: u16,
    /// Destination port (0 when the protocol has none).
    pub dst_port: u16,
}

/// What the policy decided for a new flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyDecision {
    /// The class that matched (or class-default's id).
    pub class: ClassId,
    /// Its action.
    pub action: Action,
    /// Parameter map for a session it creates.
    pub parameter_map: ParamMapId,
    /// The ALG to attach under `inspect`.
    pub alg: Option<Alg>,
    /// Whether to log.
    pub log: bool,
}

impl ProtocolMatch {
    fn matches(&self, f: &ClassMatch) -> bool {
        self.alternatives
            .iter()
            .any(|(proto, ports)| *proto == f.proto && ports_match(ports, f.dst_port))
    }
}

impl AccessGroup {
    fn matches(&self, f: &ClassMatch) -> bool {
        (self.src.is_empty() || self.src.iter().any(|p| p.contains(f.src)))
            && (self.dst.is_empty() || self.dst.iter().any(|p| p.contains(f.dst)))
            && self.proto.is_none_or(|p| p == f.proto)
            && ports_match(&self.src_ports, f.src_port)
            && ports_match(&self.dst_ports, f.dst_port)
    }
}

impl MatchRule {
    /// Whether the rule matches, and the ALG it attaches if it is a protocol rule.
    fn check(&self, f: &ClassMatch) -> (bool, Option<Alg>) {
        match self {
            MatchRule::Protocol(p) => {
                let m = p.matches(f);
                (m, if m { p.alg } else { None })
            }
            MatchRule::AccessGroup(a) => (a.matches(f), None),
        }
    }
}

impl ClassMap {
    /// Whether the class map matches, and the ALG it attaches.
    pub fn matches(&self, f: &ClassMatch) -> Option<Option<Alg>> {
        let mut alg = None;
        if self.match_all {
            for r in &self.rules {
                let (m, a) = r.check(f);
                if !m {
                    return None;
                }
                alg = alg.or(a);
            }
            (!self.rules.is_empty()).then_some(alg)
        } else {
            self.rules.iter().find_map(|r| {
                let (m, a) = r.check(f);
                m.then_some(a)
            })
        }
    }
}

impl Policy {
    /// Classify a new flow under a zone pair's service policy.
    pub fn classify(&self, zone_pair: ZonePairId, f: &ClassMatch) -> Option<PolicyDecision> {
        let zp = self.zone_pairs.get(usize::from(zone_pair.0))?;
        let pm = self.policy_maps.get(zp.policy_map)?;
        for class in &pm.classes {
            if let Some(alg) = class.class_map.matches(f) {
                return Some(PolicyDecision {
                    class: class.id,
                    action: class.action,
                    parameter_map: class.parameter_map,
                    alg: if class.action == Action::Inspect {
                        alg
                    } else {
                        None
                    },
                    log: class.log,
                });
            }
        }
        Some(PolicyDecision {
            class: pm.class_default_id,
            action: pm.class_default,
            parameter_map: ParamMapId(0),
            alg: None,
            log: false,
        })
    }

    /// Longest-prefix route lookup (routed mode); routes are kept sorted longest first.
    pub fn route(&self, dst: IpAddr) -> Option<&super::model::Route> {
        match &self.forwarding {
            super::model::Forwarding::Routed { routes } => {
                routes.iter().find(|r| r.prefix.contains(dst))
            }
            super::model::Forwarding::VirtualWire { .. } => None,
        }
    }
}
