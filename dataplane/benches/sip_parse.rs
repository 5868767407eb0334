//! Cost of a typical call setup: an INVITE with an SDP offer and its 200 OK with the
//! answer, through framing, parsing, checks and endpoint resolution; and the whole
//! inspector (dialog table, offer/answer, pinhole requests) over a call's INVITE, 200 OK
//! and BYE.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use pinhole_dataplane::inspect::action::{FlowContext, InspectAction, Transport};
use pinhole_dataplane::inspect::sip::{
    check, frame_stream, offer_answer_sdp, DialogTable, ParseLimits, SipConfig, SipInspector,
    SipMessage, SipOutcome, StreamFrame,
};
use pinhole_dataplane::{Timestamp, ZoneLink};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@192.0.2.101:5060>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, OPTIONS\r\n\
Supported: 100rel, timer\r\n\
User-Agent: bench/1.0\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 237\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=sendrecv\r\n\
m=video 51372 RTP/AVP 31\r\n";

const OK: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.101;rport=5060\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:bob@192.0.2.4:5060>\r\n\
Record-Route: <sip:p1.example.com;lr>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 176\r\n\
\r\n\
v=0\r\n\
o=bob 2808844564 2808844564 IN IP4 192.0.2.4\r\n\
s=-\r\n\
c=IN IP4 192.0.2.4\r\n\
t=0 0\r\n\
m=audio 3456 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtcp:3460\r\n\
m=video 0 RTP/AVP 31\r\n\
a=rtcp-mux\r\n";

/// The caller's BYE ending the call of [`INVITE`] and [`OK`].
const BYE: &[u8] = b"BYE sip:bob@192.0.2.4:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhdt;rport\r\n\
Max-Forwards: 70\r\n\
Route: <sip:p1.example.com;lr>\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314160 BYE\r\n\
Content-Length: 0\r\n\
\r\n";

/// One call through a SIP inspector: INVITE, 200 OK, BYE; returns the actions asked for.
fn call(insp: &mut SipInspector, now: Timestamp, actions: &mut Vec<InspectAction>) -> usize {
    let link = ZoneLink::between("inside", "outside");
    let caller = FlowContext {
        src: "192.0.2.101:5060"
            .parse()
            .unwrap_or(([0, 0, 0, 0], 0).into()),
        dst: "192.0.2.4:5060".parse().unwrap_or(([0, 0, 0, 0], 0).into()),
        transport: Transport::Udp,
        zone_link: link,
    };
    let callee = FlowContext {
        src: caller.dst,
        dst: caller.src,
        ..caller
    };
    actions.clear();
    let mut inspected = 0;
    for (bytes, ctx) in [(INVITE, &caller), (OK, &callee), (BYE, &caller)] {
        if insp.inspect(black_box(bytes), ctx, now, actions) == SipOutcome::Inspected {
            inspected += 1;
        }
    }
    inspected + actions.len()
}

fn inspect(bytes: &[u8], limits: &ParseLimits) -> usize {
    let Ok(msg) = SipMessage::parse(bytes, limits) else {
        return 0;
    };
    let Ok(checked) = check(&msg) else {
        return 0;
    };
    match offer_answer_sdp(&msg, &checked, limits) {
        Ok(Some(sdp)) => sdp.endpoints().filter_map(|e| e.target()).count(),
        _ => 0,
    }
}

fn bench(c: &mut Criterion) {
    let limits = ParseLimits::DEFAULT;
    assert_eq!(
        inspect(INVITE, &limits),
        2,
        "bench INVITE must announce two streams"
    );
    assert_eq!(
        inspect(OK, &limits),
        1,
        "bench 200 OK must announce one stream"
    );
    let mut group = c.benchmark_group("sip_parse");
    group.throughput(Throughput::Bytes((INVITE.len() + OK.len()) as u64));
    group.bench_function("invite_and_200_ok", |b| {
        b.iter(|| inspect(black_box(INVITE), &limits) + inspect(black_box(OK), &limits))
    });
    // The whole inspector: per call of three messages (divide by 3 for per message).
    let mut insp = SipInspector::new(
        Arc::new(SipConfig::default()),
        Arc::new(DialogTable::new(64, 4096)),
    );
    let mut actions = Vec::new();
    let now = Timestamp::from_secs(1000);
    let per_call = call(&mut insp, now, &mut actions);
    assert!(
        per_call >= 3 + 4,
        "the bench call must be inspected and open media: {actions:?}"
    );
    group.bench_function("inspector_invite_200_ok_bye", |b| {
        b.iter(|| call(&mut insp, now, &mut actions))
    });
    group.bench_function("message_head_only", |b| {
        b.iter(|| SipMessage::parse(black_box(INVITE), &limits).map(|m| m.header_count()))
    });
    group.bench_function("tcp_frame", |b| {
        b.iter(|| match frame_stream(black_box(INVITE), &limits) {
            Ok(StreamFrame::Complete(n)) => n,
            _ => 0,
        })
    });
    group.finish();
}

// criterion_group! expands to an undocumented `pub fn benches()`.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}

criterion_main!(group::benches);
