//! Property tests: the parser never panics and keeps its offsets inside the buffer;
//! generated packets round-trip their fields; fragments reassemble identically in
//! any order; the reassembler gives every frame back exactly once.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use pinhole_dataplane::packet::build::{self, Ipv4Header, TcpHeader};
use pinhole_dataplane::packet::exercise::{check_summary, exercise};
use pinhole_dataplane::packet::frag::{FragOutcome, Reassembler, ReassemblyConfig};
use pinhole_dataplane::packet::{
    parse, parse_ip, EtherType, IpProtocol, IpVersion, L2Summary, L4Summary, PacketSummary, Parsed,
    Port, TcpFlags, VlanId,
};
use pinhole_dataplane::{IfaceId, Timestamp};
use proptest::collection::vec;
use proptest::prelude::*;

/// Every offset in a summary stays inside the buffer and the IP datagram.
fn check_invariants(buf: &[u8], s: &PacketSummary) -> Result<(), TestCaseError> {
    check_summary(buf, s).map_err(TestCaseError::fail)
}

fn check_parse(frame: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(Parsed::Ip(s)) = parse(frame) {
        check_invariants(frame, &s)?;
    }
    if let Ok(s) = parse_ip(frame, L2Summary::none(EtherType::IPV4)) {
        check_invariants(frame, &s)?;
    }
    Ok(())
}

#[derive(Clone, Debug)]
struct Spec {
    vlans: Vec<(EtherType, u16)>,
    v6: bool,
    protocol: u8,
    src_port: u16,
    dst_port: u16,
    hop_limit: u8,
    flags: u8,
    seq: u32,
    payload: Vec<u8>,
}

fn spec() -> impl Strategy<Value = Spec> {
    let tpid = prop_oneof![
        Just(EtherType::VLAN),
        Just(EtherType::QINQ),
        Just(EtherType::QINQ_LEGACY)
    ];
    (
        vec((tpid, 0u16..4096), 0..=2),
        any::<bool>(),
        prop_oneof![Just(6u8), Just(17), Just(1), Just(47)],
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |(vlans, v6, protocol, src_port, dst_port, hop_limit, flags, seq, payload)| Spec {
                vlans,
                v6,
                protocol,
                src_port,
                dst_port,
                hop_limit,
                flags,
                seq,
                payload,
            },
        )
}

const A4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 9);
const B4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 9);
const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 10);

fn build_spec(spec: &Spec) -> Vec<u8> {
    let protocol = match (spec.protocol, spec.v6) {
        (1, true) => IpProtocol::ICMPV6,
        (p, _) => IpProtocol(p),
    };
    let l4 = match protocol {
        IpProtocol::TCP => {
            let mut tcp = TcpHeader::new(
                Port(spec.src_port),
                Port(spec.dst_port),
                TcpFlags(spec.flags),
            );
            tcp.seq = spec.seq;
            tcp.build(&spec.payload)
        }
        IpProtocol::UDP => build::udp(Port(spec.src_port), Port(spec.dst_port), &spec.payload),
        IpProtocol::ICMP | IpProtocol::ICMPV6 => {
            let echo = if spec.v6 { 128 } else { 8 };
            build::icmp(
                echo,
                0,
                build::echo_rest(spec.src_port, spec.dst_port),
                &spec.payload,
            )
        }
        _ => spec.payload.clone(),
    };
    let (ethertype, ip) = if spec.v6 {
        (
            EtherType::IPV6,
            build::ipv6(A6, B6, protocol, spec.hop_limit, &l4),
        )
    } else {
        let mut header = Ipv4Header::new(A4, B4, protocol);
        header.ttl = spec.hop_limit;
        (EtherType::IPV4, header.build(&l4))
    };
    let tags: Vec<(EtherType, u16)> = spec.vlans.clone();
    build::pad(build::ethernet(
        build::DST_MAC,
        build::SRC_MAC,
        &tags,
        ethertype,
        &ip,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        check_parse(&bytes)?;
        exercise(&bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn arbitrary_l3_after_a_valid_ethernet_header_never_panics(
        v6 in any::<bool>(),
        vlans in vec((Just(EtherType::VLAN), any::<u16>()), 0..=3),
        body in vec(any::<u8>(), 0..200),
        version_nibble in any::<bool>(),
    ) {
        let mut body = body;
        if version_nibble {
            if let Some(first) = body.first_mut() {
                *first = (*first & 0x0f) | if v6 { 0x60 } else { 0x45 & 0xf0 };
            }
        }
        let ethertype = if v6 { EtherType::IPV6 } else { EtherType::IPV4 };
        let frame = build::ethernet(build::DST_MAC, build::SRC_MAC, &vlans, ethertype, &body);
        check_parse(&frame)?;
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        spec in spec(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut frame = build_spec(&spec);
        for (at, value) in flips {
            let i = at.index(frame.len());
            frame[i] = value;
        }
        if truncate {
            frame.truncate(cut.index(frame.len()));
        }
        check_parse(&frame)?;
        exercise(&frame).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn generated_packets_round_trip_their_fields(spec in spec()) {
        let frame = build_spec(&spec);
        let parsed = parse(&frame);
        let Ok(Parsed::Ip(s)) = parsed else {
            return Err(TestCaseError::fail(format!("{parsed:?}")));
        };
        check_invariants(&frame, &s)?;
        prop_assert_eq!(s.l2.outer_vlan, spec.vlans.first().map(|v| VlanId(v.1 & 0xfff)));
        prop_assert_eq!(s.l2.inner_vlan, spec.vlans.get(1).map(|v| VlanId(v.1 & 0xfff)));
        prop_assert_eq!(s.l3_offset as usize, 14 + 4 * spec.vlans.len());
        prop_assert_eq!(s.hop_limit, spec.hop_limit);
        prop_assert_eq!(s.version, if spec.v6 { IpVersion::V6 } else { IpVersion::V4 });
        let (src, dst) = if spec.v6 {
            (IpAddr::V6(A6), IpAddr::V6(B6))
        } else {
            (IpAddr::V4(A4), IpAddr::V4(B4))
        };
        prop_assert_eq!((s.src, s.dst), (src, dst));
        prop_assert!(s.fragment.is_none());
        let payload = s.payload_range().and_then(|r| frame.get(r));
        match s.l4 {
            L4Summary::Tcp(t) => {
                prop_assert_eq!(spec.protocol, 6);
                prop_assert_eq!((t.src_port.0, t.dst_port.0, t.seq, t.flags.0), (spec.src_port, spec.dst_port, spec.seq, spec.flags));
                prop_assert_eq!(payload, Some(&spec.payload[..]));
            }
            L4Summary::Udp(u) => {
                prop_assert_eq!(spec.protocol, 17);
                prop_assert_eq!((u.src_port.0, u.dst_port.0), (spec.src_port, spec.dst_port));
                prop_assert_eq!(payload, Some(&spec.payload[..]));
            }
            L4Summary::Icmp(i) | L4Summary::Icmpv6(i) => {
                prop_assert_eq!(spec.protocol, 1);
                prop_assert_eq!(i.echo.map(|e| (e.id, e.seq)), Some((spec.src_port, spec.dst_port)));
            }
            L4Summary::Other(p) => {
                prop_assert_eq!(p, IpProtocol(spec.protocol));
                prop_assert_eq!(s.l4_len as usize, spec.payload.len());
            }
            L4Summary::NonFirstFragment => prop_assert!(false, "not a fragment"),
        }
    }

    #[test]
    fn any_permutation_of_fragments_reassembles_identically(
        (payload_len, chunk, order, v6, duplicates) in (1usize..3000, 1usize..100, any::<bool>())
            .prop_flat_map(|(len, chunk8, v6)| {
                let n = (len + 8).div_ceil(8 * chunk8);
                (
                    Just(len),
                    Just(chunk8 * 8),
                    Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                    Just(v6),
                    vec(any::<prop::sample::Index>(), 0..3),
                )
            })
    ) {
        let body: Vec<u8> = (0..payload_len).map(|i| (i % 251) as u8).collect();
        let udp = build::udp(Port(5060), Port(5060), &body);
        let (datagram, fragments) = if v6 {
            let d = build::ipv6(A6, B6, IpProtocol::UDP, 64, &udp);
            let f = build::fragment_ipv6(&d, chunk, 42);
            (d, f)
        } else {
            let mut header = Ipv4Header::new(A4, B4, IpProtocol::UDP);
            header.id = 42;
            let d = header.build(&udp);
            let f = build::fragment_ipv4(&d, chunk);
            (d, f)
        };
        prop_assume!(fragments.len() == order.len() && fragments.len() > 1);
        let frames: Vec<Vec<u8>> = fragments.iter().map(|f| build::ethernet_ip(f)).collect();
        let mut sequence = order.clone();
        for d in duplicates {
            // A duplicate of an already-fed fragment, fed before the last one.
            let last = sequence.len() - 1;
            let copy = sequence[d.index(last)];
            sequence.insert(last, copy);
        }
        let config = ReassemblyConfig {
            max_fragments_per_datagram: 4096,
            ..ReassemblyConfig::default()
        };
        let mut r = Reassembler::new(config);
        let now = Timestamp::from_secs(1);
        let mut completed = None;
        for (k, &i) in sequence.iter().enumerate() {
            let frame = &frames[i];
            let Ok(Parsed::Ip(s)) = parse(frame) else {
                return Err(TestCaseError::fail("fragment does not parse"));
            };
            match r.feed(frame, &s, IfaceId(0), k, now) {
                FragOutcome::Complete(done) => {
                    prop_assert_eq!(k, sequence.len() - 1);
                    completed = Some((done.datagram.to_vec(), done.frames.collect::<Vec<_>>()));
                }
                FragOutcome::Held | FragOutcome::Duplicate => {}
                FragOutcome::Dropped(reason) => prop_assert!(false, "dropped: {reason}"),
            }
        }
        let Some((bytes, handles)) = completed else {
            return Err(TestCaseError::fail("never completed"));
        };
        prop_assert_eq!(bytes, datagram);
        prop_assert_eq!(handles.len(), frames.len());
        prop_assert_eq!(r.take_released().count(), sequence.len() - frames.len());
    }

    #[test]
    fn every_frame_comes_back_exactly_once(
        ops in vec((0u16..4, 0u16..40, any::<bool>(), 1usize..6, 0u64..3000), 1..60),
        max_datagrams in 1usize..4,
        max_fragments in 1usize..8,
        max_total_bytes in 64usize..2000,
    ) {
        let config = ReassemblyConfig {
            max_datagrams,
            max_fragments_per_datagram: max_fragments,
            max_total_bytes,
            timeout: Duration::from_secs(1),
            ..ReassemblyConfig::default()
        };
        let mut r = Reassembler::new(config);
        let mut returned: BTreeMap<usize, usize> = BTreeMap::new();
        let mut time = 0u64;
        for (handle, (id, offset8, more, units, advance_ms)) in ops.iter().copied().enumerate() {
            time += advance_ms;
            let now = Timestamp::from_millis(time);
            let mut header = Ipv4Header::new(A4, B4, IpProtocol(253));
            header.id = id;
            header.fragment_offset = offset8 * 8;
            header.more_fragments = more || offset8 == 0;
            let frame = build::ethernet_ip(&header.build(&vec![handle as u8; units * 8]));
            let Ok(Parsed::Ip(s)) = parse(&frame) else {
                return Err(TestCaseError::fail("fragment does not parse"));
            };
            if let FragOutcome::Complete(done) = r.feed(&frame, &s, IfaceId(0), handle, now) {
                for h in done.frames {
                    *returned.entry(h).or_default() += 1;
                }
            }
            for (h, _) in r.take_released() {
                *returned.entry(h).or_default() += 1;
            }
            r.expire(now);
            for (h, _) in r.take_released() {
                *returned.entry(h).or_default() += 1;
            }
            prop_assert!(r.bytes_held() <= max_total_bytes);
            prop_assert!(r.in_progress() <= max_datagrams);
        }
        r.expire(Timestamp::from_millis(time + 10_000));
        for (h, _) in r.take_released() {
            *returned.entry(h).or_default() += 1;
        }
        prop_assert_eq!(r.in_progress(), 0);
        prop_assert_eq!(r.bytes_held(), 0);
        prop_assert_eq!(returned.len(), ops.len());
        prop_assert!(returned.values().all(|&n| n == 1));
    }
}
