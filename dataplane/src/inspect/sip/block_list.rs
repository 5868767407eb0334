//! The temporary block list's per-source state: rejected INVITEs counted in a window
//! that opens at the first of them; reaching the threshold blocks the source for the
//! configured duration (Juniper's "deny repeat INVITEs after rejection", Cisco's dynamic
//! block list).

use super::profile::BlockPolicy;
use super::startline::StatusCode;
use crate::time::Timestamp;

/// One source's rejections and block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RejectionWindow {
    /// When the current window opened, and the rejections counted in it.
    window: Option<(Timestamp, u32)>,
    /// Blocked until then (exclusive).
    blocked_until: Option<Timestamp>,
}

/// Whether a final response to an initial INVITE counts as a rejection: 4xx-6xx, but
/// authentication challenges only when the policy says so.
pub fn is_rejection(status: StatusCode, policy: &BlockPolicy) -> bool {
    (400..700).contains(&status.0) && (policy.count_challenges || !matches!(status.0, 401 | 407))
}

impl RejectionWindow {
    /// Count a rejection at `now`; true when it starts a block.
    pub fn record(&mut self, now: Timestamp, policy: &BlockPolicy) -> bool {
        if self.is_blocked(now) {
            return false;
        }
        let count = match self.window {
            Some((opened, n)) if now.since(opened) < policy.window => n.saturating_add(1),
            _ => {
                self.window = Some((now, 0));
                1
            }
        };
        if count >= policy.rejected_invites.max(1) {
            self.window = None;
            self.blocked_until = Some(now.after(policy.duration));
            true
        } else {
            if let Some((_, n)) = self.window.as_mut() {
                *n = count;
            }
            false
        }
    }

    /// Whether the source is blocked at `now`.
    pub fn is_blocked(&self, now: Timestamp) -> bool {
        self.blocked_until.is_some_and(|until| now < until)
    }

    /// Whether nothing is left to remember at `now` (no block, no open window).
    pub fn is_idle(&self, now: Timestamp, policy: &BlockPolicy) -> bool {
        !self.is_blocked(now)
            && self
                .window
                .is_none_or(|(opened, _)| now.since(opened) >= policy.window)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const POLICY: BlockPolicy = BlockPolicy {
        rejected_invites: 3,
        window: Duration::from_secs(10),
        duration: Duration::from_secs(60),
        count_challenges: false,
    };

    fn s(n: u64) -> Timestamp {
        Timestamp::from_secs(n)
    }

    #[test]
    fn threshold_within_the_window_blocks_until_expiry() {
        let mut w = RejectionWindow::default();
        assert!(!w.record(s(0), &POLICY));
        assert!(!w.record(s(4), &POLICY));
        assert!(!w.is_blocked(s(5)));
        assert!(w.record(s(9), &POLICY), "third rejection within 10 s");
        assert!(w.is_blocked(s(9)));
        assert!(w.is_blocked(s(68)));
        assert!(!w.is_blocked(s(69)), "block lasts 60 s");
        assert!(w.is_idle(s(69), &POLICY));
    }

    #[test]
    fn rejections_outside_the_window_start_a_new_one() {
        let mut w = RejectionWindow::default();
        assert!(!w.record(s(0), &POLICY));
        assert!(!w.record(s(5), &POLICY));
        // The window opened at 0 has passed: this is the first of a new one.
        assert!(!w.record(s(10), &POLICY));
        assert!(!w.record(s(15), &POLICY));
        assert!(!w.is_blocked(s(15)));
        assert!(w.record(s(19), &POLICY));
    }

    #[test]
    fn rejections_while_blocked_do_not_extend_the_block() {
        let mut w = RejectionWindow::default();
        for t in 0..3 {
            w.record(s(t), &POLICY);
        }
        assert!(w.is_blocked(s(2)));
        assert!(!w.record(s(30), &POLICY));
        assert!(!w.is_blocked(s(62)));
    }

    #[test]
    fn challenges_count_only_when_asked() {
        assert!(is_rejection(StatusCode(486), &POLICY));
        assert!(is_rejection(StatusCode(603), &POLICY));
        assert!(!is_rejection(StatusCode(407), &POLICY));
        assert!(!is_rejection(StatusCode(302), &POLICY));
        let strict = BlockPolicy {
            count_challenges: true,
            ..POLICY
        };
        assert!(is_rejection(StatusCode(401), &strict));
    }
}
