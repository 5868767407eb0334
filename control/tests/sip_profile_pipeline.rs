//! The SIP inspect profile through the pipeline: a parameter map names a profile, an
//! INVITE the profile refuses is dropped and opens no pinhole, an allowed one opens its
//! media, and the profile's counters reach the replay report's `inspectors.sip`. Over
//! TCP, the retransmission of a dropped segment is dropped too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;

use pinhole_control::replay::report::InspectorCounters;
use pinhole_dataplane::packet::build::{tcp4_frame, TcpHeader};
use pinhole_dataplane::packet::{Port, TcpFlags};
use pinhole_dataplane::{Dataplane, DropReason, Pipeline, Timestamp, Verdict, WorkerId};
use serde_json::json;

mod voice_lab;

const PHONE: &str = "10.0.0.3";
const TRUNK: &str = "192.0.2.50";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn dataplane() -> std::sync::Arc<Dataplane> {
    voice_lab::dataplane(
        "sip",
        "10.0.0.0/8",
        json!({
            "sip_profiles": [{"name": "hardening", "deny_users": ["mallory"]}],
            "parameter_maps": [{"name": "voice-params", "sip_profile": "hardening"}],
            "policy_maps": [{"name": "voice", "classes": [
                {"class": "sip", "action": "inspect", "parameter_map": "voice-params"}]}]
        }),
    )
}

fn send(p: &mut Pipeline, src_port: u16, payload: &[u8]) -> Verdict {
    voice_lab::send_udp(p, (PHONE, src_port), (TRUNK, 5060), payload, 10)
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

    let report = InspectorCounters::collect(&dp, [&p]);
    let sip = report.sip.unwrap();
    assert_eq!(sip["profile"]["user_denied"], 1, "{sip}");
    assert_eq!(sip["profile"]["dropped"], 1, "{sip}");
    assert_eq!(sip["dialogs_created"], 1, "{sip}");
}

/// One TCP connection from the phone to the trunk's port 5060.
struct Tcp {
    p: Pipeline,
    phone_seq: u32,
    trunk_seq: u32,
}

impl Tcp {
    fn segment(&mut self, from_phone: bool, seq: u32, flags: TcpFlags, payload: &[u8]) -> Verdict {
        let (src, dst, sport, dport, iface) = if from_phone {
            (PHONE, TRUNK, 40000, 5060, "phones")
        } else {
            (TRUNK, PHONE, 5060, 40000, "wan")
        };
        let mut h = TcpHeader::new(Port(sport), Port(dport), flags);
        h.seq = seq;
        h.ack = if from_phone {
            self.trunk_seq
        } else {
            self.phone_seq
        };
        let mut frame = tcp4_frame(ip(src), ip(dst), &h, payload);
        let ingress = self.p.policy().interface_by_name(iface).unwrap();
        let t = Timestamp::from_secs(20);
        self.p.begin_burst(t);
        let v = self.p.process(&mut frame, ingress, t);
        self.p.end_burst(t);
        v
    }

    fn send(&mut self, from_phone: bool, flags: TcpFlags, payload: &[u8]) -> Verdict {
        let seq = if from_phone {
            self.phone_seq
        } else {
            self.trunk_seq
        };
        let v = self.segment(from_phone, seq, flags, payload);
        let advance = u32::try_from(payload.len()).unwrap()
            + u32::from(flags.contains(TcpFlags::SYN) || flags.contains(TcpFlags::FIN));
        if from_phone {
            self.phone_seq = self.phone_seq.wrapping_add(advance);
        } else {
            self.trunk_seq = self.trunk_seq.wrapping_add(advance);
        }
        v
    }
}

#[test]
fn over_tcp_a_dropped_invite_stays_dropped_when_retransmitted() {
    let dp = dataplane();
    let mut c = Tcp {
        p: dp.worker(WorkerId(0)),
        phone_seq: 1000,
        trunk_seq: 9000,
    };
    let wan = Verdict::Forward(c.p.policy().interface_by_name("wan").unwrap());
    let phones = Verdict::Forward(c.p.policy().interface_by_name("phones").unwrap());
    assert_eq!(c.send(true, TcpFlags::SYN, b""), wan);
    assert_eq!(c.send(false, TcpFlags::SYN | TcpFlags::ACK, b""), phones);
    assert_eq!(c.send(true, TcpFlags::ACK, b""), wan);

    let denied = invite("mallory", "tcp-denied");
    let seq = c.phone_seq;
    let dropped = Verdict::Drop(DropReason::Inspector);
    assert_eq!(
        c.send(true, TcpFlags::ACK | TcpFlags::PSH, &denied),
        dropped
    );
    // The phone's TCP retransmits the same bytes, whole or in part.
    assert_eq!(
        c.segment(true, seq, TcpFlags::ACK | TcpFlags::PSH, &denied),
        dropped
    );
    assert_eq!(
        c.segment(
            true,
            seq.wrapping_add(100),
            TcpFlags::ACK | TcpFlags::PSH,
            &denied[100..]
        ),
        dropped
    );
    assert!(
        dp.pinholes.is_empty(),
        "the dropped INVITE opened a pinhole"
    );
    assert!(
        dp.algs.sip.is_empty(),
        "the dropped INVITE created a dialog"
    );

    // What follows the refused bytes is inspected as usual.
    assert_eq!(
        c.send(
            true,
            TcpFlags::ACK | TcpFlags::PSH,
            &invite("alice", "tcp-allowed")
        ),
        wan
    );
    assert!(!dp.pinholes.is_empty(), "the allowed INVITE opened nothing");
}
