//! Table-driven tests of `packet::parse` and `packet::parse_ip` over hand-built
//! frames: every supported shape, and every named parse error.

// Test helpers outside #[test] functions panic on an unexpected shape, by design.
#![allow(clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pinhole_dataplane::packet::build::{self, Ipv4Header, TcpHeader};
use pinhole_dataplane::packet::{
    parse, parse_ip, EtherType, IpProtocol, IpVersion, L2Summary, L4Summary, PacketSummary,
    ParseError, Parsed, Port, TcpFlags, VlanId,
};

const A4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const B4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

fn ip(frame: &[u8]) -> PacketSummary {
    match parse(frame) {
        Ok(Parsed::Ip(summary)) => summary,
        other => panic!("expected an IP packet, got {other:?}"),
    }
}

fn udp4(payload: &[u8]) -> Vec<u8> {
    Ipv4Header::new(A4, B4, IpProtocol::UDP).build(&build::udp(Port(5060), Port(5061), payload))
}

fn udp6_payload(payload: &[u8]) -> Vec<u8> {
    build::udp(Port(5060), Port(5061), payload)
}

fn eth(ip: &[u8]) -> Vec<u8> {
    build::ethernet_ip(ip)
}

fn udp_of(summary: &PacketSummary) -> pinhole_dataplane::packet::UdpSummary {
    match summary.l4 {
        L4Summary::Udp(udp) => udp,
        other => panic!("expected UDP, got {other:?}"),
    }
}

// ---------------------------------------------------------------- shapes

#[test]
fn padded_60_byte_udp_frame_excludes_ethernet_padding() {
    let frame = build::pad(eth(&udp4(b"abcd")));
    assert_eq!(frame.len(), 60);
    let s = ip(&frame);
    assert_eq!(s.version, IpVersion::V4);
    assert_eq!(s.src, IpAddr::V4(A4));
    assert_eq!(s.dst, IpAddr::V4(B4));
    assert_eq!(s.protocol, IpProtocol::UDP);
    assert_eq!(s.hop_limit, 64);
    assert_eq!(s.l3_offset, 14);
    assert_eq!(s.ip_len, 32);
    assert_eq!(s.l4_offset, 34);
    assert_eq!(s.l4_len, 12);
    assert_eq!(s.ports(), Some((Port(5060), Port(5061))));
    let udp = udp_of(&s);
    assert_eq!((udp.payload_offset, udp.payload_len), (42, 4));
    let payload = s.payload_range().and_then(|r| frame.get(r));
    assert_eq!(payload, Some(&b"abcd"[..]));
    assert_eq!(s.fragment, None);
    assert!(!s.is_fragment());
    assert_eq!(s.l2.ethertype, EtherType::IPV4);
    assert_eq!(s.l2.src_mac, build::SRC_MAC);
    assert_eq!(s.l2.dst_mac, build::DST_MAC);
    assert_eq!((s.l2.outer_vlan, s.l2.inner_vlan), (None, None));
}

#[test]
fn udp_length_is_judged_against_ip_length_not_padding() {
    // UDP claims 10 payload bytes; IP carries 4. The padding holds enough bytes, but
    // they are not part of the datagram.
    let mut datagram = udp4(b"abcd");
    datagram[20 + 4..20 + 6].copy_from_slice(&18u16.to_be_bytes());
    let frame = build::pad(eth(&datagram));
    assert_eq!(parse(&frame), Err(ParseError::BadUdpLength));
}

#[test]
fn single_vlan_tag() {
    let frame = build::ethernet(
        build::DST_MAC,
        build::SRC_MAC,
        &[(EtherType::VLAN, 0x2064)],
        EtherType::IPV4,
        &udp4(b"x"),
    );
    let s = ip(&frame);
    assert_eq!(s.l2.outer_vlan, Some(VlanId(100)));
    assert_eq!(s.l2.inner_vlan, None);
    assert_eq!(s.l3_offset, 18);
    assert_eq!(s.l4_offset, 38);
}

#[test]
fn qinq_with_both_outer_tpids() {
    for outer in [EtherType::QINQ, EtherType::QINQ_LEGACY, EtherType::VLAN] {
        let frame = build::ethernet(
            build::DST_MAC,
            build::SRC_MAC,
            &[(outer, 200), (EtherType::VLAN, 0xf00a)],
            EtherType::IPV4,
            &udp4(b"x"),
        );
        let s = ip(&frame);
        assert_eq!(s.l2.outer_vlan, Some(VlanId(200)), "{outer:?}");
        assert_eq!(s.l2.inner_vlan, Some(VlanId(10)), "{outer:?}");
        assert_eq!(s.l3_offset, 22);
        assert_eq!(s.l2.ethertype, EtherType::IPV4);
    }
}

#[test]
fn non_ip_frames_come_back_with_their_ethertype() {
    let arp = build::pad(build::ethernet(
        build::DST_MAC,
        build::SRC_MAC,
        &[(EtherType::VLAN, 7)],
        EtherType::ARP,
        &[0; 28],
    ));
    match parse(&arp) {
        Ok(Parsed::NonIp(l2)) => {
            assert_eq!(l2.ethertype, EtherType::ARP);
            assert_eq!(l2.outer_vlan, Some(VlanId(7)));
            assert_eq!(l2.payload_offset, 18);
        }
        other => panic!("{other:?}"),
    }
    let stp = build::pad(build::ethernet(
        build::DST_MAC,
        build::SRC_MAC,
        &[],
        EtherType(38),
        &[0x42; 38],
    ));
    let parsed = parse(&stp);
    assert!(matches!(parsed, Ok(Parsed::NonIp(l2)) if l2.ethertype.is_length()));
    assert_eq!(parsed.map(|p| p.ip().is_none()), Ok(true));
}

#[test]
fn ipv4_options_are_skipped_and_source_route_flagged() {
    let mut header = Ipv4Header::new(A4, B4, IpProtocol::UDP);
    // NOP, NOP, Record Route (7, len 11, ptr 4, two addresses' room), padded to 12.
    header.options = vec![1, 1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0];
    header.options.truncate(12);
    header.options[3] = 10; // Record Route of 10 bytes fits in the 12 with padding.
    let s = ip(&eth(&header.build(&build::udp(Port(1), Port(2), b"hi"))));
    assert_eq!(s.l4_offset, 14 + 32);
    assert!(!s.source_routed);
    assert_eq!(udp_of(&s).payload_len, 2);

    header.options = vec![0x83, 7, 4, 10, 0, 0, 1, 0];
    let s = ip(&eth(&header.build(&build::udp(Port(1), Port(2), b"hi"))));
    assert!(s.source_routed);
    assert_eq!(s.l4_offset, 14 + 28);
}

#[test]
fn tcp_with_options_and_flags() {
    let mut tcp = TcpHeader::new(Port(40000), Port(2000), TcpFlags::SYN | TcpFlags::ACK);
    tcp.seq = 0x0102_0304;
    tcp.ack = 0xa0b0_c0d0;
    tcp.window = 29200;
    tcp.options = vec![2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7];
    let frame = build::tcp4_frame(A4, B4, &tcp, b"hello");
    let s = ip(&frame);
    let L4Summary::Tcp(t) = s.l4 else {
        panic!("{:?}", s.l4)
    };
    assert_eq!((t.src_port, t.dst_port), (Port(40000), Port(2000)));
    assert_eq!((t.seq, t.ack, t.window), (0x0102_0304, 0xa0b0_c0d0, 29200));
    assert!(t.flags.syn() && t.flags.ack());
    assert!(!t.flags.fin() && !t.flags.rst() && !t.flags.psh() && !t.flags.urg());
    assert_eq!(t.payload_offset, 14 + 20 + 32);
    assert_eq!(t.payload_len, 5);
    assert_eq!(
        s.payload_range().and_then(|r| frame.get(r)),
        Some(&b"hello"[..])
    );
}

#[test]
fn tcp_flag_helpers_each_see_their_bit() {
    type Helper = fn(TcpFlags) -> bool;
    let cases: [(TcpFlags, Helper); 6] = [
        (TcpFlags::FIN, TcpFlags::fin),
        (TcpFlags::SYN, TcpFlags::syn),
        (TcpFlags::RST, TcpFlags::rst),
        (TcpFlags::PSH, TcpFlags::psh),
        (TcpFlags::ACK, TcpFlags::ack),
        (TcpFlags::URG, TcpFlags::urg),
    ];
    for (i, (flag, helper)) in cases.iter().enumerate() {
        assert!(helper(*flag));
        for (j, (other, _)) in cases.iter().enumerate() {
            assert_eq!(helper(*other), i == j);
        }
    }
}

#[test]
fn icmp_echo_and_error() {
    let echo = build::icmp(8, 0, build::echo_rest(0x1234, 9), b"ping");
    let s = ip(&eth(&Ipv4Header::new(A4, B4, IpProtocol::ICMP).build(&echo)));
    let L4Summary::Icmp(icmp) = s.l4 else {
        panic!("{:?}", s.l4)
    };
    assert_eq!((icmp.icmp_type, icmp.code), (8, 0));
    assert_eq!(icmp.echo.map(|e| (e.id, e.seq)), Some((0x1234, 9)));
    assert!(!icmp.is_error());

    let offending = udp4(b"sip");
    let unreachable = build::icmp(3, 3, [0; 4], &offending[..28]);
    let s = ip(&eth(
        &Ipv4Header::new(B4, A4, IpProtocol::ICMP).build(&unreachable)
    ));
    let L4Summary::Icmp(icmp) = s.l4 else {
        panic!("{:?}", s.l4)
    };
    assert_eq!(icmp.echo, None);
    assert_eq!(icmp.embedded_offset, Some(14 + 20 + 8));
    // The embedded header is the offending packet's.
    let inner = icmp.embedded_offset.map(|o| o as usize).unwrap_or_default();
    let frame = eth(&Ipv4Header::new(B4, A4, IpProtocol::ICMP).build(&unreachable));
    assert_eq!(frame.get(inner..inner + 20), offending.get(..20));
}

#[test]
fn icmpv6_echo_reply() {
    let echo = build::icmp(129, 0, build::echo_rest(77, 3), b"pong");
    let s = ip(&eth(&build::ipv6(A6, B6, IpProtocol::ICMPV6, 255, &echo)));
    let L4Summary::Icmpv6(icmp) = s.l4 else {
        panic!("{:?}", s.l4)
    };
    assert_eq!(icmp.icmp_type, 129);
    assert_eq!(icmp.echo.map(|e| (e.id, e.seq)), Some((77, 3)));
    assert_eq!(s.hop_limit, 255);
    assert_eq!(s.version, IpVersion::V6);
}

#[test]
fn icmp_numbers_in_the_wrong_ip_version_are_opaque() {
    let message = build::icmp(128, 0, [0; 4], b"");
    let s = ip(&eth(
        &Ipv4Header::new(A4, B4, IpProtocol::ICMPV6).build(&message)
    ));
    assert_eq!(s.l4, L4Summary::Other(IpProtocol::ICMPV6));
}

#[test]
fn ipv6_extension_chain_is_walked() {
    let mut payload = build::ipv6_extension(IpProtocol::ROUTING, &[1, 4, 0, 0, 0, 0]);
    // Routing header: type 0 would be byte 2; segments left (byte 3) is 0.
    payload.extend(build::ipv6_extension(
        IpProtocol::DESTINATION_OPTIONS,
        &[0, 0, 0, 0, 0, 0],
    ));
    payload.extend(build::ipv6_extension(
        IpProtocol::UDP,
        &[1, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    ));
    payload.extend(udp6_payload(b"invite"));
    let frame = eth(&build::ipv6(A6, B6, IpProtocol::HOP_BY_HOP, 64, &payload));
    let s = ip(&frame);
    assert_eq!(s.protocol, IpProtocol::UDP);
    assert_eq!(s.l4_offset, 14 + 40 + 8 + 8 + 16);
    assert!(!s.source_routed);
    assert_eq!(s.src, IpAddr::V6(A6));
    assert_eq!(s.dst, IpAddr::V6(B6));
    assert_eq!(
        s.payload_range().and_then(|r| frame.get(r)),
        Some(&b"invite"[..])
    );
}

#[test]
fn ipv6_routing_header_with_segments_left_is_source_routed() {
    let mut payload = build::ipv6_extension(IpProtocol::UDP, &[0, 1, 0, 0, 0, 0]);
    payload.extend(udp6_payload(b""));
    let s = ip(&eth(&build::ipv6(
        A6,
        B6,
        IpProtocol::ROUTING,
        64,
        &payload,
    )));
    assert!(s.source_routed);
}

#[test]
fn ipv6_ah_then_tcp_and_opaque_esp_and_no_next_header() {
    // AH: next header, payload len (in 4-byte units minus 2) = 4 -> 24 bytes.
    let mut ah = vec![IpProtocol::TCP.0, 4, 0, 0];
    ah.extend([0u8; 20]);
    ah.extend(TcpHeader::new(Port(1), Port(2), TcpFlags::SYN).build(b""));
    let s = ip(&eth(&build::ipv6(A6, B6, IpProtocol::AH, 64, &ah)));
    assert_eq!(s.protocol, IpProtocol::TCP);
    assert_eq!(s.l4_offset, 14 + 40 + 24);
    assert!(matches!(s.l4, L4Summary::Tcp(t) if t.flags.syn()));

    let s = ip(&eth(&build::ipv6(A6, B6, IpProtocol::ESP, 64, &[0xee; 24])));
    assert_eq!(s.l4, L4Summary::Other(IpProtocol::ESP));
    let s = ip(&eth(&build::ipv6(
        A6,
        B6,
        IpProtocol::NO_NEXT_HEADER,
        64,
        &[],
    )));
    assert_eq!(s.l4, L4Summary::Other(IpProtocol::NO_NEXT_HEADER));
    assert_eq!(s.l4_len, 0);
}

#[test]
fn other_protocols_are_opaque() {
    let s = ip(&eth(&Ipv4Header::new(A4, B4, IpProtocol(47)).build(&[0; 8])));
    assert_eq!(s.l4, L4Summary::Other(IpProtocol(47)));
    assert_eq!(s.ports(), None);
    assert_eq!(s.payload_range(), None);
}

#[test]
fn ipv4_fragments_first_and_later() {
    let datagram = udp4(&[0x55; 100]);
    let fragments = build::fragment_ipv4(&datagram, 48);
    assert_eq!(fragments.len(), 3);
    let first = ip(&eth(&fragments[0]));
    let f = first.fragment.unwrap();
    assert!(first.is_fragment() && f.is_first() && f.more && !f.is_last());
    assert_eq!((f.offset, f.data_len, f.header_len), (0, 48, 20));
    let udp = udp_of(&first);
    assert_eq!(
        udp.payload_len, 40,
        "first fragment carries a prefix of the payload"
    );

    let second = ip(&eth(&fragments[1]));
    assert_eq!(second.l4, L4Summary::NonFirstFragment);
    let f = second.fragment.unwrap();
    assert_eq!((f.offset, f.data_len, f.more), (48, 48, true));
    assert_eq!(second.protocol, IpProtocol::UDP);
    assert_eq!(second.ports(), None);

    let last = ip(&eth(&fragments[2]));
    let f = last.fragment.unwrap();
    assert_eq!(
        (f.offset, f.data_len, f.more, f.end()),
        (96, 12, false, 108)
    );
}

#[test]
fn ipv6_fragments_first_later_and_atomic() {
    let mut upper = build::ipv6_extension(IpProtocol::UDP, &[0; 6]);
    upper.extend(udp6_payload(&[7; 100]));
    let datagram = build::ipv6(A6, B6, IpProtocol::DESTINATION_OPTIONS, 64, &upper);
    let fragments = build::fragment_ipv6(&datagram, 64, 0xdead_beef);
    assert_eq!(fragments.len(), 2);
    let first = ip(&eth(&fragments[0]));
    let f = first.fragment.unwrap();
    assert_eq!(
        (f.id, f.offset, f.more, f.header_len, f.next_header_field),
        (0xdead_beef, 0, true, 40, 6)
    );
    assert_eq!(f.next_header, IpProtocol::DESTINATION_OPTIONS);
    assert_eq!(
        first.protocol,
        IpProtocol::UDP,
        "the walk continues past the Fragment header"
    );
    assert_eq!(first.l4_offset, 14 + 40 + 8 + 8);
    assert!(matches!(first.l4, L4Summary::Udp(_)));

    let second = ip(&eth(&fragments[1]));
    let f = second.fragment.unwrap();
    assert_eq!((f.offset, f.more), (64, false));
    assert_eq!(second.l4, L4Summary::NonFirstFragment);
    assert_eq!(second.protocol, IpProtocol::DESTINATION_OPTIONS);

    let mut atomic = build::ipv6_fragment_header(IpProtocol::UDP, 0, false, 5).to_vec();
    atomic.extend(udp6_payload(b"whole"));
    let s = ip(&eth(&build::ipv6(
        A6,
        B6,
        IpProtocol::FRAGMENT,
        64,
        &atomic,
    )));
    assert_eq!(
        s.fragment, None,
        "an atomic fragment is a whole datagram (RFC 6946)"
    );
    assert_eq!(udp_of(&s).payload_len, 5);
}

#[test]
fn parse_ip_offsets_are_relative_to_the_datagram() {
    let datagram = udp4(b"body");
    let l2 = L2Summary::none(EtherType::IPV4);
    let s = parse_ip(&datagram, l2).unwrap();
    assert_eq!((s.l3_offset, s.l4_offset, s.ip_len), (0, 20, 32));
    assert_eq!(s.l2, l2);
    assert_eq!(
        s.payload_range().and_then(|r| datagram.get(r)),
        Some(&b"body"[..])
    );
    let v6 = build::ipv6(A6, B6, IpProtocol::UDP, 1, &udp6_payload(b"z"));
    assert_eq!(parse_ip(&v6, l2).map(|s| s.version), Ok(IpVersion::V6));
    assert_eq!(parse_ip(&[], l2), Err(ParseError::TruncatedIpv4));
    assert_eq!(
        parse_ip(&[], L2Summary::none(EtherType::IPV6)),
        Err(ParseError::TruncatedIpv6)
    );
    assert_eq!(parse_ip(&[0x15; 40], l2), Err(ParseError::BadIpVersion));
}

// ---------------------------------------------------------------- errors

/// Set a big-endian u16 in an IPv4 datagram and fix the header checksum.
fn v4_with(mut datagram: Vec<u8>, at: usize, value: u16) -> Vec<u8> {
    datagram[at..at + 2].copy_from_slice(&value.to_be_bytes());
    build::set_ipv4_checksum(&mut datagram);
    datagram
}

fn error_cases() -> Vec<(&'static str, Vec<u8>, ParseError)> {
    let udp = udp4(b"abcd");
    let tcp = Ipv4Header::new(A4, B4, IpProtocol::TCP)
        .build(&TcpHeader::new(Port(1), Port(2), TcpFlags::ACK).build(b""));
    let mut cases = vec![
        (
            "13-byte frame",
            eth(&udp)[..13].to_vec(),
            ParseError::TruncatedEthernet,
        ),
        (
            "vlan tag cut short",
            build::ethernet(
                build::DST_MAC,
                build::SRC_MAC,
                &[],
                EtherType::VLAN,
                &[0, 1],
            ),
            ParseError::TruncatedVlan,
        ),
        (
            "three vlan tags",
            build::ethernet(
                build::DST_MAC,
                build::SRC_MAC,
                &[
                    (EtherType::QINQ, 1),
                    (EtherType::VLAN, 2),
                    (EtherType::VLAN, 3),
                ],
                EtherType::IPV4,
                &udp,
            ),
            ParseError::TooManyVlanTags,
        ),
        (
            "ipv6 packet under the ipv4 ethertype",
            build::ethernet(
                build::DST_MAC,
                build::SRC_MAC,
                &[],
                EtherType::IPV4,
                &build::ipv6(A6, B6, IpProtocol::UDP, 1, &udp6_payload(b"")),
            ),
            ParseError::BadIpVersion,
        ),
        (
            "ipv4 packet under the ipv6 ethertype",
            build::ethernet(build::DST_MAC, build::SRC_MAC, &[], EtherType::IPV6, &udp),
            ParseError::BadIpVersion,
        ),
        (
            "19 bytes of ipv4 header",
            eth(&udp[..19]),
            ParseError::TruncatedIpv4,
        ),
        ("empty ipv4", eth(&[]), ParseError::TruncatedIpv4),
        (
            "ihl 4",
            eth(&{
                let mut d = udp.clone();
                d[0] = 0x44;
                build::set_ipv4_checksum(&mut d);
                d
            }),
            ParseError::BadIpv4HeaderLength,
        ),
        (
            "ihl 15 in a short packet",
            eth(&{
                let mut d = udp.clone();
                d[0] = 0x4f;
                d
            }),
            ParseError::TruncatedIpv4,
        ),
        (
            "ihl beyond total length",
            eth(&{
                let mut h = Ipv4Header::new(A4, B4, IpProtocol::UDP);
                h.options = vec![1; 8];
                v4_with(h.build(&[0; 8]), 2, 24)
            }),
            ParseError::BadIpv4HeaderLength,
        ),
        (
            "bad checksum",
            eth(&{
                let mut d = udp.clone();
                d[8] ^= 1;
                d
            }),
            ParseError::BadIpv4Checksum,
        ),
        (
            "total length 10",
            eth(&v4_with(udp.clone(), 2, 10)),
            ParseError::BadIpv4TotalLength,
        ),
        (
            "total length past the frame",
            eth(&v4_with(udp.clone(), 2, 33)),
            ParseError::Ipv4TotalLengthMismatch,
        ),
        (
            "option length 1",
            eth(&{
                let mut h = Ipv4Header::new(A4, B4, IpProtocol::UDP);
                h.options = vec![7, 1, 0, 0];
                h.build(&build::udp(Port(1), Port(2), b""))
            }),
            ParseError::BadIpv4Options,
        ),
        (
            "option runs past the header",
            eth(&{
                let mut h = Ipv4Header::new(A4, B4, IpProtocol::UDP);
                h.options = vec![1, 7, 9, 0];
                h.build(&build::udp(Port(1), Port(2), b""))
            }),
            ParseError::BadIpv4Options,
        ),
        (
            "39 bytes of ipv6 header",
            eth(&build::ipv6(A6, B6, IpProtocol::UDP, 1, &[])[..39]),
            ParseError::TruncatedIpv6,
        ),
        (
            "ipv6 payload length past the frame",
            eth(&{
                let mut d = build::ipv6(A6, B6, IpProtocol::UDP, 1, &udp6_payload(b"ab"));
                d[5] += 1;
                d
            }),
            ParseError::Ipv6PayloadLengthMismatch,
        ),
        (
            "hop-by-hop not first",
            eth(&{
                let mut p = build::ipv6_extension(IpProtocol::HOP_BY_HOP, &[0; 6]);
                p.extend(build::ipv6_extension(IpProtocol::UDP, &[0; 6]));
                p.extend(udp6_payload(b""));
                build::ipv6(A6, B6, IpProtocol::DESTINATION_OPTIONS, 1, &p)
            }),
            ParseError::Ipv6BadExtensionChain,
        ),
        (
            "extension header cut short",
            eth(&{
                let mut p = build::ipv6_extension(IpProtocol::UDP, &[0; 14]);
                p.truncate(12);
                build::ipv6(A6, B6, IpProtocol::DESTINATION_OPTIONS, 1, &p)
            }),
            ParseError::Ipv6BadExtensionChain,
        ),
        (
            "two fragment headers",
            eth(&{
                let mut p = build::ipv6_fragment_header(IpProtocol::FRAGMENT, 0, true, 1).to_vec();
                p.extend(build::ipv6_fragment_header(IpProtocol::UDP, 0, true, 1));
                p.extend(udp6_payload(&[0; 8]));
                build::ipv6(A6, B6, IpProtocol::FRAGMENT, 1, &p)
            }),
            ParseError::Ipv6BadExtensionChain,
        ),
        (
            "nine extension headers",
            eth(&{
                let mut p = Vec::new();
                for _ in 0..8 {
                    p.extend(build::ipv6_extension(
                        IpProtocol::DESTINATION_OPTIONS,
                        &[0; 6],
                    ));
                }
                p.extend(build::ipv6_extension(IpProtocol::UDP, &[0; 6]));
                p.extend(udp6_payload(b""));
                build::ipv6(A6, B6, IpProtocol::DESTINATION_OPTIONS, 1, &p)
            }),
            ParseError::Ipv6TooManyExtensionHeaders,
        ),
        (
            "jumbogram",
            eth(&build::ipv6(A6, B6, IpProtocol::HOP_BY_HOP, 1, &[])),
            ParseError::Ipv6Jumbogram,
        ),
        (
            "ipv4 fragment of 12 bytes with MF",
            eth(&{
                let mut h = Ipv4Header::new(A4, B4, IpProtocol::UDP);
                h.more_fragments = true;
                h.build(&build::udp(Port(1), Port(2), b"abcd"))
            }),
            ParseError::BadFragmentLength,
        ),
        (
            "ipv6 fragment of 12 bytes with M",
            eth(&{
                let mut p = build::ipv6_fragment_header(IpProtocol::UDP, 8, true, 1).to_vec();
                p.extend([0; 12]);
                build::ipv6(A6, B6, IpProtocol::FRAGMENT, 1, &p)
            }),
            ParseError::BadFragmentLength,
        ),
        (
            "ping of death",
            eth(&{
                let mut h = Ipv4Header::new(A4, B4, IpProtocol::UDP);
                h.fragment_offset = 65528;
                h.build(&[0; 16])
            }),
            ParseError::FragmentTooLarge,
        ),
        (
            "ipv6 fragment past 64 KiB",
            eth(&{
                let mut p = build::ipv6_fragment_header(IpProtocol::UDP, 65528, false, 1).to_vec();
                p.extend([0; 16]);
                build::ipv6(A6, B6, IpProtocol::FRAGMENT, 1, &p)
            }),
            ParseError::FragmentTooLarge,
        ),
        (
            "tcp header split over fragments",
            eth(&{
                let mut h = Ipv4Header::new(A4, B4, IpProtocol::TCP);
                h.more_fragments = true;
                h.build(&TcpHeader::new(Port(1), Port(2), TcpFlags::SYN).build(b"")[..8])
            }),
            ParseError::TinyFirstFragment,
        ),
        (
            "ipv6 chain continues in the next fragment",
            eth(&{
                let mut p =
                    build::ipv6_fragment_header(IpProtocol::DESTINATION_OPTIONS, 0, true, 1)
                        .to_vec();
                p.extend([IpProtocol::UDP.0, 2, 0, 0, 0, 0, 0, 0]);
                build::ipv6(A6, B6, IpProtocol::FRAGMENT, 1, &p)
            }),
            ParseError::TinyFirstFragment,
        ),
        (
            "19 bytes of tcp",
            eth(&{
                let mut d = tcp.clone();
                d.truncate(39);
                v4_with(d, 2, 39)
            }),
            ParseError::TruncatedTcp,
        ),
        (
            "tcp data offset 4",
            eth(&{
                let mut d = tcp.clone();
                d[32] = 0x40;
                d
            }),
            ParseError::BadTcpDataOffset,
        ),
        (
            "tcp data offset past the segment",
            eth(&{
                let mut d = tcp.clone();
                d[32] = 0xf0;
                d
            }),
            ParseError::BadTcpDataOffset,
        ),
        (
            "7 bytes of udp",
            eth(&v4_with(udp[..27].to_vec(), 2, 27)),
            ParseError::TruncatedUdp,
        ),
        (
            "udp length 7",
            eth(&{
                let mut d = udp.clone();
                d[24..26].copy_from_slice(&7u16.to_be_bytes());
                d
            }),
            ParseError::BadUdpLength,
        ),
        (
            "udp length past the datagram",
            eth(&{
                let mut d = udp.clone();
                d[24..26].copy_from_slice(&13u16.to_be_bytes());
                d
            }),
            ParseError::BadUdpLength,
        ),
        (
            "udp length zero on ipv6",
            eth(&{
                let mut p = udp6_payload(b"x");
                p[4..6].copy_from_slice(&[0, 0]);
                build::ipv6(A6, B6, IpProtocol::UDP, 1, &p)
            }),
            ParseError::BadUdpLength,
        ),
        (
            "udp length shorter than the first fragment",
            eth(&{
                let mut h = Ipv4Header::new(A4, B4, IpProtocol::UDP);
                h.more_fragments = true;
                let mut segment = build::udp(Port(1), Port(2), &[0; 8]);
                segment[4..6].copy_from_slice(&9u16.to_be_bytes());
                h.build(&segment)
            }),
            ParseError::BadUdpLength,
        ),
        (
            "7 bytes of icmp",
            eth(&Ipv4Header::new(A4, B4, IpProtocol::ICMP).build(&[8, 0, 0, 0, 0, 0, 0])),
            ParseError::TruncatedIcmp,
        ),
        (
            "7 bytes of icmpv6",
            eth(&build::ipv6(
                A6,
                B6,
                IpProtocol::ICMPV6,
                1,
                &[128, 0, 0, 0, 0, 0, 0],
            )),
            ParseError::TruncatedIcmpv6,
        ),
    ];
    // The same ICMP truncation with a 60-byte padded frame: padding is not ICMP.
    cases.push((
        "7 bytes of icmp in a padded frame",
        build::pad(eth(
            &Ipv4Header::new(A4, B4, IpProtocol::ICMP).build(&[8, 0, 0, 0, 0, 0, 0])
        )),
        ParseError::TruncatedIcmp,
    ));
    cases
}

#[test]
fn every_malformation_has_its_named_error() {
    for (name, frame, expected) in error_cases() {
        assert_eq!(parse(&frame), Err(expected), "{name}");
    }
}

#[test]
fn every_parse_error_is_exercised_by_the_table() {
    let produced: Vec<ParseError> = error_cases().into_iter().map(|(_, _, e)| e).collect();
    for reason in ParseError::ALL {
        assert!(
            produced.contains(reason),
            "no test produces {}",
            reason.as_str()
        );
    }
}

#[test]
fn error_names_are_stable() {
    let names: Vec<&str> = ParseError::ALL.iter().map(|e| e.as_str()).collect();
    for expected in [
        "truncated_ethernet",
        "bad_ipv4_checksum",
        "bad_ipv4_header_length",
        "ipv4_total_length_mismatch",
        "ipv6_bad_extension_chain",
        "truncated_tcp",
        "bad_tcp_data_offset",
        "truncated_udp",
        "bad_udp_length",
        "too_many_vlan_tags",
    ] {
        assert!(names.contains(&expected), "{expected}");
    }
}
