//! Per-worker SIP inspector counters: one named field per outcome, single writer.

use serde::Serialize;

use super::profile::{ProfileRule, ProfileVerdict, RuleAction};

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
    /// The inspect profile's rules (all zero when the parameter map names none).
    pub profile: ProfileCounters,
}

/// Hits of each inspect-profile rule (a hit is counted whatever the rule's action), and
/// what became of them. Field names are the rules' names ([`ProfileRule::name`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProfileCounters {
    /// Messages longer than `max_message_size`.
    pub message_too_large: u64,
    /// Messages with a line longer than `max_line_size`.
    pub line_too_long: u64,
    /// Messages without a mandatory header.
    pub missing_header: u64,
    /// Requests with Max-Forwards below the minimum.
    pub max_forwards: u64,
    /// Requests of a denied method.
    pub method_denied: u64,
    /// Requests of an unknown method.
    pub unknown_method: u64,
    /// Messages from or to a denied user.
    pub user_denied: u64,
    /// Messages from or to a denied domain.
    pub domain_denied: u64,
    /// Out-of-dialog requests from a blocked source.
    pub source_blocked: u64,
    /// Requests beyond their per-source rate.
    pub rate_limited: u64,
    /// Requests whose source could not be tracked (source table full).
    pub source_table_full: u64,
    /// Dialogs refused by `max_dialogs`.
    pub dialog_limit: u64,
    /// SDPs refused by `max_pinholes_per_call`.
    pub pinhole_limit: u64,
    /// Sources put on the temporary block list.
    pub sources_blocked: u64,
    /// Messages a rule dropped.
    pub dropped: u64,
    /// Messages that broke a rule whose action is `forward` (counted once per rule).
    pub forwarded: u64,
}

impl ProfileCounters {
    /// Count a hit of `verdict`'s rule and its outcome.
    pub fn hit(&mut self, verdict: ProfileVerdict) {
        let counter = match verdict.rule {
            ProfileRule::MessageTooLarge => &mut self.message_too_large,
            ProfileRule::LineTooLong => &mut self.line_too_long,
            ProfileRule::MissingHeader => &mut self.missing_header,
            ProfileRule::MaxForwards => &mut self.max_forwards,
            ProfileRule::MethodDenied => &mut self.method_denied,
            ProfileRule::UnknownMethod => &mut self.unknown_method,
            ProfileRule::UserDenied => &mut self.user_denied,
            ProfileRule::DomainDenied => &mut self.domain_denied,
            ProfileRule::SourceBlocked => &mut self.source_blocked,
            ProfileRule::RateLimited => &mut self.rate_limited,
            ProfileRule::SourceTableFull => &mut self.source_table_full,
            ProfileRule::DialogLimit => &mut self.dialog_limit,
            ProfileRule::PinholeLimit => &mut self.pinhole_limit,
        };
        *counter += 1;
        match verdict.action {
            RuleAction::Drop => self.dropped += 1,
            RuleAction::Forward => self.forwarded += 1,
        }
    }
}
