//! The whole sans-IO pipeline on established sessions: parse, session hit, egress, counters,
//! per packet, with the table holding 10k or 1M inspected UDP sessions
//! (`PINHOLE_BENCH_PIPELINE`, comma-separated sizes). Packets walk a pseudo-random sample
//! of 64 Ki flows so large tables are measured out of cache. The `burst32` variant does
//! what the engine's worker does per RX burst: `prefetch_burst` over 32 packets, then
//! `process` each; it is reported per packet.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};

use pinhole_dataplane::ids::{IfaceId, ZoneId};
use pinhole_dataplane::packet::build::udp4_frame;
use pinhole_dataplane::policy::{
    AccessGroup, Action, ClassId, ClassMap, Forwarding, Interface, MatchRule, ParamMapId, Policy,
    PolicyClass, PolicyMap, SessionSettings, Zone, ZonePair,
};
use pinhole_dataplane::{Dataplane, Timestamp, Verdict, WorkerId};

const SAMPLE: usize = 1 << 16;
/// Packets per RX burst in the burst variant.
const BURST: usize = 32;

fn policy(capacity: u32) -> Policy {
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
        capacity_per_worker: capacity,
        midstream_pickup: false,
    };
    p.rebuild_indexes();
    p
}

fn flow_frame(i: u32) -> Vec<u8> {
    let src = Ipv4Addr::from(0x0A00_0000 | (i >> 8));
    let dst = Ipv4Addr::from(0xC000_0200 | (i & 0xff));
    udp4_frame(src, dst, 10_000 + (i % 50_000) as u16, 5004, &[0u8; 18])
}

fn sizes() -> Vec<u32> {
    std::env::var("PINHOLE_BENCH_PIPELINE")
        .unwrap_or_else(|_| "10000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline_established");
    group.throughput(Throughput::Elements(1));
    for n in sizes() {
        let dp = Dataplane::new(policy(n + 1024));
        let mut p = dp.worker(WorkerId(0));
        let t = Timestamp::from_secs(1);
        for i in 0..n {
            let mut f = flow_frame(i);
            assert!(matches!(
                p.process(&mut f, IfaceId(0), t),
                Verdict::Forward(_)
            ));
        }
        assert_eq!(p.sessions().len(), n as usize);
        let mut x = 0x2545_F491u32;
        let mut sample: Vec<Vec<u8>> = (0..SAMPLE.min(n as usize))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                flow_frame(x % n)
            })
            .collect();
        let mut k = 0usize;
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let len = sample.len();
                let f = &mut sample[k % len];
                k = k.wrapping_add(1);
                black_box(p.process(f, IfaceId(0), t))
            })
        });
        // What the worker does with an RX burst: prefetch the burst's sessions in two
        // passes, then process its packets. Reported per packet.
        group.bench_with_input(BenchmarkId::new("burst32", n), &n, |b, _| {
            b.iter_custom(|iters| {
                let bursts = iters.div_ceil(BURST as u64).max(1);
                let start = Instant::now();
                for _ in 0..bursts {
                    let at = k % sample.len().saturating_sub(BURST).max(1);
                    k = k.wrapping_add(BURST);
                    let end = (at + BURST).min(sample.len());
                    let burst = &mut sample[at..end];
                    p.prefetch_burst(burst.iter().map(Vec::as_slice), IfaceId(0));
                    for f in burst.iter_mut() {
                        black_box(p.process(f, IfaceId(0), t));
                    }
                }
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (bursts * BURST as u64) as f64)
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
