//! `pinhole replay` through the binary: the report on a file and on stdout, and one
//! clear line with a non-zero exit for each error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod replay_support;

use std::path::Path;
use std::process::{Command, Output};

use pinhole_dataplane::packet::build::{tcp4_frame, TcpHeader};
use pinhole_dataplane::packet::{Port, TcpFlags};
use replay_support::{corpus, open_wire, scratch, write_config, write_pcap};

fn pinhole(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinhole"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn fails_with(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {err}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
}

#[test]
fn report_to_file_and_stdout() {
    let dir = scratch("cli-ok");
    let config = write_config(&dir, &open_wire(&["10.180.110.58/32"], &["0.0.0.0/0"]));
    let pcap = corpus("ndpi__sccp_hw_conf_register.pcapng");
    let report = dir.join("report.json");
    let out = pinhole(&[
        "--config",
        s(&config),
        "--pcap",
        s(&pcap),
        "--report",
        s(&report),
        "--out",
        s(&dir.join("out")),
        "--midstream",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["packets"]["total"], 17);
    assert_eq!(r["packets"]["forwarded"], 17);
    assert_eq!(r["flows"][0]["proto"], "tcp");
    assert_eq!(r["flows"][0]["src"], "10.180.110.58:46461");
    assert_eq!(r["flows"][0]["verdict"], "pass");
    assert!(r["inspectors"]["pinholes"]["opened"].is_u64());
    assert!(dir.join("out/a.pcap").exists() && dir.join("out/b.pcap").exists());

    let out = pinhole(&["--config", s(&config), "--pcap", s(&pcap), "--report", "-"]);
    assert!(out.status.success());
    let r2: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r2["flows"], r["flows"]);
}

#[test]
fn midstream_picks_up_a_connection_whose_handshake_the_capture_lacks() {
    // The capture starts inside an established connection: under a zone policy its
    // first segment is no SYN, so only `--midstream` lets a session start there.
    let dir = scratch("cli-midstream");
    let (phone, cm) = (
        "10.180.110.58".parse().unwrap(),
        "10.180.110.48".parse().unwrap(),
    );
    let seg = |src, dst, sport, dport, seq, ack| {
        let mut h = TcpHeader::new(Port(sport), Port(dport), TcpFlags::ACK | TcpFlags::PSH);
        h.seq = seq;
        h.ack = ack;
        tcp4_frame(src, dst, &h, b"keepalive")
    };
    let pcap = dir.join("midstream.pcap");
    write_pcap(
        &pcap,
        1,
        &[
            (1_000_000_000, seg(phone, cm, 46461, 2000, 1000, 5000)),
            (1_001_000_000, seg(cm, phone, 2000, 46461, 5000, 1009)),
            (1_002_000_000, seg(phone, cm, 46461, 2000, 1009, 5009)),
        ],
    );
    let mut zoned = open_wire(&["10.180.110.58/32"], &["0.0.0.0/0"]);
    zoned["interfaces"][0]["zone"] = serde_json::json!("inside");
    zoned["interfaces"][1]["zone"] = serde_json::json!("outside");
    zoned["zones"] = serde_json::json!([{"name": "inside"}, {"name": "outside"}]);
    zoned["class_maps"] = serde_json::json!([{"name": "tcp", "rules": [{"protocol": "tcp"}]}]);
    zoned["policy_maps"] =
        serde_json::json!([{"name": "p", "classes": [{"class": "tcp", "action": "inspect"}]}]);
    zoned["zone_pairs"] = serde_json::json!([
        {"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "p"}
    ]);
    let config = write_config(&dir, &zoned);
    let first_flow = |extra: &[&str]| {
        let mut args = vec!["--config", s(&config), "--pcap", s(&pcap), "--report", "-"];
        args.extend_from_slice(extra);
        let out = pinhole(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["flows"][0]["src"], "10.180.110.58:46461", "{r:#}");
        r["flows"][0].clone()
    };
    let strict = first_flow(&[]);
    assert_eq!(strict["forwarded"], 0, "{strict:#}");
    assert_eq!(strict["dropped"], strict["packets"], "{strict:#}");
    let picked_up = first_flow(&["--midstream"]);
    assert_eq!(picked_up["verdict"], "inspect", "{picked_up:#}");
    assert_eq!(
        picked_up["forwarded"], picked_up["packets"],
        "{picked_up:#}"
    );
}

#[test]
fn errors_are_one_line_and_fail() {
    let dir = scratch("cli-errors");
    let good = write_config(&dir, &open_wire(&["10.0.0.0/8"], &[]));
    let pcap = corpus("ndpi__sccp_hw_conf_register.pcapng");

    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"interfaces": [{"name": "x", "port": "nope"}], "bogus": 1}"#,
    )
    .unwrap();
    fails_with(
        &pinhole(&["--config", s(&bad), "--pcap", s(&pcap), "--report", "-"]),
        "bad.json",
    );
    fails_with(
        &pinhole(&[
            "--config",
            s(&dir.join("missing.json")),
            "--pcap",
            s(&pcap),
            "--report",
            "-",
        ]),
        "missing.json",
    );
    fails_with(
        &pinhole(&[
            "--config",
            s(&good),
            "--pcap",
            s(&dir.join("none.pcap")),
            "--report",
            "-",
        ]),
        "none.pcap",
    );
    let text = dir.join("text.pcap");
    std::fs::write(&text, "not a capture at all").unwrap();
    fails_with(
        &pinhole(&["--config", s(&good), "--pcap", s(&text), "--report", "-"]),
        "not a pcap or pcapng file",
    );
    let user0 = dir.join("user0.pcap");
    write_pcap(&user0, 147, &[(0, vec![0; 20])]);
    fails_with(
        &pinhole(&["--config", s(&good), "--pcap", s(&user0), "--report", "-"]),
        "unsupported link type 147",
    );
    fails_with(
        &pinhole(&[
            "--config",
            s(&good),
            "--pcap",
            s(&pcap),
            "--report",
            "-",
            "--iface",
            "zz=10.0.0.0/8",
        ]),
        "no interface named \"zz\"",
    );
    fails_with(
        &pinhole(&[
            "--config",
            s(&good),
            "--pcap",
            s(&pcap),
            "--report",
            "-",
            "--iface",
            "a:10.0.0.0/8",
        ]),
        "expected NAME=PREFIX",
    );
}
