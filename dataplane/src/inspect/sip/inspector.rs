//! The SIP inspector: one complete message in (framing is done by the caller), actions
//! out. It follows dialogs in the shared [`DialogTable`] and turns offer/answer into
//! pinholes, per `shared/reference/sip-alg.md` requirements 1-8, 12 and 13.

use std::net::IpAddr;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use super::config::{MediaSourcePolicy, SipConfig};
use super::counters::SipCounters;
use super::dialog::{
    announced_pinholes, Announcement, Dialog, DialogKind, Effects, Side, MAX_CONTACTS, MAX_STREAMS,
};
use super::error::{InvalidMessage, ParseError, SdpError};
use super::guard::ProfileGuard;
use super::message::SipMessage;
use super::method::Method;
use super::nameaddr::Contact;
use super::profile::{ProfileRule, ProfileVerdict, RuleAction};
use super::sdp::SessionDescription;
use super::startline::StatusCode;
use super::table::{DialogEnd, DialogKeyRef, DialogTable, Inserted, Shard};
use super::uri::Uri;
use super::validate::{check, is_offer_answer_carrier, offer_answer_sdp, CheckedMessage};
use crate::inspect::action::{
    FlowContext, InspectAction, InspectorKind, MediaKind, PinholeRequest, StreamRef, Transport,
};
use crate::time::Timestamp;

/// What the inspector made of one message. The pipeline forwards every outcome but a
/// [`SipOutcome::TableFull`] and a [`SipOutcome::Refused`] whose action is
/// [`RuleAction::Drop`]; a [`SipOutcome::Malformed`] or [`SipOutcome::Invalid`]
/// message goes on uninspected, counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SipOutcome {
    /// Inspected; any resulting actions were pushed.
    Inspected,
    /// A CRLF keep-alive.
    KeepAlive,
    /// Belongs to no followed dialog; nothing changed.
    Unmatched,
    /// A new dialog was refused: the table is full.
    TableFull,
    /// Not parseable as SIP.
    Malformed(ParseError),
    /// Parseable, but not a message to build state from.
    Invalid(InvalidMessage),
    /// The message was inspected, but its SDP was unusable (no media from it).
    BadSdp(SdpError),
    /// A rule of the inspect profile stopped inspection; with [`RuleAction::Drop`] the
    /// message is to be dropped, with [`RuleAction::Forward`] forwarded uninspected.
    /// Either way it changed no dialog and opened no pinhole.
    Refused(ProfileVerdict),
}

/// A worker's SIP inspector: shared configuration, dialog table and inspect profile,
/// own counters.
pub struct SipInspector {
    config: Arc<SipConfig>,
    table: Arc<DialogTable>,
    guard: Option<ProfileGuard>,
    counters: SipCounters,
}

/// The parts of one message the dialog logic needs.
struct Msg<'m, 'a> {
    msg: &'m SipMessage<'a>,
    checked: &'m CheckedMessage<'a>,
    announced: Option<[Announcement; MAX_STREAMS]>,
    ctx: &'m FlowContext,
    now: Timestamp,
}

impl SipInspector {
    /// An inspector over `table` with `config`.
    pub fn new(config: Arc<SipConfig>, table: Arc<DialogTable>) -> Self {
        SipInspector {
            config,
            table,
            guard: None,
            counters: SipCounters::default(),
        }
    }

    /// An inspector that also applies an inspect profile.
    pub fn with_profile(
        config: Arc<SipConfig>,
        table: Arc<DialogTable>,
        guard: ProfileGuard,
    ) -> Self {
        SipInspector {
            guard: Some(guard),
            ..SipInspector::new(config, table)
        }
    }

    /// The inspect profile applied, if any.
    pub fn profile(&self) -> Option<&ProfileGuard> {
        self.guard.as_ref()
    }

    /// This worker's counters.
    pub fn counters(&self) -> &SipCounters {
        &self.counters
    }

    /// The shared dialog table.
    pub fn table(&self) -> &Arc<DialogTable> {
        &self.table
    }

    /// Expire timed-out dialogs of one shard (see [`DialogTable::expire`]).
    pub fn expire(&mut self, now: Timestamp, actions: &mut Vec<InspectAction>) {
        self.table.expire(now, &mut self.counters, actions);
    }

    /// Forget idle sources of the profile (one shard of its source table per call).
    pub fn sweep_profile(&self, now: Timestamp) {
        if let Some(guard) = &self.guard {
            guard.sweep(now);
        }
    }

    /// Inspect one complete message seen on `ctx` at `now`, pushing the actions it calls
    /// for (opens first, then closes) onto `actions`.
    pub fn inspect(
        &mut self,
        payload: &[u8],
        ctx: &FlowContext,
        now: Timestamp,
        actions: &mut Vec<InspectAction>,
    ) -> SipOutcome {
        let SipInspector {
            config,
            table,
            guard,
            counters,
        } = self;
        let (config, table, guard) = (&**config, &**table, guard.as_ref());
        counters.messages += 1;
        if let Some(guard) = guard {
            if let Err(v) = guard.admit_raw(payload, &mut counters.profile) {
                return SipOutcome::Refused(v);
            }
        }
        let msg = match SipMessage::parse(payload, &config.limits) {
            Ok(m) => m,
            Err(ParseError::Empty) => {
                counters.keepalives += 1;
                return SipOutcome::KeepAlive;
            }
            Err(e) => {
                counters.malformed += 1;
                return SipOutcome::Malformed(e);
            }
        };
        if msg.is_request() {
            counters.requests += 1;
        } else {
            counters.responses += 1;
        }
        if let Some(guard) = guard {
            if let Err(v) = guard.admit_message(&msg, ctx, now, &mut counters.profile) {
                return SipOutcome::Refused(v);
            }
        }
        let checked = match check(&msg) {
            Ok(c) => c,
            Err(e) => {
                counters.invalid += 1;
                return SipOutcome::Invalid(e);
            }
        };
        let mut sdp_error = None;
        let sdp = match offer_answer_sdp(&msg, &checked, &config.limits) {
            Ok(s) => s,
            Err(e) => {
                counters.sdp_malformed += 1;
                sdp_error = Some(e);
                None
            }
        };
        if !msg.body().is_empty() && !is_offer_answer_carrier(&msg, &checked) {
            if let Ok(Some(ct)) = msg.content_type() {
                if ct.is(b"application", b"sdp") {
                    counters.sdp_ignored += 1;
                }
            }
        }
        let announced = sdp.map(|s| announcements(&s, counters));
        let m = Msg {
            msg: &msg,
            checked: &checked,
            announced,
            ctx,
            now,
        };
        // REGISTER and its responses are keyed by their own request alone.
        let mut found = match checked.cseq.method {
            Method::Register => None,
            _ => find(table, &m),
        };
        if let (Some(guard), Some(ann)) = (guard, &m.announced) {
            if guard.pinholes_exceed(projected_pinholes(found.as_mut(), &m, ann)) {
                let v = guard.profile().verdict(ProfileRule::PinholeLimit);
                counters.profile.hit(v);
                if v.action == RuleAction::Drop {
                    return SipOutcome::Refused(v);
                }
            }
        }
        let mut fx = Effects::new(config, counters, actions);
        let mut rejected = None;
        let outcome = match msg.method() {
            Some(method) => request(table, method, found, &m, guard, &mut fx),
            None => match msg.status() {
                Some(status) => {
                    let (outcome, rejection) = response(table, status, found, &m, &mut fx);
                    rejected = rejection;
                    outcome
                }
                None => {
                    SipOutcome::Invalid(InvalidMessage::Missing(super::header::HeaderName::CSeq))
                }
            },
        };
        fx.flush();
        if let (Some(guard), Some(status)) = (guard, rejected) {
            // The response travels back to the INVITE's sender.
            guard.record_rejection(ctx.dst.ip(), status, now, &mut counters.profile);
        }
        match (outcome, sdp_error) {
            (SipOutcome::Inspected, Some(e)) => SipOutcome::BadSdp(e),
            (o, _) => o,
        }
    }
}

/// What each stream of `sdp` announces (streams beyond [`MAX_STREAMS`] are counted).
fn announcements(
    sdp: &SessionDescription<'_>,
    counters: &mut SipCounters,
) -> [Announcement; MAX_STREAMS] {
    let mut out = [Announcement::Disabled; MAX_STREAMS];
    for e in sdp.endpoints() {
        match out.get_mut(e.index) {
            Some(slot) => *slot = Announcement::from_endpoint(&e, counters),
            None => counters.streams_over_limit += 1,
        }
    }
    out
}

/// A message's dialog, found once per message: the key it is stored under, which party
/// sent the message's request (for a response, its sender is the other party), and its
/// shard, locked from the lookup until the message is handled, so the dialog cannot
/// vanish in between.
struct Found<'t, 'k> {
    shard: MutexGuard<'t, Shard>,
    key: DialogKeyRef<'k>,
    hash: u64,
    request_from: Side,
}

impl Found<'_, '_> {
    /// The dialog, in the shard locked since it was found (a probe, no lock).
    fn dialog(&mut self) -> Option<&mut Dialog> {
        self.shard.get_mut(self.hash, &self.key)
    }
}

/// Find the dialog of a message: stored under the From tag when the request came from
/// the caller, under the To tag when it came from the callee.
fn find<'t, 'k>(table: &'t DialogTable, m: &Msg<'_, 'k>) -> Option<Found<'t, 'k>> {
    let zone_link = m.ctx.zone_link;
    let call_id = m.checked.call_id;
    let from_tag = m.checked.from.tag().unwrap_or_default();
    let to_tag = m.checked.to.tag();
    let by_from = DialogKeyRef {
        zone_link,
        call_id,
        caller_tag: from_tag,
    };
    let hash = table.hash(&by_from);
    if let Some(mut shard) = table.shard(hash) {
        if shard
            .get_mut(hash, &by_from)
            .is_some_and(|d| d.callee_tag_allows(to_tag))
        {
            return Some(Found {
                shard,
                key: by_from,
                hash,
                request_from: Side::Caller,
            });
        }
    }
    let to_tag = to_tag?;
    let by_to = DialogKeyRef {
        zone_link,
        call_id,
        caller_tag: to_tag,
    };
    let hash = table.hash(&by_to);
    let mut shard = table.shard(hash)?;
    let allows = shard
        .get_mut(hash, &by_to)
        .is_some_and(|d| d.callee_tag_allows(Some(from_tag)));
    allows.then_some(Found {
        shard,
        key: by_to,
        hash,
        request_from: Side::Callee,
    })
}

/// Pinholes the message's call would hold once `announced` is applied.
fn projected_pinholes(
    found: Option<&mut Found<'_, '_>>,
    m: &Msg<'_, '_>,
    announced: &[Announcement; MAX_STREAMS],
) -> u32 {
    let Some(found) = found else {
        return announced_pinholes(announced);
    };
    let side = if m.msg.is_request() {
        found.request_from
    } else {
        found.request_from.other()
    };
    found.dialog().map_or_else(
        || announced_pinholes(announced),
        |d| d.projected_pinholes(side, announced),
    )
}

/// A ticket for a new dialog from the profile's cap (counted when refused).
fn dialog_ticket(
    guard: Option<&ProfileGuard>,
    fx: &mut Effects<'_>,
) -> Result<Option<super::quota::QuotaTicket>, SipOutcome> {
    match guard.map(ProfileGuard::dialog_ticket).transpose() {
        Ok(ticket) => Ok(ticket.flatten()),
        Err(v) => {
            fx.counters.profile.hit(v);
            Err(SipOutcome::Refused(v))
        }
    }
}

/// Remove the found dialog (recorded as ended by `why`) and close its call.
fn end(
    table: &DialogTable,
    found: Found<'_, '_>,
    why: DialogEnd,
    now: Timestamp,
    fx: &mut Effects<'_>,
) -> bool {
    let Found {
        mut shard,
        key,
        hash,
        ..
    } = found;
    let removed = shard.remove(hash, &key);
    drop(shard);
    match removed {
        Some(d) => {
            fx.close_call(d.call());
            table.record_end(&d, why, now);
            true
        }
        None => false,
    }
}

fn request(
    table: &DialogTable,
    method: Method<'_>,
    found: Option<Found<'_, '_>>,
    m: &Msg<'_, '_>,
    guard: Option<&ProfileGuard>,
    fx: &mut Effects<'_>,
) -> SipOutcome {
    let cseq = m.checked.cseq.seq;
    match method {
        Method::Invite => invite(table, found, m, guard, fx),
        Method::Register => register_request(table, m, guard, fx),
        Method::Ack | Method::Update | Method::Prack => {
            let Some(mut found) = found else {
                if method != Method::Ack {
                    fx.counters.unmatched_requests += 1;
                }
                return SipOutcome::Unmatched;
            };
            let side = found.request_from;
            if let Some(d) = found.dialog() {
                d.note_signalling(side, m.ctx);
                if let Some(ann) = &m.announced {
                    d.apply_sdp(side, cseq, false, ann, fx);
                }
            }
            SipOutcome::Inspected
        }
        Method::Bye => {
            if found.is_some_and(|f| end(table, f, DialogEnd::Bye, m.now, fx)) {
                fx.counters.dialogs_ended_bye += 1;
                SipOutcome::Inspected
            } else {
                fx.counters.unmatched_requests += 1;
                SipOutcome::Unmatched
            }
        }
        // Only the caller cancels, and only its pending initial INVITE.
        Method::Cancel => match found {
            Some(mut found)
                if found.request_from == Side::Caller && m.checked.to.tag().is_none() =>
            {
                let is_initial = found.dialog().is_some_and(|d| {
                    !d.is_confirmed() && d.kind() == DialogKind::Call && d.invite_cseq() == cseq
                });
                if is_initial && end(table, found, DialogEnd::Cancel, m.now, fx) {
                    fx.counters.dialogs_ended_cancel += 1;
                    SipOutcome::Inspected
                } else {
                    SipOutcome::Unmatched
                }
            }
            _ => {
                fx.counters.unmatched_requests += 1;
                SipOutcome::Unmatched
            }
        },
        _ => SipOutcome::Inspected,
    }
}

fn invite(
    table: &DialogTable,
    found: Option<Found<'_, '_>>,
    m: &Msg<'_, '_>,
    guard: Option<&ProfileGuard>,
    fx: &mut Effects<'_>,
) -> SipOutcome {
    let cseq = m.checked.cseq.seq;
    let initial = m.checked.to.tag().is_none();
    if let Some(mut found) = found {
        let side = found.request_from;
        return match found.dialog() {
            Some(d) => invite_in(d, side, false, m, fx),
            None => SipOutcome::Inspected,
        };
    }
    if !initial {
        fx.counters.unmatched_requests += 1;
        return SipOutcome::Unmatched;
    }
    let ticket = match dialog_ticket(guard, fx) {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let key = DialogKeyRef {
        zone_link: m.ctx.zone_link,
        call_id: m.checked.call_id,
        caller_tag: m.checked.from.tag().unwrap_or_default(),
    };
    let hash = table.hash(&key);
    let Some(mut shard) = table.shard(hash) else {
        return SipOutcome::TableFull;
    };
    let call = table.next_call();
    let created = shard.insert(
        hash,
        &key,
        || Dialog::new(&key, DialogKind::Call, call, cseq, m.now, fx.config, ticket),
        table.hasher(),
    );
    match created {
        Ok(Inserted::Created(d)) => {
            fx.counters.dialogs_created += 1;
            invite_in(d, Side::Caller, true, m, fx)
        }
        // Stored since `find` looked (another worker), or confirmed under a callee tag
        // this INVITE lacks: either way the caller's, judged by `invite_in`.
        Ok(Inserted::Existing(d)) => invite_in(d, Side::Caller, false, m, fx),
        Err(_) => {
            fx.counters.dialogs_refused += 1;
            SipOutcome::TableFull
        }
    }
}

/// An INVITE from `side` in dialog `d` (`created` by this very INVITE or not).
fn invite_in(
    d: &mut Dialog,
    side: Side,
    created: bool,
    m: &Msg<'_, '_>,
    fx: &mut Effects<'_>,
) -> SipOutcome {
    let cseq = m.checked.cseq.seq;
    let initial = m.checked.to.tag().is_none();
    if initial && side == Side::Caller && !created {
        if d.invite_cseq() == cseq {
            // A retransmission: its offer is the one already applied.
            return SipOutcome::Inspected;
        }
        if d.is_confirmed() {
            // A new initial INVITE cannot reuse a confirmed call's identity.
            fx.counters.unmatched_requests += 1;
            return SipOutcome::Unmatched;
        }
        d.restart(cseq);
    }
    d.note_signalling(side, m.ctx);
    if let Some(ann) = &m.announced {
        d.apply_sdp(side, cseq, false, ann, fx);
    }
    SipOutcome::Inspected
}

/// A response's outcome, and its status when it rejected an initial INVITE (for the
/// block list).
fn response(
    table: &DialogTable,
    status: StatusCode,
    found: Option<Found<'_, '_>>,
    m: &Msg<'_, '_>,
    fx: &mut Effects<'_>,
) -> (SipOutcome, Option<StatusCode>) {
    let cseq = m.checked.cseq.seq;
    let method = m.checked.cseq.method;
    if method == Method::Register {
        return (register_response(table, status, m, fx), None);
    }
    let Some(mut found) = found else {
        // The BYE or CANCEL already ended the dialog: its response is expected, and so
        // is the 487 the CANCEL draws to the INVITE (a cancellation, not a rejection).
        let cancelled_invite = method == Method::Invite && status.0 == 487;
        if matches!(method, Method::Bye | Method::Cancel) || cancelled_invite {
            return (SipOutcome::Inspected, None);
        }
        fx.counters.unmatched_responses += 1;
        return (SipOutcome::Unmatched, None);
    };
    let side = found.request_from.other();
    let to_tag = m.checked.to.tag();
    let Some(d) = found.dialog() else {
        return (SipOutcome::Inspected, None);
    };
    if d.kind() != DialogKind::Call {
        return (SipOutcome::Inspected, None);
    }
    d.note_signalling(side, m.ctx);
    let initial = method == Method::Invite && cseq == d.invite_cseq() && !d.is_confirmed();
    if initial && side == Side::Callee && status.0 > 100 && !status.is_failure() {
        if let Some(tag) = to_tag {
            d.set_callee_tag(tag, status.is_success());
        }
    }
    if let Some(ann) = &m.announced {
        d.apply_sdp(side, cseq, true, ann, fx);
    }
    let mut ended = false;
    if status.is_success() {
        if initial {
            d.confirm(fx.config);
        }
        d.complete_request_offer(cseq, fx);
    } else if status.is_failure() {
        if initial {
            ended = true;
        } else {
            d.reject_request_offer(cseq, fx);
        }
    }
    if ended && end(table, found, DialogEnd::Rejected, m.now, fx) {
        fx.counters.dialogs_ended_rejected += 1;
        return (SipOutcome::Inspected, Some(status));
    }
    (SipOutcome::Inspected, None)
}

/// The address-literal contacts a REGISTER asks to bind.
fn register_contacts(m: &Msg<'_, '_>) -> [Option<(IpAddr, u16)>; MAX_CONTACTS] {
    let mut out = [None; MAX_CONTACTS];
    let mut n = 0usize;
    for contact in m.msg.contacts().flatten() {
        let Contact::Addr(a) = contact else { continue };
        let Uri::Sip(uri) = a.uri else { continue };
        let Some(ip) = uri.host.ip() else { continue };
        if let Some(slot) = out.get_mut(n) {
            *slot = Some((ip, uri.port_or_default()));
            n += 1;
        }
    }
    out
}

fn register_request(
    table: &DialogTable,
    m: &Msg<'_, '_>,
    guard: Option<&ProfileGuard>,
    fx: &mut Effects<'_>,
) -> SipOutcome {
    if !fx.config.register_pinholes {
        return SipOutcome::Inspected;
    }
    let key = DialogKeyRef {
        zone_link: m.ctx.zone_link,
        call_id: m.checked.call_id,
        caller_tag: m.checked.from.tag().unwrap_or_default(),
    };
    let contacts = register_contacts(m);
    let hash = table.hash(&key);
    let Some(mut shard) = table.shard(hash) else {
        return SipOutcome::TableFull;
    };
    if let Some(d) = shard.get_mut(hash, &key) {
        d.set_contacts(&contacts);
        return SipOutcome::Inspected;
    }
    let ticket = match dialog_ticket(guard, fx) {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let call = table.next_call();
    let cseq = m.checked.cseq.seq;
    match shard.insert(
        hash,
        &key,
        || {
            Dialog::new(
                &key,
                DialogKind::Registration,
                call,
                cseq,
                m.now,
                fx.config,
                ticket,
            )
        },
        table.hasher(),
    ) {
        Ok(Inserted::Created(d)) => {
            d.set_contacts(&contacts);
            fx.counters.dialogs_created += 1;
            SipOutcome::Inspected
        }
        // Looked up under this lock just above, so never in practice.
        Ok(Inserted::Existing(d)) => {
            d.set_contacts(&contacts);
            SipOutcome::Inspected
        }
        Err(_) => {
            fx.counters.dialogs_refused += 1;
            SipOutcome::TableFull
        }
    }
}

/// The lifetime the registrar granted `contact`: its `expires` in the 2xx Contact list,
/// else the Expires header, else the default.
fn granted(m: &Msg<'_, '_>, contact: (IpAddr, u16), config: &SipConfig) -> Duration {
    let from_contact = m.msg.contacts().flatten().find_map(|c| {
        let Contact::Addr(a) = c else { return None };
        let uri = a.uri.as_sip()?;
        (uri.host.ip() == Some(contact.0) && uri.port_or_default() == contact.1)
            .then(|| c.expires())
            .flatten()
    });
    match from_contact.or(m.msg.expires().ok().flatten()) {
        Some(secs) => Duration::from_secs(u64::from(secs)),
        None => config.default_registration,
    }
}

fn register_response(
    table: &DialogTable,
    status: StatusCode,
    m: &Msg<'_, '_>,
    fx: &mut Effects<'_>,
) -> SipOutcome {
    let key = DialogKeyRef {
        zone_link: m.ctx.zone_link,
        call_id: m.checked.call_id,
        caller_tag: m.checked.from.tag().unwrap_or_default(),
    };
    let hash = table.hash(&key);
    let Some(shard) = table.shard(hash) else {
        fx.counters.unmatched_responses += 1;
        return SipOutcome::Unmatched;
    };
    let mut found = Found {
        shard,
        key,
        hash,
        request_from: Side::Caller,
    };
    let Some(d) = found.dialog() else {
        fx.counters.unmatched_responses += 1;
        return SipOutcome::Unmatched;
    };
    if !status.is_success() {
        return SipOutcome::Inspected;
    }
    let mut live = false;
    if d.kind() == DialogKind::Registration {
        live = register_granted(d, m, fx);
    }
    if !live {
        end(table, found, DialogEnd::Unregistered, m.now, fx);
    }
    SipOutcome::Inspected
}

/// A 2xx to a REGISTER of registration `d`: a signalling pinhole toward each contact
/// for its granted lifetime; whether any binding is left.
fn register_granted(d: &mut Dialog, m: &Msg<'_, '_>, fx: &mut Effects<'_>) -> bool {
    // UDP only: over TCP/TLS the registrar reaches the phone on the phone's connection.
    let transport = m.ctx.transport;
    let src = match fx.config.source_policy {
        MediaSourcePolicy::Any => None,
        _ => Some(m.ctx.src.ip()),
    };
    let call = d.call();
    let mut longest = Duration::ZERO;
    for (idx, contact) in d.contacts().iter().enumerate() {
        let Some(contact) = *contact else { continue };
        let stream = StreamRef(u32::try_from(idx).unwrap_or(u32::MAX));
        let lifetime = granted(m, contact, fx.config);
        if lifetime.is_zero() {
            fx.actions.push(InspectAction::CloseStream { call, stream });
            fx.counters.streams_closed += 1;
            continue;
        }
        longest = longest.max(lifetime);
        if transport == Transport::Udp {
            fx.actions.push(InspectAction::Open(PinholeRequest {
                transport,
                src,
                src_port: None,
                dst: contact.0,
                dst_port: contact.1,
                kind: MediaKind::Signalling,
                call,
                stream,
                opened_by: InspectorKind::Sip,
                idle_timeout: lifetime,
            }));
            fx.counters.pinholes_opened += 1;
        }
    }
    if longest.is_zero() {
        return false;
    }
    fx.counters.registrations += 1;
    d.extend_registration(m.now.after(longest));
    true
}
