//! Replays the `sccp_pdu` fuzz target's corpus (`fuzz/corpus/sccp_pdu/*`) on stable, with
//! the target's body, so CI exercises every seed (and every crash reproducer added
//! later) without nightly or libFuzzer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use pinhole_dataplane::inspect::action::{FlowContext, Transport};
use pinhole_dataplane::inspect::sccp::{
    parse_pdu, ControlSessionId, SkinnyConfig, SkinnyConnection, SkinnyCounters, SkinnyTable,
};
use pinhole_dataplane::inspect::stream::StreamStart;
use pinhole_dataplane::Timestamp;

/// The body of `fuzz/fuzz_targets/sccp_pdu.rs`; returns the counters for sanity checks.
fn run_one(data: &[u8]) -> SkinnyCounters {
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
    counters
}

#[test]
fn every_corpus_file_runs_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sccp_pdu");
    let mut files = 0;
    let mut pdus = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        let data = std::fs::read(&path).unwrap_or_default();
        pdus += run_one(&data).pdus;
        files += 1;
    }
    // The seed corpus is there and its PDUs really reach the inspector.
    assert!(
        files >= 50,
        "only {files} corpus files in {}",
        dir.display()
    );
    assert!(pdus >= 50, "only {pdus} PDUs inspected");
}
