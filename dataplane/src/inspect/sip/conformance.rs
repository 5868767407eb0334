//! The profile's stateless rules: sizes on the raw bytes, then mandatory headers,
//! Max-Forwards, method lists and From/To deny lists on the parsed message. What the
//! parser itself refuses (malformed headers) is not judged here: that is the fail-open
//! path of the inspector.

use std::net::IpAddr;

use super::counters::ProfileCounters;
use super::header::HeaderName;
use super::host::Host;
use super::lex::eq_ic;
use super::message::SipMessage;
use super::method::Method;
use super::nameaddr::NameAddr;
use super::profile::{ProfileRule, ProfileVerdict, RuleAction, SipProfile};
use super::uri::Uri;

/// Counts rule hits and stops at the first whose action is `drop`.
pub(crate) struct Judge<'a> {
    pub profile: &'a SipProfile,
    pub counters: &'a mut ProfileCounters,
}

impl Judge<'_> {
    /// Count a hit of `rule`; `Err` when its action drops the message.
    pub fn hit(&mut self, rule: ProfileRule) -> Result<(), ProfileVerdict> {
        let verdict = self.profile.verdict(rule);
        self.counters.hit(verdict);
        match verdict.action {
            RuleAction::Drop => Err(verdict),
            RuleAction::Forward => Ok(()),
        }
    }
}

/// The longest line of the start line and header section (CR/LF excluded).
fn longest_head_line(payload: &[u8]) -> usize {
    let mut longest = 0;
    for line in payload.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && longest > 0 {
            break; // the empty line that ends the header section
        }
        longest = longest.max(line.len());
    }
    longest
}

/// Size rules, on the bytes as received.
pub(crate) fn check_raw(payload: &[u8], judge: &mut Judge<'_>) -> Result<(), ProfileVerdict> {
    if payload.len() > judge.profile.max_message_size {
        judge.hit(ProfileRule::MessageTooLarge)?;
    }
    if longest_head_line(payload) > judge.profile.max_line_size {
        judge.hit(ProfileRule::LineTooLong)?;
    }
    Ok(())
}

/// Rules on the parsed message.
pub(crate) fn check_message(
    msg: &SipMessage<'_>,
    judge: &mut Judge<'_>,
) -> Result<(), ProfileVerdict> {
    if missing_mandatory_header(msg) {
        judge.hit(ProfileRule::MissingHeader)?;
    }
    if let Some(method) = msg.method() {
        if let Ok(Some(hops)) = msg.max_forwards() {
            if hops < judge.profile.min_max_forwards {
                judge.hit(ProfileRule::MaxForwards)?;
            }
        }
        check_method(method, judge)?;
    }
    let parties = [msg.from().ok(), msg.to().ok()];
    let parties = parties.iter().flatten();
    if parties
        .clone()
        .any(|p| user(p).is_some_and(|u| listed(&judge.profile.deny_users, u)))
    {
        judge.hit(ProfileRule::UserDenied)?;
    }
    if parties
        .clone()
        .any(|p| domain_denied(&judge.profile.deny_domains, p))
    {
        judge.hit(ProfileRule::DomainDenied)?;
    }
    Ok(())
}

/// Via, From, To, Call-ID and CSeq in every message; Max-Forwards in requests; Contact
/// in INVITE and in 2xx responses to INVITE (RFC 3261 table 2).
fn missing_mandatory_header(msg: &SipMessage<'_>) -> bool {
    let has = |name| msg.values(name).next().is_some();
    let always = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ];
    if !always.into_iter().all(has) {
        return true;
    }
    let needs_contact = match msg.method() {
        Some(method) => {
            if !has(HeaderName::MaxForwards) {
                return true;
            }
            method == Method::Invite
        }
        None => {
            msg.status().is_some_and(|s| s.is_success())
                && msg.cseq().is_ok_and(|c| c.method == Method::Invite)
        }
    };
    needs_contact && !has(HeaderName::Contact)
}

fn listed(list: &[Box<[u8]>], item: &[u8]) -> bool {
    list.iter().any(|entry| **entry == *item)
}

fn check_method(method: Method<'_>, judge: &mut Judge<'_>) -> Result<(), ProfileVerdict> {
    let token = method.token();
    let allow = &judge.profile.allow_methods;
    let explicitly_allowed = listed(allow, token);
    if listed(&judge.profile.deny_methods, token) || (!allow.is_empty() && !explicitly_allowed) {
        judge.hit(ProfileRule::MethodDenied)?;
    } else if matches!(method, Method::Other(_)) && !explicitly_allowed {
        judge.hit(ProfileRule::UnknownMethod)?;
    }
    Ok(())
}

/// The user part of an address: a SIP URI's user (without password), a tel: number.
fn user<'a>(party: &NameAddr<'a>) -> Option<&'a [u8]> {
    match party.uri {
        Uri::Sip(uri) => {
            let userinfo = uri.user?;
            userinfo.split(|b| *b == b':').next()
        }
        Uri::Other { scheme, rest } if eq_ic(scheme, b"tel") => rest.split(|b| *b == b';').next(),
        Uri::Other { .. } => None,
    }
}

/// Whether the party's host is a denied domain, a subdomain of one, or a denied
/// address literal.
fn domain_denied(list: &[Box<[u8]>], party: &NameAddr<'_>) -> bool {
    let Some(uri) = party.uri.as_sip() else {
        return false;
    };
    match uri.host {
        Host::Name(name) => {
            let name = name.strip_suffix(b".").unwrap_or(name);
            list.iter().any(|domain| {
                eq_ic(name, domain)
                    || name.len() > domain.len()
                        && name
                            .get(name.len() - domain.len()..)
                            .is_some_and(|tail| eq_ic(tail, domain))
                        && name.get(name.len() - domain.len() - 1) == Some(&b'.')
            })
        }
        Host::Ipv4(_) | Host::Ipv6(_) => {
            let ip = uri.host.ip();
            list.iter().any(|entry| {
                std::str::from_utf8(entry)
                    .ok()
                    .and_then(|s| s.parse::<IpAddr>().ok())
                    == ip
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_line_stops_at_the_header_section() {
        let msg = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\nbody-line-that-is-much-longer-than-any-header\r\n";
        assert_eq!(longest_head_line(msg), "OPTIONS sip:a@b SIP/2.0".len());
        assert_eq!(longest_head_line(b"\r\n\r\n"), 0);
    }
}
