//! The SIP captures of the corpus replayed through a default-drop policy that inspects
//! SIP: exactly the pinholes their README lists, negotiated media forwarded, everything
//! else dropped, and teardown honoured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod replay_support;

use replay_support::{corpus, flow, run};
use serde_json::json;

/// `a` (the given prefixes) in zone a, everything else in zone b; SIP inspected both
/// ways over UDP and TCP, class-default drop.
fn config(a: &[&str]) -> serde_json::Value {
    json!({
        "eal": ["--no-huge", "--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [
            {"name": "a", "port": "net_ring0", "zone": "za", "prefixes": a},
            {"name": "b", "port": "net_ring1", "zone": "zb", "prefixes": ["0.0.0.0/0"]}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "za"}, {"name": "zb"}],
        "class_maps": [{"name": "sip", "rules": [{"protocol": "sip"}]}],
        "policy_maps": [{"name": "p", "classes": [{"class": "sip", "action": "inspect"}], "class_default": "drop"}],
        "zone_pairs": [
            {"name": "a-b", "source": "za", "destination": "zb", "service_policy": "p"},
            {"name": "b-a", "source": "zb", "destination": "za", "service_policy": "p"}
        ]
    })
}

fn pinhole_ports(r: &pinhole_control::replay::Report, dst: &str) -> Vec<u16> {
    let mut v: Vec<u16> = r
        .pinholes
        .iter()
        .filter(|p| p.dst == dst)
        .map(|p| p.dst_port)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn sip_over_tcp_call_opens_media_and_bye_closes_it() {
    let (r, _) = run(
        "sip-tcp",
        &config(&["10.33.6.100/32"]),
        &corpus("heplify__sip_ipv4_tcp.pcap"),
        &[],
        false,
    );
    assert_eq!(pinhole_ports(&r, "10.33.6.101"), vec![6050, 6051]);
    assert_eq!(pinhole_ports(&r, "10.33.6.100"), vec![6000, 6001]);
    for (src, dst, n) in [
        ("10.33.6.100:6000", "10.33.6.101:6050", 24),
        ("10.33.6.101:6050", "10.33.6.100:6000", 42),
    ] {
        let f = flow(&r, "udp", src, dst);
        assert_eq!((f.packets, f.forwarded), (n, n), "{src} -> {dst}");
    }
    // The report carries the SIP inspector's counters: the seven messages of the call.
    let sip = r
        .inspectors
        .sip
        .as_ref()
        .expect("SIP counters in the report");
    assert_eq!(sip["messages"], json!(7), "{sip:#}");
    // After the BYE nothing of the call is left open.
    assert!(
        r.pinholes.iter().all(|p| {
            let s = serde_json::to_value(p.state_at_end).unwrap();
            s == json!("closed") || s == json!("expired")
        }),
        "{:#?}",
        r.pinholes
    );
    // The dialog is listed, ended by the BYE, with every media pinhole of its call.
    assert_eq!(r.sip_dialogs.len(), 1, "{:#?}", r.sip_dialogs);
    let d = serde_json::to_value(&r.sip_dialogs[0]).unwrap();
    assert_eq!(d["ended_by"], json!("bye"), "{d:#}");
    assert_eq!(d["kind"], json!("call"), "{d:#}");
    assert_eq!(d["confirmed"], json!(true), "{d:#}");
    let media: Vec<u64> = r
        .pinholes
        .iter()
        .filter(|p| serde_json::to_value(p.kind).unwrap() != json!("signalling"))
        .map(|p| p.id)
        .collect();
    assert!(!media.is_empty());
    let listed = r.sip_dialogs[0].pinholes.clone();
    assert!(
        media.iter().all(|id| listed.contains(id)),
        "{listed:?} {media:?}"
    );
}

#[test]
fn final_480_tears_down_early_media() {
    let (r, _) = run(
        "sip-480",
        &config(&["192.168.1.0/24"]),
        &corpus("ndpi__sip.pcap"),
        &[],
        false,
    );
    // The 183 opened early-media pinholes both ways...
    assert!(
        pinhole_ports(&r, "212.242.33.36").contains(&40392),
        "{:#?}",
        r.pinholes
    );
    assert!(
        pinhole_ports(&r, "192.168.1.2").contains(&30000),
        "{:#?}",
        r.pinholes
    );
    // ...and the 480 closed them: the RTP that follows it is dropped. The report lists
    // the call as rejected; the registration is still followed at the last packet.
    let ended: Vec<serde_json::Value> = r
        .sip_dialogs
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .map(|d| json!([d["kind"], d["ended_by"]]))
        .collect();
    assert!(ended.contains(&json!(["call", "rejected"])), "{ended:?}");
    let rtp = flow(&r, "udp", "192.168.1.2:30000", "212.242.33.36:40392");
    assert_eq!((rtp.packets, rtp.forwarded), (9, 0));
    // No media pinhole is left open; only the registration's inbound signalling
    // pinhole (kept for the REGISTER's Expires, reference 12) stays.
    for p in &r.pinholes {
        let state = serde_json::to_value(p.state_at_end).unwrap();
        let kind = serde_json::to_value(p.kind).unwrap();
        if kind == json!("signalling") {
            assert_eq!(p.dst_port, 5060);
        } else {
            assert_eq!(state, json!("closed"), "{p:#?}");
        }
    }
}

#[test]
fn robustness_captures_open_nothing_unexpected() {
    for (name, side) in [
        ("zeek__sip_invalid-content-length.pcap", "10.0.0.1/32"),
        ("zeek__sip_sip-junk-before-request.pcap", "10.0.0.0/8"),
        (
            "suricata-verify__sip-compact-form_sip_compact_form.pcap",
            "192.168.1.0/24",
        ),
        ("ndpi__http_on_sip_port.pcap", "82.178.111.221/32"),
    ] {
        let (r, _) = run(name, &config(&[side]), &corpus(name), &[], false);
        assert!(r.pinholes.is_empty(), "{name}: {:#?}", r.pinholes);
    }
    // The fuzzed capture: every packet processed without a crash, and no pinhole: each
    // message carrying SDP also has a damaged header, so strict parsing refuses it
    // (docs/sip-parsing-policy.md); in particular nothing comes from `c=192&168%s`.
    let (r, _) = run(
        "fuzz",
        &config(&["192.168.1.0/24"]),
        &corpus("ndpi__fuzz-2006-06-26-2594.pcap"),
        &[],
        false,
    );
    assert_eq!(r.packets.total, 691);
    assert!(r.pinholes.is_empty(), "{:#?}", r.pinholes);
    let sip = r.inspectors.sip.as_ref().expect("SIP was inspected");
    assert!(sip["messages"].as_u64().unwrap_or(0) > 0, "{sip:#}");
}

#[test]
fn the_demo_call_crosses_the_firewall_through_its_pinholes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("configs/demo-firewall.json")).unwrap(),
    )
    .unwrap();
    let (r, _) = run(
        "demo",
        &config,
        &root.join("configs/demo/demo.pcap"),
        &[],
        false,
    );
    for (src, dst) in [
        ("10.0.1.10:40000", "192.0.2.20:50000"),
        ("192.0.2.20:50000", "10.0.1.10:40000"),
    ] {
        let f = flow(&r, "udp", src, dst);
        assert_eq!((f.packets, f.forwarded), (100, 100), "{src} -> {dst}");
    }
    assert_eq!(
        flow(&r, "icmp", "10.0.1.10:4660", "192.0.2.20:4660").verdict,
        "class_default_drop"
    );
    assert!(!r.pinholes.is_empty());
    assert!(r
        .pinholes
        .iter()
        .all(|p| serde_json::to_value(p.state_at_end).unwrap() == json!("closed")));
}
