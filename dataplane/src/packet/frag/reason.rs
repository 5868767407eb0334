//! Why the reassembler gave up on a fragment or a datagram, and its counters.

/// Why fragments were released without completing a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum FragDropReason {
    /// The summary passed in has no fragment information (a caller bug).
    #[error("not_a_fragment")]
    NotAFragment,
    /// The summary's fragment offsets do not fit the frame passed with it.
    #[error("bad_fragment_summary")]
    BadFragmentSummary,
    /// An exact copy of a fragment already held: only the copy is dropped.
    #[error("duplicate_fragment")]
    DuplicateFragment,
    /// Fragments overlap (teardrop and policy-evasion attacks): the whole datagram
    /// is dropped, as RFC 5722 requires for IPv6 and Linux does for IPv4.
    #[error("overlapping_fragments")]
    OverlappingFragments,
    /// Fragments disagree on where the datagram ends.
    #[error("inconsistent_fragment_length")]
    InconsistentLength,
    /// The datagram would exceed the largest IP datagram or the configured maximum.
    #[error("reassembled_too_large")]
    DatagramTooLarge,
    /// No room for another datagram in progress: the new fragment is dropped.
    #[error("too_many_datagrams")]
    TooManyDatagrams,
    /// The datagram has more fragments than allowed.
    #[error("too_many_fragments")]
    TooManyFragments,
    /// Holding this fragment would exceed the memory budget: its datagram is dropped.
    #[error("reassembly_memory_full")]
    MemoryFull,
    /// The datagram did not complete in time.
    #[error("reassembly_timeout")]
    Timeout,
}

impl FragDropReason {
    /// Every reason, in a stable order (for counters and reports).
    pub const ALL: &'static [FragDropReason] = &[
        FragDropReason::NotAFragment,
        FragDropReason::BadFragmentSummary,
        FragDropReason::DuplicateFragment,
        FragDropReason::OverlappingFragments,
        FragDropReason::InconsistentLength,
        FragDropReason::DatagramTooLarge,
        FragDropReason::TooManyDatagrams,
        FragDropReason::TooManyFragments,
        FragDropReason::MemoryFull,
        FragDropReason::Timeout,
    ];

    /// The stable snake_case name used in counters, logs and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            FragDropReason::NotAFragment => "not_a_fragment",
            FragDropReason::BadFragmentSummary => "bad_fragment_summary",
            FragDropReason::DuplicateFragment => "duplicate_fragment",
            FragDropReason::OverlappingFragments => "overlapping_fragments",
            FragDropReason::InconsistentLength => "inconsistent_fragment_length",
            FragDropReason::DatagramTooLarge => "reassembled_too_large",
            FragDropReason::TooManyDatagrams => "too_many_datagrams",
            FragDropReason::TooManyFragments => "too_many_fragments",
            FragDropReason::MemoryFull => "reassembly_memory_full",
            FragDropReason::Timeout => "reassembly_timeout",
        }
    }

    /// Dense index in [`FragDropReason::ALL`] (declaration order, checked by a test).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What one worker's reassembler has done. Plain `u64`s: the worker is the only
/// writer; readers take a snapshot between bursts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyCounters {
    /// Fragments fed in.
    pub fragments: u64,
    /// Datagrams that began reassembly.
    pub datagrams_started: u64,
    /// Datagrams completed and handed back.
    pub datagrams_completed: u64,
    /// Summaries without fragment information.
    pub not_a_fragment: u64,
    /// Summaries whose offsets did not fit their frame.
    pub bad_fragment_summary: u64,
    /// Exact duplicate fragments dropped (their datagram continues).
    pub duplicate_fragments: u64,
    /// Datagrams dropped for overlapping fragments.
    pub overlapping_fragments: u64,
    /// Datagrams dropped because fragments disagreed on the end.
    pub inconsistent_length: u64,
    /// Datagrams dropped for exceeding the size limit.
    pub datagram_too_large: u64,
    /// Fragments dropped because the table of datagrams in progress was full.
    pub too_many_datagrams: u64,
    /// Datagrams dropped for having too many fragments.
    pub too_many_fragments: u64,
    /// Datagrams dropped because the memory budget was exhausted.
    pub memory_full: u64,
    /// Datagrams dropped because they did not complete in time.
    pub timed_out: u64,
    /// Frames handed back through the released list, whatever the reason.
    pub frames_released: u64,
}

impl ReassemblyCounters {
    /// The counter for `reason` (datagrams dropped, or single frames for the
    /// frame-level reasons).
    pub const fn get(&self, reason: FragDropReason) -> u64 {
        match reason {
            FragDropReason::NotAFragment => self.not_a_fragment,
            FragDropReason::BadFragmentSummary => self.bad_fragment_summary,
            FragDropReason::DuplicateFragment => self.duplicate_fragments,
            FragDropReason::OverlappingFragments => self.overlapping_fragments,
            FragDropReason::InconsistentLength => self.inconsistent_length,
            FragDropReason::DatagramTooLarge => self.datagram_too_large,
            FragDropReason::TooManyDatagrams => self.too_many_datagrams,
            FragDropReason::TooManyFragments => self.too_many_fragments,
            FragDropReason::MemoryFull => self.memory_full,
            FragDropReason::Timeout => self.timed_out,
        }
    }

    /// Count one occurrence of `reason`.
    pub(crate) fn bump(&mut self, reason: FragDropReason) {
        let counter = match reason {
            FragDropReason::NotAFragment => &mut self.not_a_fragment,
            FragDropReason::BadFragmentSummary => &mut self.bad_fragment_summary,
            FragDropReason::DuplicateFragment => &mut self.duplicate_fragments,
            FragDropReason::OverlappingFragments => &mut self.overlapping_fragments,
            FragDropReason::InconsistentLength => &mut self.inconsistent_length,
            FragDropReason::DatagramTooLarge => &mut self.datagram_too_large,
            FragDropReason::TooManyDatagrams => &mut self.too_many_datagrams,
            FragDropReason::TooManyFragments => &mut self.too_many_fragments,
            FragDropReason::MemoryFull => &mut self.memory_full,
            FragDropReason::Timeout => &mut self.timed_out,
        };
        *counter += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_indices_dense() {
        let mut seen = std::collections::HashSet::new();
        for (i, reason) in FragDropReason::ALL.iter().enumerate() {
            assert!(seen.insert(reason.as_str()));
            assert_eq!(reason.to_string(), reason.as_str());
            assert_eq!(reason.index(), i);
        }
    }

    #[test]
    fn bump_and_get_use_the_same_field() {
        for reason in FragDropReason::ALL {
            let mut counters = ReassemblyCounters::default();
            counters.bump(*reason);
            assert_eq!(counters.get(*reason), 1, "{reason}");
            let others: u64 = FragDropReason::ALL
                .iter()
                .filter(|r| *r != reason)
                .map(|r| counters.get(*r))
                .sum();
            assert_eq!(others, 0, "{reason}");
        }
    }
}
