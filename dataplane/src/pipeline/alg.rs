//! Glue between the pipeline and the inspectors: which inspector a control flow has,
//! its per-flow framing state, running it on each payload, and its last word when the
//! control flow ends.
//!
//! Inspectors are sans-IO: they get payload bytes, a [`FlowContext`] and the time, and
//! return [`InspectAction`]s that [`Pipeline::apply_actions`] turns into pinhole table
//! changes before the packet that announced them is forwarded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::verdict::DropReason;
use super::Pipeline;
use crate::inspect::action::{FlowContext, Transport};
use crate::inspect::sccp::inspector::ControlSessionId;
use crate::inspect::sccp::{
    SegmentVerdict, SkinnyConfig, SkinnyConnection, SkinnyCounters, SkinnyTable,
};
use crate::inspect::sip::{
    frame_for_reassembler, MediaSourcePolicy, ProfileGuard, ProfileState, RuleAction, SipConfig,
    SipCounters, SipInspector, SipOutcome,
};
use crate::inspect::stream::{StreamConfig, StreamReassembler, StreamStart};
use crate::packet::{L4Summary, PacketSummary};
use crate::policy::Alg;
use crate::policy::{MediaSource, ParamMapId, Policy};
use crate::session::{Direction, SessionHandle};
use crate::time::Timestamp;

/// The call manager's port of a new Skinny control connection whose first packet went
/// `src_port -> dst_port`: the end on a Skinny port of the policy's port map (the
/// destination when both are), else the destination (the session's responder). With
/// mid-stream pickup the first segment seen may be a call manager -> phone one, whose
/// destination is the phone's ephemeral port.
fn skinny_server_port(policy: &Policy, src_port: u16, dst_port: u16) -> u16 {
    let is_skinny = |port: u16| {
        policy.port_map.iter().any(|e| {
            e.protocol == "skinny"
                && e.transport == Transport::Tcp
                && e.ports.iter().any(|r| r.contains(port))
        })
    };
    if !is_skinny(dst_port) && is_skinny(src_port) {
        src_port
    } else {
        dst_port
    }
}

/// Skinny stations tracked at once, all workers together.
const SKINNY_STATIONS: usize = 65_536;
/// SIP dialogs tracked at once, all workers together.
const SIP_DIALOGS: usize = 262_144;

/// Inspector state shared by every worker (call and registration tables).
pub struct SharedAlgState {
    /// Skinny stations and their registrations.
    pub skinny: Arc<SkinnyTable>,
    /// SIP dialogs, keyed by Call-ID and tags, reachable from every worker.
    pub sip: Arc<crate::inspect::sip::DialogTable>,
    /// The state of each SIP inspect profile (sources, dialog cap), by profile name,
    /// created when a worker first inspects under it.
    sip_profiles: std::sync::Mutex<std::collections::HashMap<String, Arc<ProfileState>>>,
    next_control_session: AtomicU64,
}

impl Default for SharedAlgState {
    fn default() -> Self {
        SharedAlgState::new(false)
    }
}

impl SharedAlgState {
    /// Empty tables; with `keep_history` the dialog table remembers every dialog that
    /// ends (for replay reports).
    pub fn new(keep_history: bool) -> Self {
        let sip = crate::inspect::sip::DialogTable::new(64, SIP_DIALOGS);
        SharedAlgState {
            skinny: Arc::new(SkinnyTable::new(SKINNY_STATIONS, 64)),
            sip: Arc::new(if keep_history {
                sip.with_history()
            } else {
                sip
            }),
            sip_profiles: std::sync::Mutex::new(std::collections::HashMap::new()),
            next_control_session: AtomicU64::new(1),
        }
    }
}

impl std::fmt::Debug for SharedAlgState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedAlgState").finish_non_exhaustive()
    }
}

impl SharedAlgState {
    fn control_session_id(&self) -> u64 {
        self.next_control_session.fetch_add(1, Ordering::Relaxed)
    }

    /// The state of the SIP inspect profile named `name`, shared by every parameter
    /// map that names it and kept across policy pushes that keep the name (its sources,
    /// blocks and dialog count survive a push).
    pub fn sip_profile_state(&self, name: &str) -> Arc<ProfileState> {
        let mut states = self
            .sip_profiles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(states.entry(name.to_owned()).or_default())
    }
}

/// Per-control-flow inspector state (framing buffers), owned by the flow's session.
#[derive(Debug)]
pub enum FlowAlg {
    /// A Skinny control connection (boxed: it is much larger than the SIP state).
    Skinny(Box<SkinnyConnection>),
    /// A SIP signalling flow: over UDP every datagram is one message; over TCP each
    /// direction is reassembled and framed by Content-Length.
    Sip {
        /// `[initiator -> responder, responder -> initiator]` streams (TCP only).
        streams: Option<Box<[StreamReassembler; 2]>>,
        /// Per direction (TCP only), the sequence range `(seq, len)` of the last segment
        /// the inspector dropped. The reassembler has consumed its bytes, so without
        /// this its retransmissions would be forwarded uninspected.
        refused: [Option<(u32, u32)>; 2],
    },
}

impl FlowAlg {
    /// Which inspector this is.
    pub fn alg(&self) -> Alg {
        match self {
            FlowAlg::Skinny(_) => Alg::Skinny,
            FlowAlg::Sip { .. } => Alg::Sip,
        }
    }
}

/// The SIP inspector configuration a parameter map implies.
fn sip_config(policy: &Policy, pm: ParamMapId) -> SipConfig {
    let params = policy.parameter_map(pm);
    SipConfig {
        media_idle_timeout: params.timeouts.media_inactivity,
        max_call_duration: params.timeouts.max_call_duration,
        source_policy: match params.media_source {
            MediaSource::Announced => MediaSourcePolicy::AnnouncedAddress,
            MediaSource::SignallingPeer => MediaSourcePolicy::SignallingPeer,
            MediaSource::SamePrefix => MediaSourcePolicy::SamePrefix,
            MediaSource::Any => MediaSourcePolicy::Any,
        },
        ..SipConfig::default()
    }
}

/// One worker's SIP inspectors, one per parameter map in use (their configurations
/// differ), rebuilt when a new policy is adopted; counters survive the rebuild.
#[derive(Default)]
pub(super) struct SipInspectors {
    by_param_map: Vec<Option<SipInspector>>,
    /// Counters of inspectors replaced by a policy push.
    retired: Vec<SipCounters>,
}

impl SipInspectors {
    fn get(
        &mut self,
        policy: &Policy,
        shared: &SharedAlgState,
        pm: ParamMapId,
    ) -> Option<&mut SipInspector> {
        let i = usize::from(pm.0);
        if self.by_param_map.len() <= i {
            self.by_param_map.resize_with(i + 1, || None);
        }
        let slot = self.by_param_map.get_mut(i)?;
        Some(slot.get_or_insert_with(|| {
            let config = Arc::new(sip_config(policy, pm));
            let table = Arc::clone(&shared.sip);
            match &policy.parameter_map(pm).sip_profile {
                Some(profile) => SipInspector::with_profile(
                    config,
                    table,
                    ProfileGuard::new(Arc::clone(profile), shared.sip_profile_state(&profile.name)),
                ),
                None => SipInspector::new(config, table),
            }
        }))
    }

    /// Drop the inspectors built for the previous policy (their configuration may be stale).
    pub(super) fn policy_changed(&mut self) {
        for inspector in self.by_param_map.drain(..).flatten() {
            self.retired.push(*inspector.counters());
        }
    }

    /// Counters of every inspector this worker has had.
    pub fn counters(&self) -> Vec<SipCounters> {
        self.retired
            .iter()
            .copied()
            .chain(self.by_param_map.iter().flatten().map(|i| *i.counters()))
            .collect()
    }

    fn any(&mut self) -> Option<&mut SipInspector> {
        self.by_param_map.iter_mut().flatten().next()
    }

    /// Forget idle sources of every profile in use (one shard each).
    fn sweep_profiles(&self, now: Timestamp) {
        for inspector in self.by_param_map.iter().flatten() {
            inspector.sweep_profile(now);
        }
    }
}

/// Counters of the inspectors on one worker (single writer; read between bursts).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct AlgCounters {
    /// Skinny inspector counters.
    pub skinny: SkinnyCounters,
    /// Segments of Skinny control connections dropped.
    pub skinny_segments_dropped: u64,
    /// Control flows whose inspector could not start (e.g. Skinny over UDP).
    pub not_inspectable: u64,
    /// SIP messages refused because the dialog table was full (dropped: strict on limits).
    pub sip_table_full: u64,
    /// SIP messages the parser did not understand (forwarded: fail open, counted).
    pub sip_not_understood: u64,
    /// SIP TCP streams that could not be framed (forwarded, stream resynchronised).
    pub sip_stream_errors: u64,
}

/// The verdict on a SIP message: fail open for what the parser does not understand,
/// strict on limits; the inspect profile's rules as their actions say.
fn sip_verdict(outcome: Option<SipOutcome>, counters: &mut AlgCounters) -> Result<(), DropReason> {
    match outcome {
        Some(SipOutcome::TableFull) => {
            counters.sip_table_full += 1;
            Err(DropReason::Inspector)
        }
        Some(SipOutcome::Refused(v)) => match v.action {
            RuleAction::Drop => Err(DropReason::Inspector),
            RuleAction::Forward => Ok(()),
        },
        Some(SipOutcome::Malformed(_) | SipOutcome::Invalid(_)) => {
            counters.sip_not_understood += 1;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether the segment `seq..seq+len` shares a byte with `refused` (sequence numbers
/// wrap).
fn overlaps(refused: (u32, u32), seq: u32, len: usize) -> bool {
    let (start, refused_len) = refused;
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    // Offset of the segment from the refused range's start, in -2^31..2^31.
    let offset = i64::from(seq.wrapping_sub(start) as i32);
    len > 0 && offset < i64::from(refused_len) && offset.saturating_add(len) > 0
}

fn socket(ip: std::net::IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

impl Pipeline {
    /// The inspectors' counters on this worker.
    pub fn alg_counters(&self) -> &AlgCounters {
        &self.alg_counters
    }

    /// The SIP inspectors' counters on this worker (one entry per inspector it has had).
    pub fn sip_counters(&self) -> Vec<SipCounters> {
        self.sip.counters()
    }

    /// Expire timed-out SIP dialogs (one shard of the shared table per call).
    pub(super) fn expire_sip(&mut self, now: Timestamp) {
        self.actions.clear();
        if let Some(inspector) = self.sip.any() {
            inspector.expire(now, &mut self.actions);
        }
        self.sip.sweep_profiles(now);
        self.apply_actions(ParamMapId(0), now);
    }

    /// Create the inspector state of a new control flow whose first packet is `s`.
    pub(super) fn new_flow_alg(
        &mut self,
        alg: Alg,
        s: &PacketSummary,
        pm: crate::policy::ParamMapId,
    ) -> Option<Box<FlowAlg>> {
        match (alg, s.l4) {
            (Alg::Skinny, L4Summary::Tcp(tcp)) => {
                let params = self.policy.parameter_map(pm);
                let config = SkinnyConfig {
                    media_idle_timeout: params.timeouts.media_inactivity,
                    ..params.skinny
                };
                let start = if tcp.flags.syn() {
                    StreamStart::Syn(tcp.seq)
                } else {
                    StreamStart::MidStream
                };
                let id = ControlSessionId(self.shared.algs.control_session_id());
                let server_port = skinny_server_port(&self.policy, tcp.src_port.0, tcp.dst_port.0);
                Some(Box::new(FlowAlg::Skinny(Box::new(SkinnyConnection::new(
                    Arc::new(config),
                    Arc::clone(&self.shared.algs.skinny),
                    id,
                    server_port,
                    start,
                    StreamStart::MidStream,
                )))))
            }
            (Alg::Sip, L4Summary::Udp(_)) => Some(Box::new(FlowAlg::Sip {
                streams: None,
                refused: [None; 2],
            })),
            (Alg::Sip, L4Summary::Tcp(tcp)) => {
                let config = StreamConfig {
                    max_buffered: crate::inspect::sip::ParseLimits::DEFAULT.max_message_len,
                    ..StreamConfig::default()
                };
                let start = if tcp.flags.syn() {
                    StreamStart::Syn(tcp.seq)
                } else {
                    StreamStart::MidStream
                };
                Some(Box::new(FlowAlg::Sip {
                    streams: Some(Box::new([
                        StreamReassembler::new(config, start),
                        StreamReassembler::new(config, StreamStart::MidStream),
                    ])),
                    refused: [None; 2],
                }))
            }
            _ => {
                self.alg_counters.not_inspectable += 1;
                None
            }
        }
    }

    /// Run the session's inspector (if any) on this packet's payload; pinholes it opens
    /// are published before the packet is forwarded.
    pub(super) fn inspect_payload(
        &mut self,
        h: SessionHandle,
        dir: Direction,
        buf: &[u8],
        s: &PacketSummary,
        now: Timestamp,
    ) -> Result<(), DropReason> {
        let Some(session) = self.sessions.get_mut(h) else {
            return Ok(());
        };
        let Some(mut alg) = session.value.alg.take() else {
            return Ok(());
        };
        let pm = session.value.parameter_map;
        let zone_link = session
            .value
            .zone_pair
            .map_or(crate::ids::ZoneLink::UNZONED, |zp| {
                self.policy.zone_link(zp)
            });
        let payload = s.payload_range().and_then(|r| buf.get(r)).unwrap_or(&[]);
        let (sport, dport) = s.ports().map(|(a, b)| (a.0, b.0)).unwrap_or((0, 0));
        let ctx = FlowContext {
            src: socket(s.src, sport),
            dst: socket(s.dst, dport),
            transport: match s.l4 {
                L4Summary::Tcp(_) => Transport::Tcp,
                _ => Transport::Udp,
            },
            zone_link,
        };
        self.actions.clear();
        let verdict = match (&mut *alg, s.l4) {
            (FlowAlg::Skinny(conn), L4Summary::Tcp(tcp)) if !payload.is_empty() => {
                match conn.on_segment(
                    &ctx,
                    tcp.seq,
                    payload,
                    now,
                    &mut self.alg_counters.skinny,
                    &mut self.actions,
                ) {
                    SegmentVerdict::Forward => Ok(()),
                    SegmentVerdict::Drop(_) => {
                        self.alg_counters.skinny_segments_dropped += 1;
                        Err(DropReason::Inspector)
                    }
                }
            }
            (FlowAlg::Sip { streams: None, .. }, _) => {
                let policy = Arc::clone(&self.policy);
                let outcome = self
                    .sip
                    .get(&policy, &self.shared.algs, pm)
                    .map(|i| i.inspect(payload, &ctx, now, &mut self.actions));
                sip_verdict(outcome, &mut self.alg_counters)
            }
            (
                FlowAlg::Sip {
                    streams: Some(_),
                    refused,
                },
                L4Summary::Tcp(tcp),
            ) if refused
                .get(dir.index())
                .copied()
                .flatten()
                .is_some_and(|r| overlaps(r, tcp.seq, payload.len())) =>
            {
                Err(DropReason::Inspector)
            }
            (
                FlowAlg::Sip {
                    streams: Some(streams),
                    refused,
                },
                L4Summary::Tcp(tcp),
            ) if !payload.is_empty() => {
                let policy = Arc::clone(&self.policy);
                let limits = crate::inspect::sip::ParseLimits::DEFAULT;
                let actions = &mut self.actions;
                let mut worst = Ok(());
                let inspector = self.sip.get(&policy, &self.shared.algs, pm);
                let report = match (streams.get_mut(dir.index()), inspector) {
                    (Some(stream), Some(inspector)) => {
                        let counters = &mut self.alg_counters;
                        Some(stream.feed(
                            tcp.seq,
                            payload,
                            |bytes| frame_for_reassembler(bytes, &limits),
                            |message| {
                                let outcome = inspector.inspect(message, &ctx, now, actions);
                                if let Err(r) = sip_verdict(Some(outcome), counters) {
                                    worst = Err(r);
                                }
                            },
                        ))
                    }
                    _ => None,
                };
                if report.is_some_and(|r| r.error.is_some()) {
                    // Fail open on framing the ALG does not understand (counted), and
                    // pick the stream up again at the next segment.
                    self.alg_counters.sip_stream_errors += 1;
                    if let Some(stream) = streams.get_mut(dir.index()) {
                        stream.resynchronise();
                    }
                }
                if worst.is_err() {
                    if let Some(slot) = refused.get_mut(dir.index()) {
                        *slot = Some((tcp.seq, u32::try_from(payload.len()).unwrap_or(u32::MAX)));
                    }
                }
                worst
            }
            _ => Ok(()),
        };
        if let Some(session) = self.sessions.get_mut(h) {
            session.value.alg = Some(alg);
        }
        self.apply_actions(pm, now);
        verdict
    }

    /// A control flow ended: the inspector's last word (Skinny closes the calls of a
    /// control session that went away).
    pub(super) fn control_flow_ended(
        &mut self,
        mut alg: FlowAlg,
        pm: crate::policy::ParamMapId,
        now: Timestamp,
    ) {
        self.actions.clear();
        match &mut alg {
            FlowAlg::Skinny(conn) => conn.ended(&mut self.alg_counters.skinny, &mut self.actions),
            // SIP dialogs are not tied to a connection (a BYE may come on another one):
            // they end by their own signalling or timers.
            FlowAlg::Sip { .. } => {}
        }
        self.apply_actions(pm, now);
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // a failed expectation is the test failing
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::ids::WorkerId;
    use crate::inspect::action::InspectAction;
    use crate::inspect::sccp::StartTransmission;
    use crate::inspect::sccp::{HeaderVersion, PduWriter, SkinnyAddr, SkinnyMessage};
    use crate::packet::build::{tcp4_frame, TcpHeader};
    use crate::packet::{self, Parsed, Port, TcpFlags};
    use crate::policy::{Forwarding, PortMapEntry, PortRange};
    use crate::Dataplane;

    fn policy_with_skinny_ports(ports: &[u16]) -> Policy {
        let mut policy = Policy::forwarding_only(vec![], Forwarding::VirtualWire { peer: vec![] });
        policy.port_map.push(PortMapEntry {
            protocol: "skinny".into(),
            transport: Transport::Tcp,
            ports: ports.iter().map(|&p| PortRange::single(p)).collect(),
        });
        policy
    }

    #[test]
    fn the_server_port_is_the_skinny_end_whichever_way_the_first_packet_went() {
        let policy = policy_with_skinny_ports(&[2000, 2443]);
        assert_eq!(skinny_server_port(&policy, 51000, 2000), 2000);
        assert_eq!(skinny_server_port(&policy, 2000, 51000), 2000);
        assert_eq!(skinny_server_port(&policy, 2443, 51000), 2443);
        // Neither end (a port map that no longer lists it): the responder.
        assert_eq!(skinny_server_port(&policy, 3000, 51000), 51000);
    }

    #[test]
    fn a_connection_picked_up_on_a_call_manager_segment_is_inspected_the_right_way() {
        let dp = Dataplane::new(policy_with_skinny_ports(&[2000]));
        let mut p = dp.worker(WorkerId(0));
        let (cm, phone) = (Ipv4Addr::new(10, 2, 2, 2), Ipv4Addr::new(10, 1, 1, 10));
        let mut pdu = Vec::new();
        let start = SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 1,
            pass_thru_party_id: 2,
            remote: SkinnyAddr::V4(Ipv4Addr::new(10, 1, 1, 11)),
            remote_port: 16390,
            call_reference: Some(1),
            key_info: None,
        });
        assert!(PduWriter::new(HeaderVersion::BASIC)
            .write(&start, &mut pdu)
            .is_ok());
        let mut tcp = TcpHeader::new(Port(2000), Port(51000), TcpFlags::ACK | TcpFlags::PSH);
        tcp.seq = 7;
        let frame = tcp4_frame(cm, phone, &tcp, &pdu);
        let Ok(Parsed::Ip(s)) = packet::parse(&frame) else {
            panic!("the test frame parses");
        };
        let Some(alg) = p.new_flow_alg(Alg::Skinny, &s, ParamMapId(0)) else {
            panic!("a Skinny inspector for a TCP flow");
        };
        let FlowAlg::Skinny(mut conn) = *alg else {
            panic!("a Skinny inspector");
        };
        let ctx = FlowContext {
            src: SocketAddr::new(cm.into(), 2000),
            dst: SocketAddr::new(phone.into(), 51000),
            transport: Transport::Tcp,
            zone_link: crate::ids::ZoneLink::UNZONED,
        };
        let mut counters = SkinnyCounters::default();
        let mut actions = Vec::new();
        let verdict = conn.on_segment(&ctx, 7, &pdu, Timestamp(1), &mut counters, &mut actions);
        assert_eq!(verdict, SegmentVerdict::Forward);
        assert_eq!(counters.wrong_direction, 0, "{counters:?}");
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, InspectAction::Open(r) if r.dst_port == 16390)),
            "the call manager's StartMediaTransmission opens the phone's outbound pinhole: {actions:?}"
        );
    }
}
