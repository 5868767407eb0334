//! Operator views of one worker's session shard: a filtered, bounded dump step and a
//! bounded "clear sessions" step (Cisco's `show policy-map type inspect zone-pair
//! sessions` and `clear zone-pair ... inspect sessions`). The worker runs them between
//! bursts when the control side asks (engine `commands`); replay and tests call them
//! directly.

use std::net::IpAddr;

use serde::Serialize;

use super::value::{SessionOrigin, SessionValue};
use super::Pipeline;
use crate::policy::{Alg, Policy, ZonePairId};
use crate::session::{Direction, ExpiryReason, Session, SessionCursor};
use crate::time::Timestamp;

/// Which sessions a dump or clear concerns; absent fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Zone pair by name (resolved against the worker's current policy; a name it does
    /// not have matches nothing).
    pub zone_pair: Option<String>,
    /// IP protocol number.
    pub protocol: Option<u8>,
    /// Either endpoint's address.
    pub address: Option<IpAddr>,
    /// Either endpoint's port.
    pub port: Option<u16>,
}

/// A filter resolved against one policy (names become ids).
struct Resolved {
    zone_pair: Option<Option<ZonePairId>>,
    protocol: Option<u8>,
    address: Option<IpAddr>,
    port: Option<u16>,
}

impl SessionFilter {
    fn resolve(&self, policy: &Policy) -> Resolved {
        Resolved {
            zone_pair: self.zone_pair.as_ref().map(|name| {
                policy
                    .zone_pairs
                    .iter()
                    .position(|zp| &zp.name == name)
                    .and_then(|i| u16::try_from(i).ok())
                    .map(ZonePairId)
            }),
            protocol: self.protocol,
            address: self.address,
            port: self.port,
        }
    }
}

impl Resolved {
    fn matches(&self, s: &Session<SessionValue>) -> bool {
        let key = s.key();
        let (lo, hi) = (key.lo(), key.hi());
        if let Some(zp) = self.zone_pair {
            // A name the policy lacks (`Some(None)`) matches nothing, not unpaired sessions.
            if zp.is_none() || s.value.zone_pair != zp {
                return false;
            }
        }
        self.protocol.is_none_or(|p| key.proto() == p)
            && self.address.is_none_or(|a| lo.ip == a || hi.ip == a)
            && self.port.is_none_or(|p| lo.port == p || hi.port == p)
    }
}

/// One session as an operator sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// The worker (shard) holding it.
    pub worker: u16,
    /// IP protocol number.
    pub protocol: u8,
    /// Initiator address.
    pub src: IpAddr,
    /// Initiator port (ICMP: echo identifier).
    pub src_port: u16,
    /// Responder address.
    pub dst: IpAddr,
    /// Responder port.
    pub dst_port: u16,
    /// Flow kind (`tcp`, `udp`, `icmp`, `other`).
    pub kind: &'static str,
    /// TCP state, for TCP sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_state: Option<String>,
    /// Zone pair it was admitted under (absent: a pinhole child across no pair).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_pair: Option<String>,
    /// `policy-map/class` that matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// `inspect` or `pinhole` (a media or signalling child of an inspected call).
    pub origin: &'static str,
    /// Inspector attached (`sip`, `skinny`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<&'static str>,
    /// Packets initiator to responder.
    pub packets_forward: u64,
    /// Packets responder to initiator.
    pub packets_reverse: u64,
    /// Bytes initiator to responder.
    pub bytes_forward: u64,
    /// Bytes responder to initiator.
    pub bytes_reverse: u64,
    /// Seconds since creation.
    pub age_secs: u64,
    /// Seconds since the last packet.
    pub idle_secs: u64,
    /// Seconds until it expires unless traffic arrives.
    pub expires_in_secs: u64,
}

fn info(worker: u16, policy: &Policy, s: &Session<SessionValue>, now: Timestamp) -> SessionInfo {
    let flow = s.initiator();
    let v = &s.value;
    SessionInfo {
        worker,
        protocol: flow.proto,
        src: flow.src.ip,
        src_port: flow.src.port,
        dst: flow.dst.ip,
        dst_port: flow.dst.port,
        kind: s.kind().as_str(),
        tcp_state: s.tcp_state().map(|t| format!("{t:?}").to_lowercase()),
        zone_pair: v
            .zone_pair
            .and_then(|zp| policy.zone_pairs.get(usize::from(zp.0)))
            .map(|zp| zp.name.clone()),
        class: v
            .class
            .and_then(|c| policy.class_names.get(usize::from(c.0)))
            .cloned(),
        origin: match v.origin {
            SessionOrigin::Inspect => "inspect",
            SessionOrigin::Pinhole(_) => "pinhole",
        },
        alg: v.alg.as_ref().map(|a| match a.alg() {
            Alg::Sip => "sip",
            Alg::Skinny => "skinny",
        }),
        packets_forward: s.packets(Direction::Forward),
        packets_reverse: s.packets(Direction::Reverse),
        bytes_forward: s.bytes(Direction::Forward),
        bytes_reverse: s.bytes(Direction::Reverse),
        age_secs: now.since(s.created()).as_secs(),
        idle_secs: now.since(s.last_seen()).as_secs(),
        expires_in_secs: s.expires_at().since(now).as_secs(),
    }
}

/// One step of a dump: matching sessions and where to continue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionPage {
    /// Sessions that matched, in slot order.
    pub sessions: Vec<SessionInfo>,
    /// Where the next step starts; `None` when this shard is done.
    pub next: Option<SessionCursor>,
}

impl Pipeline {
    /// Sessions matching `filter` among at most `max_slots` slots from `cursor`, at
    /// most `max` of them (the step stops early, and `next` resumes right after the
    /// last one returned, when `max` is reached).
    pub fn session_page(
        &self,
        filter: &SessionFilter,
        cursor: SessionCursor,
        max_slots: usize,
        max: usize,
        now: Timestamp,
    ) -> SessionPage {
        let resolved = filter.resolve(&self.policy);
        let mut sessions = Vec::new();
        let mut full_at = None;
        let next = self.sessions.scan(cursor, max_slots, |h, s| {
            if full_at.is_some() || !resolved.matches(s) {
                return;
            }
            if sessions.len() == max {
                full_at = Some(SessionCursor::at(h.slot()));
                return;
            }
            sessions.push(info(self.worker.0, &self.policy, s, now));
        });
        SessionPage {
            sessions,
            next: full_at.or(next),
        }
    }

    /// Remove the sessions matching `filter` among at most `max_slots` slots from
    /// `cursor`, with the bookkeeping of any session end (pinholes of a call closed,
    /// parameter-map counts released, audit record). Returns how many were removed and
    /// where to continue (`None`: this shard is done).
    pub fn clear_sessions(
        &mut self,
        filter: &SessionFilter,
        cursor: SessionCursor,
        max_slots: usize,
        now: Timestamp,
    ) -> (usize, Option<SessionCursor>) {
        let resolved = filter.resolve(&self.policy);
        let mut removed = Vec::new();
        let next = self.sessions.clear_matching(
            cursor,
            max_slots,
            |_, s| resolved.matches(s),
            |_, s| removed.push(s),
        );
        let n = removed.len();
        for s in removed {
            // Cleared by the operator: not an idle media flow, so its pinhole is not
            // marked expired here (closing the call is the inspector's job).
            self.session_ended(s, ExpiryReason::TcpClosed, now);
        }
        (n, next)
    }
}
