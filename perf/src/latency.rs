//! Latency histogram: log-linear buckets (32 per power of two, so any percentile is
//! within about 3 % of the true value), exact below 32 ns, constant memory, O(1) record.
//!
//! The generator records one value per received stamped frame, so recording must not
//! allocate or search; percentiles are computed once at the end of a trial.

use serde::Serialize;

/// Sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets: the exact range `0..SUB`, then `SUB` sub-buckets per exponent above it.
const BUCKETS: usize = ((64 - SUB_BITS + 1) as usize) << SUB_BITS;

/// A latency histogram in nanoseconds.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

/// The bucket holding `v`.
fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let shift = exp - SUB_BITS;
    let sub = (v >> shift) & (SUB - 1);
    (((exp - SUB_BITS + 1) as usize) << SUB_BITS) + sub as usize
}

/// The largest value bucket `i` holds.
fn upper(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let group = i >> SUB_BITS; // exp - SUB_BITS + 1
    let sub = i & (SUB - 1);
    let shift = group - 1;
    let lower = (SUB + sub) << shift;
    lower.saturating_add((1u64 << shift) - 1)
}

/// Percentiles of one histogram, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Values recorded.
    pub count: u64,
    /// Smallest value.
    pub min_ns: u64,
    /// Mean.
    pub mean_ns: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest value.
    pub max_ns: u64,
}

impl Histogram {
    /// Record one value.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        if let Some(c) = self.counts.get_mut(index(ns)) {
            *c += 1;
        }
        self.count += 1;
        self.sum += u128::from(ns);
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
    }

    /// Values recorded.
    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Add `other`'s values to this histogram (per-class or per-port histograms).
    #[cfg(test)]
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The value at percentile `p` (0..=100): the smallest bucket bound with at least
    /// `ceil(p% of count)` values at or below it, clamped to the recorded min and max.
    /// `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let p = p.clamp(0.0, 100.0);
        let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(upper(i).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// Count, min, mean, percentiles and max (all zero when empty).
    pub fn summary(&self) -> Summary {
        if self.count == 0 {
            return Summary::default();
        }
        let p = |q| self.percentile(q).unwrap_or(0);
        Summary {
            count: self.count,
            min_ns: self.min,
            mean_ns: u64::try_from(self.sum / u128::from(self.count)).unwrap_or(u64::MAX),
            p50_ns: p(50.0),
            p90_ns: p(90.0),
            p99_ns: p(99.0),
            p999_ns: p(99.9),
            max_ns: self.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::default();
        for v in 1..=20 {
            h.record(v);
        }
        assert_eq!(h.percentile(50.0), Some(10));
        assert_eq!(h.percentile(95.0), Some(19));
        assert_eq!(h.percentile(100.0), Some(20));
        assert_eq!(h.percentile(0.0), Some(1));
    }

    #[test]
    fn every_value_maps_to_a_bucket_that_bounds_it_within_three_percent() {
        for v in (0..20u64).chain([31, 32, 33, 63, 64, 1000, 12_345, 1 << 40, u64::MAX]) {
            let i = index(v);
            assert!(i < BUCKETS, "{v}");
            let up = upper(i);
            assert!(up >= v, "{v} -> {up}");
            assert!((up - v) as f64 <= v as f64 / 32.0, "{v} -> {up}");
            // The bucket below ends before v.
            if i > 0 {
                assert!(upper(i - 1) < v, "{v}");
            }
        }
    }

    #[test]
    fn percentiles_of_a_uniform_spread_are_close() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v * 10);
        }
        let s = h.summary();
        assert_eq!(s.count, 100_000);
        assert_eq!(s.min_ns, 10);
        assert_eq!(s.max_ns, 1_000_000);
        assert_eq!(s.mean_ns, 500_005);
        for (got, want) in [
            (s.p50_ns, 500_000.0),
            (s.p99_ns, 990_000.0),
            (s.p90_ns, 900_000.0),
        ] {
            let err = (got as f64 - want).abs() / want;
            assert!(err < 0.035, "{got} vs {want}");
        }
        assert!(s.p999_ns <= s.max_ns && s.p999_ns >= s.p99_ns);
    }

    #[test]
    fn a_single_outlier_shows_only_at_the_top() {
        let mut h = Histogram::default();
        for _ in 0..999 {
            h.record(1_000);
        }
        h.record(5_000_000);
        assert!(h.percentile(99.0).is_some_and(|v| v <= 1_031));
        assert_eq!(h.percentile(100.0), Some(5_000_000));
    }

    #[test]
    fn empty_and_merged_histograms() {
        let empty = Histogram::default();
        assert_eq!(empty.percentile(50.0), None);
        assert_eq!(empty.summary(), Summary::default());
        let mut a = Histogram::default();
        a.record(10);
        let mut b = Histogram::default();
        b.record(20);
        b.record(30);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.percentile(50.0), Some(20));
        assert_eq!(a.summary().min_ns, 10);
        assert_eq!(a.summary().max_ns, 30);
    }
}
