//! Skinny stations (registration, call rate, pinhole count) in a table every worker can
//! reach.
//!
//! A station's control connection lives on one worker, but a phone that reconnects, or a
//! second connection of the same device, may land on another; registration and the
//! per-station limits must hold across them. This state changes at signalling rate
//! (registrations, call set-ups: a few per second per station), never per media packet,
//! so a sharded `Mutex<HashMap>` costs a short, rarely contended critical section per
//! Skinny PDU and keeps the code simple; an RCU structure would only pay for itself on
//! the per-packet path. The table is bounded: each shard is allocated once at its
//! capacity and never grows.

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use hashbrown::HashMap;

use super::inspector::ControlSessionId;
use crate::time::Timestamp;

/// How many recent call ids a station remembers to tell a new call from a known one.
const RECENT_CALLS: usize = 16;

/// Where a station is in its registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Registration {
    /// Seen, but no Register yet (e.g. inspection started mid-session).
    Unknown,
    /// Register sent, no answer yet.
    Registering,
    /// RegisterAck received.
    Registered,
    /// RegisterReject received.
    Rejected,
    /// Unregistered (UnregisterAck, or its control session ended).
    Unregistered,
}

/// What the table knows about one station.
#[derive(Clone, Copy, Debug)]
pub struct Station {
    /// Registration state.
    pub registration: Registration,
    /// The control session that registered it.
    pub registered_by: Option<ControlSessionId>,
    /// The device name from its Register (NUL padded).
    pub device_name: [u8; 16],
    /// Last time a PDU concerned it.
    pub last_seen: Timestamp,
    /// Pinholes it holds open.
    pub pinholes: u32,
    window_second: u64,
    calls_in_window: u32,
    recent_calls: [u32; RECENT_CALLS],
    recent_len: usize,
    recent_next: usize,
}

/// The answer of [`Station::admit_call`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallAdmission {
    /// A call this station already has.
    Known,
    /// A new call, within the rate.
    New,
    /// A new call beyond the rate: refuse it.
    Flood,
}

impl Station {
    fn new(now: Timestamp) -> Self {
        Station {
            registration: Registration::Unknown,
            registered_by: None,
            device_name: [0; 16],
            last_seen: now,
            pinholes: 0,
            window_second: now.as_secs(),
            calls_in_window: 0,
            recent_calls: [0; RECENT_CALLS],
            recent_len: 0,
            recent_next: 0,
        }
    }

    /// Count `call_id` against the per-second rate if this station has not seen it.
    pub fn admit_call(&mut self, call_id: u32, now: Timestamp, per_second: u32) -> CallAdmission {
        let known = self.recent_calls.get(..self.recent_len).unwrap_or_default();
        if known.contains(&call_id) {
            return CallAdmission::Known;
        }
        let second = now.as_secs();
        if second != self.window_second {
            self.window_second = second;
            self.calls_in_window = 0;
        }
        if self.calls_in_window >= per_second {
            return CallAdmission::Flood;
        }
        self.calls_in_window += 1;
        if let Some(slot) = self.recent_calls.get_mut(self.recent_next) {
            *slot = call_id;
        }
        self.recent_next = (self.recent_next + 1) % RECENT_CALLS;
        self.recent_len = (self.recent_len + 1).min(RECENT_CALLS);
        CallAdmission::New
    }
}

type Shard = HashMap<IpAddr, Station, ahash::RandomState>;

/// Every station the Skinny inspectors know, shared by all workers.
#[derive(Debug)]
pub struct SkinnyTable {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    hasher: ahash::RandomState,
}

impl SkinnyTable {
    /// A table for at most about `capacity` stations, in `shards` shards (at least 1).
    pub fn new(capacity: usize, shards: usize) -> Self {
        let shards = shards.max(1);
        let per_shard = capacity.div_ceil(shards).max(1);
        let make = || {
            Mutex::new(HashMap::with_capacity_and_hasher(
                per_shard,
                ahash::RandomState::new(),
            ))
        };
        SkinnyTable {
            shards: (0..shards).map(|_| make()).collect(),
            per_shard,
            hasher: ahash::RandomState::new(),
        }
    }

    fn shard(&self, station: &IpAddr) -> Option<MutexGuard<'_, Shard>> {
        let n = self.shards.len() as u64;
        let index = usize::try_from(self.hasher.hash_one(station) % n.max(1)).unwrap_or(0);
        let shard = self.shards.get(index)?;
        // A worker that panicked while holding the lock left plain data behind; the
        // entries are still meaningful, so carry on with them.
        Some(
            shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Run `f` on the station at `ip`, creating it if needed. `None` when the table is
    /// full (after trying to evict a station idle since before `evict_before`).
    pub fn with_station<R>(
        &self,
        ip: IpAddr,
        now: Timestamp,
        evict_before: Timestamp,
        f: impl FnOnce(&mut Station) -> R,
    ) -> Option<R> {
        let mut shard = self.shard(&ip)?;
        if !shard.contains_key(&ip) && shard.len() >= self.per_shard {
            let victim = shard
                .iter()
                .filter(|(_, s)| s.last_seen < evict_before && s.pinholes == 0)
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| *k);
            shard.remove(&victim?);
        }
        let station = shard.entry(ip).or_insert_with(|| Station::new(now));
        station.last_seen = station.last_seen.max(now);
        Some(f(station))
    }

    /// Run `f` on the station at `ip` if it is known.
    pub fn update<R>(&self, ip: IpAddr, f: impl FnOnce(&mut Station) -> R) -> Option<R> {
        let mut shard = self.shard(&ip)?;
        shard.get_mut(&ip).map(f)
    }

    /// A copy of the station at `ip`.
    pub fn station(&self, ip: IpAddr) -> Option<Station> {
        self.shard(&ip)?.get(&ip).copied()
    }

    /// At most `max` stations with their addresses (one shard locked at a time).
    pub fn stations(&self, max: usize) -> Vec<(IpAddr, Station)> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let room = max.saturating_sub(out.len());
            out.extend(shard.iter().take(room).map(|(ip, s)| (*ip, *s)));
        }
        out
    }

    /// Stations tracked.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Whether no station is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forget stations idle since before `before` that hold no pinhole; returns how many.
    pub fn expire(&self, before: Timestamp) -> usize {
        let mut removed = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let len = shard.len();
            shard.retain(|_, s| s.last_seen >= before || s.pinholes > 0);
            removed += len - shard.len();
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))
    }

    #[test]
    fn call_rate_window_and_known_calls() {
        let table = SkinnyTable::new(16, 2);
        let t0 = Timestamp::from_secs(100);
        let admit = |call, now| {
            table
                .with_station(ip(1), now, Timestamp(0), |s| s.admit_call(call, now, 2))
                .unwrap()
        };
        assert_eq!(admit(1, t0), CallAdmission::New);
        assert_eq!(admit(1, t0), CallAdmission::Known);
        assert_eq!(admit(2, t0), CallAdmission::New);
        assert_eq!(admit(3, t0), CallAdmission::Flood);
        assert_eq!(admit(3, Timestamp::from_secs(101)), CallAdmission::New);
    }

    #[test]
    fn table_is_bounded_and_evicts_only_idle_stations() {
        let table = SkinnyTable::new(2, 1);
        let t = Timestamp::from_secs(10);
        assert!(table.with_station(ip(1), t, Timestamp(0), |_| ()).is_some());
        assert!(table.with_station(ip(2), t, Timestamp(0), |_| ()).is_some());
        assert!(table.with_station(ip(3), t, Timestamp(0), |_| ()).is_none());
        assert_eq!(table.len(), 2);
        // Station 1 holds a pinhole: not evictable. Station 2 is.
        table.update(ip(1), |s| s.pinholes = 2);
        assert!(table
            .with_station(
                ip(3),
                Timestamp::from_secs(20),
                Timestamp::from_secs(15),
                |_| ()
            )
            .is_some());
        assert!(table.station(ip(1)).is_some());
        assert!(table.station(ip(2)).is_none());
        assert_eq!(table.expire(Timestamp::from_secs(30)), 1);
        assert!(table.station(ip(1)).is_some());
    }
}
