//! The per-worker session shard: normalised flow keys (both directions hit one
//! entry), a capacity-bounded table, the TCP state machine, and aging on a timer
//! wheel with lazy expiry. See `docs/sessions.md` for memory per session, timers
//! and TCP states.
//!
//! - [`key`] — [`FlowTuple`] on the wire, normalised [`FlowKey`], [`Direction`].
//! - [`tcp`] — [`TcpTracker`] and its verdicts.
//! - [`timeouts`] — the parameter map's [`Timeouts`].
//! - [`entry`] — one [`Session`] and how to create it ([`SessionSpec`]).
//! - [`timer`] — the hierarchical [`TimerWheel`].
//! - [`counters`] — [`SessionCounters`].
//! - [`index`] — [`SessionIndex`], cache-line buckets from key hash to slab slot.
//! - [`table`] — [`SessionTable`], tying the above together.

pub mod counters;
pub mod entry;
pub mod index;
pub mod key;
pub mod table;
pub mod tcp;
pub mod timeouts;
pub mod timer;

pub use counters::SessionCounters;
pub use entry::{ExpiryReason, Session, SessionKind, SessionSpec};
pub use index::SessionIndex;
pub use key::{
    Direction, Endpoint, FlowKey, FlowTuple, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP,
};
pub use table::{
    AdvanceOutcome, InsertError, ObserveError, SessionCursor, SessionHandle, SessionTable,
    SessionTableConfig, MAX_CAPACITY,
};
pub use tcp::{TcpFlags, TcpInvalid, TcpPolicy, TcpSegment, TcpState, TcpTracker, TcpVerdict};
pub use timeouts::{TimeoutClass, Timeouts};
pub use timer::TimerWheel;
