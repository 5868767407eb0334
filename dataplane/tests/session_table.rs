//! Session table behaviour: one entry for both directions, capacity and half-open
//! limits, stale handles, aging on a fake clock, budgeted expiry, paged iteration.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use pinhole_dataplane::session::{
    Direction, Endpoint, ExpiryReason, FlowTuple, InsertError, ObserveError, SessionCursor,
    SessionHandle, SessionKind, SessionSpec, SessionTable, SessionTableConfig, TcpFlags,
    TcpInvalid, TcpPolicy, TcpSegment, TcpState, TimeoutClass, Timeouts, PROTO_ICMP, PROTO_TCP,
    PROTO_UDP,
};
use pinhole_dataplane::Timestamp;

fn v4(last: u8, port: u16) -> Endpoint {
    Endpoint::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), port)
}

fn v6(last: u16, port: u16) -> Endpoint {
    Endpoint::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)),
        port,
    )
}

fn udp(i: u32) -> FlowTuple {
    let port = (i % 60_000) as u16 + 1024;
    let host = (i / 60_000) as u8;
    FlowTuple::new(PROTO_UDP, v4(host, port), v4(200, 5060))
}

fn secs(s: u64) -> Timestamp {
    Timestamp::from_secs(s)
}

fn table(capacity: u32) -> SessionTable<u32> {
    SessionTable::new(SessionTableConfig::with_capacity(capacity))
}

fn udp_spec() -> SessionSpec {
    SessionSpec::new(SessionKind::Udp, Timeouts::default())
}

fn syn(seq: u32) -> TcpSegment {
    TcpSegment::new(TcpFlags::SYN, seq, 0, 0)
}

fn tcp_tuple(i: u16) -> FlowTuple {
    FlowTuple::new(PROTO_TCP, v4(1, 40_000 + i), v4(2, 443))
}

fn expire_all(t: &mut SessionTable<u32>, now: Timestamp) -> Vec<(u32, ExpiryReason)> {
    let mut out = Vec::new();
    t.advance(now, usize::MAX, |_, s, why| out.push((s.value, why)));
    out
}

#[test]
fn both_directions_hit_one_entry_ipv4_and_ipv6() {
    let mut t = table(16);
    for (i, tuple) in [
        FlowTuple::new(PROTO_UDP, v4(9, 5060), v4(1, 5060)),
        FlowTuple::new(PROTO_UDP, v6(9, 5060), v6(1, 5062)),
        FlowTuple::new(PROTO_ICMP, v4(9, 77), v4(1, 77)),
    ]
    .into_iter()
    .enumerate()
    {
        let h = t.insert(&tuple, 3, secs(1), udp_spec(), i as u32).unwrap();
        assert_eq!(t.lookup(&tuple, 3), Some((h, Direction::Forward)));
        assert_eq!(
            t.lookup(&tuple.reversed(), 3),
            Some((h, Direction::Reverse))
        );
        assert_eq!(t.lookup(&tuple, 4), None, "the context is part of the key");
        assert_eq!(t.get(h).unwrap().initiator(), tuple);
        assert_eq!(
            t.insert(&tuple.reversed(), 3, secs(1), udp_spec(), 9),
            Err(InsertError::Exists)
        );
    }
    assert_eq!(t.len(), 3);
    assert_eq!(t.counters().refused_exists, 3);
}

#[test]
fn per_direction_counters() {
    let mut t = table(4);
    let tuple = udp(1);
    let spec = udp_spec().with_first_bytes(100);
    let h = t.insert(&tuple, 0, secs(1), spec, 0).unwrap();
    let (_, dir) = t.lookup(&tuple.reversed(), 0).unwrap();
    t.observe(h, dir, 60, None, secs(2)).unwrap();
    t.observe(h, dir, 40, None, secs(3)).unwrap();
    let s = t.get(h).unwrap();
    assert_eq!(
        (s.packets(Direction::Forward), s.bytes(Direction::Forward)),
        (1, 100)
    );
    assert_eq!(
        (s.packets(Direction::Reverse), s.bytes(Direction::Reverse)),
        (2, 100)
    );
    assert_eq!(s.created(), secs(1));
    assert_eq!(s.last_seen(), secs(3));
}

#[test]
fn full_table_refuses_and_removing_frees() {
    let mut t = table(3);
    let hs: Vec<_> = (0..3)
        .map(|i| t.insert(&udp(i), 0, secs(1), udp_spec(), i).unwrap())
        .collect();
    assert_eq!(
        t.insert(&udp(3), 0, secs(1), udp_spec(), 3),
        Err(InsertError::TableFull)
    );
    assert_eq!(t.counters().refused_full, 1);
    assert_eq!(t.remove(hs[1]).map(|s| s.value), Some(1));
    assert_eq!(t.counters().removed, 1);
    let h = t.insert(&udp(3), 0, secs(1), udp_spec(), 3).unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(t.lookup(&udp(1), 0), None);
    assert_eq!(t.lookup(&udp(3), 0).map(|x| x.0), Some(h));
}

#[test]
fn stale_handles_are_detected() {
    let mut t = table(1);
    let old = t.insert(&udp(1), 0, secs(1), udp_spec(), 1).unwrap();
    t.remove(old).unwrap();
    let new = t.insert(&udp(2), 0, secs(1), udp_spec(), 2).unwrap();
    assert_eq!(old.slot(), new.slot(), "the slot is reused");
    assert!(t.get(old).is_none());
    assert!(t.get_mut(old).is_none());
    assert!(t.remove(old).is_none());
    assert_eq!(
        t.observe(old, Direction::Forward, 1, None, secs(2)).err(),
        Some(ObserveError::StaleHandle)
    );
    assert!(!t.set_idle_timeout(old, Duration::from_secs(1), secs(2)));
    assert_eq!(t.get(new).map(|s| s.value), Some(2));
}

#[test]
fn half_open_limit() {
    let mut t = SessionTable::<u32>::new(SessionTableConfig {
        max_incomplete: 2,
        ..SessionTableConfig::with_capacity(10)
    });
    let tcp = |seq| SessionSpec::tcp(syn(seq), Timeouts::default());
    let a = t.insert(&tcp_tuple(1), 0, secs(1), tcp(100), 1).unwrap();
    t.insert(&tcp_tuple(2), 0, secs(1), tcp(200), 2).unwrap();
    assert_eq!(t.half_open(), 2);
    assert_eq!(
        t.insert(&tcp_tuple(3), 0, secs(1), tcp(300), 3),
        Err(InsertError::HalfOpenLimit)
    );
    assert_eq!(t.counters().refused_half_open, 1);
    // UDP is not limited by max_incomplete.
    t.insert(&udp(1), 0, secs(1), udp_spec(), 9).unwrap();
    // Completing a handshake frees a half-open place.
    let sa = TcpSegment::new(TcpFlags::SYN | TcpFlags::ACK, 9000, 101, 0);
    t.observe(a, Direction::Reverse, 60, Some(&sa), secs(2))
        .unwrap();
    assert_eq!(t.half_open(), 2, "SYN_RECEIVED is still half-open");
    let ack = TcpSegment::new(TcpFlags::ACK, 101, 9001, 0);
    t.observe(a, Direction::Forward, 60, Some(&ack), secs(2))
        .unwrap();
    assert_eq!(t.half_open(), 1);
    t.insert(&tcp_tuple(3), 0, secs(1), tcp(300), 3).unwrap();
    assert_eq!(t.half_open(), 2);
    // Expiry of half-open sessions frees places too.
    let gone = expire_all(&mut t, secs(40));
    assert_eq!(gone.len(), 3, "two half-open and the UDP session: {gone:?}");
    assert!(gone.contains(&(2, ExpiryReason::HandshakeTimeout)));
    assert_eq!(t.half_open(), 0);
}

#[test]
fn tcp_needs_syn_unless_pickup() {
    let mut t = table(4);
    let ack = TcpSegment::new(TcpFlags::ACK, 5, 5, 10);
    let spec = SessionSpec::tcp(ack, Timeouts::default());
    assert_eq!(
        t.insert(&tcp_tuple(1), 0, secs(1), spec, 1),
        Err(InsertError::InvalidTcp(TcpInvalid::NotSynFirst))
    );
    assert_eq!(t.counters().tcp_invalid_for(TcpInvalid::NotSynFirst), 1);
    assert!(t.is_empty());
    t.set_tcp_policy(TcpPolicy {
        midstream_pickup: true,
    });
    let h = t.insert(&tcp_tuple(1), 0, secs(1), spec, 1).unwrap();
    assert_eq!(t.get(h).unwrap().tcp_state(), Some(TcpState::Established));
    assert_eq!(t.half_open(), 0);
    assert_eq!(
        t.get(h).unwrap().current_timeout(),
        Duration::from_secs(3600)
    );
}

#[test]
fn invalid_segments_are_counted_and_do_not_refresh() {
    let mut t = table(4);
    let h = t
        .insert(
            &tcp_tuple(1),
            0,
            secs(1),
            SessionSpec::tcp(syn(100), Timeouts::default()),
            1,
        )
        .unwrap();
    let bad = TcpSegment::new(TcpFlags::ACK, 101, 0, 10);
    assert_eq!(
        t.observe(h, Direction::Forward, 70, Some(&bad), secs(20))
            .err(),
        Some(ObserveError::InvalidTcp(TcpInvalid::DataBeforeHandshake))
    );
    assert_eq!(
        t.counters()
            .tcp_invalid_for(TcpInvalid::DataBeforeHandshake),
        1
    );
    assert_eq!(t.get(h).unwrap().last_seen(), secs(1));
    assert_eq!(t.get(h).unwrap().packets(Direction::Forward), 1);
    // SYN timeout (30 s) counts from the SYN, not from the invalid packet.
    assert_eq!(
        expire_all(&mut t, secs(32)),
        vec![(1, ExpiryReason::HandshakeTimeout)]
    );
}

#[test]
fn udp_expires_after_timeout_unless_refreshed() {
    let mut t = table(8);
    let a = t.insert(&udp(1), 0, secs(100), udp_spec(), 1).unwrap();
    t.insert(&udp(2), 0, secs(100), udp_spec(), 2).unwrap();
    assert!(expire_all(&mut t, secs(120)).is_empty());
    t.observe(a, Direction::Reverse, 10, None, secs(125))
        .unwrap();
    assert!(expire_all(&mut t, secs(129)).is_empty());
    assert_eq!(expire_all(&mut t, secs(131)), vec![(2, ExpiryReason::Idle)]);
    assert!(t.get(a).is_some(), "traffic at 125 s keeps it until 155 s");
    assert!(expire_all(&mut t, secs(154)).is_empty());
    assert_eq!(expire_all(&mut t, secs(156)), vec![(1, ExpiryReason::Idle)]);
    assert_eq!(t.counters().expired_for(ExpiryReason::Idle), 2);
    assert!(t.is_empty());
}

#[test]
fn icmp_and_override_timeouts() {
    let mut t = table(8);
    let echo = FlowTuple::new(PROTO_ICMP, v4(1, 42), v4(2, 42));
    t.insert(
        &echo,
        0,
        secs(0),
        SessionSpec::new(SessionKind::Icmp, Timeouts::default()),
        1,
    )
    .unwrap();
    let media = udp_spec().with_idle_timeout(Duration::from_secs(120));
    let m = t.insert(&udp(5), 0, secs(0), media, 2).unwrap();
    assert_eq!(expire_all(&mut t, secs(11)), vec![(1, ExpiryReason::Idle)]);
    assert!(expire_all(&mut t, secs(119)).is_empty());
    // Shortening the timeout takes effect without waiting for the old deadline.
    assert!(t.set_idle_timeout(m, Duration::from_secs(5), secs(119)));
    assert_eq!(expire_all(&mut t, secs(119)), vec![(2, ExpiryReason::Idle)]);
}

#[test]
fn max_lifetime_ends_a_busy_session() {
    let mut t = table(4);
    let spec = udp_spec().with_max_lifetime(Duration::from_secs(12 * 3600));
    let h = t.insert(&udp(1), 0, secs(0), spec, 1).unwrap();
    let mut now = 0;
    while now < 12 * 3600 - 10 {
        now += 10;
        t.observe(h, Direction::Forward, 200, None, secs(now))
            .unwrap();
        assert!(expire_all(&mut t, secs(now)).is_empty(), "at {now}");
    }
    assert_eq!(
        expire_all(&mut t, secs(12 * 3600 + 1)),
        vec![(1, ExpiryReason::MaxLifetime)]
    );
}

#[test]
fn tcp_established_long_timeout_then_fin_shortens_it() {
    let mut t = table(4);
    let h = t
        .insert(
            &tcp_tuple(1),
            0,
            secs(0),
            SessionSpec::tcp(syn(100), Timeouts::default()),
            1,
        )
        .unwrap();
    let steps = [
        (
            Direction::Reverse,
            TcpSegment::new(TcpFlags::SYN | TcpFlags::ACK, 500, 101, 0),
        ),
        (
            Direction::Forward,
            TcpSegment::new(TcpFlags::ACK, 101, 501, 0),
        ),
    ];
    for (dir, seg) in steps {
        t.observe(h, dir, 60, Some(&seg), secs(1)).unwrap();
    }
    assert_eq!(t.get(h).unwrap().timeout_class(), TimeoutClass::Idle);
    assert!(
        expire_all(&mut t, secs(3000)).is_empty(),
        "established: 3600 s"
    );
    let fin = TcpSegment::new(TcpFlags::FIN | TcpFlags::ACK, 101, 501, 0);
    t.observe(h, Direction::Forward, 60, Some(&fin), secs(3000))
        .unwrap();
    assert!(
        expire_all(&mut t, secs(3300)).is_empty(),
        "half-closed keeps the idle timeout"
    );
    let fin2 = TcpSegment::new(TcpFlags::FIN | TcpFlags::ACK, 501, 102, 0);
    t.observe(h, Direction::Reverse, 60, Some(&fin2), secs(3300))
        .unwrap();
    assert_eq!(t.get(h).unwrap().timeout_class(), TimeoutClass::Closing);
    assert_eq!(
        expire_all(&mut t, secs(3306)),
        vec![(1, ExpiryReason::TcpClosed)]
    );
}

#[test]
fn rst_closes_with_short_timeout() {
    let mut t = SessionTable::<u32>::new(SessionTableConfig {
        tcp: TcpPolicy {
            midstream_pickup: true,
        },
        ..SessionTableConfig::with_capacity(4)
    });
    let ack = TcpSegment::new(TcpFlags::ACK, 10, 20, 0);
    let h = t
        .insert(
            &tcp_tuple(1),
            0,
            secs(0),
            SessionSpec::tcp(ack, Timeouts::default()),
            1,
        )
        .unwrap();
    let rst = TcpSegment::new(TcpFlags::RST, 20, 0, 0);
    t.observe(h, Direction::Reverse, 40, Some(&rst), secs(5))
        .unwrap();
    assert_eq!(t.get(h).unwrap().tcp_state(), Some(TcpState::Closed));
    assert_eq!(
        expire_all(&mut t, secs(11)),
        vec![(1, ExpiryReason::TcpClosed)]
    );
}

#[test]
fn budgeted_expiry_spreads_a_mass_expiry() {
    let n = 10_000;
    let mut t = table(n);
    for i in 0..n {
        t.insert(&udp(i), 0, secs(0), udp_spec(), i).unwrap();
    }
    let mut seen = HashSet::new();
    let mut calls = 0;
    loop {
        calls += 1;
        let out = t.advance(secs(31), 256, |_, s, _| {
            assert!(seen.insert(s.value));
        });
        assert!(out.expired <= 256);
        if !out.budget_exhausted {
            break;
        }
        assert!(calls < 1000);
    }
    assert_eq!(seen.len(), n as usize);
    assert!(
        calls >= (n as usize) / 256,
        "work was spread: {calls} calls"
    );
    assert!(t.is_empty());
}

#[test]
fn paged_iteration_visits_stable_sessions_exactly_once() {
    let mut t = table(2000);
    let mut handles: Vec<SessionHandle> = (0..1000)
        .map(|i| t.insert(&udp(i), 0, secs(0), udp_spec(), i).unwrap())
        .collect();
    let stable: HashSet<u32> = (0..1000).filter(|i| i % 3 != 0).collect();
    let mut visited = Vec::new();
    let mut cursor = Some(SessionCursor::START);
    let mut next_new = 1000;
    let mut page_no = 0usize;
    while let Some(c) = cursor {
        cursor = t.page(c, 37, |_, s| visited.push(s.value));
        // Between pages: remove some unstable sessions, add new ones (reusing slots).
        for _ in 0..5 {
            if let Some(pos) = handles
                .iter()
                .position(|h| t.get(*h).is_some_and(|s| s.value % 3 == 0))
            {
                let h = handles.swap_remove(pos);
                t.remove(h).unwrap();
            }
            handles.push(
                t.insert(&udp(next_new), 0, secs(0), udp_spec(), next_new)
                    .unwrap(),
            );
            next_new += 1;
        }
        page_no += 1;
        assert!(page_no < 1000);
    }
    let mut counts = std::collections::HashMap::new();
    for v in &visited {
        *counts.entry(*v).or_insert(0) += 1;
    }
    assert!(counts.values().all(|&c| c == 1), "no session visited twice");
    for s in &stable {
        assert_eq!(counts.get(s), Some(&1), "stable session {s} visited once");
    }
}

#[test]
fn clear_matching_in_bounded_steps() {
    let mut t = table(100);
    for i in 0..100 {
        t.insert(
            &udp(i),
            u16::try_from(i % 2).unwrap(),
            secs(0),
            udp_spec(),
            i,
        )
        .unwrap();
    }
    let mut removed = Vec::new();
    let mut cursor = Some(SessionCursor::START);
    while let Some(c) = cursor {
        cursor = t.clear_matching(
            c,
            16,
            |_, s| s.key().context() == 1,
            |_, s| removed.push(s.value),
        );
    }
    assert_eq!(removed.len(), 50);
    assert!(removed.iter().all(|v| v % 2 == 1));
    assert_eq!(t.len(), 50);
    assert_eq!(t.retain(|_, s| s.value < 10), 45);
    assert_eq!(t.len(), 5);
    assert_eq!(t.counters().removed, 95);
    assert_eq!(t.iter().count(), 5);
}

#[test]
fn memory_per_session_is_stated_and_compact() {
    let t = SessionTable::<u64>::new(SessionTableConfig::with_capacity(1 << 20));
    let per = t.bytes_per_session();
    assert!(per < 256, "{per} bytes per session");
}
