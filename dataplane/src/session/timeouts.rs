//! Idle timeouts: the parameter map's values, and the compact per-session form.

use std::time::Duration;

/// Idle timeouts from a parameter map. Its defaults are the only ones: a parameter map's
/// ([`crate::policy::Timeouts`]) are built from them. SYN wait 30 s, TCP idle 3600 s,
/// FIN wait 5 s (Cisco's zone-based firewall documents 1 s; pinhole has always run 5 s),
/// UDP idle 30 s, ICMP idle 10 s; other protocols get 30 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// A TCP connection whose handshake is not complete (SYN_SENT, SYN_RECEIVED).
    pub tcp_syn: Duration,
    /// An established TCP connection, also while half-closed.
    pub tcp_established: Duration,
    /// After the FIN exchange (both FINs seen) or an RST.
    pub tcp_fin: Duration,
    /// A UDP flow.
    pub udp: Duration,
    /// An ICMP echo exchange.
    pub icmp: Duration,
    /// Any other IP protocol.
    pub other: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_syn: Duration::from_secs(30),
            tcp_established: Duration::from_secs(3600),
            tcp_fin: Duration::from_secs(5),
            udp: Duration::from_secs(30),
            icmp: Duration::from_secs(10),
            other: Duration::from_secs(30),
        }
    }
}

/// Which of a session's timeouts currently applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeoutClass {
    /// TCP handshake in progress.
    Handshake,
    /// The session's idle timeout (TCP established, UDP, ICMP, other, or an override).
    Idle,
    /// TCP after the FIN exchange or an RST.
    Closing,
}

impl TimeoutClass {
    /// Stable lower-case name for dumps.
    pub const fn as_str(self) -> &'static str {
        match self {
            TimeoutClass::Handshake => "handshake",
            TimeoutClass::Idle => "idle",
            TimeoutClass::Closing => "closing",
        }
    }
}

/// The three timeouts one session can be subject to, in milliseconds (12 bytes
/// instead of the 96 of a full [`Timeouts`]); at most about 49 days each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SessionTimeouts {
    pub(crate) handshake_ms: u32,
    pub(crate) idle_ms: u32,
    pub(crate) closing_ms: u32,
}

pub(crate) fn duration_ms(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

impl SessionTimeouts {
    pub(crate) fn get(&self, class: TimeoutClass) -> Duration {
        let ms = match class {
            TimeoutClass::Handshake => self.handshake_ms,
            TimeoutClass::Idle => self.idle_ms,
            TimeoutClass::Closing => self.closing_ms,
        };
        Duration::from_millis(u64::from(ms))
    }
}
