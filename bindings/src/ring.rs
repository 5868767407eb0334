//! Bounded lock-free rings of mbufs (DPDK `rte_ring`): any number of producers, one
//! consumer. Workers hand packets to the worker that owns their flow through them.
//!
//! [`mbuf_ring`] returns the two ends. [`RingProducer`] is `Clone + Send + Sync`
//! (multi-producer enqueue is thread-safe); [`RingConsumer`] is unique and dequeues
//! through `&mut self`, which makes the single-consumer dequeue sound. A full ring
//! refuses packets, never blocks: the refused packets are freed and counted by the
//! caller. The ring is freed, with any packet still in it, when both ends are gone.

use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;

use crate::burst::{RxBurst, TxBuffer, TxOutcome, BURST_SIZE};
use crate::error::Error;
use crate::raw;

/// The ring itself; freed (with whatever it still holds) by the last end dropped.
#[derive(Debug)]
struct RingInner {
    ring: NonNull<raw::rte_ring>,
}

// SAFETY: the ring is created multi-producer (thread-safe enqueue from any thread); its
// single-consumer dequeue is only reachable through the one `RingConsumer` (`&mut self`)
// or from `Drop`, when no other reference exists.
unsafe impl Send for RingInner {}
// SAFETY: as above: shared references only enqueue (MP-safe) or read the count.
unsafe impl Sync for RingInner {}

impl Drop for RingInner {
    fn drop(&mut self) {
        let mut burst = RxBurst::default();
        // Packets still in flight are freed by the burst as it is refilled and dropped.
        while dequeue_into(self.ring, &mut burst) > 0 {}
        drop(burst);
        // SAFETY: this is the last reference to the ring: nothing enqueues or dequeues.
        unsafe { raw::rte_ring_free(self.ring.as_ptr()) };
    }
}

/// Dequeue up to a burst into `burst` (its previous packets are freed first).
fn dequeue_into(ring: NonNull<raw::rte_ring>, burst: &mut RxBurst) -> usize {
    burst.clear();
    let slots = burst.slots.as_mut_ptr().cast::<*mut std::ffi::c_void>();
    // SAFETY: the caller is the ring's only consumer (RingConsumer's &mut self or the
    // last owner in Drop); `slots` has room for BURST_SIZE pointers; every pointer in
    // the ring is an mbuf a producer gave up, so the burst now owns what it receives.
    let n = unsafe {
        raw::rte_ring_sc_dequeue_burst(
            ring.as_ptr(),
            slots,
            BURST_SIZE as u32,
            std::ptr::null_mut(),
        )
    };
    let n = usize::try_from(n).unwrap_or(0).min(BURST_SIZE);
    burst.len = n;
    burst.next = 0;
    n
}

/// The sending end of a ring. Cloning it adds a producer.
#[derive(Clone, Debug)]
pub struct RingProducer {
    inner: Arc<RingInner>,
}

/// The receiving end of a ring (exactly one).
#[derive(Debug)]
pub struct RingConsumer {
    inner: Arc<RingInner>,
}

/// A ring holding at least `capacity` mbufs, named `name` (unique in the process, at
/// most 26 bytes), on NUMA `socket` (`-1`: any).
pub fn mbuf_ring(
    name: &str,
    capacity: u32,
    socket: i32,
) -> Result<(RingProducer, RingConsumer), Error> {
    let c_name = CString::new(name).map_err(|_| Error::NulInArgument(name.to_owned()))?;
    // A ring of 2^k slots holds 2^k - 1 objects.
    let count = capacity
        .saturating_add(1)
        .checked_next_power_of_two()
        .unwrap_or(1 << 31);
    // SAFETY: c_name is a valid C string for the call (DPDK copies it); the flags ask for
    // a multi-producer, single-consumer ring, which is how the ends use it.
    let ring = unsafe { raw::rte_ring_create(c_name.as_ptr(), count, socket, raw::RING_F_SC_DEQ) };
    let ring = NonNull::new(ring).ok_or_else(|| Error::from_rte_errno("rte_ring_create"))?;
    let inner = Arc::new(RingInner { ring });
    Ok((
        RingProducer {
            inner: Arc::clone(&inner),
        },
        RingConsumer { inner },
    ))
}

impl RingProducer {
    /// Move every packet of `batch` into the ring; those that do not fit are freed and
    /// reported as `dropped`. The batch is empty afterwards. Never blocks.
    pub fn enqueue(&self, batch: &mut TxBuffer) -> TxOutcome {
        let count = batch.len.min(BURST_SIZE);
        if count == 0 {
            return TxOutcome::default();
        }
        let objects = batch.slots.as_ptr().cast::<*mut std::ffi::c_void>();
        // SAFETY: the ring is valid while `inner` lives and was created multi-producer, so
        // concurrent enqueues are allowed; slots[..count] are owned mbufs, and those the
        // ring accepts now belong to it (the batch forgets them below).
        let accepted = unsafe {
            raw::rte_ring_mp_enqueue_burst(
                self.inner.ring.as_ptr(),
                objects,
                count as u32,
                std::ptr::null_mut(),
            )
        };
        batch.release_from(usize::try_from(accepted).unwrap_or(0))
    }
}

impl RingConsumer {
    /// Take up to [`BURST_SIZE`] packets, in the order each producer enqueued them, into
    /// `burst` (whose untaken packets are freed first). Returns how many.
    pub fn dequeue(&mut self, burst: &mut RxBurst) -> usize {
        dequeue_into(self.inner.ring, burst)
    }

    /// Packets waiting.
    pub fn len(&self) -> usize {
        // SAFETY: reads the ring's head and tail; valid while `inner` lives.
        let n = unsafe { raw::rte_ring_count(self.inner.ring.as_ptr()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any producer still exists. Once this is false, a dequeue sees every
    /// packet ever enqueued: nothing can arrive any more.
    pub fn has_producers(&self) -> bool {
        let others = Arc::strong_count(&self.inner) > 1;
        // Pairs with the release decrement of the last producer's drop, so its
        // enqueues are visible to the dequeues that follow.
        fence(Ordering::Acquire);
        others
    }
}
