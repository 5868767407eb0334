//! One worker's session table: a preallocated slab of sessions, a cache-line bucket
//! index ([`SessionIndex`]) from normalised key hash to slab slot, the half-open count
//! and the aging wheel.
//!
//! Everything is sized at construction: the slab and free list reserve `capacity`
//! entries, the index holds `capacity` keys at a load of at most 60%, and the wheel
//! has one link per slot. Inserting into a full table is refused and counted; the
//! steady state never allocates.
//!
//! Lookups of a burst can be staged so their cache misses overlap:
//! [`SessionTable::prefetch_bucket`] for every packet, then
//! [`SessionTable::prefetch_session`] for every packet, then the lookups.

use std::hint::black_box;
use std::time::Duration;

use super::counters::SessionCounters;
use super::entry::{ExpiryReason, Session, SessionKind, SessionSpec};
use super::index::SessionIndex;
use super::key::{Direction, FlowKey, FlowTuple};
use super::tcp::{TcpInvalid, TcpPolicy, TcpSegment, TcpTracker, TcpVerdict};
use super::timer::TimerWheel;
use crate::time::Timestamp;

/// The largest capacity a table accepts (slot numbers and timer ids are `u32`).
pub const MAX_CAPACITY: u32 = 1 << 30;

/// Sizing and switches of one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTableConfig {
    /// Most sessions the table holds (clamped to [`MAX_CAPACITY`]).
    pub capacity: u32,
    /// Most half-open TCP sessions (`max-incomplete`); new SYNs beyond it are refused.
    pub max_incomplete: u32,
    /// TCP tracking switches.
    pub tcp: TcpPolicy,
}

impl SessionTableConfig {
    /// A table of `capacity` sessions, no half-open limit, mid-stream pickup off.
    pub const fn with_capacity(capacity: u32) -> Self {
        SessionTableConfig {
            capacity,
            max_incomplete: u32::MAX,
            tcp: TcpPolicy {
                midstream_pickup: false,
            },
        }
    }
}

/// A reference to a session that detects reuse of its slot: after the session is
/// removed, the handle no longer resolves, even if the slot holds a new session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionHandle {
    slot: u32,
    generation: u32,
}

impl SessionHandle {
    /// The slab slot (stable for the session's life; useful as a dense index).
    pub const fn slot(&self) -> u32 {
        self.slot
    }
}

/// Why a session was not created. Each is a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// The table holds its configured capacity.
    #[error("session table full")]
    TableFull,
    /// The half-open TCP limit (`max_incomplete`) is reached.
    #[error("half-open session limit reached")]
    HalfOpenLimit,
    /// The flow already has a session.
    #[error("session exists")]
    Exists,
    /// The opening TCP segment cannot open a connection (drop it).
    #[error("invalid opening TCP segment: {}", .0.as_str())]
    InvalidTcp(TcpInvalid),
}

impl InsertError {
    /// Stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            InsertError::TableFull => "table_full",
            InsertError::HalfOpenLimit => "half_open_limit",
            InsertError::Exists => "exists",
            InsertError::InvalidTcp(r) => r.as_str(),
        }
    }
}

/// Why a packet on an existing session was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObserveError {
    /// The handle's session is gone.
    #[error("stale session handle")]
    StaleHandle,
    /// The TCP tracker refused the segment (drop it).
    #[error("invalid TCP segment: {}", .0.as_str())]
    InvalidTcp(TcpInvalid),
}

/// Where a paged walk over the table resumes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionCursor(u32);

impl SessionCursor {
    /// The beginning of the table.
    pub const START: SessionCursor = SessionCursor(0);

    /// Just after the session of `handle`.
    pub const fn after(handle: SessionHandle) -> Self {
        SessionCursor(handle.slot.saturating_add(1))
    }

    /// The slot the walk resumes at (to encode the cursor for a client).
    pub const fn slot(self) -> u32 {
        self.0
    }

    /// A cursor at `slot` (decoded from a client's page token; any value is safe).
    pub const fn at(slot: u32) -> Self {
        SessionCursor(slot)
    }
}

/// What one call of [`SessionTable::advance`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdvanceOutcome {
    /// Sessions expired and handed to the caller.
    pub expired: usize,
    /// Sessions whose timer came up but that saw traffic since, re-filed.
    pub rescheduled: usize,
    /// The budget ran out; more work may be due (call again next burst).
    pub budget_exhausted: bool,
}

#[derive(Clone, Debug)]
struct Slot<V> {
    generation: u32,
    session: Option<Session<V>>,
}

/// One worker's session table, generic over the pipeline's per-session value `V`.
pub struct SessionTable<V> {
    slots: Vec<Slot<V>>,
    free: Vec<u32>,
    index: SessionIndex,
    hasher: ahash::RandomState,
    wheel: TimerWheel,
    config: SessionTableConfig,
    len: u32,
    half_open: u32,
    counters: SessionCounters,
}

fn session_in<V>(slots: &[Slot<V>], slot: u32) -> Option<&Session<V>> {
    slots.get(slot as usize).and_then(|s| s.session.as_ref())
}

impl<V> SessionTable<V> {
    /// An empty table with a randomly seeded hasher, all memory reserved up front.
    pub fn new(config: SessionTableConfig) -> Self {
        Self::with_hasher(config, ahash::RandomState::new())
    }

    /// An empty table with the given hasher (fixed seeds for reproducible benches).
    pub fn with_hasher(config: SessionTableConfig, hasher: ahash::RandomState) -> Self {
        let capacity = config.capacity.min(MAX_CAPACITY);
        let config = SessionTableConfig { capacity, ..config };
        let cap = capacity as usize;
        SessionTable {
            slots: Vec::with_capacity(cap),
            free: Vec::with_capacity(cap),
            index: SessionIndex::with_capacity(cap),
            hasher,
            wheel: TimerWheel::new(capacity, Timestamp(0)),
            config,
            len: 0,
            half_open: 0,
            counters: SessionCounters::default(),
        }
    }

    /// The configuration in force.
    pub const fn config(&self) -> &SessionTableConfig {
        &self.config
    }

    /// Change the half-open limit (existing sessions are kept).
    pub fn set_max_incomplete(&mut self, max: u32) {
        self.config.max_incomplete = max;
    }

    /// Change the TCP switches (applies to sessions created from now on).
    pub fn set_tcp_policy(&mut self, tcp: TcpPolicy) {
        self.config.tcp = tcp;
    }

    /// The configured capacity.
    pub const fn capacity(&self) -> u32 {
        self.config.capacity
    }

    /// Number of sessions.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the table holds no session.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of half-open TCP sessions (handshake not complete).
    pub const fn half_open(&self) -> usize {
        self.half_open as usize
    }

    /// The counters.
    pub const fn counters(&self) -> &SessionCounters {
        &self.counters
    }

    /// Bytes of memory one session slot costs in this table: the slab entry, its
    /// timer link, its free-list entry and its share of the index at full capacity.
    pub fn bytes_per_session(&self) -> usize {
        let cap = (self.config.capacity as usize).max(1);
        std::mem::size_of::<Slot<V>>() + 16 + 4 + self.index.allocation_size() / cap
    }

    fn hash(&self, key: &FlowKey) -> u64 {
        self.hasher.hash_one(key)
    }

    fn find(&self, key: &FlowKey, hash: u64) -> Option<u32> {
        let slots = &self.slots;
        self.index.find(hash, |slot| {
            session_in(slots, slot).is_some_and(|s| s.key() == key)
        })
    }

    /// Stage 1 of a staged lookup: start loading the index bucket of the flow `tuple`
    /// in `context` and return its hash for [`SessionTable::prefetch_session`]. Both
    /// directions of a flow give the same hash.
    #[inline]
    pub fn prefetch_bucket(&self, tuple: &FlowTuple, context: u16) -> u64 {
        let (key, _) = FlowKey::from_tuple(tuple, context);
        let hash = self.hash(&key);
        self.index.prefetch(hash);
        hash
    }

    /// Stage 2 of a staged lookup, once the bucket had time to arrive: start loading
    /// the slab entry of the most likely candidate for `hash` (the key is compared at
    /// lookup). Does nothing when the bucket holds no candidate.
    #[inline]
    pub fn prefetch_session(&self, hash: u64) {
        let Some(slot) = self.index.candidate(hash) else {
            return;
        };
        if let Some(entry) = self.slots.get(slot as usize) {
            black_box(entry.generation);
            // A slab entry spans several cache lines, and a packet reads or writes
            // most of them (key, counters, TCP state, the pipeline's value): load a
            // field from each region so they all arrive together.
            if let Some(session) = &entry.session {
                session.touch_lines();
            }
        }
    }

    fn handle(&self, slot: u32) -> SessionHandle {
        let generation = self.slots.get(slot as usize).map_or(0, |s| s.generation);
        SessionHandle { slot, generation }
    }

    /// The session of the flow `tuple` in `context`, and the packet's direction.
    pub fn lookup(&self, tuple: &FlowTuple, context: u16) -> Option<(SessionHandle, Direction)> {
        let (key, src_is_lo) = FlowKey::from_tuple(tuple, context);
        let slot = self.find(&key, self.hash(&key))?;
        let session = session_in(&self.slots, slot)?;
        Some((self.handle(slot), session.direction_of(src_is_lo)))
    }

    /// The session of `h`, unless it was removed.
    pub fn get(&self, h: SessionHandle) -> Option<&Session<V>> {
        let slot = self.slots.get(h.slot as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        slot.session.as_ref()
    }

    /// The session of `h` for update, unless it was removed.
    pub fn get_mut(&mut self, h: SessionHandle) -> Option<&mut Session<V>> {
        let slot = self.slots.get_mut(h.slot as usize)?;
        if slot.generation != h.generation {
            return None;
        }
        slot.session.as_mut()
    }

    /// Create the session of the flow `tuple` (sent by the initiator) in `context`.
    ///
    /// Refusals are counted. A TCP session needs `spec.first_segment`; a SYN opens a
    /// half-open session (subject to `max_incomplete`), anything else is refused unless
    /// mid-stream pickup is on. The opening packet counts as the first forward packet.
    pub fn insert(
        &mut self,
        tuple: &FlowTuple,
        context: u16,
        now: Timestamp,
        spec: SessionSpec,
        value: V,
    ) -> Result<SessionHandle, InsertError> {
        let tcp = match spec.kind {
            SessionKind::Tcp => {
                let first = spec.first_segment.ok_or(TcpInvalid::NotSynFirst);
                match first.and_then(|seg| TcpTracker::open(&seg, self.config.tcp)) {
                    Ok(t) => Some(t),
                    Err(reason) => {
                        self.counters.count_tcp_invalid(reason);
                        return Err(InsertError::InvalidTcp(reason));
                    }
                }
            }
            _ => None,
        };
        let (key, src_is_lo) = FlowKey::from_tuple(tuple, context);
        let hash = self.hash(&key);
        if self.find(&key, hash).is_some() {
            self.counters.refused_exists += 1;
            return Err(InsertError::Exists);
        }
        if self.len >= self.config.capacity {
            self.counters.refused_full += 1;
            return Err(InsertError::TableFull);
        }
        let half_open = tcp.is_some_and(|t| t.state().is_half_open());
        if half_open && self.half_open >= self.config.max_incomplete {
            self.counters.refused_half_open += 1;
            return Err(InsertError::HalfOpenLimit);
        }
        let session = Session::new(key, src_is_lo, now, &spec, tcp, value);
        let due = session.expires_at();
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = self.slots.len() as u32;
                self.slots.push(Slot {
                    generation: 0,
                    session: None,
                });
                slot
            }
        };
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            // Unreachable: the slot came from the free list or was just pushed.
            self.counters.refused_full += 1;
            return Err(InsertError::TableFull);
        };
        if self.index.insert(hash, slot).is_err() {
            // Unreachable: the index has room for more than `capacity` keys.
            self.free.push(slot);
            self.counters.refused_full += 1;
            return Err(InsertError::TableFull);
        }
        entry.session = Some(session);
        let generation = entry.generation;
        self.wheel.schedule(slot, due, now);
        self.len += 1;
        self.half_open += u32::from(half_open);
        self.counters.created += 1;
        Ok(SessionHandle { slot, generation })
    }

    fn take(&mut self, slot: u32) -> Option<Session<V>> {
        let entry = self.slots.get_mut(slot as usize)?;
        let session = entry.session.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        let hash = self.hasher.hash_one(session.key());
        self.index.remove(hash, slot);
        self.wheel.cancel(slot);
        self.free.push(slot);
        self.len = self.len.saturating_sub(1);
        if session.tcp_state().is_some_and(|s| s.is_half_open()) {
            self.half_open = self.half_open.saturating_sub(1);
        }
        Some(session)
    }

    /// Remove the session of `h` and hand it back (counted as removed).
    pub fn remove(&mut self, h: SessionHandle) -> Option<Session<V>> {
        self.get(h)?;
        let session = self.take(h.slot)?;
        self.counters.removed += 1;
        Some(session)
    }

    /// Account a packet of `bytes` in `dir` on the session of `h` at `now`: TCP
    /// segments go through the state machine first (invalid ones are counted and
    /// change nothing), then the session is touched. Returns the session for the
    /// inspector. Timers move only when the TCP state changes the timeout class.
    pub fn observe(
        &mut self,
        h: SessionHandle,
        dir: Direction,
        bytes: u32,
        tcp: Option<&TcpSegment>,
        now: Timestamp,
    ) -> Result<&mut Session<V>, ObserveError> {
        let slot = h.slot;
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            return Err(ObserveError::StaleHandle);
        };
        if entry.generation != h.generation {
            return Err(ObserveError::StaleHandle);
        }
        let Some(session) = entry.session.as_mut() else {
            return Err(ObserveError::StaleHandle);
        };
        if let (Some(seg), Some(tracker)) = (tcp, session.tcp.as_mut()) {
            let before = tracker.state();
            if let TcpVerdict::Invalid(reason) = tracker.update(dir, seg) {
                self.counters.count_tcp_invalid(reason);
                return Err(ObserveError::InvalidTcp(reason));
            }
            let after = tracker.state();
            if before != after {
                match (before.is_half_open(), after.is_half_open()) {
                    (true, false) => self.half_open = self.half_open.saturating_sub(1),
                    (false, true) => self.half_open += 1,
                    _ => {}
                }
                session.touch(dir, bytes, now);
                // A shorter timeout (e.g. FIN exchange after hours established) must
                // not wait for the old, later check.
                self.wheel.schedule(slot, session.expires_at(), now);
                return Ok(session);
            }
        }
        session.touch(dir, bytes, now);
        Ok(session)
    }

    /// Replace the idle timeout of the session of `h` (e.g. a media session's
    /// inactivity timeout from the parameter map). Returns false for a stale handle.
    pub fn set_idle_timeout(
        &mut self,
        h: SessionHandle,
        timeout: Duration,
        now: Timestamp,
    ) -> bool {
        let Some(session) = self.get_mut(h) else {
            return false;
        };
        session.set_idle_timeout(timeout);
        let due = session.expires_at();
        self.wheel.schedule(h.slot, due, now);
        true
    }

    /// Age the table to `now`: sessions whose deadline passed are removed and handed
    /// to `on_expired`; sessions that saw traffic since their timer was set are
    /// re-filed. At most `budget` timer events (expiries, re-files, cascade moves) are
    /// processed, so a mass expiry spreads over several calls instead of stalling a
    /// burst.
    pub fn advance<F>(&mut self, now: Timestamp, budget: usize, mut on_expired: F) -> AdvanceOutcome
    where
        F: FnMut(SessionHandle, Session<V>, ExpiryReason),
    {
        let mut left = budget;
        let mut outcome = AdvanceOutcome::default();
        while let Some(slot) = self.wheel.poll(now, &mut left) {
            let Some(session) = session_in(&self.slots, slot) else {
                continue;
            };
            let due = session.expires_at();
            if due > now {
                self.wheel.schedule(slot, due, now);
                outcome.rescheduled += 1;
                continue;
            }
            let reason = session.expiry_reason(now);
            let handle = self.handle(slot);
            if let Some(session) = self.take(slot) {
                self.counters.count_expired(reason);
                outcome.expired += 1;
                on_expired(handle, session, reason);
            }
        }
        outcome.budget_exhausted = left == 0;
        outcome
    }

    /// All sessions, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (SessionHandle, &Session<V>)> + '_ {
        self.iter_from(SessionCursor::START)
    }

    /// Sessions from `cursor` on, in slot order. A session that stays in the table
    /// during a paged walk is visited exactly once, whatever else is added or removed
    /// between pages (its slot never changes).
    pub fn iter_from(
        &self,
        cursor: SessionCursor,
    ) -> impl Iterator<Item = (SessionHandle, &Session<V>)> + '_ {
        let start = (cursor.0 as usize).min(self.slots.len());
        self.slots
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .zip(cursor.0..)
            .filter_map(|(slot, i)| {
                let session = slot.session.as_ref()?;
                Some((
                    SessionHandle {
                        slot: i,
                        generation: slot.generation,
                    },
                    session,
                ))
            })
    }

    /// Visit up to `max` sessions from `cursor`; the cursor to continue from, or
    /// `None` when the walk reached the end.
    pub fn page<F>(&self, cursor: SessionCursor, max: usize, mut visit: F) -> Option<SessionCursor>
    where
        F: FnMut(SessionHandle, &Session<V>),
    {
        let mut last = None;
        for (n, (h, s)) in self.iter_from(cursor).enumerate() {
            if n == max {
                return last.map(SessionCursor::after).or(Some(cursor));
            }
            visit(h, s);
            last = Some(h);
        }
        None
    }

    /// Visit the sessions among the slots from `cursor` on, examining at most
    /// `max_slots` slots (a bounded step of a dump: empty slots cost time too).
    /// Returns where to continue, or `None` when the end was reached.
    pub fn scan<F>(
        &self,
        cursor: SessionCursor,
        max_slots: usize,
        mut visit: F,
    ) -> Option<SessionCursor>
    where
        F: FnMut(SessionHandle, &Session<V>),
    {
        let end = (cursor.0 as usize)
            .saturating_add(max_slots)
            .min(self.slots.len());
        for slot in (cursor.0 as usize)..end {
            let i = slot as u32;
            if let Some(session) = session_in(&self.slots, i) {
                visit(self.handle(i), session);
            }
        }
        (end < self.slots.len()).then_some(SessionCursor(end as u32))
    }

    /// Remove the sessions `matches` selects among the slots from `cursor` on,
    /// examining at most `max_slots` slots (a bounded step of a "clear sessions"
    /// command); removed sessions go to `on_removed` and count as removed. Returns
    /// where to continue, or `None` when the end was reached.
    pub fn clear_matching<P, F>(
        &mut self,
        cursor: SessionCursor,
        max_slots: usize,
        mut matches: P,
        mut on_removed: F,
    ) -> Option<SessionCursor>
    where
        P: FnMut(SessionHandle, &Session<V>) -> bool,
        F: FnMut(SessionHandle, Session<V>),
    {
        let end = (cursor.0 as usize)
            .saturating_add(max_slots)
            .min(self.slots.len());
        let mut slot = cursor.0 as usize;
        while slot < end {
            let i = slot as u32;
            let handle = self.handle(i);
            let selected = session_in(&self.slots, i).is_some_and(|s| matches(handle, s));
            if selected {
                if let Some(session) = self.take(i) {
                    self.counters.removed += 1;
                    on_removed(handle, session);
                }
            }
            slot += 1;
        }
        (end < self.slots.len()).then_some(SessionCursor(end as u32))
    }

    /// One pass over every session: `update` may change a session's value and returns
    /// whether to keep it; the others are removed (counted as removed) and handed to
    /// `on_removed`. For a policy push that renumbers sessions and drops some.
    pub fn update_or_remove<P, F>(&mut self, mut update: P, mut on_removed: F)
    where
        P: FnMut(SessionHandle, &mut Session<V>) -> bool,
        F: FnMut(SessionHandle, Session<V>),
    {
        for slot in 0..self.slots.len() {
            let i = slot as u32;
            let handle = self.handle(i);
            let keep = match self.slots.get_mut(slot).and_then(|e| e.session.as_mut()) {
                Some(session) => update(handle, session),
                None => true,
            };
            if !keep {
                if let Some(session) = self.take(i) {
                    self.counters.removed += 1;
                    on_removed(handle, session);
                }
            }
        }
    }

    /// Keep only the sessions `keep` accepts, removing the others at once (counted as
    /// removed). For large tables prefer the bounded [`SessionTable::clear_matching`].
    pub fn retain<P>(&mut self, mut keep: P) -> usize
    where
        P: FnMut(SessionHandle, &Session<V>) -> bool,
    {
        let mut removed = 0;
        let _ = self.clear_matching(
            SessionCursor::START,
            usize::MAX,
            |h, s| !keep(h, s),
            |_, _| removed += 1,
        );
        removed
    }
}
