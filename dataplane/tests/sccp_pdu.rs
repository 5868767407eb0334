//! Skinny PDU parsing: the reference layouts checked byte by byte (independently of the
//! builder), builder -> parser round trips in every layout, key redaction, and random
//! input never panicking.

// Test helpers may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::{Ipv4Addr, Ipv6Addr};

use pinhole_dataplane::inspect::sccp::{
    parse_pdu, ChannelAck, DeviceName, HeaderVersion, KeyMaterial, MessageId, OpenChannel,
    PduError, PduWriter, Register, SessionTransmission, SkinnyAddr, SkinnyMessage,
    StartTransmission, StopChannel, TransmissionAck, TransmissionFailure, DEFAULT_MAX_DATA_LENGTH,
};
use proptest::prelude::*;

const MAX: u32 = DEFAULT_MAX_DATA_LENGTH;

/// A PDU written field by field at absolute offsets, as the reference tables give them.
fn raw_pdu(version: u32, id: u32, total_len: usize, fields: &[(usize, &[u8])]) -> Vec<u8> {
    let mut pdu = vec![0u8; total_len];
    pdu[0..4].copy_from_slice(&((total_len - 8) as u32).to_le_bytes());
    pdu[4..8].copy_from_slice(&version.to_le_bytes());
    pdu[8..12].copy_from_slice(&id.to_le_bytes());
    for (offset, bytes) in fields {
        pdu[*offset..*offset + bytes.len()].copy_from_slice(bytes);
    }
    pdu
}

fn le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

#[test]
fn open_receive_channel_ack_basic_offsets() {
    let pdu = raw_pdu(
        0,
        0x22,
        32,
        &[
            (12, &le(0)),
            (16, &[10, 1, 1, 10]),
            (20, &le(16384)),
            (24, &le(0x0100_0005)),
            (28, &le(77)),
        ],
    );
    let (parsed, len) = parse_pdu(&pdu, MAX).unwrap();
    assert_eq!(len, 32);
    assert_eq!(
        parsed.message,
        SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
            status: 0,
            addr: SkinnyAddr::V4(Ipv4Addr::new(10, 1, 1, 10)),
            port: 16384,
            pass_thru_party_id: 0x0100_0005,
            call_reference: Some(77),
        })
    );
    // data_length 20: no callReference.
    let short = raw_pdu(
        0,
        0x22,
        28,
        &[(16, &[10, 1, 1, 10]), (20, &le(16384)), (24, &le(5))],
    );
    match parse_pdu(&short, MAX).unwrap().0.message {
        SkinnyMessage::OpenReceiveChannelAck(a) => assert_eq!(a.call_reference, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn open_receive_channel_ack_v17_offsets_ipv6() {
    let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);
    let pdu = raw_pdu(
        0x11,
        0x22,
        48,
        &[
            (12, &le(0)),
            (16, &le(1)),
            (20, &v6.octets()),
            (36, &le(20000)),
            (40, &le(9)),
            (44, &le(123)),
        ],
    );
    let (parsed, _) = parse_pdu(&pdu, MAX).unwrap();
    assert_eq!(
        parsed.message,
        SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
            status: 0,
            addr: SkinnyAddr::V6(v6),
            port: 20000,
            pass_thru_party_id: 9,
            call_reference: Some(123),
        })
    );
}

#[test]
fn start_media_transmission_offsets_basic_and_v17() {
    let basic = raw_pdu(
        0,
        0x8A,
        104,
        &[
            (12, &le(1000)),
            (16, &le(2000)),
            (20, &[10, 2, 2, 50]),
            (24, &le(24580)),
            (52, &le(4242)),
        ],
    );
    let expected = StartTransmission {
        conference_id: 1000,
        pass_thru_party_id: 2000,
        remote: SkinnyAddr::V4(Ipv4Addr::new(10, 2, 2, 50)),
        remote_port: 24580,
        call_reference: Some(4242),
        key_info: Some(pinhole_dataplane::inspect::sccp::KeyInfoSummary {
            algorithm: 0,
            key_len: 0,
            salt_len: 0,
        }),
    };
    assert_eq!(
        parse_pdu(&basic, MAX).unwrap().0.message,
        SkinnyMessage::StartMediaTransmission(expected)
    );
    let v17 = raw_pdu(
        0x11,
        0x8A,
        120,
        &[
            (12, &le(1000)),
            (16, &le(2000)),
            (20, &le(0)),
            (24, &[10, 2, 2, 50]),
            (40, &le(24580)),
            (68, &le(4242)),
        ],
    );
    assert_eq!(
        parse_pdu(&v17, MAX).unwrap().0.message,
        SkinnyMessage::StartMediaTransmission(expected)
    );
    // Only up to the remote port is required.
    let short = raw_pdu(0, 0x8A, 28, &[(20, &[1, 2, 3, 4]), (24, &le(5000))]);
    match parse_pdu(&short, MAX).unwrap().0.message {
        SkinnyMessage::StartMediaTransmission(s) => {
            assert_eq!(s.remote_port, 5000);
            assert_eq!(s.call_reference, None);
        }
        other => panic!("{other:?}"),
    }
    let too_short = raw_pdu(0, 0x8A, 27, &[]);
    assert_eq!(
        parse_pdu(&too_short, MAX).map(|p| p.0),
        Err(PduError::ShortBody)
    );
}

#[test]
fn start_multi_media_transmission_offsets() {
    let basic = raw_pdu(
        0,
        0x132,
        36,
        &[
            (12, &le(1)),
            (16, &le(2)),
            (20, &le(103)),
            (24, &[10, 2, 2, 50]),
            (28, &le(2326)),
            (32, &le(3)),
        ],
    );
    let v17 = raw_pdu(
        0x11,
        0x132,
        52,
        &[
            (12, &le(1)),
            (16, &le(2)),
            (24, &le(0)),
            (28, &[10, 2, 2, 50]),
            (44, &le(2326)),
            (48, &le(3)),
        ],
    );
    for pdu in [basic, v17] {
        assert_eq!(
            parse_pdu(&pdu, MAX).unwrap().0.message,
            SkinnyMessage::StartMultiMediaTransmission(StartTransmission {
                conference_id: 1,
                pass_thru_party_id: 2,
                remote: SkinnyAddr::V4(Ipv4Addr::new(10, 2, 2, 50)),
                remote_port: 2326,
                call_reference: Some(3),
                key_info: None,
            })
        );
    }
}

#[test]
fn stop_and_close_accept_eight_byte_bodies_and_read_keep_port() {
    for id in [0x8B, 0x106, 0x133, 0x136] {
        let short = raw_pdu(0, id, 20, &[(12, &le(5)), (16, &le(6))]);
        let full = raw_pdu(
            0x14,
            id,
            28,
            &[(12, &le(5)), (16, &le(6)), (20, &le(7)), (24, &le(1))],
        );
        let stop = |pdu: &[u8]| match parse_pdu(pdu, MAX).unwrap().0.message {
            SkinnyMessage::StopMediaTransmission(s)
            | SkinnyMessage::CloseReceiveChannel(s)
            | SkinnyMessage::StopMultiMediaTransmission(s)
            | SkinnyMessage::CloseMultiMediaReceiveChannel(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            stop(&short),
            StopChannel {
                conference_id: 5,
                pass_thru_party_id: 6,
                call_reference: None,
                keep_port: false
            }
        );
        assert_eq!(
            stop(&full),
            StopChannel {
                conference_id: 5,
                pass_thru_party_id: 6,
                call_reference: Some(7),
                keep_port: true
            }
        );
    }
}

#[test]
fn register_reads_device_name_and_station_ip() {
    let pdu = raw_pdu(
        0,
        1,
        48,
        &[
            (12, b"SEP001122334455\0"),
            (28, &le(0)),
            (32, &le(1)),
            (36, &[10, 1, 1, 10]),
            (40, &le(7)),
            (44, &le(3)),
        ],
    );
    match parse_pdu(&pdu, MAX).unwrap().0.message {
        SkinnyMessage::Register(r) => {
            assert_eq!(r.device_name.as_bytes(), b"SEP001122334455");
            assert_eq!(r.station_ip, Ipv4Addr::new(10, 1, 1, 10));
            assert_eq!(r.device_type, Some(7));
            assert_eq!(r.max_streams, Some(3));
            assert_eq!(format!("{:?}", r.device_name), "\"SEP001122334455\"");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn media_transmission_failure_and_transmission_ack_offsets() {
    let basic = raw_pdu(
        0,
        0x2A,
        32,
        &[
            (12, &le(1)),
            (16, &le(2)),
            (20, &[1, 2, 3, 4]),
            (24, &le(3000)),
            (28, &le(9)),
        ],
    );
    let v17 = raw_pdu(
        0x11,
        0x2A,
        48,
        &[
            (12, &le(1)),
            (16, &le(2)),
            (20, &le(0)),
            (24, &[1, 2, 3, 4]),
            (40, &le(3000)),
            (44, &le(9)),
        ],
    );
    for pdu in [basic, v17] {
        assert_eq!(
            parse_pdu(&pdu, MAX).unwrap().0.message,
            SkinnyMessage::MediaTransmissionFailure(TransmissionFailure {
                conference_id: 1,
                pass_thru_party_id: 2,
                remote: SkinnyAddr::V4(Ipv4Addr::new(1, 2, 3, 4)),
                remote_port: 3000,
                call_reference: Some(9),
            })
        );
    }
    let ack = raw_pdu(
        0x11,
        0x154,
        48,
        &[
            (12, &le(2)),
            (16, &le(9)),
            (24, &[1, 2, 3, 4]),
            (40, &le(3000)),
            (44, &le(0)),
        ],
    );
    assert_eq!(
        parse_pdu(&ack, MAX).unwrap().0.message,
        SkinnyMessage::StartMediaTransmissionAck(TransmissionAck {
            pass_thru_party_id: 2,
            call_reference: 9,
            addr: SkinnyAddr::V4(Ipv4Addr::new(1, 2, 3, 4)),
            port: 3000,
            status: Some(0),
        })
    );
}

#[test]
fn bad_address_type_and_port_are_errors() {
    let pdu = raw_pdu(0x11, 0x22, 48, &[(16, &le(3))]);
    assert_eq!(
        parse_pdu(&pdu, MAX).map(|p| p.0),
        Err(PduError::BadAddressType)
    );
    let pdu = raw_pdu(0, 0x22, 32, &[(20, &le(70000))]);
    assert_eq!(parse_pdu(&pdu, MAX).map(|p| p.0), Err(PduError::BadPort));
}

#[test]
fn unknown_versions_are_not_interpreted() {
    let pdu = raw_pdu(0x30, 0x22, 32, &[(20, &le(16384))]);
    let (parsed, _) = parse_pdu(&pdu, MAX).unwrap();
    assert_eq!(
        parsed.message,
        SkinnyMessage::Other(MessageId::OPEN_RECEIVE_CHANNEL_ACK)
    );
}

#[test]
fn media_keys_are_never_printed() {
    let key = [0xA5u8; 16];
    let salt = [0x5Au8; 14];
    let start = StartTransmission {
        conference_id: 1,
        pass_thru_party_id: 2,
        remote: SkinnyAddr::V4(Ipv4Addr::new(10, 2, 2, 50)),
        remote_port: 4000,
        call_reference: Some(3),
        key_info: None,
    };
    for version in [HeaderVersion::BASIC, HeaderVersion::V17] {
        let mut pdu = Vec::new();
        PduWriter::new(version)
            .write_start_media_with_key(
                &start,
                &KeyMaterial {
                    algorithm: 1,
                    key: &key,
                    salt: &salt,
                },
                &mut pdu,
            )
            .unwrap();
        // The key really is in the packet...
        assert!(pdu.windows(16).any(|w| w == key));
        let (parsed, _) = parse_pdu(&pdu, MAX).unwrap();
        let printed = format!("{parsed:?} {parsed:#?}");
        // ...but no rendering of the parsed PDU shows it, in decimal or hex.
        for needle in ["165", "a5", "A5", "90", "5a", "5A"] {
            assert!(!printed.contains(needle), "{needle} in {printed}");
        }
        match parsed.message {
            SkinnyMessage::StartMediaTransmission(s) => {
                let info = s.key_info.unwrap();
                assert_eq!((info.algorithm, info.key_len, info.salt_len), (1, 16, 14));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn several_pdus_back_to_back_parse_one_at_a_time() {
    let w = PduWriter::new(HeaderVersion::V20);
    let mut stream = Vec::new();
    w.write(&SkinnyMessage::KeepAlive, &mut stream).unwrap();
    w.write(&SkinnyMessage::RegisterAck, &mut stream).unwrap();
    w.write(&SkinnyMessage::IpPort { port: 2000 }, &mut stream)
        .unwrap();
    let mut rest = &stream[..];
    let mut seen = Vec::new();
    while !rest.is_empty() {
        let (pdu, len) = parse_pdu(rest, MAX).unwrap();
        seen.push(pdu.message);
        rest = &rest[len..];
    }
    assert_eq!(
        seen,
        vec![
            SkinnyMessage::KeepAlive,
            SkinnyMessage::RegisterAck,
            SkinnyMessage::IpPort { port: 2000 }
        ]
    );
}

#[test]
fn builder_refuses_ipv6_in_old_layouts() {
    let ack = SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
        status: 0,
        addr: SkinnyAddr::V6(Ipv6Addr::LOCALHOST),
        port: 1,
        pass_thru_party_id: 1,
        call_reference: None,
    });
    let mut out = vec![1, 2, 3];
    assert!(PduWriter::new(HeaderVersion::V15)
        .write(&ack, &mut out)
        .is_err());
    assert_eq!(out, vec![1, 2, 3]);
    assert!(PduWriter::new(HeaderVersion::V17)
        .write(&ack, &mut out)
        .is_ok());
}

// ---- property tests ----

/// The layouts exercised: basic, V15, V17 (IPv4 and IPv6), V20 (IPv4 and IPv6).
fn layouts() -> impl Strategy<Value = (HeaderVersion, bool)> {
    prop_oneof![
        Just((HeaderVersion::BASIC, false)),
        Just((HeaderVersion::V15, false)),
        Just((HeaderVersion::V17, false)),
        Just((HeaderVersion::V17, true)),
        Just((HeaderVersion::V20, false)),
        Just((HeaderVersion::V20, true)),
    ]
}

fn addr(v6: bool) -> BoxedStrategy<SkinnyAddr> {
    if v6 {
        prop_oneof![
            any::<[u8; 16]>().prop_map(|b| SkinnyAddr::V6(Ipv6Addr::from(b))),
            any::<[u8; 16]>().prop_map(SkinnyAddr::Both),
            any::<[u8; 4]>().prop_map(|b| SkinnyAddr::V4(Ipv4Addr::from(b))),
        ]
        .boxed()
    } else {
        any::<[u8; 4]>()
            .prop_map(|b| SkinnyAddr::V4(Ipv4Addr::from(b)))
            .boxed()
    }
}

fn message(v6: bool, name: &'static [u8]) -> BoxedStrategy<SkinnyMessage<'static>> {
    let ack = (
        any::<u32>(),
        addr(v6),
        any::<u16>(),
        any::<u32>(),
        any::<Option<u32>>(),
    )
        .prop_map(
            |(status, addr, port, pass_thru_party_id, call_reference)| ChannelAck {
                status,
                addr,
                port,
                pass_thru_party_id,
                call_reference,
            },
        );
    let start = (
        any::<u32>(),
        any::<u32>(),
        addr(v6),
        any::<u16>(),
        any::<Option<u32>>(),
    )
        .prop_map(
            |(conference_id, pass_thru_party_id, remote, remote_port, call_reference)| {
                StartTransmission {
                    conference_id,
                    pass_thru_party_id,
                    remote,
                    remote_port,
                    call_reference,
                    key_info: None,
                }
            },
        );
    let stop = (
        any::<u32>(),
        any::<u32>(),
        any::<Option<u32>>(),
        any::<bool>(),
    )
        .prop_map(|(c, p, call, keep)| {
            StopChannel {
                conference_id: c,
                pass_thru_party_id: p,
                // A keep-port flag needs the callReference before it.
                call_reference: if keep { Some(call.unwrap_or(0)) } else { call },
                keep_port: keep,
            }
        });
    let open =
        (any::<u32>(), any::<u32>(), any::<Option<u32>>()).prop_map(|(c, p, call)| OpenChannel {
            conference_id: c,
            pass_thru_party_id: p,
            call_reference: call,
        });
    let failure = (
        any::<u32>(),
        any::<u32>(),
        addr(v6),
        any::<u16>(),
        any::<Option<u32>>(),
    )
        .prop_map(
            |(c, p, remote, remote_port, call_reference)| TransmissionFailure {
                conference_id: c,
                pass_thru_party_id: p,
                remote,
                remote_port,
                call_reference,
            },
        );
    let tx_ack = (
        any::<u32>(),
        any::<u32>(),
        addr(v6),
        any::<u16>(),
        any::<Option<u32>>(),
    )
        .prop_map(|(p, call, addr, port, status)| TransmissionAck {
            pass_thru_party_id: p,
            call_reference: call,
            addr,
            port,
            status,
        });
    let session =
        (addr(v6), any::<Option<u32>>()).prop_map(|(remote, session_type)| SessionTransmission {
            remote,
            session_type,
        });
    let register = (
        any::<u32>(),
        any::<u32>(),
        any::<[u8; 4]>(),
        any::<Option<(u32, Option<u32>)>>(),
    )
        .prop_map(move |(user_id, instance, ip, tail)| {
            SkinnyMessage::Register(Register {
                device_name: DeviceName(name),
                user_id,
                instance,
                station_ip: Ipv4Addr::from(ip),
                device_type: tail.map(|t| t.0),
                max_streams: tail.and_then(|t| t.1),
            })
        });
    prop_oneof![
        Just(SkinnyMessage::KeepAlive),
        Just(SkinnyMessage::KeepAliveAck),
        Just(SkinnyMessage::RegisterAck),
        Just(SkinnyMessage::RegisterReject),
        Just(SkinnyMessage::Unregister),
        Just(SkinnyMessage::UnregisterAck),
        Just(SkinnyMessage::Other(MessageId(0x9B))),
        Just(SkinnyMessage::Other(MessageId(0x8001))),
        register,
        any::<u32>().prop_map(|port| SkinnyMessage::IpPort { port }),
        open.clone().prop_map(SkinnyMessage::OpenReceiveChannel),
        open.prop_map(
            |o| SkinnyMessage::OpenMultiMediaReceiveChannel(OpenChannel {
                call_reference: None,
                ..o
            })
        ),
        ack.clone().prop_map(SkinnyMessage::OpenReceiveChannelAck),
        ack.prop_map(SkinnyMessage::OpenMultiMediaReceiveChannelAck),
        start
            .clone()
            .prop_map(SkinnyMessage::StartMediaTransmission),
        start.prop_map(SkinnyMessage::StartMultiMediaTransmission),
        stop.clone().prop_map(SkinnyMessage::StopMediaTransmission),
        stop.clone().prop_map(SkinnyMessage::CloseReceiveChannel),
        stop.clone()
            .prop_map(SkinnyMessage::StopMultiMediaTransmission),
        stop.prop_map(SkinnyMessage::CloseMultiMediaReceiveChannel),
        session
            .clone()
            .prop_map(SkinnyMessage::StartSessionTransmission),
        session.prop_map(SkinnyMessage::StopSessionTransmission),
        failure.prop_map(SkinnyMessage::MediaTransmissionFailure),
        tx_ack
            .clone()
            .prop_map(SkinnyMessage::StartMediaTransmissionAck),
        tx_ack.prop_map(SkinnyMessage::StartMultiMediaTransmissionAck),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn builder_then_parser_round_trips(
        (version, message) in layouts().prop_flat_map(|(version, v6)| (Just(version), message(v6, b"SEPAABBCCDDEEFF")))
    ) {
        let pdu = PduWriter::new(version).to_vec(&message).unwrap();
        let (parsed, len) = parse_pdu(&pdu, MAX).unwrap();
        prop_assert_eq!(len, pdu.len());
        prop_assert_eq!(parsed.header.version, version);
        prop_assert_eq!(parsed.message, message);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), max in 0u32..5000) {
        let _ = parse_pdu(&bytes, max);
        let _ = pinhole_dataplane::inspect::sccp::frame_pdu(&bytes, max);
    }

    #[test]
    fn valid_header_with_random_body_never_panics(
        version in prop_oneof![Just(0u32), 0x0Au32..=0x16, any::<u32>()],
        id in prop_oneof![0u32..0x4D, 0x81u32..0x161, any::<u32>()],
        body in proptest::collection::vec(any::<u8>(), 0..140),
    ) {
        let mut pdu = ((body.len() + 4) as u32).to_le_bytes().to_vec();
        pdu.extend(version.to_le_bytes());
        pdu.extend(id.to_le_bytes());
        pdu.extend(&body);
        if let Ok((parsed, len)) = parse_pdu(&pdu, MAX) {
            prop_assert_eq!(len, pdu.len());
            prop_assert_eq!(parsed.header.message_id, MessageId(id));
        }
    }
}
