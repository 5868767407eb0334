use std::net::IpAddr;

use super::*;
use crate::inspect::action::{MediaKind, Transport};

fn parse(s: &str) -> Result<SessionDescription<'_>, SdpError> {
    SessionDescription::parse(s.as_bytes(), &ParseLimits::DEFAULT)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn media_level_connection_wins() {
    let sdp = parse("v=0\r\no=- 1 1 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0\r\nm=video 3227 RTP/AVP 31\r\nc=IN IP4 192.0.2.9\r\n").unwrap();
    let e: Vec<_> = sdp.endpoints().collect();
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].target(), Some((ip("192.0.2.4"), 49217)));
    assert_eq!(e[0].rtcp_target(), Some((ip("192.0.2.4"), 49218)));
    assert_eq!(e[0].kind(), Some(MediaKind::Audio));
    assert_eq!(e[1].target(), Some((ip("192.0.2.9"), 3227)));
    assert_eq!(e[1].kind(), Some(MediaKind::Video));
}

#[test]
fn rtcp_attribute_and_mux() {
    let sdp = parse("v=0\nc=IN IP4 10.0.0.1\nm=audio 5000 RTP/AVP 0\na=rtcp:6001 IN IP4 10.0.0.2\nm=audio 5002 RTP/SAVPF 0\na=rtcp-mux\nm=audio 5004 RTP/AVP 0\na=rtcp:7000\n").unwrap();
    let e: Vec<_> = sdp.endpoints().collect();
    assert_eq!(e[0].rtcp_target(), Some((ip("10.0.0.2"), 6001)));
    assert_eq!(e[1].rtcp, RtcpTarget::Muxed);
    assert_eq!(e[1].rtcp_target(), None);
    assert_eq!(e[2].rtcp_target(), Some((ip("10.0.0.1"), 7000)));
}

#[test]
fn t38_port_zero_and_port_counts() {
    let sdp = parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 0 RTP/AVP 0\r\nm=image 6000 udptl t38\r\nm=audio 49170/2 RTP/AVP 0\r\n").unwrap();
    let e: Vec<_> = sdp.endpoints().collect();
    assert!(e[0].is_disabled());
    assert_eq!(e[0].target(), None);
    assert_eq!(e[1].kind(), Some(MediaKind::Image));
    assert_eq!(e[1].target(), Some((ip("10.0.0.1"), 6000)));
    assert_eq!(e[1].rtcp, RtcpTarget::None);
    assert_eq!(e[2].port_count, 2);
    assert!(parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 49170/99 RTP/AVP 0\r\n").is_err());
    assert!(parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 65534/2 RTP/AVP 0\r\n").is_err());
    assert!(parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 49170/0 RTP/AVP 0\r\n").is_err());
}

#[test]
fn hold_and_directions() {
    let sdp = parse("v=0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\nm=audio 5000 RTP/AVP 0\r\nm=video 5002 RTP/AVP 31\r\na=inactive\r\n").unwrap();
    let e: Vec<_> = sdp.endpoints().collect();
    assert_eq!(e[0].address, ConnectionAddress::Unspecified);
    assert_eq!(e[0].target(), None);
    assert_eq!(e[0].direction, Direction::SendOnly);
    assert_eq!(e[1].direction, Direction::Inactive);
}

#[test]
fn ipv6_hostnames_and_tcp() {
    let sdp = parse("v=0\r\nc=IN IP6 2001:db8::5\r\nm=audio 5000 RTP/AVP 0\r\nm=audio 5002 RTP/AVP 0\r\nc=IN IP4 media.example.com\r\nm=application 9 TCP/BFCP *\r\n").unwrap();
    let e: Vec<_> = sdp.endpoints().collect();
    assert_eq!(e[0].target(), Some((ip("2001:db8::5"), 5000)));
    assert_eq!(e[1].address, ConnectionAddress::Name(b"media.example.com"));
    assert_eq!(e[1].target(), None);
    assert_eq!(e[2].transport, Transport::Tcp);
    assert_eq!(e[2].rtcp, RtcpTarget::None);
}

#[test]
fn refusals() {
    assert_eq!(parse("o=x\r\nv=0\r\n").unwrap_err(), SdpError::BadVersion);
    assert_eq!(
        parse("v=0\r\ntesting=123\r\n").unwrap_err(),
        SdpError::BadLine
    );
    assert_eq!(
        parse("v=0\r\nm =video 3227 RTP/AVP 31\r\n").unwrap_err(),
        SdpError::BadLine
    );
    assert_eq!(
        parse("v=0\r\nm=audio 5000 RTP/AVP 0\r\n").unwrap_err(),
        SdpError::MissingConnection
    );
    assert_eq!(
        parse("v=0\r\nc=IN IP4 192&168%s\r\n").unwrap_err(),
        SdpError::BadConnection
    );
    assert_eq!(
        parse("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n").unwrap_err(),
        SdpError::BadMedia
    );
    assert_eq!(
        parse("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5000 RTP/AVP\r\n").unwrap_err(),
        SdpError::BadMedia
    );
    assert_eq!(parse("").unwrap_err(), SdpError::BadVersion);
    let many = format!(
        "v=0\r\nc=IN IP4 1.2.3.4\r\n{}",
        "m=audio 5000 RTP/AVP 0\r\n".repeat(17)
    );
    assert_eq!(parse(&many).unwrap_err(), SdpError::TooManyMedia);
}

#[test]
fn crypto_lines_are_accepted_and_their_keys_never_reach_debug_output() {
    let key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2VuZA";
    let text = format!("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^20|1:4\r\na=crypto:2 garbled\r\n");
    let sdp = parse(&text).unwrap();
    let m = sdp.media()[0];
    assert_eq!(m.port, 5000);
    assert_eq!(sdp.endpoints().count(), 1);
    for shown in [format!("{sdp:?}"), format!("{m:?}"), format!("{sdp:#?}")] {
        assert!(!shown.contains("WVNfX19z"), "key leaked: {shown}");
        assert!(!shown.contains("AES_CM"), "crypto line kept: {shown}");
    }
}
