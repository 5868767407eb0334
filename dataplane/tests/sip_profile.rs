//! The SIP inspect profile: every rule, under both actions, with the counter it names;
//! a dropped message changes no dialog and opens no pinhole; the rate limiter, block
//! list and dialog cap across messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pinhole_dataplane::inspect::action::{FlowContext, InspectAction, Transport};
use pinhole_dataplane::inspect::sip::{
    BlockPolicy, DialogTable, ProfileGuard, ProfileRule, ProfileState, ProfileVerdict, RateLimit,
    RuleAction, SipConfig, SipInspector, SipOutcome, SipProfile,
};
use pinhole_dataplane::Timestamp;

const CALLER: &str = "10.0.0.1:5060";
const CALLEE: &str = "192.0.2.50:5060";

fn ctx(src: &str, dst: &str) -> FlowContext {
    FlowContext {
        src: src.parse::<SocketAddr>().unwrap(),
        dst: dst.parse::<SocketAddr>().unwrap(),
        transport: Transport::Udp,
        zone_link: pinhole_dataplane::ZoneLink::between("inside", "outside"),
    }
}

fn from_caller() -> FlowContext {
    ctx(CALLER, CALLEE)
}

fn from_callee() -> FlowContext {
    ctx(CALLEE, CALLER)
}

fn sdp(addr: &str, port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

/// A request. `headers` replaces the default Max-Forwards/Contact lines.
struct Req<'a> {
    method: &'a str,
    call_id: &'a str,
    from: &'a str,
    to: &'a str,
    to_tag: Option<&'a str>,
    headers: &'a str,
    body: Option<String>,
}

const INVITE: Req<'static> = Req {
    method: "INVITE",
    call_id: "c1",
    from: "sip:alice@example.com",
    to: "sip:bob@example.net",
    to_tag: None,
    headers: "Max-Forwards: 70\r\nContact: <sip:alice@10.0.0.1>\r\n",
    body: None,
};

impl Req<'_> {
    fn bytes(&self) -> Vec<u8> {
        let m = self.method;
        let to_tag = self.to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        let (ct, body) = match &self.body {
            Some(b) => ("Content-Type: application/sdp\r\n", b.as_str()),
            None => ("", ""),
        };
        format!(
            "{m} {to} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{id}{m}\r\n\
             From: <{from}>;tag=a1\r\nTo: <{to}>{to_tag}\r\nCall-ID: {id}\r\nCSeq: 1 {m}\r\n\
             {headers}{ct}Content-Length: {len}\r\n\r\n{body}",
            to = self.to,
            from = self.from,
            id = self.call_id,
            headers = self.headers,
            len = body.len(),
        )
        .into_bytes()
    }
}

fn invite_with_sdp(call_id: &str) -> Vec<u8> {
    Req {
        call_id,
        body: Some(sdp("10.0.0.1", 4000)),
        ..INVITE
    }
    .bytes()
}

fn response(code: u16, call_id: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 {code} Whatever\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{call_id}INVITE\r\n\
         From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.net>;tag=b2\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.50>\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

struct Harness {
    insp: SipInspector,
    table: Arc<DialogTable>,
    state: Arc<ProfileState>,
    now: Timestamp,
}

impl Harness {
    fn new(profile: SipProfile) -> Self {
        let table = Arc::new(DialogTable::new(4, 64));
        let state = Arc::new(ProfileState::default());
        Harness {
            insp: SipInspector::with_profile(
                Arc::new(SipConfig::default()),
                Arc::clone(&table),
                ProfileGuard::new(Arc::new(profile), Arc::clone(&state)),
            ),
            table,
            state,
            now: Timestamp::from_secs(1000),
        }
    }

    fn feed_at(
        &mut self,
        now: Timestamp,
        bytes: &[u8],
        ctx: &FlowContext,
    ) -> (SipOutcome, Vec<InspectAction>) {
        self.now = now;
        let mut actions = Vec::new();
        let outcome = self.insp.inspect(bytes, ctx, now, &mut actions);
        (outcome, actions)
    }

    fn feed(&mut self, bytes: &[u8], ctx: &FlowContext) -> (SipOutcome, Vec<InspectAction>) {
        let now = self.now.after(Duration::from_millis(10));
        self.feed_at(now, bytes, ctx)
    }

    /// The profile counter named `name`.
    fn counter(&self, name: &str) -> u64 {
        let json = serde_json::to_value(self.insp.counters()).unwrap();
        json["profile"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("no profile counter {name:?} in {json}"))
    }
}

fn opens(actions: &[InspectAction]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, InspectAction::Open(_)))
        .count()
}

type Setup = fn(&mut SipProfile);
type Prepare = fn(&mut Harness);
type Drive = fn(&mut Harness) -> (SipOutcome, Vec<InspectAction>);

/// One rule: how to configure it, what happens before (`prepare`), and the message that
/// breaks it (an INVITE with SDP unless the rule is about something else).
struct Case {
    rule: ProfileRule,
    setup: Setup,
    prepare: Prepare,
    drive: Drive,
}

fn nothing(_: &mut Harness) {}

fn cases() -> Vec<Case> {
    vec![
        Case {
            rule: ProfileRule::MessageTooLarge,
            prepare: nothing,
            setup: |p| p.max_message_size = 300,
            drive: |h| h.feed(&invite_with_sdp("big"), &from_caller()),
        },
        Case {
            rule: ProfileRule::LineTooLong,
            prepare: nothing,
            setup: |p| p.max_line_size = 64,
            drive: |h| {
                let subject = format!(
                    "Max-Forwards: 70\r\nContact: <sip:a@10.0.0.1>\r\nSubject: {}\r\n",
                    "x".repeat(80)
                );
                let msg = Req {
                    headers: &subject,
                    body: Some(sdp("10.0.0.1", 4000)),
                    ..INVITE
                };
                h.feed(&msg.bytes(), &from_caller())
            },
        },
        Case {
            rule: ProfileRule::MissingHeader,
            prepare: nothing,
            setup: |_| {},
            drive: |h| {
                let msg = Req {
                    headers: "Contact: <sip:alice@10.0.0.1>\r\n",
                    body: Some(sdp("10.0.0.1", 4000)),
                    ..INVITE
                };
                h.feed(&msg.bytes(), &from_caller())
            },
        },
        Case {
            rule: ProfileRule::MaxForwards,
            prepare: nothing,
            setup: |_| {},
            drive: |h| {
                let msg = Req {
                    headers: "Max-Forwards: 0\r\nContact: <sip:alice@10.0.0.1>\r\n",
                    body: Some(sdp("10.0.0.1", 4000)),
                    ..INVITE
                };
                h.feed(&msg.bytes(), &from_caller())
            },
        },
        Case {
            rule: ProfileRule::MethodDenied,
            prepare: nothing,
            setup: |p| p.deny_methods = vec![b"INVITE".as_slice().into()],
            drive: |h| h.feed(&invite_with_sdp("denied"), &from_caller()),
        },
        Case {
            rule: ProfileRule::UnknownMethod,
            prepare: nothing,
            setup: |_| {},
            drive: |h| {
                let msg = Req {
                    method: "FROB",
                    ..INVITE
                };
                h.feed(&msg.bytes(), &from_caller())
            },
        },
        Case {
            rule: ProfileRule::UserDenied,
            prepare: nothing,
            setup: |p| p.deny_users = vec![b"alice".as_slice().into()],
            drive: |h| h.feed(&invite_with_sdp("user"), &from_caller()),
        },
        Case {
            rule: ProfileRule::DomainDenied,
            prepare: nothing,
            setup: |p| p.deny_domains = vec![b"EXAMPLE.net".as_slice().into()],
            drive: |h| h.feed(&invite_with_sdp("domain"), &from_caller()),
        },
        Case {
            rule: ProfileRule::SourceBlocked,
            setup: |p| {
                p.block = Some(BlockPolicy {
                    rejected_invites: 1,
                    window: Duration::from_secs(60),
                    duration: Duration::from_secs(60),
                    count_challenges: false,
                })
            },
            prepare: |h| {
                h.feed(&invite_with_sdp("first"), &from_caller());
                h.feed(&response(486, "first"), &from_callee());
            },
            drive: |h| h.feed(&invite_with_sdp("second"), &from_caller()),
        },
        Case {
            rule: ProfileRule::RateLimited,
            setup: |p| {
                p.rate_limits = vec![RateLimit {
                    method: b"INVITE".as_slice().into(),
                    per_second: 1,
                    burst: 1,
                }]
            },
            prepare: |h| {
                h.feed(&invite_with_sdp("first"), &from_caller());
            },
            drive: |h| h.feed(&invite_with_sdp("second"), &from_caller()),
        },
        Case {
            rule: ProfileRule::SourceTableFull,
            setup: |p| {
                p.max_sources = 16;
                p.rate_limits = vec![RateLimit {
                    method: b"INVITE".as_slice().into(),
                    per_second: 100,
                    burst: 100,
                }]
            },
            // 16 sources, one per shard: fill every shard with other sources.
            prepare: |h| {
                for n in 0..2000u32 {
                    let ip = std::net::IpAddr::from([172, 16, (n >> 8) as u8, n as u8]);
                    let _ = h.state.sources.upsert(ip, 16, |_| ());
                }
                assert_eq!(h.state.sources.len(), 16);
            },
            drive: |h| h.feed(&invite_with_sdp("full"), &from_caller()),
        },
        Case {
            rule: ProfileRule::DialogLimit,
            setup: |p| p.max_dialogs = Some(1),
            prepare: |h| {
                h.feed(&invite_with_sdp("first"), &from_caller());
            },
            drive: |h| h.feed(&invite_with_sdp("second"), &from_caller()),
        },
        Case {
            rule: ProfileRule::PinholeLimit,
            // RTP and RTCP: two pinholes.
            prepare: nothing,
            setup: |p| p.max_pinholes_per_call = Some(1),
            drive: |h| h.feed(&invite_with_sdp("pinholes"), &from_caller()),
        },
    ]
}

#[test]
fn every_rule_is_covered() {
    let covered: Vec<ProfileRule> = cases().iter().map(|c| c.rule).collect();
    for rule in ProfileRule::ALL {
        assert!(covered.contains(&rule), "{rule:?} has no case");
    }
}

#[test]
fn drop_action_drops_counts_and_changes_nothing() {
    for case in cases() {
        let mut profile = SipProfile::default();
        (case.setup)(&mut profile);
        profile.actions.set(case.rule, RuleAction::Drop);
        let mut h = Harness::new(profile);
        (case.prepare)(&mut h);
        let dialogs_before = h.table.len();
        let created_before = h.insp.counters().dialogs_created;
        let (outcome, actions) = (case.drive)(&mut h);
        let name = case.rule.name();
        assert_eq!(
            outcome,
            SipOutcome::Refused(ProfileVerdict {
                rule: case.rule,
                action: RuleAction::Drop
            }),
            "{name}"
        );
        assert!(
            actions.is_empty(),
            "{name}: a dropped message acted: {actions:?}"
        );
        assert!(h.counter(name) >= 1, "{name} not counted");
        assert!(h.counter("dropped") >= 1, "{name}: drop not counted");
        assert_eq!(h.table.len(), dialogs_before, "{name}: dialogs changed");
        assert_eq!(
            h.insp.counters().dialogs_created,
            created_before,
            "{name}: a dialog was created"
        );
    }
}

#[test]
fn forward_action_counts_and_inspects() {
    for case in cases() {
        let mut profile = SipProfile::default();
        (case.setup)(&mut profile);
        profile.actions.set(case.rule, RuleAction::Forward);
        let mut h = Harness::new(profile);
        (case.prepare)(&mut h);
        let (outcome, actions) = (case.drive)(&mut h);
        let name = case.rule.name();
        assert!(h.counter(name) >= 1, "{name} not counted");
        assert_eq!(h.counter("dropped"), 0, "{name}: dropped under forward");
        match case.rule {
            // A cap that forwards cannot follow the call: forwarded uninspected.
            ProfileRule::DialogLimit => assert_eq!(
                outcome,
                SipOutcome::Refused(ProfileVerdict {
                    rule: case.rule,
                    action: RuleAction::Forward
                }),
                "{name}"
            ),
            // Not an INVITE: inspected, nothing to open.
            ProfileRule::UnknownMethod => assert_eq!(outcome, SipOutcome::Inspected, "{name}"),
            // The INVITE is inspected as if the rule were not there: its SDP opens.
            _ => {
                assert_eq!(outcome, SipOutcome::Inspected, "{name}");
                assert!(
                    opens(&actions) > 0,
                    "{name}: forwarded INVITE opened nothing"
                );
            }
        }
    }
}

#[test]
fn default_actions_fail_open_on_oddities_and_drop_on_limits() {
    for case in cases() {
        let mut profile = SipProfile::default();
        (case.setup)(&mut profile);
        let mut h = Harness::new(profile);
        (case.prepare)(&mut h);
        let (outcome, _) = (case.drive)(&mut h);
        let dropped = matches!(
            outcome,
            SipOutcome::Refused(ProfileVerdict {
                action: RuleAction::Drop,
                ..
            })
        );
        let fail_open = matches!(
            case.rule,
            ProfileRule::MissingHeader | ProfileRule::UnknownMethod
        );
        assert_eq!(dropped, !fail_open, "{}", case.rule.name());
    }
}

#[test]
fn no_profile_counts_nothing() {
    let mut insp = SipInspector::new(
        Arc::new(SipConfig::default()),
        Arc::new(DialogTable::new(1, 8)),
    );
    let msg = Req {
        method: "FROB",
        headers: "",
        ..INVITE
    };
    let mut actions = Vec::new();
    insp.inspect(
        &msg.bytes(),
        &from_caller(),
        Timestamp::from_secs(1),
        &mut actions,
    );
    assert_eq!(insp.counters().profile, Default::default());
}

fn rate_limited(per_second: u32, burst: u32) -> Harness {
    Harness::new(SipProfile {
        rate_limits: vec![RateLimit {
            method: b"INVITE".as_slice().into(),
            per_second,
            burst,
        }],
        ..SipProfile::default()
    })
}

fn is_rate_limited(outcome: SipOutcome) -> bool {
    matches!(
        outcome,
        SipOutcome::Refused(ProfileVerdict {
            rule: ProfileRule::RateLimited,
            ..
        })
    )
}

#[test]
fn rate_limit_burst_then_refill_per_source_and_method() {
    let mut h = rate_limited(2, 3);
    let t0 = Timestamp::from_secs(100);
    for n in 0..3 {
        let (o, _) = h.feed_at(t0, &invite_with_sdp(&format!("b{n}")), &from_caller());
        assert_eq!(o, SipOutcome::Inspected, "burst INVITE {n}");
    }
    let (o, _) = h.feed_at(t0, &invite_with_sdp("b3"), &from_caller());
    assert!(is_rate_limited(o));
    // Another source has its own bucket; another method has none.
    let (o, _) = h.feed_at(t0, &invite_with_sdp("other"), &ctx("10.0.0.9:5060", CALLEE));
    assert_eq!(o, SipOutcome::Inspected);
    let options = Req {
        method: "OPTIONS",
        headers: "Max-Forwards: 70\r\n",
        ..INVITE
    };
    let (o, _) = h.feed_at(t0, &options.bytes(), &from_caller());
    assert_eq!(o, SipOutcome::Inspected);
    // 2 per second: one token after 500 ms, not before.
    let (o, _) = h.feed_at(
        t0.after(Duration::from_millis(400)),
        &invite_with_sdp("r1"),
        &from_caller(),
    );
    assert!(is_rate_limited(o));
    let (o, _) = h.feed_at(
        t0.after(Duration::from_millis(500)),
        &invite_with_sdp("r2"),
        &from_caller(),
    );
    assert_eq!(o, SipOutcome::Inspected);
    assert_eq!(h.counter("rate_limited"), 2);
}

#[test]
fn idle_sources_are_swept_and_a_full_table_frees_up() {
    let mut h = rate_limited(1, 1);
    let t0 = Timestamp::from_secs(100);
    h.feed_at(t0, &invite_with_sdp("a"), &from_caller());
    assert_eq!(h.state.sources.len(), 1);
    for _ in 0..16 {
        h.insp.sweep_profile(t0);
    }
    assert_eq!(h.state.sources.len(), 1, "the bucket is not full yet");
    for _ in 0..16 {
        h.insp.sweep_profile(t0.after(Duration::from_secs(1)));
    }
    assert!(h.state.sources.is_empty());
}

#[test]
fn block_list_threshold_window_and_expiry() {
    let mut h = Harness::new(SipProfile {
        block: Some(BlockPolicy {
            rejected_invites: 2,
            window: Duration::from_secs(10),
            duration: Duration::from_secs(30),
            count_challenges: false,
        }),
        ..SipProfile::default()
    });
    let at = |s: u64| Timestamp::from_secs(1000 + s);
    let reject = |h: &mut Harness, t: u64, id: &str, code: u16| {
        assert_eq!(
            h.feed_at(at(t), &invite_with_sdp(id), &from_caller()).0,
            SipOutcome::Inspected
        );
        h.feed_at(at(t), &response(code, id), &from_callee());
    };
    // A challenge does not count; one rejection does not block.
    reject(&mut h, 0, "c0", 407);
    reject(&mut h, 1, "c1", 486);
    // The window opened at 1 s has passed by 11 s: this is the first of a new one.
    reject(&mut h, 11, "c2", 603);
    assert_eq!(h.counter("sources_blocked"), 0);
    reject(&mut h, 12, "c3", 404);
    assert_eq!(h.counter("sources_blocked"), 1);
    // Blocked: a new INVITE is refused and opens nothing...
    let (o, actions) = h.feed_at(at(13), &invite_with_sdp("c4"), &from_caller());
    assert!(matches!(o, SipOutcome::Refused(v) if v.rule == ProfileRule::SourceBlocked));
    assert!(actions.is_empty());
    // ...another source is not blocked...
    let (o, _) = h.feed_at(
        at(13),
        &invite_with_sdp("c5"),
        &ctx("10.0.0.7:5060", CALLEE),
    );
    assert_eq!(o, SipOutcome::Inspected);
    // ...in-dialog requests of the blocked source still pass (its calls can end)...
    let bye = Req {
        method: "BYE",
        call_id: "c5",
        to_tag: Some("b2"),
        headers: "Max-Forwards: 70\r\n",
        ..INVITE
    };
    let (o, _) = h.feed_at(at(14), &bye.bytes(), &from_caller());
    assert!(!matches!(o, SipOutcome::Refused(_)), "{o:?}");
    // ...and the block ends after 30 s.
    let (o, _) = h.feed_at(at(41), &invite_with_sdp("c6"), &from_caller());
    assert!(matches!(o, SipOutcome::Refused(_)));
    let (o, _) = h.feed_at(at(42), &invite_with_sdp("c7"), &from_caller());
    assert_eq!(o, SipOutcome::Inspected);
}

#[test]
fn a_cancelled_invite_is_not_a_rejection() {
    let mut h = Harness::new(SipProfile {
        block: Some(BlockPolicy {
            rejected_invites: 1,
            window: Duration::from_secs(10),
            duration: Duration::from_secs(30),
            count_challenges: false,
        }),
        ..SipProfile::default()
    });
    let cancel = Req {
        method: "CANCEL",
        headers: "Max-Forwards: 70\r\n",
        ..INVITE
    };
    assert_eq!(
        h.feed(&invite_with_sdp("c1"), &from_caller()).0,
        SipOutcome::Inspected
    );
    // The 180 carries the callee's tag; the CANCEL does not.
    assert_eq!(
        h.feed(&response(180, "c1"), &from_callee()).0,
        SipOutcome::Inspected
    );
    assert_eq!(
        h.feed(&cancel.bytes(), &from_caller()).0,
        SipOutcome::Inspected
    );
    assert_eq!(
        h.feed(&response(487, "c1"), &from_callee()).0,
        SipOutcome::Inspected
    );
    assert_eq!(h.counter("sources_blocked"), 0);
    assert_eq!(h.insp.counters().dialogs_ended_cancel, 1);
    assert_eq!(h.insp.counters().dialogs_ended_rejected, 0);
    // One rejection would have blocked the caller; the cancellation did not.
    assert_eq!(
        h.feed(&invite_with_sdp("c2"), &from_caller()).0,
        SipOutcome::Inspected
    );
}

#[test]
fn dialog_cap_is_released_when_dialogs_end() {
    let mut h = Harness::new(SipProfile {
        max_dialogs: Some(1),
        ..SipProfile::default()
    });
    assert_eq!(
        h.feed(&invite_with_sdp("one"), &from_caller()).0,
        SipOutcome::Inspected
    );
    assert!(matches!(
        h.feed(&invite_with_sdp("two"), &from_caller()).0,
        SipOutcome::Refused(v) if v.rule == ProfileRule::DialogLimit
    ));
    assert_eq!(h.state.dialogs.live(), 1);
    // A rejection ends the first dialog and gives its ticket back.
    h.feed(&response(486, "one"), &from_callee());
    assert_eq!(h.state.dialogs.live(), 0);
    assert_eq!(
        h.feed(&invite_with_sdp("three"), &from_caller()).0,
        SipOutcome::Inspected
    );
}

#[test]
fn pinhole_cap_counts_both_parties() {
    // Offer: RTP + RTCP = 2; the answer adds 2 more for the callee: 4 in all.
    let mut h = Harness::new(SipProfile {
        max_pinholes_per_call: Some(3),
        ..SipProfile::default()
    });
    assert_eq!(
        h.feed(&invite_with_sdp("p"), &from_caller()).0,
        SipOutcome::Inspected
    );
    let answer = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-pINVITE\r\n\
         From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.net>;tag=b2\r\n\
         Call-ID: p\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.50>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{}",
        sdp("192.0.2.50", 5000).len(),
        sdp("192.0.2.50", 5000)
    );
    let (o, actions) = h.feed(answer.as_bytes(), &from_callee());
    assert!(
        matches!(o, SipOutcome::Refused(v) if v.rule == ProfileRule::PinholeLimit),
        "{o:?}"
    );
    assert!(actions.is_empty());
}

mod properties {
    use pinhole_dataplane::inspect::sip::fuzzing;
    use proptest::prelude::*;

    const SEED: &[u8] = b"INVITE sip:bob@example.org SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nMax-Forwards: 1\r\n\
From: <sip:scanner@example.com>;tag=1\r\nTo: <sip:100@192.0.2.66>\r\n\
Call-ID: c1@10.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:a@10.0.0.1>\r\n\
Content-Type: application/sdp\r\nContent-Length: 60\r\n\r\n\
v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000/4 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn profile_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            prop_assert_eq!(fuzzing::profile_invariants(&bytes), Ok(()));
        }

        #[test]
        fn profile_never_panics_on_mutated_messages(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = SEED.to_vec();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            prop_assert_eq!(fuzzing::profile_invariants(&bytes), Ok(()));
        }
    }
}
