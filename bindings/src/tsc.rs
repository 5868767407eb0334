//! The TSC clock: cycles read with one instruction, converted to nanoseconds.

use crate::eal::Eal;
use crate::raw;

/// The current TSC value.
#[inline]
pub fn cycles() -> u64 {
    // SAFETY: reads the time-stamp counter; no preconditions.
    unsafe { raw::rte_get_tsc_cycles() }
}

/// Converts TSC readings to nanoseconds since the clock's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TscClock {
    hz: u64,
    origin: u64,
}

impl TscClock {
    /// A clock starting now, at the frequency the EAL measured.
    pub fn start(_eal: &Eal) -> TscClock {
        // SAFETY: the EAL is initialised (proved by `_eal`), so the frequency is known.
        let hz = unsafe { raw::rte_get_tsc_hz() };
        TscClock::from_hz(hz, cycles())
    }

    /// A clock of `hz` cycles per second whose zero is the reading `origin`.
    pub fn from_hz(hz: u64, origin: u64) -> TscClock {
        TscClock {
            hz: hz.max(1),
            origin,
        }
    }

    /// Cycles per second.
    pub fn hz(&self) -> u64 {
        self.hz
    }

    /// Nanoseconds from the origin to the TSC reading `tsc` (0 before the origin).
    #[inline]
    pub fn nanos_at(&self, tsc: u64) -> u64 {
        let elapsed = u128::from(tsc.saturating_sub(self.origin));
        u64::try_from(elapsed * 1_000_000_000 / u128::from(self.hz)).unwrap_or(u64::MAX)
    }

    /// Nanoseconds since the origin, now.
    #[inline]
    pub fn now_nanos(&self) -> u64 {
        self.nanos_at(cycles())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_convert_to_nanoseconds_without_overflow() {
        let clock = TscClock::from_hz(2_500_000_000, 1_000);
        assert_eq!(clock.nanos_at(1_000), 0);
        assert_eq!(clock.nanos_at(1_000 + 2_500_000_000), 1_000_000_000);
        assert_eq!(clock.nanos_at(500), 0);
        // A year of cycles at 2.5 GHz still converts exactly.
        let year = 365 * 24 * 3600 * 2_500_000_000u64;
        assert_eq!(
            clock.nanos_at(1_000 + year),
            365 * 24 * 3600 * 1_000_000_000
        );
    }

    #[test]
    fn the_tsc_moves_forward() {
        let a = cycles();
        let b = cycles();
        assert!(b >= a);
    }
}
