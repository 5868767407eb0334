//! The sans-IO pipeline: `process(packet, ingress, now) -> Verdict`.
//!
//! [`Dataplane`] holds what every worker shares (the published policy, the pinhole
//! table, the inspectors' call state); [`Pipeline`] is one worker's part, with its own
//! session shard, reassembler, counters and event queue. A driver (the DPDK engine,
//! `pinhole replay`, a test) calls [`Pipeline::begin_burst`], then (optionally, for
//! large session tables) [`Pipeline::prefetch_burst`] over the burst, then
//! [`Pipeline::process`] per packet, then [`Pipeline::end_burst`] (timers).
//!
//! Order of decisions for a packet (see ARCHITECTURE.md): parse → (reassemble) →
//! session hit (fast path, inspector inline) → pinhole → zone rules and policy → egress.

mod admin;
mod alg;
mod events;
mod forward;
mod inspector_report;
mod judge;
mod prefetch;
mod stats;
mod value;
mod verdict;

use std::sync::Arc;

use arc_swap::ArcSwap;

pub use admin::{SessionFilter, SessionInfo, SessionPage};
pub use alg::AlgCounters;
pub use events::{Event, EventKind};
pub use inspector_report::{
    sum_counter_values, sum_counters, InspectorCounters, PinholeTableCounters,
};
pub use prefetch::{SessionPrefetch, PREFETCH_BURST};
pub use stats::{
    PipelineStats, PipelineSummary, MAX_CLASSES, MAX_INTERFACES, MAX_PARAMETER_MAPS, MAX_ZONE_PAIRS,
};
pub use value::{SessionOrigin, SessionValue};
pub use verdict::{DecidedBy, DropReason, Verdict};

use crate::ids::{IfaceId, WorkerId};
use crate::packet::frag::{Reassembler, ReassemblyConfig};
use crate::pinhole::PinholeTable;
use crate::policy::{Policy, ZonePairId};
use crate::session::{SessionTable, SessionTableConfig, TcpPolicy};
use crate::time::Timestamp;

/// Events a worker queues between drains before it starts counting them as lost.
const EVENT_QUEUE: usize = 4096;
/// Timer events a worker processes per burst at most.
const TIMER_BUDGET: usize = 512;

/// Settings that are fixed for the life of the dataplane (not part of a policy push).
#[derive(Clone, Copy, Debug)]
pub struct DataplaneSettings {
    /// Pinholes open at once, all workers together.
    pub pinhole_capacity: u64,
    /// Keep every pinhole ever opened and every SIP dialog that ended, for reports
    /// (replay; never a running engine, where the lists would grow without bound).
    pub keep_history: bool,
    /// Fragment reassembly limits per worker.
    pub reassembly: ReassemblyConfig,
}

impl Default for DataplaneSettings {
    fn default() -> Self {
        DataplaneSettings {
            pinhole_capacity: 1 << 20,
            keep_history: false,
            reassembly: ReassemblyConfig::default(),
        }
    }
}

/// State shared by every worker.
pub struct Dataplane {
    policy: ArcSwap<Policy>,
    settings: DataplaneSettings,
    /// Expectations opened by inspectors, visible to every worker.
    pub pinholes: PinholeTable,
    /// Inspectors' shared call state.
    pub algs: alg::SharedAlgState,
    /// Sessions alive per parameter map (its `max_sessions` holds across workers),
    /// indexed by parameter-map position.
    param_map_sessions: Box<[std::sync::atomic::AtomicU32]>,
}

impl Dataplane {
    /// A dataplane with `policy` published as the first version and default settings.
    pub fn new(policy: Policy) -> Arc<Self> {
        Self::with_settings(policy, DataplaneSettings::default())
    }

    /// A dataplane with explicit settings.
    pub fn with_settings(policy: Policy, settings: DataplaneSettings) -> Arc<Self> {
        Arc::new(Dataplane {
            policy: ArcSwap::from_pointee(policy),
            pinholes: PinholeTable::new(settings.pinhole_capacity, settings.keep_history),
            algs: alg::SharedAlgState::new(settings.keep_history),
            param_map_sessions: (0..MAX_PARAMETER_MAPS)
                .map(|_| std::sync::atomic::AtomicU32::new(0))
                .collect(),
            settings,
        })
    }

    /// The policy currently published.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// Publish a new policy atomically. Bursts already started finish on the old one;
    /// existing sessions keep the decision they were created with (their zone pair must
    /// still exist, see [`Pipeline::begin_burst`]).
    pub fn publish(&self, policy: Policy) {
        self.policy.store(Arc::new(policy));
    }

    /// Reserve a session under parameter map `pm` if its `max_sessions` allows.
    fn reserve_session(&self, pm: crate::policy::ParamMapId, max: Option<u32>) -> bool {
        use std::sync::atomic::Ordering;
        let Some(count) = self.param_map_sessions.get(usize::from(pm.0)) else {
            return max.is_none();
        };
        match max {
            None => {
                count.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(max) => count
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < max).then_some(n + 1)
                })
                .is_ok(),
        }
    }

    /// Release a session of parameter map `pm`.
    fn release_session(&self, pm: crate::policy::ParamMapId) {
        if let Some(count) = self.param_map_sessions.get(usize::from(pm.0)) {
            let _ = count.fetch_update(
                std::sync::atomic::Ordering::AcqRel,
                std::sync::atomic::Ordering::Acquire,
                |n| Some(n.saturating_sub(1)),
            );
        }
    }

    /// Move a session's reservation from parameter map `from` to `to` (a push renumbered
    /// its map). The session exists already, so `to`'s `max_sessions` does not refuse it.
    fn move_session(&self, from: crate::policy::ParamMapId, to: crate::policy::ParamMapId) {
        if from == to {
            return;
        }
        self.release_session(from);
        if let Some(count) = self.param_map_sessions.get(usize::from(to.0)) {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The pipeline for worker `id`.
    pub fn worker(self: &Arc<Self>, id: WorkerId) -> Pipeline {
        let policy = self.policy();
        let mut config = SessionTableConfig::with_capacity(policy.sessions.capacity_per_worker);
        config.tcp = TcpPolicy {
            midstream_pickup: policy.sessions.midstream_pickup,
        };
        config.max_incomplete = judge::max_incomplete(&policy);
        Pipeline {
            shared: Arc::clone(self),
            worker: id,
            sessions: SessionTable::new(config),
            reassembler: Reassembler::new(self.settings.reassembly),
            stats: Arc::new(PipelineStats::default()),
            emitted: Vec::new(),
            events: Vec::with_capacity(EVENT_QUEUE),
            actions: Vec::new(),
            last: DecidedBy::Pass,
            last_zone_pair: None,
            last_sweep: Timestamp(0),
            alg_counters: AlgCounters::default(),
            sip: alg::SipInspectors::default(),
            last_dialog_sweep: Timestamp(0),
            ended: Vec::new(),
            policy,
        }
    }
}

/// One worker's pipeline: single-threaded, owns its session shard.
pub struct Pipeline {
    shared: Arc<Dataplane>,
    worker: WorkerId,
    policy: Arc<Policy>,
    sessions: SessionTable<SessionValue>,
    reassembler: Reassembler<Vec<u8>>,
    stats: Arc<PipelineStats>,
    emitted: Vec<(IfaceId, Vec<u8>)>,
    events: Vec<Event>,
    actions: Vec<crate::inspect::action::InspectAction>,
    last: DecidedBy,
    last_zone_pair: Option<ZonePairId>,
    last_sweep: Timestamp,
    alg_counters: AlgCounters,
    sip: alg::SipInspectors,
    last_dialog_sweep: Timestamp,
    /// Sessions the timers ended this burst, kept for its capacity.
    ended: Vec<(
        crate::session::Session<SessionValue>,
        crate::session::ExpiryReason,
    )>,
}

impl Pipeline {
    /// The worker this pipeline belongs to.
    pub fn worker(&self) -> WorkerId {
        self.worker
    }

    /// The policy the current burst is judged by.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The shared dataplane.
    pub fn dataplane(&self) -> &Arc<Dataplane> {
        &self.shared
    }

    /// This worker's counters (shareable with a reader thread).
    pub fn stats(&self) -> &Arc<PipelineStats> {
        &self.stats
    }

    /// The session shard (for dumps and tests).
    pub fn sessions(&self) -> &SessionTable<SessionValue> {
        &self.sessions
    }

    /// How the last processed packet was decided, and under which zone pair.
    pub fn last_decision(&self) -> (DecidedBy, Option<ZonePairId>) {
        (self.last, self.last_zone_pair)
    }

    /// Start a burst: load the published policy once for every packet of the burst. When
    /// the policy changed, sessions whose zone pair no longer exists are cleared (the
    /// documented rule: existing sessions keep running under the decision that created
    /// them as long as their zone pair, by name, survives the push).
    pub fn begin_burst(&mut self, now: Timestamp) {
        let current = self.shared.policy.load();
        if Arc::ptr_eq(&current, &self.policy) {
            return;
        }
        let next = arc_swap::Guard::into_inner(current);
        self.adopt_policy(next, now);
    }

    /// Judge one packet that arrived on `ingress` at `now`. The packet may be rewritten
    /// in place (routed mode).
    pub fn process(&mut self, packet: &mut [u8], ingress: IfaceId, now: Timestamp) -> Verdict {
        self.stats.packets.inc();
        self.stats.bytes.add(packet.len() as u64);
        self.last_zone_pair = None;
        let verdict = self.judge_frame(packet, ingress, now);
        match verdict {
            Verdict::Forward(egress) => {
                self.stats.forwarded.inc();
                if let Some(c) = self.stats.interfaces_out.get(egress.index()) {
                    c.packet(packet.len());
                }
            }
            Verdict::Drop(reason) => {
                self.stats.count_drop(reason);
                self.last = DecidedBy::Drop(reason);
            }
            Verdict::Consumed => {
                self.stats.consumed.inc();
                self.last = DecidedBy::Held;
            }
        }
        verdict
    }

    /// Frames the pipeline releases on its own (the fragments of a datagram that was
    /// reassembled and judged "forward"), with their egress interface. The driver sends
    /// them after the burst.
    pub fn take_emitted(&mut self) -> std::vec::Drain<'_, (IfaceId, Vec<u8>)> {
        self.emitted.drain(..)
    }

    /// Audit and alert events since the last call.
    pub fn take_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// End a burst: age sessions and fragments, sweep pinholes (worker 0, once a second).
    pub fn end_burst(&mut self, now: Timestamp) {
        self.age(now, TIMER_BUDGET);
        if now.since(self.last_dialog_sweep).as_secs() >= 1 {
            self.last_dialog_sweep = now;
            self.expire_sip(now);
        }
        if self.worker.0 == 0 && now.since(self.last_sweep).as_secs() >= 1 {
            self.last_sweep = now;
            self.shared.pinholes.sweep(now);
        }
    }

    /// Age everything to `now` without a budget (replay's end of capture, tests).
    pub fn flush_timers(&mut self, now: Timestamp) {
        self.age(now, usize::MAX);
        self.shared.pinholes.sweep(now);
    }

    fn push_event(&mut self, event: Event) {
        if self.events.len() < EVENT_QUEUE {
            self.events.push(event);
        } else {
            self.stats.events_lost.inc();
        }
    }
}
