//! A hierarchical timer wheel over preallocated intrusive lists: O(1) schedule and
//! cancel, amortised O(1) expiry, no allocation after construction.
//!
//! Timer ids are session slot numbers (`0..capacity`). Every id has one link record;
//! buckets are circular doubly linked lists through those records with one sentinel
//! record per bucket, so unlinking needs no knowledge of the bucket.
//!
//! Geometry: a tick is 2^24 ns (about 16.8 ms). Level 0 has 256 one-tick buckets
//! (4.3 s), levels 1-3 have 64 buckets each, covering 4.6 min, 4.9 h and 13 days.
//! Deadlines further out are parked in level 3 and cascade again when they come up.
//! When a higher-level bucket comes due its entries are re-filed by their deadline
//! (cascade); the work is counted against the caller's budget like expiries.

use crate::time::Timestamp;

/// log2 of the tick length in nanoseconds.
pub const TICK_SHIFT: u32 = 24;
const L0_BITS: u32 = 8;
const LN_BITS: u32 = 6;
const L0_SLOTS: usize = 1 << L0_BITS;
const LN_SLOTS: usize = 1 << LN_BITS;
const LEVELS: usize = 4;
const BUCKETS: usize = L0_SLOTS + (LEVELS - 1) * LN_SLOTS;
/// Deltas (in ticks) at or beyond this are parked in the last level.
const MAX_DELTA: u64 = 1 << (L0_BITS + (LEVELS as u32 - 1) * LN_BITS);
const NIL: u32 = u32::MAX;
/// Link metadata: the deadline tick in the low bits, the bucket above them. Ticks of
/// a `u64` nanosecond clock need 40 bits.
const BUCKET_SHIFT: u32 = 48;
const WHEN_MASK: u64 = (1 << BUCKET_SHIFT) - 1;

#[derive(Clone, Copy, Debug)]
struct Link {
    prev: u32,
    next: u32,
    meta: u64,
}

impl Link {
    fn when(&self) -> u64 {
        self.meta & WHEN_MASK
    }

    fn bucket(&self) -> usize {
        (self.meta >> BUCKET_SHIFT) as usize
    }
}

const UNLINKED: Link = Link {
    prev: NIL,
    next: NIL,
    meta: 0,
};

fn level_of(bucket: usize) -> usize {
    if bucket < L0_SLOTS {
        0
    } else {
        1 + (bucket - L0_SLOTS) / LN_SLOTS
    }
}

/// log2 of the span of one bucket of `level`.
const fn level_shift(level: usize) -> u32 {
    if level == 0 {
        0
    } else {
        L0_BITS + (level as u32 - 1) * LN_BITS
    }
}

/// The wheel. Memory: 16 bytes per timer id plus 16 bytes per bucket (448 buckets).
#[derive(Debug)]
pub struct TimerWheel {
    links: Vec<Link>,
    capacity: u32,
    /// The tick whose level-0 bucket is drained next.
    cur: u64,
    /// Armed timers per level, to skip empty stretches of time in O(1).
    per_level: [usize; LEVELS],
    armed: usize,
}

fn tick_ceil(t: Timestamp) -> u64 {
    t.0.div_ceil(1 << TICK_SHIFT)
}

fn tick_floor(t: Timestamp) -> u64 {
    t.0 >> TICK_SHIFT
}

impl TimerWheel {
    /// A wheel for ids `0..capacity`, starting at `now`.
    pub fn new(capacity: u32, now: Timestamp) -> Self {
        let total = capacity as usize + BUCKETS;
        let mut links = Vec::with_capacity(total);
        links.resize(capacity as usize, UNLINKED);
        for i in 0..BUCKETS {
            let me = capacity + i as u32;
            links.push(Link {
                prev: me,
                next: me,
                meta: 0,
            });
        }
        TimerWheel {
            links,
            capacity,
            cur: tick_floor(now),
            per_level: [0; LEVELS],
            armed: 0,
        }
    }

    /// Number of ids the wheel can hold.
    pub const fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Number of armed timers.
    pub const fn armed(&self) -> usize {
        self.armed
    }

    /// Whether `id` is armed.
    pub fn is_armed(&self, id: u32) -> bool {
        id < self.capacity && self.link(id).prev != NIL
    }

    /// When `id` fires (rounded up to the tick), if armed.
    pub fn deadline(&self, id: u32) -> Option<Timestamp> {
        if self.is_armed(id) {
            Some(Timestamp(self.link(id).when() << TICK_SHIFT))
        } else {
            None
        }
    }

    /// Arm `id` to fire at `deadline` (or at the next poll if that has passed),
    /// replacing any earlier arming. `now` lets an idle wheel catch up with the clock
    /// in O(1) instead of stepping through empty ticks. Ids out of range are ignored.
    pub fn schedule(&mut self, id: u32, deadline: Timestamp, now: Timestamp) {
        if id >= self.capacity {
            return;
        }
        self.cancel(id);
        let now_tick = tick_floor(now);
        if self.armed == 0 && now_tick > self.cur {
            self.cur = now_tick;
        }
        self.armed += 1;
        self.file(id, tick_ceil(deadline).min(WHEN_MASK));
    }

    /// Disarm `id` (no-op if it is not armed).
    pub fn cancel(&mut self, id: u32) {
        if !self.is_armed(id) {
            return;
        }
        self.unlink(id);
        self.armed = self.armed.saturating_sub(1);
    }

    /// The next id whose deadline is at or before `now`, disarmed, or `None` when
    /// nothing more is due or `budget` ran out. Each returned id and each entry moved
    /// by a cascade costs one unit of `budget`. Stretches of time with nothing filed
    /// in the lower levels are skipped, so a long gap between polls costs little.
    pub fn poll(&mut self, now: Timestamp, budget: &mut usize) -> Option<u32> {
        let now_tick = tick_floor(now);
        loop {
            if self.cur > now_tick {
                return None;
            }
            if self.armed == 0 {
                self.cur = now_tick;
                return None;
            }
            // Cascades due at `cur`. Re-filing never targets a bucket being drained
            // here, so each drain ends, and a drain cut short by the budget resumes on
            // the next poll.
            for level in 1..LEVELS {
                let shift = level_shift(level);
                if self.cur & ((1u64 << shift) - 1) != 0 {
                    break;
                }
                let slot = ((self.cur >> shift) as usize) & (LN_SLOTS - 1);
                let head = self.sentinel(L0_SLOTS + (level - 1) * LN_SLOTS + slot);
                loop {
                    let first = self.link(head).next;
                    if first == head {
                        break;
                    }
                    if *budget == 0 {
                        return None;
                    }
                    *budget -= 1;
                    self.unlink(first);
                    let when = self.link(first).when();
                    self.file(first, when);
                }
            }
            let head = self.sentinel((self.cur as usize) & (L0_SLOTS - 1));
            let first = self.link(head).next;
            if first != head {
                if *budget == 0 {
                    return None;
                }
                *budget -= 1;
                self.unlink(first);
                self.armed = self.armed.saturating_sub(1);
                return Some(first);
            }
            if self.cur == now_tick {
                return None;
            }
            // Nothing can fire before the next cascade of the lowest non-empty level.
            let mut step = 0;
            for level in 0..LEVELS {
                if self.per_level.get(level).copied().unwrap_or(0) > 0 {
                    break;
                }
                step = level_shift(level + 1).min(level_shift(LEVELS - 1));
            }
            let next = ((self.cur >> step) + 1) << step;
            self.cur = next.min(now_tick);
        }
    }

    /// Link `id` into the bucket for deadline tick `when`, relative to `cur`.
    fn file(&mut self, id: u32, when: u64) {
        let at = when.max(self.cur);
        let delta = at - self.cur;
        let bucket = if delta < L0_SLOTS as u64 {
            (at as usize) & (L0_SLOTS - 1)
        } else {
            let parked = at.min(self.cur + MAX_DELTA - 1);
            let mut level = 1;
            while level < LEVELS - 1 && delta >= 1u64 << level_shift(level + 1) {
                level += 1;
            }
            let slot = (parked >> level_shift(level)) as usize & (LN_SLOTS - 1);
            L0_SLOTS + (level - 1) * LN_SLOTS + slot
        };
        if let Some(n) = self.per_level.get_mut(level_of(bucket)) {
            *n += 1;
        }
        let head = self.sentinel(bucket);
        let tail = self.link(head).prev;
        *self.link_mut(id) = Link {
            prev: tail,
            next: head,
            meta: when | (bucket as u64) << BUCKET_SHIFT,
        };
        self.link_mut(tail).next = id;
        self.link_mut(head).prev = id;
    }

    fn unlink(&mut self, id: u32) {
        let link = self.link(id);
        if let Some(n) = self.per_level.get_mut(level_of(link.bucket())) {
            *n = n.saturating_sub(1);
        }
        self.link_mut(link.prev).next = link.next;
        self.link_mut(link.next).prev = link.prev;
        let l = self.link_mut(id);
        l.prev = NIL;
        l.next = NIL;
    }

    fn sentinel(&self, bucket: usize) -> u32 {
        self.capacity + bucket as u32
    }

    fn link(&self, i: u32) -> Link {
        self.links.get(i as usize).copied().unwrap_or(UNLINKED)
    }

    fn link_mut(&mut self, i: u32) -> &mut Link {
        // Every index used is an id < capacity or a sentinel, all allocated in `new`;
        // the scratch record only keeps an impossible miss from panicking.
        let len = self.links.len();
        if (i as usize) < len {
            &mut self.links[i as usize]
        } else {
            self.links.push(UNLINKED);
            let last = self.links.len() - 1;
            &mut self.links[last]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    fn drain(w: &mut TimerWheel, now: Timestamp) -> Vec<u32> {
        let mut budget = usize::MAX;
        let mut out = Vec::new();
        while let Some(id) = w.poll(now, &mut budget) {
            out.push(id);
        }
        out
    }

    #[test]
    fn fires_at_or_after_deadline_never_before() {
        let mut w = TimerWheel::new(8, ms(0));
        w.schedule(1, ms(100), ms(0));
        w.schedule(2, Timestamp::from_secs(3600), ms(0));
        w.schedule(3, Timestamp::from_secs(12 * 3600), ms(0));
        w.schedule(4, Timestamp::from_secs(40 * 24 * 3600), ms(0));
        assert!(drain(&mut w, ms(99)).is_empty());
        assert_eq!(drain(&mut w, ms(120)), vec![1]);
        assert!(drain(&mut w, Timestamp::from_secs(3599)).is_empty());
        assert_eq!(drain(&mut w, Timestamp::from_secs(3601)), vec![2]);
        assert!(drain(&mut w, Timestamp::from_secs(12 * 3600 - 1)).is_empty());
        assert_eq!(drain(&mut w, Timestamp::from_secs(12 * 3600 + 1)), vec![3]);
        assert!(drain(&mut w, Timestamp::from_secs(39 * 24 * 3600)).is_empty());
        assert_eq!(
            drain(&mut w, Timestamp::from_secs(40 * 24 * 3600 + 1)),
            vec![4]
        );
        assert_eq!(w.armed(), 0);
    }

    #[test]
    fn cancel_and_reschedule() {
        let mut w = TimerWheel::new(4, ms(0));
        w.schedule(0, ms(50), ms(0));
        w.schedule(1, ms(50), ms(0));
        w.cancel(0);
        w.schedule(1, ms(5000), ms(0));
        assert!(!w.is_armed(0));
        assert!(drain(&mut w, ms(1000)).is_empty());
        assert_eq!(drain(&mut w, ms(5100)), vec![1]);
    }

    #[test]
    fn budget_bounds_work_and_resumes() {
        let mut w = TimerWheel::new(100, ms(0));
        for id in 0..100 {
            w.schedule(id, Timestamp::from_secs(600), ms(0));
        }
        let mut budget = 30;
        let mut fired = 0;
        while w.poll(Timestamp::from_secs(601), &mut budget).is_some() {
            fired += 1;
        }
        assert!(fired < 30, "cascade work counts against the budget");
        let rest = drain(&mut w, Timestamp::from_secs(601));
        assert_eq!(fired + rest.len(), 100);
    }

    #[test]
    fn past_deadline_fires_on_next_poll() {
        let mut w = TimerWheel::new(2, ms(10_000));
        w.schedule(0, ms(1), ms(0));
        assert_eq!(drain(&mut w, ms(10_000)), vec![0]);
    }
}
