//! Per-flow accounting: one record per directional flow, in order of first packet.
//!
//! A flow is keyed by protocol and both endpoints. Ports are the TCP/UDP ports, the
//! ICMP echo identifier on both sides for echo messages, and 0 otherwise. A fragment
//! other than the first carries no transport header, so it is keyed with ports 0: a
//! fragmented UDP datagram shows up as its first fragment's flow plus a port-0 flow for
//! the rest.

use std::collections::HashMap;
use std::net::SocketAddr;

use pinhole_dataplane::packet::{L4Summary, PacketSummary};
use pinhole_dataplane::policy::ZonePairId;
use pinhole_dataplane::IfaceId;
use serde::Serialize;

use super::report::ProtoName;

/// A directional flow's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// IP protocol number.
    pub proto: u8,
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
}

impl FlowKey {
    /// The key of a parsed packet.
    pub fn of(s: &PacketSummary) -> FlowKey {
        let (sport, dport) = match s.l4 {
            L4Summary::Tcp(t) => (t.src_port.0, t.dst_port.0),
            L4Summary::Udp(u) => (u.src_port.0, u.dst_port.0),
            L4Summary::Icmp(i) | L4Summary::Icmpv6(i) => {
                let id = i.echo.map(|e| e.id).unwrap_or(0);
                (id, id)
            }
            L4Summary::NonFirstFragment | L4Summary::Other(_) => (0, 0),
        };
        FlowKey {
            proto: s.protocol.0,
            src: SocketAddr::new(s.src, sport),
            dst: SocketAddr::new(s.dst, dport),
        }
    }
}

/// What happened to one packet of a flow, for its counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketOutcome {
    /// Sent out at once.
    Forwarded,
    /// Dropped at once.
    Dropped,
    /// Held for reassembly.
    Consumed,
    /// Ingress equals egress: not replayed.
    NotCrossing,
}

/// One flow's line in the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FlowRecord {
    /// `udp`, `tcp`, `icmp`, `icmpv6` or the protocol number.
    pub proto: ProtoName,
    /// `ip:port` (IPv6 as `[ip]:port`).
    pub src: String,
    /// `ip:port`.
    pub dst: String,
    /// Ingress interface name (by source address), null when none matched.
    pub ingress: Option<String>,
    /// Egress interface name: the pipeline's for forwarded flows, by destination
    /// address otherwise; null when neither is known.
    pub egress: Option<String>,
    /// Zone pair the flow was judged under, if any.
    pub zone_pair: Option<String>,
    /// Packets seen.
    pub packets: u64,
    /// Frames sent (including held fragments released later).
    pub forwarded: u64,
    /// Packets dropped on arrival.
    pub dropped: u64,
    /// Packets held for reassembly on arrival.
    pub consumed: u64,
    /// Packets not replayed because ingress equals egress.
    pub not_crossing: u64,
    /// How the first packet was decided (`session`, `pinhole`, `inspect`, `pass`,
    /// `non_ip`, `held`, a drop reason, `not_crossing` or `no_ingress_interface`).
    pub verdict: String,
    /// Capture time of the first packet (seconds since the Unix epoch).
    pub first_seen: f64,
}

#[derive(Debug)]
struct FlowState {
    key: FlowKey,
    ingress: Option<IfaceId>,
    egress: Option<IfaceId>,
    forwarded_egress: Option<IfaceId>,
    zone_pair: Option<ZonePairId>,
    packets: u64,
    forwarded: u64,
    dropped: u64,
    consumed: u64,
    not_crossing: u64,
    verdict: &'static str,
    first_ns: u64,
}

/// All flows of a replay.
#[derive(Debug, Default)]
pub struct FlowTable {
    index: HashMap<FlowKey, usize>,
    flows: Vec<FlowState>,
}

/// Facts about one packet the flow table records.
#[derive(Clone, Copy, Debug)]
pub struct PacketFacts {
    /// Its flow.
    pub key: FlowKey,
    /// Capture time.
    pub time_ns: u64,
    /// Ingress by source address.
    pub ingress: Option<IfaceId>,
    /// Egress by destination address.
    pub egress: Option<IfaceId>,
    /// The pipeline's egress when forwarded.
    pub forwarded_to: Option<IfaceId>,
    /// Zone pair of the decision.
    pub zone_pair: Option<ZonePairId>,
    /// How it was decided.
    pub decided_by: &'static str,
    /// Outcome.
    pub outcome: PacketOutcome,
}

impl FlowTable {
    /// Count a packet.
    pub fn record(&mut self, p: PacketFacts) {
        let i = *self.index.entry(p.key).or_insert_with(|| {
            self.flows.push(FlowState {
                key: p.key,
                ingress: p.ingress,
                egress: p.egress,
                forwarded_egress: None,
                zone_pair: None,
                packets: 0,
                forwarded: 0,
                dropped: 0,
                consumed: 0,
                not_crossing: 0,
                verdict: p.decided_by,
                first_ns: p.time_ns,
            });
            self.flows.len() - 1
        });
        let Some(f) = self.flows.get_mut(i) else {
            return;
        };
        f.packets += 1;
        f.zone_pair = f.zone_pair.or(p.zone_pair);
        match p.outcome {
            PacketOutcome::Forwarded => {
                f.forwarded += 1;
                f.forwarded_egress = f.forwarded_egress.or(p.forwarded_to);
            }
            PacketOutcome::Dropped => f.dropped += 1,
            PacketOutcome::Consumed => f.consumed += 1,
            PacketOutcome::NotCrossing => f.not_crossing += 1,
        }
    }

    /// Count a frame the pipeline released later (a held fragment sent on).
    pub fn record_emitted(&mut self, key: FlowKey, egress: IfaceId) {
        if let Some(f) = self.index.get(&key).and_then(|i| self.flows.get_mut(*i)) {
            f.forwarded += 1;
            f.forwarded_egress = f.forwarded_egress.or(Some(egress));
        }
    }

    /// The report lines, names resolved by `iface` and `zone_pair`.
    pub fn records(
        &self,
        iface: impl Fn(IfaceId) -> Option<String>,
        zone_pair: impl Fn(ZonePairId) -> Option<String>,
    ) -> Vec<FlowRecord> {
        self.flows
            .iter()
            .map(|f| FlowRecord {
                proto: ProtoName::of(f.key.proto),
                src: f.key.src.to_string(),
                dst: f.key.dst.to_string(),
                ingress: f.ingress.and_then(&iface),
                egress: f.forwarded_egress.or(f.egress).and_then(&iface),
                zone_pair: f.zone_pair.and_then(&zone_pair),
                packets: f.packets,
                forwarded: f.forwarded,
                dropped: f.dropped,
                consumed: f.consumed,
                not_crossing: f.not_crossing,
                verdict: f.verdict.to_string(),
                first_seen: super::time::seconds(f.first_ns),
            })
            .collect()
    }
}
