//! Helpers shared by the `replay_*` integration tests.

#![allow(dead_code)] // each test crate uses a different subset

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use pinhole_control::replay::flows::FlowRecord;
use pinhole_control::replay::{self, IfaceOverride, ReplayOptions, Report};

/// A capture of the shared corpus, read in place.
pub fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/pcaps")
        .join(name)
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("replay-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write `json` as `dir/config.json`.
pub fn write_config(dir: &Path, json: &serde_json::Value) -> PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).unwrap();
    path
}

/// Replay `pcap` through the configuration `json`.
pub fn run(
    test: &str,
    json: &serde_json::Value,
    pcap: &Path,
    overrides: &[&str],
    out: bool,
) -> (Report, PathBuf) {
    let dir = scratch(test);
    let config = write_config(&dir, json);
    let opts = ReplayOptions {
        config,
        pcap: pcap.to_path_buf(),
        iface_overrides: overrides
            .iter()
            .map(|s| s.parse::<IfaceOverride>().unwrap())
            .collect(),
        out_dir: out.then(|| dir.join("out")),
        midstream: false,
    };
    (replay::replay(&opts).unwrap(), dir)
}

/// The flow `proto src -> dst`, or a panic listing the flows seen.
pub fn flow<'a>(r: &'a Report, proto: &str, src: &str, dst: &str) -> &'a FlowRecord {
    r.flow(proto, src, dst).unwrap_or_else(|| {
        let seen: Vec<String> = r
            .flows
            .iter()
            .map(|f| format!("{:?} {} -> {}", f.proto, f.src, f.dst))
            .collect();
        panic!("no flow {proto} {src} -> {dst}; flows: {seen:#?}")
    })
}

/// Two interfaces `a` and `b` on a virtual wire, unzoned (everything passes), with
/// the given prefixes.
pub fn open_wire(a: &[&str], b: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "eal": ["--no-huge", "--vdev", "net_ring0", "--vdev", "net_ring1"],
        "interfaces": [
            {"name": "a", "port": "net_ring0", "prefixes": a},
            {"name": "b", "port": "net_ring1", "prefixes": b}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]}
    })
}

/// Write a pcap with link type `link` and `(time_ns, bytes)` packets.
pub fn write_pcap(path: &Path, link: u32, packets: &[(u64, Vec<u8>)]) {
    let header = PcapHeader {
        datalink: DataLink::from(link),
        ts_resolution: pcap_file::TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let mut w =
        PcapWriter::with_header(BufWriter::new(File::create(path).unwrap()), header).unwrap();
    for (t, data) in packets {
        w.write_packet(&PcapPacket::new(
            Duration::from_nanos(*t),
            u32::try_from(data.len()).unwrap(),
            data,
        ))
        .unwrap();
    }
}

/// Packets in a pcap file written by `--out`.
pub fn count_packets(path: &Path) -> u64 {
    let mut r = pcap_file::pcap::PcapReader::new(File::open(path).unwrap()).unwrap();
    let mut n = 0;
    while let Some(p) = r.next_packet() {
        p.unwrap();
        n += 1;
    }
    n
}
