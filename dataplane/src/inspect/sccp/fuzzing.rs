//! The body of the `sccp_pdu` fuzz target, shared with the stable corpus replay test so
//! both exercise exactly the same path: parse the input as one PDU, then feed it as a TCP
//! byte stream (in chunks sized by its first byte) through a [`SkinnyConnection`] in both
//! directions and end the connection. Nothing may panic.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use super::{
    parse_pdu, ControlSessionId, SkinnyConfig, SkinnyConnection, SkinnyCounters, SkinnyTable,
};
use crate::inspect::action::{FlowContext, Transport};
use crate::inspect::stream::StreamStart;
use crate::time::Timestamp;

/// Run one fuzz input; returns the inspector's counters (for sanity checks in tests).
pub fn sccp_pdu(data: &[u8]) -> SkinnyCounters {
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
            zone_link: crate::ids::ZoneLink::UNZONED,
        };
        let mut seq = 1u32;
        for piece in data.chunks(chunk) {
            let _ = conn.on_segment(&ctx, seq, piece, Timestamp(0), &mut counters, &mut actions);
            seq = seq.wrapping_add(u32::try_from(piece.len()).unwrap_or(u32::MAX));
        }
    }
    conn.ended(&mut counters, &mut actions);
    counters
}
