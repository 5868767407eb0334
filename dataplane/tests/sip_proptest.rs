//! Property tests of the SIP and SDP parsers: arbitrary bytes never panic, generated
//! valid messages round-trip their fields, and TCP framing is independent of how the
//! stream is segmented.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;

use proptest::prelude::*;

use pinhole_dataplane::inspect::action::MediaKind;
use pinhole_dataplane::inspect::sip::sdp::SessionDescription;
use pinhole_dataplane::inspect::sip::{
    check, frame_stream, offer_answer_sdp, ParseLimits, SipMessage, StreamFrame,
};

const LIMITS: ParseLimits = ParseLimits::DEFAULT;

/// Run every entry point on `bytes`; the only property is "returns".
fn exercise(bytes: &[u8]) {
    let _ = frame_stream(bytes, &LIMITS);
    let _ = SessionDescription::parse(bytes, &LIMITS).map(|s| s.endpoints().count());
    if let Ok(msg) = SipMessage::parse(bytes, &LIMITS) {
        let _ = format!("{msg:?}");
        let _ = msg.vias().count();
        let _ = msg.contacts().count();
        if let Ok(checked) = check(&msg) {
            if let Ok(Some(sdp)) = offer_answer_sdp(&msg, &checked, &LIMITS) {
                for e in sdp.endpoints() {
                    let _ = (e.target(), e.rtcp_target());
                }
            }
        }
    }
}

const SEED: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
From: \"A\" <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
Call-ID: c1@10.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:a@10.0.0.1>\r\n\
Content-Type: multipart/mixed;boundary=b\r\nContent-Length: 139\r\n\r\n\
--b\r\nContent-Type: application/sdp\r\n\r\n\
v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000/2 RTP/AVP 0\r\na=rtcp:4001\r\nm=image 5000 udptl t38\r\n\r\n--b--\r\n";

#[derive(Clone, Debug)]
struct Call {
    method: &'static str,
    call_id: String,
    from_tag: String,
    to_tag: Option<String>,
    cseq: u32,
    via_host: Ipv4Addr,
    via_port: u16,
    media_addr: Ipv4Addr,
    audio_port: u16,
    video_port: Option<u16>,
    compact: bool,
    fold: bool,
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.!%*_+`'~-]{1,24}"
}

fn call() -> impl Strategy<Value = Call> {
    (
        prop::sample::select(vec!["INVITE", "ACK", "UPDATE", "PRACK"]),
        (
            "[A-Za-z0-9.!%*_+~-]{1,20}",
            prop::option::of("[a-z0-9.-]{1,12}"),
        ),
        (token(), prop::option::of(token())),
        any::<u32>(),
        (any::<[u8; 4]>(), 1u16..),
        (any::<[u8; 4]>(), 1u16..65534, prop::option::of(1u16..65534)),
        (any::<bool>(), any::<bool>()),
    )
        .prop_filter("unspecified address means hold", |c| c.5 .0 != [0, 0, 0, 0])
        .prop_map(
            |(
                method,
                (id, host),
                (from_tag, to_tag),
                cseq,
                (vh, vp),
                (ma, ap, vid),
                (compact, fold),
            )| Call {
                method,
                call_id: match host {
                    Some(h) => format!("{id}@{h}"),
                    None => id,
                },
                from_tag,
                to_tag,
                cseq,
                via_host: Ipv4Addr::from(vh),
                via_port: vp,
                media_addr: Ipv4Addr::from(ma),
                audio_port: ap,
                video_port: vid,
                compact,
                fold,
            },
        )
}

fn render(c: &Call) -> Vec<u8> {
    let (via, from, to, cid, ct, cl) = if c.compact {
        ("v", "f", "t", "i", "c", "l")
    } else {
        (
            "Via",
            "From",
            "To",
            "Call-ID",
            "Content-Type",
            "Content-Length",
        )
    };
    let mut sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\nm=audio {p} RTP/AVP 0 8\r\n",
        a = c.media_addr,
        p = c.audio_port
    );
    if let Some(v) = c.video_port {
        sdp.push_str(&format!("m=video {v} RTP/AVP 31\r\na=rtcp-mux\r\n"));
    }
    let fold = if c.fold { "\r\n " } else { " " };
    let to_tag = c
        .to_tag
        .as_ref()
        .map(|t| format!(";tag={t}"))
        .unwrap_or_default();
    format!(
        "{m} sip:bob@example.com SIP/2.0\r\n\
{via}: SIP/2.0/UDP {vh}:{vp};branch=z9hG4bK{tag}\r\n\
{from}: \"Alice\"{fold}<sip:alice@example.com>;tag={tag}\r\n\
{to}: <sip:bob@example.com>{to_tag}\r\n\
{cid}: {id}\r\n\
CSeq:{fold}{seq} {m}\r\n\
{ct}: application/sdp\r\n\
{cl}: {len}\r\n\r\n{sdp}",
        m = c.method,
        vh = c.via_host,
        vp = c.via_port,
        tag = c.from_tag,
        id = c.call_id,
        seq = c.cseq,
        len = sdp.len(),
    )
    .into_bytes()
}

/// Feed `chunks` through a reassembly buffer the way a TCP connection would.
fn reassemble<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Result<Vec<Vec<u8>>, String> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match frame_stream(&buf, &LIMITS).map_err(|e| e.to_string())? {
                StreamFrame::Complete(n) => {
                    out.push(buf[..n].to_vec());
                    buf.drain(..n);
                }
                StreamFrame::KeepAlive(n) => {
                    buf.drain(..n);
                }
                StreamFrame::NeedMore => break,
            }
        }
    }
    if buf.is_empty() {
        Ok(out)
    } else {
        Err(format!("{} bytes left over", buf.len()))
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = SEED.to_vec();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        exercise(&bytes);
        exercise(&bytes[..cut.index(bytes.len() + 1)]);
    }

    #[test]
    fn sip_alphabet_soup_never_panics(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                "\r\n", " ", "\t", ":", ";", ",", "\"", "\\", "<", ">", "=", "/", "@", "[", "]",
                "SIP/2.0", "INVITE", "Via", "v", "l", "Content-Length", "0", "99999999999",
                "sip:", "v=0", "m=audio", "c=IN IP4 ", "1.2.3.4", "--", "boundary",
            ]),
            0..64,
        )
    ) {
        exercise(parts.concat().as_bytes());
    }

    #[test]
    fn generated_messages_round_trip(c in call()) {
        let bytes = render(&c);
        let msg = SipMessage::parse(&bytes, &LIMITS).unwrap();
        prop_assert_eq!(msg.len(), bytes.len());
        let checked = check(&msg).unwrap();
        prop_assert_eq!(checked.call_id, c.call_id.as_bytes());
        prop_assert_eq!(checked.from.tag(), Some(c.from_tag.as_bytes()));
        prop_assert_eq!(checked.to.tag(), c.to_tag.as_ref().map(|t| t.as_bytes()));
        prop_assert_eq!(checked.cseq.seq, c.cseq);
        prop_assert_eq!(checked.top_via.host.ip(), Some(c.via_host.into()));
        prop_assert_eq!(checked.top_via.port, Some(c.via_port));
        let sdp = offer_answer_sdp(&msg, &checked, &LIMITS).unwrap().unwrap();
        let eps: Vec<_> = sdp.endpoints().collect();
        prop_assert_eq!(eps[0].kind(), Some(MediaKind::Audio));
        prop_assert_eq!(eps[0].target(), Some((c.media_addr.into(), c.audio_port)));
        prop_assert_eq!(eps[0].rtcp_target(), Some((c.media_addr.into(), c.audio_port + 1)));
        match c.video_port {
            Some(v) => {
                prop_assert_eq!(eps[1].target(), Some((c.media_addr.into(), v)));
                prop_assert_eq!(eps[1].rtcp_target(), None);
            }
            None => prop_assert_eq!(eps.len(), 1),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn tcp_framing_is_independent_of_segmentation(
        calls in prop::collection::vec(call(), 1..4),
        keepalive in any::<bool>(),
    ) {
        let messages: Vec<Vec<u8>> = calls.iter().map(render).collect();
        let mut stream = Vec::new();
        for m in &messages {
            stream.extend_from_slice(m);
            if keepalive {
                stream.extend_from_slice(b"\r\n\r\n");
            }
        }
        let whole = reassemble(std::iter::once(&stream[..])).unwrap();
        prop_assert_eq!(&whole, &messages);
        for split in 0..=stream.len() {
            let (a, b) = stream.split_at(split);
            let got = reassemble([a, b].into_iter()).unwrap();
            prop_assert_eq!(&got, &messages, "split at {}", split);
        }
        // Byte by byte, the worst segmentation.
        let got = reassemble(stream.chunks(1)).unwrap();
        prop_assert_eq!(&got, &messages);
    }
}
