//! The decision logic of [`Pipeline::process`].

use std::sync::Arc;

use super::events::{Event, EventKind};
use super::forward::{self, Egress};
use super::value::{SessionOrigin, SessionValue};
use super::verdict::{DecidedBy, DropReason, Verdict};
use super::Pipeline;
use crate::ids::IfaceId;
use crate::inspect::action::{InspectAction, InspectorKind, MediaKind, Transport};
use crate::packet::frag::FragOutcome;
use crate::packet::{self, L4Summary, PacketSummary, Parsed};
use crate::pinhole::{PinholeLookup, SourceMatch};
use crate::policy::{Action, Alg, ClassMatch, Forwarding, MediaSource, Policy, ZoneResolution};
use crate::session::{
    Direction, Endpoint, ExpiryReason, FlowTuple, InsertError, ObserveError, Session, SessionKind,
    SessionSpec, TcpFlags, TcpSegment, Timeouts,
};
use crate::time::Timestamp;

/// The flow facts of a packet.
pub(super) struct FlowFacts {
    pub(super) tuple: FlowTuple,
    tcp: Option<TcpSegment>,
    transport: Option<Transport>,
}

pub(super) fn flow_of(s: &PacketSummary) -> FlowFacts {
    let (sport, dport, tcp, transport) = match s.l4 {
        L4Summary::Tcp(t) => (
            t.src_port.0,
            t.dst_port.0,
            Some(TcpSegment::new(
                TcpFlags(t.flags.0),
                t.seq,
                t.ack,
                t.payload_len,
            )),
            Some(Transport::Tcp),
        ),
        L4Summary::Udp(u) => (u.src_port.0, u.dst_port.0, None, Some(Transport::Udp)),
        L4Summary::Icmp(i) | L4Summary::Icmpv6(i) => {
            let id = i.echo.map(|e| e.id).unwrap_or(0);
            (id, id, None, None)
        }
        _ => (0, 0, None, None),
    };
    FlowFacts {
        tuple: FlowTuple::new(
            s.protocol.0,
            Endpoint::new(s.src, sport),
            Endpoint::new(s.dst, dport),
        ),
        tcp,
        transport,
    }
}

fn session_kind(s: &PacketSummary) -> SessionKind {
    match s.l4 {
        L4Summary::Tcp(_) => SessionKind::Tcp,
        L4Summary::Udp(_) => SessionKind::Udp,
        L4Summary::Icmp(_) | L4Summary::Icmpv6(_) => SessionKind::Icmp,
        _ => SessionKind::Other,
    }
}

fn session_timeouts(policy: &Policy, pm: crate::policy::ParamMapId) -> Timeouts {
    let t = policy.parameter_map(pm).timeouts;
    Timeouts {
        tcp_syn: t.tcp_syn,
        tcp_established: t.tcp_established,
        tcp_fin: t.tcp_fin,
        udp: t.udp,
        icmp: t.icmp,
        other: t.udp,
    }
}

/// Dense "context" of session keys; both directions of a flow must get the same one, and
/// the frame's tag is no such thing once the engine moves a flow between two VLANs (each
/// direction arrives with its own tag). Routed mode has one routing table, hence one
/// address space: one context. On a virtual wire, sessions of different VLANs (possibly
/// overlapping address plans) stay apart: the context is the VLAN of the wire's lower
/// interface, the same whichever side a packet enters (untagged wires share 0, so a
/// session's packet on another wire is still seen as on the wrong interface).
pub(super) fn key_context(policy: &Policy, ingress: IfaceId) -> u16 {
    match &policy.forwarding {
        Forwarding::Routed { .. } => 0,
        Forwarding::VirtualWire { peer } => {
            let other = peer
                .get(ingress.index())
                .copied()
                .flatten()
                .unwrap_or(ingress);
            policy
                .interface(IfaceId(ingress.0.min(other.0)))
                .and_then(|i| i.vlan)
                .unwrap_or(0)
        }
    }
}

impl Pipeline {
    pub(super) fn judge_frame(
        &mut self,
        frame: &mut [u8],
        ingress: IfaceId,
        now: Timestamp,
    ) -> Verdict {
        // Received frames count on the sub-interface their tag selects; a frame that
        // selects none stays on the interface of the port it arrived on.
        let len = frame.len();
        let parsed = match packet::parse(frame) {
            Ok(p) => p,
            Err(e) => {
                self.count_in(ingress, len);
                return Verdict::Drop(DropReason::Malformed(e));
            }
        };
        let resolved = forward::resolve_vlan(&self.policy, ingress, parsed.l2());
        self.count_in(*resolved.as_ref().unwrap_or(&ingress), len);
        let ingress = match resolved {
            Ok(i) => i,
            Err(r) => return Verdict::Drop(r),
        };
        let summary = match parsed {
            Parsed::NonIp(_) => {
                return match forward::egress_non_ip(&self.policy, ingress) {
                    Ok(e) => {
                        self.stats.non_ip_passed.inc();
                        self.last = DecidedBy::NonIp;
                        Verdict::Forward(e)
                    }
                    Err(r) => Verdict::Drop(r),
                };
            }
            Parsed::Ip(s) => s,
        };
        if summary.fragment.is_some() {
            return self.judge_fragment(frame, &summary, ingress, now);
        }
        let egress = match self.judge_datagram(frame, &summary, ingress, now) {
            Ok(e) => e,
            Err(r) => return Verdict::Drop(r),
        };
        match forward::rewrite(&self.policy, frame, &summary, egress) {
            Ok(()) => Verdict::Forward(egress.iface()),
            Err(r) => Verdict::Drop(r),
        }
    }

    fn count_in(&self, iface: IfaceId, len: usize) {
        if let Some(c) = self.stats.interfaces_in.get(iface.index()) {
            c.packet(len);
        }
    }

    /// Hold a fragment; when its datagram completes, judge the whole datagram and emit
    /// (or drop) every original fragment with that one verdict.
    fn judge_fragment(
        &mut self,
        frame: &[u8],
        summary: &PacketSummary,
        ingress: IfaceId,
        now: Timestamp,
    ) -> Verdict {
        // Fragments are copied: they are rare, and holding the driver's buffers would
        // tie the engine's mbufs to reassembly timeouts.
        let owned = match self
            .reassembler
            .feed(frame, summary, ingress, frame.to_vec(), now)
        {
            FragOutcome::Held | FragOutcome::Duplicate => None,
            FragOutcome::Dropped(reason) => Some(Err(reason)),
            FragOutcome::Complete(done) => {
                let parsed = done.parse();
                let datagram = done.datagram.to_vec();
                let frames: Vec<Vec<u8>> = done.frames.collect();
                Some(Ok((parsed, datagram, frames)))
            }
        };
        self.drain_released_fragments();
        let (parsed, bytes, frames) = match owned {
            None => return Verdict::Consumed,
            Some(Err(reason)) => return Verdict::Drop(DropReason::Fragment(reason)),
            Some(Ok(done)) => done,
        };
        let whole = match parsed {
            Ok(w) => w,
            Err(e) => {
                for _ in &frames {
                    self.stats.count_drop(DropReason::Malformed(e));
                }
                return Verdict::Consumed;
            }
        };
        let decision = self.judge_datagram(&bytes, &whole, ingress, now);
        for mut f in frames {
            let verdict = decision.and_then(|egress| {
                let s = match packet::parse(&f) {
                    Ok(Parsed::Ip(s)) => s,
                    Ok(Parsed::NonIp(_)) => {
                        return Err(DropReason::Fragment(
                            packet::frag::FragDropReason::BadFragmentSummary,
                        ))
                    }
                    Err(e) => return Err(DropReason::Malformed(e)),
                };
                forward::rewrite(&self.policy, &mut f, &s, egress).map(|()| egress.iface())
            });
            match verdict {
                Ok(e) => self.emitted.push((e, f)),
                Err(r) => self.stats.count_drop(r),
            }
        }
        Verdict::Consumed
    }

    fn drain_released_fragments(&mut self) {
        for (_frame, reason) in self.reassembler.take_released() {
            if reason != packet::frag::FragDropReason::DuplicateFragment {
                self.stats.count_drop(DropReason::Fragment(reason));
            }
        }
    }

    /// Judge a whole IP datagram (`buf` is what `s` was parsed from): sessions, then
    /// pinholes, then zone policy.
    fn judge_datagram(
        &mut self,
        buf: &[u8],
        s: &PacketSummary,
        ingress: IfaceId,
        now: Timestamp,
    ) -> Result<Egress, DropReason> {
        let flow = flow_of(s);
        let ctx = key_context(&self.policy, ingress);
        let bytes = s.ip_len;
        if let Some((h, dir)) = self.sessions.lookup(&flow.tuple, ctx) {
            self.stats.session_hits.inc();
            self.last = DecidedBy::Session;
            return self.on_session_packet(h, dir, buf, s, &flow, ingress, now);
        }
        let egress = forward::egress_for(&self.policy, ingress, s.dst)?;

        // An ICMP error about a packet of an existing session (port unreachable, time
        // exceeded, fragmentation needed for path MTU discovery) is related traffic.
        if let Some(related) = embedded_flow(buf, s) {
            if self.sessions.lookup(&related, ctx).is_some() {
                self.stats.related_icmp.inc();
                self.last = DecidedBy::Session;
                return Ok(egress);
            }
        }

        // A pinhole admits media (and signalling) the inspectors announced.
        if let (Some(transport), Some((_, dport))) = (flow.transport, s.ports()) {
            match self.shared.pinholes.lookup(
                transport,
                s.src,
                flow.tuple.src.port,
                s.dst,
                dport.0,
                now,
            ) {
                PinholeLookup::Admit(pinhole) => {
                    return self.open_child(pinhole, &flow, buf, s, ingress, egress, now, bytes);
                }
                PinholeLookup::WrongSource => {
                    self.stats.pinhole_wrong_source.inc();
                    self.push_event(Event {
                        at: now,
                        kind: EventKind::PinholeWrongSource,
                        flow: flow.tuple,
                        ingress: Some(ingress),
                        zone_pair: None,
                        class: None,
                        detail: 0,
                    });
                }
                PinholeLookup::Miss => {}
            }
        }

        let zp = match self
            .policy
            .resolve_zones(ingress, egress.iface(), s.src, s.dst)
        {
            ZoneResolution::Pass => {
                self.stats.stateless_passes.inc();
                self.last = DecidedBy::Pass;
                return Ok(egress);
            }
            ZoneResolution::DropZonedUnzoned => return Err(DropReason::ZonedToUnzoned),
            ZoneResolution::DropNoZonePair => return Err(DropReason::NoZonePair),
            ZoneResolution::Policy(zp) => zp,
        };
        self.last_zone_pair = Some(zp);
        let m = ClassMatch {
            proto: s.protocol.0,
            src: s.src,
            dst: s.dst,
            src_port: flow.tuple.src.port,
            dst_port: flow.tuple.dst.port,
        };
        let Some(decision) = self.policy.classify(zp, &m) else {
            return Err(DropReason::NoZonePair);
        };
        if let Some(c) = self.stats.zone_pairs.get(usize::from(zp.0)) {
            c.packet(bytes as usize);
        }
        if let Some(c) = self.stats.classes.get(usize::from(decision.class.0)) {
            c.packet(bytes as usize);
        }
        match decision.action {
            Action::Drop => {
                let is_default = self
                    .policy
                    .zone_pairs
                    .get(usize::from(zp.0))
                    .and_then(|z| self.policy.policy_maps.get(z.policy_map))
                    .is_some_and(|pm| pm.class_default_id == decision.class);
                let reason = if is_default {
                    DropReason::ClassDefaultDrop
                } else {
                    DropReason::ClassDrop
                };
                if decision.log {
                    self.push_event(Event {
                        at: now,
                        kind: EventKind::Drop(reason),
                        flow: flow.tuple,
                        ingress: Some(ingress),
                        zone_pair: Some(zp),
                        class: Some(decision.class),
                        detail: 0,
                    });
                }
                Err(reason)
            }
            Action::Pass => {
                self.stats.stateless_passes.inc();
                self.last = DecidedBy::Pass;
                Ok(egress)
            }
            Action::Inspect => {
                let pm = decision.parameter_map;
                let timeouts = session_timeouts(&self.policy, pm);
                let kind = session_kind(s);
                let spec = match (kind, flow.tcp) {
                    (SessionKind::Tcp, Some(seg)) => SessionSpec::tcp(seg, timeouts),
                    _ => SessionSpec::new(kind, timeouts),
                }
                .with_first_bytes(bytes);
                let value = SessionValue {
                    origin: SessionOrigin::Inspect,
                    zone_pair: Some(zp),
                    class: Some(decision.class),
                    parameter_map: pm,
                    ingress: [ingress, egress.iface()],
                    alg: None,
                };
                let policy = Arc::clone(&self.policy);
                let params = policy.parameter_map(pm);
                if !self.shared.reserve_session(pm, params.max_sessions) {
                    if params.alert {
                        self.push_event(Event {
                            at: now,
                            kind: EventKind::LimitHit(DropReason::MaxSessions),
                            flow: flow.tuple,
                            ingress: Some(ingress),
                            zone_pair: Some(zp),
                            class: Some(decision.class),
                            detail: 0,
                        });
                    }
                    return Err(DropReason::MaxSessions);
                }
                let h = self
                    .sessions
                    .insert(&flow.tuple, ctx, now, spec, value)
                    .map_err(insert_error_reason);
                let h = match h {
                    Ok(h) => h,
                    Err(r) => {
                        self.shared.release_session(pm);
                        if matches!(r, DropReason::SessionTableFull | DropReason::HalfOpenLimit)
                            && params.alert
                        {
                            self.push_event(Event {
                                at: now,
                                kind: EventKind::LimitHit(r),
                                flow: flow.tuple,
                                ingress: Some(ingress),
                                zone_pair: Some(zp),
                                class: Some(decision.class),
                                detail: 0,
                            });
                        }
                        return Err(r);
                    }
                };
                self.stats.sessions_inspected.inc();
                if let Some(alg) = decision.alg {
                    let state = self.new_flow_alg(alg, s, pm);
                    if let Some(session) = self.sessions.get_mut(h) {
                        session.value.alg = state;
                    }
                }
                if let Some(c) = self.stats.zone_pairs.get(usize::from(zp.0)) {
                    c.sessions.inc();
                }
                if let Some(c) = self.stats.classes.get(usize::from(decision.class.0)) {
                    c.sessions.inc();
                }
                if params.audit_trail {
                    self.push_event(Event {
                        at: now,
                        kind: EventKind::SessionStart,
                        flow: flow.tuple,
                        ingress: Some(ingress),
                        zone_pair: Some(zp),
                        class: Some(decision.class),
                        detail: 0,
                    });
                }
                self.last = DecidedBy::Inspect;
                self.inspect_payload(h, Direction::Forward, buf, s, now)?;
                Ok(egress)
            }
        }
    }

    /// A packet of an existing session.
    #[allow(clippy::too_many_arguments)]
    fn on_session_packet(
        &mut self,
        h: crate::session::SessionHandle,
        dir: Direction,
        buf: &[u8],
        s: &PacketSummary,
        flow: &FlowFacts,
        ingress: IfaceId,
        now: Timestamp,
    ) -> Result<Egress, DropReason> {
        let Some(session) = self.sessions.get(h) else {
            return Err(DropReason::SessionInconsistent);
        };
        let expected = session.value.ingress[dir.index()];
        if expected != ingress {
            return Err(DropReason::SessionWrongInterface);
        }
        if let SessionOrigin::Pinhole(p) = &session.value.origin {
            if !p.state().is_open() {
                if let Some(ended) = self.sessions.remove(h) {
                    self.session_ended(ended, ExpiryReason::Idle, now);
                }
                return Err(DropReason::CallEnded);
            }
            p.record_packet();
        }
        match self
            .sessions
            .observe(h, dir, s.ip_len, flow.tcp.as_ref(), now)
        {
            Ok(_) => {}
            Err(ObserveError::InvalidTcp(t)) => return Err(DropReason::Tcp(t)),
            Err(ObserveError::StaleHandle) => return Err(DropReason::SessionInconsistent),
        }
        let egress = forward::egress_for(&self.policy, ingress, s.dst)?;
        self.inspect_payload(h, dir, buf, s, now)?;
        Ok(egress)
    }

    /// The first packet through a pinhole: create the child session.
    #[allow(clippy::too_many_arguments)]
    fn open_child(
        &mut self,
        pinhole: Arc<crate::pinhole::Pinhole>,
        flow: &FlowFacts,
        buf: &[u8],
        s: &PacketSummary,
        ingress: IfaceId,
        egress: Egress,
        now: Timestamp,
        bytes: u32,
    ) -> Result<Egress, DropReason> {
        let pm = pinhole.param_map_in(&self.policy);
        let params = self.policy.parameter_map(pm).timeouts;
        let timeouts = session_timeouts(&self.policy, pm);
        let kind = session_kind(s);
        let spec = match (kind, flow.tcp) {
            (SessionKind::Tcp, Some(seg)) => SessionSpec::tcp(seg, timeouts),
            _ => SessionSpec::new(kind, timeouts).with_idle_timeout(pinhole.request.idle_timeout),
        }
        .with_max_lifetime(params.max_call_duration)
        .with_first_bytes(bytes);
        // Signalling admitted by a pinhole (direct signalling to a Contact, a registered
        // Contact) is inspected like the flow that announced it.
        let alg = (pinhole.request.kind == MediaKind::Signalling).then_some(
            match pinhole.request.opened_by {
                InspectorKind::Sip => Alg::Sip,
                InspectorKind::Skinny => Alg::Skinny,
            },
        );
        let alg = alg.and_then(|alg| self.new_flow_alg(alg, s, pm));
        let ctx = key_context(&self.policy, ingress);
        let value = SessionValue {
            origin: SessionOrigin::Pinhole(Arc::clone(&pinhole)),
            zone_pair: None,
            class: None,
            parameter_map: pm,
            ingress: [ingress, egress.iface()],
            alg,
        };
        let h = self
            .sessions
            .insert(&flow.tuple, ctx, now, spec, value)
            .map_err(insert_error_reason)?;
        pinhole.activate();
        pinhole.record_packet();
        self.stats.sessions_from_pinholes.inc();
        self.last = DecidedBy::Pinhole;
        self.inspect_payload(h, Direction::Forward, buf, s, now)?;
        Ok(egress)
    }

    /// Bookkeeping when a session leaves the table.
    pub(super) fn session_ended(
        &mut self,
        mut session: Session<SessionValue>,
        reason: ExpiryReason,
        now: Timestamp,
    ) {
        self.stats.sessions_ended.inc();
        if let Some(alg) = session.value.alg.take() {
            self.control_flow_ended(*alg, session.value.parameter_map, now);
        }
        match &session.value.origin {
            SessionOrigin::Pinhole(p) => {
                // Media inactivity ends the stream's pinhole too (reference 4).
                if reason == ExpiryReason::Idle {
                    p.expire();
                }
            }
            SessionOrigin::Inspect => self.shared.release_session(session.value.parameter_map),
        }
        let audit = self
            .policy
            .parameter_map(session.value.parameter_map)
            .audit_trail;
        if audit && session.value.zone_pair.is_some() {
            self.push_event(Event {
                at: now,
                kind: EventKind::SessionEnd,
                flow: session.initiator(),
                ingress: Some(session.value.ingress[0]),
                zone_pair: session.value.zone_pair,
                class: session.value.class,
                detail: session.packets(Direction::Forward) + session.packets(Direction::Reverse),
            });
        }
    }

    /// Apply inspector actions: open pinholes (before the announcing packet leaves),
    /// close streams and calls.
    pub(super) fn apply_actions(&mut self, pm: crate::policy::ParamMapId, now: Timestamp) {
        let params = self.policy.parameter_map(pm);
        let source_match = match params.media_source {
            MediaSource::Announced | MediaSource::SignallingPeer => SourceMatch::Exact,
            MediaSource::SamePrefix => SourceMatch::SamePrefix,
            MediaSource::Any => SourceMatch::Any,
        };
        for action in self.actions.drain(..) {
            match action {
                InspectAction::Open(req) => {
                    let _ = self
                        .shared
                        .pinholes
                        .open(req, source_match, pm, &params.name, now);
                }
                InspectAction::CloseStream { call, stream } => {
                    self.shared.pinholes.close_stream(call, stream);
                }
                InspectAction::CloseCall { call } => {
                    self.shared.pinholes.close_call(call);
                }
            }
        }
    }

    /// Age sessions and fragments.
    pub(super) fn age(&mut self, now: Timestamp, budget: usize) {
        // Reused across bursts: no allocation per burst once it has grown.
        let mut ended = std::mem::take(&mut self.ended);
        self.sessions.advance(now, budget, |_, session, reason| {
            ended.push((session, reason))
        });
        for (session, reason) in ended.drain(..) {
            self.session_ended(session, reason, now);
        }
        self.ended = ended;
        self.reassembler.expire(now);
        self.drain_released_fragments();
    }

    /// Switch to a newly published policy.
    pub(super) fn adopt_policy(&mut self, next: Arc<Policy>, now: Timestamp) {
        let old = std::mem::replace(&mut self.policy, next);
        self.sip.policy_changed();
        let remap: Vec<Option<crate::policy::ZonePairId>> = old
            .zone_pairs
            .iter()
            .map(|zp| {
                self.policy
                    .zone_pairs
                    .iter()
                    .position(|n| n.name == zp.name)
                    .and_then(|i| u16::try_from(i).ok())
                    .map(crate::policy::ZonePairId)
            })
            .collect();
        let class_remap: Vec<Option<crate::policy::ClassId>> = old
            .class_names
            .iter()
            .map(|name| {
                self.policy
                    .class_names
                    .iter()
                    .position(|n| n == name)
                    .and_then(|i| u16::try_from(i).ok())
                    .map(crate::policy::ClassId)
            })
            .collect();
        // Parameter maps are positional: a map inserted or removed before another moves
        // it, so sessions follow their map by name (the built-in default when it is gone).
        let pm_remap: Vec<crate::policy::ParamMapId> = old
            .parameter_maps
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let hint = crate::policy::ParamMapId(u16::try_from(i).unwrap_or(0));
                self.policy.param_map_named(hint, &m.name)
            })
            .collect();
        self.sessions
            .set_max_incomplete(max_incomplete(&self.policy));
        self.sessions.set_tcp_policy(crate::session::TcpPolicy {
            midstream_pickup: self.policy.sessions.midstream_pickup,
        });
        let unchanged = remap
            .iter()
            .enumerate()
            .all(|(i, r)| r.map(|zp| usize::from(zp.0)) == Some(i))
            && class_remap
                .iter()
                .enumerate()
                .all(|(i, r)| r.map(|c| usize::from(c.0)) == Some(i))
            && pm_remap
                .iter()
                .enumerate()
                .all(|(i, pm)| usize::from(pm.0) == i);
        if unchanged {
            // The common push (limits, timeouts): every id still names the same thing.
            return;
        }
        let shared = &self.shared;
        let mut removed = Vec::new();
        self.sessions.update_or_remove(
            |_, s| {
                let pm = s.value.parameter_map;
                let next = pm_remap
                    .get(usize::from(pm.0))
                    .copied()
                    .unwrap_or(crate::policy::ParamMapId(0));
                if next != pm {
                    if matches!(s.value.origin, SessionOrigin::Inspect) {
                        shared.move_session(pm, next);
                    }
                    s.value.parameter_map = next;
                }
                if let Some(zp) = s.value.zone_pair {
                    match remap.get(usize::from(zp.0)).copied().flatten() {
                        Some(next) => s.value.zone_pair = Some(next),
                        // Its zone pair is gone: the session ends (reported under its old
                        // zone pair and class).
                        None => return false,
                    }
                }
                s.value.class = s
                    .value
                    .class
                    .and_then(|c| class_remap.get(usize::from(c.0)).copied().flatten());
                true
            },
            |_, s| removed.push(s),
        );
        for s in removed {
            self.session_ended(s, ExpiryReason::Idle, now);
        }
    }
}

/// The half-open limit of the table: the smallest `max_incomplete` of any parameter map
/// (the table enforces one limit per worker).
pub(super) fn max_incomplete(policy: &Policy) -> u32 {
    policy
        .parameter_maps
        .iter()
        .filter_map(|p| p.max_incomplete)
        .min()
        .unwrap_or(u32::MAX)
}

/// The drop reason for a refused session insert. `Exists` cannot happen after a failed
/// lookup on the same key; it is counted as an inconsistency rather than trusted.
fn insert_error_reason(e: InsertError) -> DropReason {
    match e {
        InsertError::TableFull => DropReason::SessionTableFull,
        InsertError::Exists => DropReason::SessionInconsistent,
        InsertError::HalfOpenLimit => DropReason::HalfOpenLimit,
        InsertError::InvalidTcp(t) => DropReason::Tcp(t),
    }
}

/// The flow an ICMP or ICMPv6 error message is about: the offending packet's addresses,
/// protocol and ports, read leniently from its (usually truncated) copy.
fn embedded_flow(buf: &[u8], s: &PacketSummary) -> Option<FlowTuple> {
    let icmp = match s.l4 {
        L4Summary::Icmp(i) | L4Summary::Icmpv6(i) => i,
        _ => return None,
    };
    let at = usize::try_from(icmp.embedded_offset?).ok()?;
    let inner = buf.get(at..)?;
    let version = inner.first()? >> 4;
    let (src, dst, proto, l4): (std::net::IpAddr, std::net::IpAddr, u8, usize) = match version {
        4 => {
            let ihl = usize::from(inner.first()? & 0x0f) * 4;
            let a: [u8; 4] = inner.get(12..16)?.try_into().ok()?;
            let b: [u8; 4] = inner.get(16..20)?.try_into().ok()?;
            (a.into(), b.into(), *inner.get(9)?, ihl)
        }
        6 => {
            let a: [u8; 16] = inner.get(8..24)?.try_into().ok()?;
            let b: [u8; 16] = inner.get(24..40)?.try_into().ok()?;
            (a.into(), b.into(), *inner.get(6)?, 40)
        }
        _ => return None,
    };
    let ports = inner.get(l4..l4 + 4)?;
    let (sport, dport) = match proto {
        6 | 17 => (
            u16::from_be_bytes([ports[0], ports[1]]),
            u16::from_be_bytes([ports[2], ports[3]]),
        ),
        _ => return None,
    };
    Some(FlowTuple::new(
        proto,
        Endpoint::new(src, sport),
        Endpoint::new(dst, dport),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_insert_is_named_for_its_cause() {
        assert_eq!(
            insert_error_reason(InsertError::TableFull),
            DropReason::SessionTableFull
        );
        assert_eq!(
            insert_error_reason(InsertError::HalfOpenLimit),
            DropReason::HalfOpenLimit
        );
        // A key the lookup missed but the insert found is an internal inconsistency,
        // not a full table: an operator must not be sent to raise `max_sessions`.
        assert_eq!(
            insert_error_reason(InsertError::Exists),
            DropReason::SessionInconsistent
        );
    }
}
