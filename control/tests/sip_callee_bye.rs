//! The callee's BYE on a flow of its own: a call placed from inside (through a
//! record-routing gateway, so no signalling pinhole is opened toward the phone's
//! Contact) is ended by the outside party sending BYE from another port, so the
//! request crosses the reverse zone pair on a new session. Dialogs are scoped by the zones' link, not by the zone
//! pair of the flow that created them, so the BYE is matched and the media closes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use pinhole_dataplane::{Dataplane, DropReason, Verdict, WorkerId};
use serde_json::json;

mod voice_lab;

const PHONE: &str = "10.0.0.3";
const GATEWAY: &str = "192.0.2.50";

fn dataplane(reverse_pair: bool) -> std::sync::Arc<Dataplane> {
    let mut pairs = vec![
        json!({"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "voice"}),
    ];
    if reverse_pair {
        pairs.push(json!({"name": "out-in", "source": "outside", "destination": "inside", "service_policy": "voice"}));
    }
    voice_lab::dataplane("sip", "10.0.0.0/8", json!({ "zone_pairs": pairs }))
}

fn sdp(addr: &str, port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

/// A message of the call `c1` (caller tag `p1` = the phone, callee tag `g1`).
fn msg(start: &str, cseq: &str, to_tag: bool, via: (&str, u16), body: Option<String>) -> Vec<u8> {
    let (ctype, body) = match body {
        Some(b) => ("Content-Type: application/sdp\r\n", b),
        None => ("", String::new()),
    };
    let tag = if to_tag { ";tag=g1" } else { "" };
    let (from, to) = if via.0 == GATEWAY {
        // The callee's own requests carry its tag in From.
        (
            format!("<sip:bob@{GATEWAY}>;tag=g1"),
            format!("<sip:alice@{PHONE}>;tag=p1"),
        )
    } else {
        (
            format!("<sip:alice@{PHONE}>;tag=p1"),
            format!("<sip:bob@{GATEWAY}>{tag}"),
        )
    };
    format!(
        "{start}\r\nVia: SIP/2.0/UDP {}:{};branch=z9hG4bK{}\r\nMax-Forwards: 70\r\n\
         From: {from}\r\nTo: {to}\r\nCall-ID: c1@{PHONE}\r\nCSeq: {cseq}\r\n\
         Contact: <sip:x@{}:{}>\r\nRecord-Route: <sip:{GATEWAY}:5060;lr>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
        via.0,
        via.1,
        cseq.replace(' ', "-"),
        via.0,
        via.1,
        body.len()
    )
    .into_bytes()
}

/// Set up a call from the phone; return the verdict of the gateway's BYE sent from
/// port 5070 (a new flow) and of a media packet after it.
fn call_ended_by_callee(reverse_pair: bool) -> (Verdict, Verdict, u64, usize) {
    let dp = dataplane(reverse_pair);
    let mut p = dp.worker(WorkerId(0));
    let phone = (PHONE, 5060);
    let gw = (GATEWAY, 5060);
    let invite = msg(
        &format!("INVITE sip:bob@{GATEWAY} SIP/2.0"),
        "1 INVITE",
        false,
        phone,
        Some(sdp(PHONE, 30000)),
    );
    assert!(matches!(
        voice_lab::send_udp(&mut p, phone, gw, &invite, 10),
        Verdict::Forward(_)
    ));
    let ok = msg(
        "SIP/2.0 200 OK",
        "1 INVITE",
        true,
        phone,
        Some(sdp(GATEWAY, 20000)),
    );
    assert!(matches!(
        voice_lab::send_udp(&mut p, gw, phone, &ok, 11),
        Verdict::Forward(_)
    ));
    let ack = msg(
        &format!("ACK sip:bob@{GATEWAY} SIP/2.0"),
        "1 ACK",
        true,
        phone,
        None,
    );
    assert!(matches!(
        voice_lab::send_udp(&mut p, phone, gw, &ack, 11),
        Verdict::Forward(_)
    ));
    // Media flows through the pinholes.
    let v = voice_lab::send_udp(&mut p, (GATEWAY, 20000), (PHONE, 30000), b"rtp", 12);
    assert!(
        matches!(v, Verdict::Forward(_)),
        "{v:?} {:?}",
        p.sip_counters()
    );
    assert!(!dp.pinholes.is_empty());

    let bye = msg(
        &format!("BYE sip:alice@{PHONE} SIP/2.0"),
        "1 BYE",
        true,
        (GATEWAY, 5070),
        None,
    );
    let bye_verdict = voice_lab::send_udp(&mut p, (GATEWAY, 5070), phone, &bye, 20);
    let after = voice_lab::send_udp(&mut p, (GATEWAY, 20000), (PHONE, 30000), b"rtp", 21);
    let unmatched = p
        .sip_counters()
        .iter()
        .map(|c| {
            serde_json::to_value(c).unwrap()["unmatched_requests"]
                .as_u64()
                .unwrap()
        })
        .sum();
    (bye_verdict, after, unmatched, dp.algs.sip.len())
}

#[test]
fn the_callees_bye_on_a_new_flow_ends_the_call() {
    let (bye, after, unmatched, dialogs) = call_ended_by_callee(true);
    assert!(matches!(bye, Verdict::Forward(_)), "{bye:?}");
    assert_eq!(unmatched, 0, "the BYE did not find its dialog");
    assert_eq!(dialogs, 0, "the dialog outlived its BYE");
    assert_eq!(after, Verdict::Drop(DropReason::CallEnded));
}

#[test]
fn without_a_reverse_zone_pair_the_callees_new_flow_is_refused() {
    // Nothing may come in on a new flow unless a zone pair or a pinhole admits it.
    let (bye, after, _, dialogs) = call_ended_by_callee(false);
    assert_eq!(bye, Verdict::Drop(DropReason::NoZonePair));
    assert_eq!(dialogs, 1);
    assert!(matches!(after, Verdict::Forward(_)), "{after:?}");
}
