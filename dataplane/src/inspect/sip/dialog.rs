//! One followed SIP call (dialog, early or confirmed) or registration, and the RFC 3264
//! offer/answer state machine that turns its SDP into pinholes.
//!
//! Each party's streams (one per `m=` index) map to one set of pinholes toward the
//! address that party announced, identified by a [`StreamRef`] unique within the call.
//! Updates are atomic from the media's point of view: a changed stream gets its new
//! pinholes opened before the old ones are closed. While an offer is pending, the
//! streams agreed before it are kept (not closed) so that a rejected re-INVITE or UPDATE
//! restores exactly what was agreed; they are retired when the transaction succeeds.

use std::net::IpAddr;

use super::config::{MediaSourcePolicy, SipConfig};
use super::counters::SipCounters;
use super::quota::QuotaTicket;
use super::sdp::{ConnectionAddress, MediaEndpoint};
use super::table::DialogKeyRef;
use crate::inspect::action::{
    CallRef, FlowContext, InspectAction, InspectorKind, MediaKind, PinholeRequest, StreamRef,
    Transport,
};
use crate::time::Timestamp;

/// Streams followed per party of a call (Linux allows 4 audio + 4 video + 2 image).
pub(crate) const MAX_STREAMS: usize = 8;

/// Registered contacts followed per registration.
pub(crate) const MAX_CONTACTS: usize = 4;

/// Which party of the dialog a message comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The party that sent the initial request.
    Caller,
    /// The other party.
    Callee,
}

impl Side {
    fn idx(self) -> usize {
        match self {
            Side::Caller => 0,
            Side::Callee => 1,
        }
    }

    pub(crate) fn other(self) -> Side {
        match self {
            Side::Caller => Side::Callee,
            Side::Callee => Side::Caller,
        }
    }
}

/// A stream as announced: where media goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stream {
    dst: IpAddr,
    port: u16,
    count: u16,
    kind: MediaKind,
    transport: Transport,
    rtcp: Option<(IpAddr, u16)>,
}

impl Stream {
    /// Pinholes this stream needs: one per port, plus one per port for separate RTCP.
    fn pinholes(&self) -> u32 {
        let per_port = if self.rtcp.is_some() { 2 } else { 1 };
        u32::from(self.count.max(1)) * per_port
    }
}

/// Pinholes a new call would hold for `announced` (a profile's cap is checked before
/// any state exists).
pub(crate) fn announced_pinholes(announced: &[Announcement; MAX_STREAMS]) -> u32 {
    announced
        .iter()
        .map(|a| match a {
            Announcement::Active(t) => t.pinholes(),
            Announcement::Keep | Announcement::Disabled => 0,
        })
        .sum()
}

/// What a new SDP says about one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Announcement {
    /// Media toward this stream.
    Active(Stream),
    /// Hold (`c=0.0.0.0`) or an unresolved host name: keep what is open.
    Keep,
    /// Port 0, an unsupported media type, or no such `m=` line: close.
    Disabled,
}

impl Announcement {
    /// Classify an announced endpoint, counting holds and host names.
    pub(crate) fn from_endpoint(e: &MediaEndpoint<'_>, counters: &mut SipCounters) -> Self {
        let Some(kind) = e.kind() else {
            return Announcement::Disabled;
        };
        if e.is_disabled() {
            return Announcement::Disabled;
        }
        match e.address {
            ConnectionAddress::Ip(dst) => Announcement::Active(Stream {
                dst,
                port: e.port,
                count: e.port_count.max(1),
                kind,
                transport: e.transport,
                rtcp: e.rtcp_target(),
            }),
            ConnectionAddress::Unspecified => {
                counters.streams_kept_on_hold += 1;
                Announcement::Keep
            }
            ConnectionAddress::Name(_) => {
                counters.unresolved_hostnames += 1;
                counters.streams_kept_on_hold += 1;
                Announcement::Keep
            }
        }
    }
}

/// The pinholes currently open for one stream of one party.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OpenSet {
    stream: StreamRef,
    target: Stream,
    src: Option<IpAddr>,
}

type Streams = [[Option<OpenSet>; MAX_STREAMS]; 2];

/// An offer waiting for its answer or for its transaction to end.
#[derive(Clone, Copy, Debug)]
struct Pending {
    offerer: Side,
    cseq: u32,
    /// The offer came in a response (late offer): the answer is in ACK or PRACK.
    in_response: bool,
    /// An answer was seen (possibly in a provisional response: the transaction may
    /// still be running).
    answered: bool,
    /// The streams agreed before this offer (kept open until the outcome is known).
    prev: Streams,
}

/// What a dialog entry follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DialogKind {
    /// An INVITE dialog.
    Call,
    /// A registration (REGISTER Call-ID + From tag).
    Registration,
}

/// Side effects of one message on a dialog: actions go to the caller's vector as they
/// arise, except stream closes, which are held back and flushed after every open so the
/// pipeline always sees the new pinholes before the old ones disappear.
pub(crate) struct Effects<'a> {
    pub config: &'a SipConfig,
    pub counters: &'a mut SipCounters,
    pub actions: &'a mut Vec<InspectAction>,
    closes: [Option<(CallRef, StreamRef)>; 4 * MAX_STREAMS],
}

impl<'a> Effects<'a> {
    pub(crate) fn new(
        config: &'a SipConfig,
        counters: &'a mut SipCounters,
        actions: &'a mut Vec<InspectAction>,
    ) -> Self {
        Effects {
            config,
            counters,
            actions,
            closes: [None; 4 * MAX_STREAMS],
        }
    }

    fn close_stream(&mut self, call: CallRef, stream: StreamRef) {
        self.counters.streams_closed += 1;
        match self.closes.iter_mut().find(|c| c.is_none()) {
            Some(slot) => *slot = Some((call, stream)),
            // Cannot happen with the bounds above; if it did, closing now is still correct,
            // only less atomic.
            None => self
                .actions
                .push(InspectAction::CloseStream { call, stream }),
        }
    }

    pub(crate) fn close_call(&mut self, call: CallRef) {
        self.counters.calls_closed += 1;
        self.actions.push(InspectAction::CloseCall { call });
    }

    /// Push the held-back stream closes.
    pub(crate) fn flush(&mut self) {
        for slot in self.closes.iter_mut() {
            if let Some((call, stream)) = slot.take() {
                self.actions
                    .push(InspectAction::CloseStream { call, stream });
            }
        }
    }
}

/// One followed call or registration.
#[derive(Debug)]
pub(crate) struct Dialog {
    zone_link: crate::ids::ZoneLink,
    call_id: Box<[u8]>,
    caller_tag: Box<[u8]>,
    call: CallRef,
    kind: DialogKind,
    callee_tag: Option<Box<[u8]>>,
    invite_cseq: u32,
    confirmed: bool,
    created: Timestamp,
    deadline: Timestamp,
    signalling: [Option<IpAddr>; 2],
    open: Streams,
    pending: Option<Pending>,
    next_stream: u32,
    contacts: [Option<(IpAddr, u16)>; MAX_CONTACTS],
    /// The profile's dialog-cap ticket, given back when the dialog is dropped.
    _ticket: Option<QuotaTicket>,
}

impl Dialog {
    /// A new early dialog or registration (allocates its identity: the only allocation
    /// of a dialog's life besides the callee tag).
    pub(crate) fn new(
        key: &DialogKeyRef<'_>,
        kind: DialogKind,
        call: CallRef,
        cseq: u32,
        now: Timestamp,
        config: &SipConfig,
        ticket: Option<QuotaTicket>,
    ) -> Dialog {
        Dialog {
            zone_link: key.zone_link,
            call_id: key.call_id.into(),
            caller_tag: key.caller_tag.into(),
            call,
            kind,
            callee_tag: None,
            invite_cseq: cseq,
            confirmed: false,
            created: now,
            deadline: now.after(config.early_dialog_timeout),
            signalling: [None; 2],
            open: [[None; MAX_STREAMS]; 2],
            pending: None,
            next_stream: 0,
            contacts: [None; MAX_CONTACTS],
            _ticket: ticket,
        }
    }

    pub(crate) fn key(&self) -> DialogKeyRef<'_> {
        DialogKeyRef {
            zone_link: self.zone_link,
            call_id: &self.call_id,
            caller_tag: &self.caller_tag,
        }
    }

    pub(crate) fn key_matches(&self, key: &DialogKeyRef<'_>) -> bool {
        self.key() == *key
    }

    pub(crate) fn call(&self) -> CallRef {
        self.call
    }

    pub(crate) fn kind(&self) -> DialogKind {
        self.kind
    }

    pub(crate) fn invite_cseq(&self) -> u32 {
        self.invite_cseq
    }

    pub(crate) fn is_confirmed(&self) -> bool {
        self.confirmed
    }

    pub(crate) fn expired(&self, now: Timestamp) -> bool {
        now >= self.deadline
    }

    /// Whether `tag` may be the callee's. While the dialog is early, any tag and none:
    /// forks answer with tags of their own, and a CANCEL or a retransmitted INVITE
    /// carries no To tag. Once a 2xx confirmed it, exactly the tag of that 2xx (any, if
    /// it had none: an RFC 2543 peer, or a registration).
    pub(crate) fn callee_tag_allows(&self, tag: Option<&[u8]>) -> bool {
        if !self.confirmed {
            return true;
        }
        match (&self.callee_tag, tag) {
            (None, _) => true,
            (Some(known), Some(t)) => **known == *t,
            (Some(_), None) => false,
        }
    }

    /// Record the callee's tag: while early, the first tagged response's (for the
    /// operator's view only, it restricts nothing); the 2xx's replaces it and, with
    /// [`Dialog::confirm`], fixes it.
    pub(crate) fn set_callee_tag(&mut self, tag: &[u8], from_success: bool) {
        let differs = self.callee_tag.as_deref() != Some(tag);
        if self.callee_tag.is_none() || (from_success && !self.confirmed && differs) {
            self.callee_tag = Some(tag.into());
        }
    }

    /// A new initial INVITE reusing this early dialog's identity (e.g. after a 401/407).
    pub(crate) fn restart(&mut self, cseq: u32) {
        self.invite_cseq = cseq;
    }

    /// The 2xx to the initial INVITE: the call is up; its lifetime is now bounded by the
    /// maximum call duration.
    pub(crate) fn confirm(&mut self, config: &SipConfig) {
        if !self.confirmed {
            self.confirmed = true;
            self.deadline = self.created.after(config.max_call_duration);
        }
    }

    /// Pinholes the call would hold if `side` announced `announced`: the other party's
    /// as they are, `side`'s as announced (kept streams as they are).
    pub(crate) fn projected_pinholes(
        &self,
        side: Side,
        announced: &[Announcement; MAX_STREAMS],
    ) -> u32 {
        let current = |s: Side, idx: usize| self.slot(s, idx).map_or(0, |o| o.target.pinholes());
        (0..MAX_STREAMS)
            .map(|idx| {
                let own = match announced.get(idx) {
                    Some(Announcement::Active(t)) => t.pinholes(),
                    Some(Announcement::Keep) => current(side, idx),
                    Some(Announcement::Disabled) | None => 0,
                };
                own + current(side.other(), idx)
            })
            .sum()
    }

    /// Remember where each party's signalling comes from (for the signalling-peer source
    /// policy).
    pub(crate) fn note_signalling(&mut self, from: Side, ctx: &FlowContext) {
        if let Some(s) = self.signalling.get_mut(from.idx()) {
            *s = Some(ctx.src.ip());
        }
        if let Some(s) = self.signalling.get_mut(from.other().idx()) {
            *s = Some(ctx.dst.ip());
        }
    }

    fn slot(&self, side: Side, idx: usize) -> Option<OpenSet> {
        self.open
            .get(side.idx())
            .and_then(|s| s.get(idx))
            .copied()
            .flatten()
    }

    fn set_slot(&mut self, side: Side, idx: usize, value: Option<OpenSet>) {
        if let Some(slot) = self.open.get_mut(side.idx()).and_then(|s| s.get_mut(idx)) {
            *slot = value;
        }
    }

    /// The source a pinhole toward `side`'s stream `idx` must admit.
    fn src_for(&self, side: Side, idx: usize, policy: MediaSourcePolicy) -> Option<IpAddr> {
        match policy {
            MediaSourcePolicy::Any => None,
            MediaSourcePolicy::SignallingPeer => {
                self.signalling.get(side.other().idx()).copied().flatten()
            }
            MediaSourcePolicy::AnnouncedAddress | MediaSourcePolicy::SamePrefix => {
                self.slot(side.other(), idx).map(|o| o.target.dst)
            }
        }
    }

    fn in_prev(&self, stream: StreamRef) -> bool {
        self.pending.is_some_and(|p| {
            p.prev
                .iter()
                .flatten()
                .flatten()
                .any(|o| o.stream == stream)
        })
    }

    fn is_open(&self, stream: StreamRef) -> bool {
        self.open
            .iter()
            .flatten()
            .flatten()
            .any(|o| o.stream == stream)
    }

    /// Close a replaced stream now, or, when it belongs to the state agreed before a
    /// pending offer, when that offer's outcome is known.
    fn retire(&mut self, stream: StreamRef, fx: &mut Effects<'_>) {
        if !self.in_prev(stream) {
            fx.close_stream(self.call, stream);
        }
    }

    fn open_pinholes(
        &self,
        t: &Stream,
        src: Option<IpAddr>,
        stream: StreamRef,
        fx: &mut Effects<'_>,
    ) {
        let base = PinholeRequest {
            transport: t.transport,
            src,
            src_port: None,
            dst: t.dst,
            dst_port: t.port,
            kind: t.kind,
            call: self.call,
            stream,
            opened_by: InspectorKind::Sip,
            idle_timeout: fx.config.media_idle_timeout,
        };
        for k in 0..t.count {
            let Some(port) = t.port.checked_add(k.saturating_mul(2)) else {
                break;
            };
            fx.actions.push(InspectAction::Open(PinholeRequest {
                dst_port: port,
                ..base
            }));
            fx.counters.pinholes_opened += 1;
            if let Some((rtcp_addr, rtcp_port)) = t.rtcp {
                if let Some(rport) = rtcp_port.checked_add(k.saturating_mul(2)) {
                    fx.actions.push(InspectAction::Open(PinholeRequest {
                        dst: rtcp_addr,
                        dst_port: rport,
                        kind: MediaKind::Rtcp,
                        ..base
                    }));
                    fx.counters.pinholes_opened += 1;
                }
            }
        }
    }

    /// Bring `side`'s stream `idx` in line with `ann`.
    fn reconcile(&mut self, side: Side, idx: usize, ann: Announcement, fx: &mut Effects<'_>) {
        let current = self.slot(side, idx);
        let desired = match ann {
            Announcement::Active(t) => Some(t),
            Announcement::Keep => current.map(|o| o.target),
            Announcement::Disabled => None,
        };
        match desired {
            Some(target) => {
                let src = self.src_for(side, idx, fx.config.source_policy);
                if current.is_some_and(|o| o.target == target && o.src == src) {
                    return;
                }
                let stream = StreamRef(self.next_stream);
                self.next_stream = self.next_stream.wrapping_add(1);
                self.open_pinholes(&target, src, stream, fx);
                self.set_slot(
                    side,
                    idx,
                    Some(OpenSet {
                        stream,
                        target,
                        src,
                    }),
                );
                if let Some(old) = current {
                    self.retire(old.stream, fx);
                }
            }
            None => {
                if let Some(old) = current {
                    self.set_slot(side, idx, None);
                    self.retire(old.stream, fx);
                }
            }
        }
    }

    /// Apply an SDP announced by `from` in a request (`is_response` false) or response
    /// with CSeq number `cseq`.
    pub(crate) fn apply_sdp(
        &mut self,
        from: Side,
        cseq: u32,
        is_response: bool,
        announced: &[Announcement; MAX_STREAMS],
        fx: &mut Effects<'_>,
    ) {
        let is_answer = self.pending.is_some_and(|p| {
            p.offerer != from
                && ((!p.in_response && is_response && cseq == p.cseq)
                    || (p.in_response && !is_response))
        });
        if is_answer {
            fx.counters.answers += 1;
            if let Some(p) = self.pending.as_mut() {
                p.answered = true;
            }
            let offerer = from.other();
            for (idx, ann) in announced.iter().enumerate() {
                self.reconcile(from, idx, *ann, fx);
                // A stream the answerer refuses is off for both; otherwise re-evaluate
                // the offerer's pinholes, whose source is now known.
                let offerer_ann = match ann {
                    Announcement::Disabled => Announcement::Disabled,
                    _ => Announcement::Keep,
                };
                self.reconcile(offerer, idx, offerer_ann, fx);
            }
            if self.pending.is_some_and(|p| p.in_response) {
                self.complete(fx);
            }
        } else {
            fx.counters.offers += 1;
            // A new offer after an answered one (UPDATE in an early dialog, PRACK):
            // the earlier exchange is complete, and the new one rolls back to its result.
            if self.pending.is_some_and(|p| p.answered) {
                self.complete(fx);
            }
            let prev = self.pending.map_or(self.open, |p| p.prev);
            self.pending = Some(Pending {
                offerer: from,
                cseq,
                in_response: is_response,
                answered: false,
                prev,
            });
            for (idx, ann) in announced.iter().enumerate() {
                self.reconcile(from, idx, *ann, fx);
            }
        }
    }

    /// The transaction that carried the pending offer succeeded (2xx): retire what it
    /// replaced.
    pub(crate) fn complete(&mut self, fx: &mut Effects<'_>) {
        if let Some(p) = self.pending.take() {
            for old in p.prev.iter().flatten().flatten() {
                if !self.is_open(old.stream) {
                    fx.close_stream(self.call, old.stream);
                }
            }
        }
    }

    /// Complete the pending offer if it was made in the request with CSeq `cseq`.
    pub(crate) fn complete_request_offer(&mut self, cseq: u32, fx: &mut Effects<'_>) {
        if self
            .pending
            .is_some_and(|p| !p.in_response && p.cseq == cseq)
        {
            self.complete(fx);
        }
    }

    /// The transaction that carried the pending offer failed (3xx-6xx): close what it
    /// opened and restore what was agreed before.
    pub(crate) fn reject_request_offer(&mut self, cseq: u32, fx: &mut Effects<'_>) {
        let Some(p) = self.pending else {
            return;
        };
        if p.in_response || p.cseq != cseq {
            return;
        }
        self.pending = None;
        fx.counters.offers_rejected += 1;
        let opened_since = self.open;
        for new in opened_since.iter().flatten().flatten() {
            let kept = p
                .prev
                .iter()
                .flatten()
                .flatten()
                .any(|o| o.stream == new.stream);
            if !kept {
                fx.close_stream(self.call, new.stream);
            }
        }
        self.open = p.prev;
    }

    /// Record the contacts a REGISTER asks to bind (address literals only).
    pub(crate) fn set_contacts(&mut self, contacts: &[Option<(IpAddr, u16)>; MAX_CONTACTS]) {
        self.contacts = *contacts;
    }

    /// The contacts of the last REGISTER.
    pub(crate) fn contacts(&self) -> &[Option<(IpAddr, u16)>; MAX_CONTACTS] {
        &self.contacts
    }

    /// Keep a registration alive until `until`.
    pub(crate) fn extend_registration(&mut self, until: Timestamp) {
        self.confirmed = true;
        self.deadline = until;
    }
}

/// One followed call or registration as an operator sees it (`GET /sip/dialogs`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DialogView {
    /// `call` or `registration`.
    pub kind: &'static str,
    /// The Call-ID (lossy UTF-8).
    pub call_id: String,
    /// The caller's (From) tag.
    pub caller_tag: String,
    /// The callee's (To) tag, once known.
    pub callee_tag: Option<String>,
    /// Whether a 2xx confirmed it.
    pub confirmed: bool,
    /// The zones it runs between (the API names them from the policy in force).
    #[serde(skip)]
    pub zone_link: crate::ids::ZoneLink,
    /// The call identity its pinholes carry (`GET /pinholes` lists them by it).
    pub call: u64,
    /// Signalling addresses seen, caller side then callee side.
    pub signalling: Vec<IpAddr>,
    /// Media streams with pinholes open.
    pub open_streams: usize,
    /// Seconds since creation.
    pub age_secs: u64,
}

impl Dialog {
    /// The operator's view of this dialog at `now`.
    pub(crate) fn view(&self, now: Timestamp) -> DialogView {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        DialogView {
            kind: match self.kind {
                DialogKind::Call => "call",
                DialogKind::Registration => "registration",
            },
            call_id: text(&self.call_id),
            caller_tag: text(&self.caller_tag),
            callee_tag: self.callee_tag.as_deref().map(text),
            confirmed: self.confirmed,
            zone_link: self.zone_link,
            call: self.call.0,
            signalling: self.signalling.iter().flatten().copied().collect(),
            open_streams: self.open.iter().flatten().flatten().count(),
            age_secs: now.since(self.created).as_secs(),
        }
    }
}
