//! Staged session lookups over a burst: before a burst's packets are processed one by
//! one, every packet's session is brought towards the cache in two passes, so the
//! cache and TLB misses of the whole burst overlap instead of being paid one after the
//! other (the way DPDK's and VPP's flow tables handle large tables).
//!
//! Pass 1 parses each packet just far enough for its flow key and loads the key's
//! index bucket; pass 2, when those buckets have had time to arrive, loads the slab
//! entry of each bucket's candidate. [`Pipeline::process`] then finds both in cache.
//! Nothing here changes state: a packet that is malformed, not IP, or a fragment is
//! simply not prefetched, and a wrong guess only costs a wasted load.

use std::hint::black_box;

use super::forward::resolve_vlan;
use super::judge::{flow_of, key_context};
use super::Pipeline;
use crate::ids::IfaceId;
use crate::packet::{self, Parsed};

/// Packets one call of [`Pipeline::prefetch_burst`] handles: a DPDK RX burst.
pub const PREFETCH_BURST: usize = 32;

/// What pass 1 learned about one packet: the hash of its session key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPrefetch(u64);

impl Pipeline {
    /// Pass 1 for one packet: parse it, start loading its session's index bucket and
    /// return what pass 2 needs, or `None` when the packet has no session key
    /// (malformed, not IP, a fragment). Allocates nothing.
    #[inline]
    pub fn prefetch(&self, packet: &[u8], ingress: IfaceId) -> Option<SessionPrefetch> {
        let summary = match packet::parse(packet) {
            Ok(Parsed::Ip(s)) if s.fragment.is_none() => s,
            _ => return None,
        };
        let iface = resolve_vlan(&self.policy, ingress, &summary.l2).ok()?;
        let flow = flow_of(&summary);
        let hash = self
            .sessions
            .prefetch_bucket(&flow.tuple, key_context(&self.policy, iface));
        Some(SessionPrefetch(hash))
    }

    /// Pass 2 for one packet: start loading the session entry its bucket points to.
    #[inline]
    pub fn prefetch_session(&self, hint: SessionPrefetch) {
        self.sessions.prefetch_session(hint.0);
    }

    /// Both passes over up to [`PREFETCH_BURST`] packets (the rest are not
    /// prefetched), to be called before the packets are processed in the same order.
    pub fn prefetch_burst<'a>(
        &self,
        packets: impl IntoIterator<Item = &'a [u8]>,
        ingress: IfaceId,
    ) {
        let mut frames: [&[u8]; PREFETCH_BURST] = [&[]; PREFETCH_BURST];
        let mut n = 0;
        for (frame, packet) in frames.iter_mut().zip(packets) {
            *frame = packet;
            n += 1;
            // Pass 0: the headers' first line, so that pass 1's parses do not wait
            // for the packets one after another.
            black_box(packet.first().copied());
        }
        let mut hints = [None; PREFETCH_BURST];
        for (hint, packet) in hints.iter_mut().zip(frames.iter().take(n)) {
            *hint = self.prefetch(packet, ingress);
        }
        for hint in hints.iter().flatten() {
            self.prefetch_session(*hint);
        }
    }
}
