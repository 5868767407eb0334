#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Staged session prefetch over a burst: which packets yield a prefetch, that both
//! directions of a flow aim at one session, and that prefetching a burst changes no
//! verdict, counter or session.

use std::net::{IpAddr, Ipv4Addr};

use pinhole_dataplane::ids::{IfaceId, ZoneId};
use pinhole_dataplane::packet::build::{
    ethernet, ethernet_ip, fragment_ipv4, udp, udp4_frame, Ipv4Header, DST_MAC, SRC_MAC,
};
use pinhole_dataplane::packet::{EtherType, IpProtocol, Port};
use pinhole_dataplane::policy::{
    AccessGroup, Action, ClassId, ClassMap, Forwarding, Interface, MatchRule, ParamMapId, Policy,
    PolicyClass, PolicyMap, SessionSettings, Zone, ZonePair,
};
use pinhole_dataplane::session::{
    Endpoint, FlowTuple, SessionKind, SessionSpec, SessionTable, SessionTableConfig, Timeouts,
    PROTO_UDP,
};
use pinhole_dataplane::{Dataplane, Pipeline, Timestamp, Verdict, WorkerId};

/// inside (zone 0) <-> outside (zone 1), everything from inside inspected.
fn policy() -> Policy {
    let iface = |name: &str, zone: u16| Interface {
        name: name.into(),
        port: format!("net_null{zone}"),
        vlan: None,
        zone: Some(ZoneId(zone)),
        prefixes: Vec::new(),
        addresses: Vec::new(),
        mac: [2, 0, 0, 0, 0, 1],
    };
    let mut p = Policy::forwarding_only(
        vec![iface("inside", 0), iface("outside", 1)],
        Forwarding::VirtualWire {
            peer: vec![Some(IfaceId(1)), Some(IfaceId(0))],
        },
    );
    p.zones = vec![
        Zone {
            name: "inside".into(),
        },
        Zone {
            name: "outside".into(),
        },
    ];
    p.policy_maps = vec![PolicyMap {
        name: "all".into(),
        classes: vec![PolicyClass {
            id: ClassId(0),
            name: "any".into(),
            class_map: ClassMap {
                name: "any".into(),
                match_all: false,
                rules: vec![MatchRule::AccessGroup(AccessGroup::default())],
            },
            action: Action::Inspect,
            parameter_map: ParamMapId(0),
            log: false,
        }],
        class_default: Action::Drop,
        class_default_id: ClassId(1),
    }];
    p.class_names = vec!["all/any".into(), "all/class-default".into()];
    p.zone_pairs = vec![ZonePair {
        name: "in-out".into(),
        source: ZoneId(0),
        destination: ZoneId(1),
        policy_map: 0,
    }];
    p.sessions = SessionSettings {
        capacity_per_worker: 4096,
        midstream_pickup: false,
    };
    p.rebuild_indexes();
    p
}

fn inside(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, (i >> 8) as u8, i as u8)
}

const OUTSIDE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);

fn out_frame(i: u32) -> Vec<u8> {
    udp4_frame(inside(i), OUTSIDE, 10_000 + i as u16, 5004, &[0u8; 18])
}

fn back_frame(i: u32) -> Vec<u8> {
    udp4_frame(OUTSIDE, inside(i), 5004, 10_000 + i as u16, &[0u8; 18])
}

fn pipeline() -> Pipeline {
    Dataplane::new(policy()).worker(WorkerId(0))
}

#[test]
fn ip_packets_are_prefetched_and_both_directions_aim_at_one_session() {
    let p = pipeline();
    let fwd = p
        .prefetch(&out_frame(1), IfaceId(0))
        .expect("an IPv4/UDP frame has a key");
    let rev = p
        .prefetch(&back_frame(1), IfaceId(1))
        .expect("its reply too");
    assert_eq!(fwd, rev);
    assert_ne!(Some(fwd), p.prefetch(&out_frame(2), IfaceId(0)));
    // Pass 2 on a flow without a session is harmless.
    p.prefetch_session(fwd);
}

#[test]
fn packets_without_a_session_key_are_not_prefetched() {
    let p = pipeline();
    let frame = out_frame(1);
    assert_eq!(p.prefetch(&frame[..20], IfaceId(0)), None, "truncated");
    assert_eq!(p.prefetch(&[], IfaceId(0)), None, "empty");
    let arp = ethernet(DST_MAC, SRC_MAC, &[], EtherType(0x0806), &[0u8; 28]);
    assert_eq!(p.prefetch(&arp, IfaceId(0)), None, "not IP");
    let ip = Ipv4Header::new(inside(1), OUTSIDE, IpProtocol::UDP).build(&udp(
        Port(10_001),
        Port(5004),
        &[7u8; 600],
    ));
    let fragments = fragment_ipv4(&ip, 256);
    assert!(fragments.len() > 1);
    for f in &fragments {
        assert_eq!(p.prefetch(&ethernet_ip(f), IfaceId(0)), None, "fragment");
    }
}

#[test]
fn a_prefetched_burst_is_judged_exactly_as_an_unprefetched_one() {
    let mut plain = pipeline();
    let mut staged = pipeline();
    let t = Timestamp::from_secs(1);
    // Sessions first, then bursts of replies (arriving outside), repeats, new flows
    // and junk.
    let (inner, outer) = (IfaceId(0), IfaceId(1));
    let mut frames: Vec<(Vec<u8>, IfaceId)> = (0..100).map(|i| (out_frame(i), inner)).collect();
    frames.extend((0..100).rev().map(|i| (back_frame(i), outer)));
    frames.extend((50..150).map(|i| (out_frame(i), inner)));
    frames.push((vec![0u8; 7], inner));
    frames.extend((0..40).map(|i| (back_frame(i * 3), outer)));
    for burst in frames.chunks(32) {
        let mut a = burst.to_vec();
        let mut b = burst.to_vec();
        plain.begin_burst(t);
        let va: Vec<Verdict> = a
            .iter_mut()
            .map(|(f, ingress)| plain.process(f, *ingress, t))
            .collect();
        plain.end_burst(t);
        staged.begin_burst(t);
        // One ingress per burst, as a port's RX burst has; mixed bursts still agree.
        staged.prefetch_burst(b.iter().map(|(f, _)| f.as_slice()), inner);
        let vb: Vec<Verdict> = b
            .iter_mut()
            .map(|(f, ingress)| staged.process(f, *ingress, t))
            .collect();
        staged.end_burst(t);
        assert_eq!(va, vb);
        assert_eq!(a, b);
    }
    assert_eq!(plain.sessions().len(), 150);
    assert_eq!(staged.sessions().len(), 150);
    assert_eq!(plain.stats().summary(), staged.stats().summary());
    assert_eq!(
        plain.stats().session_hits.get(),
        staged.stats().session_hits.get()
    );
    assert_eq!(staged.stats().session_hits.get(), 190);
    assert_eq!(staged.stats().summary().forwarded, 340);
}

#[test]
fn table_prefetch_hash_is_direction_free_and_lookups_unchanged() {
    let mut t = SessionTable::new(SessionTableConfig::with_capacity(64));
    let flow = |i: u8| {
        FlowTuple::new(
            PROTO_UDP,
            Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)), 4000),
            Endpoint::new(IpAddr::V4(OUTSIDE), 5060),
        )
    };
    let spec = SessionSpec::new(SessionKind::Udp, Timeouts::default());
    let h = t
        .insert(&flow(1), 3, Timestamp::from_secs(1), spec, 0u64)
        .unwrap();
    let fwd = t.prefetch_bucket(&flow(1), 3);
    assert_eq!(fwd, t.prefetch_bucket(&flow(1).reversed(), 3));
    assert_ne!(
        fwd,
        t.prefetch_bucket(&flow(1), 4),
        "context is part of the key"
    );
    t.prefetch_session(fwd);
    t.prefetch_session(t.prefetch_bucket(&flow(2), 3));
    assert_eq!(t.lookup(&flow(1).reversed(), 3).map(|(h, _)| h), Some(h));
    assert_eq!(t.lookup(&flow(2), 3), None);
}
