//! An owned packet buffer: frees itself on drop, exposes its bytes as plain slices.

use std::ptr::NonNull;

use crate::raw;

/// One `rte_mbuf` we own. Data accessors read the mbuf's fields directly (no FFI call).
///
/// Only the first segment is exposed: ports are configured without scatter, so packets
/// arrive in one segment.
#[derive(Debug)]
pub struct Mbuf {
    ptr: NonNull<raw::rte_mbuf>,
}

// SAFETY: an Mbuf is the sole owner of its buffer; DPDK allows freeing an mbuf from
// any thread (the pool is MT-safe), so ownership may move between threads.
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Take ownership of `ptr`.
    ///
    /// # Safety
    /// `ptr` must point to a valid mbuf that nothing else owns or will free, whose
    /// `buf_addr + data_off .. + data_len` range is readable and writable.
    pub unsafe fn from_raw(ptr: NonNull<raw::rte_mbuf>) -> Mbuf {
        Mbuf { ptr }
    }

    /// Give up ownership without freeing (the caller now owns the buffer).
    pub fn into_raw(self) -> NonNull<raw::rte_mbuf> {
        let ptr = self.ptr;
        std::mem::forget(self);
        ptr
    }

    fn header(&self) -> &raw::rte_mbuf {
        // SAFETY: from_raw's contract: the pointer is valid and exclusively ours.
        unsafe { self.ptr.as_ref() }
    }

    /// Bytes of packet data in this (first) segment.
    pub fn len(&self) -> usize {
        usize::from(self.header().data_len)
    }

    /// Whether the segment holds no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The port the packet was received on (as set by the driver).
    pub fn port(&self) -> u16 {
        self.header().port
    }

    /// Record `port` as the port the packet was received on (a packet handed to another
    /// worker carries its ingress this way, whatever the driver wrote).
    pub fn set_port(&mut self, port: u16) {
        // SAFETY: from_raw's contract: the pointer is valid and exclusively ours.
        unsafe { self.ptr.as_mut() }.port = port;
    }

    fn data_ptr(&self) -> *mut u8 {
        let h = self.header();
        h.buf_addr
            .cast::<u8>()
            .wrapping_add(usize::from(h.data_off))
    }

    /// The packet bytes.
    pub fn data(&self) -> &[u8] {
        let len = self.len();
        if len == 0 {
            return &[];
        }
        // SAFETY: from_raw's contract makes data_off..data_off+data_len of buf_addr a
        // valid, initialised region owned by this mbuf for as long as &self lives.
        unsafe { std::slice::from_raw_parts(self.data_ptr(), len) }
    }

    /// The packet bytes, writable (rewrites happen in place).
    pub fn data_mut(&mut self) -> &mut [u8] {
        let len = self.len();
        if len == 0 {
            return &mut [];
        }
        // SAFETY: as for `data`; &mut self guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.data_ptr(), len) }
    }

    /// Append `bytes` to the packet; `false` (packet unchanged) when they do not fit.
    pub fn append(&mut self, bytes: &[u8]) -> bool {
        let Ok(len) = u16::try_from(bytes.len()) else {
            return false;
        };
        // SAFETY: the mbuf is valid and ours; rte_pktmbuf_append returns null or a
        // pointer to `len` writable bytes inside the last segment.
        let dst = unsafe { raw::rte_pktmbuf_append(self.ptr.as_ptr(), len) };
        if dst.is_null() {
            return false;
        }
        // SAFETY: dst has room for len bytes and does not overlap `bytes` (a Rust slice).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.cast::<u8>(), bytes.len()) };
        true
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the mbuf (from_raw's contract) and never use it again.
        unsafe { raw::rte_pktmbuf_free(self.ptr.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake mbuf header over a Rust buffer; never dropped as an Mbuf (no EAL here).
    fn fake(buffer: &mut [u8], data_off: u16, data_len: u16) -> Box<raw::rte_mbuf> {
        let mut h: Box<raw::rte_mbuf> = Box::default();
        h.buf_addr = buffer.as_mut_ptr().cast();
        h.data_off = data_off;
        h.data_len = data_len;
        h.pkt_len = u32::from(data_len);
        h.port = 3;
        h
    }

    #[test]
    fn data_is_the_window_after_the_headroom() {
        let mut buffer: Vec<u8> = (0..32).collect();
        let mut header = fake(&mut buffer, 8, 4);
        // SAFETY: the header and buffer outlive the Mbuf, which is turned back into a raw
        // pointer (not dropped) before them.
        let mut m = unsafe { Mbuf::from_raw(NonNull::from(header.as_mut())) };
        assert_eq!(m.data(), &[8, 9, 10, 11]);
        assert_eq!(m.len(), 4);
        assert_eq!(m.port(), 3);
        m.set_port(9);
        assert_eq!(m.port(), 9);
        if let Some(b) = m.data_mut().first_mut() {
            *b = 0xff;
        }
        let _ = m.into_raw();
        assert_eq!(buffer.get(8), Some(&0xff));
    }

    #[test]
    fn an_empty_mbuf_has_empty_slices() {
        let mut buffer = [0u8; 4];
        let mut header = fake(&mut buffer, 0, 0);
        // SAFETY: as above.
        let mut m = unsafe { Mbuf::from_raw(NonNull::from(header.as_mut())) };
        assert!(m.is_empty());
        assert!(m.data().is_empty());
        assert!(m.data_mut().is_empty());
        let _ = m.into_raw();
    }
}
