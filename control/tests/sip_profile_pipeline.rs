//! The SIP inspect profile through the pipeline: a parameter map names a profile, an
//! INVITE the profile refuses is dropped and opens no pinhole, an allowed one opens its
//! media, and the profile's counters reach the replay report's `inspectors.sip`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;

use pinhole_control::config;
use pinhole_control::replay::report::inspector_counters;
use pinhole_dataplane::packet::build::udp4_frame;
use pinhole_dataplane::{Dataplane, DropReason, Pipeline, Timestamp, Verdict, WorkerId};
use serde_json::json;

const PHONE: &str = "10.0.0.3";
const TRUNK: &str = "192.0.2.50";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn dataplane() -> std::sync::Arc<Dataplane> {
    let doc = json!({
        "eal": ["--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [
            {"name": "phones", "port": "net_ring0", "zone": "inside", "prefixes": ["10.0.0.0/8"]},
            {"name": "wan", "port": "net_ring1", "zone": "outside", "prefixes": ["0.0.0.0/0"]}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["phones", "wan"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "sip", "rules": [{"protocol": "sip"}]}],
        "sip_profiles": [{"name": "hardening", "deny_users": ["mallory"]}],
        "parameter_maps": [{"name": "voice-params", "sip_profile": "hardening"}],
        "policy_maps": [{"name": "voice", "classes": [
            {"class": "sip", "action": "inspect", "parameter_map": "voice-params"}]}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "voice"}]
    });
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    Dataplane::new(config::compile(&cfg, 1))
}

fn send(p: &mut Pipeline, src_port: u16, payload: &[u8]) -> Verdict {
    let ingress = p.policy().interface_by_name("phones").unwrap();
    let mut frame = udp4_frame(ip(PHONE), ip(TRUNK), src_port, 5060, payload);
    let t = Timestamp::from_secs(10);
    p.begin_burst(t);
    let v = p.process(&mut frame, ingress, t);
    p.end_burst(t);
    v
}

fn invite(user: &str, call_id: &str) -> Vec<u8> {
    let body = format!(
        "v=0\r\no=- 1 1 IN IP4 {PHONE}\r\ns=-\r\nc=IN IP4 {PHONE}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n"
    );
    format!(
        "INVITE sip:bob@{TRUNK} SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE}:5060;branch=z9hG4bK{call_id}\r\n\
         From: <sip:{user}@{PHONE}>;tag=a1\r\nTo: <sip:bob@{TRUNK}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:{user}@{PHONE}:5060>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn a_dropped_invite_opens_no_pinhole_and_is_counted_in_the_report() {
    let dp = dataplane();
    let mut p = dp.worker(WorkerId(0));
    let wan = Verdict::Forward(p.policy().interface_by_name("wan").unwrap());

    assert_eq!(
        send(&mut p, 5060, &invite("mallory", "denied-1")),
        Verdict::Drop(DropReason::Inspector)
    );
    assert_eq!(dp.pinholes.len(), 0, "the dropped INVITE opened a pinhole");
    assert!(
        dp.algs.sip.is_empty(),
        "the dropped INVITE created a dialog"
    );

    // The same flow's next INVITE, from a user the profile allows, is inspected.
    assert_eq!(send(&mut p, 5060, &invite("alice", "allowed-1")), wan);
    assert!(!dp.pinholes.is_empty(), "the allowed INVITE opened nothing");
    assert_eq!(dp.algs.sip.len(), 1);

    let report = inspector_counters(&dp, &p);
    let sip = report.sip.unwrap();
    assert_eq!(sip["profile"]["user_denied"], 1, "{sip}");
    assert_eq!(sip["profile"]["dropped"], 1, "{sip}");
    assert_eq!(sip["dialogs_created"], 1, "{sip}");
}
