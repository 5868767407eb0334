//! The SIP inspector's behaviour, one test per requirement, with hand-written messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use pinhole_dataplane::inspect::action::{
    CallRef, FlowContext, InspectAction, MediaKind, PinholeRequest, StreamRef, Transport,
};
use pinhole_dataplane::inspect::sip::{
    DialogTable, MediaSourcePolicy, SipConfig, SipInspector, SipOutcome,
};
use pinhole_dataplane::Timestamp;

const CALLER: &str = "10.0.0.1:5060";
const CALLEE: &str = "192.0.2.50:5060";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ctx(src: &str, dst: &str) -> FlowContext {
    FlowContext {
        src: src.parse::<SocketAddr>().unwrap(),
        dst: dst.parse::<SocketAddr>().unwrap(),
        transport: Transport::Udp,
        zone_link: pinhole_dataplane::ZoneLink::between("inside", "outside"),
    }
}

fn from_caller() -> FlowContext {
    ctx(CALLER, CALLEE)
}

fn from_callee() -> FlowContext {
    ctx(CALLEE, CALLER)
}

/// An SDP body: connection address, then `m=` lines given whole (plus attributes).
fn sdp(addr: &str, media: &[&str]) -> String {
    let mut s = format!("v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n");
    for m in media {
        s.push_str(m);
        s.push_str("\r\n");
    }
    s
}

struct Dlg {
    call_id: &'static str,
    caller_tag: &'static str,
    callee_tag: Option<&'static str>,
}

const D: Dlg = Dlg {
    call_id: "call-1@10.0.0.1",
    caller_tag: "a1",
    callee_tag: Some("b2"),
};

fn with_body(head: String, body: Option<&str>) -> Vec<u8> {
    let body = body.unwrap_or("");
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!("{head}{ct}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// A request from the caller (`by_callee` false) or the callee.
fn req(
    d: &Dlg,
    method: &str,
    cseq: u32,
    by_callee: bool,
    to_tagged: bool,
    body: Option<&str>,
) -> Vec<u8> {
    let caller = format!("<sip:alice@example.com>;tag={}", d.caller_tag);
    let callee = match (to_tagged, d.callee_tag) {
        (true, Some(t)) => format!("<sip:bob@example.net>;tag={t}"),
        _ => "<sip:bob@example.net>".to_owned(),
    };
    let (from, to, via) = if by_callee {
        (callee, caller, "192.0.2.50:5060")
    } else {
        (caller, callee, "10.0.0.1:5060")
    };
    with_body(
        format!(
            "{method} sip:peer@example.net SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK{cseq}{method}\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContact: <sip:x@{via}>\r\n",
            d.call_id
        ),
        body,
    )
}

/// A response to a request of `method` sent by the caller (or by the callee).
fn resp(
    d: &Dlg,
    code: u16,
    method: &str,
    cseq: u32,
    request_by_callee: bool,
    body: Option<&str>,
) -> Vec<u8> {
    let caller = format!("<sip:alice@example.com>;tag={}", d.caller_tag);
    let callee = match d.callee_tag {
        Some(t) if code > 100 => format!("<sip:bob@example.net>;tag={t}"),
        _ => "<sip:bob@example.net>".to_owned(),
    };
    let (from, to) = if request_by_callee {
        (callee, caller)
    } else {
        (caller, callee)
    };
    with_body(
        format!(
            "SIP/2.0 {code} Whatever\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{cseq}{method}\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n",
            d.call_id
        ),
        body,
    )
}

struct Harness {
    insp: SipInspector,
    now: Timestamp,
}

impl Harness {
    fn new() -> Self {
        Self::with(SipConfig::default(), 64)
    }

    fn with(config: SipConfig, capacity: usize) -> Self {
        Harness {
            insp: SipInspector::new(
                Arc::new(config),
                Arc::new(DialogTable::new(capacity.min(4), capacity)),
            ),
            now: Timestamp::from_secs(1000),
        }
    }

    fn feed(&mut self, bytes: &[u8], ctx: &FlowContext) -> (SipOutcome, Vec<InspectAction>) {
        let mut actions = Vec::new();
        self.now = self.now.after(Duration::from_millis(10));
        let outcome = self.insp.inspect(bytes, ctx, self.now, &mut actions);
        (outcome, actions)
    }

    fn ok(&mut self, bytes: &[u8], ctx: &FlowContext) -> Vec<InspectAction> {
        let (outcome, actions) = self.feed(bytes, ctx);
        assert_eq!(
            outcome,
            SipOutcome::Inspected,
            "{}",
            String::from_utf8_lossy(bytes)
        );
        actions
    }
}

/// The opens in `actions` as (dst, port, kind, src).
fn opens(actions: &[InspectAction]) -> Vec<(IpAddr, u16, MediaKind, Option<IpAddr>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            InspectAction::Open(p) => Some((p.dst, p.dst_port, p.kind, p.src)),
            _ => None,
        })
        .collect()
}

fn closes(actions: &[InspectAction]) -> Vec<StreamRef> {
    actions
        .iter()
        .filter_map(|a| match a {
            InspectAction::CloseStream { stream, .. } => Some(*stream),
            _ => None,
        })
        .collect()
}

fn close_calls(actions: &[InspectAction]) -> Vec<CallRef> {
    actions
        .iter()
        .filter_map(|a| match a {
            InspectAction::CloseCall { call } => Some(*call),
            _ => None,
        })
        .collect()
}

fn first_open(actions: &[InspectAction]) -> PinholeRequest {
    actions
        .iter()
        .find_map(|a| match a {
            InspectAction::Open(p) => Some(*p),
            _ => None,
        })
        .unwrap()
}

/// Opens always precede closes within one message's actions.
fn assert_opens_first(actions: &[InspectAction]) {
    let first_close = actions
        .iter()
        .position(|a| !matches!(a, InspectAction::Open(_)));
    if let Some(i) = first_close {
        assert!(
            actions[i..]
                .iter()
                .all(|a| !matches!(a, InspectAction::Open(_))),
            "{actions:?}"
        );
    }
}

fn offer() -> String {
    sdp("10.0.0.1", &["m=audio 4000 RTP/AVP 0"])
}

fn answer() -> String {
    sdp("192.0.2.50", &["m=audio 6000 RTP/AVP 0"])
}

/// INVITE with offer + 200 with answer + ACK; returns the actions of each step.
fn establish(h: &mut Harness) -> (Vec<InspectAction>, Vec<InspectAction>) {
    let a = h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    let b = h.ok(
        &resp(&D, 200, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    assert!(h
        .ok(&req(&D, "ACK", 1, false, true, None), &from_caller())
        .is_empty());
    (a, b)
}

#[test]
fn offer_and_answer_each_open_toward_their_own_address() {
    let mut h = Harness::new();
    let (invite, ok) = establish(&mut h);
    // The offer opens toward the caller; the callee's address is not known yet.
    assert_eq!(
        opens(&invite),
        vec![
            (ip("10.0.0.1"), 4000, MediaKind::Audio, None),
            (ip("10.0.0.1"), 4001, MediaKind::Rtcp, None)
        ]
    );
    // The answer opens toward the callee, and narrows the caller's pinholes to the
    // callee's announced address, retiring the provisional ones afterwards.
    assert_eq!(
        opens(&ok),
        vec![
            (
                ip("192.0.2.50"),
                6000,
                MediaKind::Audio,
                Some(ip("10.0.0.1"))
            ),
            (
                ip("192.0.2.50"),
                6001,
                MediaKind::Rtcp,
                Some(ip("10.0.0.1"))
            ),
            (
                ip("10.0.0.1"),
                4000,
                MediaKind::Audio,
                Some(ip("192.0.2.50"))
            ),
            (
                ip("10.0.0.1"),
                4001,
                MediaKind::Rtcp,
                Some(ip("192.0.2.50"))
            ),
        ]
    );
    assert_eq!(closes(&ok), vec![first_open(&invite).stream]);
    assert_opens_first(&ok);
    let p = first_open(&ok);
    assert_eq!(p.transport, Transport::Udp);
    assert_eq!(p.idle_timeout, Duration::from_secs(120));
}

#[test]
fn early_media_183_opens_before_the_200_and_the_200_repeats_nothing() {
    let mut h = Harness::new();
    h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    assert!(h
        .ok(&resp(&D, 100, "INVITE", 1, false, None), &from_callee())
        .is_empty());
    let early = h.ok(
        &resp(&D, 183, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    assert!(opens(&early).contains(&(
        ip("192.0.2.50"),
        6000,
        MediaKind::Audio,
        Some(ip("10.0.0.1"))
    )));
    let ok = h.ok(
        &resp(&D, 200, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    assert!(ok.is_empty(), "{ok:?}");
}

#[test]
fn late_offer_in_200_answer_in_ack() {
    let mut h = Harness::new();
    assert!(h
        .ok(&req(&D, "INVITE", 1, false, false, None), &from_caller())
        .is_empty());
    let ok = h.ok(
        &resp(&D, 200, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    assert_eq!(
        opens(&ok)[0],
        (ip("192.0.2.50"), 6000, MediaKind::Audio, None)
    );
    let ack = h.ok(
        &req(&D, "ACK", 1, false, true, Some(&offer())),
        &from_caller(),
    );
    let o = opens(&ack);
    assert!(o.contains(&(
        ip("10.0.0.1"),
        4000,
        MediaKind::Audio,
        Some(ip("192.0.2.50"))
    )));
    assert!(o.contains(&(
        ip("192.0.2.50"),
        6000,
        MediaKind::Audio,
        Some(ip("10.0.0.1"))
    )));
    assert_eq!(closes(&ack).len(), 1);
    assert_opens_first(&ack);
}

#[test]
fn reinvite_opens_the_new_stream_before_closing_the_old() {
    let mut h = Harness::new();
    let (_, ok) = establish(&mut h);
    let old_callee = first_open(&ok).stream;
    let reinvite = h.ok(
        &req(
            &D,
            "INVITE",
            2,
            true,
            true,
            Some(&sdp("192.0.2.51", &["m=audio 7000 RTP/AVP 0"])),
        ),
        &from_callee(),
    );
    // The re-offer opens the new stream but keeps the agreed one until the 200.
    assert!(opens(&reinvite).contains(&(
        ip("192.0.2.51"),
        7000,
        MediaKind::Audio,
        Some(ip("10.0.0.1"))
    )));
    assert!(closes(&reinvite).is_empty());
    let ok2 = h.ok(
        &resp(&D, 200, "INVITE", 2, true, Some(&offer())),
        &from_caller(),
    );
    // The caller's pinholes are narrowed to the new address, then old streams retire.
    assert!(opens(&ok2).contains(&(
        ip("10.0.0.1"),
        4000,
        MediaKind::Audio,
        Some(ip("192.0.2.51"))
    )));
    assert!(closes(&ok2).contains(&old_callee));
    assert_opens_first(&ok2);
    assert!(close_calls(&ok2).is_empty());
}

#[test]
fn rejected_reinvite_keeps_the_agreed_media() {
    let mut h = Harness::new();
    establish(&mut h);
    // Switch to T.38: offered, then refused with 488.
    let t38 = h.ok(
        &req(
            &D,
            "INVITE",
            2,
            false,
            true,
            Some(&sdp("10.0.0.1", &["m=image 4002 udptl t38"])),
        ),
        &from_caller(),
    );
    assert_eq!(
        opens(&t38),
        vec![(
            ip("10.0.0.1"),
            4002,
            MediaKind::Image,
            Some(ip("192.0.2.50"))
        )]
    );
    let t38_stream = first_open(&t38).stream;
    let rejected = h.ok(&resp(&D, 488, "INVITE", 2, false, None), &from_callee());
    assert_eq!(closes(&rejected), vec![t38_stream]);
    assert!(close_calls(&rejected).is_empty());
    assert_eq!(h.insp.counters().offers_rejected, 1);
    // The agreed audio is intact: the same offer again changes nothing.
    let again = h.ok(
        &req(&D, "UPDATE", 3, false, true, Some(&offer())),
        &from_caller(),
    );
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn hold_does_not_tear_down() {
    let mut h = Harness::new();
    establish(&mut h);
    let hold = sdp("0.0.0.0", &["m=audio 4000 RTP/AVP 0", "a=sendonly"]);
    let a = h.ok(
        &req(&D, "INVITE", 2, false, true, Some(&hold)),
        &from_caller(),
    );
    let b = h.ok(
        &resp(
            &D,
            200,
            "INVITE",
            2,
            false,
            Some(&sdp(
                "192.0.2.50",
                &["m=audio 6000 RTP/AVP 0", "a=recvonly"],
            )),
        ),
        &from_callee(),
    );
    let c = h.ok(
        &req(
            &D,
            "INVITE",
            3,
            false,
            true,
            Some(&sdp("10.0.0.1", &["m=audio 4000 RTP/AVP 0", "a=inactive"])),
        ),
        &from_caller(),
    );
    for actions in [a, b, c] {
        assert!(
            closes(&actions).is_empty() && close_calls(&actions).is_empty(),
            "{actions:?}"
        );
    }
    assert!(h.insp.counters().streams_kept_on_hold >= 1);
}

#[test]
fn bye_from_the_callee_on_another_connection_ends_the_call() {
    let mut h = Harness::new();
    let (invite, _) = establish(&mut h);
    let call = first_open(&invite).call;
    let bye = h.ok(
        &req(&D, "BYE", 1, true, true, None),
        &ctx("192.0.2.50:43210", "10.0.0.1:5060"),
    );
    assert_eq!(close_calls(&bye), vec![call]);
    assert!(h.insp.table().is_empty());
    // Its 200 is expected, not an unmatched response.
    assert!(h
        .ok(&resp(&D, 200, "BYE", 1, true, None), &from_caller())
        .is_empty());
    assert_eq!(h.insp.counters().unmatched_responses, 0);
    // A second BYE (retransmission) matches nothing.
    assert_eq!(
        h.feed(&req(&D, "BYE", 1, true, true, None), &from_callee())
            .0,
        SipOutcome::Unmatched
    );
}

#[test]
fn cancel_and_final_failure_end_the_initial_invite() {
    let mut h = Harness::new();
    let invite = h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    let cancel = h.ok(&req(&D, "CANCEL", 1, false, false, None), &from_caller());
    assert_eq!(close_calls(&cancel), vec![first_open(&invite).call]);

    let d2 = Dlg {
        call_id: "call-2@10.0.0.1",
        ..D
    };
    let invite = h.ok(
        &req(&d2, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    h.ok(
        &resp(&d2, 183, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    let busy = h.ok(&resp(&d2, 486, "INVITE", 1, false, None), &from_callee());
    assert_eq!(close_calls(&busy), vec![first_open(&invite).call]);
    assert!(h.insp.table().is_empty());
    assert_eq!(h.insp.counters().dialogs_ended_cancel, 1);
    assert_eq!(h.insp.counters().dialogs_ended_rejected, 1);
}

#[test]
fn a_response_matching_no_dialog_changes_nothing() {
    let mut h = Harness::new();
    let (outcome, actions) = h.feed(
        &resp(&D, 200, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    assert_eq!(outcome, SipOutcome::Unmatched);
    assert!(actions.is_empty());
    assert_eq!(h.insp.counters().unmatched_responses, 1);
}

#[test]
fn dialogs_are_keyed_by_tags_and_zone_link_not_call_id_alone() {
    let mut h = Harness::new();
    establish(&mut h);
    // Same Call-ID, another caller tag: another dialog; its BYE does not end ours.
    let other = Dlg {
        caller_tag: "zz",
        ..D
    };
    assert_eq!(
        h.feed(&req(&other, "BYE", 5, false, true, None), &from_caller())
            .0,
        SipOutcome::Unmatched
    );
    // Same tags, between two other zones: unknown there.
    let mut elsewhere = from_caller();
    elsewhere.zone_link = pinhole_dataplane::ZoneLink::between("inside", "dmz");
    assert_eq!(
        h.feed(&req(&D, "BYE", 5, false, true, None), &elsewhere).0,
        SipOutcome::Unmatched
    );
    // A wrong callee tag does not match the confirmed dialog either.
    let wrong = Dlg {
        callee_tag: Some("nope"),
        ..D
    };
    assert_eq!(
        h.feed(&req(&wrong, "BYE", 5, false, true, None), &from_caller())
            .0,
        SipOutcome::Unmatched
    );
    assert_eq!(h.insp.table().len(), 1);
}

#[test]
fn rtcp_variants_t38_video_and_port_zero() {
    let mut h = Harness::new();
    let body = sdp(
        "10.0.0.1",
        &[
            "m=audio 4000 RTP/AVP 0",
            "a=rtcp:4500 IN IP4 10.0.0.9",
            "m=video 5000 RTP/AVPF 96",
            "a=rtcp-mux",
            "m=image 6000 udptl t38",
            "m=audio 0 RTP/AVP 0",
            "m=audio 7000/2 RTP/AVP 0",
        ],
    );
    let a = h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&body)),
        &from_caller(),
    );
    let got: Vec<_> = opens(&a)
        .into_iter()
        .map(|(d, p, k, _)| (d, p, k))
        .collect();
    assert_eq!(
        got,
        vec![
            (ip("10.0.0.1"), 4000, MediaKind::Audio),
            (ip("10.0.0.9"), 4500, MediaKind::Rtcp),
            (ip("10.0.0.1"), 5000, MediaKind::Video),
            (ip("10.0.0.1"), 6000, MediaKind::Image),
            (ip("10.0.0.1"), 7000, MediaKind::Audio),
            (ip("10.0.0.1"), 7001, MediaKind::Rtcp),
            (ip("10.0.0.1"), 7002, MediaKind::Audio),
            (ip("10.0.0.1"), 7003, MediaKind::Rtcp),
        ]
    );
}

#[test]
fn source_policies_fill_src() {
    for (policy, caller_src_after_answer) in [
        (MediaSourcePolicy::AnnouncedAddress, Some(ip("192.0.2.50"))),
        (MediaSourcePolicy::SamePrefix, Some(ip("192.0.2.50"))),
        (MediaSourcePolicy::SignallingPeer, Some(ip("192.0.2.77"))),
        (MediaSourcePolicy::Any, None),
    ] {
        let config = SipConfig {
            source_policy: policy,
            ..SipConfig::default()
        };
        let mut h = Harness::with(config, 8);
        // The callee's media gateway (192.0.2.50) is not its signalling proxy (192.0.2.77).
        let proxy = "192.0.2.77:5060";
        let invite = h.ok(
            &req(&D, "INVITE", 1, false, false, Some(&offer())),
            &ctx(CALLER, proxy),
        );
        let ok = h.ok(
            &resp(&D, 200, "INVITE", 1, false, Some(&answer())),
            &ctx(proxy, CALLER),
        );
        let toward_caller: Vec<_> = opens(&invite)
            .into_iter()
            .chain(opens(&ok))
            .filter(|(d, _, _, _)| *d == ip("10.0.0.1"))
            .map(|(_, _, _, s)| s)
            .collect();
        assert_eq!(
            toward_caller.last().copied().flatten(),
            caller_src_after_answer,
            "{policy:?}"
        );
        if policy == MediaSourcePolicy::SignallingPeer {
            assert_eq!(
                toward_caller[0],
                Some(ip("192.0.2.77")),
                "known at offer time"
            );
        }
    }
}

#[test]
fn a_full_table_refuses_and_counts() {
    let mut h = Harness::with(SipConfig::default(), 1);
    h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    let d2 = Dlg {
        call_id: "call-2@10.0.0.1",
        ..D
    };
    let d3 = Dlg {
        call_id: "call-3@10.0.0.1",
        ..D
    };
    let refused = [&d2, &d3]
        .iter()
        .map(|d| {
            h.feed(
                &req(d, "INVITE", 1, false, false, Some(&offer())),
                &from_caller(),
            )
        })
        .filter(|(o, a)| *o == SipOutcome::TableFull && a.is_empty())
        .count();
    assert_eq!(refused, 2);
    assert_eq!(h.insp.counters().dialogs_refused, 2);
    // Ending the call frees the slot.
    h.ok(&req(&D, "CANCEL", 1, false, false, None), &from_caller());
    h.ok(
        &req(&d2, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
}

#[test]
fn sdp_in_a_method_that_is_not_an_offer_answer_carrier_opens_nothing() {
    let mut h = Harness::new();
    establish(&mut h);
    for method in ["MESSAGE", "NEWMETHOD", "INFO", "OPTIONS"] {
        let actions = h.ok(
            &req(
                &D,
                method,
                9,
                false,
                true,
                Some(&sdp("10.9.9.9", &["m=audio 9000 RTP/AVP 0"])),
            ),
            &from_caller(),
        );
        assert!(actions.is_empty(), "{method}: {actions:?}");
    }
    assert_eq!(h.insp.counters().sdp_ignored, 4);
}

#[test]
fn update_in_an_early_dialog_is_offer_answer() {
    let mut h = Harness::new();
    h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    h.ok(
        &resp(&D, 183, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    let upd = h.ok(
        &req(
            &D,
            "UPDATE",
            2,
            false,
            true,
            Some(&sdp("10.0.0.1", &["m=audio 4100 RTP/AVP 0"])),
        ),
        &from_caller(),
    );
    assert!(opens(&upd).contains(&(
        ip("10.0.0.1"),
        4100,
        MediaKind::Audio,
        Some(ip("192.0.2.50"))
    )));
    assert!(closes(&upd).is_empty());
    let ok = h.ok(
        &resp(&D, 200, "UPDATE", 2, false, Some(&answer())),
        &from_callee(),
    );
    assert_eq!(
        closes(&ok).len(),
        1,
        "the 4000 stream retires once UPDATE succeeds"
    );
}

#[test]
fn register_keeps_a_signalling_pinhole_for_the_registration() {
    let mut h = Harness::new();
    let reg = |expires: u32| {
        format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKr{expires}\r\nFrom: <sip:alice@example.com>;tag=r1\r\nTo: <sip:alice@example.com>\r\nCall-ID: reg-1\r\nCSeq: {} REGISTER\r\nContact: <sip:alice@10.0.0.1:5062>;expires={expires}\r\nContent-Length: 0\r\n\r\n",
            expires + 1
        )
        .into_bytes()
    };
    let ok = |expires: u32| {
        format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKr{expires}\r\nFrom: <sip:alice@example.com>;tag=r1\r\nTo: <sip:alice@example.com>;tag=reg\r\nCall-ID: reg-1\r\nCSeq: {} REGISTER\r\nContact: <sip:alice@10.0.0.1:5062>;expires={expires}\r\nContent-Length: 0\r\n\r\n",
            expires + 1
        )
        .into_bytes()
    };
    let registrar = ctx("198.51.100.5:5060", CALLER);
    assert!(h.ok(&reg(600), &from_caller()).is_empty());
    let granted = h.ok(&ok(600), &registrar);
    let p = first_open(&granted);
    assert_eq!(
        (p.dst, p.dst_port, p.kind),
        (ip("10.0.0.1"), 5062, MediaKind::Signalling)
    );
    assert_eq!(p.src, Some(ip("198.51.100.5")));
    assert_eq!(p.idle_timeout, Duration::from_secs(600));
    // Unregistering closes it and forgets the registration.
    h.ok(&reg(0), &from_caller());
    let gone = h.ok(&ok(0), &registrar);
    assert_eq!(closes(&gone).len(), 1);
    assert_eq!(close_calls(&gone), vec![p.call]);
    assert!(h.insp.table().is_empty());
}

#[test]
fn early_dialogs_expire_with_their_pinholes() {
    let mut h = Harness::new();
    let invite = h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    let mut actions = Vec::new();
    let later = h.now.after(Duration::from_secs(181));
    for _ in 0..4 {
        h.insp.expire(later, &mut actions);
    }
    assert_eq!(close_calls(&actions), vec![first_open(&invite).call]);
    assert!(h.insp.table().is_empty());
    assert_eq!(h.insp.counters().dialogs_expired, 1);
}

#[test]
fn malformed_and_invalid_messages_are_counted_outcomes() {
    let mut h = Harness::new();
    let (o, a) = h.feed(b"INVITE  sip:x@y  SIP/2.0\r\n\r\n", &from_caller());
    assert!(matches!(o, SipOutcome::Malformed(_)) && a.is_empty());
    let (o, a) = h.feed(
        b"OPTIONS sip:x@y SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n",
        &from_caller(),
    );
    assert!(matches!(o, SipOutcome::Invalid(_)) && a.is_empty());
    let (o, _) = h.feed(b"\r\n\r\n", &from_caller());
    assert_eq!(o, SipOutcome::KeepAlive);
    let broken = sdp("10.0.0.1", &["m=audio x RTP/AVP 0"]);
    let (o, a) = h.feed(
        &req(&D, "INVITE", 1, false, false, Some(&broken)),
        &from_caller(),
    );
    assert!(matches!(o, SipOutcome::BadSdp(_)) && a.is_empty());
    let c = h.insp.counters();
    assert_eq!(
        (c.malformed, c.invalid, c.keepalives, c.sdp_malformed),
        (1, 1, 1, 1)
    );
}

#[test]
fn cancel_after_a_tagged_provisional_ends_the_call_and_its_487_is_expected() {
    let mut h = Harness::new();
    let invite = h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    assert!(h
        .ok(&resp(&D, 180, "INVITE", 1, false, None), &from_callee())
        .is_empty());
    // The CANCEL carries no To tag, although the 180 had one.
    let cancel = h.ok(&req(&D, "CANCEL", 1, false, false, None), &from_caller());
    assert_eq!(close_calls(&cancel), vec![first_open(&invite).call]);
    assert_eq!(h.insp.counters().dialogs_ended_cancel, 1);
    assert!(h.insp.table().is_empty());
    // The 200 to the CANCEL and the 487 to the INVITE are expected, not strays.
    assert!(h
        .ok(&resp(&D, 200, "CANCEL", 1, false, None), &from_callee())
        .is_empty());
    assert!(h
        .ok(&resp(&D, 487, "INVITE", 1, false, None), &from_callee())
        .is_empty());
    assert_eq!(h.insp.counters().unmatched_responses, 0);
    assert_eq!(h.insp.counters().unmatched_requests, 0);
    assert_eq!(h.insp.counters().dialogs_ended_rejected, 0);
}

#[test]
fn the_2xx_of_another_fork_opens_its_media_and_fixes_the_callee_tag() {
    let mut h = Harness::new();
    let fork1 = Dlg {
        callee_tag: Some("b1"),
        ..D
    };
    let fork2 = Dlg {
        callee_tag: Some("b2"),
        ..D
    };
    h.ok(
        &req(&D, "INVITE", 1, false, false, Some(&offer())),
        &from_caller(),
    );
    let early = h.ok(
        &resp(&fork1, 183, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    assert_eq!(first_open(&early).dst, ip("192.0.2.50"));
    let fork2_answer = sdp("192.0.2.60", &["m=audio 7000 RTP/AVP 0"]);
    let ok = h.ok(
        &resp(&fork2, 200, "INVITE", 1, false, Some(&fork2_answer)),
        &ctx("192.0.2.60:5060", CALLER),
    );
    let got = opens(&ok);
    assert!(got.contains(&(
        ip("192.0.2.60"),
        7000,
        MediaKind::Audio,
        Some(ip("10.0.0.1"))
    )));
    assert!(got.contains(&(
        ip("10.0.0.1"),
        4000,
        MediaKind::Audio,
        Some(ip("192.0.2.60"))
    )));
    assert!(got.iter().all(|o| o.0 != ip("192.0.2.50")), "{got:?}");
    // The first fork's early media is retired.
    assert!(closes(&ok).contains(&first_open(&early).stream));
    assert_opens_first(&ok);
    let views = h.insp.table().snapshot(h.now, 10);
    assert_eq!(views.len(), 1);
    assert!(views[0].confirmed);
    assert_eq!(views[0].callee_tag.as_deref(), Some("b2"));
    // Confirmed: the first fork's tag no longer matches.
    assert_eq!(
        h.feed(&req(&fork1, "BYE", 2, false, true, None), &from_caller())
            .0,
        SipOutcome::Unmatched
    );
    assert_eq!(h.insp.counters().unmatched_requests, 1);
    let bye = h.ok(&req(&fork2, "BYE", 2, false, true, None), &from_caller());
    assert_eq!(close_calls(&bye).len(), 1);
    assert!(h.insp.table().is_empty());
}

#[test]
fn a_retransmitted_invite_is_the_same_dialog_and_changes_nothing() {
    let mut h = Harness::new();
    let invite = req(&D, "INVITE", 1, false, false, Some(&offer()));
    h.ok(&invite, &from_caller());
    h.ok(
        &resp(&D, 183, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    let offers = h.insp.counters().offers;
    // After a tagged provisional (the INVITE still has no To tag)...
    assert!(h.ok(&invite, &from_caller()).is_empty());
    assert_eq!(h.insp.table().len(), 1);
    assert_eq!(h.insp.counters().dialogs_created, 1);
    assert_eq!(h.insp.counters().offers, offers);
    let ok = h.ok(
        &resp(&D, 200, "INVITE", 1, false, Some(&answer())),
        &from_callee(),
    );
    assert!(ok.is_empty(), "{ok:?}");
    // ...and after the 2xx.
    assert!(h.ok(&invite, &from_caller()).is_empty());
    assert_eq!(h.insp.table().len(), 1);
    assert_eq!(h.insp.counters().offers, offers);
    // A new initial INVITE cannot take over the confirmed call's identity.
    assert_eq!(
        h.feed(
            &req(&D, "INVITE", 7, false, false, Some(&offer())),
            &from_caller()
        )
        .0,
        SipOutcome::Unmatched
    );
    assert_eq!(h.insp.table().len(), 1);
    assert_eq!(h.insp.counters().dialogs_created, 1);
}
