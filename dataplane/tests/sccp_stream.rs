//! Skinny over TCP: reassembly, framing and inspection together ([`SkinnyConnection`]):
//! several PDUs in one segment, one PDU split at every byte boundary, bad `data_length`
//! values, and retransmissions of dropped segments.

// Test helpers may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use pinhole_dataplane::inspect::action::{FlowContext, InspectAction, Transport};
use pinhole_dataplane::inspect::sccp::{
    ChannelAck, ControlSessionId, HeaderVersion, OpenChannel, PduWriter, SegmentDropReason,
    SegmentVerdict, SkinnyAddr, SkinnyConfig, SkinnyConnection, SkinnyCounters, SkinnyDropReason,
    SkinnyMessage, SkinnyTable, StartTransmission, StopChannel,
};
use pinhole_dataplane::inspect::stream::{StreamError, StreamStart};
use pinhole_dataplane::Timestamp;

const PHONE: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 10);

fn ctx(from_phone: bool) -> FlowContext {
    let phone = SocketAddr::new(IpAddr::V4(PHONE), 51000);
    let cm = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 2, 2, 2)), 2000);
    let (src, dst) = if from_phone { (phone, cm) } else { (cm, phone) };
    FlowContext {
        src,
        dst,
        transport: Transport::Tcp,
        zone_link: pinhole_dataplane::ZoneLink::UNZONED,
    }
}

struct Conn {
    c: SkinnyConnection,
    counters: SkinnyCounters,
    actions: Vec<InspectAction>,
}

impl Conn {
    fn new(config: SkinnyConfig) -> Self {
        Conn {
            c: SkinnyConnection::new(
                Arc::new(config),
                Arc::new(SkinnyTable::new(16, 1)),
                ControlSessionId(1),
                2000,
                StreamStart::Syn(1000),
                StreamStart::Syn(5000),
            ),
            counters: SkinnyCounters::default(),
            actions: Vec::new(),
        }
    }

    fn seg(&mut self, from_phone: bool, seq: u32, payload: &[u8]) -> SegmentVerdict {
        self.c.on_segment(
            &ctx(from_phone),
            seq,
            payload,
            Timestamp::from_secs(1),
            &mut self.counters,
            &mut self.actions,
        )
    }
}

fn call_setup_from_cm() -> Vec<u8> {
    let w = PduWriter::new(HeaderVersion::V17);
    let mut out = Vec::new();
    w.write(
        &SkinnyMessage::OpenReceiveChannel(OpenChannel {
            conference_id: 10,
            pass_thru_party_id: 20,
            call_reference: Some(10),
        }),
        &mut out,
    )
    .unwrap();
    w.write(
        &SkinnyMessage::StartMediaTransmission(StartTransmission {
            conference_id: 10,
            pass_thru_party_id: 20,
            remote: SkinnyAddr::V4(Ipv4Addr::new(10, 1, 1, 11)),
            remote_port: 16400,
            call_reference: Some(10),
            key_info: None,
        }),
        &mut out,
    )
    .unwrap();
    w.write(&SkinnyMessage::KeepAliveAck, &mut out).unwrap();
    w.write(
        &SkinnyMessage::StopMediaTransmission(StopChannel {
            conference_id: 10,
            pass_thru_party_id: 20,
            call_reference: Some(10),
            keep_port: false,
        }),
        &mut out,
    )
    .unwrap();
    out
}

#[test]
fn several_pdus_in_one_segment_are_all_inspected() {
    let mut conn = Conn::new(SkinnyConfig::default());
    let stream = call_setup_from_cm();
    assert_eq!(conn.seg(false, 5001, &stream), SegmentVerdict::Forward);
    assert_eq!(conn.counters.pdus, 4);
    // Open RTP + RTCP, then the Stop closes the stream.
    assert_eq!(conn.actions.len(), 3);
    assert!(matches!(conn.actions[2], InspectAction::CloseStream { .. }));
}

#[test]
fn one_pdu_split_at_every_byte_boundary_is_inspected_once() {
    let w = PduWriter::new(HeaderVersion::BASIC);
    let ack = w
        .to_vec(&SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
            status: 0,
            addr: SkinnyAddr::V4(PHONE),
            port: 16384,
            pass_thru_party_id: 3,
            call_reference: Some(4),
        }))
        .unwrap();
    let mut whole = Conn::new(SkinnyConfig::default());
    whole.seg(true, 1001, &ack);
    for cut in 1..ack.len() {
        let mut conn = Conn::new(SkinnyConfig::default());
        assert_eq!(conn.seg(true, 1001, &ack[..cut]), SegmentVerdict::Forward);
        assert!(
            conn.actions.is_empty(),
            "cut {cut}: opened before the PDU was complete"
        );
        // The first part again (retransmitted), then the rest.
        conn.seg(true, 1001, &ack[..cut]);
        assert_eq!(
            conn.seg(true, 1001 + cut as u32, &ack[cut..]),
            SegmentVerdict::Forward
        );
        assert_eq!(conn.counters.pdus, 1, "cut {cut}");
        assert_eq!(conn.actions, whole.actions, "cut {cut}");
    }
    // And in three pieces, every pair of cuts.
    for a in 1..ack.len() - 1 {
        for b in a + 1..ack.len() {
            let mut conn = Conn::new(SkinnyConfig::default());
            conn.seg(true, 1001 + b as u32, &ack[b..]); // out of order
            conn.seg(true, 1001, &ack[..a]);
            conn.seg(true, 1001 + a as u32, &ack[a..b]);
            assert_eq!(conn.actions, whole.actions, "cuts {a} {b}");
        }
    }
}

fn header(data_length: u32) -> Vec<u8> {
    let mut v = data_length.to_le_bytes().to_vec();
    v.extend(0u32.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v
}

#[test]
fn bad_data_length_is_a_framing_drop_and_the_stream_resynchronises() {
    for bad in [0u32, 3, 4001, 0x7FFF_FFFF, u32::MAX] {
        let mut conn = Conn::new(SkinnyConfig::default());
        let segment = header(bad);
        assert_eq!(
            conn.seg(true, 1001, &segment),
            SegmentVerdict::Drop(SegmentDropReason::Framing(StreamError::Invalid)),
            "data_length {bad}"
        );
        assert_eq!(conn.counters.malformed, 1);
        // Its retransmission is dropped too.
        assert_eq!(
            conn.seg(true, 1001, &segment),
            SegmentVerdict::Drop(SegmentDropReason::DroppedBefore)
        );
        // The next segment starts a PDU again.
        let keepalive = PduWriter::new(HeaderVersion::BASIC)
            .to_vec(&SkinnyMessage::KeepAlive)
            .unwrap();
        let next = 1001 + segment.len() as u32;
        assert_eq!(conn.seg(true, next, &keepalive), SegmentVerdict::Forward);
        assert_eq!(conn.counters.keepalives, 1);
    }
    // With malformed PDUs passed, the segment is forwarded but still counted.
    let mut lax = Conn::new(SkinnyConfig {
        drop_malformed: false,
        ..SkinnyConfig::default()
    });
    assert_eq!(lax.seg(true, 1001, &header(3)), SegmentVerdict::Forward);
    assert_eq!(lax.counters.malformed, 1);
}

#[test]
fn a_dropped_pdu_stays_dropped_when_retransmitted() {
    let mut conn = Conn::new(SkinnyConfig {
        enforce_registration: true,
        ..SkinnyConfig::default()
    });
    let stream = call_setup_from_cm();
    let verdict = conn.seg(false, 5001, &stream);
    assert_eq!(
        verdict,
        SegmentVerdict::Drop(SegmentDropReason::Pdu(SkinnyDropReason::Unregistered))
    );
    assert_eq!(
        conn.seg(false, 5001, &stream),
        SegmentVerdict::Drop(SegmentDropReason::DroppedBefore)
    );
    assert_eq!(
        conn.seg(false, 5001, &stream[..10]),
        SegmentVerdict::Drop(SegmentDropReason::DroppedBefore)
    );
    // TCP often retransmits the dropped bytes together with new data: the segment still
    // carries the refused PDU, so it is dropped whole.
    let keepalive = PduWriter::new(HeaderVersion::BASIC)
        .to_vec(&SkinnyMessage::KeepAliveAck)
        .unwrap();
    let merged = [stream.as_slice(), keepalive.as_slice()].concat();
    assert_eq!(
        conn.seg(false, 5001, &merged),
        SegmentVerdict::Drop(SegmentDropReason::DroppedBefore)
    );
    let tail = [&stream[stream.len() - 4..], keepalive.as_slice()].concat();
    let tail_seq = 5001 + stream.len() as u32 - 4;
    assert_eq!(
        conn.seg(false, tail_seq, &tail),
        SegmentVerdict::Drop(SegmentDropReason::DroppedBefore)
    );
    assert!(conn.actions.is_empty());
}

#[test]
fn both_directions_are_reassembled_independently() {
    let mut conn = Conn::new(SkinnyConfig::default());
    let w = PduWriter::new(HeaderVersion::V20);
    let to_cm = w.to_vec(&SkinnyMessage::KeepAlive).unwrap();
    let to_phone = w.to_vec(&SkinnyMessage::KeepAliveAck).unwrap();
    conn.seg(true, 1001, &to_cm[..5]);
    conn.seg(false, 5001, &to_phone[..7]);
    conn.seg(true, 1006, &to_cm[5..]);
    conn.seg(false, 5008, &to_phone[7..]);
    assert_eq!(conn.counters.keepalives, 2);
    assert_eq!(conn.counters.wrong_direction, 0);
    assert_eq!(
        conn.c.to_call_manager_stream().next_seq(),
        Some(1001 + to_cm.len() as u32)
    );
}
