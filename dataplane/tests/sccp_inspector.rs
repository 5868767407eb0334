//! The Skinny inspector with hand-built PDUs of every message in the reference table, in
//! the basic, V15, V17 (IPv4), V17 (IPv6) and V20 layouts, with exact expected pinholes.

// Test helpers may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use pinhole_dataplane::inspect::action::{
    FlowContext, InspectAction, InspectorKind, MediaKind, PinholeRequest, Transport,
};
use pinhole_dataplane::inspect::sccp::{
    skinny_call_ref, skinny_stream_ref, ChannelAck, ControlSessionId, DeviceName, HeaderVersion,
    MessageId, OpenChannel, PduWriter, Register, Registration, SessionTransmission, SkinnyAddr,
    SkinnyConfig, SkinnyCounters, SkinnyDropReason, SkinnyInspector, SkinnyMessage, SkinnyTable,
    SkinnyVerdict, StartTransmission, StopChannel, TransmissionAck, TransmissionFailure,
};
use pinhole_dataplane::Timestamp;

const SESSION: ControlSessionId = ControlSessionId(7);
const IDLE: Duration = Duration::from_secs(120);

/// One layout under test: header version and the address family of the whole scenario.
#[derive(Clone, Copy, Debug)]
struct Layout {
    version: HeaderVersion,
    v6: bool,
}

const LAYOUTS: [Layout; 5] = [
    Layout {
        version: HeaderVersion::BASIC,
        v6: false,
    },
    Layout {
        version: HeaderVersion::V15,
        v6: false,
    },
    Layout {
        version: HeaderVersion::V17,
        v6: false,
    },
    Layout {
        version: HeaderVersion::V17,
        v6: true,
    },
    Layout {
        version: HeaderVersion::V20,
        v6: false,
    },
];

impl Layout {
    fn phone(&self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x10))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 1, 1, 10))
        }
    }
    fn cm(&self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 2, 2, 2))
        }
    }
    fn remote(&self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x50))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 2, 2, 50))
        }
    }
}

fn skinny(ip: IpAddr) -> SkinnyAddr {
    match ip {
        IpAddr::V4(a) => SkinnyAddr::V4(a),
        IpAddr::V6(a) => SkinnyAddr::V6(a),
    }
}

struct Harness {
    layout: Layout,
    table: Arc<SkinnyTable>,
    inspector: SkinnyInspector,
    counters: SkinnyCounters,
    now: Timestamp,
}

impl Harness {
    fn new(layout: Layout, config: SkinnyConfig) -> Self {
        let table = Arc::new(SkinnyTable::new(64, 4));
        Harness {
            layout,
            inspector: SkinnyInspector::new(Arc::new(config), Arc::clone(&table), SESSION, 2000),
            table,
            counters: SkinnyCounters::default(),
            now: Timestamp::from_secs(1000),
        }
    }

    fn ctx(&self, from_phone: bool) -> FlowContext {
        let phone = SocketAddr::new(self.layout.phone(), 51000);
        let cm = SocketAddr::new(self.layout.cm(), 2000);
        let (src, dst) = if from_phone { (phone, cm) } else { (cm, phone) };
        FlowContext {
            src,
            dst,
            transport: Transport::Tcp,
            zone_link: pinhole_dataplane::ZoneLink::UNZONED,
        }
    }

    fn pdu(&self, message: &SkinnyMessage<'_>) -> Vec<u8> {
        PduWriter::new(self.layout.version).to_vec(message).unwrap()
    }

    fn send(
        &mut self,
        from_phone: bool,
        message: SkinnyMessage<'_>,
    ) -> (SkinnyVerdict, Vec<InspectAction>) {
        let pdu = self.pdu(&message);
        self.send_raw(from_phone, &pdu)
    }

    fn send_raw(&mut self, from_phone: bool, pdu: &[u8]) -> (SkinnyVerdict, Vec<InspectAction>) {
        let mut actions = Vec::new();
        let ctx = self.ctx(from_phone);
        let verdict = self
            .inspector
            .inspect(pdu, &ctx, self.now, &mut self.counters, &mut actions);
        (verdict, actions)
    }
}

fn open(
    src: Option<IpAddr>,
    dst: IpAddr,
    port: u16,
    kind: MediaKind,
    call: u32,
    pass_thru: u32,
    transmit: bool,
) -> InspectAction {
    InspectAction::Open(PinholeRequest {
        transport: Transport::Udp,
        src,
        src_port: None,
        dst,
        dst_port: port,
        kind,
        call: skinny_call_ref(SESSION, call),
        stream: skinny_stream_ref(pass_thru, transmit),
        opened_by: InspectorKind::Skinny,
        idle_timeout: IDLE,
    })
}

/// RTP then RTCP (port + 1) of one stream.
fn pair(
    src: Option<IpAddr>,
    dst: IpAddr,
    port: u16,
    kind: MediaKind,
    call: u32,
    pass_thru: u32,
    transmit: bool,
) -> Vec<InspectAction> {
    vec![
        open(src, dst, port, kind, call, pass_thru, transmit),
        open(
            src,
            dst,
            port + 1,
            MediaKind::Rtcp,
            call,
            pass_thru,
            transmit,
        ),
    ]
}

fn close(call: u32, pass_thru: u32, transmit: bool) -> InspectAction {
    InspectAction::CloseStream {
        call: skinny_call_ref(SESSION, call),
        stream: skinny_stream_ref(pass_thru, transmit),
    }
}

fn stop(conference_id: u32, pass_thru_party_id: u32, call: u32, keep_port: bool) -> StopChannel {
    StopChannel {
        conference_id,
        pass_thru_party_id,
        call_reference: Some(call),
        keep_port,
    }
}

const FWD: SkinnyVerdict = SkinnyVerdict::Forward;

#[test]
fn audio_call_opens_and_closes_exact_pinholes_in_every_layout() {
    for layout in LAYOUTS {
        let mut h = Harness::new(layout, SkinnyConfig::default());
        let (phone, remote) = (layout.phone(), layout.remote());
        let open_rx = SkinnyMessage::OpenReceiveChannel(OpenChannel {
            conference_id: 500,
            pass_thru_party_id: 9001,
            call_reference: Some(77),
        });
        assert_eq!(h.send(false, open_rx), (FWD, vec![]), "{layout:?}");
        let ack = SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
            status: 0,
            addr: skinny(phone),
            port: 16384,
            pass_thru_party_id: 9001,
            call_reference: Some(77),
        });
        assert_eq!(
            h.send(true, ack),
            (
                FWD,
                pair(None, phone, 16384, MediaKind::Audio, 77, 9001, false)
            ),
            "{layout:?}"
        );
        let start = SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 500,
            pass_thru_party_id: 9001,
            remote: skinny(remote),
            remote_port: 20000,
            call_reference: Some(77),
            key_info: None,
        });
        assert_eq!(
            h.send(false, start),
            (
                FWD,
                pair(Some(phone), remote, 20000, MediaKind::Audio, 77, 9001, true)
            ),
            "{layout:?}"
        );
        // StartMediaTransmissionAck confirms; nothing new.
        let tx_ack = SkinnyMessage::StartMediaTransmissionAck(TransmissionAck {
            pass_thru_party_id: 9001,
            call_reference: 77,
            addr: skinny(phone),
            port: 16384,
            status: Some(0),
        });
        assert_eq!(h.send(true, tx_ack), (FWD, vec![]));
        assert_eq!(h.counters.calls, 1);
        assert_eq!(h.counters.pinholes_opened, 4);
        assert_eq!(h.table.station(phone).unwrap().pinholes, 4);
        // Hang-up.
        assert_eq!(
            h.send(
                false,
                SkinnyMessage::StopMediaTransmission(stop(500, 9001, 77, false))
            ),
            (FWD, vec![close(77, 9001, true)])
        );
        assert_eq!(
            h.send(
                false,
                SkinnyMessage::CloseReceiveChannel(stop(500, 9001, 77, false))
            ),
            (FWD, vec![close(77, 9001, false)])
        );
        assert_eq!(h.inspector.channels(), 0);
        assert_eq!(h.table.station(phone).unwrap().pinholes, 0);
        // A second Close for a channel already gone does nothing.
        assert_eq!(
            h.send(
                false,
                SkinnyMessage::CloseReceiveChannel(stop(500, 9001, 77, false))
            ),
            (FWD, vec![])
        );
    }
}

#[test]
fn video_channels_open_video_pinholes_in_every_layout() {
    for layout in LAYOUTS {
        let mut h = Harness::new(layout, SkinnyConfig::default());
        let (phone, remote) = (layout.phone(), layout.remote());
        let open_rx = SkinnyMessage::OpenMultiMediaReceiveChannel(OpenChannel {
            conference_id: 600,
            pass_thru_party_id: 42,
            call_reference: None,
        });
        assert_eq!(h.send(false, open_rx), (FWD, vec![]));
        let ack = SkinnyMessage::OpenMultiMediaReceiveChannelAck(ChannelAck {
            status: 0,
            addr: skinny(phone),
            port: 16500,
            pass_thru_party_id: 42,
            call_reference: Some(600),
        });
        assert_eq!(
            h.send(true, ack),
            (
                FWD,
                pair(None, phone, 16500, MediaKind::Video, 600, 42, false)
            ),
            "{layout:?}"
        );
        let start = SkinnyMessage::StartMultiMediaTransmission(StartTransmission {
            conference_id: 600,
            pass_thru_party_id: 42,
            remote: skinny(remote),
            remote_port: 2326,
            call_reference: Some(600),
            key_info: None,
        });
        assert_eq!(
            h.send(false, start),
            (
                FWD,
                pair(Some(phone), remote, 2326, MediaKind::Video, 600, 42, true)
            ),
            "{layout:?}"
        );
        let multi_ack = SkinnyMessage::StartMultiMediaTransmissionAck(TransmissionAck {
            pass_thru_party_id: 42,
            call_reference: 600,
            addr: skinny(phone),
            port: 16500,
            status: None,
        });
        assert_eq!(h.send(true, multi_ack), (FWD, vec![]));
        // Hold: keep the port, nothing closes.
        assert_eq!(
            h.send(
                false,
                SkinnyMessage::CloseMultiMediaReceiveChannel(stop(600, 42, 600, true))
            ),
            (FWD, vec![])
        );
        assert_eq!(h.counters.keep_port_honoured, 1);
        assert_eq!(
            h.send(
                false,
                SkinnyMessage::StopMultiMediaTransmission(stop(600, 42, 600, true))
            ),
            (FWD, vec![])
        );
        assert_eq!(
            h.send(
                false,
                SkinnyMessage::StopMultiMediaTransmission(stop(600, 42, 600, false))
            ),
            (FWD, vec![close(600, 42, true)])
        );
        assert_eq!(
            h.send(
                false,
                SkinnyMessage::CloseMultiMediaReceiveChannel(stop(600, 42, 600, false))
            ),
            (FWD, vec![close(600, 42, false)])
        );
    }
}

#[test]
fn start_media_toward_a_bridge_without_ack_opens_and_session_end_closes() {
    for layout in LAYOUTS {
        let mut h = Harness::new(layout, SkinnyConfig::default());
        let bridge = layout.remote();
        let start = SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 1,
            pass_thru_party_id: 2,
            remote: skinny(bridge),
            remote_port: 30000,
            call_reference: None,
            key_info: None,
        });
        assert_eq!(
            h.send(false, start),
            (
                FWD,
                pair(
                    Some(layout.phone()),
                    bridge,
                    30000,
                    MediaKind::Audio,
                    1,
                    2,
                    true
                )
            )
        );
        let mut actions = Vec::new();
        h.inspector
            .control_session_ended(&mut h.counters, &mut actions);
        assert_eq!(
            actions,
            vec![InspectAction::CloseCall {
                call: skinny_call_ref(SESSION, 1)
            }]
        );
        assert_eq!(h.table.station(layout.phone()).unwrap().pinholes, 0);
    }
}

#[test]
fn media_transmission_failure_releases_the_channel() {
    for layout in LAYOUTS {
        let mut h = Harness::new(layout, SkinnyConfig::default());
        let start = SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 3,
            pass_thru_party_id: 4,
            remote: skinny(layout.remote()),
            remote_port: 30000,
            call_reference: Some(3),
            key_info: None,
        });
        assert_eq!(h.send(false, start).1.len(), 2);
        let failure = SkinnyMessage::MediaTransmissionFailure(TransmissionFailure {
            conference_id: 3,
            pass_thru_party_id: 4,
            remote: skinny(layout.remote()),
            remote_port: 30000,
            call_reference: Some(3),
        });
        assert_eq!(h.send(true, failure), (FWD, vec![close(3, 4, true)]));
        assert_eq!(h.counters.media_failures, 1);
        assert_eq!(h.inspector.channels(), 0);
    }
}

#[test]
fn signalling_messages_open_nothing() {
    for layout in LAYOUTS {
        let mut h = Harness::new(layout, SkinnyConfig::default());
        let register = SkinnyMessage::Register(Register {
            device_name: DeviceName(b"SEP001122334455"),
            user_id: 0,
            instance: 1,
            station_ip: Ipv4Addr::new(10, 1, 1, 10),
            device_type: Some(7),
            max_streams: Some(3),
        });
        let session = SkinnyMessage::StartSessionTransmission(SessionTransmission {
            remote: skinny(layout.remote()),
            session_type: Some(1),
        });
        let stop_session = SkinnyMessage::StopSessionTransmission(SessionTransmission {
            remote: skinny(layout.remote()),
            session_type: Some(1),
        });
        for (from_phone, m) in [
            (true, register),
            (true, SkinnyMessage::IpPort { port: 2000 }),
            (false, SkinnyMessage::RegisterAck),
            (true, SkinnyMessage::KeepAlive),
            (false, SkinnyMessage::KeepAliveAck),
            (false, session),
            (false, stop_session),
            (true, SkinnyMessage::Unregister),
            (false, SkinnyMessage::UnregisterAck),
            (false, SkinnyMessage::RegisterReject),
        ] {
            assert_eq!(h.send(from_phone, m), (FWD, vec![]), "{m:?} {layout:?}");
        }
        assert_eq!(h.counters.keepalives, 2);
        assert_eq!(h.counters.registers, 1);
        assert_eq!(h.counters.unregisters, 2);
    }
}

#[test]
fn registration_is_tracked_and_enforced() {
    let layout = LAYOUTS[0];
    let config = SkinnyConfig {
        enforce_registration: true,
        ..SkinnyConfig::default()
    };
    let mut h = Harness::new(layout, config);
    let phone = layout.phone();
    let start = SkinnyMessage::StartMediaTransmission(StartTransmission {
        conference_id: 1,
        pass_thru_party_id: 2,
        remote: skinny(layout.remote()),
        remote_port: 30000,
        call_reference: Some(1),
        key_info: None,
    });
    assert_eq!(
        h.send(false, start),
        (SkinnyVerdict::Drop(SkinnyDropReason::Unregistered), vec![])
    );
    assert_eq!(h.counters.unregistered_drops, 1);
    let register = SkinnyMessage::Register(Register {
        device_name: DeviceName(b"SEPAABBCCDDEEFF\0"),
        user_id: 0,
        instance: 1,
        station_ip: Ipv4Addr::new(10, 1, 1, 10),
        device_type: None,
        max_streams: None,
    });
    h.send(true, register);
    let station = h.table.station(phone).unwrap();
    assert_eq!(station.registration, Registration::Registering);
    assert_eq!(&station.device_name[..15], b"SEPAABBCCDDEEFF");
    h.send(false, SkinnyMessage::RegisterAck);
    assert_eq!(
        h.table.station(phone).unwrap().registration,
        Registration::Registered
    );
    assert_eq!(h.send(false, start).1.len(), 2);
    // Unregistered again: media is refused and everything open is closed.
    h.send(true, SkinnyMessage::Unregister);
    let (_, actions) = h.send(false, SkinnyMessage::UnregisterAck);
    assert_eq!(
        actions,
        vec![InspectAction::CloseCall {
            call: skinny_call_ref(SESSION, 1)
        }]
    );
    assert_eq!(
        h.table.station(phone).unwrap().registration,
        Registration::Unregistered
    );
    assert_eq!(
        h.send(false, start).0,
        SkinnyVerdict::Drop(SkinnyDropReason::Unregistered)
    );
    // Without enforcement the same message passes.
    let mut lax = Harness::new(layout, SkinnyConfig::default());
    assert_eq!(lax.send(false, start).1.len(), 2);
}

#[test]
fn registration_ends_with_the_control_session() {
    let layout = LAYOUTS[2];
    let mut h = Harness::new(layout, SkinnyConfig::default());
    h.send(false, SkinnyMessage::RegisterAck);
    assert_eq!(
        h.table.station(layout.phone()).unwrap().registration,
        Registration::Registered
    );
    let mut actions = Vec::new();
    h.inspector
        .control_session_ended(&mut h.counters, &mut actions);
    assert_eq!(
        h.table.station(layout.phone()).unwrap().registration,
        Registration::Unregistered
    );
}

#[test]
fn call_flood_is_limited_per_station_per_second() {
    let layout = LAYOUTS[0];
    let config = SkinnyConfig {
        calls_per_second: 3,
        max_pinholes_per_station: 1000,
        ..SkinnyConfig::default()
    };
    let mut h = Harness::new(layout, config);
    let start = |call: u32| {
        SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: call,
            pass_thru_party_id: call,
            remote: skinny(layout.remote()),
            remote_port: 30000,
            call_reference: Some(call),
            key_info: None,
        })
    };
    for call in 1..=3 {
        assert_eq!(h.send(false, start(call)).0, FWD);
    }
    // Messages of a known call are not new calls.
    assert_eq!(h.send(false, start(2)).0, FWD);
    assert_eq!(
        h.send(false, start(4)),
        (SkinnyVerdict::Drop(SkinnyDropReason::CallFlood), vec![])
    );
    assert_eq!(h.counters.call_flood_drops, 1);
    h.now = h.now.after(Duration::from_secs(1));
    assert_eq!(h.send(false, start(4)).0, FWD);
    assert_eq!(h.counters.calls, 4);
    // The limit is clamped to its range (2..=1000).
    assert_eq!(
        SkinnyConfig {
            calls_per_second: 1,
            ..SkinnyConfig::default()
        }
        .effective_calls_per_second(),
        2
    );
}

#[test]
fn pinholes_per_station_are_capped() {
    let layout = LAYOUTS[0];
    let config = SkinnyConfig {
        max_pinholes_per_station: 4,
        ..SkinnyConfig::default()
    };
    let mut h = Harness::new(layout, config);
    let start = |pass: u32| {
        SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 1,
            pass_thru_party_id: pass,
            remote: skinny(layout.remote()),
            remote_port: 30000 + pass as u16 * 2,
            call_reference: Some(1),
            key_info: None,
        })
    };
    assert_eq!(h.send(false, start(1)).1.len(), 2);
    assert_eq!(h.send(false, start(2)).1.len(), 2);
    assert_eq!(
        h.send(false, start(3)),
        (SkinnyVerdict::Drop(SkinnyDropReason::PinholeLimit), vec![])
    );
    assert_eq!(h.counters.pinhole_limit_drops, 1);
    // Refreshing an open stream is not a new pinhole.
    assert_eq!(h.send(false, start(2)).1.len(), 2);
    // Closing one frees room.
    h.send(
        false,
        SkinnyMessage::StopMediaTransmission(stop(1, 1, 1, false)),
    );
    assert_eq!(h.send(false, start(3)).1.len(), 2);
}

#[test]
fn a_new_destination_replaces_the_old_stream() {
    let layout = LAYOUTS[0];
    let mut h = Harness::new(layout, SkinnyConfig::default());
    let start = |port: u16| {
        SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 1,
            pass_thru_party_id: 2,
            remote: skinny(layout.remote()),
            remote_port: port,
            call_reference: Some(1),
            key_info: None,
        })
    };
    h.send(false, start(30000));
    let (_, actions) = h.send(false, start(30010));
    let mut expected = vec![close(1, 2, true)];
    expected.extend(pair(
        Some(layout.phone()),
        layout.remote(),
        30010,
        MediaKind::Audio,
        1,
        2,
        true,
    ));
    assert_eq!(actions, expected);
    assert_eq!(h.table.station(layout.phone()).unwrap().pinholes, 2);
}

#[test]
fn forged_direction_unusable_addresses_and_failed_acks_open_nothing() {
    let layout = LAYOUTS[0];
    let mut h = Harness::new(layout, SkinnyConfig::default());
    let start = StartTransmission {
        conference_id: 1,
        pass_thru_party_id: 2,
        remote: skinny(layout.remote()),
        remote_port: 30000,
        call_reference: Some(1),
        key_info: None,
    };
    // A station sending a call manager's instruction.
    assert_eq!(
        h.send(true, SkinnyMessage::StartMediaTransmission(start)),
        (FWD, vec![])
    );
    assert_eq!(h.counters.wrong_direction, 1);
    let zero = StartTransmission {
        remote: SkinnyAddr::V4(Ipv4Addr::UNSPECIFIED),
        ..start
    };
    assert_eq!(
        h.send(false, SkinnyMessage::StartMediaTransmission(zero)),
        (FWD, vec![])
    );
    let port0 = StartTransmission {
        remote_port: 0,
        ..start
    };
    assert_eq!(
        h.send(false, SkinnyMessage::StartMediaTransmission(port0)),
        (FWD, vec![])
    );
    assert_eq!(h.counters.invalid_media_address, 2);
    let failed = ChannelAck {
        status: 1,
        addr: skinny(layout.phone()),
        port: 16384,
        pass_thru_party_id: 2,
        call_reference: Some(1),
    };
    assert_eq!(
        h.send(true, SkinnyMessage::OpenReceiveChannelAck(failed)),
        (FWD, vec![])
    );
    assert_eq!(h.counters.failed_acks, 1);
    let mut strict = Harness::new(
        layout,
        SkinnyConfig {
            strict: true,
            ..SkinnyConfig::default()
        },
    );
    assert_eq!(
        strict
            .send(true, SkinnyMessage::StartMediaTransmission(start))
            .0,
        SkinnyVerdict::Drop(SkinnyDropReason::WrongDirection)
    );
}

#[test]
fn unknown_ids_and_versions_pass_by_default_and_drop_when_strict() {
    let layout = LAYOUTS[0];
    let mut lax = Harness::new(layout, SkinnyConfig::default());
    let mut strict = Harness::new(
        layout,
        SkinnyConfig {
            strict: true,
            ..SkinnyConfig::default()
        },
    );
    let unknown_id = lax.pdu(&SkinnyMessage::Other(MessageId(0x0070)));
    let spcp = lax.pdu(&SkinnyMessage::Other(MessageId(0x8005)));
    let mut unknown_version = lax.pdu(&SkinnyMessage::KeepAlive);
    unknown_version[4] = 0x30;
    assert_eq!(lax.send_raw(true, &unknown_id).0, FWD);
    assert_eq!(lax.send_raw(true, &unknown_version).0, FWD);
    assert_eq!(lax.send_raw(true, &spcp).0, FWD);
    assert_eq!(
        (
            lax.counters.unknown_ids,
            lax.counters.unknown_versions,
            lax.counters.spcp
        ),
        (1, 1, 1)
    );
    assert_eq!(
        strict.send_raw(true, &unknown_id).0,
        SkinnyVerdict::Drop(SkinnyDropReason::UnknownMessage)
    );
    assert_eq!(
        strict.send_raw(true, &unknown_version).0,
        SkinnyVerdict::Drop(SkinnyDropReason::UnknownVersion)
    );
    assert_eq!(strict.send_raw(true, &spcp).0, FWD);
    assert_eq!(strict.counters.dropped, 2);
}

#[test]
fn malformed_pdus_are_dropped_and_counted() {
    let layout = LAYOUTS[0];
    let mut h = Harness::new(layout, SkinnyConfig::default());
    // An OpenReceiveChannelAck cut short before its port.
    let mut short = 12u32.to_le_bytes().to_vec();
    short.extend(0u32.to_le_bytes());
    short.extend(0x22u32.to_le_bytes());
    short.extend([0u8; 8]);
    assert!(matches!(
        h.send_raw(true, &short).0,
        SkinnyVerdict::Drop(SkinnyDropReason::Malformed(_))
    ));
    assert_eq!(h.counters.malformed, 1);
    let mut lax = Harness::new(
        layout,
        SkinnyConfig {
            drop_malformed: false,
            ..SkinnyConfig::default()
        },
    );
    assert_eq!(lax.send_raw(true, &short), (FWD, vec![]));
}

#[test]
fn encrypted_media_is_counted_and_opens_the_same_pinholes() {
    let layout = LAYOUTS[3];
    let mut h = Harness::new(layout, SkinnyConfig::default());
    let start = StartTransmission {
        conference_id: 1,
        pass_thru_party_id: 2,
        remote: skinny(layout.remote()),
        remote_port: 30000,
        call_reference: Some(1),
        key_info: None,
    };
    let mut pdu = Vec::new();
    PduWriter::new(layout.version)
        .write_start_media_with_key(
            &start,
            &pinhole_dataplane::inspect::sccp::KeyMaterial {
                algorithm: 1,
                key: &[0xA5; 16],
                salt: &[0x5A; 14],
            },
            &mut pdu,
        )
        .unwrap();
    let (verdict, actions) = h.send_raw(false, &pdu);
    assert_eq!(verdict, FWD);
    assert_eq!(
        actions,
        pair(
            Some(layout.phone()),
            layout.remote(),
            30000,
            MediaKind::Audio,
            1,
            2,
            true
        )
    );
    assert_eq!(h.counters.encrypted_media, 1);
}

#[test]
fn a_stream_refused_for_pinholes_leaves_no_channel_behind() {
    let layout = LAYOUTS[0];
    let config = SkinnyConfig {
        max_pinholes_per_station: 2,
        max_channels_per_session: 2,
        ..SkinnyConfig::default()
    };
    let mut h = Harness::new(layout, config);
    let start = |pass: u32| {
        SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 1,
            pass_thru_party_id: pass,
            remote: skinny(layout.remote()),
            remote_port: 30000 + pass as u16 * 2,
            call_reference: Some(1),
            key_info: None,
        })
    };
    assert_eq!(h.send(false, start(1)).1.len(), 2);
    // Both refused for pinholes: the first must not have taken the second channel slot.
    for pass in [2, 3] {
        assert_eq!(
            h.send(false, start(pass)),
            (SkinnyVerdict::Drop(SkinnyDropReason::PinholeLimit), vec![])
        );
    }
    assert_eq!(h.counters.pinhole_limit_drops, 2);
    assert_eq!(h.counters.channel_limit_drops, 0);
}

#[test]
fn a_failed_ack_is_no_call_for_the_flood_limit() {
    let layout = LAYOUTS[0];
    let config = SkinnyConfig {
        calls_per_second: 2,
        enforce_registration: true,
        ..SkinnyConfig::default()
    };
    let mut h = Harness::new(layout, config);
    // Unregistered, yet a failed Ack is forwarded: it opens nothing.
    for call in 1..=3 {
        let failed = ChannelAck {
            status: 1,
            addr: skinny(layout.phone()),
            port: 16384,
            pass_thru_party_id: call,
            call_reference: Some(call),
        };
        assert_eq!(
            h.send(true, SkinnyMessage::OpenReceiveChannelAck(failed)),
            (FWD, vec![])
        );
    }
    assert_eq!(h.counters.failed_acks, 3);
    assert_eq!(h.counters.calls, 0);
    assert_eq!(h.counters.call_flood_drops, 0);
    assert_eq!(h.counters.unregistered_drops, 0);
}
