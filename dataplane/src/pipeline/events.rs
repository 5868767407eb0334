//! Audit-trail and alert events the pipeline produces for its driver to write (JSON
//! lines, rate limited by the writer). Events carry ids, not names, so producing one
//! costs no allocation; the driver resolves names against the policy.

use crate::ids::IfaceId;
use crate::policy::{ClassId, ZonePairId};
use crate::session::FlowTuple;
use crate::time::Timestamp;

use super::verdict::DropReason;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A session was created (audit trail).
    SessionStart,
    /// A session ended (audit trail); `detail` = packets both ways.
    SessionEnd,
    /// A packet was dropped by a class with `log` (or a limit).
    Drop(DropReason),
    /// A limit was hit (alert): session table, half-open, max sessions, pinholes.
    LimitHit(DropReason),
    /// Media reached a pinhole's destination from a source the pinhole does not admit
    /// (alert: the usual cause of one-way audio).
    PinholeWrongSource,
}

impl EventKind {
    /// Stable name for the event stream.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SessionStart => "session_start",
            EventKind::SessionEnd => "session_end",
            EventKind::Drop(_) => "drop",
            EventKind::LimitHit(_) => "limit_hit",
            EventKind::PinholeWrongSource => "pinhole_wrong_source",
        }
    }

    /// Whether this is an alert (as opposed to audit trail).
    pub fn is_alert(self) -> bool {
        matches!(self, EventKind::LimitHit(_) | EventKind::PinholeWrongSource)
    }
}

/// One event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: EventKind,
    /// The flow, as seen in the packet that caused it (initiator direction for sessions).
    pub flow: FlowTuple,
    /// Where it came in.
    pub ingress: Option<IfaceId>,
    /// Zone pair, if one applied.
    pub zone_pair: Option<ZonePairId>,
    /// Class, if one matched.
    pub class: Option<ClassId>,
    /// Kind-specific number (packets for session end).
    pub detail: u64,
}
