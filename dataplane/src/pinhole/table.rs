//! The sharded, read-mostly pinhole table.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use hashbrown::HashMap;
use serde::Serialize;

use crate::inspect::action::{CallRef, PinholeRequest, StreamRef, Transport};
use crate::policy::{ParamMapId, Policy};
use crate::time::Timestamp;

/// Shards of the lookup map. An open or close copies its shard's map (readers never
/// lock), so many small shards keep that copy small: about 250 pinholes each at the
/// default capacity of 1 Mi, where 64 shards made each open copy ~16 k entries.
const SHARDS: usize = 4096;
/// Bits of the shard index, taken from the top of the hash.
const SHARD_BITS: u32 = SHARDS.trailing_zeros();
const _: () = assert!(SHARDS.is_power_of_two());

/// Unique id of a pinhole (for reports and the API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PinholeId(pub u64);

/// Lifecycle of a pinhole, as Cisco reports pregenerated sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum PinholeState {
    /// Opened, no packet yet.
    Pregen = 0,
    /// A packet matched: it became an active (child) session.
    Active = 1,
    /// Closed by its inspector (call ended, stream replaced).
    Closed = 2,
    /// Aged out (never used within its idle timeout, or its media went idle).
    Expired = 3,
}

impl PinholeState {
    fn from_u8(v: u8) -> PinholeState {
        match v {
            0 => PinholeState::Pregen,
            1 => PinholeState::Active,
            2 => PinholeState::Closed,
            _ => PinholeState::Expired,
        }
    }

    /// Whether the pinhole still admits packets.
    pub fn is_open(self) -> bool {
        matches!(self, PinholeState::Pregen | PinholeState::Active)
    }
}

/// How the source of a packet is checked against a pinhole's `src` (the zone pair's
/// media source policy; the inspector already put the announced address or the
/// signalling peer into `src`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceMatch {
    /// The exact address in `src`.
    Exact,
    /// The same /24 (IPv4) or /64 (IPv6) as `src`.
    SamePrefix,
    /// Any source.
    Any,
}

/// One pinhole.
#[derive(Debug, Serialize)]
pub struct Pinhole {
    /// Its id.
    pub id: PinholeId,
    /// What the inspector asked for.
    #[serde(skip)]
    pub request: PinholeRequest,
    /// How the source is checked.
    pub source_match: SourceMatch,
    /// When it was opened.
    #[serde(skip)]
    pub opened_at: Timestamp,
    /// The parameter map of the flow that announced it (its position when opened): the
    /// child session gets its timeouts, and signalling its inspector, from that map.
    #[serde(skip)]
    pub param_map: ParamMapId,
    /// That map's name, which finds it again after a push moved it.
    #[serde(skip)]
    param_map_name: Box<str>,
    #[serde(skip)]
    state: AtomicU8,
    #[serde(skip)]
    packets: AtomicU64,
    #[serde(skip)]
    last_used: AtomicU64,
}

impl Pinhole {
    /// Current state.
    pub fn state(&self) -> PinholeState {
        PinholeState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Packets admitted through it (by every worker).
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    /// Count one packet of its child session. One relaxed RMW on a line owned by the
    /// worker holding the media flow (both directions land on one worker). `last_used`
    /// is not refreshed: only a pregenerated pinhole ages by it, and a pinhole with a
    /// child session is active (its session's idle timer ages the media instead).
    #[inline]
    pub fn record_packet(&self) {
        self.packets.fetch_add(1, Ordering::Relaxed);
    }

    /// The parameter map this pinhole was opened under, in `policy`: found by name when
    /// a push moved it, the built-in default when a push removed it.
    pub fn param_map_in(&self, policy: &Policy) -> ParamMapId {
        policy.param_map_named(self.param_map, &self.param_map_name)
    }

    /// Mark it active (its first packet created a child session).
    pub fn activate(&self) {
        let _ = self.state.compare_exchange(
            PinholeState::Pregen as u8,
            PinholeState::Active as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Mark it expired (its media went idle); it is removed at the next sweep.
    pub fn expire(&self) {
        self.finish(PinholeState::Expired);
    }

    fn finish(&self, to: PinholeState) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                PinholeState::from_u8(s).is_open().then_some(to as u8)
            });
    }

    fn source_ok(&self, src: IpAddr, src_port: u16) -> bool {
        if self.request.src_port.is_some_and(|p| p != src_port) {
            return false;
        }
        match (self.source_match, self.request.src) {
            (SourceMatch::Any, _) | (_, None) => true,
            (SourceMatch::Exact, Some(want)) => want == src,
            (SourceMatch::SamePrefix, Some(want)) => same_prefix(want, src),
        }
    }

    fn same_request(&self, r: &PinholeRequest) -> bool {
        let q = &self.request;
        q.call == r.call
            && q.stream == r.stream
            && q.kind == r.kind
            && q.src == r.src
            && q.src_port == r.src_port
    }
}

fn same_prefix(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] == b.octets()[..3],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets()[..8] == b.octets()[..8],
        _ => false,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    transport: Transport,
    dst: IpAddr,
    dst_port: u16,
}

type ShardMap = HashMap<Key, Vec<Arc<Pinhole>>>;

struct Shard {
    map: ArcSwap<ShardMap>,
    write: Mutex<()>,
}

/// The outcome of looking a new flow up.
#[derive(Debug)]
pub enum PinholeLookup {
    /// A pinhole admits it.
    Admit(Arc<Pinhole>),
    /// Pinholes exist toward this destination but none admits this source.
    WrongSource,
    /// No pinhole toward this destination.
    Miss,
}

/// Counters of the pinhole table (shared, updated at signalling rate).
#[derive(Debug, Default, Serialize)]
pub struct PinholeCounters {
    /// Pinholes opened.
    pub opened: AtomicU64,
    /// Open requests that refreshed an identical pinhole.
    pub refreshed: AtomicU64,
    /// Pinholes closed by inspectors.
    pub closed: AtomicU64,
    /// Pinholes expired.
    pub expired: AtomicU64,
    /// Open requests refused because the table is full.
    pub refused_full: AtomicU64,
}

/// The shared pinhole table.
pub struct PinholeTable {
    shards: Vec<Shard>,
    by_call: Mutex<HashMap<CallRef, Vec<Arc<Pinhole>>>>,
    history: Option<Mutex<Vec<Arc<Pinhole>>>>,
    next_id: AtomicU64,
    open_count: AtomicU64,
    capacity: u64,
    /// Counters.
    pub counters: PinholeCounters,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps half-updated (every
    // update is a single insert or swap), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PinholeTable {
    /// A table holding at most `capacity` open pinholes; with `keep_history` every pinhole
    /// ever opened stays listed (for replay reports).
    pub fn new(capacity: u64, keep_history: bool) -> Self {
        PinholeTable {
            shards: (0..SHARDS)
                .map(|_| Shard {
                    map: ArcSwap::from_pointee(ShardMap::new()),
                    write: Mutex::new(()),
                })
                .collect(),
            by_call: Mutex::new(HashMap::new()),
            history: keep_history.then(|| Mutex::new(Vec::new())),
            next_id: AtomicU64::new(1),
            open_count: AtomicU64::new(0),
            capacity,
            counters: PinholeCounters::default(),
        }
    }

    fn shard_index(&self, key: &Key) -> usize {
        let h = match key.dst {
            IpAddr::V4(a) => u64::from(u32::from(a)),
            IpAddr::V6(a) => {
                let v = u128::from(a);
                (v as u64) ^ ((v >> 64) as u64)
            }
        };
        let h =
            (h ^ u64::from(key.dst_port)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SHARD_BITS);
        usize::try_from(h).unwrap_or(0)
    }

    fn shard(&self, key: &Key) -> Option<&Shard> {
        self.shards.get(self.shard_index(key))
    }

    /// Open a pinhole (or refresh an identical one) for a flow inspected under parameter
    /// map `param_map` (named `param_map_name`). Returns it, or `None` when the table is
    /// full (counted).
    pub fn open(
        &self,
        request: PinholeRequest,
        source_match: SourceMatch,
        param_map: ParamMapId,
        param_map_name: &str,
        now: Timestamp,
    ) -> Option<Arc<Pinhole>> {
        let key = Key {
            transport: request.transport,
            dst: request.dst,
            dst_port: request.dst_port,
        };
        let shard = self.shard(&key)?;
        let _w = lock(&shard.write);
        let current = shard.map.load();
        if let Some(existing) = current.get(&key).and_then(|v| {
            v.iter()
                .find(|p| p.same_request(&request) && p.state().is_open())
        }) {
            existing.last_used.store(now.0, Ordering::Relaxed);
            self.counters.refreshed.fetch_add(1, Ordering::Relaxed);
            return Some(Arc::clone(existing));
        }
        if self.open_count.load(Ordering::Relaxed) >= self.capacity {
            self.counters.refused_full.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let pinhole = Arc::new(Pinhole {
            id: PinholeId(self.next_id.fetch_add(1, Ordering::Relaxed)),
            request,
            source_match,
            opened_at: now,
            param_map,
            param_map_name: param_map_name.into(),
            state: AtomicU8::new(PinholeState::Pregen as u8),
            packets: AtomicU64::new(0),
            last_used: AtomicU64::new(now.0),
        });
        let mut next = ShardMap::clone(&current);
        next.entry(key).or_default().push(Arc::clone(&pinhole));
        shard.map.store(Arc::new(next));
        drop(_w);
        lock(&self.by_call)
            .entry(request.call)
            .or_default()
            .push(Arc::clone(&pinhole));
        if let Some(h) = &self.history {
            lock(h).push(Arc::clone(&pinhole));
        }
        self.open_count.fetch_add(1, Ordering::Relaxed);
        self.counters.opened.fetch_add(1, Ordering::Relaxed);
        Some(pinhole)
    }

    /// Look a new flow up: does an open pinhole admit `src:src_port -> dst:dst_port`?
    /// Lock-free.
    pub fn lookup(
        &self,
        transport: Transport,
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
        now: Timestamp,
    ) -> PinholeLookup {
        let key = Key {
            transport,
            dst,
            dst_port,
        };
        let Some(shard) = self.shard(&key) else {
            return PinholeLookup::Miss;
        };
        let map = shard.map.load();
        let Some(list) = map.get(&key) else {
            return PinholeLookup::Miss;
        };
        let mut any_open = false;
        for p in list {
            if !p.state().is_open() || self.idle_expired(p, now) {
                continue;
            }
            any_open = true;
            if p.source_ok(src, src_port) {
                return PinholeLookup::Admit(Arc::clone(p));
            }
        }
        if any_open {
            PinholeLookup::WrongSource
        } else {
            PinholeLookup::Miss
        }
    }

    fn idle_expired(&self, p: &Pinhole, now: Timestamp) -> bool {
        p.state() == PinholeState::Pregen
            && now.since(Timestamp(p.last_used.load(Ordering::Relaxed))) > p.request.idle_timeout
    }

    /// Close every pinhole of `call` (and, lazily, the child sessions they created).
    pub fn close_call(&self, call: CallRef) -> usize {
        let list = lock(&self.by_call).remove(&call).unwrap_or_default();
        self.close_all(&list)
    }

    /// Close the pinholes of one stream of `call`.
    pub fn close_stream(&self, call: CallRef, stream: StreamRef) -> usize {
        let closing: Vec<Arc<Pinhole>> = {
            let mut calls = lock(&self.by_call);
            let Some(list) = calls.get_mut(&call) else {
                return 0;
            };
            let (closing, keep): (Vec<_>, Vec<_>) =
                list.drain(..).partition(|p| p.request.stream == stream);
            *list = keep;
            if list.is_empty() {
                calls.remove(&call);
            }
            closing
        };
        self.close_all(&closing)
    }

    fn close_all(&self, list: &[Arc<Pinhole>]) -> usize {
        let mut n = 0;
        for p in list {
            if p.state().is_open() {
                p.finish(PinholeState::Closed);
                self.counters.closed.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }
        self.unlink_all(list);
        n
    }

    fn key_of(p: &Pinhole) -> Key {
        Key {
            transport: p.request.transport,
            dst: p.request.dst,
            dst_port: p.request.dst_port,
        }
    }

    /// Remove `list` from the lookup maps with one copy of each shard it touches: a call
    /// with video, RTCP and T.38 closes many pinholes at once, and copying a shard map per
    /// pinhole would make a hang-up cost grow with the table times the call's streams.
    fn unlink_all(&self, list: &[Arc<Pinhole>]) {
        let mut by_shard: Vec<(usize, &Arc<Pinhole>)> = list
            .iter()
            .map(|p| (self.shard_index(&Self::key_of(p)), p))
            .collect();
        by_shard.sort_unstable_by_key(|&(index, _)| index);
        for group in by_shard.chunk_by(|a, b| a.0 == b.0) {
            let Some(shard) = group.first().and_then(|&(index, _)| self.shards.get(index)) else {
                continue;
            };
            let _w = lock(&shard.write);
            let current = shard.map.load();
            let present = group
                .iter()
                .filter(|(_, p)| {
                    current
                        .get(&Self::key_of(p))
                        .is_some_and(|l| l.iter().any(|q| Arc::ptr_eq(q, p)))
                })
                .count();
            if present == 0 {
                continue;
            }
            let mut next = ShardMap::clone(&current);
            for (_, p) in group {
                let key = Self::key_of(p);
                if let Some(l) = next.get_mut(&key) {
                    l.retain(|q| !Arc::ptr_eq(q, p));
                    if l.is_empty() {
                        next.remove(&key);
                    }
                }
            }
            shard.map.store(Arc::new(next));
            self.open_count
                .fetch_sub(u64::try_from(present).unwrap_or(0), Ordering::Relaxed);
        }
    }

    /// Remove pregenerated pinholes unused for their idle timeout and pinholes marked
    /// expired; run periodically off the fast path. Returns how many were removed.
    pub fn sweep(&self, now: Timestamp) -> usize {
        let mut dead = Vec::new();
        for shard in &self.shards {
            for list in shard.map.load().values() {
                for p in list {
                    if self.idle_expired(p, now) {
                        p.finish(PinholeState::Expired);
                    }
                    if !p.state().is_open() {
                        dead.push(Arc::clone(p));
                    }
                }
            }
        }
        self.unlink_all(&dead);
        let mut calls = lock(&self.by_call);
        for p in &dead {
            if p.state() == PinholeState::Expired {
                self.counters.expired.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(list) = calls.get_mut(&p.request.call) {
                list.retain(|q| !Arc::ptr_eq(q, p));
                if list.is_empty() {
                    calls.remove(&p.request.call);
                }
            }
        }
        dead.len()
    }

    /// Open pinholes right now.
    pub fn open_pinholes(&self) -> Vec<Arc<Pinhole>> {
        let mut v: Vec<Arc<Pinhole>> = self
            .shards
            .iter()
            .flat_map(|s| s.map.load().values().flatten().cloned().collect::<Vec<_>>())
            .filter(|p| p.state().is_open())
            .collect();
        v.sort_by_key(|p| p.id);
        v
    }

    /// Every pinhole ever opened (only with history kept), in opening order.
    pub fn history(&self) -> Vec<Arc<Pinhole>> {
        self.history
            .as_ref()
            .map(|h| lock(h).clone())
            .unwrap_or_default()
    }

    /// Number of open pinholes.
    pub fn len(&self) -> u64 {
        self.open_count.load(Ordering::Relaxed)
    }

    /// Whether no pinhole is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::inspect::action::{InspectorKind, MediaKind};

    fn req(dst: &str, port: u16, src: Option<&str>, call: u64, stream: u32) -> PinholeRequest {
        PinholeRequest {
            transport: Transport::Udp,
            src: src.map(|s| s.parse().unwrap()),
            src_port: None,
            dst: dst.parse().unwrap(),
            dst_port: port,
            kind: MediaKind::Audio,
            call: CallRef(call),
            stream: StreamRef(stream),
            opened_by: InspectorKind::Sip,
            idle_timeout: Duration::from_secs(30),
        }
    }

    const PM: ParamMapId = ParamMapId(0);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn open_lookup_close() {
        let t = PinholeTable::new(100, true);
        let now = Timestamp::from_secs(1);
        let p = t
            .open(
                req("10.0.0.1", 4000, Some("192.0.2.9"), 1, 0),
                SourceMatch::Exact,
                PM,
                "default",
                now,
            )
            .unwrap();
        assert!(matches!(
            t.lookup(Transport::Udp, ip("192.0.2.9"), 7000, ip("10.0.0.1"), 4000, now),
            PinholeLookup::Admit(q) if q.id == p.id
        ));
        assert!(matches!(
            t.lookup(
                Transport::Udp,
                ip("192.0.2.10"),
                7000,
                ip("10.0.0.1"),
                4000,
                now
            ),
            PinholeLookup::WrongSource
        ));
        assert!(matches!(
            t.lookup(
                Transport::Tcp,
                ip("192.0.2.9"),
                7000,
                ip("10.0.0.1"),
                4000,
                now
            ),
            PinholeLookup::Miss
        ));
        assert_eq!(t.close_call(CallRef(1)), 1);
        assert_eq!(p.state(), PinholeState::Closed);
        assert!(matches!(
            t.lookup(
                Transport::Udp,
                ip("192.0.2.9"),
                7000,
                ip("10.0.0.1"),
                4000,
                now
            ),
            PinholeLookup::Miss
        ));
        assert!(t.is_empty());
        assert_eq!(t.history().len(), 1);
    }

    #[test]
    fn identical_open_refreshes() {
        let t = PinholeTable::new(100, false);
        let a = t
            .open(
                req("10.0.0.1", 4000, None, 1, 0),
                SourceMatch::Any,
                PM,
                "default",
                Timestamp(0),
            )
            .unwrap();
        let b = t
            .open(
                req("10.0.0.1", 4000, None, 1, 0),
                SourceMatch::Any,
                PM,
                "default",
                Timestamp(5),
            )
            .unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn source_policies() {
        let t = PinholeTable::new(100, false);
        let now = Timestamp(0);
        t.open(
            req("10.0.0.1", 4000, Some("192.0.2.9"), 1, 0),
            SourceMatch::SamePrefix,
            PM,
            "default",
            now,
        );
        t.open(
            req("10.0.0.2", 4000, Some("192.0.2.9"), 1, 0),
            SourceMatch::Any,
            PM,
            "default",
            now,
        );
        assert!(matches!(
            t.lookup(
                Transport::Udp,
                ip("192.0.2.77"),
                1,
                ip("10.0.0.1"),
                4000,
                now
            ),
            PinholeLookup::Admit(_)
        ));
        assert!(matches!(
            t.lookup(
                Transport::Udp,
                ip("192.0.3.77"),
                1,
                ip("10.0.0.1"),
                4000,
                now
            ),
            PinholeLookup::WrongSource
        ));
        assert!(matches!(
            t.lookup(
                Transport::Udp,
                ip("203.0.113.1"),
                1,
                ip("10.0.0.2"),
                4000,
                now
            ),
            PinholeLookup::Admit(_)
        ));
    }

    #[test]
    fn closing_a_call_spread_over_shards_unlinks_every_pinhole_and_no_other() {
        let t = PinholeTable::new(1000, false);
        let now = Timestamp(0);
        for port in 0..200u16 {
            t.open(
                req("10.0.0.1", 10_000 + port, None, 1, u32::from(port)),
                SourceMatch::Any,
                PM,
                "default",
                now,
            );
            t.open(
                req("10.0.0.2", 10_000 + port, None, 2, u32::from(port)),
                SourceMatch::Any,
                PM,
                "default",
                now,
            );
        }
        assert_eq!(t.len(), 400);
        assert_eq!(t.close_call(CallRef(1)), 200);
        assert_eq!(t.len(), 200);
        for port in 0..200u16 {
            assert!(matches!(
                t.lookup(
                    Transport::Udp,
                    ip("1.1.1.1"),
                    1,
                    ip("10.0.0.1"),
                    10_000 + port,
                    now
                ),
                PinholeLookup::Miss
            ));
            assert!(matches!(
                t.lookup(
                    Transport::Udp,
                    ip("1.1.1.1"),
                    1,
                    ip("10.0.0.2"),
                    10_000 + port,
                    now
                ),
                PinholeLookup::Admit(_)
            ));
        }
        assert_eq!(t.close_call(CallRef(1)), 0);
        assert_eq!(t.len(), 200);
        assert_eq!(t.open_pinholes().len(), 200);
    }

    #[test]
    fn close_stream_keeps_other_streams() {
        let t = PinholeTable::new(100, false);
        let now = Timestamp(0);
        t.open(
            req("10.0.0.1", 4000, None, 1, 0),
            SourceMatch::Any,
            PM,
            "default",
            now,
        );
        t.open(
            req("10.0.0.1", 4002, None, 1, 1),
            SourceMatch::Any,
            PM,
            "default",
            now,
        );
        assert_eq!(t.close_stream(CallRef(1), StreamRef(0)), 1);
        assert!(matches!(
            t.lookup(Transport::Udp, ip("1.1.1.1"), 1, ip("10.0.0.1"), 4000, now),
            PinholeLookup::Miss
        ));
        assert!(matches!(
            t.lookup(Transport::Udp, ip("1.1.1.1"), 1, ip("10.0.0.1"), 4002, now),
            PinholeLookup::Admit(_)
        ));
    }

    #[test]
    fn unused_pinholes_expire_active_ones_do_not() {
        let t = PinholeTable::new(100, false);
        let a = t
            .open(
                req("10.0.0.1", 4000, None, 1, 0),
                SourceMatch::Any,
                PM,
                "default",
                Timestamp(0),
            )
            .unwrap();
        let b = t
            .open(
                req("10.0.0.1", 4002, None, 1, 1),
                SourceMatch::Any,
                PM,
                "default",
                Timestamp(0),
            )
            .unwrap();
        b.activate();
        let later = Timestamp::from_secs(31);
        assert!(matches!(
            t.lookup(
                Transport::Udp,
                ip("1.1.1.1"),
                1,
                ip("10.0.0.1"),
                4000,
                later
            ),
            PinholeLookup::Miss
        ));
        assert_eq!(t.sweep(later), 1);
        assert_eq!(a.state(), PinholeState::Expired);
        assert_eq!(b.state(), PinholeState::Active);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn capacity_is_enforced() {
        let t = PinholeTable::new(2, false);
        let now = Timestamp(0);
        assert!(t
            .open(
                req("10.0.0.1", 1, None, 1, 0),
                SourceMatch::Any,
                PM,
                "default",
                now
            )
            .is_some());
        assert!(t
            .open(
                req("10.0.0.1", 2, None, 1, 1),
                SourceMatch::Any,
                PM,
                "default",
                now
            )
            .is_some());
        assert!(t
            .open(
                req("10.0.0.1", 3, None, 1, 2),
                SourceMatch::Any,
                PM,
                "default",
                now
            )
            .is_none());
        assert_eq!(t.counters.refused_full.load(Ordering::Relaxed), 1);
        t.close_call(CallRef(1));
        assert!(t
            .open(
                req("10.0.0.1", 3, None, 2, 2),
                SourceMatch::Any,
                PM,
                "default",
                now
            )
            .is_some());
    }

    #[test]
    fn seen_from_another_thread() {
        let t = Arc::new(PinholeTable::new(100, false));
        t.open(
            req("10.0.0.1", 4000, None, 1, 0),
            SourceMatch::Any,
            PM,
            "default",
            Timestamp(0),
        );
        let t2 = Arc::clone(&t);
        let found = std::thread::spawn(move || {
            matches!(
                t2.lookup(
                    Transport::Udp,
                    ip("1.1.1.1"),
                    1,
                    ip("10.0.0.1"),
                    4000,
                    Timestamp(0)
                ),
                PinholeLookup::Admit(_)
            )
        })
        .join()
        .unwrap();
        assert!(found);
    }
}
