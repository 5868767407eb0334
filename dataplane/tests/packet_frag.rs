//! Fragment reassembly: orderings, duplicates, overlaps, timeouts and every limit.

// Test helpers outside #[test] functions panic on an unexpected shape, by design.
#![allow(clippy::panic)]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use pinhole_dataplane::packet::build::{self, Ipv4Header};
use pinhole_dataplane::packet::frag::{FragDropReason, FragOutcome, Reassembler, ReassemblyConfig};
use pinhole_dataplane::packet::{
    parse, IpProtocol, L4Summary, PacketSummary, Parsed, Port, VlanId,
};
use pinhole_dataplane::{IfaceId, Timestamp};

const A4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const A6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
const PORT: IfaceId = IfaceId(0);
const T0: Timestamp = Timestamp(1_000_000_000);

fn summary(frame: &[u8]) -> PacketSummary {
    match parse(frame) {
        Ok(Parsed::Ip(s)) => s,
        other => panic!("{other:?}"),
    }
}

/// What a feed produced, owned so the reassembler can be used again.
#[derive(Debug, PartialEq, Eq)]
enum Out {
    Held,
    Duplicate,
    Complete(Vec<u8>, Vec<u32>),
    Dropped(FragDropReason),
}

fn feed(r: &mut Reassembler<u32>, frame: &[u8], handle: u32, now: Timestamp) -> Out {
    feed_on(r, frame, PORT, handle, now)
}

fn feed_on(
    r: &mut Reassembler<u32>,
    frame: &[u8],
    ingress: IfaceId,
    handle: u32,
    now: Timestamp,
) -> Out {
    let s = summary(frame);
    match r.feed(frame, &s, ingress, handle, now) {
        FragOutcome::Held => Out::Held,
        FragOutcome::Duplicate => Out::Duplicate,
        FragOutcome::Complete(done) => Out::Complete(done.datagram.to_vec(), done.frames.collect()),
        FragOutcome::Dropped(reason) => Out::Dropped(reason),
    }
}

fn released(r: &mut Reassembler<u32>) -> Vec<(u32, FragDropReason)> {
    r.take_released().collect()
}

fn udp_datagram(id: u16, payload: &[u8]) -> Vec<u8> {
    let mut header = Ipv4Header::new(A4, B4, IpProtocol::UDP);
    header.id = id;
    header.build(&build::udp(Port(5060), Port(5060), payload))
}

fn frames(datagram: &[u8], max_data: usize) -> Vec<Vec<u8>> {
    build::fragment_ipv4(datagram, max_data)
        .iter()
        .map(|f| build::ethernet_ip(f))
        .collect()
}

fn sip_invite(len: usize) -> Vec<u8> {
    let mut message =
        b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060\r\n".to_vec();
    while message.len() < len - 4 {
        message.extend_from_slice(b"a=x\r\n");
    }
    message.truncate(len - 4);
    message.extend_from_slice(b"\r\n\r\n");
    message
}

#[test]
fn in_order_fragments_reassemble_byte_identical() {
    let datagram = udp_datagram(7, &[0xab; 200]);
    let fs = frames(&datagram, 64);
    assert_eq!(fs.len(), 4);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    for (i, f) in fs.iter().enumerate().take(3) {
        assert_eq!(feed(&mut r, f, i as u32, T0), Out::Held);
    }
    assert_eq!(r.in_progress(), 1);
    assert_eq!(
        feed(&mut r, &fs[3], 3, T0),
        Out::Complete(datagram, vec![0, 1, 2, 3])
    );
    assert_eq!(r.in_progress(), 0);
    assert_eq!(r.bytes_held(), 0);
    assert!(released(&mut r).is_empty());
    let c = r.counters();
    assert_eq!(
        (c.fragments, c.datagrams_started, c.datagrams_completed),
        (4, 1, 1)
    );
}

#[test]
fn reverse_order_reassembles_and_frames_keep_arrival_order() {
    let datagram = udp_datagram(8, &[0x11; 300]);
    let fs = frames(&datagram, 96);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let n = fs.len() as u32;
    let mut last = Out::Held;
    for (i, f) in fs.iter().enumerate().rev() {
        last = feed(&mut r, f, 100 + i as u32, T0);
    }
    let expected_order: Vec<u32> = (0..n).rev().map(|i| 100 + i).collect();
    assert_eq!(last, Out::Complete(datagram, expected_order));
}

#[test]
fn three_kilobyte_sip_invite_in_three_fragments_is_judged_whole() {
    let invite = sip_invite(3000);
    let datagram = udp_datagram(0x5151, &invite);
    let fs = frames(&datagram, 1480);
    assert_eq!(fs.len(), 3);
    // The first fragment alone shows only a prefix of the message.
    let first = summary(&fs[0]);
    assert!(matches!(first.l4, L4Summary::Udp(u) if u.payload_len < 3000));

    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(feed(&mut r, &fs[1], 1, T0), Out::Held);
    assert_eq!(feed(&mut r, &fs[0], 0, T0), Out::Held);
    let s = summary(&fs[2]);
    let FragOutcome::Complete(done) = r.feed(&fs[2], &s, PORT, 2, T0) else {
        panic!("not complete");
    };
    assert_eq!(done.datagram, &datagram[..]);
    let whole = done.parse().expect("reassembled datagram parses");
    assert!(!whole.is_fragment());
    let payload = whole.payload_range().and_then(|r| done.datagram.get(r));
    assert_eq!(payload, Some(&invite[..]));
    assert_eq!(done.l2, first.l2);
    assert_eq!(done.frames.collect::<Vec<_>>(), vec![1, 0, 2]);
}

#[test]
fn reassembled_ipv4_header_keeps_df_and_gets_a_fresh_checksum() {
    let mut header = Ipv4Header::new(A4, B4, IpProtocol::UDP);
    header.id = 9;
    header.dont_fragment = true;
    header.options = vec![1, 1, 1, 1];
    let datagram = header.build(&build::udp(Port(1), Port(2), &[3; 100]));
    // Fragmenting a DF datagram is a test convenience: the header bits are what matter.
    let fs = frames(&datagram, 40);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut out = Out::Held;
    for (i, f) in fs.iter().enumerate() {
        out = feed(&mut r, f, i as u32, T0);
    }
    let Out::Complete(bytes, _) = out else {
        panic!("{out:?}")
    };
    assert_eq!(bytes, datagram);
}

#[test]
fn duplicate_fragments_are_tolerated_and_released() {
    let datagram = udp_datagram(1, &[5; 100]);
    let fs = frames(&datagram, 40);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(feed(&mut r, &fs[0], 0, T0), Out::Held);
    assert_eq!(feed(&mut r, &fs[0], 10, T0), Out::Duplicate);
    assert_eq!(feed(&mut r, &fs[1], 1, T0), Out::Held);
    assert_eq!(feed(&mut r, &fs[1], 11, T0), Out::Duplicate);
    assert_eq!(
        released(&mut r),
        vec![
            (10, FragDropReason::DuplicateFragment),
            (11, FragDropReason::DuplicateFragment)
        ]
    );
    assert_eq!(
        feed(&mut r, &fs[2], 2, T0),
        Out::Complete(datagram, vec![0, 1, 2])
    );
    assert_eq!(r.counters().duplicate_fragments, 2);
}

/// An IPv4 fragment of datagram `id` with `data` at byte `offset`.
/// The protocol is an experimental number, so the parser does not look into the data.
fn raw_fragment(id: u16, offset: u16, more: bool, data: &[u8]) -> Vec<u8> {
    let mut header = Ipv4Header::new(A4, B4, IpProtocol(253));
    header.id = id;
    header.fragment_offset = offset;
    header.more_fragments = more;
    build::ethernet_ip(&header.build(data))
}

#[test]
fn overlapping_fragments_drop_the_whole_datagram() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(
        feed(&mut r, &raw_fragment(3, 0, true, &[1; 48]), 0, T0),
        Out::Held
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(3, 96, false, &[1; 8]), 1, T0),
        Out::Held
    );
    // Teardrop: starts inside the first fragment.
    assert_eq!(
        feed(&mut r, &raw_fragment(3, 40, true, &[2; 16]), 2, T0),
        Out::Dropped(FragDropReason::OverlappingFragments)
    );
    let mut got = released(&mut r);
    got.sort();
    assert_eq!(
        got,
        vec![
            (0, FragDropReason::OverlappingFragments),
            (1, FragDropReason::OverlappingFragments),
            (2, FragDropReason::OverlappingFragments)
        ]
    );
    assert_eq!(r.in_progress(), 0);
    assert_eq!(r.bytes_held(), 0);
    assert_eq!(r.counters().overlapping_fragments, 1);
}

#[test]
fn overlap_reaching_into_the_next_fragment_and_same_range_other_bytes_are_rejected() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(
        feed(&mut r, &raw_fragment(4, 48, true, &[1; 16]), 0, T0),
        Out::Held
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(4, 40, true, &[1; 16]), 1, T0),
        Out::Dropped(FragDropReason::OverlappingFragments)
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(5, 48, true, &[1; 16]), 2, T0),
        Out::Held
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(5, 48, true, &[9; 16]), 3, T0),
        Out::Dropped(FragDropReason::OverlappingFragments)
    );
    assert_eq!(r.counters().overlapping_fragments, 2);
}

#[test]
fn disagreeing_ends_are_inconsistent() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(
        feed(&mut r, &raw_fragment(6, 64, false, &[1; 8]), 0, T0),
        Out::Held
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(6, 80, false, &[1; 8]), 1, T0),
        Out::Dropped(FragDropReason::InconsistentLength)
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(7, 64, false, &[1; 8]), 2, T0),
        Out::Held
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(7, 72, true, &[1; 8]), 3, T0),
        Out::Dropped(FragDropReason::InconsistentLength)
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(8, 64, true, &[1; 8]), 4, T0),
        Out::Held
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(8, 32, false, &[1; 8]), 5, T0),
        Out::Dropped(FragDropReason::InconsistentLength)
    );
    assert_eq!(r.counters().inconsistent_length, 3);
}

#[test]
fn timeout_expires_datagrams_and_releases_their_frames() {
    let config = ReassemblyConfig {
        timeout: Duration::from_secs(5),
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(config);
    let datagram = udp_datagram(9, &[0; 100]);
    let fs = frames(&datagram, 40);
    assert_eq!(feed(&mut r, &fs[0], 0, T0), Out::Held);
    assert_eq!(
        feed(&mut r, &fs[1], 1, T0.after(Duration::from_secs(4))),
        Out::Held
    );
    assert_eq!(r.expire(T0.after(Duration::from_millis(4999))), 0);
    assert!(released(&mut r).is_empty());
    // The deadline runs from the first fragment, not the latest.
    assert_eq!(r.expire(T0.after(Duration::from_secs(5))), 1);
    assert_eq!(
        released(&mut r),
        vec![(0, FragDropReason::Timeout), (1, FragDropReason::Timeout)]
    );
    assert_eq!(r.counters().timed_out, 1);
    assert_eq!(r.in_progress(), 0);
    // A late fragment starts afresh and never completes the expired datagram.
    assert_eq!(
        feed(&mut r, &fs[2], 2, T0.after(Duration::from_secs(6))),
        Out::Held
    );
}

#[test]
fn a_stale_datagram_with_a_reused_id_is_timed_out_on_feed() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let old = frames(&udp_datagram(10, &[1; 100]), 40);
    let new = frames(&udp_datagram(10, &[2; 100]), 40);
    assert_eq!(feed(&mut r, &old[0], 0, T0), Out::Held);
    let later = T0.after(Duration::from_secs(60));
    assert_eq!(feed(&mut r, &new[1], 1, later), Out::Held);
    assert_eq!(released(&mut r), vec![(0, FragDropReason::Timeout)]);
    assert_eq!(feed(&mut r, &new[0], 2, later), Out::Held);
    assert!(matches!(feed(&mut r, &new[2], 3, later), Out::Complete(_, f) if f == vec![1, 2, 3]));
}

#[test]
fn table_full_refuses_new_datagrams_not_old_ones() {
    let config = ReassemblyConfig {
        max_datagrams: 2,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(config);
    let a = frames(&udp_datagram(1, &[1; 100]), 40);
    let b = frames(&udp_datagram(2, &[1; 100]), 40);
    let c = frames(&udp_datagram(3, &[1; 100]), 40);
    assert_eq!(feed(&mut r, &a[0], 0, T0), Out::Held);
    assert_eq!(feed(&mut r, &b[0], 1, T0), Out::Held);
    assert_eq!(
        feed(&mut r, &c[0], 2, T0),
        Out::Dropped(FragDropReason::TooManyDatagrams)
    );
    assert_eq!(
        released(&mut r),
        vec![(2, FragDropReason::TooManyDatagrams)]
    );
    assert_eq!(feed(&mut r, &a[1], 3, T0), Out::Held);
    assert!(matches!(feed(&mut r, &a[2], 4, T0), Out::Complete(..)));
    // A slot is free again.
    assert_eq!(feed(&mut r, &c[0], 5, T0), Out::Held);
    assert_eq!(r.counters().too_many_datagrams, 1);
}

#[test]
fn too_many_fragments_drops_the_datagram() {
    let config = ReassemblyConfig {
        max_fragments_per_datagram: 2,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(config);
    let fs = frames(&udp_datagram(1, &[1; 100]), 40);
    assert_eq!(feed(&mut r, &fs[0], 0, T0), Out::Held);
    assert_eq!(feed(&mut r, &fs[1], 1, T0), Out::Held);
    assert_eq!(
        feed(&mut r, &fs[2], 2, T0),
        Out::Dropped(FragDropReason::TooManyFragments)
    );
    assert_eq!(released(&mut r).len(), 3);
    assert_eq!(r.counters().too_many_fragments, 1);
}

#[test]
fn memory_budget_drops_the_datagram_that_would_exceed_it() {
    let config = ReassemblyConfig {
        max_total_bytes: 150,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(config);
    let a = frames(&udp_datagram(1, &[1; 300]), 80);
    let b = frames(&udp_datagram(2, &[1; 300]), 80);
    assert_eq!(feed(&mut r, &a[0], 0, T0), Out::Held); // 20 header + 80
    assert!(r.bytes_held() >= 100);
    assert_eq!(
        feed(&mut r, &b[0], 1, T0),
        Out::Dropped(FragDropReason::MemoryFull)
    );
    assert_eq!(released(&mut r), vec![(1, FragDropReason::MemoryFull)]);
    assert_eq!(r.in_progress(), 1);
    assert_eq!(r.counters().memory_full, 1);
    assert!(r.bytes_held() <= 150);
}

#[test]
fn size_limit_drops_oversized_datagrams() {
    let config = ReassemblyConfig {
        max_datagram_len: 1000,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(config);
    assert_eq!(
        feed(&mut r, &raw_fragment(1, 0, true, &[1; 512]), 0, T0),
        Out::Held
    );
    assert_eq!(
        feed(&mut r, &raw_fragment(1, 984, false, &[1; 8]), 1, T0),
        Out::Dropped(FragDropReason::DatagramTooLarge)
    );
    assert_eq!(r.counters().datagram_too_large, 1);
}

#[test]
fn fragments_from_other_interfaces_or_vlans_do_not_merge() {
    let datagram = udp_datagram(77, &[1; 100]);
    let fs = frames(&datagram, 40);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(feed_on(&mut r, &fs[0], IfaceId(0), 0, T0), Out::Held);
    assert_eq!(feed_on(&mut r, &fs[1], IfaceId(1), 1, T0), Out::Held);
    let tagged = build::fragment_ipv4(&datagram, 40)
        .iter()
        .map(|f| {
            build::ethernet(
                build::DST_MAC,
                build::SRC_MAC,
                &[(pinhole_dataplane::packet::EtherType::VLAN, 5)],
                pinhole_dataplane::packet::EtherType::IPV4,
                f,
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(summary(&tagged[2]).l2.outer_vlan, Some(VlanId(5)));
    assert_eq!(feed_on(&mut r, &tagged[2], IfaceId(0), 2, T0), Out::Held);
    assert_eq!(r.in_progress(), 3);
    assert_eq!(feed_on(&mut r, &fs[1], IfaceId(0), 3, T0), Out::Held);
    assert!(
        matches!(feed_on(&mut r, &fs[2], IfaceId(0), 4, T0), Out::Complete(d, _) if d == datagram)
    );
}

#[test]
fn whole_datagrams_are_refused() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let frame = build::udp4_frame(A4, B4, 1, 2, b"x");
    assert_eq!(
        feed(&mut r, &frame, 0, T0),
        Out::Dropped(FragDropReason::NotAFragment)
    );
    assert_eq!(released(&mut r), vec![(0, FragDropReason::NotAFragment)]);
}

#[test]
fn a_summary_from_another_frame_is_refused() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let fs = frames(&udp_datagram(1, &[1; 1000]), 800);
    let s = summary(&fs[0]);
    let outcome = r.feed(&fs[1], &s, PORT, 0u32, T0);
    assert!(matches!(
        outcome,
        FragOutcome::Dropped(FragDropReason::BadFragmentSummary)
    ));
}

fn v6_datagram(payload_len: usize) -> Vec<u8> {
    // Hop-by-Hop (unfragmentable), then Destination Options and UDP (fragmentable).
    let mut payload = build::ipv6_extension(IpProtocol::DESTINATION_OPTIONS, &[1, 4, 0, 0, 0, 0]);
    let mut upper = build::ipv6_extension(IpProtocol::UDP, &[1, 4, 0, 0, 0, 0]);
    upper.extend(build::udp(Port(5060), Port(5060), &sip_invite(payload_len)));
    payload.extend(upper);
    build::ipv6(A6, B6, IpProtocol::HOP_BY_HOP, 64, &payload)
}

#[test]
fn ipv6_fragments_reassemble_byte_identical_in_any_order() {
    let datagram = v6_datagram(2000);
    let fs: Vec<Vec<u8>> = build::fragment_ipv6(&datagram, 1232, 0x0102_0304)
        .iter()
        .map(|f| build::ethernet_ip(f))
        .collect();
    assert_eq!(fs.len(), 2);
    for order in [[0usize, 1], [1, 0]] {
        let mut r = Reassembler::new(ReassemblyConfig::default());
        assert_eq!(feed(&mut r, &fs[order[0]], order[0] as u32, T0), Out::Held);
        let out = feed(&mut r, &fs[order[1]], order[1] as u32, T0);
        assert_eq!(
            out,
            Out::Complete(datagram.clone(), order.iter().map(|&i| i as u32).collect())
        );
    }
    let whole = pinhole_dataplane::packet::parse_ip(&datagram, summary(&fs[0]).l2).unwrap();
    assert_eq!(whole.protocol, IpProtocol::UDP);
}

#[test]
fn ipv6_overlap_drops_the_datagram() {
    let datagram = v6_datagram(600);
    let mut fs: Vec<Vec<u8>> = build::fragment_ipv6(&datagram, 256, 9)
        .iter()
        .map(|f| build::ethernet_ip(f))
        .collect();
    // Rewrite the second fragment's offset from 256 to 248.
    let frag_header = 14 + 40 + 8;
    fs[1][frag_header + 2..frag_header + 4].copy_from_slice(&(248u16 | 1).to_be_bytes());
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(feed(&mut r, &fs[0], 0, T0), Out::Held);
    assert_eq!(
        feed(&mut r, &fs[1], 1, T0),
        Out::Dropped(FragDropReason::OverlappingFragments)
    );
}

#[test]
fn buffers_are_reused_across_datagrams() {
    let mut r = Reassembler::new(ReassemblyConfig {
        max_datagrams: 1,
        ..ReassemblyConfig::default()
    });
    for id in 0..50u16 {
        let datagram = udp_datagram(id, &sip_invite(1500));
        let fs = frames(&datagram, 1000);
        assert_eq!(feed(&mut r, &fs[1], 1, T0), Out::Held);
        assert_eq!(
            feed(&mut r, &fs[0], 0, T0),
            Out::Complete(datagram, vec![1, 0])
        );
    }
    assert_eq!(r.counters().datagrams_completed, 50);
}
