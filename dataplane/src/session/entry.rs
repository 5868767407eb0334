//! One session: its identity, activity counters, TCP state, timeouts and the
//! pipeline's own per-session value.

use std::time::Duration;

use super::key::{Direction, FlowKey, FlowTuple};
use super::tcp::{TcpSegment, TcpState, TcpTracker};
use super::timeouts::{duration_ms, SessionTimeouts, TimeoutClass, Timeouts};
use crate::time::Timestamp;

/// What kind of flow a session tracks (decides its timeouts and TCP tracking).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// TCP: tracked by the state machine.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP echo (ports are the echo identifier).
    Icmp,
    /// Any other IP protocol.
    Other,
}

impl SessionKind {
    /// Stable lower-case name for dumps.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionKind::Tcp => "tcp",
            SessionKind::Udp => "udp",
            SessionKind::Icmp => "icmp",
            SessionKind::Other => "other",
        }
    }
}

/// How to create a session: its kind, timeouts and the opening TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionSpec {
    /// The kind of flow.
    pub kind: SessionKind,
    /// The parameter map's timeouts.
    pub timeouts: Timeouts,
    /// Replaces the idle timeout (e.g. a media session's inactivity timeout).
    pub idle_timeout: Option<Duration>,
    /// The session ends this long after creation whatever its activity (max call length).
    pub max_lifetime: Option<Duration>,
    /// For TCP: the segment that opens the session (required).
    pub first_segment: Option<TcpSegment>,
    /// Bytes of the packet that opens the session (counted as the first forward packet).
    pub first_bytes: u32,
}

impl SessionSpec {
    /// A session of `kind` with `timeouts`; TCP also needs [`SessionSpec::tcp`].
    pub const fn new(kind: SessionKind, timeouts: Timeouts) -> Self {
        SessionSpec {
            kind,
            timeouts,
            idle_timeout: None,
            max_lifetime: None,
            first_segment: None,
            first_bytes: 0,
        }
    }

    /// A TCP session opened by `first`.
    pub const fn tcp(first: TcpSegment, timeouts: Timeouts) -> Self {
        let mut spec = Self::new(SessionKind::Tcp, timeouts);
        spec.first_segment = Some(first);
        spec
    }

    /// This spec with the idle timeout replaced by `d`.
    pub const fn with_idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = Some(d);
        self
    }

    /// This spec with an absolute lifetime limit.
    pub const fn with_max_lifetime(mut self, d: Duration) -> Self {
        self.max_lifetime = Some(d);
        self
    }

    /// This spec with the opening packet's size.
    pub const fn with_first_bytes(mut self, bytes: u32) -> Self {
        self.first_bytes = bytes;
        self
    }

    pub(crate) fn session_timeouts(&self) -> SessionTimeouts {
        let t = &self.timeouts;
        let base = match self.kind {
            SessionKind::Tcp => t.tcp_established,
            SessionKind::Udp => t.udp,
            SessionKind::Icmp => t.icmp,
            SessionKind::Other => t.other,
        };
        let idle = duration_ms(self.idle_timeout.unwrap_or(base));
        match self.kind {
            SessionKind::Tcp => SessionTimeouts {
                handshake_ms: duration_ms(t.tcp_syn),
                idle_ms: idle,
                closing_ms: duration_ms(t.tcp_fin),
            },
            _ => SessionTimeouts {
                handshake_ms: idle,
                idle_ms: idle,
                closing_ms: idle,
            },
        }
    }
}

/// Why a session left the table through aging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpiryReason {
    /// No traffic for the idle timeout.
    Idle,
    /// The TCP handshake did not complete within the SYN timeout.
    HandshakeTimeout,
    /// The TCP connection was closed (FIN exchange or RST) and its closing time passed.
    TcpClosed,
    /// The absolute lifetime limit (max call duration) was reached.
    MaxLifetime,
}

impl ExpiryReason {
    /// Every reason, in a stable order (for counters).
    pub const ALL: [ExpiryReason; 4] = [
        ExpiryReason::Idle,
        ExpiryReason::HandshakeTimeout,
        ExpiryReason::TcpClosed,
        ExpiryReason::MaxLifetime,
    ];

    /// Stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExpiryReason::Idle => "idle",
            ExpiryReason::HandshakeTimeout => "handshake_timeout",
            ExpiryReason::TcpClosed => "tcp_closed",
            ExpiryReason::MaxLifetime => "max_lifetime",
        }
    }

    /// Dense index in [`ExpiryReason::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// One tracked flow.
#[derive(Clone, Debug)]
pub struct Session<V> {
    key: FlowKey,
    initiator_is_lo: bool,
    kind: SessionKind,
    created: Timestamp,
    last_seen: Timestamp,
    /// Absolute end of life; `Timestamp(u64::MAX)` when unlimited.
    ends: Timestamp,
    packets: [u64; 2],
    bytes: [u64; 2],
    timeouts: SessionTimeouts,
    pub(crate) tcp: Option<TcpTracker>,
    /// The pipeline's per-session value (zone pair, class, inspector state...).
    pub value: V,
}

impl<V> Session<V> {
    pub(crate) fn new(
        key: FlowKey,
        initiator_is_lo: bool,
        now: Timestamp,
        spec: &SessionSpec,
        tcp: Option<TcpTracker>,
        value: V,
    ) -> Self {
        let ends = match spec.max_lifetime {
            Some(d) => now.after(d),
            None => Timestamp(u64::MAX),
        };
        Session {
            key,
            initiator_is_lo,
            kind: spec.kind,
            created: now,
            last_seen: now,
            ends,
            packets: [1, 0],
            bytes: [u64::from(spec.first_bytes), 0],
            timeouts: spec.session_timeouts(),
            tcp,
            value,
        }
    }

    /// The normalised key.
    pub const fn key(&self) -> &FlowKey {
        &self.key
    }

    /// The tuple of the packet that created the session (initiator to responder).
    pub fn initiator(&self) -> FlowTuple {
        self.key.tuple(self.initiator_is_lo)
    }

    pub(crate) fn direction_of(&self, src_is_lo: bool) -> Direction {
        if src_is_lo == self.initiator_is_lo {
            Direction::Forward
        } else {
            Direction::Reverse
        }
    }

    /// The kind of flow.
    pub const fn kind(&self) -> SessionKind {
        self.kind
    }

    /// When the session was created.
    pub const fn created(&self) -> Timestamp {
        self.created
    }

    /// When the last accepted packet was seen.
    pub const fn last_seen(&self) -> Timestamp {
        self.last_seen
    }

    /// Packets seen in `dir` (the opening packet counts as forward).
    pub fn packets(&self, dir: Direction) -> u64 {
        self.packets.get(dir.index()).copied().unwrap_or(0)
    }

    /// Bytes seen in `dir`.
    pub fn bytes(&self, dir: Direction) -> u64 {
        self.bytes.get(dir.index()).copied().unwrap_or(0)
    }

    /// The TCP state, for TCP sessions.
    pub fn tcp_state(&self) -> Option<TcpState> {
        self.tcp.as_ref().map(TcpTracker::state)
    }

    /// Which timeout applies now.
    pub fn timeout_class(&self) -> TimeoutClass {
        match self.tcp_state() {
            Some(s) if s.is_half_open() => TimeoutClass::Handshake,
            Some(s) if s.is_closing() => TimeoutClass::Closing,
            _ => TimeoutClass::Idle,
        }
    }

    /// The idle timeout that applies now.
    pub fn current_timeout(&self) -> Duration {
        self.timeouts.get(self.timeout_class())
    }

    /// The absolute end of life, if limited.
    pub fn max_lifetime_end(&self) -> Option<Timestamp> {
        (self.ends.0 != u64::MAX).then_some(self.ends)
    }

    /// When the session expires unless more traffic arrives.
    pub fn expires_at(&self) -> Timestamp {
        self.last_seen.after(self.current_timeout()).min(self.ends)
    }

    /// Load a word from each part of the session a packet touches (the caller's
    /// staged prefetch: the loads are issued together, their values discarded).
    #[inline]
    pub(crate) fn touch_lines(&self) {
        std::hint::black_box((
            self.key.context(),
            self.last_seen,
            self.packets[1],
            self.bytes[1],
            self.tcp.is_some(),
            self.initiator_is_lo,
        ));
    }

    /// Record an accepted packet of `bytes` in `dir` at `now`. Timers are not moved:
    /// the wheel re-checks `last_seen` when the old deadline comes up.
    pub fn touch(&mut self, dir: Direction, bytes: u32, now: Timestamp) {
        let i = dir.index();
        if let Some(p) = self.packets.get_mut(i) {
            *p = p.saturating_add(1);
        }
        if let Some(b) = self.bytes.get_mut(i) {
            *b = b.saturating_add(u64::from(bytes));
        }
        if now > self.last_seen {
            self.last_seen = now;
        }
    }

    pub(crate) fn set_idle_timeout(&mut self, d: Duration) {
        self.timeouts.idle_ms = duration_ms(d);
        if self.kind != SessionKind::Tcp {
            self.timeouts.handshake_ms = self.timeouts.idle_ms;
            self.timeouts.closing_ms = self.timeouts.idle_ms;
        }
    }

    pub(crate) fn expiry_reason(&self, now: Timestamp) -> ExpiryReason {
        if self.ends <= now {
            return ExpiryReason::MaxLifetime;
        }
        match self.timeout_class() {
            TimeoutClass::Handshake => ExpiryReason::HandshakeTimeout,
            TimeoutClass::Closing => ExpiryReason::TcpClosed,
            TimeoutClass::Idle => ExpiryReason::Idle,
        }
    }
}
