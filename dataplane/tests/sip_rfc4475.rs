//! Every message of RFC 4475 (SIP torture tests), read in place from the shared corpus,
//! against the oracle of `shared/corpora/rfc4475/README.md`: the parse outcome and
//! exactly the media endpoints an ALG would open. RFC-invalid messages open nothing;
//! policy rows (lwsstart, escruri, baddate) follow `docs/sip-parsing-policy.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::IpAddr;
use std::path::PathBuf;

use pinhole_dataplane::inspect::action::MediaKind;
use pinhole_dataplane::inspect::sip::{
    check, find_sdp, frame_stream, offer_answer_sdp, HeaderName, InvalidMessage, ParseError,
    ParseLimits, SdpError, SipMessage, StreamFrame,
};

/// One pinhole-worthy stream: kind, address, RTP port, RTCP port.
type Ep = (MediaKind, &'static str, u16, Option<u16>);

#[derive(Debug, PartialEq)]
enum Outcome {
    Parse(ParseError),
    Invalid(InvalidMessage),
    Sdp(SdpError),
    Media(Vec<(MediaKind, IpAddr, u16, Option<u16>)>),
}

use InvalidMessage::{CSeqMethodMismatch, Duplicate, Malformed, Missing};
use MediaKind::{Audio, Video};
use Outcome::{Invalid, Parse};

const NONE: &[Ep] = &[];

fn av(addr: &'static str) -> &'static [Ep] {
    // The torture tests all announce the same two streams; only the address varies.
    match addr {
        "192.0.2.4" => &[
            (Audio, "192.0.2.4", 49217, Some(49218)),
            (Video, "192.0.2.4", 3227, Some(3228)),
        ],
        "192.0.2.1" => &[
            (Audio, "192.0.2.1", 49217, Some(49218)),
            (Video, "192.0.2.1", 3227, Some(3228)),
        ],
        "192.0.2.5" => &[
            (Audio, "192.0.2.5", 49217, Some(49218)),
            (Video, "192.0.2.5", 3227, Some(3228)),
        ],
        "192.0.2.198" => &[
            (Audio, "192.0.2.198", 49217, Some(49218)),
            (Video, "192.0.2.198", 3227, Some(3228)),
        ],
        _ => unreachable!("no such fixture address"),
    }
}

fn media(eps: &[Ep]) -> Outcome {
    Outcome::Media(
        eps.iter()
            .map(|(k, a, p, r)| (*k, a.parse().unwrap(), *p, *r))
            .collect(),
    )
}

fn expected() -> Vec<(&'static str, Outcome)> {
    vec![
        // RFC-valid (3.1.1)
        ("wsinv", media(av("192.0.2.4"))),
        ("intmeth", media(NONE)),
        ("esc01", media(av("192.0.2.1"))),
        ("escnull", media(NONE)),
        ("esc02", media(NONE)),
        ("lwsdisp", media(NONE)),
        ("longreq", media(av("192.0.2.1"))),
        ("dblreq", media(NONE)),
        ("semiuri", media(NONE)),
        ("transports", media(NONE)),
        ("mpart01", media(NONE)),
        ("unreason", media(av("192.0.2.198"))),
        ("noreason", media(NONE)),
        // RFC-invalid (3.1.2): nothing opens
        ("badinv01", Invalid(Malformed(HeaderName::Via))),
        ("clerr", Parse(ParseError::TruncatedBody)),
        ("ncl", Parse(ParseError::BadContentLength)),
        ("scalar02", Invalid(Malformed(HeaderName::CSeq))),
        ("scalarlg", Invalid(Malformed(HeaderName::CSeq))),
        ("quotbal", Invalid(Malformed(HeaderName::To))),
        ("ltgtruri", Parse(ParseError::BadRequestUri)),
        ("lwsruri", Parse(ParseError::BadRequestLine)),
        // Policy: strict start line.
        ("lwsstart", Parse(ParseError::BadRequestLine)),
        ("trws", Parse(ParseError::BadRequestLine)),
        // Policy: strict Request-URI (no headers).
        ("escruri", Parse(ParseError::BadRequestUri)),
        // Policy: Date is not inspected; the SDP is sound.
        ("baddate", media(av("192.0.2.5"))),
        ("regbadct", Invalid(Malformed(HeaderName::Contact))),
        ("badaspec", Invalid(Malformed(HeaderName::To))),
        ("baddn", Parse(ParseError::UnterminatedHeaders)),
        ("badvers", Parse(ParseError::BadVersion)),
        ("mismatch01", Invalid(CSeqMethodMismatch)),
        ("mismatch02", Invalid(CSeqMethodMismatch)),
        ("bigcode", Parse(ParseError::BadStatusLine)),
        // Transaction layer (3.2) and application layer (3.3)
        ("badbranch", media(NONE)),
        ("insuf", Invalid(Missing(HeaderName::CallId))),
        ("unkscm", media(NONE)),
        ("novelsc", media(NONE)),
        ("unksm2", media(NONE)),
        ("bext01", media(NONE)),
        ("invut", media(NONE)),
        ("regaut01", media(NONE)),
        ("multi01", Invalid(Duplicate(HeaderName::CallId))),
        ("mcl01", Parse(ParseError::ConflictingContentLength)),
        ("bcast", media(av("192.0.2.198"))),
        ("zeromf", media(NONE)),
        ("cparam01", media(NONE)),
        ("cparam02", media(NONE)),
        ("regescrt", media(NONE)),
        ("sdp01", media(av("192.0.2.5"))),
        // Backward compatibility (3.4): no Content-Length, body = rest of datagram.
        (
            "inv2543",
            media(&[(Audio, "192.0.2.5", 49217, Some(49218))]),
        ),
        // Leftover file: no SIP version on the request line.
        ("test", Parse(ParseError::BadRequestLine)),
    ]
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/rfc4475")
}

fn read(name: &str) -> Vec<u8> {
    let path = corpus_dir().join(format!("{name}.dat"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn outcome(buf: &[u8]) -> Outcome {
    let limits = ParseLimits::DEFAULT;
    let msg = match SipMessage::parse(buf, &limits) {
        Ok(m) => m,
        Err(e) => return Outcome::Parse(e),
    };
    let checked = match check(&msg) {
        Ok(c) => c,
        Err(e) => return Outcome::Invalid(e),
    };
    let sdp = match offer_answer_sdp(&msg, &checked, &limits) {
        Ok(s) => s,
        Err(e) => return Outcome::Sdp(e),
    };
    let endpoints = sdp
        .iter()
        .flat_map(|s| s.endpoints())
        .filter_map(|e| {
            let (addr, port) = e.target()?;
            Some((e.kind()?, addr, port, e.rtcp_target().map(|(_, p)| p)))
        })
        .collect();
    Outcome::Media(endpoints)
}

#[test]
fn table_covers_every_file_in_the_corpus() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".dat").map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = expected().iter().map(|(n, _)| (*n).to_owned()).collect();
    in_table.sort();
    assert_eq!(on_disk.len(), 50);
    assert_eq!(on_disk, in_table);
}

#[test]
fn every_torture_message_has_the_expected_outcome() {
    let mut failures = Vec::new();
    for (name, want) in expected() {
        let got = outcome(&read(name));
        if got != want {
            failures.push(format!("{name}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dblreq_trailing_invite_is_ignored() {
    let buf = read("dblreq");
    let msg = SipMessage::parse(&buf, &ParseLimits::DEFAULT).unwrap();
    assert_eq!(
        msg.method(),
        Some(pinhole_dataplane::inspect::sip::Method::Register)
    );
    assert!(msg.body().is_empty());
    assert!(msg.len() < buf.len());
}

#[test]
fn mpart01_multipart_walker_respects_binary_boundaries() {
    let buf = read("mpart01");
    let msg = SipMessage::parse(&buf, &ParseLimits::DEFAULT).unwrap();
    assert_eq!(msg.body().len(), 553);
    let ct = msg.content_type().unwrap();
    // Two parts (text/plain, application/octet-stream), no SDP, and a clean close.
    assert_eq!(find_sdp(ct, msg.body(), &ParseLimits::DEFAULT), Ok(None));
}

#[test]
fn tcp_framing_of_the_corpus() {
    let limits = ParseLimits::DEFAULT;
    let frame = |name: &str| frame_stream(&read(name), &limits);
    // Content-Length larger than the bytes present: wait (bounded).
    assert_eq!(frame("clerr"), Ok(StreamFrame::NeedMore));
    // Header section never closed: wait.
    assert_eq!(frame("baddn"), Ok(StreamFrame::NeedMore));
    assert_eq!(frame("ncl"), Err(ParseError::BadContentLength));
    assert_eq!(frame("mcl01"), Err(ParseError::ConflictingContentLength));
    assert_eq!(frame("inv2543"), Err(ParseError::MissingContentLength));
    // dblreq on a stream is two messages: the REGISTER first.
    let dbl = read("dblreq");
    let Ok(StreamFrame::Complete(first)) = frame_stream(&dbl, &limits) else {
        panic!("dblreq REGISTER not framed")
    };
    let reg = SipMessage::parse(&dbl[..first], &limits).unwrap();
    assert_eq!(reg.len(), first);
    let rest = &dbl[first..];
    let Ok(StreamFrame::KeepAlive(n)) = frame_stream(rest, &limits) else {
        panic!("CRLF between the messages not consumed")
    };
    assert!(matches!(
        frame_stream(&rest[n..], &limits),
        Ok(StreamFrame::Complete(_))
    ));
    // Every well-framed file frames to exactly the length UDP parsing used.
    for (name, _) in expected() {
        let buf = read(name);
        if let (Ok(StreamFrame::Complete(n)), Ok(m)) = (
            frame_stream(&buf, &limits),
            SipMessage::parse(&buf, &limits),
        ) {
            assert_eq!(n, m.len(), "{name}");
        }
    }
}

#[test]
fn no_prefix_of_any_torture_message_panics() {
    let limits = ParseLimits::DEFAULT;
    for (name, _) in expected() {
        let buf = read(name);
        for end in 0..=buf.len() {
            let prefix = &buf[..end];
            let _ = frame_stream(prefix, &limits);
            let _ = outcome(prefix);
            if let Ok(m) = SipMessage::parse(prefix, &limits) {
                let _ = format!("{m:?}");
            }
        }
    }
}
