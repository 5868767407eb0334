//! Entry points shared by the fuzz targets (`fuzz/`) and the corpus replay test
//! (`tests/sip_fuzz_corpus.rs`): run every parser on arbitrary bytes and check the
//! invariants that must hold for any input. A violated invariant is returned, not
//! panicked, so the harness decides how to report it.

use std::net::SocketAddr;
use std::sync::Arc;

use super::config::SipConfig;
use super::error::ParseError;
use super::framing::{frame_stream, StreamFrame};
use super::guard::{ProfileGuard, ProfileState};
use super::inspector::SipInspector;
use super::inspector::SipOutcome;
use super::limits::ParseLimits;
use super::message::SipMessage;
use super::profile::{BlockPolicy, RateLimit, RuleAction, SipProfile};
use super::sdp::SessionDescription;
use super::table::DialogTable;
use super::validate::{check, offer_answer_sdp};
use crate::inspect::action::{FlowContext, InspectAction, Transport};
use crate::time::Timestamp;

/// Run framing, parsing, checking, SDP extraction and the inspector on `data` as one
/// SIP message.
pub fn sip_message(data: &[u8]) -> Result<(), &'static str> {
    inspector_invariants(data)?;
    profile_invariants(data)?;
    let limits = ParseLimits::DEFAULT;
    match frame_stream(data, &limits) {
        Ok(StreamFrame::Complete(n)) => {
            let framed = data.get(..n).ok_or("framed length beyond the input")?;
            let msg = SipMessage::parse(framed, &limits)
                .map_err(|_| "a framed message does not parse")?;
            if msg.len() != n {
                return Err("framed and parsed lengths differ");
            }
        }
        Ok(StreamFrame::KeepAlive(n)) => {
            let crlf = data.get(..n).ok_or("keep-alive beyond the input")?;
            if n == 0 || !crlf.iter().all(|b| *b == b'\r' || *b == b'\n') {
                return Err("keep-alive is not CRLF");
            }
        }
        Ok(StreamFrame::NeedMore) | Err(_) => {}
    }
    let msg = match SipMessage::parse(data, &limits) {
        Ok(m) => m,
        Err(ParseError::Empty) if data.iter().any(|b| *b != b'\r' && *b != b'\n') => {
            return Err("non-empty input reported as empty")
        }
        Err(_) => return Ok(()),
    };
    if msg.len() > data.len() || msg.body().len() > msg.len() {
        return Err("message longer than its input");
    }
    // Exercise every lazy accessor (each walks the header index the parse built, or
    // re-scans the section when the message had more headers than the index holds).
    let _ = format!("{msg:?}");
    let _ = (
        msg.vias().count(),
        msg.contacts().count(),
        msg.routes().count(),
    );
    let _ = (
        msg.record_routes().count(),
        msg.expires(),
        msg.max_forwards(),
    );
    let Ok(checked) = check(&msg) else {
        return Ok(());
    };
    if let Ok(Some(sdp)) = offer_answer_sdp(&msg, &checked, &limits) {
        endpoints_invariants(&sdp)?;
    }
    Ok(())
}

/// Run the SDP parser on `data`.
pub fn sdp(data: &[u8]) -> Result<(), &'static str> {
    let limits = ParseLimits::DEFAULT;
    if let Ok(sdp) = SessionDescription::parse(data, &limits) {
        let _ = format!("{sdp:?}");
        endpoints_invariants(&sdp)?;
    }
    Ok(())
}

fn endpoints_invariants(sdp: &SessionDescription<'_>) -> Result<(), &'static str> {
    if sdp.media().len() > ParseLimits::DEFAULT.sdp_media_bound() {
        return Err("more media sections than the bound");
    }
    for e in sdp.endpoints() {
        if let Some((_, port)) = e.target() {
            if port == 0 {
                return Err("pinhole toward port 0");
            }
        } else if e.rtcp_target().is_some() {
            return Err("RTCP pinhole without an RTP pinhole");
        }
        if e.port_count == 0 {
            return Err("zero port count");
        }
    }
    Ok(())
}

/// A profile with every rule switched on and tight enough to trigger on small inputs.
fn strict_profile() -> SipProfile {
    let list = |items: &[&[u8]]| items.iter().map(|i| Box::<[u8]>::from(*i)).collect();
    SipProfile {
        name: "fuzz".into(),
        max_message_size: 1_500,
        max_line_size: 200,
        min_max_forwards: 2,
        allow_methods: list(&[b"INVITE", b"ACK", b"BYE", b"CANCEL", b"REGISTER", b"FROB"]),
        deny_methods: list(&[b"MESSAGE"]),
        deny_users: list(&[b"scanner", b"100"]),
        deny_domains: list(&[b"example.org", b"192.0.2.66"]),
        rate_limits: vec![RateLimit {
            method: b"INVITE".as_slice().into(),
            per_second: 1,
            burst: 2,
        }],
        max_sources: 4,
        max_dialogs: Some(2),
        max_pinholes_per_call: Some(4),
        block: Some(BlockPolicy {
            rejected_invites: 1,
            window: std::time::Duration::from_secs(10),
            duration: std::time::Duration::from_secs(10),
            count_challenges: true,
        }),
        ..SipProfile::default()
    }
}

/// Feed `data` three times to an inspector under a strict profile, with every rule
/// dropping and then with every rule forwarding: a dropped message must act on nothing
/// and leave the dialog table as it was.
pub fn profile_invariants(data: &[u8]) -> Result<(), &'static str> {
    for action in [RuleAction::Drop, RuleAction::Forward] {
        let mut profile = strict_profile();
        for rule in super::profile::ProfileRule::ALL {
            profile.actions.set(rule, action);
        }
        let table = Arc::new(DialogTable::new(1, 4));
        let mut inspector = SipInspector::with_profile(
            Arc::new(SipConfig::default()),
            Arc::clone(&table),
            ProfileGuard::new(Arc::new(profile), Arc::new(ProfileState::default())),
        );
        let ctx = FlowContext {
            src: SocketAddr::from(([10, 0, 0, 1], 5060)),
            dst: SocketAddr::from(([10, 0, 0, 2], 5060)),
            transport: Transport::Udp,
            zone_link: crate::ids::ZoneLink::UNZONED,
        };
        let mut actions = Vec::new();
        for step in 0..3u64 {
            actions.clear();
            let before = table.len();
            let outcome = inspector.inspect(data, &ctx, Timestamp::from_secs(step), &mut actions);
            if let SipOutcome::Refused(v) = outcome {
                if v.action != action {
                    return Err("a rule acted other than its configured action");
                }
                if v.action == RuleAction::Drop && (!actions.is_empty() || table.len() != before) {
                    return Err("a dropped message changed state");
                }
            }
            inspector.sweep_profile(Timestamp::from_secs(step));
        }
    }
    Ok(())
}

/// Feed `data` to a fresh inspector twice (a retransmission) and check its actions.
fn inspector_invariants(data: &[u8]) -> Result<(), &'static str> {
    let mut inspector = SipInspector::new(
        Arc::new(SipConfig::default()),
        Arc::new(DialogTable::new(1, 4)),
    );
    let ctx = FlowContext {
        src: SocketAddr::from(([10, 0, 0, 1], 5060)),
        dst: SocketAddr::from(([10, 0, 0, 2], 5060)),
        transport: Transport::Udp,
        zone_link: crate::ids::ZoneLink::UNZONED,
    };
    let mut actions = Vec::new();
    for step in 0..2u64 {
        actions.clear();
        inspector.inspect(data, &ctx, Timestamp::from_secs(step), &mut actions);
        let mut closing = false;
        for action in &actions {
            match action {
                InspectAction::Open(p) => {
                    if closing {
                        return Err("an open after a close in one message's actions");
                    }
                    if p.dst_port == 0 || p.dst.is_unspecified() {
                        return Err("pinhole toward port 0 or an unspecified address");
                    }
                }
                InspectAction::CloseStream { .. } | InspectAction::CloseCall { .. } => {
                    closing = true
                }
            }
        }
        if step == 1 && actions.iter().any(|a| matches!(a, InspectAction::Open(_))) {
            // A retransmitted INVITE or response re-announces what is already open.
            return Err("a retransmission opened new pinholes");
        }
    }
    Ok(())
}
