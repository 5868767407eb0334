//! RX and TX bursts over a started port's queues.
//!
//! Queue handles keep the port's liveness token: a port cannot be stopped while a
//! worker still holds a handle on one of its queues.

use std::sync::Arc;

use crate::mbuf::Mbuf;
use crate::port::Live;
use crate::raw;

/// Packets per burst: the classic DPDK value, enough to amortise the per-call cost.
pub const BURST_SIZE: usize = 32;

/// An RX queue of a started port.
#[derive(Debug)]
pub struct RxQueue {
    live: Arc<Live>,
    queue: u16,
}

/// A TX queue of a started port.
#[derive(Debug)]
pub struct TxQueue {
    live: Arc<Live>,
    queue: u16,
}

impl RxQueue {
    pub(crate) fn new(live: Arc<Live>, queue: u16) -> Self {
        RxQueue { live, queue }
    }

    /// Receive up to [`BURST_SIZE`] packets into `burst` (which must be empty; leftovers
    /// are freed first). Returns how many arrived.
    pub fn receive(&mut self, burst: &mut RxBurst) -> usize {
        burst.clear();
        // BURST_SIZE fits u16 by construction.
        let want = BURST_SIZE as u16;
        // SAFETY: the port is started with this queue (the handle exists only then, and
        // the port cannot stop while it does); &mut self makes this thread the queue's
        // only poller; the array has room for BURST_SIZE pointers.
        let n = unsafe {
            raw::rte_eth_rx_burst(self.live.port, self.queue, burst.slots.as_mut_ptr(), want)
        };
        burst.len = usize::from(n).min(BURST_SIZE);
        burst.next = 0;
        burst.len
    }
}

/// Received packets, handed out one by one; whatever is not taken is freed on drop.
#[derive(Debug)]
pub struct RxBurst {
    pub(crate) slots: [*mut raw::rte_mbuf; BURST_SIZE],
    pub(crate) next: usize,
    pub(crate) len: usize,
}

// SAFETY: the burst owns the mbufs in slots[next..len]; ownership may move threads.
unsafe impl Send for RxBurst {}

impl Default for RxBurst {
    fn default() -> Self {
        RxBurst {
            slots: [std::ptr::null_mut(); BURST_SIZE],
            next: 0,
            len: 0,
        }
    }
}

impl RxBurst {
    /// Free every packet not yet taken.
    pub fn clear(&mut self) {
        while self.pop().is_some() {}
    }
}

impl Iterator for RxBurst {
    type Item = Mbuf;

    /// Take the next packet, in arrival order.
    fn next(&mut self) -> Option<Mbuf> {
        self.pop()
    }
}

impl RxBurst {
    fn pop(&mut self) -> Option<Mbuf> {
        if self.next >= self.len {
            return None;
        }
        let ptr = self.slots.get(self.next).copied()?;
        self.next += 1;
        let ptr = std::ptr::NonNull::new(ptr)?;
        // SAFETY: rx_burst returned this mbuf to us and it was not handed out before
        // (next only grows), so it is valid and exclusively owned.
        Some(unsafe { Mbuf::from_raw(ptr) })
    }
}

impl Drop for RxBurst {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Packets waiting to be sent on one TX queue.
#[derive(Debug)]
pub struct TxBuffer {
    pub(crate) slots: [*mut raw::rte_mbuf; BURST_SIZE],
    pub(crate) len: usize,
}

// SAFETY: the buffer owns the mbufs in slots[..len].
unsafe impl Send for TxBuffer {}

impl Default for TxBuffer {
    fn default() -> Self {
        TxBuffer {
            slots: [std::ptr::null_mut(); BURST_SIZE],
            len: 0,
        }
    }
}

/// What a flush did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxOutcome {
    /// Packets the driver accepted.
    pub sent: u16,
    /// Packets it refused, now freed.
    pub dropped: u16,
}

impl TxBuffer {
    /// Queue `m`; when full, the packet is handed back (flush, then push again).
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = m.into_raw().as_ptr();
                self.len += 1;
                Ok(())
            }
            None => Err(m),
        }
    }

    /// Packets waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Send everything on `queue`. Sent packets now belong to the driver; the rest are freed.
    pub fn flush(&mut self, queue: &mut TxQueue) -> TxOutcome {
        if self.len == 0 {
            return TxOutcome::default();
        }
        let count = self.len.min(BURST_SIZE) as u16;
        // SAFETY: the port is started with this queue (handle contract); &mut TxQueue makes
        // this thread its only user; slots[..count] are valid owned mbufs.
        let sent = unsafe {
            raw::rte_eth_tx_burst(queue.live.port, queue.queue, self.slots.as_mut_ptr(), count)
        };
        self.release_from(usize::from(sent))
    }

    /// After a consumer (a TX queue, a ring) took `slots[..taken]`: free the rest, which
    /// are still ours, empty the buffer, and say how many went and how many were freed.
    pub(crate) fn release_from(&mut self, taken: usize) -> TxOutcome {
        let count = self.len.min(BURST_SIZE);
        let taken = taken.min(count);
        for slot in self.slots.iter().take(count).skip(taken) {
            // SAFETY: slots[taken..count] are owned mbufs nobody took; each is freed once.
            unsafe { raw::rte_pktmbuf_free(*slot) };
        }
        self.len = 0;
        TxOutcome {
            sent: taken as u16,
            dropped: (count - taken) as u16,
        }
    }
}

impl Drop for TxBuffer {
    fn drop(&mut self) {
        self.release_from(0);
    }
}

impl TxQueue {
    pub(crate) fn new(live: Arc<Live>, queue: u16) -> Self {
        TxQueue { live, queue }
    }
}
