//! The SIP inspect profile (requirements 14-16 of `shared/reference/sip-alg.md`):
//! conformance and application-security rules a parameter map may attach to its SIP
//! inspection. Each rule has a name (its counter and its key in the configuration's
//! `actions`) and an action: forward and count, or drop and count.
//!
//! Defaults follow the reference: signalling the ALG merely finds odd (a missing
//! mandatory header, an unknown method) is forwarded and counted; limits (sizes, rates,
//! caps, blocks) and the operator's explicit filters (deny lists) drop.

use std::time::Duration;

/// Most per-method rate limits one profile carries (each source keeps one token bucket
/// per limit, inline).
pub const MAX_RATE_LIMITS: usize = 8;

/// What happens to a message that breaks a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleAction {
    /// Forward it (and count).
    Forward,
    /// Drop it (and count); it changes no dialog or pinhole.
    Drop,
}

/// The rules of a profile, by the name of their counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileRule {
    /// The message is longer than `max_message_size`.
    MessageTooLarge,
    /// A start or header line is longer than `max_line_size`.
    LineTooLong,
    /// A mandatory header is absent (Via, From, To, Call-ID, CSeq; Max-Forwards on
    /// requests; Contact on INVITE and on 2xx responses to INVITE).
    MissingHeader,
    /// A request's Max-Forwards is below `min_max_forwards`.
    MaxForwards,
    /// The method is denied, or not in a non-empty allow list.
    MethodDenied,
    /// The method is not one the ALG knows (checked after the lists).
    UnknownMethod,
    /// The From or To user is in `deny_users`.
    UserDenied,
    /// The From or To domain is in `deny_domains`.
    DomainDenied,
    /// An out-of-dialog request from a source on the temporary block list.
    SourceBlocked,
    /// A request beyond its method's per-source rate.
    RateLimited,
    /// A source the rate limiter must track, but its table is full.
    SourceTableFull,
    /// A new dialog or registration beyond `max_dialogs`.
    DialogLimit,
    /// An SDP that would make its call hold more than `max_pinholes_per_call` pinholes.
    PinholeLimit,
}

impl ProfileRule {
    /// Every rule, in evaluation order.
    pub const ALL: [ProfileRule; 13] = [
        ProfileRule::MessageTooLarge,
        ProfileRule::LineTooLong,
        ProfileRule::MissingHeader,
        ProfileRule::MaxForwards,
        ProfileRule::MethodDenied,
        ProfileRule::UnknownMethod,
        ProfileRule::UserDenied,
        ProfileRule::DomainDenied,
        ProfileRule::SourceBlocked,
        ProfileRule::RateLimited,
        ProfileRule::SourceTableFull,
        ProfileRule::DialogLimit,
        ProfileRule::PinholeLimit,
    ];

    /// The rule's name: its counter and its key in the configuration's `actions`.
    pub fn name(self) -> &'static str {
        match self {
            ProfileRule::MessageTooLarge => "message_too_large",
            ProfileRule::LineTooLong => "line_too_long",
            ProfileRule::MissingHeader => "missing_header",
            ProfileRule::MaxForwards => "max_forwards",
            ProfileRule::MethodDenied => "method_denied",
            ProfileRule::UnknownMethod => "unknown_method",
            ProfileRule::UserDenied => "user_denied",
            ProfileRule::DomainDenied => "domain_denied",
            ProfileRule::SourceBlocked => "source_blocked",
            ProfileRule::RateLimited => "rate_limited",
            ProfileRule::SourceTableFull => "source_table_full",
            ProfileRule::DialogLimit => "dialog_limit",
            ProfileRule::PinholeLimit => "pinhole_limit",
        }
    }

    /// The rule named `name`.
    pub fn from_name(name: &str) -> Option<ProfileRule> {
        ProfileRule::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Fail open for what is merely odd, strict on limits and explicit filters.
    pub fn default_action(self) -> RuleAction {
        match self {
            ProfileRule::MissingHeader | ProfileRule::UnknownMethod => RuleAction::Forward,
            _ => RuleAction::Drop,
        }
    }

    fn index(self) -> usize {
        ProfileRule::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or_default()
    }
}

/// The action of every rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleActions([RuleAction; ProfileRule::ALL.len()]);

impl Default for RuleActions {
    fn default() -> Self {
        RuleActions(ProfileRule::ALL.map(ProfileRule::default_action))
    }
}

impl RuleActions {
    /// The action of `rule`.
    pub fn get(&self, rule: ProfileRule) -> RuleAction {
        self.0
            .get(rule.index())
            .copied()
            .unwrap_or(rule.default_action())
    }

    /// Set the action of `rule`.
    pub fn set(&mut self, rule: ProfileRule, action: RuleAction) {
        if let Some(slot) = self.0.get_mut(rule.index()) {
            *slot = action;
        }
    }
}

/// A rule was broken, and what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProfileVerdict {
    /// The rule.
    pub rule: ProfileRule,
    /// Its action.
    pub action: RuleAction,
}

/// A per-source rate limit on one method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// The method token (case-sensitive, as on the wire: `INVITE`).
    pub method: Box<[u8]>,
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once after a quiet period (the bucket's size).
    pub burst: u32,
}

/// The temporary block list: a source whose INVITEs are rejected too often is blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockPolicy {
    /// Rejected INVITEs (final 4xx-6xx to an initial INVITE) that trigger a block.
    pub rejected_invites: u32,
    /// Within this long of the first of them.
    pub window: Duration,
    /// How long the source stays blocked.
    pub duration: Duration,
    /// Count 401/407 authentication challenges as rejections (off by default: every
    /// authenticated call starts with one).
    pub count_challenges: bool,
}

/// A SIP inspect profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipProfile {
    /// Its name (for reports).
    pub name: String,
    /// Largest message in bytes (start line, headers and body).
    pub max_message_size: usize,
    /// Longest start or header line in bytes (without its CRLF).
    pub max_line_size: usize,
    /// Lowest Max-Forwards a request may carry.
    pub min_max_forwards: u8,
    /// Methods allowed (empty: every method).
    pub allow_methods: Vec<Box<[u8]>>,
    /// Methods denied.
    pub deny_methods: Vec<Box<[u8]>>,
    /// From/To users denied (exact, case-sensitive as RFC 3261 compares users).
    pub deny_users: Vec<Box<[u8]>>,
    /// From/To domains denied (case-insensitive; subdomains included).
    pub deny_domains: Vec<Box<[u8]>>,
    /// Per-source, per-method rate limits (at most [`MAX_RATE_LIMITS`]).
    pub rate_limits: Vec<RateLimit>,
    /// Sources the rate limiter and block list track at once.
    pub max_sources: usize,
    /// Dialogs and registrations followed at once under this profile (None: only the
    /// dialog table's capacity).
    pub max_dialogs: Option<u32>,
    /// Pinholes one call may hold (None: only the per-call stream bounds).
    pub max_pinholes_per_call: Option<u32>,
    /// The temporary block list (None: off).
    pub block: Option<BlockPolicy>,
    /// Each rule's action.
    pub actions: RuleActions,
}

impl Default for SipProfile {
    fn default() -> Self {
        SipProfile {
            name: "default".into(),
            max_message_size: 65_535,
            max_line_size: 8_192,
            min_max_forwards: 1,
            allow_methods: Vec::new(),
            deny_methods: Vec::new(),
            deny_users: Vec::new(),
            deny_domains: Vec::new(),
            rate_limits: Vec::new(),
            max_sources: 65_536,
            max_dialogs: None,
            max_pinholes_per_call: None,
            block: None,
            actions: RuleActions::default(),
        }
    }
}

impl SipProfile {
    /// The verdict for `rule` under this profile.
    pub fn verdict(&self, rule: ProfileRule) -> ProfileVerdict {
        ProfileVerdict {
            rule,
            action: self.actions.get(rule),
        }
    }

    /// Index of the rate limit on `method`, if any.
    pub fn rate_limit_for(&self, method: &[u8]) -> Option<(usize, &RateLimit)> {
        self.rate_limits
            .iter()
            .enumerate()
            .take(MAX_RATE_LIMITS)
            .find(|(_, r)| *r.method == *method)
    }

    /// Whether the profile needs per-source state at all.
    pub fn tracks_sources(&self) -> bool {
        !self.rate_limits.is_empty() || self.block.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for rule in ProfileRule::ALL {
            assert_eq!(ProfileRule::from_name(rule.name()), Some(rule));
        }
        assert_eq!(ProfileRule::from_name("nope"), None);
    }

    #[test]
    fn defaults_fail_open_on_oddities_and_are_strict_on_limits() {
        let actions = RuleActions::default();
        assert_eq!(actions.get(ProfileRule::UnknownMethod), RuleAction::Forward);
        assert_eq!(actions.get(ProfileRule::MissingHeader), RuleAction::Forward);
        assert_eq!(actions.get(ProfileRule::RateLimited), RuleAction::Drop);
        assert_eq!(actions.get(ProfileRule::MessageTooLarge), RuleAction::Drop);
        let mut changed = actions;
        changed.set(ProfileRule::RateLimited, RuleAction::Forward);
        assert_eq!(changed.get(ProfileRule::RateLimited), RuleAction::Forward);
        assert_eq!(changed.get(ProfileRule::DialogLimit), RuleAction::Drop);
    }
}
