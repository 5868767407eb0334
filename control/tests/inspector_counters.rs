//! The inspectors' counters reports show (the replay report and the engine's stop
//! report read them the same way): summed over every worker's pipeline, with the SIP
//! dialogs and pinholes still open in the shared tables.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use pinhole_dataplane::pipeline::InspectorCounters;
use pinhole_dataplane::{Dataplane, Pipeline, Verdict, WorkerId};
mod voice_lab;

const PHONE: &str = "10.0.0.3";
const GATEWAY: &str = "192.0.2.50";

fn dataplane() -> std::sync::Arc<Dataplane> {
    voice_lab::dataplane("sip", "10.0.0.0/8", serde_json::json!({}))
}

/// A request from the phone's port `port` in call `call` (`INVITE` carries an offer).
fn request(method: &str, call: u16, port: u16) -> Vec<u8> {
    let body = if method == "INVITE" {
        format!(
            "v=0\r\no=- 1 1 IN IP4 {PHONE}\r\ns=-\r\nc=IN IP4 {PHONE}\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\n",
            30000 + 2 * call
        )
    } else {
        String::new()
    };
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:bob@{GATEWAY} SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE}:{port};branch=z9hG4bKc{call}\r\n\
         From: <sip:alice@{PHONE}>;tag=a{call}\r\nTo: <sip:bob@{GATEWAY}>\r\nCall-ID: call-{call}@{PHONE}\r\n\
         CSeq: 1 {method}\r\nContact: <sip:alice@{PHONE}:{port}>\r\nMax-Forwards: 70\r\n{content_type}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn send(p: &mut Pipeline, port: u16, payload: &[u8]) {
    let wan = p.policy().interface_by_name("wan").unwrap();
    let v = voice_lab::send_udp(p, (PHONE, port), (GATEWAY, 5060), payload, 10);
    assert_eq!(v, Verdict::Forward(wan));
}

#[test]
fn counters_are_summed_over_workers_with_what_is_still_open() {
    let dp = dataplane();
    let mut w0 = dp.worker(WorkerId(0));
    let mut w1 = dp.worker(WorkerId(1));
    // Two calls on two workers, each offer opening media pinholes toward the phone.
    send(&mut w0, 5060, &request("INVITE", 1, 5060));
    send(&mut w1, 5070, &request("INVITE", 2, 5070));

    let c = InspectorCounters::collect(&dp, [&w0, &w1]);
    assert_eq!(c.sip_counter("messages"), 2, "{c:#?}");
    assert_eq!(c.sip_counter("dialogs_created"), 2);
    assert_eq!(c.sip_dialogs_open_at_end, 2);
    let open_for_two = c.pinholes.open_at_end;
    assert!(open_for_two >= 2, "{c:#?}");
    assert_eq!(c.pinholes.opened, open_for_two);

    // The caller cancels the first call: its dialog and pinholes are gone.
    send(&mut w0, 5060, &request("CANCEL", 1, 5060));
    let c = InspectorCounters::collect(&dp, [&w0, &w1]);
    assert_eq!(c.sip_counter("messages"), 3);
    assert_eq!(c.sip_counter("dialogs_ended_cancel"), 1);
    assert_eq!(c.sip_dialogs_open_at_end, 1);
    assert_eq!(c.pinholes.open_at_end, open_for_two / 2, "{c:#?}");

    // The JSON names reports use.
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["sip_dialogs_open_at_end"], 1);
    assert_eq!(v["pinholes"]["open_at_end"], open_for_two / 2);
    assert_eq!(v["sip"]["dialogs_created"], 2);
    assert_eq!(v["skinny"]["not_inspectable"], 0);
}

#[test]
fn without_any_sip_inspector_the_sip_counters_are_absent() {
    let dp = dataplane();
    let w0 = dp.worker(WorkerId(0));
    let c = InspectorCounters::collect(&dp, [&w0]);
    let v = serde_json::to_value(&c).unwrap();
    assert!(v.get("sip").is_none(), "{v}");
    assert_eq!(v["sip_dialogs_open_at_end"], 0);
    assert_eq!(c.sip_counter("messages"), 0);
}
