//! Replays the public hardware-conference-bridge registration capture
//! (`shared/corpora/pcaps/ndpi__sccp_hw_conf_register.pcapng`) through TCP reassembly,
//! Skinny framing and the inspector: the registration is seen, no pinhole is opened.

// Test helpers may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use pcap_file::pcapng::{Block, PcapNgReader};
use pinhole_dataplane::inspect::action::{FlowContext, InspectAction, Transport};
use pinhole_dataplane::inspect::sccp::{
    ControlSessionId, Registration, SegmentVerdict, SkinnyConfig, SkinnyConnection, SkinnyCounters,
    SkinnyTable,
};
use pinhole_dataplane::inspect::stream::StreamStart;
use pinhole_dataplane::Timestamp;

/// A TCP segment pulled out of an Ethernet/IPv4 frame.
struct Segment {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    syn: bool,
    payload: Vec<u8>,
}

fn tcp_segment(frame: &[u8]) -> Option<Segment> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    if ethertype != 0x0800 {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0F) * 4;
    if *ip.get(9)? != 6 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let src_ip = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst_ip = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let tcp = ip.get(ihl..total)?;
    let src_port = u16::from_be_bytes([tcp[0], tcp[1]]);
    let dst_port = u16::from_be_bytes([tcp[2], tcp[3]]);
    let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    let data_offset = usize::from(tcp[12] >> 4) * 4;
    Some(Segment {
        src: SocketAddr::new(IpAddr::V4(src_ip), src_port),
        dst: SocketAddr::new(IpAddr::V4(dst_ip), dst_port),
        seq,
        syn: tcp[13] & 0x02 != 0,
        payload: tcp.get(data_offset..)?.to_vec(),
    })
}

#[test]
fn hardware_conference_bridge_registration_opens_no_pinhole() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/pcaps/ndpi__sccp_hw_conf_register.pcapng");
    let mut reader = PcapNgReader::new(File::open(&path).unwrap()).unwrap();
    let table = Arc::new(SkinnyTable::new(16, 1));
    let mut conn: Option<SkinnyConnection> = None;
    let mut counters = SkinnyCounters::default();
    let mut actions: Vec<InspectAction> = Vec::new();
    let mut station = None;
    let mut frames = 0;
    while let Some(block) = reader.next_block() {
        let Block::EnhancedPacket(packet) = block.unwrap() else {
            continue;
        };
        frames += 1;
        let Some(seg) = tcp_segment(&packet.data) else {
            continue;
        };
        if seg.src.port() != 2000 && seg.dst.port() != 2000 {
            continue;
        }
        if seg.dst.port() == 2000 {
            station = Some(seg.src.ip());
        }
        // Start each direction mid-stream: the capture may begin after the handshake.
        let conn = conn.get_or_insert_with(|| {
            SkinnyConnection::new(
                Arc::new(SkinnyConfig::default()),
                Arc::clone(&table),
                ControlSessionId(1),
                2000,
                StreamStart::MidStream,
                StreamStart::MidStream,
            )
        });
        if seg.syn || seg.payload.is_empty() {
            continue;
        }
        let ctx = FlowContext {
            src: seg.src,
            dst: seg.dst,
            transport: Transport::Tcp,
            zone_link: pinhole_dataplane::ZoneLink::UNZONED,
        };
        let now = Timestamp(u64::try_from(packet.timestamp.as_nanos()).unwrap());
        let verdict = conn.on_segment(
            &ctx,
            seg.seq,
            &seg.payload,
            now,
            &mut counters,
            &mut actions,
        );
        assert_eq!(verdict, SegmentVerdict::Forward);
    }
    assert_eq!(frames, 17);
    let station = station.unwrap();
    assert_eq!(station, IpAddr::V4(Ipv4Addr::new(10, 180, 110, 58)));
    assert_eq!(counters.registers, 1, "{counters:?}");
    assert_eq!(counters.register_acks, 1, "{counters:?}");
    assert_eq!(counters.malformed, 0, "{counters:?}");
    assert_eq!(counters.wrong_direction, 0, "{counters:?}");
    assert!(counters.pdus >= 4, "{counters:?}");
    assert_eq!(counters.pinholes_opened, 0);
    assert!(actions.is_empty(), "{actions:?}");
    assert_eq!(
        table.station(station).unwrap().registration,
        Registration::Registered
    );
}
