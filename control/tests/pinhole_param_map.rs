//! A pinhole's child session runs under the parameter map of the flow that announced the
//! pinhole: signalling admitted through a registration's Contact pinhole is inspected
//! with that map's SIP profile, and media gets that map's timeouts. A push that inserts
//! a parameter map before the one in use keeps sessions on their map (by name).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use pinhole_control::config;
use pinhole_dataplane::{Dataplane, DropReason, Pipeline, Timestamp, Verdict, WorkerId};
use serde_json::{json, Value};

mod voice_lab;

const PHONE: &str = "10.0.0.3";
const REGISTRAR: &str = "192.0.2.1";
const GATEWAY: &str = "192.0.2.50";

/// The lab inspecting SIP under `voice-params` (a profile denying MESSAGE, short media
/// timeouts); `extra_maps` come before it in the document.
fn overrides(extra_maps: &[Value]) -> Value {
    let mut maps: Vec<Value> = extra_maps.to_vec();
    maps.push(json!({
        "name": "voice-params",
        "sip_profile": "hardening",
        "audit_trail": true,
        "timeouts": {"media_inactivity": 45, "max_call_duration": 600}
    }));
    json!({
        "sip_profiles": [{"name": "hardening", "deny_methods": ["MESSAGE"]}],
        "parameter_maps": maps,
        "policy_maps": [{"name": "voice", "classes": [
            {"class": "sip", "action": "inspect", "parameter_map": "voice-params"}]}]
    })
}

fn send(p: &mut Pipeline, from: (&str, u16), to: (&str, u16), payload: &[u8], at: u64) -> Verdict {
    voice_lab::send_udp(p, from, to, payload, at)
}

fn register(status: Option<&str>) -> Vec<u8> {
    let start = match status {
        None => format!("REGISTER sip:{REGISTRAR} SIP/2.0"),
        Some(s) => format!("SIP/2.0 {s}"),
    };
    let to_tag = if status.is_some() { ";tag=reg" } else { "" };
    format!(
        "{start}\r\nVia: SIP/2.0/UDP {PHONE}:5060;branch=z9hG4bKreg1\r\nFrom: <sip:alice@{REGISTRAR}>;tag=r1\r\n\
         To: <sip:alice@{REGISTRAR}>{to_tag}\r\nCall-ID: reg-1@{PHONE}\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:alice@{PHONE}:5062>;expires=600\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn message_from_registrar() -> Vec<u8> {
    let body = "hello";
    format!(
        "MESSAGE sip:alice@{PHONE}:5062 SIP/2.0\r\nVia: SIP/2.0/UDP {REGISTRAR}:5060;branch=z9hG4bKmsg1\r\n\
         From: <sip:bob@{REGISTRAR}>;tag=m1\r\nTo: <sip:alice@{PHONE}>\r\nCall-ID: msg-1@{REGISTRAR}\r\n\
         CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn sdp(addr: &str, port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

fn invite_from_registrar() -> Vec<u8> {
    let body = sdp(GATEWAY, 20000);
    format!(
        "INVITE sip:alice@{PHONE}:5062 SIP/2.0\r\nVia: SIP/2.0/UDP {REGISTRAR}:5060;branch=z9hG4bKinv1\r\n\
         From: <sip:bob@{REGISTRAR}>;tag=b1\r\nTo: <sip:alice@{PHONE}>\r\nCall-ID: call-1@{REGISTRAR}\r\n\
         CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:bob@{REGISTRAR}:5060>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn ok_from_phone() -> Vec<u8> {
    let body = sdp(PHONE, 30000);
    format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {REGISTRAR}:5060;branch=z9hG4bKinv1\r\n\
         From: <sip:bob@{REGISTRAR}>;tag=b1\r\nTo: <sip:alice@{PHONE}>;tag=a1\r\nCall-ID: call-1@{REGISTRAR}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:alice@{PHONE}:5062>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Register the phone: the registrar's answer opens the Contact pinhole.
fn registered(p: &mut Pipeline) {
    let phones = Verdict::Forward(p.policy().interface_by_name("phones").unwrap());
    let wan = Verdict::Forward(p.policy().interface_by_name("wan").unwrap());
    assert_eq!(
        send(p, (PHONE, 5060), (REGISTRAR, 5060), &register(None), 10),
        wan
    );
    assert_eq!(
        send(
            p,
            (REGISTRAR, 5060),
            (PHONE, 5060),
            &register(Some("200 OK")),
            10
        ),
        phones
    );
}

#[test]
fn signalling_through_a_contact_pinhole_meets_the_announcing_maps_sip_profile() {
    let dp = voice_lab::dataplane("sip", "10.0.0.0/8", overrides(&[]));
    let mut p = dp.worker(WorkerId(0));
    registered(&mut p);
    assert_eq!(
        send(
            &mut p,
            (REGISTRAR, 5060),
            (PHONE, 5062),
            &message_from_registrar(),
            11
        ),
        Verdict::Drop(DropReason::Inspector)
    );
}

/// The media session of a call that came in through the registration's pinhole.
fn media_session_timeouts(p: &mut Pipeline, at: u64) -> (Duration, Option<Timestamp>) {
    let phones = Verdict::Forward(p.policy().interface_by_name("phones").unwrap());
    let wan = Verdict::Forward(p.policy().interface_by_name("wan").unwrap());
    assert_eq!(
        send(
            p,
            (REGISTRAR, 5060),
            (PHONE, 5062),
            &invite_from_registrar(),
            at
        ),
        phones
    );
    assert_eq!(
        send(p, (PHONE, 5062), (REGISTRAR, 5060), &ok_from_phone(), at),
        wan
    );
    assert_eq!(
        send(p, (GATEWAY, 20000), (PHONE, 30000), b"rtp", at),
        phones
    );
    let media = p
        .sessions()
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.initiator().src.port == 20000)
        .expect("the media session");
    (media.current_timeout(), media.max_lifetime_end())
}

#[test]
fn media_of_a_call_through_a_contact_pinhole_gets_the_announcing_maps_timeouts() {
    let dp = voice_lab::dataplane("sip", "10.0.0.0/8", overrides(&[]));
    let mut p = dp.worker(WorkerId(0));
    registered(&mut p);
    let (idle, end) = media_session_timeouts(&mut p, 20);
    assert_eq!(idle, Duration::from_secs(45));
    assert_eq!(end, Some(Timestamp::from_secs(20 + 600)));
}

fn push(dp: &Dataplane, overrides: Value) {
    let doc = voice_lab::document("sip", "10.0.0.0/8", overrides);
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    dp.publish(config::compile(&cfg, 1));
}

#[test]
fn a_map_inserted_before_the_one_in_use_moves_no_session_off_its_map() {
    let dp = voice_lab::dataplane("sip", "10.0.0.0/8", overrides(&[]));
    let mut p = dp.worker(WorkerId(0));
    registered(&mut p);
    // The registration holds one session of voice-params; after the push voice-params
    // allows one session and sits behind a new map.
    let mut next = overrides(&[json!({"name": "first"})]);
    next["parameter_maps"][1]["max_sessions"] = json!(1);
    push(&dp, next);
    // The registration's flow (and the pinhole it opened) still run under voice-params:
    // its profile still denies MESSAGE.
    assert_eq!(
        send(
            &mut p,
            (REGISTRAR, 5060),
            (PHONE, 5062),
            &message_from_registrar(),
            11
        ),
        Verdict::Drop(DropReason::Inspector)
    );
    let session = p
        .sessions()
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.initiator().src.port == 5060 && s.initiator().dst.port == 5060)
        .expect("the registration session");
    let pm = session.value.parameter_map;
    assert_eq!(p.policy().parameter_map(pm).name, "voice-params");
    // Its reservation moved with it: voice-params is full.
    assert_eq!(
        send(
            &mut p,
            (PHONE, 5070),
            (REGISTRAR, 5060),
            &register(None),
            12
        ),
        Verdict::Drop(DropReason::MaxSessions)
    );
}
