//! Per-worker counters: one writer (the worker), read by the control thread without locks.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::pipeline::DropReason;

/// One worker's counters, on their own cache lines so workers never share one.
///
/// The worker is the only writer: it publishes with plain `Relaxed` load + store (no
/// locked read-modify-write); readers see monotonic, possibly slightly stale values.
#[derive(Debug)]
#[repr(align(64))]
pub struct WorkerCounters {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    tx_packets: AtomicU64,
    tx_unsent: AtomicU64,
    egress_unmapped: AtomicU64,
    consumed: AtomicU64,
    emitted: AtomicU64,
    emit_failed: AtomicU64,
    events_lost: AtomicU64,
    bursts: AtomicU64,
    drops: Box<[AtomicU64]>,
}

impl Default for WorkerCounters {
    fn default() -> Self {
        WorkerCounters {
            rx_packets: AtomicU64::new(0),
            rx_bytes: AtomicU64::new(0),
            tx_packets: AtomicU64::new(0),
            tx_unsent: AtomicU64::new(0),
            egress_unmapped: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            emitted: AtomicU64::new(0),
            emit_failed: AtomicU64::new(0),
            events_lost: AtomicU64::new(0),
            bursts: AtomicU64::new(0),
            drops: (0..DropReason::COUNT).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// Counts a worker gathers during one burst before publishing them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BurstCounts {
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets the drivers accepted for sending.
    pub tx_packets: u64,
    /// Packets forwarded but refused by a full TX queue (freed).
    pub tx_unsent: u64,
    /// Packets forwarded to an interface whose port the engine does not drive (freed).
    pub egress_unmapped: u64,
    /// Packets the pipeline kept (fragments awaiting reassembly; the mbuf is freed).
    pub consumed: u64,
    /// Frames the pipeline released on its own (reassembled datagrams' fragments).
    pub emitted: u64,
    /// Emitted frames that could not be sent (no mbuf, too big, no port); freed.
    pub emit_failed: u64,
    /// Events the control thread's channel had no room for.
    pub events_lost: u64,
}

/// Add `by` to a single-writer counter (plain load + store, no locked RMW).
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    if by != 0 {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(by),
            Ordering::Relaxed,
        );
    }
}

impl WorkerCounters {
    /// Publish one burst's counts. Only the owning worker calls this.
    pub fn publish(&self, burst: &BurstCounts) {
        bump(&self.rx_packets, burst.rx_packets);
        bump(&self.rx_bytes, burst.rx_bytes);
        bump(&self.tx_packets, burst.tx_packets);
        bump(&self.tx_unsent, burst.tx_unsent);
        bump(&self.egress_unmapped, burst.egress_unmapped);
        bump(&self.consumed, burst.consumed);
        bump(&self.emitted, burst.emitted);
        bump(&self.emit_failed, burst.emit_failed);
        bump(&self.events_lost, burst.events_lost);
        bump(&self.bursts, 1);
    }

    /// Count one packet dropped by the pipeline. Only the owning worker calls this.
    pub fn count_drop(&self, reason: DropReason) {
        self.count_drops(reason, 1);
    }

    /// Count `n` packets dropped for `reason`. Only the owning worker calls this.
    pub fn count_drops(&self, reason: DropReason, n: u64) {
        if let Some(c) = self.drops.get(reason.code()) {
            bump(c, n);
        }
    }

    /// Packets received so far (cheap; the control thread polls it for idleness).
    pub fn rx_packets(&self) -> u64 {
        self.rx_packets.load(Ordering::Relaxed)
    }

    /// A consistent-enough copy for reports.
    pub fn snapshot(&self) -> CounterSnapshot {
        // Only reasons that happened: there are dozens.
        let drops = self
            .drops
            .iter()
            .enumerate()
            .map(|(code, c)| (code, c.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .filter_map(|(code, n)| DropReason::from_code(code).map(|r| (r.as_str().to_owned(), n)))
            .collect();
        CounterSnapshot {
            rx_packets: self.rx_packets.load(Ordering::Relaxed),
            rx_bytes: self.rx_bytes.load(Ordering::Relaxed),
            tx_packets: self.tx_packets.load(Ordering::Relaxed),
            tx_unsent: self.tx_unsent.load(Ordering::Relaxed),
            egress_unmapped: self.egress_unmapped.load(Ordering::Relaxed),
            consumed: self.consumed.load(Ordering::Relaxed),
            emitted: self.emitted.load(Ordering::Relaxed),
            emit_failed: self.emit_failed.load(Ordering::Relaxed),
            events_lost: self.events_lost.load(Ordering::Relaxed),
            bursts: self.bursts.load(Ordering::Relaxed),
            drops,
        }
    }
}

/// A worker's counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CounterSnapshot {
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Packets refused by a full TX queue (freed).
    pub tx_unsent: u64,
    /// Packets forwarded to an interface on no engine port (freed).
    pub egress_unmapped: u64,
    /// Packets the pipeline kept (fragments awaiting reassembly).
    pub consumed: u64,
    /// Frames the pipeline released on its own (sent like forwarded packets).
    pub emitted: u64,
    /// Emitted frames that could not be sent.
    pub emit_failed: u64,
    /// Events lost because the control thread's channel was full.
    pub events_lost: u64,
    /// Bursts that carried at least one packet.
    pub bursts: u64,
    /// Pipeline drops by reason (reasons that occurred).
    pub drops: std::collections::BTreeMap<String, u64>,
}

impl CounterSnapshot {
    /// Every packet or frame dropped, whatever the cause.
    pub fn dropped(&self) -> u64 {
        self.drops.values().sum::<u64>() + self.tx_unsent + self.egress_unmapped + self.emit_failed
    }

    /// Add `other` field by field (totals over workers).
    pub fn add(&mut self, other: &CounterSnapshot) {
        self.rx_packets += other.rx_packets;
        self.rx_bytes += other.rx_bytes;
        self.tx_packets += other.tx_packets;
        self.tx_unsent += other.tx_unsent;
        self.egress_unmapped += other.egress_unmapped;
        self.consumed += other.consumed;
        self.emitted += other.emitted;
        self.emit_failed += other.emit_failed;
        self.events_lost += other.events_lost;
        self.bursts += other.bursts;
        for (reason, n) in &other.drops {
            *self.drops.entry(reason.clone()).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_bursts_and_drops_add_up_in_the_snapshot() {
        let c = WorkerCounters::default();
        c.publish(&BurstCounts {
            rx_packets: 5,
            rx_bytes: 300,
            tx_packets: 3,
            tx_unsent: 1,
            ..BurstCounts::default()
        });
        c.publish(&BurstCounts {
            rx_packets: 2,
            rx_bytes: 100,
            tx_packets: 1,
            ..BurstCounts::default()
        });
        c.count_drop(DropReason::NoEgress);
        c.count_drop(DropReason::NoEgress);
        let s = c.snapshot();
        assert_eq!(
            (
                s.rx_packets,
                s.rx_bytes,
                s.tx_packets,
                s.tx_unsent,
                s.bursts
            ),
            (7, 400, 4, 1, 2)
        );
        assert_eq!(s.drops.get("no_egress"), Some(&2));
        assert_eq!(s.drops.get("unknown_ingress"), None);
        assert_eq!(s.dropped(), 3);
        assert_eq!(c.rx_packets(), 7);
        let mut total = s.clone();
        total.add(&s);
        assert_eq!((total.rx_packets, total.dropped()), (14, 6));
        assert_eq!(total.drops.get("no_egress"), Some(&4));
    }

    #[test]
    fn counters_of_two_workers_never_share_a_cache_line() {
        assert!(std::mem::align_of::<WorkerCounters>() >= 64);
    }
}
