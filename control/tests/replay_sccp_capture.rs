//! Replay of the synthetic Skinny capture written by `sccp-capture` (crate
//! pinhole-e2e), checked against the outcome it writes beside it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod replay_support;

use std::collections::BTreeMap;
use std::process::Command;

use replay_support::{flow, run, scratch};
use serde_json::{json, Value};

/// Phone A and phone B each on their own routed interface and zone (so their media
/// crosses the engine), the call manager and bridge outside; Skinny inspected between
/// every pair of zones, everything else dropped.
fn config() -> Value {
    let zones = ["phone-a-zone", "phone-b-zone", "outside-zone"];
    let mut pairs = Vec::new();
    for s in zones {
        for d in zones {
            if s != d {
                pairs.push(
                    json!({"name": format!("{s}-{d}"), "source": s, "destination": d,
                                  "service_policy": "skinny-policy"}),
                );
            }
        }
    }
    json!({
        "eal": ["--no-huge", "--vdev", "net_ring0", "--vdev", "net_ring1", "--vdev", "net_ring2"],
        "interfaces": [
            {"name": "phone-a", "port": "net_ring0", "zone": "phone-a-zone", "prefixes": ["10.1.1.10/32"]},
            {"name": "phone-b", "port": "net_ring1", "zone": "phone-b-zone", "prefixes": ["10.1.1.11/32"]},
            {"name": "outside", "port": "net_ring2", "zone": "outside-zone", "prefixes": ["0.0.0.0/0"]}
        ],
        "forwarding": {"mode": "routed", "routes": [
            {"prefix": "10.1.1.10/32", "interface": "phone-a", "next_hop_mac": "02:00:0a:01:01:0a"},
            {"prefix": "10.1.1.11/32", "interface": "phone-b", "next_hop_mac": "02:00:0a:01:01:0b"},
            {"prefix": "0.0.0.0/0", "interface": "outside", "next_hop_mac": "02:00:0a:02:02:02"}
        ]},
        "zones": zones.iter().map(|z| json!({"name": z})).collect::<Vec<_>>(),
        "class_maps": [{"name": "skinny-class", "rules": [{"protocol": "skinny"}]}],
        "policy_maps": [
            {"name": "skinny-policy", "classes": [{"class": "skinny-class", "action": "inspect"}],
             "class_default": "drop"}
        ],
        "zone_pairs": pairs
    })
}

#[test]
fn skinny_call_opens_and_closes_its_pinholes() {
    let dir = scratch("sccp-capture");
    let pcap = dir.join("sccp.pcap");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "run",
            "-q",
            "-p",
            "pinhole-e2e",
            "--bin",
            "sccp-capture",
            "--",
        ])
        .arg(&pcap)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("sccp.pcap.expected.json")).unwrap())
            .unwrap();

    let (r, _) = run("sccp-capture-run", &config(), &pcap, &[], false);
    let packets = expected["packets"].as_array().unwrap();
    assert_eq!(r.packets.total, packets.len() as u64);
    assert_eq!(r.packets.not_crossing, 0);

    // Per flow: forwarded and dropped exactly as the generator says.
    let mut want: BTreeMap<(&str, String, String), (u64, u64)> = BTreeMap::new();
    for p in packets {
        let proto = match p["kind"].as_str().unwrap() {
            "rtp" | "rtcp" | "probe" => "udp",
            _ => "tcp",
        };
        let e = want
            .entry((
                proto,
                p["src"].as_str().unwrap().to_string(),
                p["dst"].as_str().unwrap().to_string(),
            ))
            .or_default();
        match p["verdict"].as_str().unwrap() {
            "forward" => e.0 += 1,
            _ => e.1 += 1,
        }
    }
    for ((proto, src, dst), (fwd, drop)) in &want {
        let f = flow(&r, proto, src, dst);
        assert_eq!(
            (f.forwarded, f.dropped),
            (*fwd, *drop),
            "{proto} {src} -> {dst}"
        );
    }
    assert_eq!(r.flows.len(), want.len());

    // Every pinhole the call opened, closed at the end.
    let holes = expected["pinholes"].as_array().unwrap();
    assert_eq!(r.pinholes.len(), holes.len(), "{:#?}", r.pinholes);
    for h in holes {
        let (dst, port) = h["dst"].as_str().unwrap().rsplit_once(':').unwrap();
        let port: u16 = port.parse().unwrap();
        let src = h["src"].as_str().map_or(json!("*"), |s| json!(s));
        let found = r.pinholes.iter().find(|p| {
            p.dst == dst
                && p.dst_port == port
                && serde_json::to_value(&p.src).unwrap() == src
                && serde_json::to_value(p.kind).unwrap() == h["kind"]
        });
        let p = found.unwrap_or_else(|| panic!("no pinhole {h}: {:#?}", r.pinholes));
        assert_eq!(serde_json::to_value(p.opened_by).unwrap(), json!("skinny"));
        assert_eq!(
            serde_json::to_value(p.state_at_end).unwrap(),
            json!("closed"),
            "{h}"
        );
    }
    assert_eq!(
        r.inspectors.pinholes.open_at_end,
        expected["open_pinholes_at_end"].as_u64().unwrap()
    );
}
