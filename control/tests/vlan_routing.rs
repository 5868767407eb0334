//! Routed forwarding between VLAN sub-interfaces of one port: the engine hands every
//! frame of the port to one interface, the tag picks the sub-interface, the egress tag is
//! rewritten, and an inspected flow's return traffic (which arrives with the other tag)
//! finds its session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::Ipv4Addr;

use pinhole_control::config;
use pinhole_dataplane::packet::build::{ethernet, pad, Ipv4Header, TcpHeader};
use pinhole_dataplane::packet::{EtherType, IpProtocol, Port, TcpFlags};
use pinhole_dataplane::{Dataplane, DropReason, Timestamp, Verdict, WorkerId};
use serde_json::json;

const PHONE_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x10];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x20];

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// A TCP segment tagged with `vlan`.
fn tagged_tcp(
    vlan: u16,
    src: (&str, u16),
    dst: (&str, u16),
    flags: TcpFlags,
    (seq, ack): (u32, u32),
) -> Vec<u8> {
    let mut header = TcpHeader::new(Port(src.1), Port(dst.1), flags);
    header.seq = seq;
    header.ack = ack;
    let tcp = header.build(b"");
    let packet = Ipv4Header::new(ip(src.0), ip(dst.0), IpProtocol::TCP).build(&tcp);
    pad(ethernet(
        pinhole_dataplane::packet::build::DST_MAC,
        pinhole_dataplane::packet::build::SRC_MAC,
        &[(EtherType::VLAN, vlan)],
        EtherType::IPV4,
        &packet,
    ))
}

fn vlan_of(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff
}

#[test]
fn an_inspected_flow_between_two_sub_interfaces_of_one_port_passes_both_ways() {
    let doc = json!({
        "eal": ["--vdev", "net_ring0"],
        "interfaces": [
            {"name": "phones", "port": "net_ring0", "vlan": 10, "zone": "inside",
             "prefixes": ["10.1.0.0/16"], "mac": "02:00:00:00:01:10"},
            {"name": "servers", "port": "net_ring0", "vlan": 20, "zone": "outside",
             "prefixes": ["10.2.0.0/16"], "mac": "02:00:00:00:01:20"}
        ],
        "forwarding": {"mode": "routed", "routes": [
            {"prefix": "10.1.0.0/16", "interface": "phones", "next_hop_mac": "02:00:00:00:00:10"},
            {"prefix": "10.2.0.0/16", "interface": "servers", "next_hop_mac": "02:00:00:00:00:20"}
        ]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "tcp", "rules": [{"protocol": "tcp"}]}],
        "policy_maps": [{"name": "p", "classes": [{"class": "tcp", "action": "inspect"}],
                         "class_default": "drop"}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "p"}]
    });
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&cfg, 1));
    let mut p = dp.worker(WorkerId(0));
    let phones = p.policy().interface_by_name("phones").unwrap();
    let servers = p.policy().interface_by_name("servers").unwrap();
    let t = Timestamp::from_secs(1);
    let phone = ("10.1.1.10", 51000);
    let server = ("10.2.2.2", 2000);

    // Every frame of the port enters on its first interface; the tag decides.
    let mut syn = tagged_tcp(10, phone, server, TcpFlags::SYN, (100, 0));
    assert_eq!(p.process(&mut syn, phones, t), Verdict::Forward(servers));
    assert_eq!(vlan_of(&syn), 20, "the egress tag is the servers' VLAN");
    assert_eq!(syn[..6], SERVER_MAC);

    // The answer comes tagged 20 and must find the session created under tag 10.
    let mut syn_ack = tagged_tcp(20, server, phone, TcpFlags::SYN | TcpFlags::ACK, (500, 101));
    assert_eq!(p.process(&mut syn_ack, phones, t), Verdict::Forward(phones));
    assert_eq!(vlan_of(&syn_ack), 10);
    assert_eq!(syn_ack[..6], PHONE_MAC);
    let mut ack = tagged_tcp(10, phone, server, TcpFlags::ACK, (101, 501));
    assert_eq!(p.process(&mut ack, phones, t), Verdict::Forward(servers));
    assert_eq!(p.stats().sessions_inspected.get(), 1);

    // Every frame entered on the port's first interface; each counts on the
    // sub-interface its tag selected.
    let received = |iface: pinhole_dataplane::IfaceId| {
        p.stats()
            .interfaces_in
            .get(iface.index())
            .unwrap()
            .packets
            .get()
    };
    assert_eq!(received(phones), 2, "the SYN and the ACK, tagged 10");
    assert_eq!(received(servers), 1, "the SYN-ACK, tagged 20");

    // A server may not open a connection toward the phones (no zone pair that way).
    let mut inbound = tagged_tcp(20, server, ("10.1.1.10", 22), TcpFlags::SYN, (9, 0));
    assert_eq!(
        p.process(&mut inbound, phones, t),
        Verdict::Drop(DropReason::NoZonePair)
    );
}

#[test]
fn a_virtual_wire_between_two_sub_interfaces_of_one_port_swaps_the_tag_both_ways() {
    let doc = json!({
        "eal": ["--vdev", "net_ring0"],
        "interfaces": [
            {"name": "v10", "port": "net_ring0", "vlan": 10, "zone": "inside"},
            {"name": "v20", "port": "net_ring0", "vlan": 20, "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["v10", "v20"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "tcp", "rules": [{"protocol": "tcp"}]}],
        "policy_maps": [{"name": "p", "classes": [{"class": "tcp", "action": "inspect"}],
                         "class_default": "drop"}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "p"}]
    });
    let cfg = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&cfg, 1));
    let mut p = dp.worker(WorkerId(0));
    let v10 = p.policy().interface_by_name("v10").unwrap();
    let v20 = p.policy().interface_by_name("v20").unwrap();
    let t = Timestamp::from_secs(1);
    let (client, server) = (("192.0.2.10", 40000), ("192.0.2.20", 80));

    let mut syn = tagged_tcp(10, client, server, TcpFlags::SYN, (100, 0));
    let untouched = syn.clone();
    assert_eq!(p.process(&mut syn, v10, t), Verdict::Forward(v20));
    assert_eq!(vlan_of(&syn), 20, "the frame goes onto the peer's VLAN");
    assert_eq!(syn[..12], untouched[..12], "a wire keeps the MACs");
    assert_eq!(syn[16..], untouched[16..], "and everything after the tag");

    // The answer arrives on VLAN 20 and finds the session the SYN created on VLAN 10.
    let mut syn_ack = tagged_tcp(
        20,
        server,
        client,
        TcpFlags::SYN | TcpFlags::ACK,
        (500, 101),
    );
    assert_eq!(p.process(&mut syn_ack, v10, t), Verdict::Forward(v10));
    assert_eq!(vlan_of(&syn_ack), 10);
    let mut inbound = tagged_tcp(20, server, ("192.0.2.10", 22), TcpFlags::SYN, (9, 0));
    assert_eq!(
        p.process(&mut inbound, v10, t),
        Verdict::Drop(DropReason::NoZonePair)
    );
}
