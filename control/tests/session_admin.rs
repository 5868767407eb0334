//! The operator's session views of one worker's shard (what `GET`/`DELETE
//! /api/v1/sessions` run on each worker): filters, bounded steps, cursors that visit
//! every session once, and clears with the end-of-session bookkeeping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::{IpAddr, Ipv4Addr};

use pinhole_control::config;
use pinhole_dataplane::packet::build::udp4_frame;
use pinhole_dataplane::pipeline::SessionFilter;
use pinhole_dataplane::session::SessionCursor;
use pinhole_dataplane::{Dataplane, IfaceId, Pipeline, Timestamp, Verdict, WorkerId};
use serde_json::json;

const FLOWS: u32 = 10;

fn pipeline() -> Pipeline {
    let doc = json!({
        "eal": ["--no-huge", "--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [{"name": "a", "port": "net_ring0", "zone": "in"},
                       {"name": "b", "port": "net_ring1", "zone": "out"}],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "in"}, {"name": "out"}],
        "class_maps": [{"name": "ntp", "rules": [{"protocol": "ntp"}]}],
        "policy_maps": [{"name": "p", "classes": [{"class": "ntp", "action": "inspect"}]}],
        "zone_pairs": [{"name": "in-out", "source": "in", "destination": "out", "service_policy": "p"}]
    });
    let c = config::load_str(&doc.to_string(), &[]).unwrap();
    let dp = Dataplane::new(config::compile(&c, 1));
    let mut p = dp.worker(WorkerId(0));
    let now = Timestamp::from_secs(1);
    p.begin_burst(now);
    for i in 0..FLOWS {
        let mut f = udp4_frame(
            Ipv4Addr::new(10, 0, 0, 1 + i as u8),
            Ipv4Addr::new(192, 0, 2, 123),
            123,
            123,
            b"ntp",
        );
        assert!(matches!(
            p.process(&mut f, IfaceId(0), now),
            Verdict::Forward(_)
        ));
    }
    p.end_burst(now);
    assert_eq!(p.sessions().len(), FLOWS as usize);
    p
}

fn src(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1 + i as u8))
}

#[test]
fn pages_visit_every_session_once_and_steps_are_bounded() {
    let p = pipeline();
    let now = Timestamp::from_secs(2);
    let all = SessionFilter::default();
    let mut seen = Vec::new();
    let mut cursor = Some(SessionCursor::START);
    let mut pages = 0;
    while let Some(c) = cursor {
        let page = p.session_page(&all, c, usize::MAX, 3, now);
        assert!(page.sessions.len() <= 3);
        seen.extend(page.sessions.iter().map(|s| s.src));
        cursor = page.next;
        pages += 1;
    }
    seen.sort();
    assert_eq!(seen, (0..FLOWS).map(src).collect::<Vec<_>>());
    assert_eq!(pages, 4, "3 + 3 + 3 + 1");
    let step = p.session_page(&all, SessionCursor::START, 2, 100, now);
    assert_eq!(step.sessions.len(), 2, "two slots examined");
    assert_eq!(step.next.map(SessionCursor::slot), Some(2));
    let s = &step.sessions[0];
    assert_eq!(
        (s.zone_pair.as_deref(), s.class.as_deref()),
        (Some("in-out"), Some("p/ntp"))
    );
    assert_eq!(
        (s.kind, s.origin, s.dst_port, s.age_secs),
        ("udp", "inspect", 123, 1)
    );
}

#[test]
fn filters_select_by_zone_pair_protocol_address_and_port() {
    let p = pipeline();
    let now = Timestamp::from_secs(2);
    let count = |f: SessionFilter| {
        p.session_page(&f, SessionCursor::START, usize::MAX, 1000, now)
            .sessions
            .len()
    };
    let by = |zone_pair: Option<&str>, protocol, address, port| SessionFilter {
        zone_pair: zone_pair.map(str::to_owned),
        protocol,
        address,
        port,
    };
    assert_eq!(count(by(Some("in-out"), None, None, None)), FLOWS as usize);
    assert_eq!(count(by(Some("nope"), None, None, None)), 0);
    assert_eq!(count(by(None, Some(17), None, None)), FLOWS as usize);
    assert_eq!(count(by(None, Some(6), None, None)), 0);
    assert_eq!(count(by(None, None, Some(src(4)), None)), 1);
    assert_eq!(count(by(None, Some(17), Some(src(4)), Some(123))), 1);
    assert_eq!(count(by(None, None, Some(src(4)), Some(124))), 0);
}

#[test]
fn clearing_removes_only_what_the_filter_selects_with_bookkeeping() {
    let mut p = pipeline();
    let now = Timestamp::from_secs(2);
    let one = SessionFilter {
        address: Some(src(3)),
        ..SessionFilter::default()
    };
    let (n, next) = p.clear_sessions(&one, SessionCursor::START, usize::MAX, now);
    assert_eq!((n, next), (1, None));
    assert_eq!(p.sessions().len(), FLOWS as usize - 1);
    assert_eq!(p.stats().sessions_ended.get(), 1);
    // Bounded steps: four slots at a time until the end.
    let mut cursor = Some(SessionCursor::START);
    let mut total = 0;
    while let Some(c) = cursor {
        let (n, next) = p.clear_sessions(&SessionFilter::default(), c, 4, now);
        assert!(n <= 4);
        total += n;
        cursor = next;
    }
    assert_eq!(total, FLOWS as usize - 1);
    assert!(p.sessions().is_empty());
}
