//! One datagram in progress: its fragments' data laid out at their offsets, the
//! ranges covered so far, and the first fragment's header.

use crate::packet::ethernet::{EtherType, L2Summary};
use crate::packet::summary::{FragmentInfo, IpVersion};
use crate::time::Timestamp;

use super::key::FragKey;
use super::reason::FragDropReason;

/// What adding a fragment did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Added {
    /// Held; the datagram is still incomplete.
    Held,
    /// Held; the datagram is now complete.
    Complete,
    /// An exact duplicate of data already held.
    Duplicate,
}

/// A datagram in progress. Buffers keep their capacity across uses.
pub(super) struct Slot<H> {
    pub(super) active: bool,
    pub(super) key: FragKey,
    pub(super) version: IpVersion,
    pub(super) deadline: Timestamp,
    pub(super) l2: L2Summary,
    /// The first fragment's header (IPv6: the unfragmentable part); empty until the
    /// first fragment arrives.
    pub(super) header: Vec<u8>,
    /// IPv6: where in `header` the byte naming the Fragment header sits.
    pub(super) next_header_field: usize,
    /// IPv6: what the Fragment header said comes next.
    pub(super) next_header: u8,
    /// Fragment data at its offsets; holes are zero until filled.
    pub(super) payload: Vec<u8>,
    /// Sorted, disjoint `[start, end)` ranges of `payload` received.
    pub(super) ranges: Vec<(usize, usize)>,
    /// Bytes of data received (equals the sum of `ranges`).
    pub(super) received: usize,
    /// Payload length, once the last fragment has told it.
    pub(super) total: Option<usize>,
    /// The caller's handles of the frames held, in arrival order.
    pub(super) frames: Vec<H>,
    /// Bytes charged to the memory budget.
    pub(super) charged: usize,
}

impl<H> Slot<H> {
    /// An unused slot.
    pub(super) fn empty() -> Self {
        Slot {
            active: false,
            key: FragKey::default(),
            version: IpVersion::V4,
            deadline: Timestamp(0),
            l2: L2Summary::none(EtherType::IPV4),
            header: Vec::new(),
            next_header_field: 0,
            next_header: 0,
            payload: Vec::new(),
            ranges: Vec::new(),
            received: 0,
            total: None,
            frames: Vec::new(),
            charged: 0,
        }
    }

    /// Make this slot hold a new datagram.
    pub(super) fn start(&mut self, key: FragKey, version: IpVersion, deadline: Timestamp) {
        self.active = true;
        self.key = key;
        self.version = version;
        self.deadline = deadline;
        self.clear();
    }

    /// Forget the datagram, keeping buffer capacity.
    pub(super) fn clear(&mut self) {
        self.header.clear();
        self.payload.clear();
        self.ranges.clear();
        self.received = 0;
        self.total = None;
        self.charged = 0;
        self.next_header_field = 0;
        self.next_header = 0;
    }

    /// Check that `fragment` can join this datagram and, if so, copy its data in.
    /// `header` is the fragment's repeated header bytes; `limit` is the largest
    /// datagram length (header plus payload) allowed; `budget` is how many more bytes
    /// may be charged. Returns the outcome and the bytes newly charged.
    pub(super) fn add(
        &mut self,
        fragment: &FragmentInfo,
        data: &[u8],
        header: &[u8],
        l2: L2Summary,
        limit: usize,
        budget: usize,
    ) -> Result<(Added, usize), FragDropReason> {
        let start = fragment.offset as usize;
        let end = start + data.len();
        if fragment.more {
            if self.total.is_some_and(|total| end > total) {
                return Err(FragDropReason::InconsistentLength);
            }
        } else {
            if self.total.is_some_and(|total| total != end) {
                return Err(FragDropReason::InconsistentLength);
            }
            if self
                .ranges
                .last()
                .is_some_and(|&(_, last_end)| last_end > end)
            {
                return Err(FragDropReason::InconsistentLength);
            }
        }
        let header_len = if self.header.is_empty() {
            header.len()
        } else {
            self.header.len()
        };
        if header_len + end > limit {
            return Err(FragDropReason::DatagramTooLarge);
        }

        let at = self.ranges.partition_point(|&(s, _)| s < start);
        if let Some(&(s, e)) = self.ranges.get(at) {
            if s == start && e == end {
                return if self.payload.get(start..end) == Some(data) {
                    Ok((Added::Duplicate, 0))
                } else {
                    Err(FragDropReason::OverlappingFragments)
                };
            }
            if s < end {
                return Err(FragDropReason::OverlappingFragments);
            }
        }
        if let Some(&(_, e)) = at.checked_sub(1).and_then(|i| self.ranges.get(i)) {
            if e > start {
                return Err(FragDropReason::OverlappingFragments);
            }
        }

        let keep_header = fragment.is_first() && self.header.is_empty();
        let grow =
            end.saturating_sub(self.payload.len()) + if keep_header { header.len() } else { 0 };
        if grow > budget {
            return Err(FragDropReason::MemoryFull);
        }

        if self.payload.len() < end {
            self.payload.resize(end, 0);
        }
        if let Some(dst) = self.payload.get_mut(start..end) {
            dst.copy_from_slice(data);
        }
        self.ranges.insert(at, (start, end));
        self.received += data.len();
        self.charged += grow;
        if !fragment.more {
            self.total = Some(end);
        }
        if keep_header {
            self.header.extend_from_slice(header);
            self.next_header_field = fragment.next_header_field as usize;
            self.next_header = fragment.next_header.0;
            self.l2 = l2;
        }
        let complete = !self.header.is_empty() && self.total == Some(self.received);
        Ok((
            if complete {
                Added::Complete
            } else {
                Added::Held
            },
            grow,
        ))
    }
}
