//! One worker's pipeline counters, shared read-only with the control side.

use serde::Serialize;

use super::verdict::DropReason;
use crate::stats::{Counter, CounterTable};

/// Most zone pairs a policy may have (counter tables are sized once).
pub const MAX_ZONE_PAIRS: usize = 1024;
/// Most classes (policy map × class, class-default included) a policy may have.
pub const MAX_CLASSES: usize = 4096;
/// Most interfaces.
pub const MAX_INTERFACES: usize = 256;
/// Most parameter maps (the built-in `default` included).
pub const MAX_PARAMETER_MAPS: usize = 1024;

/// Counters of one worker's pipeline; single writer (the worker).
#[derive(Debug)]
pub struct PipelineStats {
    /// Packets processed.
    pub packets: Counter,
    /// Bytes processed.
    pub bytes: Counter,
    /// Packets forwarded.
    pub forwarded: Counter,
    /// Packets dropped (sum of `drops`).
    pub dropped: Counter,
    /// Fragments held for reassembly.
    pub consumed: Counter,
    /// Non-IP frames passed on a virtual wire.
    pub non_ip_passed: Counter,
    /// Packets of existing sessions.
    pub session_hits: Counter,
    /// Sessions created by `inspect`.
    pub sessions_inspected: Counter,
    /// Child sessions created from pinholes.
    pub sessions_from_pinholes: Counter,
    /// Sessions ended (aged, closed, cleared).
    pub sessions_ended: Counter,
    /// New flows passed statelessly (`pass`, or no zone policy applies).
    pub stateless_passes: Counter,
    /// New flows that reached a pinhole's destination from a source it does not admit.
    pub pinhole_wrong_source: Counter,
    /// ICMP errors forwarded because they concern an existing session.
    pub related_icmp: Counter,
    /// Events lost because the event queue was full.
    pub events_lost: Counter,
    /// Drops by reason (index: [`DropReason::code`]).
    pub drops: Box<[Counter]>,
    /// Per zone pair.
    pub zone_pairs: CounterTable,
    /// Per class (policy map / class).
    pub classes: CounterTable,
    /// Per ingress interface.
    pub interfaces_in: CounterTable,
    /// Per egress interface.
    pub interfaces_out: CounterTable,
}

impl Default for PipelineStats {
    fn default() -> Self {
        PipelineStats {
            packets: Counter::default(),
            bytes: Counter::default(),
            forwarded: Counter::default(),
            dropped: Counter::default(),
            consumed: Counter::default(),
            non_ip_passed: Counter::default(),
            session_hits: Counter::default(),
            sessions_inspected: Counter::default(),
            sessions_from_pinholes: Counter::default(),
            sessions_ended: Counter::default(),
            stateless_passes: Counter::default(),
            pinhole_wrong_source: Counter::default(),
            related_icmp: Counter::default(),
            events_lost: Counter::default(),
            drops: (0..DropReason::COUNT).map(|_| Counter::default()).collect(),
            zone_pairs: CounterTable::with_len(MAX_ZONE_PAIRS),
            classes: CounterTable::with_len(MAX_CLASSES),
            interfaces_in: CounterTable::with_len(MAX_INTERFACES),
            interfaces_out: CounterTable::with_len(MAX_INTERFACES),
        }
    }
}

impl PipelineStats {
    /// Count a drop.
    #[inline]
    pub fn count_drop(&self, reason: DropReason) {
        self.dropped.inc();
        if let Some(c) = self.drops.get(reason.code()) {
            c.inc();
        }
    }

    /// Non-zero drop counters by name.
    pub fn drops_by_name(&self) -> Vec<(&'static str, u64)> {
        self.drops
            .iter()
            .enumerate()
            .filter(|(_, c)| c.get() > 0)
            .filter_map(|(i, c)| DropReason::from_code(i).map(|r| (r.as_str(), c.get())))
            .collect()
    }
}

/// A plain snapshot of the headline numbers (for summaries and reports).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PipelineSummary {
    /// Packets processed.
    pub packets: u64,
    /// Forwarded.
    pub forwarded: u64,
    /// Dropped.
    pub dropped: u64,
    /// Held for reassembly.
    pub consumed: u64,
    /// Sessions created by `inspect` on this worker.
    pub sessions_inspected: u64,
    /// Child sessions created from pinholes on this worker.
    pub sessions_from_pinholes: u64,
    /// Packets of existing sessions on this worker.
    pub session_hits: u64,
}

impl PipelineStats {
    /// Headline numbers.
    pub fn summary(&self) -> PipelineSummary {
        PipelineSummary {
            packets: self.packets.get(),
            forwarded: self.forwarded.get(),
            dropped: self.dropped.get(),
            consumed: self.consumed.get(),
            sessions_inspected: self.sessions_inspected.get(),
            sessions_from_pinholes: self.sessions_from_pinholes.get(),
            session_hits: self.session_hits.get(),
        }
    }
}
