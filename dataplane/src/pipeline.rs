//! The sans-IO pipeline: `process(packet, ingress, now) -> Verdict`.
//!
//! [`Dataplane`] holds what all workers share (the published policy, the pinhole
//! table); [`Pipeline`] is one worker's view with its own session shard and counters.
//! Callers drive it per burst: [`Pipeline::begin_burst`], then [`Pipeline::process`] for
//! each packet, then [`Pipeline::end_burst`] (timers, commands).

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::ids::{IfaceId, WorkerId};
use crate::policy::{Forwarding, Policy};
use crate::time::Timestamp;

/// Why a packet was dropped. Every drop has exactly one named reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// The ingress interface is not in the policy.
    UnknownIngress,
    /// No egress interface for this packet (no peer, no route).
    NoEgress,
}

impl DropReason {
    /// Every reason, in a stable order (for counters and reports).
    pub const ALL: &'static [DropReason] = &[DropReason::UnknownIngress, DropReason::NoEgress];

    /// The stable snake_case name used in counters, logs and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownIngress => "unknown_ingress",
            DropReason::NoEgress => "no_egress",
        }
    }

    /// Dense index of this reason in [`DropReason::ALL`].
    pub fn index(self) -> usize {
        DropReason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// What to do with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it out of this interface (the packet may have been rewritten in place).
    Forward(IfaceId),
    /// Drop it, for this reason.
    Drop(DropReason),
}

/// State shared by every worker: the published policy (and, later, pinholes and calls).
pub struct Dataplane {
    policy: ArcSwap<Policy>,
}

impl Dataplane {
    /// A dataplane with `policy` published as the first version.
    pub fn new(policy: Policy) -> Arc<Self> {
        Arc::new(Dataplane {
            policy: ArcSwap::from_pointee(policy),
        })
    }

    /// The policy currently published.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// Publish a new policy atomically; bursts that already started finish on the old one.
    pub fn publish(&self, policy: Policy) {
        self.policy.store(Arc::new(policy));
    }

    /// The pipeline for worker `id`.
    pub fn worker(self: &Arc<Self>, id: WorkerId) -> Pipeline {
        Pipeline {
            shared: Arc::clone(self),
            worker: id,
            policy: self.policy(),
        }
    }
}

/// One worker's pipeline: owns its session shard and counters, single-threaded.
pub struct Pipeline {
    shared: Arc<Dataplane>,
    worker: WorkerId,
    policy: Arc<Policy>,
}

impl Pipeline {
    /// The worker this pipeline belongs to.
    pub fn worker(&self) -> WorkerId {
        self.worker
    }

    /// The policy this burst is judged by.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Start a burst: load the published policy once for every packet of the burst.
    pub fn begin_burst(&mut self, _now: Timestamp) {
        let current = self.shared.policy.load();
        if !Arc::ptr_eq(&current, &self.policy) {
            self.policy = arc_swap::Guard::into_inner(current);
        }
    }

    /// Judge one packet that arrived on `ingress` at `now`.
    pub fn process(&mut self, _packet: &mut [u8], ingress: IfaceId, _now: Timestamp) -> Verdict {
        let Some(_iface) = self.policy.interface(ingress) else {
            return Verdict::Drop(DropReason::UnknownIngress);
        };
        match &self.policy.forwarding {
            Forwarding::VirtualWire { peer } => match peer.get(ingress.index()).copied().flatten() {
                Some(egress) => Verdict::Forward(egress),
                None => Verdict::Drop(DropReason::NoEgress),
            },
        }
    }

    /// End a burst: run due timers and answer control commands.
    pub fn end_burst(&mut self, _now: Timestamp) {}
}
