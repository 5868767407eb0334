//! The synthetic Skinny call (`sccp-capture --vlan`: two phones, call manager, conference
//! bridge) carried through the real engine on one `net_pcap` port, each host on its own
//! 802.1Q VLAN sub-interface and zone (one port keeps the capture's order, which two
//! input ports would not), routed, under a default-drop policy that inspects Skinny.
//! Exactly the negotiated media comes out, rewritten for its egress VLAN; everything else
//! is dropped, including a probe toward every pinhole after the hang-up (so each pinhole
//! closed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::Command;

use pinhole_e2e::{num, pcap_packets, run_pinhole, Scratch, EAL_NO_NIC};
use serde_json::{json, Value};

/// (interface, zone, VLAN, the hosts behind it).
const SEGMENTS: [(&str, &str, u16, &[&str]); 3] = [
    ("phone-a", "phone-a-zone", 10, &["10.1.1.10"]),
    ("phone-b", "phone-b-zone", 11, &["10.1.1.11"]),
    ("outside", "outside-zone", 20, &["10.2.2.2", "10.2.2.50"]),
];

/// The engine's own MAC on each sub-interface.
fn iface_mac(vlan: u16) -> [u8; 6] {
    [0x02, 0xee, 0, 0, 0, vlan as u8]
}

/// The capture's MAC of a host (`sccp-capture` derives it from the address).
fn host_mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

fn config(capture: &std::path::Path, out: &std::path::Path) -> Value {
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    eal.extend([
        "--vdev".into(),
        format!(
            "net_pcap0,rx_pcap={},tx_pcap={}",
            capture.display(),
            out.display()
        ),
    ]);
    let mut interfaces = Vec::new();
    let mut routes = Vec::new();
    for (name, zone, vlan, hosts) in SEGMENTS {
        let prefixes: Vec<String> = hosts.iter().map(|h| format!("{h}/32")).collect();
        interfaces.push(
            json!({"name": name, "port": "net_pcap0", "vlan": vlan, "zone": zone,
                               "prefixes": prefixes, "mac": mac_text(iface_mac(vlan))}),
        );
        for h in hosts {
            routes.push(json!({"prefix": format!("{h}/32"), "interface": name,
                               "next_hop_mac": mac_text(host_mac(h.parse().unwrap()))}));
        }
    }
    let mut pairs = Vec::new();
    for (_, s, ..) in SEGMENTS {
        for (_, d, ..) in SEGMENTS {
            if s != d {
                pairs.push(
                    json!({"name": format!("{s}-{d}"), "source": s, "destination": d,
                                  "service_policy": "skinny-policy"}),
                );
            }
        }
    }
    json!({
        "eal": eal,
        "workers": {"cores": [1]},
        "interfaces": interfaces,
        "forwarding": {"mode": "routed", "routes": routes},
        "zones": SEGMENTS.iter().map(|(_, z, ..)| json!({"name": z})).collect::<Vec<_>>(),
        "class_maps": [{"name": "skinny-class", "rules": [{"protocol": "skinny"}]}],
        "policy_maps": [
            {"name": "skinny-policy", "classes": [{"class": "skinny-class", "action": "inspect"}],
             "class_default": "drop"}
        ],
        "zone_pairs": pairs
    })
}

fn vlan_of_host(ip: Ipv4Addr) -> u16 {
    SEGMENTS
        .iter()
        .find(|(.., hosts)| hosts.contains(&ip.to_string().as_str()))
        .map(|(_, _, vlan, _)| *vlan)
        .unwrap_or_else(|| panic!("{ip} is on no segment"))
}

/// The IPv4 header of a tagged frame starts here.
const L3: usize = 18;

/// What the engine must send for a forwarded input frame: next hop and own MAC, egress
/// VLAN, TTL one less. The IP checksum is left to [`checksum_ok`].
fn routed(input: &[u8]) -> Vec<u8> {
    let mut f = input.to_vec();
    let dst = Ipv4Addr::new(f[L3 + 16], f[L3 + 17], f[L3 + 18], f[L3 + 19]);
    let vlan = vlan_of_host(dst);
    f[0..6].copy_from_slice(&host_mac(dst));
    f[6..12].copy_from_slice(&iface_mac(vlan));
    let tci = (u16::from_be_bytes([f[14], f[15]]) & 0xF000) | vlan;
    f[14..16].copy_from_slice(&tci.to_be_bytes());
    f[L3 + 8] -= 1;
    f
}

fn checksum_ok(frame: &[u8]) -> bool {
    let ihl = usize::from(frame[L3] & 0x0f) * 4;
    let mut sum: u32 = frame[L3..L3 + ihl]
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

fn without_ip_checksum(frame: &[u8]) -> Vec<u8> {
    let mut f = frame.to_vec();
    f[L3 + 10] = 0;
    f[L3 + 11] = 0;
    f
}

#[test]
fn the_skinny_call_crosses_the_engine_through_exactly_its_pinholes() -> anyhow::Result<()> {
    let dir = Scratch::new("sccp-call")?;
    let (capture, out) = (dir.join("sccp.pcap"), dir.join("out.pcap"));
    let status = Command::new(env!("CARGO_BIN_EXE_sccp-capture"))
        .arg(&capture)
        .arg("--vlan")
        .stdout(std::process::Stdio::null())
        .status()?;
    assert!(status.success(), "sccp-capture failed");
    let expected: Value = serde_json::from_slice(&std::fs::read(format!(
        "{}.expected.json",
        capture.display()
    ))?)?;
    // The generator and this test agree on the VLANs.
    for (_, _, vlan, hosts) in SEGMENTS {
        for h in hosts {
            assert_eq!(expected["vlans"][h], json!(vlan), "{h}");
        }
    }

    let run = run_pinhole(
        &dir,
        &config(&capture, &out),
        &["--exit-when-idle", "1", "--quiet"],
        &[],
    )?;
    assert!(
        run.output.status.success(),
        "pinhole failed:\n{}",
        run.stderr()
    );
    let summary = run.summary()?;

    let input = pcap_packets(&capture)?;
    let packets = expected["packets"].as_array().unwrap();
    assert_eq!(input.len(), packets.len());
    let mut want = Vec::new();
    let mut dropped = 0u64;
    let mut probes = 0u64;
    for (frame, p) in input.iter().zip(packets) {
        match p["verdict"].as_str().unwrap() {
            "forward" => want.push(routed(frame)),
            _ => dropped += 1,
        }
        if p["kind"] == "probe" {
            probes += 1;
        }
    }
    assert_eq!(
        probes,
        expected["pinholes"].as_array().unwrap().len() as u64,
        "one probe per pinhole"
    );

    // Exactly the forwarded packets, in capture order, rewritten for their egress.
    let got = pcap_packets(&out)?;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            without_ip_checksum(g),
            without_ip_checksum(w),
            "forwarded packet {i} differs"
        );
        assert!(checksum_ok(g), "forwarded packet {i}: bad IPv4 checksum");
    }
    assert_eq!(got.len(), want.len(), "{summary:#}");

    let total = input.len() as u64;
    assert_eq!(num(summary, "/ports/0/ipackets")?, total);
    assert_eq!(num(summary, "/ports/0/opackets")?, want.len() as u64);
    // Dropped: media after the hang-up (its session ends with the call, later packets
    // meet the policy) and the probes (no pinhole left, so class-default).
    let drops: BTreeMap<String, u64> = serde_json::from_value(summary["totals"]["drops"].clone())?;
    let drops: BTreeMap<String, u64> = drops.into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(drops.values().sum::<u64>(), dropped, "{drops:?}");
    assert!(
        drops
            .keys()
            .all(|r| r == "call_ended" || r == "class_default_drop"),
        "{drops:?}"
    );
    assert!(drops["class_default_drop"] >= probes, "{drops:?}");
    assert_eq!(
        num(summary, "/mempool/available")?,
        num(summary, "/mempool/size")?,
        "mbufs leaked"
    );
    Ok(())
}
