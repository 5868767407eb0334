//! IPv4 and IPv6 fragment reassembly, per worker, bounded in memory and time.
//!
//! A firewall that judged fragments one at a time would judge a large UDP SIP
//! message by its first fragment alone, and could be evaded by overlapping
//! fragments. The [`Reassembler`] collects a datagram's fragments, rebuilds the
//! whole datagram (first fragment's header, fragment fields cleared, lengths fixed,
//! IPv4 checksum recomputed) for the pipeline to parse with
//! [`crate::packet::parse_ip`] and judge, and hands back the original frames, in
//! arrival order, so the engine forwards or drops them as a group (it never has to
//! re-fragment).
//!
//! Frames are held as caller-chosen handles `H` (an mbuf in the engine, an index in
//! replay, `()` in tests): the reassembler copies fragment data once into a reused
//! per-datagram buffer and never touches the handles except to give them back.
//! Every frame fed in comes back exactly once: inside a completed datagram, or
//! through [`Reassembler::take_released`] with the reason it was let go.
//!
//! Limits (each counted when hit, see [`ReassemblyCounters`]): datagrams in
//! progress, fragments per datagram, datagram length, total bytes held, and a
//! timeout measured from a datagram's first fragment. When the table is full, new
//! datagrams are refused rather than old ones evicted, so a flood of bogus first
//! fragments cannot flush datagrams about to complete; the timeout reclaims the
//! table.

mod key;
mod reason;
mod slot;

use std::time::Duration;

use hashbrown::HashMap;

use crate::ids::IfaceId;
use crate::packet::ethernet::L2Summary;
use crate::packet::ipv4::{FLAG_DF, IPV4_MAX_DATAGRAM};
use crate::packet::ipv6::{IPV6_HEADER, IPV6_MAX_PAYLOAD};
use crate::packet::summary::{IpVersion, PacketSummary};
use crate::packet::{checksum, parse_ip, ParseError};
use crate::time::Timestamp;

pub use key::FragKey;
pub use reason::{FragDropReason, ReassemblyCounters};
use slot::{Added, Slot};

/// Reassembly limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Datagrams in progress at once.
    pub max_datagrams: usize,
    /// Fragments one datagram may have.
    pub max_fragments_per_datagram: usize,
    /// Largest reassembled datagram (header included). The protocol maxima (65535
    /// for IPv4, 40 + 65535 for IPv6) always apply as well.
    pub max_datagram_len: usize,
    /// Bytes of headers and data held across all datagrams in progress.
    pub max_total_bytes: usize,
    /// Time from a datagram's first fragment to its expiry.
    pub timeout: Duration,
}

impl Default for ReassemblyConfig {
    /// 256 datagrams, 64 fragments each, 4 MiB in total, 5 seconds: enough for
    /// SIP over UDP (a few fragments per message, retransmitted after 0.5 s) with
    /// room to spare, small enough that a fragment flood costs little.
    fn default() -> Self {
        ReassemblyConfig {
            max_datagrams: 256,
            max_fragments_per_datagram: 64,
            max_datagram_len: IPV6_HEADER + IPV6_MAX_PAYLOAD,
            max_total_bytes: 4 << 20,
            timeout: Duration::from_secs(5),
        }
    }
}

/// What happened to a fragment fed in.
#[derive(Debug)]
pub enum FragOutcome<'a, H> {
    /// Held until its datagram completes or is dropped.
    Held,
    /// An exact duplicate of a fragment already held: its handle is in the released
    /// list; the datagram continues.
    Duplicate,
    /// Its datagram is complete.
    Complete(Reassembled<'a, H>),
    /// Dropped for this reason, with every other fragment of its datagram already
    /// held: all their handles are in the released list.
    Dropped(FragDropReason),
}

/// A completed datagram, valid until the reassembler is used again.
#[derive(Debug)]
pub struct Reassembled<'a, H> {
    /// The whole IP datagram.
    pub datagram: &'a [u8],
    /// The first fragment's link-layer facts.
    pub l2: L2Summary,
    /// Which datagram this was.
    pub key: FragKey,
    /// The original frames, in arrival order; any not taken are dropped.
    pub frames: std::vec::Drain<'a, H>,
}

impl<H> Reassembled<'_, H> {
    /// Parse the reassembled datagram (offsets relative to [`Reassembled::datagram`]).
    pub fn parse(&self) -> Result<PacketSummary, ParseError> {
        parse_ip(self.datagram, self.l2)
    }
}

/// One worker's fragment reassembler. `H` is the caller's handle for a frame.
pub struct Reassembler<H> {
    config: ReassemblyConfig,
    slots: Vec<Slot<H>>,
    free: Vec<usize>,
    index: HashMap<FragKey, usize, ahash::RandomState>,
    /// Bytes charged by datagrams in progress.
    bytes_held: usize,
    /// Capacity of all payload buffers, kept for reuse but trimmed back to the budget.
    bytes_retained: usize,
    /// No datagram expires before this.
    earliest_deadline: Timestamp,
    done: Vec<u8>,
    done_frames: Vec<H>,
    released: Vec<(H, FragDropReason)>,
    counters: ReassemblyCounters,
}

impl<H> Reassembler<H> {
    /// A reassembler with these limits; slots are allocated up front, their buffers
    /// on first use and then reused.
    pub fn new(config: ReassemblyConfig) -> Self {
        let slots = (0..config.max_datagrams).map(|_| Slot::empty()).collect();
        Reassembler {
            slots,
            free: (0..config.max_datagrams).rev().collect(),
            index: HashMap::with_capacity_and_hasher(config.max_datagrams, Default::default()),
            bytes_held: 0,
            bytes_retained: 0,
            earliest_deadline: Timestamp(u64::MAX),
            done: Vec::new(),
            done_frames: Vec::new(),
            released: Vec::new(),
            counters: ReassemblyCounters::default(),
            config,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &ReassemblyConfig {
        &self.config
    }

    /// What this reassembler has done so far.
    pub fn counters(&self) -> &ReassemblyCounters {
        &self.counters
    }

    /// Datagrams in progress.
    pub fn in_progress(&self) -> usize {
        self.index.len()
    }

    /// Bytes held by datagrams in progress.
    pub fn bytes_held(&self) -> usize {
        self.bytes_held
    }

    /// Frames given up on (by [`Reassembler::feed`] or [`Reassembler::expire`]) and
    /// not yet taken, with the reason. Drain it after every call that can add to it.
    pub fn take_released(&mut self) -> std::vec::Drain<'_, (H, FragDropReason)> {
        self.released.drain(..)
    }

    /// Feed one fragment: `frame` is the buffer `summary` was parsed from (frame or
    /// datagram), `handle` the caller's handle for it, `ingress` where it arrived.
    pub fn feed(
        &mut self,
        frame: &[u8],
        summary: &PacketSummary,
        ingress: IfaceId,
        handle: H,
        now: Timestamp,
    ) -> FragOutcome<'_, H> {
        self.counters.fragments += 1;
        let Some(fragment) = summary.fragment else {
            return self.refuse(handle, FragDropReason::NotAFragment);
        };
        let header = summary.l3_offset as usize
            ..(summary.l3_offset as usize).saturating_add(fragment.header_len as usize);
        let (Some(data), Some(header)) = (frame.get(fragment.data_range()), frame.get(header))
        else {
            return self.refuse(handle, FragDropReason::BadFragmentSummary);
        };

        let key = FragKey::new(summary, ingress, fragment.id);
        let existing = self.index.get(&key).copied();
        let slot_id = match existing {
            Some(id) if self.slots.get(id).is_some_and(|s| s.deadline > now) => id,
            _ => {
                if let Some(stale) = existing {
                    // Same key after its timeout: a new datagram reusing the id.
                    self.drop_datagram(stale, FragDropReason::Timeout);
                }
                let Some(id) = self.free.pop() else {
                    return self.refuse(handle, FragDropReason::TooManyDatagrams);
                };
                let deadline = now.after(self.config.timeout);
                if let Some(slot) = self.slots.get_mut(id) {
                    slot.start(key, summary.version, deadline);
                }
                self.index.insert(key, id);
                self.earliest_deadline = self.earliest_deadline.min(deadline);
                self.counters.datagrams_started += 1;
                id
            }
        };

        let Some(slot) = self.slots.get_mut(slot_id) else {
            return self.refuse(handle, FragDropReason::BadFragmentSummary);
        };
        if slot.frames.len() >= self.config.max_fragments_per_datagram {
            return self.drop_with(slot_id, handle, FragDropReason::TooManyFragments);
        }
        let protocol_max = match summary.version {
            IpVersion::V4 => IPV4_MAX_DATAGRAM,
            IpVersion::V6 => IPV6_HEADER + IPV6_MAX_PAYLOAD,
        };
        let limit = protocol_max.min(self.config.max_datagram_len);
        let budget = self.config.max_total_bytes.saturating_sub(self.bytes_held);
        let capacity_before = slot.payload.capacity();
        let added = slot.add(&fragment, data, header, summary.l2, limit, budget);
        let capacity_after = slot.payload.capacity();
        self.bytes_retained = self.bytes_retained + capacity_after - capacity_before;
        match added {
            Err(reason) => self.drop_with(slot_id, handle, reason),
            Ok((Added::Duplicate, _)) => self.refuse(handle, FragDropReason::DuplicateFragment),
            Ok((Added::Held, grown)) => {
                slot.frames.push(handle);
                self.bytes_held += grown;
                FragOutcome::Held
            }
            Ok((Added::Complete, grown)) => {
                slot.frames.push(handle);
                self.bytes_held += grown;
                self.complete(slot_id)
            }
        }
    }

    /// Drop every datagram whose time is up; their frames go to the released list.
    /// Returns how many datagrams expired. Cheap when nothing is due.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        if now < self.earliest_deadline {
            return 0;
        }
        let mut expired = 0;
        let mut earliest = Timestamp(u64::MAX);
        for id in 0..self.slots.len() {
            let Some(slot) = self.slots.get(id) else {
                continue;
            };
            if !slot.active {
                continue;
            }
            if slot.deadline <= now {
                self.drop_datagram(id, FragDropReason::Timeout);
                expired += 1;
            } else {
                earliest = earliest.min(slot.deadline);
            }
        }
        self.earliest_deadline = earliest;
        expired
    }

    /// Release a single frame that joins no datagram.
    fn refuse(&mut self, handle: H, reason: FragDropReason) -> FragOutcome<'_, H> {
        self.counters.bump(reason);
        self.counters.frames_released += 1;
        self.released.push((handle, reason));
        if reason == FragDropReason::DuplicateFragment {
            FragOutcome::Duplicate
        } else {
            FragOutcome::Dropped(reason)
        }
    }

    /// Drop a datagram and the frame that broke it.
    fn drop_with(
        &mut self,
        slot_id: usize,
        handle: H,
        reason: FragDropReason,
    ) -> FragOutcome<'_, H> {
        self.drop_datagram(slot_id, reason);
        self.counters.frames_released += 1;
        self.released.push((handle, reason));
        FragOutcome::Dropped(reason)
    }

    /// Drop a datagram in progress: its frames go to the released list.
    fn drop_datagram(&mut self, slot_id: usize, reason: FragDropReason) {
        self.counters.bump(reason);
        if let Some(slot) = self.slots.get_mut(slot_id) {
            let frames = slot.frames.len();
            self.counters.frames_released += frames as u64;
            self.released
                .extend(slot.frames.drain(..).map(|h| (h, reason)));
        }
        self.release_slot(slot_id);
    }

    /// Return a slot to the free list, trimming its buffer if retained memory is
    /// over budget.
    fn release_slot(&mut self, slot_id: usize) {
        let Some(slot) = self.slots.get_mut(slot_id) else {
            return;
        };
        if !slot.active {
            return;
        }
        self.index.remove(&slot.key);
        self.bytes_held = self.bytes_held.saturating_sub(slot.charged);
        slot.clear();
        slot.frames.clear();
        slot.active = false;
        if self.bytes_retained > self.config.max_total_bytes {
            self.bytes_retained = self.bytes_retained.saturating_sub(slot.payload.capacity());
            slot.payload = Vec::new();
        }
        self.free.push(slot_id);
    }

    /// Build the completed datagram of `slot_id` into the output buffer and free the slot.
    fn complete(&mut self, slot_id: usize) -> FragOutcome<'_, H> {
        let Some(slot) = self.slots.get_mut(slot_id) else {
            return FragOutcome::Dropped(FragDropReason::BadFragmentSummary);
        };
        let total = slot.total.unwrap_or(slot.payload.len());
        self.done.clear();
        self.done.extend_from_slice(&slot.header);
        self.done
            .extend_from_slice(slot.payload.get(..total).unwrap_or_default());
        match slot.version {
            IpVersion::V4 => fix_ipv4_header(&mut self.done, slot.header.len()),
            IpVersion::V6 => {
                fix_ipv6_header(&mut self.done, slot.next_header_field, slot.next_header)
            }
        }
        self.done_frames.clear();
        std::mem::swap(&mut self.done_frames, &mut slot.frames);
        let l2 = slot.l2;
        let key = slot.key;
        self.release_slot(slot_id);
        self.counters.datagrams_completed += 1;
        FragOutcome::Complete(Reassembled {
            datagram: &self.done,
            l2,
            key,
            frames: self.done_frames.drain(..),
        })
    }
}

/// Make the first fragment's IPv4 header describe the whole datagram.
fn fix_ipv4_header(datagram: &mut [u8], header_len: usize) {
    let total = u16::try_from(datagram.len()).unwrap_or(u16::MAX);
    if let Some(field) = datagram.get_mut(2..4) {
        field.copy_from_slice(&total.to_be_bytes());
    }
    if let Some(field) = datagram.get_mut(6..8) {
        // Keep Don't Fragment; clear More Fragments, the offset and the reserved bit.
        let flags = u16::from_be_bytes([field.first().copied().unwrap_or(0), 0]) & FLAG_DF;
        field.copy_from_slice(&flags.to_be_bytes());
    }
    if let Some(field) = datagram.get_mut(10..12) {
        field.copy_from_slice(&[0, 0]);
    }
    let sum = datagram
        .get(..header_len)
        .map_or(0, checksum::internet_checksum);
    if let Some(field) = datagram.get_mut(10..12) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
}

/// Make the first fragment's unfragmentable part describe the whole datagram,
/// without its Fragment header.
fn fix_ipv6_header(datagram: &mut [u8], next_header_field: usize, next_header: u8) {
    let payload = u16::try_from(datagram.len().saturating_sub(IPV6_HEADER)).unwrap_or(u16::MAX);
    if let Some(field) = datagram.get_mut(4..6) {
        field.copy_from_slice(&payload.to_be_bytes());
    }
    if let Some(field) = datagram.get_mut(next_header_field) {
        *field = next_header;
    }
}
