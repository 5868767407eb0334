//! Packet-buffer pools: created once, freed on drop, occupancy readable at any time.

use std::ffi::CString;
use std::ptr::NonNull;

use crate::error::Error;
use crate::mbuf::Mbuf;
use crate::raw;

/// A `rte_pktmbuf` pool. Dropping it frees the pool; every mbuf must be back by then.
#[derive(Debug)]
pub struct Mempool {
    pool: NonNull<raw::rte_mempool>,
    size: u32,
}

// SAFETY: DPDK mempools are multi-producer/multi-consumer safe; the pointer is only
// used through DPDK's thread-safe API.
unsafe impl Send for Mempool {}
// SAFETY: as above; shared references only read counters or allocate, both MT-safe.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Create a pktmbuf pool of `size` buffers with a per-lcore cache of `cache` buffers
    /// and the default data room (2048 bytes plus headroom), on NUMA `socket`.
    pub fn create(name: &str, size: u32, cache: u32, socket: i32) -> Result<Mempool, Error> {
        let c_name = CString::new(name).map_err(|_| Error::NulInArgument(name.to_owned()))?;
        let cache = cache.min(raw::RTE_MEMPOOL_CACHE_MAX_SIZE);
        // SAFETY: pure constant accessor.
        let data_room = unsafe { raw::pinhole_mbuf_default_buf_size() };
        // SAFETY: c_name is a valid C string for the call; DPDK copies it.
        let pool = unsafe {
            raw::rte_pktmbuf_pool_create(c_name.as_ptr(), size, cache, 0, data_room, socket)
        };
        NonNull::new(pool)
            .map(|pool| Mempool { pool, size })
            .ok_or_else(|| Error::from_rte_errno("rte_pktmbuf_pool_create"))
    }

    /// The number of buffers the pool was created with.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Buffers free in the pool (per-lcore caches included).
    pub fn available(&self) -> u32 {
        // SAFETY: the pool is valid for self's lifetime; the call only reads counters.
        unsafe { raw::rte_mempool_avail_count(self.pool.as_ptr()) }
    }

    /// Buffers currently taken from the pool (held by drivers, queues or the application).
    pub fn in_use(&self) -> u32 {
        // SAFETY: as for `available`.
        unsafe { raw::rte_mempool_in_use_count(self.pool.as_ptr()) }
    }

    /// Take one buffer, empty, or `None` when the pool is exhausted.
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: the pool is valid; a returned mbuf is exclusively ours.
        let m = unsafe { raw::rte_pktmbuf_alloc(self.pool.as_ptr()) };
        // SAFETY: a non-null pointer from rte_pktmbuf_alloc is a fresh, owned mbuf.
        NonNull::new(m).map(|m| unsafe { Mbuf::from_raw(m) })
    }

    /// The raw pool, for queue setup.
    pub(crate) fn as_ptr(&self) -> *mut raw::rte_mempool {
        self.pool.as_ptr()
    }
}

impl Drop for Mempool {
    fn drop(&mut self) {
        // SAFETY: we own the pool; queues using it are closed before (the owner's contract).
        unsafe { raw::rte_mempool_free(self.pool.as_ptr()) }
    }
}
