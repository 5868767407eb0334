//! Skinny inspection cost in ns per PDU: framing + parsing + inspection of a realistic
//! call-manager burst (set-up, media start, keepalive, teardown), and parsing alone.

// criterion_group! generates an undocumented `benches` function.
#![allow(missing_docs)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use pinhole_dataplane::inspect::action::{FlowContext, InspectAction, Transport};
use pinhole_dataplane::inspect::sccp::{
    parse_pdu, ChannelAck, ControlSessionId, HeaderVersion, OpenChannel, PduWriter, SkinnyAddr,
    SkinnyConfig, SkinnyCounters, SkinnyInspector, SkinnyMessage, SkinnyTable, StartTransmission,
    StopChannel, DEFAULT_MAX_DATA_LENGTH,
};
use pinhole_dataplane::Timestamp;

/// One call's worth of PDUs, each with its direction (true = from the phone).
fn call_pdus(version: HeaderVersion) -> Vec<(bool, Vec<u8>)> {
    let w = PduWriter::new(version);
    let stop = StopChannel {
        conference_id: 10,
        pass_thru_party_id: 20,
        call_reference: Some(10),
        keep_port: false,
    };
    let messages = [
        (
            false,
            SkinnyMessage::OpenReceiveChannel(OpenChannel {
                conference_id: 10,
                pass_thru_party_id: 20,
                call_reference: Some(10),
            }),
        ),
        (
            true,
            SkinnyMessage::OpenReceiveChannelAck(ChannelAck {
                status: 0,
                addr: SkinnyAddr::V4(Ipv4Addr::new(10, 1, 1, 10)),
                port: 16384,
                pass_thru_party_id: 20,
                call_reference: Some(10),
            }),
        ),
        (
            false,
            SkinnyMessage::StartMediaTransmission(StartTransmission {
                conference_id: 10,
                pass_thru_party_id: 20,
                remote: SkinnyAddr::V4(Ipv4Addr::new(10, 1, 1, 11)),
                remote_port: 16400,
                call_reference: Some(10),
                key_info: None,
            }),
        ),
        (true, SkinnyMessage::KeepAlive),
        (false, SkinnyMessage::KeepAliveAck),
        (false, SkinnyMessage::StopMediaTransmission(stop)),
        (false, SkinnyMessage::CloseReceiveChannel(stop)),
    ];
    messages
        .iter()
        .filter_map(|(from_phone, m)| w.to_vec(m).ok().map(|pdu| (*from_phone, pdu)))
        .collect()
}

fn ctx(from_phone: bool) -> FlowContext {
    let phone = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 1, 1, 10)), 51000);
    let cm = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 2, 2, 2)), 2000);
    let (src, dst) = if from_phone { (phone, cm) } else { (cm, phone) };
    FlowContext {
        src,
        dst,
        transport: Transport::Tcp,
        zone_link: pinhole_dataplane::ZoneLink::UNZONED,
    }
}

fn bench(c: &mut Criterion) {
    for (name, version) in [("basic", HeaderVersion::BASIC), ("v17", HeaderVersion::V17)] {
        let pdus = call_pdus(version);
        let mut group = c.benchmark_group(format!("sccp_{name}"));
        group.throughput(Throughput::Elements(pdus.len() as u64));
        group.bench_function("parse_per_call", |b| {
            b.iter(|| {
                for (_, pdu) in &pdus {
                    black_box(parse_pdu(black_box(pdu), DEFAULT_MAX_DATA_LENGTH).ok());
                }
            })
        });
        let table = Arc::new(SkinnyTable::new(1024, 8));
        let config = Arc::new(SkinnyConfig {
            calls_per_second: 1000,
            ..SkinnyConfig::default()
        });
        let mut inspector = SkinnyInspector::new(config, table, ControlSessionId(1), 2000);
        let mut counters = SkinnyCounters::default();
        let mut actions: Vec<InspectAction> = Vec::with_capacity(16);
        let contexts = [ctx(false), ctx(true)];
        let mut second = 0u64;
        group.bench_function("inspect_per_call", |b| {
            b.iter(|| {
                // A new second each call keeps the flood limiter out of the measurement.
                second += 1;
                let now = Timestamp::from_secs(second);
                for (from_phone, pdu) in &pdus {
                    actions.clear();
                    let ctx = &contexts[usize::from(*from_phone)];
                    black_box(inspector.inspect(pdu, ctx, now, &mut counters, &mut actions));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
