//! A token bucket over caller-supplied time (sans-IO): `burst` requests at once, refilled
//! at `per_second`. Tokens are kept in nano-tokens so that refills between closely
//! spaced requests are never rounded away.

use crate::time::Timestamp;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// One source's allowance for one method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenBucket {
    /// Nano-tokens left and when they were counted; `None` is a full bucket (a source
    /// the limiter has not charged yet, or one idle long enough to refill).
    state: Option<(u128, Timestamp)>,
}

impl TokenBucket {
    /// Take one token at `now` if there is one, refilling first.
    pub fn try_take(&mut self, now: Timestamp, per_second: u32, burst: u32) -> bool {
        let capacity = u128::from(burst.max(1)) * NANOS_PER_SEC;
        let tokens = match self.state {
            None => capacity,
            Some((tokens, last)) => {
                let elapsed = u128::from(now.0.saturating_sub(last.0));
                tokens
                    .saturating_add(elapsed.saturating_mul(u128::from(per_second)))
                    .min(capacity)
            }
        };
        // Time never runs backwards for the bucket: a late timestamp refills nothing.
        let at = match self.state {
            Some((_, last)) if last > now => last,
            _ => now,
        };
        match tokens.checked_sub(NANOS_PER_SEC) {
            Some(left) => {
                self.state = Some((left, at));
                true
            }
            None => {
                self.state = Some((tokens, at));
                false
            }
        }
    }

    /// Whether the bucket is full at `now` (its state can be forgotten).
    pub fn is_full(&self, now: Timestamp, per_second: u32, burst: u32) -> bool {
        match self.state {
            None => true,
            Some((tokens, last)) => {
                let elapsed = u128::from(now.0.saturating_sub(last.0));
                tokens.saturating_add(elapsed.saturating_mul(u128::from(per_second)))
                    >= u128::from(burst.max(1)) * NANOS_PER_SEC
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Timestamp {
        Timestamp::from_millis(n)
    }

    #[test]
    fn burst_then_refused() {
        let mut b = TokenBucket::default();
        for i in 0..3 {
            assert!(b.try_take(ms(0), 1, 3), "token {i} of the burst");
        }
        assert!(!b.try_take(ms(0), 1, 3));
        assert!(!b.try_take(ms(999), 1, 3), "less than one token refilled");
    }

    #[test]
    fn refills_at_the_rate() {
        let mut b = TokenBucket::default();
        assert!(b.try_take(ms(0), 2, 1));
        assert!(!b.try_take(ms(400), 2, 1));
        // 500 ms at 2/s is one token, accumulated across the refused attempt.
        assert!(b.try_take(ms(500), 2, 1));
        assert!(!b.try_take(ms(500), 2, 1));
    }

    #[test]
    fn refill_is_capped_at_the_burst() {
        let mut b = TokenBucket::default();
        assert!(b.try_take(ms(0), 10, 2));
        assert!(b.try_take(ms(0), 10, 2));
        // An hour idle refills to the burst (2), not to 36000.
        let later = ms(3_600_000);
        assert!(b.is_full(later, 10, 2));
        assert!(b.try_take(later, 10, 2));
        assert!(b.try_take(later, 10, 2));
        assert!(!b.try_take(later, 10, 2));
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let mut b = TokenBucket::default();
        assert!(b.try_take(ms(10_000), 1, 1));
        assert!(!b.try_take(ms(0), 1, 1));
        assert!(!b.try_take(ms(10_500), 1, 1));
        assert!(b.try_take(ms(11_000), 1, 1));
    }
}
