//! The session table's index: from a flow key's hash to the slab slot of its session.
//!
//! Hand-written rather than `hashbrown` because the fast path must own its memory
//! layout: a lookup at a million sessions is a handful of cache and TLB misses, and
//! the only way to hide them is to know, from the hash alone, which single cache line
//! a lookup will read, so that a whole RX burst can fetch its lines in parallel before
//! any packet is looked up (see [`SessionIndex::prefetch`]). hashbrown's control bytes
//! and its slot array live in two places and its layout is private.
//!
//! Layout: open addressing over a power-of-two array of 64-byte buckets, each holding
//! 7 ways of `(u32 tag, u32 slot)` and an overflow count. The tag is the high half of
//! the hash (never 0: 0 marks an empty way); the home bucket comes from the low bits;
//! probing is linear (the next bucket is the adjacent cache line). The overflow count
//! (as in folly's F14) is the number of keys whose probe passed through this bucket
//! while it was full: a lookup that does not find its key in a bucket whose count is
//! 0 stops there, so there are no tombstones; a removal decrements the counts along
//! the removed key's path. Everything is allocated at construction, sized so that the
//! load stays at or below 60% for the table's capacity.

use std::hint::black_box;

/// Ways (keys) per bucket: 7 × (tag, slot) + the overflow count fill 64 bytes.
pub const WAYS: usize = 7;

/// Highest load (keys / ways) at full capacity, in tenths: 7-way buckets at 60% load
/// overflow rarely (a few percent of buckets), so most lookups read one line.
const MAX_LOAD_TENTHS: usize = 6;

/// Tag of an empty way.
const EMPTY: u32 = 0;

/// One cache line of the index.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Bucket {
    tags: [u32; WAYS],
    /// Keys stored past this bucket whose probe passed through it while it was full.
    overflow: u32,
    slots: [u32; WAYS],
    _pad: u32,
}

impl Bucket {
    /// Bit `w` set when way `w` holds `tag`. Computed without branches: a branch on
    /// which way matched would depend on the bucket's load, and mispredicting it once
    /// the line arrives would discard the lookups the CPU had started after this one.
    #[inline]
    fn matching(&self, tag: u32) -> u32 {
        self.tags
            .iter()
            .enumerate()
            .fold(0, |m, (way, &t)| m | u32::from(t == tag) << way)
    }

    /// The slots of the ways whose tag is `tag`, first way first.
    #[inline]
    fn candidates(&self, tag: u32) -> impl Iterator<Item = u32> + '_ {
        let mut m = self.matching(tag);
        std::iter::from_fn(move || {
            while m != 0 {
                let way = m.trailing_zeros() as usize;
                m &= m - 1;
                if let Some(&slot) = self.slots.get(way) {
                    return Some(slot);
                }
            }
            None
        })
    }
}

/// The index holds as many keys as it has ways; insertion past that is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("session index full")]
pub struct IndexFull;

/// Open-addressing hash index of `u32` slab slots in cache-line buckets.
///
/// The index stores no keys: [`SessionIndex::find`] compares candidates through the
/// caller's `eq`, and [`SessionIndex::remove`] names the slot to remove.
#[derive(Debug)]
pub struct SessionIndex {
    buckets: Box<[Bucket]>,
    mask: usize,
    len: usize,
}

fn tag_of(hash: u64) -> u32 {
    // High bits: the bucket number uses the low ones, so the tag stays informative
    // within a bucket.
    match (hash >> 32) as u32 {
        EMPTY => 1,
        t => t,
    }
}

impl SessionIndex {
    /// An empty index for up to `capacity` keys at a load of at most 60%.
    pub fn with_capacity(capacity: usize) -> Self {
        let ways = capacity.saturating_mul(10).div_ceil(MAX_LOAD_TENTHS);
        let buckets = ways.div_ceil(WAYS).max(1).next_power_of_two();
        SessionIndex {
            buckets: vec![Bucket::default(); buckets].into_boxed_slice(),
            mask: buckets - 1,
            len: 0,
        }
    }

    /// Keys stored.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no key is stored.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory the index occupies.
    pub fn allocation_size(&self) -> usize {
        std::mem::size_of_val::<[Bucket]>(&self.buckets)
    }

    /// Number of buckets (cache lines).
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    const fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask
    }

    const fn next(&self, bucket: usize) -> usize {
        (bucket + 1) & self.mask
    }

    /// The slot stored under `hash` for which `eq(slot)` holds.
    #[inline]
    pub fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = tag_of(hash);
        let mut at = self.home(hash);
        for _ in 0..self.buckets.len() {
            let bucket = self.buckets.get(at)?;
            for slot in bucket.candidates(tag) {
                if eq(slot) {
                    return Some(slot);
                }
            }
            if bucket.overflow == 0 {
                return None;
            }
            at = self.next(at);
        }
        None
    }

    /// Store `slot` under `hash`. The caller guarantees its key is not stored yet
    /// (look it up first): the index cannot compare keys.
    pub fn insert(&mut self, hash: u64, slot: u32) -> Result<(), IndexFull> {
        if self.len >= self.buckets.len().saturating_mul(WAYS) {
            return Err(IndexFull);
        }
        let tag = tag_of(hash);
        let mut at = self.home(hash);
        // Some bucket has an empty way (checked above) and linear probing visits all.
        for _ in 0..self.buckets.len() {
            let Some(bucket) = self.buckets.get_mut(at) else {
                break;
            };
            if let Some(way) = bucket.tags.iter().position(|&t| t == EMPTY) {
                if let (Some(t), Some(s)) = (bucket.tags.get_mut(way), bucket.slots.get_mut(way)) {
                    *t = tag;
                    *s = slot;
                    self.len += 1;
                    return Ok(());
                }
            }
            // At most `len` < 2^32 keys pass through one bucket.
            bucket.overflow = bucket.overflow.saturating_add(1);
            at = self.next(at);
        }
        Err(IndexFull)
    }

    /// Remove `slot`, stored under `hash`. Returns whether it was there.
    pub fn remove(&mut self, hash: u64, slot: u32) -> bool {
        let tag = tag_of(hash);
        let home = self.home(hash);
        let mut at = home;
        for steps in 0..self.buckets.len() {
            let Some(bucket) = self.buckets.get_mut(at) else {
                return false;
            };
            let found = bucket
                .tags
                .iter()
                .zip(&bucket.slots)
                .position(|(&t, &s)| t == tag && s == slot);
            if let Some(t) = found.and_then(|way| bucket.tags.get_mut(way)) {
                *t = EMPTY;
                self.len -= 1;
                // Undo the counts the insertion left on the buckets it passed through.
                let mut passed = home;
                for _ in 0..steps {
                    if let Some(b) = self.buckets.get_mut(passed) {
                        b.overflow = b.overflow.saturating_sub(1);
                    }
                    passed = self.next(passed);
                }
                return true;
            }
            if bucket.overflow == 0 {
                return false;
            }
            at = self.next(at);
        }
        false
    }

    /// Start loading the home bucket of `hash` into the cache, so that a later
    /// [`SessionIndex::find`] or [`SessionIndex::candidate`] does not wait for memory.
    ///
    /// This is a plain load whose value is discarded, not a prefetch instruction:
    /// `_mm_prefetch` needs `unsafe` on stable Rust (a `#[target_feature]` call) and
    /// `std::hint::prefetch_read` is unstable, while `unsafe` belongs in `bindings/`
    /// only. Loads to distinct lines issued back to back are in flight together all
    /// the same (out-of-order execution), which is the point of doing a whole burst.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        if let Some(bucket) = self.buckets.get(self.home(hash)) {
            black_box(bucket.overflow);
        }
    }

    /// The first slot in the home bucket of `hash` whose tag matches: most likely the
    /// key's slot, so the slab entry can be fetched before the key is compared.
    #[inline]
    pub fn candidate(&self, hash: u64) -> Option<u32> {
        let tag = tag_of(hash);
        self.buckets.get(self.home(hash))?.candidates(tag).next()
    }

    /// Overflow counts recomputed from the stored keys equal the stored ones, and
    /// every key is reachable from its home bucket. `hash_of(slot)` gives a stored
    /// slot's hash. For tests: O(keys × chain length).
    pub fn check_invariants(&self, mut hash_of: impl FnMut(u32) -> u64) -> bool {
        let mut expected = vec![0u32; self.buckets.len()];
        let mut count = 0;
        for (at, bucket) in self.buckets.iter().enumerate() {
            for (&t, &slot) in bucket.tags.iter().zip(&bucket.slots) {
                if t == EMPTY {
                    continue;
                }
                count += 1;
                let hash = hash_of(slot);
                if tag_of(hash) != t {
                    return false;
                }
                let mut passed = self.home(hash);
                while passed != at {
                    if let Some(e) = expected.get_mut(passed) {
                        *e += 1;
                    }
                    passed = self.next(passed);
                }
            }
        }
        count == self.len
            && self
                .buckets
                .iter()
                .zip(&expected)
                .all(|(b, &e)| b.overflow == e)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// A hash whose home bucket is `bucket` and whose tag is `tag`.
    fn hash(bucket: u64, tag: u32) -> u64 {
        u64::from(tag) << 32 | bucket
    }

    #[test]
    fn bucket_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Bucket>(), 64);
        assert_eq!(std::mem::align_of::<Bucket>(), 64);
    }

    #[test]
    fn sized_for_capacity_at_most_sixty_percent() {
        for cap in [0usize, 1, 7, 100, 1000, 1 << 20, 16_000_000] {
            let index = SessionIndex::with_capacity(cap);
            let ways = index.buckets() * WAYS;
            assert!(cap * 10 <= ways * 6, "capacity {cap}: {ways} ways");
            assert!(index.buckets().is_power_of_two());
        }
        assert_eq!(SessionIndex::with_capacity(1 << 20).buckets(), 1 << 18);
    }

    #[test]
    fn tag_is_never_empty() {
        assert_eq!(tag_of(0x0000_0000_1234_5678), 1);
        assert_eq!(tag_of(0xdead_beef_0000_0000), 0xdead_beef);
    }

    #[test]
    fn overflow_counts_keys_passing_a_full_bucket() {
        let mut index = SessionIndex::with_capacity(100);
        assert!(index.buckets() >= 4);
        // Eight keys with home bucket 1: seven fill it, the eighth lands in bucket 2.
        for slot in 0..8u32 {
            index.insert(hash(1, 100 + slot), slot).unwrap();
        }
        assert_eq!(index.buckets[1].overflow, 1);
        assert_eq!(index.buckets[2].overflow, 0);
        assert_eq!(index.buckets[2].slots[0], 7);
        // A key homed in bucket 2 goes beside it; bucket 1's count is untouched.
        index.insert(hash(2, 500), 50).unwrap();
        assert_eq!(index.buckets[1].overflow, 1);
        // The overflowed key is found through bucket 1, a missing key is not.
        assert_eq!(index.find(hash(1, 107), |s| s == 7), Some(7));
        assert_eq!(index.find(hash(1, 999), |_| true), None);
        // Fill bucket 0; a further key homed there passes buckets 0 and 1 (both full)
        // and counts in both.
        for slot in 10..17u32 {
            index.insert(hash(0, 200 + slot), slot).unwrap();
        }
        index.insert(hash(0, 300), 30).unwrap();
        assert_eq!(index.buckets[0].overflow, 1);
        assert_eq!(index.buckets[1].overflow, 2);
        assert_eq!(index.find(hash(0, 300), |s| s == 30), Some(30));
        assert!(index.check_invariants(|s| match s {
            0..=7 => hash(1, 100 + s),
            10..=16 => hash(0, 200 + s),
            30 => hash(0, 300),
            50 => hash(2, 500),
            _ => 0,
        }));
        // Removing the far key decrements both buckets it passed; removing the first
        // overflowed key leaves bucket 1 with no overflow, so misses stop there.
        assert!(index.remove(hash(0, 300), 30));
        assert_eq!(index.buckets[0].overflow, 0);
        assert_eq!(index.buckets[1].overflow, 1);
        assert!(index.remove(hash(1, 107), 7));
        assert_eq!(index.buckets[1].overflow, 0);
        assert!(!index.remove(hash(1, 107), 7));
        assert_eq!(index.len(), 15);
        // A way freed in bucket 1 is reused without passing anything.
        assert!(index.remove(hash(1, 103), 3));
        index.insert(hash(1, 400), 40).unwrap();
        assert_eq!(index.buckets[1].overflow, 0);
        assert_eq!(index.find(hash(1, 400), |s| s == 40), Some(40));
    }

    #[test]
    fn candidate_is_the_home_buckets_tag_match() {
        let mut index = SessionIndex::with_capacity(100);
        index.insert(hash(3, 7), 70).unwrap();
        index.insert(hash(3, 8), 80).unwrap();
        assert_eq!(index.candidate(hash(3, 8)), Some(80));
        assert_eq!(index.candidate(hash(3, 9)), None);
        index.prefetch(hash(3, 8));
    }

    #[test]
    fn refuses_beyond_its_ways() {
        let mut index = SessionIndex::with_capacity(1);
        let ways = index.buckets() * WAYS;
        for slot in 0..ways as u32 {
            index.insert(hash(0, slot + 1), slot).unwrap();
        }
        assert_eq!(index.insert(hash(0, 999), 999), Err(IndexFull));
        for slot in 0..ways as u32 {
            assert_eq!(index.find(hash(0, slot + 1), |s| s == slot), Some(slot));
        }
    }

    mod model {
        use std::collections::HashMap;

        use proptest::prelude::*;

        use super::super::*;

        #[derive(Clone, Debug)]
        enum Op {
            Insert(u16),
            Remove(u16),
            Find(u16),
        }

        fn op() -> impl Strategy<Value = Op> {
            // Few distinct keys so removes and finds hit.
            prop_oneof![
                3 => (0u16..200).prop_map(Op::Insert),
                2 => (0u16..200).prop_map(Op::Remove),
                2 => (0u16..200).prop_map(Op::Find),
            ]
        }

        /// A weak hash: `bucket_bits` bits of home bucket and `tag_bits` bits of tag,
        /// so keys share buckets and tags and probe chains form.
        fn weak(key: u16, bucket_bits: u32, tag_bits: u32) -> u64 {
            let k = u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let bucket = k >> 40 & ((1 << bucket_bits) - 1);
            let tag = k >> 20 & ((1 << tag_bits) - 1);
            tag << 32 | bucket
        }

        proptest! {
            #[test]
            fn behaves_like_a_map(
                ops in proptest::collection::vec(op(), 1..400),
                bucket_bits in 0u32..4,
                tag_bits in 0u32..3,
            ) {
                let mut index = SessionIndex::with_capacity(120);
                // key -> slot, and slot -> key for the eq closure.
                let mut model: HashMap<u16, u32> = HashMap::new();
                let mut keys: HashMap<u32, u16> = HashMap::new();
                let mut next_slot = 0u32;
                let h = |k: u16| weak(k, bucket_bits, tag_bits);
                for op in ops {
                    match op {
                        Op::Insert(k) => {
                            if model.contains_key(&k) || model.len() >= 120 {
                                continue;
                            }
                            index.insert(h(k), next_slot).unwrap();
                            model.insert(k, next_slot);
                            keys.insert(next_slot, k);
                            next_slot += 1;
                        }
                        Op::Remove(k) => {
                            let removed = model.remove(&k).map(|slot| {
                                keys.remove(&slot);
                                index.remove(h(k), slot)
                            });
                            prop_assert!(removed.unwrap_or(true));
                        }
                        Op::Find(k) => {
                            let found = index.find(h(k), |s| keys.get(&s) == Some(&k));
                            prop_assert_eq!(found, model.get(&k).copied());
                        }
                    }
                    prop_assert_eq!(index.len(), model.len());
                }
                for (&k, &slot) in &model {
                    prop_assert_eq!(index.find(h(k), |s| keys.get(&s) == Some(&k)), Some(slot));
                }
                prop_assert!(index.check_invariants(|s| keys.get(&s).map_or(0, |&k| h(k))));
                for (k, slot) in model.drain() {
                    prop_assert!(index.remove(h(k), slot));
                }
                prop_assert!(index.is_empty());
                prop_assert!(index.buckets.iter().all(|b| b.overflow == 0 && b.tags == [EMPTY; WAYS]));
            }
        }
    }
}
