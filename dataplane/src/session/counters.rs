//! Per-worker session counters: plain integers, read without locks between bursts.

use super::entry::ExpiryReason;
use super::tcp::TcpInvalid;

/// What happened in one worker's session table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounters {
    /// Sessions created.
    pub created: u64,
    /// Sessions removed by aging, by reason (index [`ExpiryReason::index`]).
    pub expired: [u64; 4],
    /// Sessions removed by the caller (teardown, clear commands).
    pub removed: u64,
    /// Creations refused because the table was full.
    pub refused_full: u64,
    /// Creations refused by the half-open limit (`max_incomplete`).
    pub refused_half_open: u64,
    /// Creations refused because the flow already had a session.
    pub refused_exists: u64,
    /// Invalid TCP segments (on creation or on an existing session), by reason
    /// (index [`TcpInvalid::index`]). The caller drops them.
    pub tcp_invalid: [u64; TcpInvalid::COUNT],
}

impl SessionCounters {
    /// Sessions expired for `reason`.
    pub fn expired_for(&self, reason: ExpiryReason) -> u64 {
        self.expired.get(reason.index()).copied().unwrap_or(0)
    }

    /// Sessions expired for any reason.
    pub fn expired_total(&self) -> u64 {
        self.expired.iter().sum()
    }

    /// Invalid TCP segments for `reason`.
    pub fn tcp_invalid_for(&self, reason: TcpInvalid) -> u64 {
        self.tcp_invalid.get(reason.index()).copied().unwrap_or(0)
    }

    /// Invalid TCP segments for any reason.
    pub fn tcp_invalid_total(&self) -> u64 {
        self.tcp_invalid.iter().sum()
    }

    pub(crate) fn count_expired(&mut self, reason: ExpiryReason) {
        if let Some(c) = self.expired.get_mut(reason.index()) {
            *c += 1;
        }
    }

    pub(crate) fn count_tcp_invalid(&mut self, reason: TcpInvalid) {
        if let Some(c) = self.tcp_invalid.get_mut(reason.index()) {
            *c += 1;
        }
    }
}
