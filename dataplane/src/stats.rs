//! Counters written by exactly one worker and read by anyone without locks.
//!
//! A [`Counter`] is an `AtomicU64` updated with a relaxed load and store (no locked
//! read-modify-write: there is a single writer), so readers on the control thread see a
//! recent value at no cost to the fast path.

use std::sync::atomic::{AtomicU64, Ordering};

/// A single-writer counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Add `n` (single writer only).
    #[inline]
    pub fn add(&self, n: u64) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v.wrapping_add(n), Ordering::Relaxed);
    }

    /// Add one (single writer only).
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Clone for Counter {
    fn clone(&self) -> Self {
        Counter(AtomicU64::new(self.get()))
    }
}

impl serde::Serialize for Counter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.get())
    }
}

/// Packets, bytes and sessions of one policy object (zone pair, class, interface).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct TrafficCounters {
    /// Packets.
    pub packets: Counter,
    /// Bytes.
    pub bytes: Counter,
    /// Sessions created.
    pub sessions: Counter,
}

impl TrafficCounters {
    /// Count one packet of `bytes`.
    #[inline]
    pub fn packet(&self, bytes: usize) {
        self.packets.inc();
        self.bytes.add(bytes as u64);
    }
}

/// A fixed-size set of counters indexed densely (zone pairs, classes, interfaces).
/// Sized once, at the policy limits, so readers never race a resize.
#[derive(Debug, Default)]
pub struct CounterTable {
    entries: Box<[TrafficCounters]>,
}

impl CounterTable {
    /// A table of `n` zeroed entries.
    pub fn with_len(n: usize) -> Self {
        CounterTable {
            entries: (0..n).map(|_| TrafficCounters::default()).collect(),
        }
    }

    /// The entry at `i`, if present.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&TrafficCounters> {
        self.entries.get(i)
    }

    /// All entries.
    pub fn entries(&self) -> &[TrafficCounters] {
        &self.entries
    }
}
