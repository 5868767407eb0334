//! The software hand-off: when the NICs cannot keep both directions of a flow in one
//! worker's queues, every worker hashes what it receives ([`crate::steer`]) and passes
//! packets of flows it does not own to their owner through that worker's inbox, a
//! bounded multi-producer single-consumer ring. The owner drains its inbox in its loop
//! beside its RX queues.
//!
//! Hand-offs are batched per owner during a burst and enqueued after it; a full inbox
//! refuses the packets, which are freed and counted (`handoff_ring_full`), never waited
//! for. A handed packet carries the index of its ingress port among the worker's ports
//! (the same order in every worker) in the mbuf's `port` field.
//!
//! At stop, each worker first hands off what it has batched and drops its producer ends;
//! it then drains its inbox until every producer is gone, so no packet stays in a ring.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use dpdk_sys::{mbuf_ring, Mbuf, RingConsumer, RingProducer, RxBurst, TxBuffer};
use serde::Serialize;

use super::counters::bump;
use crate::steer;

/// Packets each worker's inbox holds (a ring of 1024 slots).
pub const INBOX_CAPACITY: u32 = 1023;

/// Rings get process-unique names (DPDK refuses a name twice).
static RING_GENERATION: AtomicU32 = AtomicU32::new(0);

/// One worker's hand-off counters; the worker is the only writer.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct HandoffCounters {
    sent: AtomicU64,
    received: AtomicU64,
    dropped_full: AtomicU64,
}

impl HandoffCounters {
    /// A copy for reports.
    pub fn snapshot(&self) -> HandoffSnapshot {
        HandoffSnapshot {
            sent: self.sent.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            dropped_full: self.dropped_full.load(Ordering::Relaxed),
        }
    }
}

/// One worker's hand-off counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HandoffSnapshot {
    /// Packets this worker received and passed to their flow's owner.
    pub sent: u64,
    /// Packets other workers passed to this one.
    pub received: u64,
    /// Packets refused by a full inbox of their owner (freed; also in the drops as
    /// `handoff_ring_full`).
    pub dropped_full: u64,
}

/// One worker's end of the hand-off: its inbox and the other workers' inboxes.
pub(crate) struct Handoff {
    me: u16,
    inbox: RingConsumer,
    /// Indexed by worker; `None` for this worker (and once stopped).
    peers: Vec<Option<RingProducer>>,
    /// Packets batched for each worker during the current burst.
    outbox: Vec<TxBuffer>,
    counters: Arc<HandoffCounters>,
}

/// The hand-off ends of `workers` workers (index = worker), with their counters.
pub(crate) fn build(workers: u16) -> Result<Vec<(Handoff, Arc<HandoffCounters>)>, dpdk_sys::Error> {
    let generation = RING_GENERATION.fetch_add(1, Ordering::Relaxed);
    let mut producers = Vec::with_capacity(usize::from(workers));
    let mut consumers = Vec::with_capacity(usize::from(workers));
    for w in 0..workers {
        let (producer, consumer) =
            mbuf_ring(&format!("pinhole_ho{generation}_{w}"), INBOX_CAPACITY, -1)?;
        producers.push(producer);
        consumers.push(consumer);
    }
    let ends = consumers
        .into_iter()
        .zip(0u16..)
        .map(|(inbox, me)| {
            let peers = producers
                .iter()
                .zip(0u16..)
                .map(|(p, w)| (w != me).then(|| p.clone()))
                .collect();
            let counters = Arc::new(HandoffCounters::default());
            let handoff = Handoff {
                me,
                inbox,
                peers,
                outbox: (0..workers).map(|_| TxBuffer::default()).collect(),
                counters: Arc::clone(&counters),
            };
            (handoff, counters)
        })
        .collect();
    // `producers` (the originals) drop here: only the workers' clones remain.
    Ok(ends)
}

/// Mbufs the hand-off may hold at once (inboxes full, one batch per worker pair).
pub fn mbufs_needed(workers: usize) -> usize {
    if workers <= 1 {
        return 0;
    }
    workers.saturating_mul(INBOX_CAPACITY as usize + workers.saturating_mul(dpdk_sys::BURST_SIZE))
}

/// What [`Handoff::claim`] did with a packet.
pub(crate) enum Claim {
    /// This worker owns the packet's flow (or no worker does in particular).
    Mine(Mbuf),
    /// Batched for its owner (sent by [`Handoff::flush`] after the burst).
    HandedOff,
}

impl Handoff {
    /// Keep `m` when this worker owns its flow; otherwise batch it for its owner, with
    /// `slot` (the worker's index of the port it arrived on; every worker lists the
    /// ports in the same order) recorded as its ingress.
    ///
    /// A batch holds a whole RX burst and is flushed after every burst, so it cannot be
    /// full here; should it be, the packet keeps its own worker rather than be lost.
    pub(crate) fn claim(&mut self, mut m: Mbuf, slot: u16) -> Claim {
        let workers = u16::try_from(self.outbox.len()).unwrap_or(u16::MAX);
        let owner = match steer::owner(m.data(), workers) {
            Some(owner) if owner != self.me => usize::from(owner),
            _ => return Claim::Mine(m),
        };
        m.set_port(slot);
        let Some(batch) = self.outbox.get_mut(owner) else {
            return Claim::Mine(m);
        };
        match batch.push(m) {
            Ok(()) => Claim::HandedOff,
            Err(m) => Claim::Mine(m),
        }
    }

    /// Enqueue `owner`'s batch into its inbox; the number refused (freed).
    fn send(&mut self, owner: usize) -> u64 {
        let (Some(batch), Some(Some(peer))) = (self.outbox.get_mut(owner), self.peers.get(owner))
        else {
            return 0;
        };
        let outcome = peer.enqueue(batch);
        bump(&self.counters.sent, u64::from(outcome.sent));
        bump(&self.counters.dropped_full, u64::from(outcome.dropped));
        u64::from(outcome.dropped)
    }

    /// Enqueue every batch; the number of packets refused by full inboxes (freed).
    pub(crate) fn flush(&mut self) -> u64 {
        let mut dropped = 0;
        for owner in 0..self.outbox.len() {
            if self.outbox.get(owner).is_some_and(|b| !b.is_empty()) {
                dropped += self.send(owner);
            }
        }
        dropped
    }

    /// Take up to a burst of packets other workers handed to this one.
    pub(crate) fn receive(&mut self, burst: &mut RxBurst) -> usize {
        let n = self.inbox.dequeue(burst);
        bump(&self.counters.received, n as u64);
        n
    }

    /// Stop handing off: send what is batched and give up the producer ends. Returns the
    /// number of packets refused by full inboxes.
    pub(crate) fn close_outgoing(&mut self) -> u64 {
        let dropped = self.flush();
        self.peers.clear();
        dropped
    }

    /// Whether another worker may still hand packets to this one.
    pub(crate) fn may_receive_more(&self) -> bool {
        self.inbox.has_producers()
    }
}
