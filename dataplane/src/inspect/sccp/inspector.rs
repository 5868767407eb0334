//! The sans-IO Skinny inspector of one control connection: complete PDUs in, pinhole
//! actions and a forward/drop verdict out.
//!
//! Media state is keyed by (control session, conferenceID, passThruPartyID): the control
//! session is this inspector, the rest keys its channel map. A channel has up to two
//! streams: the station's receive side (opened by OpenReceiveChannelAck /
//! OpenMultiMediaReceiveChannelAck, pinhole toward the station's announced address) and
//! its transmit side (opened by StartMediaTransmission / StartMultiMediaTransmission,
//! pinhole from the station to the remote). Opening on both is what catches conference
//! bridges and recorders that never send an Ack over this connection. RTCP is port + 1.
//! Stations (registration, call rate, pinhole count) live in the shared [`SkinnyTable`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hashbrown::HashMap;

use super::config::SkinnyConfig;
use super::counters::SkinnyCounters;
use super::header::{IdRange, PduError};
use super::pdu::{
    parse_pdu, ChannelAck, OpenChannel, SkinnyMessage, StartTransmission, StopChannel,
};
use super::table::{CallAdmission, Registration, SkinnyTable};
use crate::inspect::action::{
    CallRef, FlowContext, InspectAction, InspectorKind, MediaKind, PinholeRequest, StreamRef,
    Transport,
};
use crate::time::Timestamp;

/// A full station table may forget a station idle (and holding no pinhole) this long.
const STATION_EVICT_IDLE: Duration = Duration::from_secs(300);

/// Identity of a Skinny control session (the pipeline's id of the TCP connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ControlSessionId(pub u64);

/// Why the inspector wants a PDU dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkinnyDropReason {
    /// It could not be parsed (and the profile drops malformed PDUs).
    Malformed(PduError),
    /// Unknown message id under a strict profile.
    UnknownMessage,
    /// Unknown header version under a strict profile.
    UnknownVersion,
    /// An id travelling the wrong way under a strict profile.
    WrongDirection,
    /// Media set-up for a station that is not registered (enforcement on).
    Unregistered,
    /// The station exceeded its calls per second.
    CallFlood,
    /// The station holds its maximum of pinholes.
    PinholeLimit,
    /// The control session tracks its maximum of media channels.
    ChannelLimit,
}

/// The inspector's decision on one PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkinnyVerdict {
    /// Forward it (after applying the actions).
    Forward,
    /// Drop it.
    Drop(SkinnyDropReason),
}

/// Which side of a channel a stream is, from the station's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Receive = 0,
    Transmit = 1,
}

/// The [`CallRef`] of call `call_id` (callReference, or conferenceID when absent) on
/// control session `session`.
pub fn skinny_call_ref(session: ControlSessionId, call_id: u32) -> CallRef {
    // splitmix64 finaliser: distinct (session, call) pairs map to well-spread ids.
    let mut x = session.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(call_id);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    CallRef(x ^ (x >> 31))
}

/// The [`StreamRef`] of a channel's receive (`transmit == false`) or transmit stream.
pub fn skinny_stream_ref(pass_thru_party_id: u32, transmit: bool) -> StreamRef {
    StreamRef(pass_thru_party_id.rotate_left(1) ^ u32::from(transmit))
}

/// An open stream: enough to recognise a refresh and to account its pinholes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OpenStream {
    dst: IpAddr,
    port: u16,
    pinholes: u32,
}

#[derive(Clone, Copy, Debug)]
struct Channel {
    call: CallRef,
    call_id: u32,
    kind: MediaKind,
    streams: [Option<OpenStream>; 2],
}

/// The Skinny inspector of one control connection.
#[derive(Debug)]
pub struct SkinnyInspector {
    config: Arc<SkinnyConfig>,
    table: Arc<SkinnyTable>,
    session: ControlSessionId,
    server_port: u16,
    station: Option<IpAddr>,
    channels: HashMap<(u32, u32), Channel, ahash::RandomState>,
}

/// What the current PDU is about: direction and station.
#[derive(Clone, Copy)]
struct Frame {
    from_station: bool,
    station: IpAddr,
    now: Timestamp,
}

impl SkinnyInspector {
    /// An inspector for control session `session`, whose call manager listens on
    /// `server_port` (2000 unless configured): the other side is the station.
    pub fn new(
        config: Arc<SkinnyConfig>,
        table: Arc<SkinnyTable>,
        session: ControlSessionId,
        server_port: u16,
    ) -> Self {
        let capacity = config.max_channels_per_session;
        SkinnyInspector {
            config,
            table,
            session,
            server_port,
            station: None,
            channels: HashMap::with_capacity_and_hasher(capacity, ahash::RandomState::new()),
        }
    }

    /// The control session this inspector follows.
    pub fn session(&self) -> ControlSessionId {
        self.session
    }

    /// The station (phone) address, once a PDU has been seen.
    pub fn station(&self) -> Option<IpAddr> {
        self.station
    }

    /// Media channels currently tracked.
    pub fn channels(&self) -> usize {
        self.channels.len()
    }

    /// Inspect one complete PDU seen on `ctx` at `now`. Pinhole actions are appended to
    /// `actions` (they must be applied before the PDU is forwarded).
    pub fn inspect(
        &mut self,
        pdu: &[u8],
        ctx: &FlowContext,
        now: Timestamp,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) -> SkinnyVerdict {
        counters.pdus += 1;
        let verdict = self.decide(pdu, ctx, now, counters, actions);
        if matches!(verdict, SkinnyVerdict::Drop(_)) {
            counters.dropped += 1;
        }
        verdict
    }

    fn decide(
        &mut self,
        pdu: &[u8],
        ctx: &FlowContext,
        now: Timestamp,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) -> SkinnyVerdict {
        let parsed = match parse_pdu(pdu, self.config.max_data_length) {
            Ok((parsed, _)) => parsed,
            Err(e) => {
                counters.malformed += 1;
                return self.lenient(self.config.drop_malformed, SkinnyDropReason::Malformed(e));
            }
        };
        let Some(frame) = self.frame(ctx, now) else {
            counters.unknown_direction += 1;
            return SkinnyVerdict::Forward;
        };
        if !parsed.header.version.is_known() {
            counters.unknown_versions += 1;
            return self.lenient(self.config.strict, SkinnyDropReason::UnknownVersion);
        }
        let expected_from_station = match parsed.header.message_id.range() {
            IdRange::StationToCallManager => true,
            IdRange::CallManagerToStation => false,
            IdRange::Spcp => {
                counters.spcp += 1;
                return SkinnyVerdict::Forward;
            }
            IdRange::Unknown => {
                counters.unknown_ids += 1;
                return self.lenient(self.config.strict, SkinnyDropReason::UnknownMessage);
            }
        };
        if expected_from_station != frame.from_station {
            // Acting on it would let a station forge a call manager's instructions.
            counters.wrong_direction += 1;
            return self.lenient(self.config.strict, SkinnyDropReason::WrongDirection);
        }
        self.apply(parsed.message, frame, counters, actions)
    }

    /// Forward, or drop for `reason` when the profile says so.
    fn lenient(&self, drop: bool, reason: SkinnyDropReason) -> SkinnyVerdict {
        if drop {
            SkinnyVerdict::Drop(reason)
        } else {
            SkinnyVerdict::Forward
        }
    }

    fn frame(&mut self, ctx: &FlowContext, now: Timestamp) -> Option<Frame> {
        let (from_station, station): (bool, SocketAddr) = if ctx.dst.port() == self.server_port {
            (true, ctx.src)
        } else if ctx.src.port() == self.server_port {
            (false, ctx.dst)
        } else {
            return None;
        };
        let station = station.ip();
        self.station = Some(station);
        Some(Frame {
            from_station,
            station,
            now,
        })
    }

    fn apply(
        &mut self,
        message: SkinnyMessage<'_>,
        f: Frame,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) -> SkinnyVerdict {
        use SkinnyMessage as M;
        let session = self.session;
        let set_registration = |table: &SkinnyTable, state: Registration| {
            table.with_station(f.station, f.now, Timestamp(0), |s| {
                s.registration = state;
                s.registered_by = Some(session);
            })
        };
        match message {
            M::KeepAlive | M::KeepAliveAck => {
                counters.keepalives += 1;
                self.table
                    .update(f.station, |s| s.last_seen = s.last_seen.max(f.now));
            }
            M::Register(r) => {
                counters.registers += 1;
                let name = r.device_name.0;
                let stored = self
                    .table
                    .with_station(f.station, f.now, Timestamp(0), |s| {
                        s.registration = Registration::Registering;
                        s.registered_by = Some(session);
                        s.device_name = [0; 16];
                        let n = name.len().min(16);
                        if let (Some(dst), Some(src)) = (s.device_name.get_mut(..n), name.get(..n))
                        {
                            dst.copy_from_slice(src);
                        }
                    });
                if stored.is_none() {
                    counters.station_table_full += 1;
                }
            }
            M::RegisterAck => {
                counters.register_acks += 1;
                if set_registration(&self.table, Registration::Registered).is_none() {
                    counters.station_table_full += 1;
                }
            }
            M::RegisterReject => {
                counters.register_rejects += 1;
                self.table
                    .update(f.station, |s| s.registration = Registration::Rejected);
            }
            M::Unregister => counters.unregisters += 1,
            M::UnregisterAck => {
                counters.unregisters += 1;
                self.table
                    .update(f.station, |s| s.registration = Registration::Unregistered);
                self.close_all(counters, actions);
            }
            M::OpenReceiveChannel(o) => return self.open_channel(o, MediaKind::Audio, f, counters),
            M::OpenMultiMediaReceiveChannel(o) => {
                return self.open_channel(o, MediaKind::Video, f, counters)
            }
            M::OpenReceiveChannelAck(a) => {
                return self.receive_ack(a, MediaKind::Audio, f, counters, actions)
            }
            M::OpenMultiMediaReceiveChannelAck(a) => {
                return self.receive_ack(a, MediaKind::Video, f, counters, actions)
            }
            M::StartMediaTransmission(s) => {
                if s.key_info.is_some_and(|k| k.algorithm != 0) {
                    counters.encrypted_media += 1;
                }
                return self.start_transmission(s, MediaKind::Audio, f, counters, actions);
            }
            M::StartMultiMediaTransmission(s) => {
                return self.start_transmission(s, MediaKind::Video, f, counters, actions)
            }
            M::StopMediaTransmission(s) | M::StopMultiMediaTransmission(s) => {
                self.stop(s, &[Side::Transmit], counters, actions)
            }
            M::CloseReceiveChannel(s) | M::CloseMultiMediaReceiveChannel(s) => {
                self.stop(s, &[Side::Receive], counters, actions)
            }
            M::MediaTransmissionFailure(m) => {
                counters.media_failures += 1;
                let stop = StopChannel {
                    conference_id: m.conference_id,
                    pass_thru_party_id: m.pass_thru_party_id,
                    call_reference: m.call_reference,
                    keep_port: false,
                };
                self.stop(stop, &[Side::Receive, Side::Transmit], counters, actions);
            }
            // Session transmissions carry presentation sessions, not RTP; acks confirm
            // what is already open; IpPort is the station's own listener.
            M::StartSessionTransmission(_)
            | M::StopSessionTransmission(_)
            | M::StartMediaTransmissionAck(_)
            | M::StartMultiMediaTransmissionAck(_)
            | M::IpPort { .. }
            | M::Other(_) => {}
        }
        SkinnyVerdict::Forward
    }

    /// Enforcement and flood checks for a media message of call `call_id`.
    fn admit_media(
        &self,
        call_id: u32,
        f: Frame,
        counters: &mut SkinnyCounters,
    ) -> Result<(), SkinnyDropReason> {
        let per_second = self.config.effective_calls_per_second();
        let enforce = self.config.enforce_registration;
        let evict_before = f.now.before(STATION_EVICT_IDLE);
        let admitted = self
            .table
            .with_station(f.station, f.now, evict_before, |s| {
                if enforce && s.registration != Registration::Registered {
                    return Err(SkinnyDropReason::Unregistered);
                }
                match s.admit_call(call_id, f.now, per_second) {
                    CallAdmission::Flood => Err(SkinnyDropReason::CallFlood),
                    CallAdmission::New => Ok(true),
                    CallAdmission::Known => Ok(false),
                }
            });
        match admitted {
            Some(Ok(new)) => {
                if new {
                    counters.calls += 1;
                }
                Ok(())
            }
            Some(Err(reason)) => {
                match reason {
                    SkinnyDropReason::Unregistered => counters.unregistered_drops += 1,
                    _ => counters.call_flood_drops += 1,
                }
                Err(reason)
            }
            None => {
                counters.station_table_full += 1;
                if enforce {
                    counters.unregistered_drops += 1;
                    Err(SkinnyDropReason::Unregistered)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Find or create the channel (conference, passThru) of call `call_id`.
    fn channel(
        &mut self,
        key: (u32, u32),
        call_id: u32,
        kind: MediaKind,
        counters: &mut SkinnyCounters,
    ) -> Result<&mut Channel, SkinnyDropReason> {
        if !self.channels.contains_key(&key)
            && self.channels.len() >= self.config.max_channels_per_session
        {
            counters.channel_limit_drops += 1;
            return Err(SkinnyDropReason::ChannelLimit);
        }
        let session = self.session;
        Ok(self.channels.entry(key).or_insert_with(|| Channel {
            call: skinny_call_ref(session, call_id),
            call_id,
            kind,
            streams: [None, None],
        }))
    }

    fn open_channel(
        &mut self,
        o: OpenChannel,
        kind: MediaKind,
        f: Frame,
        counters: &mut SkinnyCounters,
    ) -> SkinnyVerdict {
        let call_id = o.call_reference.unwrap_or(o.conference_id);
        if let Err(reason) = self.admit_media(call_id, f, counters) {
            return SkinnyVerdict::Drop(reason);
        }
        match self.channel(
            (o.conference_id, o.pass_thru_party_id),
            call_id,
            kind,
            counters,
        ) {
            Ok(_) => SkinnyVerdict::Forward,
            Err(reason) => SkinnyVerdict::Drop(reason),
        }
    }

    fn receive_ack(
        &mut self,
        a: ChannelAck,
        kind: MediaKind,
        f: Frame,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) -> SkinnyVerdict {
        // The Ack carries no conferenceID: find the channel its OpenReceiveChannel made.
        let known = self
            .channels
            .iter()
            .find(|(k, _)| k.1 == a.pass_thru_party_id)
            .map(|(k, c)| (*k, c.call_id));
        let (key, call_id) = known.unwrap_or_else(|| {
            let call_id = a.call_reference.unwrap_or(a.pass_thru_party_id);
            ((call_id, a.pass_thru_party_id), call_id)
        });
        // A failed Ack opens nothing, so it is no call to count toward the flood limit.
        if a.status != 0 {
            counters.failed_acks += 1;
            return SkinnyVerdict::Forward;
        }
        if let Err(reason) = self.admit_media(call_id, f, counters) {
            return SkinnyVerdict::Drop(reason);
        }
        let dst = a.addr.resolve(f.station.is_ipv6());
        self.open_stream(
            key,
            call_id,
            kind,
            Side::Receive,
            None,
            dst,
            a.port,
            f,
            counters,
            actions,
        )
    }

    fn start_transmission(
        &mut self,
        s: StartTransmission,
        kind: MediaKind,
        f: Frame,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) -> SkinnyVerdict {
        let call_id = s.call_reference.unwrap_or(s.conference_id);
        if let Err(reason) = self.admit_media(call_id, f, counters) {
            return SkinnyVerdict::Drop(reason);
        }
        let dst = s.remote.resolve(f.station.is_ipv6());
        let key = (s.conference_id, s.pass_thru_party_id);
        self.open_stream(
            key,
            call_id,
            kind,
            Side::Transmit,
            Some(f.station),
            dst,
            s.remote_port,
            f,
            counters,
            actions,
        )
    }

    /// Open (or refresh) one stream's RTP and RTCP pinholes.
    #[allow(clippy::too_many_arguments)]
    fn open_stream(
        &mut self,
        key: (u32, u32),
        call_id: u32,
        kind: MediaKind,
        side: Side,
        src: Option<IpAddr>,
        dst: IpAddr,
        port: u16,
        f: Frame,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) -> SkinnyVerdict {
        if port == 0 || dst.is_unspecified() || dst.is_multicast() {
            counters.invalid_media_address += 1;
            return SkinnyVerdict::Forward;
        }
        let idle_timeout = self.config.media_idle_timeout;
        let max_pinholes = self.config.max_pinholes_per_station;
        // The channel is made only once its pinholes are reserved: a refused stream must
        // not leave an empty channel counting toward the session's channel limit.
        let existing = self.channels.get(&key);
        if existing.is_none() && self.channels.len() >= self.config.max_channels_per_session {
            counters.channel_limit_drops += 1;
            return SkinnyVerdict::Drop(SkinnyDropReason::ChannelLimit);
        }
        let slot = side as usize;
        let previous = existing.and_then(|c| c.streams.get(slot).copied().flatten());
        let pinholes = if port == u16::MAX { 1 } else { 2 };
        let replaced = previous.map_or(0, |p| p.pinholes);
        let same = previous.is_some_and(|p| p.dst == dst && p.port == port);
        if !same {
            // Reserve the pinholes against the station's limit before asking for them.
            let evict_before = f.now.before(STATION_EVICT_IDLE);
            let reserved = self
                .table
                .with_station(f.station, f.now, evict_before, |s| {
                    let after = s.pinholes.saturating_sub(replaced).saturating_add(pinholes);
                    if after > max_pinholes {
                        false
                    } else {
                        s.pinholes = after;
                        true
                    }
                });
            match reserved {
                Some(false) => {
                    counters.pinhole_limit_drops += 1;
                    return SkinnyVerdict::Drop(SkinnyDropReason::PinholeLimit);
                }
                Some(true) => {}
                None => counters.station_table_full += 1,
            }
        }
        let channel = match self.channel(key, call_id, kind, counters) {
            Ok(c) => c,
            Err(reason) => return SkinnyVerdict::Drop(reason),
        };
        let stream = skinny_stream_ref(key.1, side == Side::Transmit);
        if previous.is_some() && !same {
            // A new destination for the same channel (transfer, resume elsewhere).
            actions.push(InspectAction::CloseStream {
                call: channel.call,
                stream,
            });
            counters.streams_closed += 1;
        }
        if let Some(s) = channel.streams.get_mut(slot) {
            *s = Some(OpenStream {
                dst,
                port,
                pinholes,
            });
        }
        let request = PinholeRequest {
            transport: Transport::Udp,
            src,
            src_port: None,
            dst,
            dst_port: port,
            kind: channel.kind,
            call: channel.call,
            stream,
            opened_by: InspectorKind::Skinny,
            idle_timeout,
        };
        actions.push(InspectAction::Open(request));
        counters.pinholes_opened += 1;
        if let Some(rtcp_port) = port.checked_add(1) {
            actions.push(InspectAction::Open(PinholeRequest {
                dst_port: rtcp_port,
                kind: MediaKind::Rtcp,
                ..request
            }));
            counters.pinholes_opened += 1;
        }
        SkinnyVerdict::Forward
    }

    /// Close `sides` of the channel a Stop/Close names, unless it asks to keep the port.
    fn stop(
        &mut self,
        s: StopChannel,
        sides: &[Side],
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) {
        if s.keep_port {
            counters.keep_port_honoured += 1;
            return;
        }
        let exact = (s.conference_id, s.pass_thru_party_id);
        let key = if self.channels.contains_key(&exact) {
            Some(exact)
        } else {
            // Some call managers send a different conferenceID in the teardown than in
            // the set-up; the passThruPartyID still names the channel.
            self.channels
                .keys()
                .find(|k| k.1 == s.pass_thru_party_id)
                .copied()
        };
        let Some(key) = key else { return };
        let Some(channel) = self.channels.get_mut(&key) else {
            return;
        };
        let mut released = 0;
        for side in sides {
            if let Some(open) = channel
                .streams
                .get_mut(*side as usize)
                .and_then(Option::take)
            {
                actions.push(InspectAction::CloseStream {
                    call: channel.call,
                    stream: skinny_stream_ref(key.1, *side == Side::Transmit),
                });
                counters.streams_closed += 1;
                released += open.pinholes;
            }
        }
        if channel.streams.iter().all(Option::is_none) {
            // Nothing left open; a new Open or Start recreates the channel.
            self.channels.remove(&key);
        }
        self.release(released);
    }

    fn release(&self, pinholes: u32) {
        if pinholes == 0 {
            return;
        }
        if let Some(station) = self.station {
            self.table.update(station, |s| {
                s.pinholes = s.pinholes.saturating_sub(pinholes)
            });
        }
    }

    /// Close every stream of this session, one `CloseCall` per call.
    fn close_all(&mut self, counters: &mut SkinnyCounters, actions: &mut Vec<InspectAction>) {
        let first = actions.len();
        let mut released = 0;
        for channel in self.channels.values() {
            for open in channel.streams.iter().flatten() {
                released += open.pinholes;
                counters.streams_closed += 1;
            }
            let call = InspectAction::CloseCall { call: channel.call };
            if !actions.get(first..).unwrap_or_default().contains(&call) {
                actions.push(call);
            }
        }
        self.channels.clear();
        self.release(released);
    }

    /// The control connection ended (FIN, RST, timeout): close every pinhole it opened
    /// and forget the registration it carried.
    pub fn control_session_ended(
        &mut self,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) {
        self.close_all(counters, actions);
        if let Some(station) = self.station {
            let session = self.session;
            self.table.update(station, |s| {
                if s.registered_by == Some(session) {
                    s.registration = Registration::Unregistered;
                }
            });
        }
    }
}
