//! Time as an input: the pipeline never reads a clock, its callers pass one in.

use std::time::Duration;

/// A point in time in nanoseconds since an arbitrary, caller-chosen epoch
/// (TSC-derived in the engine, capture timestamps in replay, anything in tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The timestamp `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000))
    }

    /// The timestamp `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Timestamp(ms.saturating_mul(1_000_000))
    }

    /// This timestamp moved forward by `d` (saturating).
    pub fn after(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(nanos))
    }

    /// This timestamp moved back by `d` (saturating at zero).
    pub fn before(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_sub(nanos))
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// Whole seconds since the epoch.
    pub fn as_secs(self) -> u64 {
        self.0 / 1_000_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_is_after_backwards_and_saturates_at_zero() {
        let t = Timestamp::from_secs(10);
        let d = Duration::from_millis(1500);
        assert_eq!(t.after(d).before(d), t);
        assert_eq!(
            t.before(d).since(t.before(Duration::from_secs(2))),
            Duration::from_millis(500)
        );
        assert_eq!(t.before(Duration::from_secs(11)), Timestamp(0));
        assert_eq!(t.before(Duration::MAX), Timestamp(0));
    }
}
