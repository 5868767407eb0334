//! SIP through the pipeline: a phone's registration keeps an inbound signalling pinhole,
//! a call arriving through it is inspected like any SIP flow, and the media its offer
//! and answer negotiate crosses a policy that has no outside-to-inside zone pair.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use pinhole_dataplane::{Dataplane, DropReason, Pipeline, Verdict, WorkerId};
mod voice_lab;

const PHONE: &str = "10.0.0.3";
const REGISTRAR: &str = "192.0.2.1";
const GATEWAY: &str = "192.0.2.50";

fn dataplane() -> std::sync::Arc<Dataplane> {
    voice_lab::dataplane("sip", "10.0.0.0/8", serde_json::json!({}))
}

fn send(p: &mut Pipeline, from: (&str, u16), to: (&str, u16), payload: &[u8]) -> Verdict {
    voice_lab::send_udp(p, from, to, payload, 10)
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

fn sdp(addr: &str, port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

fn invite_from_registrar() -> Vec<u8> {
    let body = sdp(GATEWAY, 20000);
    format!(
        "INVITE sip:alice@{PHONE}:5062 SIP/2.0\r\nVia: SIP/2.0/UDP {REGISTRAR}:5060;branch=z9hG4bKinv1\r\n\
         From: <sip:bob@{REGISTRAR}>;tag=b1\r\nTo: <sip:alice@{PHONE}>\r\nCall-ID: call-1@{REGISTRAR}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:bob@{REGISTRAR}:5060>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
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

#[test]
fn inbound_call_through_a_registration_pinhole_is_inspected() {
    let dp = dataplane();
    let mut p = dp.worker(WorkerId(0));
    let phones = Verdict::Forward(p.policy().interface_by_name("phones").unwrap());
    let wan = Verdict::Forward(p.policy().interface_by_name("wan").unwrap());

    // Before registering, an inbound INVITE has no way in.
    assert_eq!(
        send(
            &mut p,
            (REGISTRAR, 5060),
            (PHONE, 5062),
            &invite_from_registrar()
        ),
        Verdict::Drop(DropReason::NoZonePair)
    );
    assert_eq!(
        send(&mut p, (PHONE, 5060), (REGISTRAR, 5060), &register(None)),
        wan
    );
    assert_eq!(
        send(
            &mut p,
            (REGISTRAR, 5060),
            (PHONE, 5060),
            &register(Some("200 OK"))
        ),
        phones
    );

    // Another source may not use the registration's pinhole.
    assert_eq!(
        send(
            &mut p,
            ("203.0.113.9", 5060),
            (PHONE, 5062),
            &invite_from_registrar()
        ),
        Verdict::Drop(DropReason::NoZonePair)
    );
    // The registrar's INVITE comes in through it, and its SDP is inspected...
    assert_eq!(
        send(
            &mut p,
            (REGISTRAR, 5060),
            (PHONE, 5062),
            &invite_from_registrar()
        ),
        phones
    );
    assert_eq!(
        send(&mut p, (PHONE, 5062), (REGISTRAR, 5060), &ok_from_phone()),
        wan
    );
    // ...so the negotiated media flows inbound although no zone pair allows it.
    assert_eq!(
        send(&mut p, (GATEWAY, 20000), (PHONE, 30000), b"rtp"),
        phones
    );
    assert_eq!(send(&mut p, (PHONE, 30000), (GATEWAY, 20000), b"rtp"), wan);
    assert_eq!(
        send(&mut p, (GATEWAY, 20000), (PHONE, 30002), b"rtp"),
        Verdict::Drop(DropReason::NoZonePair)
    );
}
