//! Interface assignment: not-crossing packets, `--iface` overrides, packets no prefix
//! covers, interface addresses as host prefixes, and `--out` per-interface pcaps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod replay_support;

use std::net::Ipv4Addr;

use pinhole_control::replay::{self, ReplayError, ReplayOptions};
use pinhole_dataplane::packet::build::udp4_frame;
use replay_support::{
    corpus, count_packets, flow, open_wire, run, scratch, write_config, write_pcap,
};

const T0: u64 = 1_700_000_000_000_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// 10.1.0.5 -> 10.1.0.6, 10.1.0.5 -> 10.2.0.9, and back; 172.16.0.1 -> 10.1.0.5.
fn capture(dir: &std::path::Path) -> std::path::PathBuf {
    let pcap = dir.join("in.pcap");
    let frames = [
        udp4_frame(ip("10.1.0.5"), ip("10.1.0.6"), 1, 2, b"x"),
        udp4_frame(ip("10.1.0.5"), ip("10.2.0.9"), 3, 4, b"x"),
        udp4_frame(ip("10.2.0.9"), ip("10.1.0.5"), 4, 3, b"x"),
        udp4_frame(ip("172.16.0.1"), ip("10.1.0.5"), 5, 6, b"x"),
    ];
    let packets: Vec<(u64, Vec<u8>)> = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| (T0 + i as u64 * 1_000, f))
        .collect();
    write_pcap(&pcap, 1, &packets);
    pcap
}

#[test]
fn same_interface_is_not_crossing_and_no_prefix_is_no_ingress() {
    let dir = scratch("ifaces-base");
    let pcap = capture(&dir);
    let (r, _) = run(
        "ifaces-base-run",
        &open_wire(&["10.1.0.0/16"], &["10.2.0.0/16"]),
        &pcap,
        &[],
        false,
    );
    assert_eq!(r.packets.total, 4);
    assert_eq!(r.packets.not_crossing, 1);
    assert_eq!(r.packets.forwarded, 2);
    assert_eq!(r.drops.get("no_ingress_interface"), Some(&1));
    assert_eq!(r.packets.dropped, 1);
    let nc = flow(&r, "udp", "10.1.0.5:1", "10.1.0.6:2");
    assert_eq!((nc.not_crossing, nc.verdict.as_str()), (1, "not_crossing"));
    assert_eq!(nc.ingress.as_deref(), Some("a"));
    let lost = flow(&r, "udp", "172.16.0.1:5", "10.1.0.5:6");
    assert_eq!(lost.verdict, "no_ingress_interface");
    assert_eq!(lost.ingress, None);
    // Not processed: the pipeline never saw them.
    assert_eq!(r.stats.pipeline.packets, 2);
}

#[test]
fn iface_override_wins_at_equal_length_and_longer_prefixes_win() {
    let dir = scratch("ifaces-override");
    let pcap = capture(&dir);
    let cfg = open_wire(&["10.1.0.0/16"], &["10.2.0.0/16"]);
    // 10.1.0.6/32 behind b: the first packet now crosses a -> b.
    // 10.2.0.0/16 behind a as well: an override wins at the same length, so the
    // 10.1 <-> 10.2 packets stop crossing.
    // 172.16.0.0/12 behind b: the last packet gets an ingress.
    let (r, _) = run(
        "ifaces-override-run",
        &cfg,
        &pcap,
        &["b=10.1.0.6", "a=10.2.0.0/16", "b=172.16.0.0/12"],
        false,
    );
    let first = flow(&r, "udp", "10.1.0.5:1", "10.1.0.6:2");
    assert_eq!((first.forwarded, first.egress.as_deref()), (1, Some("b")));
    assert_eq!(flow(&r, "udp", "10.1.0.5:3", "10.2.0.9:4").not_crossing, 1);
    assert_eq!(flow(&r, "udp", "10.2.0.9:4", "10.1.0.5:3").not_crossing, 1);
    let last = flow(&r, "udp", "172.16.0.1:5", "10.1.0.5:6");
    assert_eq!((last.ingress.as_deref(), last.forwarded), (Some("b"), 1));
    assert_eq!(r.packets.not_crossing, 2);
    assert!(!r.drops.contains_key("no_ingress_interface"));
}

#[test]
fn interface_addresses_are_host_prefixes() {
    let dir = scratch("ifaces-addr");
    let pcap = capture(&dir);
    let mut cfg = open_wire(&["10.0.0.0/8"], &[]);
    cfg["interfaces"][1]["addresses"] = serde_json::json!(["10.2.0.9"]);
    let (r, _) = run("ifaces-addr-run", &cfg, &pcap, &[], false);
    let f = flow(&r, "udp", "10.1.0.5:3", "10.2.0.9:4");
    assert_eq!(
        (f.ingress.as_deref(), f.egress.as_deref()),
        (Some("a"), Some("b"))
    );
    assert_eq!(f.forwarded, 1);
}

#[test]
fn unknown_interface_in_override_is_an_error() {
    let dir = scratch("ifaces-unknown");
    let pcap = capture(&dir);
    let config = write_config(&dir, &open_wire(&["10.1.0.0/16"], &[]));
    let err = replay::replay(&ReplayOptions {
        config,
        pcap,
        iface_overrides: vec!["nope=10.0.0.0/8".parse().unwrap()],
        ..ReplayOptions::default()
    })
    .unwrap_err();
    assert!(
        matches!(err, ReplayError::UnknownInterface { ref name, .. } if name == "nope"),
        "{err}"
    );
    assert!("nope".parse::<replay::IfaceOverride>().is_err());
    assert!("a=10.0.0.0/33".parse::<replay::IfaceOverride>().is_err());
}

#[test]
fn out_writes_what_each_interface_sends() {
    let cfg = open_wire(&["10.180.110.58/32"], &["0.0.0.0/0"]);
    let pcap = corpus("ndpi__sccp_hw_conf_register.pcapng");
    let (r, dir) = run("out", &cfg, &pcap, &[], true);
    let a = count_packets(&dir.join("out/a.pcap"));
    let b = count_packets(&dir.join("out/b.pcap"));
    // The phone (behind a) sends 8 segments, out of b; the call manager 9, out of a.
    assert_eq!((a, b), (9, 8));
    assert_eq!(a + b, r.packets.forwarded + r.packets.emitted);

    // Dropped and not-crossing packets are not written.
    let dir2 = scratch("out-nc");
    let small = capture(&dir2);
    let (r, dir) = run(
        "out-nc-run",
        &open_wire(&["10.1.0.0/16"], &["10.2.0.0/16"]),
        &small,
        &[],
        true,
    );
    let total = count_packets(&dir.join("out/a.pcap")) + count_packets(&dir.join("out/b.pcap"));
    assert_eq!(total, r.packets.forwarded);
    assert_eq!(total, 2);
}
