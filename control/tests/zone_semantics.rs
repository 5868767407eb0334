//! Zone-based firewall semantics, table-driven through the real configuration compiler
//! and the sans-IO pipeline: same zone, zone pairs, zoned/unzoned, self, default, and the
//! three class actions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use pinhole_control::config;
use pinhole_dataplane::inspect::action::{
    CallRef, InspectorKind, MediaKind, PinholeRequest, StreamRef, Transport,
};
use pinhole_dataplane::packet::build::{tcp4_frame, udp4_frame, TcpHeader};
use pinhole_dataplane::packet::{Port, TcpFlags};
use pinhole_dataplane::pinhole::SourceMatch;
use pinhole_dataplane::{Dataplane, DropReason, IfaceId, Pipeline, Timestamp, Verdict, WorkerId};
use serde_json::json;

const IFACES: &[(&str, Option<&str>, &[&str])] = &[
    ("in1", Some("inside"), &[]),
    ("in2", Some("inside"), &[]),
    ("in3", Some("inside"), &[]),
    ("out1", Some("outside"), &[]),
    ("in4", Some("inside"), &[]),
    ("un1", None, &[]),
    ("un2", None, &[]),
    ("un3", None, &[]),
    ("in5", Some("inside"), &[]),
    ("out5", Some("outside"), &["192.0.2.254"]),
    ("dmz1", Some("dmz"), &[]),
    ("dmz2", Some("dmz"), &[]),
];
const PAIRS: &[(&str, &str)] = &[
    ("in1", "in2"),
    ("in3", "out1"),
    ("in4", "un1"),
    ("un2", "un3"),
    ("in5", "out5"),
    ("dmz1", "dmz2"),
];

fn policy_json(extra_pairs: serde_json::Value) -> serde_json::Value {
    let mut eal = vec!["--no-huge".to_string()];
    let mut interfaces = Vec::new();
    for (i, (name, zone, addrs)) in IFACES.iter().enumerate() {
        eal.push("--vdev".into());
        eal.push(format!("net_ring{i}"));
        let mut itf = json!({"name": name, "port": format!("net_ring{i}"), "addresses": addrs});
        if let Some(z) = zone {
            itf["zone"] = json!(z);
        }
        interfaces.push(itf);
    }
    let mut zone_pairs = vec![
        json!({"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "in-out"}),
        json!({"name": "dmz-dmz", "source": "dmz", "destination": "dmz", "service_policy": "deny-all"}),
    ];
    if let serde_json::Value::Array(extra) = extra_pairs {
        zone_pairs.extend(extra);
    }
    json!({
        "eal": eal,
        "interfaces": interfaces,
        "forwarding": {"mode": "virtual-wire", "pairs": PAIRS.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>()},
        "zones": [{"name": "inside"}, {"name": "outside"}, {"name": "dmz"}],
        "class_maps": [
            {"name": "udp", "rules": [{"protocol": "udp"}]},
            {"name": "tcp", "rules": [{"protocol": "tcp"}]},
            {"name": "dns", "rules": [{"protocol": "dns"}]},
            {"name": "ssh-to-server", "match": "all", "rules": [
                {"protocol": "ssh"}, {"access_group": {"dst": "192.0.2.10/32"}}
            ]},
            {"name": "any-ip", "rules": [{"access_group": {}}]}
        ],
        "policy_maps": [
            {"name": "in-out", "classes": [
                {"class": "dns", "action": "pass"},
                {"class": "ssh-to-server", "action": "drop", "log": true},
                {"class": "udp", "action": "inspect"},
                {"class": "tcp", "action": "inspect"}
            ], "class_default": "drop"},
            {"name": "deny-all", "classes": [], "class_default": "drop"},
            {"name": "allow-all", "classes": [{"class": "any-ip", "action": "inspect"}]}
        ],
        "zone_pairs": zone_pairs
    })
}

fn dataplane(extra_pairs: serde_json::Value) -> Arc<Dataplane> {
    let doc = policy_json(extra_pairs);
    let cfg = config::load_str(&doc.to_string(), &[]).expect("valid test policy");
    Dataplane::new(config::compile(&cfg, 1))
}

fn iface(p: &Pipeline, name: &str) -> IfaceId {
    p.policy().interface_by_name(name).expect(name)
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn udp(src: &str, dst: &str, sport: u16, dport: u16) -> Vec<u8> {
    udp4_frame(ip(src), ip(dst), sport, dport, b"payload")
}

fn tcp(
    src: &str,
    dst: &str,
    sport: u16,
    dport: u16,
    flags: TcpFlags,
    seq: u32,
    ack: u32,
) -> Vec<u8> {
    let mut h = TcpHeader::new(Port(sport), Port(dport), flags);
    h.seq = seq;
    h.ack = ack;
    tcp4_frame(ip(src), ip(dst), &h, b"")
}

fn fwd(p: &Pipeline, name: &str) -> Verdict {
    Verdict::Forward(iface(p, name))
}

#[test]
fn zone_rules_table() {
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    // (case, ingress, frame, expected)
    let cases: Vec<(&str, &str, Vec<u8>, Verdict)> = vec![
        (
            "same zone, no self pair: passes",
            "in1",
            udp("10.0.0.1", "10.0.0.2", 1000, 2000),
            fwd(&p, "in2"),
        ),
        (
            "same zone, reverse too",
            "in2",
            udp("10.0.0.2", "10.0.0.1", 2000, 1000),
            fwd(&p, "in1"),
        ),
        (
            "zone pair inspect: forward",
            "in3",
            udp("10.0.0.3", "192.0.2.1", 1000, 2000),
            fwd(&p, "out1"),
        ),
        (
            "return traffic of the session",
            "out1",
            udp("192.0.2.1", "10.0.0.3", 2000, 1000),
            fwd(&p, "in3"),
        ),
        (
            "no pair outside->inside",
            "out1",
            udp("192.0.2.1", "10.0.0.3", 2001, 1000),
            Verdict::Drop(DropReason::NoZonePair),
        ),
        (
            "class pass (dns)",
            "in3",
            udp("10.0.0.3", "192.0.2.53", 1000, 53),
            fwd(&p, "out1"),
        ),
        (
            "pass is stateless: no return",
            "out1",
            udp("192.0.2.53", "10.0.0.3", 53, 1000),
            Verdict::Drop(DropReason::NoZonePair),
        ),
        (
            "class drop (match-all)",
            "in3",
            tcp("10.0.0.3", "192.0.2.10", 40000, 22, TcpFlags::SYN, 1, 0),
            Verdict::Drop(DropReason::ClassDrop),
        ),
        (
            "class-default drop (icmp not matched)",
            "in3",
            {
                let ipb = pinhole_dataplane::packet::build::Ipv4Header::new(
                    ip("10.0.0.3"),
                    ip("192.0.2.1"),
                    pinhole_dataplane::packet::IpProtocol::ICMP,
                )
                .build(&pinhole_dataplane::packet::build::icmp(
                    8,
                    0,
                    pinhole_dataplane::packet::build::echo_rest(7, 1),
                    b"ping",
                ));
                pinhole_dataplane::packet::build::pad(
                    pinhole_dataplane::packet::build::ethernet_ip(&ipb),
                )
            },
            Verdict::Drop(DropReason::ClassDefaultDrop),
        ),
        (
            "zoned to unzoned",
            "in4",
            udp("10.0.0.4", "192.0.2.1", 1000, 2000),
            Verdict::Drop(DropReason::ZonedToUnzoned),
        ),
        (
            "unzoned to zoned",
            "un1",
            udp("192.0.2.1", "10.0.0.4", 2000, 1000),
            Verdict::Drop(DropReason::ZonedToUnzoned),
        ),
        (
            "unzoned to unzoned",
            "un2",
            udp("192.0.2.7", "192.0.2.8", 1, 2),
            fwd(&p, "un3"),
        ),
        (
            "to self without a self pair: passes",
            "in5",
            udp("10.0.0.5", "192.0.2.254", 1000, 161),
            fwd(&p, "out5"),
        ),
        (
            "from self without a self pair: passes",
            "out5",
            udp("192.0.2.254", "10.0.0.5", 161, 1001),
            fwd(&p, "in5"),
        ),
        (
            "same zone with a pair: its policy applies",
            "dmz1",
            udp("198.51.100.1", "198.51.100.2", 1, 2),
            Verdict::Drop(DropReason::ClassDefaultDrop),
        ),
        (
            "tcp inspect needs a SYN",
            "in3",
            tcp("10.0.0.3", "192.0.2.1", 40001, 80, TcpFlags::ACK, 1, 1),
            Verdict::Drop(DropReason::Tcp(
                pinhole_dataplane::session::TcpInvalid::NotSynFirst,
            )),
        ),
        (
            "tcp SYN opens",
            "in3",
            tcp("10.0.0.3", "192.0.2.1", 40002, 80, TcpFlags::SYN, 100, 0),
            fwd(&p, "out1"),
        ),
        (
            "tcp SYN-ACK returns",
            "out1",
            tcp(
                "192.0.2.1",
                "10.0.0.3",
                80,
                40002,
                TcpFlags::SYN | TcpFlags::ACK,
                500,
                101,
            ),
            fwd(&p, "in3"),
        ),
        (
            "tcp ACK completes",
            "in3",
            tcp("10.0.0.3", "192.0.2.1", 40002, 80, TcpFlags::ACK, 101, 501),
            fwd(&p, "out1"),
        ),
        (
            "session packet on the wrong interface",
            "in1",
            udp("10.0.0.3", "192.0.2.1", 1000, 2000),
            Verdict::Drop(DropReason::SessionWrongInterface),
        ),
    ];
    for (case, ingress, mut frame, want) in cases {
        p.begin_burst(t);
        let got = p.process(&mut frame, iface(&p, ingress), t);
        p.end_burst(t);
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn self_zone_pairs_and_default_zone() {
    let dp = dataplane(json!([
        {"name": "in-self", "source": "inside", "destination": "self", "service_policy": "deny-all"},
        {"name": "default-in", "source": "default", "destination": "inside", "service_policy": "allow-all"}
    ]));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let cases: Vec<(&str, &str, Vec<u8>, Verdict)> = vec![
        (
            "inside to self with a deny pair",
            "in5",
            udp("10.0.0.5", "192.0.2.254", 1000, 161),
            Verdict::Drop(DropReason::ClassDefaultDrop),
        ),
        (
            "self to inside without a pair: passes",
            "out5",
            udp("192.0.2.254", "10.0.0.5", 161, 1000),
            fwd(&p, "in5"),
        ),
        (
            "default zone to inside: allowed by its pair",
            "un1",
            udp("192.0.2.1", "10.0.0.4", 2000, 1000),
            fwd(&p, "in4"),
        ),
        (
            "inside to default: no pair",
            "in4",
            udp("10.0.0.4", "192.0.2.1", 1000, 2001),
            Verdict::Drop(DropReason::NoZonePair),
        ),
        (
            "default to default: same zone passes",
            "un2",
            udp("192.0.2.7", "192.0.2.8", 1, 2),
            fwd(&p, "un3"),
        ),
    ];
    for (case, ingress, mut frame, want) in cases {
        p.begin_burst(t);
        let got = p.process(&mut frame, iface(&p, ingress), t);
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn udp_sessions_age_out() {
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let t0 = Timestamp::from_secs(10);
    let mut out = udp("10.0.0.3", "192.0.2.1", 1000, 2000);
    assert_eq!(p.process(&mut out, iface(&p, "in3"), t0), fwd(&p, "out1"));
    // The default UDP idle timeout is 30 s: at +20 s the return still passes...
    let t1 = Timestamp::from_secs(30);
    p.end_burst(t1);
    let mut back = udp("192.0.2.1", "10.0.0.3", 2000, 1000);
    assert_eq!(p.process(&mut back, iface(&p, "out1"), t1), fwd(&p, "in3"));
    // ...and 31 s after the last packet the session is gone.
    let t2 = Timestamp::from_secs(62);
    p.end_burst(t2);
    assert_eq!(p.sessions().len(), 0);
    let mut back = udp("192.0.2.1", "10.0.0.3", 2000, 1000);
    assert_eq!(
        p.process(&mut back, iface(&p, "out1"), t2),
        Verdict::Drop(DropReason::NoZonePair)
    );
}

fn media_pinhole(dst: &str, port: u16, src: Option<&str>) -> PinholeRequest {
    PinholeRequest {
        transport: Transport::Udp,
        src: src.map(|s| s.parse().unwrap()),
        src_port: None,
        dst: dst.parse().unwrap(),
        dst_port: port,
        kind: MediaKind::Audio,
        call: CallRef(42),
        stream: StreamRef(0),
        opened_by: InspectorKind::Sip,
        idle_timeout: Duration::from_secs(120),
    }
}

#[test]
fn pinhole_opened_by_one_worker_admits_media_on_another() {
    let dp = dataplane(json!([]));
    let mut w0 = dp.worker(WorkerId(0));
    let mut w1 = dp.worker(WorkerId(1));
    let t = Timestamp::from_secs(5);
    // Without a pinhole, media from outside is dropped (no outside->inside pair).
    let mut rtp = udp("192.0.2.1", "10.0.0.3", 30000, 40000);
    assert_eq!(
        w1.process(&mut rtp, iface(&w1, "out1"), t),
        Verdict::Drop(DropReason::NoZonePair)
    );
    // Worker 0's inspector opens a pinhole; worker 1 sees it.
    dp.pinholes
        .open(
            media_pinhole("10.0.0.3", 40000, Some("192.0.2.1")),
            SourceMatch::Exact,
            pinhole_dataplane::policy::ParamMapId(0),
            "default",
            t,
        )
        .unwrap();
    let mut rtp = udp("192.0.2.1", "10.0.0.3", 30000, 40000);
    assert_eq!(w1.process(&mut rtp, iface(&w1, "out1"), t), fwd(&w1, "in3"));
    assert_eq!(w1.stats().sessions_from_pinholes.get(), 1);
    // The other direction of the media flow rides the child session.
    let mut back = udp("10.0.0.3", "192.0.2.1", 40000, 30000);
    assert_eq!(
        w1.process(&mut back, iface(&w1, "in3"), t),
        fwd(&w1, "out1")
    );
    // A source the pinhole does not admit is counted and falls through to the policy.
    let mut spoof = udp("192.0.2.99", "10.0.0.3", 30000, 40000);
    assert_eq!(
        w0.process(&mut spoof, iface(&w0, "out1"), t),
        Verdict::Drop(DropReason::NoZonePair)
    );
    assert_eq!(w0.stats().pinhole_wrong_source.get(), 1);
    // The call ends: its child session on worker 1 ends with it.
    dp.pinholes.close_call(CallRef(42));
    let mut rtp = udp("192.0.2.1", "10.0.0.3", 30000, 40000);
    assert_eq!(
        w1.process(&mut rtp, iface(&w1, "out1"), t),
        Verdict::Drop(DropReason::CallEnded)
    );
    assert_eq!(w1.sessions().len(), 0);
}

#[test]
fn session_table_capacity_is_enforced() {
    let mut doc = policy_json(json!([]));
    doc["sessions"] = json!({"capacity_per_worker": 2});
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&cfg, 1));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    for port in [1000, 1001] {
        let mut f = udp("10.0.0.3", "192.0.2.1", port, 2000);
        assert_eq!(p.process(&mut f, iface(&p, "in3"), t), fwd(&p, "out1"));
    }
    let mut f = udp("10.0.0.3", "192.0.2.1", 1002, 2000);
    assert_eq!(
        p.process(&mut f, iface(&p, "in3"), t),
        Verdict::Drop(DropReason::SessionTableFull)
    );
}

#[test]
fn half_open_limit_is_enforced() {
    let mut doc = policy_json(json!([]));
    doc["parameter_maps"] = json!([{"name": "tight", "max_incomplete": 1}]);
    doc["policy_maps"][0]["classes"][3]["parameter_map"] = json!("tight");
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&cfg, 1));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let mut syn1 = tcp("10.0.0.3", "192.0.2.1", 50000, 80, TcpFlags::SYN, 1, 0);
    assert_eq!(p.process(&mut syn1, iface(&p, "in3"), t), fwd(&p, "out1"));
    let mut syn2 = tcp("10.0.0.3", "192.0.2.1", 50001, 80, TcpFlags::SYN, 1, 0);
    assert_eq!(
        p.process(&mut syn2, iface(&p, "in3"), t),
        Verdict::Drop(DropReason::HalfOpenLimit)
    );
}

#[test]
fn policy_push_keeps_sessions_of_surviving_zone_pairs() {
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let mut out = udp("10.0.0.3", "192.0.2.1", 1000, 2000);
    assert_eq!(p.process(&mut out, iface(&p, "in3"), t), fwd(&p, "out1"));
    // Same zone pair, new version: the session survives.
    let cfg = config::load_str(&policy_json(json!([])).to_string(), &[]).unwrap();
    dp.publish(config::compile(&cfg, 2));
    p.begin_burst(t);
    assert_eq!(p.sessions().len(), 1);
    // The zone pair is removed: its sessions are cleared.
    let mut doc = policy_json(json!([]));
    doc["zone_pairs"] = json!([]);
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    dp.publish(config::compile(&cfg, 3));
    p.begin_burst(t);
    assert_eq!(p.sessions().len(), 0);
    let mut back = udp("192.0.2.1", "10.0.0.3", 2000, 1000);
    assert_eq!(
        p.process(&mut back, iface(&p, "out1"), t),
        Verdict::Drop(DropReason::NoZonePair)
    );
}

fn fragments(src: &str, dst: &str, sport: u16, dport: u16, len: usize) -> Vec<Vec<u8>> {
    use pinhole_dataplane::packet::build::{
        ethernet_ip, fragment_ipv4, pad, udp as udp_segment, Ipv4Header,
    };
    use pinhole_dataplane::packet::IpProtocol;
    let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let datagram = Ipv4Header::new(ip(src), ip(dst), IpProtocol::UDP).build(&udp_segment(
        Port(sport),
        Port(dport),
        &payload,
    ));
    fragment_ipv4(&datagram, 1400)
        .iter()
        .map(|f| pad(ethernet_ip(f)))
        .collect()
}

#[test]
fn fragments_are_judged_as_one_datagram() {
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let frags = fragments("10.0.0.3", "192.0.2.1", 5060, 5060, 3000);
    assert_eq!(frags.len(), 3);
    // Delivered last-first: nothing leaves until the datagram is whole.
    for mut f in frags.iter().rev().cloned() {
        assert_eq!(p.process(&mut f, iface(&p, "in3"), t), Verdict::Consumed);
    }
    let out: Vec<(IfaceId, Vec<u8>)> = p.take_emitted().collect();
    assert_eq!(out.len(), 3, "every original fragment is forwarded");
    assert!(out.iter().all(|(e, _)| *e == iface(&p, "out1")));
    let mut sent: Vec<Vec<u8>> = out.into_iter().map(|(_, f)| f).collect();
    let mut want = frags.clone();
    sent.sort();
    want.sort();
    assert_eq!(sent, want, "fragments leave unchanged on a virtual wire");
    // The whole datagram created one UDP session: the reply passes.
    let mut back = udp("192.0.2.1", "10.0.0.3", 5060, 5060);
    assert_eq!(p.process(&mut back, iface(&p, "out1"), t), fwd(&p, "in3"));
}

#[test]
fn fragments_of_a_dropped_datagram_are_all_dropped() {
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    // outside -> inside has no zone pair.
    for mut f in fragments("192.0.2.1", "10.0.0.3", 5060, 5060, 3000) {
        assert_eq!(p.process(&mut f, iface(&p, "out1"), t), Verdict::Consumed);
    }
    assert_eq!(p.take_emitted().count(), 0);
    let drops = p.stats().drops_by_name();
    assert!(drops.contains(&("no_zone_pair", 3)), "{drops:?}");
}

#[test]
fn incomplete_datagrams_time_out_counted() {
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let frags = fragments("10.0.0.3", "192.0.2.1", 1000, 2000, 3000);
    let mut first = frags[0].clone();
    assert_eq!(
        p.process(&mut first, iface(&p, "in3"), Timestamp::from_secs(1)),
        Verdict::Consumed
    );
    p.end_burst(Timestamp::from_secs(10));
    let drops = p.stats().drops_by_name();
    assert!(drops.contains(&("reassembly_timeout", 1)), "{drops:?}");
    assert_eq!(p.take_emitted().count(), 0);
}

#[test]
fn routed_mode_rewrites_macs_and_ttl() {
    let doc = json!({
        "eal": ["--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [
            {"name": "lan", "port": "net_ring0", "zone": "inside", "prefixes": ["10.0.0.0/8"], "mac": "02:00:00:00:0a:01"},
            {"name": "wan", "port": "net_ring1", "zone": "outside", "prefixes": ["0.0.0.0/0"], "mac": "02:00:00:00:0b:01"}
        ],
        "forwarding": {"mode": "routed", "routes": [
            {"prefix": "0.0.0.0/0", "interface": "wan", "next_hop_mac": "02:aa:00:00:00:01"},
            {"prefix": "10.0.0.0/8", "interface": "lan", "next_hop_mac": "02:bb:00:00:00:01"},
            {"prefix": "10.9.0.0/16", "interface": "wan", "next_hop_mac": "02:cc:00:00:00:01"}
        ]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "udp", "rules": [{"protocol": "udp"}]}],
        "policy_maps": [{"name": "p", "classes": [{"class": "udp", "action": "inspect"}]}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "p"}]
    });
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&cfg, 1));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let mut f = udp("10.0.0.3", "192.0.2.1", 1000, 2000);
    let ttl_before = f[14 + 8];
    assert_eq!(p.process(&mut f, iface(&p, "lan"), t), fwd(&p, "wan"));
    assert_eq!(&f[0..6], &[0x02, 0xaa, 0, 0, 0, 1], "next hop MAC");
    assert_eq!(&f[6..12], &[0x02, 0, 0, 0, 0x0b, 1], "egress interface MAC");
    assert_eq!(f[14 + 8], ttl_before - 1, "TTL decremented");
    assert!(
        pinhole_dataplane::packet::checksum::verifies(&f[14..34]),
        "IPv4 header checksum still valid"
    );
    // Longest prefix wins: 10.9.0.0/16 leaves by the WAN even though 10/8 is the LAN.
    let mut g = udp("10.0.0.3", "10.9.1.1", 1000, 2000);
    assert_eq!(p.process(&mut g, iface(&p, "lan"), t), fwd(&p, "wan"));
    assert_eq!(&g[0..6], &[0x02, 0xcc, 0, 0, 0, 1]);
    // The reply is routed back to the LAN.
    let mut back = udp("192.0.2.1", "10.0.0.3", 2000, 1000);
    assert_eq!(p.process(&mut back, iface(&p, "wan"), t), fwd(&p, "lan"));
    assert_eq!(&back[0..6], &[0x02, 0xbb, 0, 0, 0, 1]);
    // TTL 1 cannot be routed.
    let mut dying = udp("10.0.0.3", "192.0.2.1", 1000, 2000);
    dying[14 + 8] = 1;
    pinhole_dataplane::packet::build::set_ipv4_checksum(&mut dying[14..34]);
    assert_eq!(
        p.process(&mut dying, iface(&p, "lan"), t),
        Verdict::Drop(DropReason::TtlExceeded)
    );
}

#[test]
fn max_sessions_of_a_parameter_map_holds_across_workers() {
    let mut doc = policy_json(json!([]));
    doc["parameter_maps"] = json!([{"name": "two", "max_sessions": 2}]);
    doc["policy_maps"][0]["classes"][2]["parameter_map"] = json!("two");
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&cfg, 1));
    let mut w0 = dp.worker(WorkerId(0));
    let mut w1 = dp.worker(WorkerId(1));
    let t = Timestamp::from_secs(1);
    let mut a = udp("10.0.0.3", "192.0.2.1", 1000, 2000);
    assert_eq!(w0.process(&mut a, iface(&w0, "in3"), t), fwd(&w0, "out1"));
    let mut b = udp("10.0.0.3", "192.0.2.1", 1001, 2000);
    assert_eq!(w1.process(&mut b, iface(&w1, "in3"), t), fwd(&w1, "out1"));
    let mut c = udp("10.0.0.3", "192.0.2.1", 1002, 2000);
    assert_eq!(
        w0.process(&mut c, iface(&w0, "in3"), t),
        Verdict::Drop(DropReason::MaxSessions)
    );
    // When one ages out, a new one fits again.
    w1.end_burst(Timestamp::from_secs(100));
    let mut d = udp("10.0.0.3", "192.0.2.1", 1003, 2000);
    assert_eq!(
        w0.process(&mut d, iface(&w0, "in3"), Timestamp::from_secs(100)),
        fwd(&w0, "out1")
    );
}

#[test]
fn icmp_errors_about_a_session_are_related_traffic() {
    use pinhole_dataplane::packet::build::{ethernet_ip, icmp, pad, Ipv4Header};
    use pinhole_dataplane::packet::IpProtocol;
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let mut out = udp("10.0.0.3", "192.0.2.1", 1000, 2000);
    let original = out.clone();
    assert_eq!(p.process(&mut out, iface(&p, "in3"), t), fwd(&p, "out1"));
    let unreachable = |quoted: &[u8]| {
        let ip = Ipv4Header::new(ip("198.51.100.9"), ip("10.0.0.3"), IpProtocol::ICMP)
            .build(&icmp(3, 3, [0; 4], &quoted[14..14 + 28]));
        pad(ethernet_ip(&ip))
    };
    // Port unreachable about the session's packet, from a router on the outside.
    let mut err = unreachable(&original);
    assert_eq!(p.process(&mut err, iface(&p, "out1"), t), fwd(&p, "in3"));
    assert_eq!(p.stats().related_icmp.get(), 1);
    // The same error about a flow that has no session is policy traffic (no pair).
    let mut err = unreachable(&udp("10.0.0.3", "192.0.2.1", 1999, 2000));
    assert_eq!(
        p.process(&mut err, iface(&p, "out1"), t),
        Verdict::Drop(DropReason::NoZonePair)
    );
}

#[test]
fn vlan_sub_interfaces_are_their_own_interfaces() {
    use pinhole_dataplane::packet::build::{
        ethernet, pad, udp as udp_segment, Ipv4Header, DST_MAC, SRC_MAC,
    };
    use pinhole_dataplane::packet::{EtherType, IpProtocol};
    let doc = json!({
        "eal": ["--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [
            {"name": "trunk-v10", "port": "net_ring0", "vlan": 10, "zone": "inside"},
            {"name": "trunk-v20", "port": "net_ring0", "vlan": 20, "zone": "guest"},
            {"name": "wan", "port": "net_ring1", "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["trunk-v10", "wan"]]},
        "zones": [{"name": "inside"}, {"name": "guest"}, {"name": "outside"}],
        "class_maps": [{"name": "udp", "rules": [{"protocol": "udp"}]}],
        "policy_maps": [{"name": "p", "classes": [{"class": "udp", "action": "inspect"}]}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "p"}]
    });
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&cfg, 1));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let tagged = |vlan: u16| {
        let ip = Ipv4Header::new(ip("10.0.0.3"), ip("192.0.2.1"), IpProtocol::UDP)
            .build(&udp_segment(Port(1000), Port(2000), b"x"));
        pad(ethernet(
            DST_MAC,
            SRC_MAC,
            &[(EtherType::VLAN, vlan)],
            EtherType::IPV4,
            &ip,
        ))
    };
    // The engine hands every frame of the port to the port's first interface; the tag
    // picks the sub-interface.
    let port_iface = iface(&p, "trunk-v10");
    let mut v10 = tagged(10);
    assert_eq!(p.process(&mut v10, port_iface, t), fwd(&p, "wan"));
    let mut v20 = tagged(20);
    assert_eq!(
        p.process(&mut v20, port_iface, t),
        Verdict::Drop(DropReason::NoEgress)
    );
    let mut v30 = tagged(30);
    assert_eq!(
        p.process(&mut v30, port_iface, t),
        Verdict::Drop(DropReason::UnknownVlan)
    );
}

#[test]
fn a_policy_push_switches_midstream_pickup() {
    let dp = dataplane(json!([]));
    let mut p = dp.worker(WorkerId(0));
    let t = Timestamp::from_secs(1);
    let mid = || {
        tcp(
            "10.0.0.3",
            "192.0.2.1",
            41000,
            80,
            TcpFlags::ACK,
            5000,
            9000,
        )
    };
    let mut f = mid();
    assert_eq!(
        p.process(&mut f, iface(&p, "in3"), t),
        Verdict::Drop(DropReason::Tcp(
            pinhole_dataplane::session::TcpInvalid::NotSynFirst
        ))
    );
    let mut doc = policy_json(json!([]));
    doc["sessions"] = json!({"midstream_pickup": true});
    dp.publish(config::compile(
        &config::load_str(&doc.to_string(), &[]).unwrap(),
        2,
    ));
    p.begin_burst(t);
    let mut f = mid();
    assert_eq!(p.process(&mut f, iface(&p, "in3"), t), fwd(&p, "out1"));
}
