//! Verdicts and drop reasons: every packet leaves the pipeline forwarded, consumed (held
//! for reassembly), or dropped for exactly one named reason.

use crate::ids::IfaceId;
use crate::packet::frag::FragDropReason;
use crate::packet::ParseError;
use crate::session::TcpInvalid;

/// Why a packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The frame did not parse.
    Malformed(ParseError),
    /// The ingress interface is not in the policy.
    UnknownIngress,
    /// A VLAN tag that no interface on the port carries.
    UnknownVlan,
    /// No egress: the interface has no virtual-wire peer.
    NoEgress,
    /// No egress: no route to the destination (routed mode).
    NoRoute,
    /// Non-IP frame in routed mode (nothing to route it by).
    NonIpRouted,
    /// TTL or hop limit expired while routing.
    TtlExceeded,
    /// Routed between a tagged and an untagged interface (not rewritten in this version).
    VlanMismatch,
    /// Between a zoned and an unzoned interface.
    ZonedToUnzoned,
    /// Between two zones with no zone pair.
    NoZonePair,
    /// A class with action `drop` matched.
    ClassDrop,
    /// No class matched and `class_default` is drop.
    ClassDefaultDrop,
    /// The worker's session table is full.
    SessionTableFull,
    /// The parameter map's `max_incomplete` (half-open TCP) is reached.
    HalfOpenLimit,
    /// The parameter map's `max_sessions` is reached.
    MaxSessions,
    /// The TCP state machine refused the segment.
    Tcp(TcpInvalid),
    /// A packet of a session arrived on an interface the session does not use.
    SessionWrongInterface,
    /// A media session whose call has ended (its pinhole was closed).
    CallEnded,
    /// A fragment that could not be reassembled.
    Fragment(FragDropReason),
    /// An inspector refused the message (its counters say why).
    Inspector,
    /// A session vanished between its lookup and its use, or an insert found a key the
    /// lookup had missed. Never expected (one worker owns its table); counted under its
    /// own name so it is not mistaken for a full table.
    SessionInconsistent,
    /// The engine could not hand the packet to the worker owning its flow: that
    /// worker's hand-off ring was full.
    HandoffRingFull,
}

const SIMPLE: &[DropReason] = &[
    DropReason::UnknownIngress,
    DropReason::UnknownVlan,
    DropReason::NoEgress,
    DropReason::NoRoute,
    DropReason::NonIpRouted,
    DropReason::TtlExceeded,
    DropReason::VlanMismatch,
    DropReason::ZonedToUnzoned,
    DropReason::NoZonePair,
    DropReason::ClassDrop,
    DropReason::ClassDefaultDrop,
    DropReason::SessionTableFull,
    DropReason::HalfOpenLimit,
    DropReason::MaxSessions,
    DropReason::SessionWrongInterface,
    DropReason::CallEnded,
    DropReason::Inspector,
    DropReason::SessionInconsistent,
    DropReason::HandoffRingFull,
];

impl DropReason {
    /// How many dense codes there are (see [`DropReason::code`]).
    pub const COUNT: usize =
        SIMPLE.len() + ParseError::ALL.len() + TcpInvalid::ALL.len() + FragDropReason::ALL.len();

    /// A dense code in `0..COUNT`, for counter arrays.
    pub fn code(self) -> usize {
        let parse = SIMPLE.len();
        let tcp = parse + ParseError::ALL.len();
        let frag = tcp + TcpInvalid::ALL.len();
        match self {
            DropReason::Malformed(e) => parse + e.index(),
            DropReason::Tcp(r) => tcp + r.index(),
            DropReason::Fragment(r) => frag + r.index(),
            simple => SIMPLE.iter().position(|s| *s == simple).unwrap_or(0),
        }
    }

    /// The reason with dense code `code`.
    pub fn from_code(code: usize) -> Option<DropReason> {
        let parse = SIMPLE.len();
        let tcp = parse + ParseError::ALL.len();
        let frag = tcp + TcpInvalid::ALL.len();
        if code < parse {
            SIMPLE.get(code).copied()
        } else if code < tcp {
            ParseError::ALL
                .get(code - parse)
                .copied()
                .map(DropReason::Malformed)
        } else if code < frag {
            TcpInvalid::ALL
                .get(code - tcp)
                .copied()
                .map(DropReason::Tcp)
        } else {
            FragDropReason::ALL
                .get(code - frag)
                .copied()
                .map(DropReason::Fragment)
        }
    }

    /// Stable snake_case name used in counters, logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Malformed(e) => e.as_str(),
            DropReason::Tcp(r) => r.as_str(),
            DropReason::Fragment(r) => r.as_str(),
            DropReason::UnknownIngress => "unknown_ingress",
            DropReason::UnknownVlan => "unknown_vlan",
            DropReason::NoEgress => "no_egress",
            DropReason::NoRoute => "no_route",
            DropReason::NonIpRouted => "non_ip_routed",
            DropReason::TtlExceeded => "ttl_exceeded",
            DropReason::VlanMismatch => "vlan_mismatch",
            DropReason::ZonedToUnzoned => "zoned_to_unzoned",
            DropReason::NoZonePair => "no_zone_pair",
            DropReason::ClassDrop => "class_drop",
            DropReason::ClassDefaultDrop => "class_default_drop",
            DropReason::SessionTableFull => "session_table_full",
            DropReason::HalfOpenLimit => "half_open_limit",
            DropReason::MaxSessions => "max_sessions",
            DropReason::SessionWrongInterface => "session_wrong_interface",
            DropReason::CallEnded => "call_ended",
            DropReason::Inspector => "inspector_drop",
            DropReason::SessionInconsistent => "session_inconsistent",
            DropReason::HandoffRingFull => "handoff_ring_full",
        }
    }
}

/// What to do with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it out of this interface (it may have been rewritten in place).
    Forward(IfaceId),
    /// Drop it, for this reason.
    Drop(DropReason),
    /// The pipeline kept a copy (a fragment awaiting its datagram): free the original;
    /// what becomes of the datagram comes out of [`super::Pipeline::take_emitted`].
    Consumed,
}

/// How the first packet of a flow (or this packet) was decided, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecidedBy {
    /// An existing session.
    Session,
    /// A pinhole opened by an inspector.
    Pinhole,
    /// A class with `inspect` (a session was created).
    Inspect,
    /// A class with `pass`, or the zone rules let it through without a policy.
    Pass,
    /// Not an IP packet (passed on a virtual wire).
    NonIp,
    /// Dropped.
    Drop(DropReason),
    /// Held for reassembly.
    Held,
}

impl DecidedBy {
    /// Stable name (the drop reason's name for drops).
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Session => "session",
            DecidedBy::Pinhole => "pinhole",
            DecidedBy::Inspect => "inspect",
            DecidedBy::Pass => "pass",
            DecidedBy::NonIp => "non_ip",
            DecidedBy::Drop(r) => r.as_str(),
            DecidedBy::Held => "held",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_round_trip() {
        let mut names = std::collections::HashSet::new();
        for code in 0..DropReason::COUNT {
            let r = DropReason::from_code(code).unwrap();
            assert_eq!(r.code(), code, "{r:?}");
            assert!(names.insert(r.as_str()), "duplicate name {}", r.as_str());
        }
        assert!(DropReason::from_code(DropReason::COUNT).is_none());
    }
}
