//! Property test: random sequences of insert / lookup / observe / remove / advance
//! keep the table's length, half-open count and index consistent with a model, and
//! aging never expires a session early (nor late, when the budget suffices).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;

use pinhole_dataplane::session::{
    Direction, Endpoint, FlowTuple, InsertError, SessionKind, SessionSpec, SessionTable,
    SessionTableConfig, TcpFlags, TcpSegment, Timeouts, PROTO_TCP, PROTO_UDP,
};
use pinhole_dataplane::Timestamp;

const CAPACITY: u32 = 16;
const MAX_INCOMPLETE: u32 = 4;
const FLOWS: u16 = 40;
const ISN: u32 = 1000;

#[derive(Clone, Debug)]
enum Op {
    Insert { flow: u16, reverse: bool },
    Lookup { flow: u16, reverse: bool },
    Observe { flow: u16, reverse: bool },
    Complete { flow: u16 },
    Remove { flow: u16 },
    Advance { ms: u64, budget: Option<usize> },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..FLOWS, any::<bool>()).prop_map(|(flow, reverse)| Op::Insert { flow, reverse }),
        2 => (0..FLOWS, any::<bool>()).prop_map(|(flow, reverse)| Op::Lookup { flow, reverse }),
        2 => (0..FLOWS, any::<bool>()).prop_map(|(flow, reverse)| Op::Observe { flow, reverse }),
        1 => (0..FLOWS).prop_map(|flow| Op::Complete { flow }),
        1 => (0..FLOWS).prop_map(|flow| Op::Remove { flow }),
        2 => (0u64..20_000, prop::option::of(1usize..8)).prop_map(|(ms, budget)| Op::Advance { ms, budget }),
    ]
}

/// Even flows are UDP, odd flows TCP.
fn tuple(flow: u16) -> FlowTuple {
    let a = Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 1000 + flow);
    let b = Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
    let proto = if flow.is_multiple_of(2) {
        PROTO_UDP
    } else {
        PROTO_TCP
    };
    FlowTuple::new(proto, a, b)
}

#[derive(Clone, Copy, Debug)]
struct Model {
    value: u32,
    tcp: bool,
    half_open: bool,
    /// Whether the model's initiator is the tuple's `a` side.
    forward_is_a: bool,
    last_seen: u64,
}

impl Model {
    fn due_ms(&self) -> u64 {
        let t = Timeouts::default();
        let d = match (self.tcp, self.half_open) {
            (true, true) => t.tcp_syn,
            (true, false) => t.tcp_established,
            (false, _) => t.udp,
        };
        self.last_seen + d.as_millis() as u64
    }
}

fn oriented(flow: u16, reverse: bool) -> FlowTuple {
    if reverse {
        tuple(flow).reversed()
    } else {
        tuple(flow)
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut t = SessionTable::<u32>::new(SessionTableConfig {
        max_incomplete: MAX_INCOMPLETE,
        ..SessionTableConfig::with_capacity(CAPACITY)
    });
    let mut model: HashMap<u16, Model> = HashMap::new();
    let mut now_ms = 1_000u64;
    let mut next_value = 0u32;
    for op in ops {
        let now = Timestamp::from_millis(now_ms);
        match op {
            Op::Insert { flow, reverse } => {
                let tcp = flow % 2 == 1;
                let spec = if tcp {
                    SessionSpec::tcp(
                        TcpSegment::new(TcpFlags::SYN, ISN, 0, 0),
                        Timeouts::default(),
                    )
                } else {
                    SessionSpec::new(SessionKind::Udp, Timeouts::default())
                };
                let got = t.insert(&oriented(flow, reverse), 0, now, spec, next_value);
                let half_open = model.values().filter(|m| m.half_open).count() as u32;
                let expected = if model.contains_key(&flow) {
                    Err(InsertError::Exists)
                } else if model.len() as u32 >= CAPACITY {
                    Err(InsertError::TableFull)
                } else if tcp && half_open >= MAX_INCOMPLETE {
                    Err(InsertError::HalfOpenLimit)
                } else {
                    Ok(())
                };
                prop_assert_eq!(got.map(|_| ()), expected);
                if got.is_ok() {
                    model.insert(
                        flow,
                        Model {
                            value: next_value,
                            tcp,
                            half_open: tcp,
                            forward_is_a: !reverse,
                            last_seen: now_ms,
                        },
                    );
                    next_value += 1;
                }
            }
            Op::Lookup { flow, reverse } => {
                let got = t.lookup(&oriented(flow, reverse), 0);
                match model.get(&flow) {
                    None => prop_assert!(got.is_none()),
                    Some(m) => {
                        let (h, dir) = got.ok_or_else(|| TestCaseError::fail("missing session"))?;
                        let want = if m.forward_is_a != reverse {
                            Direction::Forward
                        } else {
                            Direction::Reverse
                        };
                        prop_assert_eq!(dir, want);
                        prop_assert_eq!(t.get(h).map(|s| s.value), Some(m.value));
                    }
                }
            }
            Op::Observe { flow, reverse } => {
                if let (Some((h, dir)), Some(m)) =
                    (t.lookup(&oriented(flow, reverse), 0), model.get_mut(&flow))
                {
                    // UDP only: TCP segments are driven by `Complete`.
                    if !m.tcp {
                        t.observe(h, dir, 100, None, now)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        m.last_seen = now_ms;
                    }
                }
            }
            Op::Complete { flow } => {
                if let (Some((h, _)), Some(m)) = (t.lookup(&tuple(flow), 0), model.get_mut(&flow)) {
                    if m.tcp && m.half_open {
                        let sa = TcpSegment::new(TcpFlags::SYN | TcpFlags::ACK, 7000, ISN + 1, 0);
                        let ack = TcpSegment::new(TcpFlags::ACK, ISN + 1, 7001, 0);
                        t.observe(h, Direction::Reverse, 60, Some(&sa), now)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        t.observe(h, Direction::Forward, 60, Some(&ack), now)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        m.half_open = false;
                        m.last_seen = now_ms;
                    }
                }
            }
            Op::Remove { flow } => {
                let got = t.lookup(&tuple(flow), 0).and_then(|(h, _)| t.remove(h));
                let want = model.remove(&flow);
                prop_assert_eq!(got.map(|s| s.value), want.map(|m| m.value));
            }
            Op::Advance { ms, budget } => {
                now_ms += ms;
                let now = Timestamp::from_millis(now_ms);
                let mut expired = Vec::new();
                t.advance(now, budget.unwrap_or(usize::MAX), |_, s, _| {
                    expired.push(s.value)
                });
                for v in expired {
                    let flow = model.iter().find(|(_, m)| m.value == v).map(|(f, _)| *f);
                    let flow =
                        flow.ok_or_else(|| TestCaseError::fail("expired unknown session"))?;
                    let m = model
                        .remove(&flow)
                        .ok_or_else(|| TestCaseError::fail("no model"))?;
                    prop_assert!(
                        m.due_ms() <= now_ms,
                        "expired early: due {} now {}",
                        m.due_ms(),
                        now_ms
                    );
                }
                if budget.is_none() {
                    // Deadlines round up to one wheel tick (about 17 ms).
                    let late = model.values().filter(|m| m.due_ms() + 17 < now_ms).count();
                    prop_assert_eq!(late, 0, "sessions left past their deadline");
                }
            }
        }
        prop_assert_eq!(t.len(), model.len());
        prop_assert_eq!(
            t.half_open(),
            model.values().filter(|m| m.half_open).count()
        );
        prop_assert_eq!(t.iter().count(), model.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn table_matches_model(ops in prop::collection::vec(op(), 1..200)) {
        run(ops)?;
    }
}
