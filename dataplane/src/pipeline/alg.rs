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
use crate::inspect::stream::StreamStart;
use crate::packet::{L4Summary, PacketSummary};
use crate::policy::Alg;
use crate::session::{Direction, SessionHandle};
use crate::time::Timestamp;

/// Skinny stations tracked at once, all workers together.
const SKINNY_STATIONS: usize = 65_536;

/// Inspector state shared by every worker (call and registration tables).
#[derive(Debug)]
pub struct SharedAlgState {
    /// Skinny stations and their registrations.
    pub skinny: Arc<SkinnyTable>,
    next_control_session: AtomicU64,
}

impl Default for SharedAlgState {
    fn default() -> Self {
        SharedAlgState {
            skinny: Arc::new(SkinnyTable::new(SKINNY_STATIONS, 64)),
            next_control_session: AtomicU64::new(1),
        }
    }
}

impl SharedAlgState {
    fn control_session_id(&self) -> u64 {
        self.next_control_session.fetch_add(1, Ordering::Relaxed)
    }
}

/// Per-control-flow inspector state (framing buffers), owned by the flow's session.
#[derive(Debug)]
pub enum FlowAlg {
    /// A Skinny control connection.
    Skinny(SkinnyConnection),
}

impl FlowAlg {
    /// Which inspector this is.
    pub fn alg(&self) -> Alg {
        match self {
            FlowAlg::Skinny(_) => Alg::Skinny,
        }
    }
}

/// Counters of the inspectors on one worker (single writer; read between bursts).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct AlgCounters {
    /// Skinny inspector counters.
    #[serde(skip)]
    pub skinny: SkinnyCounters,
    /// Segments of Skinny control connections dropped.
    pub skinny_segments_dropped: u64,
    /// Control flows whose inspector could not start (e.g. Skinny over UDP).
    pub not_inspectable: u64,
}

fn socket(ip: std::net::IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

impl Pipeline {
    /// The inspectors' counters on this worker.
    pub fn alg_counters(&self) -> &AlgCounters {
        &self.alg_counters
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
                Some(Box::new(FlowAlg::Skinny(SkinnyConnection::new(
                    Arc::new(config),
                    Arc::clone(&self.shared.algs.skinny),
                    id,
                    tcp.dst_port.0,
                    start,
                    StreamStart::MidStream,
                ))))
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
        _dir: Direction,
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
        let zone_pair = session.value.zone_pair.map(|z| z.0).unwrap_or(u16::MAX);
        let payload = s.payload_range().and_then(|r| buf.get(r)).unwrap_or(&[]);
        let (sport, dport) = s.ports().map(|(a, b)| (a.0, b.0)).unwrap_or((0, 0));
        let ctx = FlowContext {
            src: socket(s.src, sport),
            dst: socket(s.dst, dport),
            transport: match s.l4 {
                L4Summary::Tcp(_) => Transport::Tcp,
                _ => Transport::Udp,
            },
            zone_pair,
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
        mut alg: Box<FlowAlg>,
        pm: crate::policy::ParamMapId,
        now: Timestamp,
    ) {
        self.actions.clear();
        match &mut *alg {
            FlowAlg::Skinny(conn) => conn.ended(&mut self.alg_counters.skinny, &mut self.actions),
        }
        self.apply_actions(pm, now);
    }
}
