//! Policy classification of a new flow: zone resolution (ingress and egress interface
//! to zones, zone pair) then the first matching class of the zone pair's policy map,
//! with 1, 16 and 256 access-group classes (each a /24 destination and a port), for a
//! flow matching the first class, the last class, and none (class-default, the worst
//! case: every rule is tried). Run:
//! `cargo bench -p pinhole-dataplane --bench policy_classify -- --measurement-time 3 --warm-up-time 1`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{BenchmarkId, Criterion, Throughput};

use pinhole_dataplane::ids::{IfaceId, ZoneId};
use pinhole_dataplane::policy::{
    AccessGroup, Action, ClassId, ClassMap, ClassMatch, Forwarding, Interface, MatchRule,
    ParamMapId, Policy, PolicyClass, PolicyMap, PortRange, Prefix, Zone, ZonePair, ZoneResolution,
};

fn server(class: u32) -> Ipv4Addr {
    Ipv4Addr::from(0xC612_0000 | (class << 8) | 10)
}

fn policy(classes: u32) -> Policy {
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
    let class = |k: u32| PolicyClass {
        id: ClassId(k as u16),
        name: format!("c{k}"),
        class_map: ClassMap {
            name: format!("c{k}"),
            match_all: false,
            rules: vec![MatchRule::AccessGroup(AccessGroup {
                dst: Prefix::new(IpAddr::V4(server(k)), 24).into_iter().collect(),
                proto: Some(17),
                dst_ports: vec![PortRange {
                    first: 5000,
                    last: 5999,
                }],
                ..AccessGroup::default()
            })],
        },
        action: Action::Inspect,
        parameter_map: ParamMapId(0),
        log: false,
    };
    p.policy_maps = vec![PolicyMap {
        name: "pm".into(),
        classes: (0..classes).map(class).collect(),
        class_default: Action::Drop,
        class_default_id: ClassId(classes as u16),
    }];
    p.class_names = (0..=classes).map(|k| format!("pm/c{k}")).collect();
    p.zone_pairs = vec![ZonePair {
        name: "in-out".into(),
        source: ZoneId(0),
        destination: ZoneId(1),
        policy_map: 0,
    }];
    p.rebuild_indexes();
    p
}

/// Zones, then classes: what the pipeline does for a session miss.
fn decide(p: &Policy, f: &ClassMatch) -> Option<Action> {
    match p.resolve_zones(IfaceId(0), IfaceId(1), f.src, f.dst) {
        ZoneResolution::Policy(zp) => p.classify(zp, f).map(|d| d.action),
        _ => None,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy_classify");
    group.throughput(Throughput::Elements(1));
    for classes in [1u32, 16, 256] {
        let p = policy(classes);
        let flow = |dst: Ipv4Addr| ClassMatch {
            proto: 17,
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(dst),
            src_port: 40_000,
            dst_port: 5004,
        };
        let cases = [
            ("first", flow(server(0))),
            ("last", flow(server(classes - 1))),
            ("default", flow(Ipv4Addr::new(203, 0, 113, 1))),
        ];
        for (name, f) in cases {
            let expected = if name == "default" {
                Action::Drop
            } else {
                Action::Inspect
            };
            assert_eq!(decide(&p, &f), Some(expected), "{name} of {classes}");
            group.bench_with_input(BenchmarkId::new(name, classes), &f, |b, f| {
                b.iter(|| decide(black_box(&p), black_box(f)))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
