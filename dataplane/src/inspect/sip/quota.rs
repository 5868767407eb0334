//! A cap on live dialogs shared by the workers: a dialog holds a ticket for its whole
//! life and gives it back when it is dropped, whichever path removes it (BYE, CANCEL,
//! rejection, timeout), so the count cannot drift.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Live dialogs of one profile.
#[derive(Debug, Default)]
pub struct DialogQuota {
    live: AtomicU32,
}

/// One live dialog's share of a [`DialogQuota`]; released on drop.
#[derive(Debug)]
pub struct QuotaTicket {
    quota: Arc<DialogQuota>,
}

impl DialogQuota {
    /// A ticket, unless `max` dialogs are already live (refused before anything is
    /// allocated for the dialog).
    pub fn acquire(self: &Arc<Self>, max: u32) -> Option<QuotaTicket> {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| QuotaTicket {
                quota: Arc::clone(self),
            })
    }

    /// Dialogs holding a ticket.
    pub fn live(&self) -> u32 {
        self.live.load(Ordering::Acquire)
    }
}

impl Drop for QuotaTicket {
    fn drop(&mut self) {
        let _ = self
            .quota
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_up_to_the_cap_and_back_on_drop() {
        let q = Arc::new(DialogQuota::default());
        let a = q.acquire(2).unwrap();
        let b = q.acquire(2).unwrap();
        assert!(q.acquire(2).is_none());
        assert_eq!(q.live(), 2);
        drop(a);
        assert_eq!(q.live(), 1);
        let c = q.acquire(2).unwrap();
        drop((b, c));
        assert_eq!(q.live(), 0);
    }
}
