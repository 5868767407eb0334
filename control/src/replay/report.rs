//! The replay report: what every packet, flow and pinhole came to, as JSON.
//! The format is documented in `docs/replay.md`.

use std::collections::BTreeMap;

use pinhole_dataplane::inspect::action::{InspectorKind, MediaKind, Transport};
use pinhole_dataplane::pinhole::{Pinhole, PinholeState, SourceMatch};
use pinhole_dataplane::pipeline::{Event, EventKind, PipelineStats};
use pinhole_dataplane::policy::Policy;
use pinhole_dataplane::stats::TrafficCounters;
use pinhole_dataplane::IfaceId;
use serde::{Serialize, Serializer};

use super::flows::FlowRecord;
use super::time::{iso8601, seconds};

/// A protocol as reports name it (`udp`, `tcp`, `icmp`, `icmpv6`, `gre`, `esp`, `ah`,
/// `sctp`), else its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtoName(pub u8);

impl ProtoName {
    /// The name of protocol `n`.
    pub fn of(n: u8) -> Self {
        ProtoName(n)
    }

    /// The name, if the protocol has one.
    pub fn name(self) -> Option<&'static str> {
        crate::config::ip_protocol_name(self.0)
    }
}

impl Serialize for ProtoName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u8(self.0),
        }
    }
}

/// A value or `"*"` (any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrAny<T> {
    /// Any value.
    Any,
    /// This value.
    Value(T),
}

impl<T: Serialize> Serialize for OrAny<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OrAny::Any => s.serialize_str("*"),
            OrAny::Value(v) => v.serialize(s),
        }
    }
}

/// What the capture was.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CaptureInfo {
    /// The file, as given.
    pub file: String,
    /// `pcap` or `pcapng`.
    pub format: &'static str,
    /// Link types of the packets (several for a pcapng with several interfaces).
    pub link_types: Vec<&'static str>,
    /// First packet's time (seconds since the Unix epoch), null for an empty capture.
    pub first_time: Option<f64>,
    /// Last packet's time: the instant `state_at_end` describes.
    pub last_time: Option<f64>,
    /// `last_time` as ISO-8601 UTC.
    pub last_time_iso: Option<String>,
}

/// Packet totals.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PacketCounts {
    /// Frames read from the capture.
    pub total: u64,
    /// Frames sent on arrival.
    pub forwarded: u64,
    /// Frames dropped (the sum of `drops`, held fragments dropped later included).
    pub dropped: u64,
    /// Frames not replayed: ingress and egress are the same interface.
    pub not_crossing: u64,
    /// Frames held for reassembly on arrival.
    pub consumed: u64,
    /// Held fragments sent on once their datagram was judged.
    pub emitted: u64,
    /// IPv4 header checksums of zero (offload on the capturing host) filled in.
    pub checksums_filled: u64,
}

/// One pinhole, as it stood at the last packet.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PinholeRecord {
    /// Its id (opening order).
    pub id: u64,
    /// `udp` or `tcp`.
    pub proto: Transport,
    /// Admitted source address or `*`.
    pub src: OrAny<String>,
    /// Admitted source port or `*`.
    pub src_port: OrAny<u16>,
    /// Destination address.
    pub dst: String,
    /// Destination port.
    pub dst_port: u16,
    /// What it carries.
    pub kind: MediaKind,
    /// Inspector that opened it.
    pub opened_by: InspectorKind,
    /// How the source is checked.
    pub source_match: SourceMatch,
    /// Call identity (inspector-specific, groups a call's pinholes).
    pub call: u64,
    /// Stream within the call.
    pub stream: u32,
    /// When it was opened (capture seconds).
    pub opened_at: f64,
    /// `opened_at` as ISO-8601 UTC.
    pub opened_at_iso: String,
    /// Idle timeout in seconds.
    pub idle_timeout: f64,
    /// `pregen`, `active`, `closed` or `expired` at the last packet's time.
    pub state_at_end: PinholeState,
    /// Packets admitted through it.
    pub packets: u64,
}

impl PinholeRecord {
    /// The record of `p`.
    pub fn of(p: &Pinhole) -> Self {
        let r = &p.request;
        PinholeRecord {
            id: p.id.0,
            proto: r.transport,
            src: r.src.map_or(OrAny::Any, |a| OrAny::Value(a.to_string())),
            src_port: r.src_port.map_or(OrAny::Any, OrAny::Value),
            dst: r.dst.to_string(),
            dst_port: r.dst_port,
            kind: r.kind,
            opened_by: r.opened_by,
            source_match: p.source_match,
            call: r.call.0,
            stream: r.stream.0,
            opened_at: seconds(p.opened_at.0),
            opened_at_iso: iso8601(p.opened_at.0),
            idle_timeout: r.idle_timeout.as_secs_f64(),
            state_at_end: p.state(),
            packets: p.packets(),
        }
    }
}

/// One audit or alert event, names resolved.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EventRecord {
    /// Capture seconds.
    pub at: f64,
    /// `session_start`, `session_end`, `drop`, `limit_hit`, `pinhole_wrong_source`.
    pub kind: &'static str,
    /// Whether it is an alert rather than audit trail.
    pub alert: bool,
    /// The drop reason for `drop` and `limit_hit`.
    pub reason: Option<&'static str>,
    /// Protocol.
    pub proto: ProtoName,
    /// `ip:port`.
    pub src: String,
    /// `ip:port`.
    pub dst: String,
    /// Ingress interface.
    pub ingress: Option<String>,
    /// Zone pair.
    pub zone_pair: Option<String>,
    /// Class (`policy-map/class`).
    pub class: Option<String>,
    /// Kind-specific number (packets both ways for `session_end`).
    pub detail: u64,
}

impl EventRecord {
    /// The record of `e`, names resolved against `policy`.
    pub fn of(e: &Event, policy: &Policy) -> Self {
        let reason = match e.kind {
            EventKind::Drop(r) | EventKind::LimitHit(r) => Some(r.as_str()),
            _ => None,
        };
        let sock = |ep: pinhole_dataplane::session::Endpoint| {
            std::net::SocketAddr::new(ep.ip, ep.port).to_string()
        };
        EventRecord {
            at: seconds(e.at.0),
            kind: e.kind.as_str(),
            alert: e.kind.is_alert(),
            reason,
            proto: ProtoName::of(e.flow.proto),
            src: sock(e.flow.src),
            dst: sock(e.flow.dst),
            ingress: e.ingress.and_then(|i| iface_name(policy, i)),
            zone_pair: e
                .zone_pair
                .and_then(|z| policy.zone_pairs.get(usize::from(z.0)))
                .map(|z| z.name.clone()),
            class: e
                .class
                .and_then(|c| policy.class_names.get(usize::from(c.0)))
                .cloned(),
            detail: e.detail,
        }
    }
}

/// The name of interface `id`.
pub fn iface_name(policy: &Policy, id: IfaceId) -> Option<String> {
    policy.interface(id).map(|i| i.name.clone())
}

/// Packets, bytes and sessions of one named policy object.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NamedCounters {
    /// Its name.
    pub name: String,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Sessions created.
    pub sessions: u64,
}

impl NamedCounters {
    fn of(name: &str, c: Option<&TrafficCounters>) -> Self {
        NamedCounters {
            name: name.to_string(),
            packets: c.map_or(0, |c| c.packets.get()),
            bytes: c.map_or(0, |c| c.bytes.get()),
            sessions: c.map_or(0, |c| c.sessions.get()),
        }
    }
}

/// The pipeline's own counters.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PipelineCounters {
    /// Packets processed (not-crossing and no-ingress packets are not).
    pub packets: u64,
    /// Bytes processed.
    pub bytes: u64,
    /// Forwarded.
    pub forwarded: u64,
    /// Dropped.
    pub dropped: u64,
    /// Held for reassembly.
    pub consumed: u64,
    /// Non-IP frames passed on a virtual wire.
    pub non_ip_passed: u64,
    /// Packets of existing sessions.
    pub session_hits: u64,
    /// Sessions created by `inspect`.
    pub sessions_inspected: u64,
    /// Child sessions created from pinholes.
    pub sessions_from_pinholes: u64,
    /// Sessions ended.
    pub sessions_ended: u64,
    /// New flows passed statelessly.
    pub stateless_passes: u64,
    /// New flows toward a pinhole from a source it does not admit.
    pub pinhole_wrong_source: u64,
    /// Events lost to a full queue.
    pub events_lost: u64,
}

/// Pipeline, zone-pair, class and interface counters.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StatsReport {
    /// Headline counters.
    pub pipeline: PipelineCounters,
    /// Per zone pair, in configuration order.
    pub zone_pairs: Vec<NamedCounters>,
    /// Per class (`policy-map/class`, class-default included).
    pub classes: Vec<NamedCounters>,
    /// Per ingress interface.
    pub interfaces_in: Vec<NamedCounters>,
    /// Per egress interface.
    pub interfaces_out: Vec<NamedCounters>,
}

impl StatsReport {
    /// Snapshot `stats` with names from `policy`.
    pub fn of(stats: &PipelineStats, policy: &Policy) -> Self {
        let ifaces = |t: &pinhole_dataplane::stats::CounterTable| {
            policy
                .interfaces
                .iter()
                .enumerate()
                .map(|(i, itf)| NamedCounters::of(&itf.name, t.get(i)))
                .collect()
        };
        StatsReport {
            pipeline: PipelineCounters {
                packets: stats.packets.get(),
                bytes: stats.bytes.get(),
                forwarded: stats.forwarded.get(),
                dropped: stats.dropped.get(),
                consumed: stats.consumed.get(),
                non_ip_passed: stats.non_ip_passed.get(),
                session_hits: stats.session_hits.get(),
                sessions_inspected: stats.sessions_inspected.get(),
                sessions_from_pinholes: stats.sessions_from_pinholes.get(),
                sessions_ended: stats.sessions_ended.get(),
                stateless_passes: stats.stateless_passes.get(),
                pinhole_wrong_source: stats.pinhole_wrong_source.get(),
                events_lost: stats.events_lost.get(),
            },
            zone_pairs: policy
                .zone_pairs
                .iter()
                .enumerate()
                .map(|(i, z)| NamedCounters::of(&z.name, stats.zone_pairs.get(i)))
                .collect(),
            classes: policy
                .class_names
                .iter()
                .enumerate()
                .map(|(i, n)| NamedCounters::of(n, stats.classes.get(i)))
                .collect(),
            interfaces_in: ifaces(&stats.interfaces_in),
            interfaces_out: ifaces(&stats.interfaces_out),
        }
    }
}

pub use pinhole_dataplane::pipeline::{InspectorCounters, PinholeTableCounters};

/// One SIP call or registration the replay followed, with the pinholes of its call.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SipDialogRecord {
    /// Its state when it ended (or at the last packet).
    #[serde(flatten)]
    pub dialog: pinhole_dataplane::inspect::sip::DialogView,
    /// Why it ended; `null` when it was still followed at the last packet.
    pub ended_by: Option<pinhole_dataplane::inspect::sip::DialogEnd>,
    /// Ids of the pinholes its call opened (entries of `pinholes`).
    pub pinholes: Vec<u64>,
}

impl SipDialogRecord {
    /// Dialogs that ended (in ending order), then those still followed at `now`, each
    /// with the ids of the SIP pinholes of its call among `pinholes`.
    pub fn collect(
        dp: &pinhole_dataplane::Dataplane,
        pinholes: &[PinholeRecord],
        now: pinhole_dataplane::Timestamp,
    ) -> Vec<SipDialogRecord> {
        let ended = dp
            .algs
            .sip
            .history()
            .into_iter()
            .map(|e| (e.dialog, Some(e.ended_by)));
        let mut open = dp.algs.sip.snapshot(now, usize::MAX);
        open.sort_by_key(|d| d.call);
        ended
            .chain(open.into_iter().map(|d| (d, None)))
            .map(|(dialog, ended_by)| SipDialogRecord {
                pinholes: pinholes
                    .iter()
                    .filter(|p| p.call == dialog.call && p.opened_by == InspectorKind::Sip)
                    .map(|p| p.id)
                    .collect(),
                dialog,
                ended_by,
            })
            .collect()
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// The capture.
    pub capture: CaptureInfo,
    /// Packet totals.
    pub packets: PacketCounts,
    /// Drops by reason name (pipeline reasons plus `no_ingress_interface`).
    pub drops: BTreeMap<String, u64>,
    /// One record per directional flow, in order of first packet.
    pub flows: Vec<FlowRecord>,
    /// Every pinhole opened, in opening order.
    pub pinholes: Vec<PinholeRecord>,
    /// Every SIP call and registration followed, with its pinholes.
    pub sip_dialogs: Vec<SipDialogRecord>,
    /// Counters per inspector.
    pub inspectors: InspectorCounters,
    /// Audit and alert events, in order, at most [`super::MAX_EVENTS`].
    pub events: Vec<EventRecord>,
    /// Events left out beyond the cap.
    pub events_truncated: u64,
    /// Pipeline counters.
    pub stats: StatsReport,
}

impl Report {
    /// The flow `proto src -> dst` (`"udp"`, `"200.57.7.195:5060"`, ...), if seen.
    pub fn flow(&self, proto: &str, src: &str, dst: &str) -> Option<&FlowRecord> {
        self.flows
            .iter()
            .find(|f| f.src == src && f.dst == dst && f.proto.name() == Some(proto))
    }
}
