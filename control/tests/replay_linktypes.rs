//! Every link type replay reads: BSD loopback (NULL), pcapng, raw IP, Linux cooked v1
//! and v2; and an unsupported one refused by number.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod replay_support;

use std::net::Ipv4Addr;

use pinhole_control::replay::{self, ReplayError, ReplayOptions};
use pinhole_dataplane::packet::build::{udp, Ipv4Header};
use pinhole_dataplane::packet::{IpProtocol, Port};
use replay_support::{corpus, flow, open_wire, run, scratch, write_config, write_pcap};

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);
const T0: u64 = 1_700_000_000_000_000_000;

fn datagram(sport: u16, payload: &[u8]) -> Vec<u8> {
    Ipv4Header::new(A, B, IpProtocol::UDP).build(&udp(Port(sport), Port(5000), payload))
}

#[test]
fn null_loopback_capture() {
    // SIP over TCP on 127.0.0.1: decoded, and never crosses (same address both ways).
    let pcap = corpus("suricata-verify__sip-body-large_sip-body-large.pcap");
    let (r, _) = run("null", &open_wire(&["0.0.0.0/0"], &[]), &pcap, &[], false);
    assert_eq!(r.capture.link_types, vec!["null"]);
    assert_eq!(r.packets.total, 16);
    assert_eq!(r.packets.not_crossing, 16);
    assert_eq!(
        flow(&r, "tcp", "127.0.0.1:59809", "127.0.0.1:5060").packets,
        10
    );
    assert_eq!(
        flow(&r, "tcp", "127.0.0.1:5060", "127.0.0.1:59809").packets,
        6
    );
    // Captured on the sending host: every IPv4 checksum is zero (offload).
    assert_eq!(r.packets.checksums_filled, 16);
    // 2026-06-23 19:37:32.934517 (capinfos).
    assert_eq!(r.capture.first_time, Some(1_782_243_452.934517));
}

#[test]
fn pcapng_capture_with_microsecond_timestamps() {
    let pcap = corpus("ndpi__sccp_hw_conf_register.pcapng");
    let cfg = open_wire(&["10.180.110.58/32"], &["0.0.0.0/0"]);
    let (r, _) = run("pcapng", &cfg, &pcap, &[], false);
    assert_eq!(r.capture.format, "pcapng");
    assert_eq!(r.capture.link_types, vec!["ethernet"]);
    assert_eq!((r.packets.total, r.packets.forwarded), (17, 17));
    let reg = flow(&r, "tcp", "10.180.110.58:46461", "10.180.110.48:2000");
    assert_eq!(
        (reg.packets, reg.ingress.as_deref(), reg.egress.as_deref()),
        (8, Some("a"), Some("b"))
    );
    assert_eq!(
        flow(&r, "tcp", "10.180.110.48:2000", "10.180.110.58:46461").packets,
        9
    );
    // 2019-05-06 21:35:11.664958 UTC: if_tsresol defaults to microseconds.
    assert_eq!(r.capture.first_time, Some(1_557_178_511.664958));
}

#[test]
fn raw_ip_capture() {
    let dir = scratch("raw-ip");
    for link in [101, 12, 14, 228] {
        let pcap = dir.join(format!("raw{link}.pcap"));
        write_pcap(
            &pcap,
            link,
            &[
                (T0, datagram(1000, b"one")),
                (T0 + 1_000, datagram(1000, b"two")),
            ],
        );
        let (r, _) = run(
            "raw-ip-run",
            &open_wire(&["10.0.0.0/8"], &["0.0.0.0/0"]),
            &pcap,
            &[],
            false,
        );
        assert_eq!(r.capture.link_types, vec!["raw_ip"], "{link}");
        let f = flow(&r, "udp", "10.0.0.1:1000", "192.0.2.7:5000");
        assert_eq!((f.packets, f.forwarded), (2, 2), "{link}");
        assert_eq!(f.verdict, "pass");
    }
}

#[test]
fn linux_cooked_captures() {
    let dir = scratch("sll");
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    sll.extend_from_slice(&0x0800u16.to_be_bytes());
    sll.extend_from_slice(&datagram(1001, b"sll"));
    let mut arp = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    arp.extend_from_slice(&0x0806u16.to_be_bytes());
    arp.extend_from_slice(&[0u8; 28]);
    let v1 = dir.join("sll.pcap");
    write_pcap(&v1, 113, &[(T0, sll), (T0 + 5, arp)]);

    let mut sll2 = 0x0800u16.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    sll2.extend_from_slice(&datagram(1002, b"sll2"));
    let v2 = dir.join("sll2.pcap");
    write_pcap(&v2, 276, &[(T0, sll2)]);

    let cfg = open_wire(&["10.0.0.0/8"], &["0.0.0.0/0"]);
    let (r, _) = run("sll-run", &cfg, &v1, &[], false);
    assert_eq!(r.capture.link_types, vec!["linux_sll"]);
    assert_eq!(
        flow(&r, "udp", "10.0.0.1:1001", "192.0.2.7:5000").forwarded,
        1
    );
    // The ARP frame keeps its ethertype: non-IP, passed on the wire.
    assert_eq!(r.stats.pipeline.non_ip_passed, 1);
    assert_eq!(r.packets.forwarded, 2);

    let (r, _) = run("sll2-run", &cfg, &v2, &[], false);
    assert_eq!(r.capture.link_types, vec!["linux_sll2"]);
    assert_eq!(
        flow(&r, "udp", "10.0.0.1:1002", "192.0.2.7:5000").forwarded,
        1
    );
}

#[test]
fn unsupported_link_type_is_refused() {
    let dir = scratch("user0");
    let pcap = dir.join("user0.pcap");
    write_pcap(&pcap, 147, &[(T0, vec![1, 2, 3])]);
    let config = write_config(&dir, &open_wire(&["10.0.0.0/8"], &[]));
    let err = replay::replay(&ReplayOptions {
        config,
        pcap,
        ..ReplayOptions::default()
    })
    .unwrap_err();
    assert!(
        matches!(err, ReplayError::UnsupportedLinkType { link_type: 147, .. }),
        "{err}"
    );
}
