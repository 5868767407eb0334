//! NDR/PDR search, RFC 2544 style, without I/O: the search proposes a rate, the caller
//! runs a trial at that rate and feeds back what was sent and received.
//!
//! Several loss thresholds are searched together (NDR: zero loss; PDR: at most 0.5 %),
//! and every trial narrows every threshold's interval, so a trial run for the NDR also
//! teaches the PDR search. The first trial is at the maximum rate (if it passes, there
//! is nothing to search); then each threshold's interval `[pass, fail)` is halved until
//! it is narrower than the resolution, a fraction of the failing rate (so a device far
//! below the maximum is still measured to that precision).

use serde::Serialize;

/// What one trial did.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TrialResult {
    /// The rate the trial was run at (packets or calls per second).
    pub rate: f64,
    /// Frames offered to the device under test.
    pub sent: u64,
    /// Frames that came back.
    pub received: u64,
}

impl TrialResult {
    /// Lost frames over offered frames (0 when nothing was offered; a device that
    /// returns more than it got, e.g. duplicates, counts as lossless).
    pub fn loss_ratio(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        self.sent.saturating_sub(self.received) as f64 / self.sent as f64
    }
}

/// One threshold's search state.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bound {
    /// Highest acceptable loss ratio (0.0 for NDR, 0.005 for PDR).
    pub max_loss: f64,
    /// Highest rate that passed (0 until one does).
    pub pass: f64,
    /// Lowest rate that failed (the maximum rate plus one resolution until one does).
    pub fail: f64,
    /// Whether a trial passed at all.
    pub found: bool,
}

/// A running search.
#[derive(Clone, Debug)]
pub struct Search {
    max_rate: f64,
    /// Relative resolution.
    resolution: f64,
    /// Absolute resolution floor.
    floor: f64,
    bounds: Vec<Bound>,
    trials: Vec<TrialResult>,
}

impl Search {
    /// Search rates in `(0, max_rate]` for each of `max_losses`, stopping when each
    /// interval `[pass, fail)` is narrower than `resolution * fail` (or than a thousandth
    /// of the maximum rate: a device that loses everything is not chased to zero).
    pub fn new(max_rate: f64, resolution: f64, max_losses: &[f64]) -> Search {
        let floor = (max_rate * 1e-3).max(f64::MIN_POSITIVE);
        Search {
            max_rate,
            resolution,
            floor,
            bounds: max_losses
                .iter()
                .map(|&max_loss| Bound {
                    max_loss,
                    pass: 0.0,
                    fail: max_rate + floor,
                    found: false,
                })
                .collect(),
            trials: Vec::new(),
        }
    }

    /// The next rate to try, `None` when every threshold has converged.
    pub fn next_rate(&self) -> Option<f64> {
        if self.trials.is_empty() {
            return (self.max_rate > 0.0).then_some(self.max_rate);
        }
        self.bounds
            .iter()
            .find(|b| !self.converged(b))
            .map(|b| (b.pass + b.fail.min(self.max_rate)) / 2.0)
    }

    fn converged(&self, b: &Bound) -> bool {
        let width = b.fail.min(self.max_rate + self.floor) - b.pass;
        width <= self.floor || width <= self.resolution * b.fail.min(self.max_rate)
    }

    /// Feed back a trial's result: every threshold's interval narrows.
    pub fn record(&mut self, trial: TrialResult) {
        let loss = trial.loss_ratio();
        for b in &mut self.bounds {
            if loss <= b.max_loss {
                if trial.rate > b.pass {
                    b.pass = trial.rate;
                    b.found = true;
                }
                // A pass above an earlier failure (noise): the failure bound becomes the
                // lowest failure above the pass, so the interval stays ordered.
                if b.fail <= b.pass {
                    b.fail = self
                        .trials
                        .iter()
                        .filter(|t| t.rate > b.pass && t.loss_ratio() > b.max_loss)
                        .map(|t| t.rate)
                        .fold(self.max_rate + self.floor, f64::min);
                }
            } else if trial.rate < b.fail {
                b.fail = trial.rate;
                if b.pass >= b.fail {
                    // Noise the other way: the highest pass below this failure.
                    let below = self
                        .trials
                        .iter()
                        .filter(|t| t.rate < b.fail && t.loss_ratio() <= b.max_loss)
                        .map(|t| t.rate)
                        .fold(0.0, f64::max);
                    b.pass = below;
                    b.found = below > 0.0;
                }
            }
        }
        self.trials.push(trial);
    }

    /// The thresholds' current state, in the order given to [`Search::new`].
    pub fn bounds(&self) -> &[Bound] {
        &self.bounds
    }

    /// Every trial so far.
    #[cfg(test)]
    pub fn trials(&self) -> &[TrialResult] {
        &self.trials
    }

    /// Run the search to the end with `trial` (at most `max_trials` trials).
    pub fn run<E>(
        mut self,
        max_trials: usize,
        mut trial: impl FnMut(f64) -> Result<TrialResult, E>,
    ) -> Result<Search, E> {
        while let Some(rate) = self.next_rate() {
            if self.trials.len() >= max_trials {
                break;
            }
            let result = trial(rate)?;
            self.record(result);
        }
        Ok(self)
    }
}

/// Run `trial` once, and again up to `retries` times while it loses frames; the
/// attempt with the least loss and how many attempts were made.
///
/// Not RFC 2544 (which takes every trial as it comes): on a machine shared with other
/// work, a trial fails whenever the device's core is taken away for longer than its
/// queues last, whatever its forwarding capacity. Retrying filters those interruptions
/// out; a device that really loses at a rate loses on every attempt. Use 0 on a
/// dedicated machine.
pub fn best_of<E>(
    retries: usize,
    mut trial: impl FnMut() -> Result<TrialResult, E>,
) -> Result<(TrialResult, usize), E> {
    let mut best = trial()?;
    let mut attempts = 1;
    while best.loss_ratio() > 0.0 && attempts <= retries {
        let next = trial()?;
        attempts += 1;
        if next.loss_ratio() < best.loss_ratio() {
            best = next;
        }
    }
    Ok((best, attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device that loses nothing up to `ndr`, then loses `slope` of the excess.
    fn device(ndr: f64, slope: f64) -> impl FnMut(f64) -> Result<TrialResult, ()> {
        move |rate| {
            let sent = (rate * 10.0) as u64;
            let lost = if rate <= ndr {
                0
            } else {
                ((rate - ndr) * 10.0 * slope) as u64
            };
            Ok(TrialResult {
                rate,
                sent,
                received: sent - lost,
            })
        }
    }

    #[test]
    fn ndr_and_pdr_converge_within_the_resolution() {
        let s = Search::new(10_000_000.0, 0.003, &[0.0, 0.005])
            .run(64, device(3_300_000.0, 0.1))
            .unwrap_or_else(|()| unreachable!());
        let [ndr, pdr] = s.bounds() else {
            unreachable!()
        };
        assert!(ndr.found && pdr.found);
        assert!(ndr.pass <= 3_300_000.0 && ndr.pass > 3_290_000.0, "{ndr:?}");
        assert!(ndr.fail - ndr.pass <= 0.003 * ndr.fail);
        // 0.1 * (r - 3.3M) / r <= 0.005  <=>  r <= 3.3M / 0.95 = 3.4737M
        assert!(pdr.pass <= 3_473_685.0 && pdr.pass > 3_463_000.0, "{pdr:?}");
        // Roughly log2(10M / 10k) trials per threshold, shared.
        assert!(s.trials().len() <= 22, "{}", s.trials().len());
    }

    #[test]
    fn a_device_that_keeps_up_at_the_maximum_needs_one_trial() {
        let s = Search::new(1_000.0, 0.01, &[0.0, 0.005])
            .run(64, device(5_000.0, 1.0))
            .unwrap_or_else(|()| unreachable!());
        assert_eq!(s.trials().len(), 1);
        assert!(s.bounds().iter().all(|b| b.found && b.pass == 1_000.0));
        assert_eq!(s.next_rate(), None);
    }

    #[test]
    fn a_device_that_loses_everything_finds_nothing() {
        let s = Search::new(1_000.0, 0.01, &[0.0])
            .run(64, |rate| {
                Ok::<_, ()>(TrialResult {
                    rate,
                    sent: 100,
                    received: 0,
                })
            })
            .unwrap_or_else(|()| unreachable!());
        let b = s.bounds().first().copied();
        assert!(b.is_some_and(|b| !b.found && b.pass == 0.0 && b.fail <= 1.0));
    }

    #[test]
    fn the_trial_budget_and_errors_stop_the_search() {
        let s = Search::new(1_000_000.0, 0.001, &[0.0])
            .run(3, device(10.0, 1.0))
            .unwrap_or_else(|()| unreachable!());
        assert_eq!(s.trials().len(), 3);
        let mut calls = 0;
        let r = Search::new(100.0, 0.01, &[0.0]).run(10, |_| {
            calls += 1;
            Err::<TrialResult, _>("generator died")
        });
        assert_eq!(r.err(), Some("generator died"));
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_noisy_pass_above_a_failure_keeps_the_interval_ordered() {
        let mut s = Search::new(100.0, 0.01, &[0.0]);
        let trial = |rate, received| TrialResult {
            rate,
            sent: 100,
            received,
        };
        s.record(trial(100.0, 90));
        s.record(trial(50.0, 90));
        s.record(trial(75.0, 100));
        let b = s.bounds().first().copied();
        assert!(b.is_some_and(|b| b.found && b.pass == 75.0 && b.fail > b.pass));
        assert!(s.next_rate().is_some_and(|r| r > 75.0 && r <= 100.0));
    }

    #[test]
    fn retries_keep_the_best_attempt_and_stop_at_the_first_lossless_one() {
        let t = |received| TrialResult {
            rate: 1.0,
            sent: 100,
            received,
        };
        let mut script = vec![t(90), t(95), t(100), t(80)].into_iter();
        let (best, attempts) = best_of(5, || Ok::<_, ()>(script.next().unwrap_or(t(0))))
            .unwrap_or_else(|()| unreachable!());
        assert_eq!((best.received, attempts), (100, 3));
        let mut script = vec![t(90), t(97), t(93)].into_iter();
        let (best, attempts) = best_of(2, || Ok::<_, ()>(script.next().unwrap_or(t(0))))
            .unwrap_or_else(|()| unreachable!());
        assert_eq!((best.received, attempts), (97, 3));
        let (_, attempts) = best_of(0, || Ok::<_, ()>(t(50))).unwrap_or_else(|()| unreachable!());
        assert_eq!(attempts, 1);
    }

    #[test]
    fn loss_ratio_edge_cases() {
        let t = |sent, received| TrialResult {
            rate: 1.0,
            sent,
            received,
        };
        assert_eq!(t(0, 0).loss_ratio(), 0.0);
        assert_eq!(t(10, 12).loss_ratio(), 0.0);
        assert_eq!(t(200, 199).loss_ratio(), 0.005);
    }
}
