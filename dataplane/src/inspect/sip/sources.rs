//! The bounded table of signalling sources one profile tracks: per source address, a
//! token bucket per rate-limited method and the block list's rejection window.
//!
//! Shared by every worker (one source's messages may arrive on several flows, hence on
//! several workers), sharded like the dialog table. A full shard refuses a new source
//! before allocating for it; idle sources are swept one shard at a time.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ahash::RandomState;
use hashbrown::HashTable;

use super::block_list::RejectionWindow;
use super::profile::{SipProfile, MAX_RATE_LIMITS};
use super::rate_limit::TokenBucket;
use crate::time::Timestamp;

const SHARDS: usize = 16;

/// The table refused to track a new source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("source table full")]
pub struct SourceTableFull;

/// What the profile remembers about one source address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceState {
    ip: IpAddr,
    /// One bucket per entry of the profile's `rate_limits`, by position.
    pub buckets: [TokenBucket; MAX_RATE_LIMITS],
    /// Rejected INVITEs and block.
    pub rejections: RejectionWindow,
}

impl SourceState {
    fn new(ip: IpAddr) -> Self {
        SourceState {
            ip,
            buckets: [TokenBucket::default(); MAX_RATE_LIMITS],
            rejections: RejectionWindow::default(),
        }
    }

    /// Whether forgetting this source at `now` changes nothing: every bucket full, no
    /// block, no open rejection window.
    fn is_idle(&self, now: Timestamp, profile: &SipProfile) -> bool {
        let buckets_full = profile
            .rate_limits
            .iter()
            .zip(self.buckets.iter())
            .all(|(limit, b)| b.is_full(now, limit.per_second, limit.burst));
        let rejections_idle = match &profile.block {
            Some(policy) => self.rejections.is_idle(now, policy),
            None => !self.rejections.is_blocked(now),
        };
        buckets_full && rejections_idle
    }
}

/// Sources of one profile, sharded by address.
pub struct SourceTable {
    shards: Box<[Mutex<HashTable<SourceState>>]>,
    hasher: RandomState,
    sweep_cursor: AtomicUsize,
}

impl Default for SourceTable {
    fn default() -> Self {
        SourceTable {
            shards: (0..SHARDS).map(|_| Mutex::new(HashTable::new())).collect(),
            hasher: RandomState::new(),
            sweep_cursor: AtomicUsize::new(0),
        }
    }
}

impl std::fmt::Debug for SourceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceTable")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl SourceTable {
    /// Sources tracked.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether no source is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, ip: &IpAddr) -> (u64, Option<MutexGuard<'_, HashTable<SourceState>>>) {
        let hash = self.hasher.hash_one(ip);
        let len = u64::try_from(self.shards.len()).unwrap_or(1).max(1);
        let idx = usize::try_from(hash % len).unwrap_or_default();
        (hash, self.shards.get(idx).map(lock))
    }

    /// Run `f` on `ip`'s state if it is tracked.
    pub fn get<R>(&self, ip: IpAddr, f: impl FnOnce(&mut SourceState) -> R) -> Option<R> {
        let (hash, shard) = self.shard(&ip);
        shard?.find_mut(hash, |s| s.ip == ip).map(f)
    }

    /// Run `f` on `ip`'s state, tracking it first if needed; a new source is refused
    /// when its shard holds its share of `max_sources`.
    pub fn upsert<R>(
        &self,
        ip: IpAddr,
        max_sources: usize,
        f: impl FnOnce(&mut SourceState) -> R,
    ) -> Result<R, SourceTableFull> {
        let (hash, shard) = self.shard(&ip);
        let mut shard = shard.ok_or(SourceTableFull)?;
        if let Some(state) = shard.find_mut(hash, |s| s.ip == ip) {
            return Ok(f(state));
        }
        if shard.len() >= max_sources.div_ceil(self.shards.len().max(1)) {
            return Err(SourceTableFull);
        }
        let entry = shard.insert_unique(hash, SourceState::new(ip), |s| self.hasher.hash_one(s.ip));
        Ok(f(entry.into_mut()))
    }

    /// Forget the idle sources of one shard (bounded work; call periodically).
    pub fn sweep(&self, now: Timestamp, profile: &SipProfile) {
        let idx = self.sweep_cursor.fetch_add(1, Ordering::Relaxed) % self.shards.len().max(1);
        if let Some(shard) = self.shards.get(idx) {
            lock(shard).retain(|s| !s.is_idle(now, profile));
        }
    }
}

/// A poisoned shard still holds consistent entries (plain field writes), so keep it.
fn lock(m: &Mutex<HashTable<SourceState>>) -> MutexGuard<'_, HashTable<SourceState>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::inspect::sip::profile::{BlockPolicy, RateLimit};

    fn profile() -> SipProfile {
        SipProfile {
            rate_limits: vec![RateLimit {
                method: b"INVITE".as_slice().into(),
                per_second: 1,
                burst: 1,
            }],
            block: Some(BlockPolicy {
                rejected_invites: 1,
                window: Duration::from_secs(5),
                duration: Duration::from_secs(30),
                count_challenges: false,
            }),
            ..SipProfile::default()
        }
    }

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn full_table_refuses_new_sources_but_serves_known_ones() {
        let t = SourceTable::default();
        let mut admitted = Vec::new();
        for n in 0..1000 {
            if t.upsert(ip(n), 32, |_| ()).is_ok() {
                admitted.push(n);
            }
        }
        // Each of the 16 shards holds its share (2): 32 in all.
        assert_eq!(t.len(), 32);
        assert_eq!(admitted.len(), 32);
        assert!(t.upsert(ip(admitted[0]), 32, |_| ()).is_ok());
        assert_eq!(t.len(), 32);
    }

    #[test]
    fn sweep_forgets_only_idle_sources() {
        let p = profile();
        let t = SourceTable::default();
        let now = Timestamp::from_secs(100);
        t.upsert(ip(1), 100, |s| assert!(s.buckets[0].try_take(now, 1, 1)))
            .unwrap();
        t.upsert(ip(2), 100, |s| {
            s.rejections.record(now, p.block.as_ref().unwrap())
        })
        .unwrap();
        for _ in 0..SHARDS {
            t.sweep(now, &p);
        }
        assert_eq!(t.len(), 2, "a drained bucket and a block are remembered");
        let later = now.after(Duration::from_secs(2));
        for _ in 0..SHARDS {
            t.sweep(later, &p);
        }
        assert_eq!(t.len(), 1, "the bucket refilled; the block still runs");
        assert!(t.get(ip(2), |s| s.rejections.is_blocked(later)).unwrap());
        let after_block = now.after(Duration::from_secs(30));
        for _ in 0..SHARDS {
            t.sweep(after_block, &p);
        }
        assert!(t.is_empty());
    }
}
