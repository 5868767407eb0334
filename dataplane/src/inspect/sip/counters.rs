//! Per-worker SIP inspector counters: one named field per outcome, single writer.

use serde::Serialize;

/// What the SIP inspector did, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SipCounters {
    /// Messages handed to the inspector.
    pub messages: u64,
    /// Requests among them.
    pub requests: u64,
    /// Responses among them.
    pub responses: u64,
    /// CRLF keep-alives.
    pub keepalives: u64,
    /// Messages that failed framing or parsing.
    pub malformed: u64,
    /// Messages that parsed but failed the inspection checks.
    pub invalid: u64,
    /// Offer/answer carriers whose SDP (or multipart body) was unusable.
    pub sdp_malformed: u64,
    /// SDP bodies in messages that are not offer/answer carriers (ignored).
    pub sdp_ignored: u64,
    /// SDP offers applied.
    pub offers: u64,
    /// SDP answers applied.
    pub answers: u64,
    /// Dialogs created.
    pub dialogs_created: u64,
    /// Dialogs refused because the table was full.
    pub dialogs_refused: u64,
    /// Dialogs ended by BYE.
    pub dialogs_ended_bye: u64,
    /// Dialogs ended by CANCEL.
    pub dialogs_ended_cancel: u64,
    /// Dialogs ended by a 3xx-6xx final response to the initial INVITE.
    pub dialogs_ended_rejected: u64,
    /// Dialogs removed by a timeout (early dialog, maximum duration, registration).
    pub dialogs_expired: u64,
    /// Re-INVITE / UPDATE offers rejected; the agreed media was restored.
    pub offers_rejected: u64,
    /// Responses that matched no dialog (changed nothing).
    pub unmatched_responses: u64,
    /// In-dialog requests that matched no dialog (changed nothing).
    pub unmatched_requests: u64,
    /// Pinholes requested (RTP, RTCP, T.38, signalling; refreshes included).
    pub pinholes_opened: u64,
    /// Streams closed (replaced, disabled, rolled back).
    pub streams_closed: u64,
    /// Calls closed (all their pinholes).
    pub calls_closed: u64,
    /// Streams kept as they were because the new SDP put them on hold
    /// (`c=0.0.0.0`) or named a host the ALG does not resolve.
    pub streams_kept_on_hold: u64,
    /// Streams announced toward a host name (no pinhole).
    pub unresolved_hostnames: u64,
    /// Media sections beyond what one call tracks (ignored).
    pub streams_over_limit: u64,
    /// Registrations that opened or refreshed a signalling pinhole.
    pub registrations: u64,
}
