//! Session table benchmarks: lookup hit and miss (one at a time, and in bursts of 32
//! with staged prefetch as the worker does them), the established fast path (lookup +
//! TCP tracking + touch), and session creation.
//!
//! Table sizes come from `PINHOLE_BENCH_SESSIONS` (comma-separated, default
//! `1000,1000000,16000000`); the fast path uses `PINHOLE_BENCH_ESTABLISHED`
//! (default `10000,1000000`). Lookups walk a pseudo-random sample of 64 Ki flows so
//! large tables are measured out of cache, as traffic would be.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};

use pinhole_dataplane::session::{
    Endpoint, FlowTuple, SessionKind, SessionSpec, SessionTable, SessionTableConfig, TcpFlags,
    TcpPolicy, TcpSegment, Timeouts, PROTO_TCP, PROTO_UDP,
};
use pinhole_dataplane::Timestamp;

const SAMPLE: usize = 1 << 16;
/// Packets per RX burst in the staged variants.
const BURST: usize = 32;

fn sizes(var: &str, default: &str) -> Vec<u32> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// Flow `i` (unique for i < 2^24): a distinct source address per flow.
fn flow(proto: u8, i: u32) -> FlowTuple {
    let src = Endpoint::new(
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (i & 0x00ff_ffff))),
        1024 + (i % 50_000) as u16,
    );
    let dst = Endpoint::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 5060);
    FlowTuple::new(proto, src, dst)
}

/// A flow that is never inserted.
fn absent(i: u32) -> FlowTuple {
    let src = Endpoint::new(
        IpAddr::V4(Ipv4Addr::from(0x0b00_0000 | (i & 0x00ff_ffff))),
        1024,
    );
    let dst = Endpoint::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 5060);
    FlowTuple::new(PROTO_UDP, src, dst)
}

fn sample(n: u32) -> Vec<u32> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..SAMPLE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % u64::from(n)) as u32
        })
        .collect()
}

fn udp_table(n: u32) -> SessionTable<u64> {
    let mut t = SessionTable::new(SessionTableConfig::with_capacity(n));
    let spec = SessionSpec::new(SessionKind::Udp, Timeouts::default());
    for i in 0..n {
        let _ = t.insert(
            &flow(PROTO_UDP, i),
            0,
            Timestamp::from_secs(1),
            spec,
            u64::from(i),
        );
    }
    t
}

/// `iters` lookups (rounded up to whole bursts) done as the worker does them: bursts
/// of [`BURST`] flows, each staged (bucket prefetch for all, then candidate entry
/// prefetch for all, then the lookups). Returns the time scaled to `iters` lookups.
fn staged_lookups(
    t: &SessionTable<u64>,
    flows: &[FlowTuple],
    k: &mut usize,
    iters: u64,
) -> Duration {
    let bursts = iters.div_ceil(BURST as u64).max(1);
    let mut hashes = [0u64; BURST];
    let start = Instant::now();
    for _ in 0..bursts {
        let at = *k % flows.len().saturating_sub(BURST).max(1);
        *k = k.wrapping_add(BURST);
        let burst = flows.get(at..at + BURST).unwrap_or(flows);
        for (h, f) in hashes.iter_mut().zip(burst) {
            *h = t.prefetch_bucket(black_box(f), 0);
        }
        for &h in &hashes {
            t.prefetch_session(h);
        }
        for f in burst {
            black_box(t.lookup(black_box(f), 0));
        }
    }
    start
        .elapsed()
        .mul_f64(iters as f64 / (bursts * BURST as u64) as f64)
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_lookup");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for n in sizes("PINHOLE_BENCH_SESSIONS", "1000,1000000,16000000") {
        let built = Instant::now();
        let t = udp_table(n);
        eprintln!(
            "built {n} sessions in {:?}; {} bytes per session",
            built.elapsed(),
            t.bytes_per_session()
        );
        let hits: Vec<FlowTuple> = sample(n)
            .into_iter()
            .map(|i| flow(PROTO_UDP, i).reversed())
            .collect();
        let misses: Vec<FlowTuple> = sample(n).into_iter().map(absent).collect();
        let mut k = 0usize;
        group.bench_with_input(BenchmarkId::new("hit", n), &n, |b, _| {
            b.iter(|| {
                k = (k + 1) & (SAMPLE - 1);
                black_box(t.lookup(black_box(&hits[k]), 0))
            })
        });
        group.bench_with_input(BenchmarkId::new("miss", n), &n, |b, _| {
            b.iter(|| {
                k = (k + 1) & (SAMPLE - 1);
                black_box(t.lookup(black_box(&misses[k]), 0))
            })
        });
        for (name, flows) in [("hit_burst32", &hits), ("miss_burst32", &misses)] {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter_custom(|iters| staged_lookups(&t, flows, &mut k, iters))
            });
        }
    }
    group.finish();
}

fn established(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_established");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for n in sizes("PINHOLE_BENCH_ESTABLISHED", "10000,1000000") {
        let mut t = SessionTable::new(SessionTableConfig {
            tcp: TcpPolicy {
                midstream_pickup: true,
            },
            ..SessionTableConfig::with_capacity(n)
        });
        let first = TcpSegment::new(TcpFlags::ACK, 1, 1, 0);
        let spec = SessionSpec::tcp(first, Timeouts::default());
        for i in 0..n {
            let _ = t.insert(
                &flow(PROTO_TCP, i),
                0,
                Timestamp::from_secs(1),
                spec,
                u64::from(i),
            );
        }
        let flows: Vec<FlowTuple> = sample(n).into_iter().map(|i| flow(PROTO_TCP, i)).collect();
        let mut k = 0usize;
        let mut now = Timestamp::from_secs(2);
        group.bench_with_input(BenchmarkId::new("lookup_track_touch", n), &n, |b, _| {
            b.iter(|| {
                k = (k + 1) & (SAMPLE - 1);
                now.0 += 100;
                if let Some((h, dir)) = t.lookup(&flows[k], 0) {
                    let seg = TcpSegment::new(TcpFlags::ACK, 1, 1, 0);
                    black_box(t.observe(h, dir, 1400, Some(&seg), now).is_ok());
                }
            })
        });
    }
    group.finish();
}

fn creation(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_create");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    let spec = SessionSpec::new(SessionKind::Udp, Timeouts::default());
    // Insert into a fresh table (the table grows into its preallocated slab).
    group.bench_function("insert", |b| {
        b.iter_custom(|iters| {
            let n = iters.min(1 << 24) as u32;
            let mut t = SessionTable::<u64>::new(SessionTableConfig::with_capacity(n));
            let flows: Vec<FlowTuple> = (0..n).map(|i| flow(PROTO_UDP, i)).collect();
            let start = Instant::now();
            for (i, f) in flows.iter().enumerate() {
                black_box(
                    t.insert(f, 0, Timestamp::from_secs(1), spec, i as u64)
                        .is_ok(),
                );
            }
            let spent = start.elapsed();
            // Criterion asked for `iters`; scale if the table size was capped.
            spent.mul_f64(iters as f64 / f64::from(n.max(1)))
        })
    });
    // Steady-state churn at 1M sessions: create one, remove the oldest.
    let n = 1_000_000u32;
    let mut t = udp_table(n);
    let mut handles: std::collections::VecDeque<_> = t.iter().map(|(h, _)| h).collect();
    let mut next = n;
    group.bench_function("churn_1000000", |b| {
        b.iter(|| {
            if let Some(old) = handles.pop_front() {
                black_box(t.remove(old));
            }
            let f = flow(PROTO_UDP, next % (1 << 24));
            next = next.wrapping_add(1);
            if let Ok(h) = t.insert(&f, 0, Timestamp::from_secs(1), spec, 0) {
                handles.push_back(h);
            }
        })
    });
    group.finish();
}

/// Runs every session benchmark (criterion's macros would generate undocumented items).
fn main() {
    let mut c = Criterion::default().configure_from_args();
    lookups(&mut c);
    established(&mut c);
    creation(&mut c);
    c.final_summary();
}
