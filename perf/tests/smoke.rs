#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The generator against the real engine over memif for about a second, on one core
//! each: frames go through, are counted and timed. Never a speed assertion: only that
//! traffic crossed and the counters are consistent. Runs the `pinhole` binary the
//! e2e tests run (`pinhole_e2e::pinhole_bin`: `PINHOLE_BIN`, or built if missing) and
//! needs DPDK's memif PMD.

use std::path::PathBuf;
use std::process::Command;

fn pinhole() -> PathBuf {
    pinhole_e2e::pinhole_bin().unwrap()
}

fn load(profile: &[&str], rate: &str) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!(
        "pinhole-perf-smoke-{}-{}",
        std::process::id(),
        profile.join("-")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_pinhole-perf"))
        .arg("load")
        .args(profile)
        .args([
            "--rate",
            rate,
            "--trial-secs",
            "1",
            "--dut",
            "engine",
            "--pinhole",
        ])
        .arg(pinhole())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pinhole-perf load failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    v
}

fn class(v: &serde_json::Value, what: &str, index: usize) -> u64 {
    v["report"][what][index].as_u64().unwrap()
}

#[test]
fn udp_flows_cross_the_engine_and_are_counted_and_timed() {
    let v = load(&["--profile", "udp", "--flows", "64"], "5000");
    let (sent, received) = (class(&v, "offered", 0), class(&v, "received", 0));
    assert!(
        sent > 0 && received > 0 && received <= sent,
        "{sent} {received}"
    );
    assert_eq!(v["report"]["misrouted"], 0);
    assert_eq!(v["report"]["latency"]["count"].as_u64(), Some(received));
    // The engine saw what the generator counted as delivered (and the learning frames).
    let engine_tx = v["engine_summary"]["totals"]["tx_packets"]
        .as_u64()
        .unwrap();
    assert!(engine_tx >= received, "{engine_tx} {received}");
}

#[test]
fn sip_calls_open_pinholes_their_rtp_crosses() {
    // Voice policy: RTP is dropped unless the calls' SDP opened pinholes for it.
    let v = load(&["--profile", "sip", "--hold-ms", "200"], "10");
    let (sip_sent, sip_received) = (class(&v, "offered", 2), class(&v, "received", 2));
    let (rtp_sent, rtp_received) = (class(&v, "offered", 3), class(&v, "received", 3));
    assert!(
        sip_sent >= 7 && sip_received > 0,
        "{sip_sent} {sip_received}"
    );
    assert!(
        rtp_sent > 0 && rtp_received > 0,
        "{rtp_sent} {rtp_received}"
    );
    assert_eq!(v["parameters"]["policy"], "voice");
}
