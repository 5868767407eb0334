//! Fuzz the Skinny parser, framing and inspector: the input is parsed as one PDU, then
//! fed as a TCP byte stream (in chunks sized by its first byte) through a
//! `SkinnyConnection` in both directions. Nothing may panic. The same body runs in
//! `dataplane/tests/sccp_fuzz_corpus.rs` over the seed corpus on stable.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pinhole_dataplane::inspect::action::{FlowContext, Transport};
use pinhole_dataplane::inspect::sccp::{
    parse_pdu, ControlSessionId, SkinnyConfig, SkinnyConnection, SkinnyCounters, SkinnyTable,
};
use pinhole_dataplane::inspect::stream::StreamStart;
use pinhole_dataplane::Timestamp;

fuzz_target!(|data: &[u8]| {
    let _ = parse_pdu(data, 4000);
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    let phone = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 1, 1, 10)), 51000);
    let cm = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 2, 2, 2)), 2000);
    let mut conn = SkinnyConnection::new(
        Arc::new(SkinnyConfig::default()),
        Arc::new(SkinnyTable::new(8, 1)),
        ControlSessionId(1),
        2000,
        StreamStart::Syn(0),
        StreamStart::Syn(0),
    );
    let mut counters = SkinnyCounters::default();
    let mut actions = Vec::new();
    for (src, dst) in [(cm, phone), (phone, cm)] {
        let ctx = FlowContext {
            src,
            dst,
            transport: Transport::Tcp,
            zone_pair: 0,
        };
        let mut seq = 1u32;
        for piece in data.chunks(chunk) {
            let _ = conn.on_segment(&ctx, seq, piece, Timestamp(0), &mut counters, &mut actions);
            seq = seq.wrapping_add(piece.len() as u32);
        }
    }
    conn.ended(&mut counters, &mut actions);
});
