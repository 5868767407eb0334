//! The engine on `net_pcap` ports enforces the zone policy: a class that passes, an
//! inspected flow with its return traffic, and class-default drops, counted by reason.

use std::net::Ipv4Addr;

use pinhole_dataplane::packet::build::{tcp4_frame, udp4_frame, TcpHeader};
use pinhole_dataplane::packet::{Port, TcpFlags};
use pinhole_e2e::{
    num, pcap_packets, run_pinhole, write_empty_pcap, write_pcap, Scratch, EAL_NO_NIC,
};
use serde_json::json;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

#[test]
fn pass_inspect_and_policy_drop_on_real_ports() -> anyhow::Result<()> {
    let dir = Scratch::new("policy")?;
    let (input, empty, out_a, out_b) = (
        dir.join("in.pcap"),
        dir.join("empty.pcap"),
        dir.join("out_a.pcap"),
        dir.join("out_b.pcap"),
    );
    let dns = udp4_frame(ip("10.0.0.1"), ip("192.0.2.53"), 40000, 53, b"query");
    let ntp = udp4_frame(ip("10.0.0.1"), ip("192.0.2.123"), 123, 123, b"ntp");
    let telnet = tcp4_frame(
        ip("10.0.0.1"),
        ip("192.0.2.23"),
        &TcpHeader::new(Port(40001), Port(23), TcpFlags::SYN),
        b"",
    );
    let frames = vec![dns.clone(), telnet.clone(), ntp.clone(), telnet];
    write_pcap(&input, &frames)?;
    write_empty_pcap(&empty)?;
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    eal.extend([
        "--vdev".into(),
        format!(
            "net_pcap0,rx_pcap={},tx_pcap={}",
            input.display(),
            out_a.display()
        ),
        "--vdev".into(),
        format!(
            "net_pcap1,rx_pcap={},tx_pcap={}",
            empty.display(),
            out_b.display()
        ),
    ]);
    let config = json!({
        "eal": eal,
        "workers": {"cores": [1]},
        "interfaces": [
            {"name": "a", "port": "net_pcap0", "zone": "inside"},
            {"name": "b", "port": "net_pcap1", "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [
            {"name": "dns", "rules": [{"protocol": "dns"}]},
            {"name": "ntp", "rules": [{"protocol": "ntp"}]}
        ],
        "policy_maps": [{"name": "out", "classes": [
            {"class": "dns", "action": "pass"},
            {"class": "ntp", "action": "inspect"}
        ], "class_default": "drop"}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "out"}]
    });
    let run = run_pinhole(&dir, &config, &["--exit-when-idle", "1", "--quiet"], &[])?;
    assert!(
        run.output.status.success(),
        "pinhole failed:\n{}",
        run.stderr()
    );
    let summary = run.summary()?;
    let out = pcap_packets(&out_b)?;
    assert_eq!(
        out,
        vec![dns, ntp],
        "only the passed and inspected packets leave"
    );
    assert!(pcap_packets(&out_a)?.is_empty());
    assert_eq!(
        num(summary, "/totals/drops/class_default_drop")?,
        2,
        "{summary:#}"
    );
    assert_eq!(num(summary, "/ports/0/ipackets")?, 4);
    assert_eq!(num(summary, "/ports/1/opackets")?, 2);
    Ok(())
}

#[test]
fn the_audit_trail_reaches_the_event_stream_in_unix_time() -> anyhow::Result<()> {
    let dir = Scratch::new("audit")?;
    let (input, empty, events) = (
        dir.join("in.pcap"),
        dir.join("empty.pcap"),
        dir.join("events.jsonl"),
    );
    let ntp = udp4_frame(ip("10.0.0.1"), ip("192.0.2.123"), 123, 123, b"ntp");
    write_pcap(&input, &[ntp])?;
    write_empty_pcap(&empty)?;
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    for (port, rx) in [(0, &input), (1, &empty)] {
        eal.push("--vdev".into());
        eal.push(format!(
            "net_pcap{port},rx_pcap={},tx_pcap={}",
            rx.display(),
            dir.join(&format!("out{port}.pcap")).display()
        ));
    }
    let config = json!({
        "eal": eal,
        "workers": {"cores": [1]},
        "interfaces": [
            {"name": "a", "port": "net_pcap0", "zone": "inside"},
            {"name": "b", "port": "net_pcap1", "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [{"name": "ntp", "rules": [{"protocol": "ntp"}]}],
        "parameter_maps": [{"name": "audited", "audit_trail": true}],
        "policy_maps": [{"name": "out", "classes": [
            {"class": "ntp", "action": "inspect", "parameter_map": "audited"}
        ]}],
        "zone_pairs": [{"name": "in-out", "source": "inside", "destination": "outside", "service_policy": "out"}],
        "logging": {"events": events.display().to_string()}
    });
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64();
    let run = run_pinhole(&dir, &config, &["--exit-when-idle", "1", "--quiet"], &[])?;
    assert!(run.output.status.success(), "{}", run.stderr());
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64();
    let text = std::fs::read_to_string(&events)?;
    let starts: Vec<serde_json::Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<Vec<serde_json::Value>, _>>()?
        .into_iter()
        .filter(|e| e["kind"] == "session_start")
        .collect();
    assert_eq!(starts.len(), 1, "{text}");
    let at = starts[0]["at"].as_f64().unwrap_or(0.0);
    assert!(
        before <= at && at <= after,
        "{at} not in [{before}, {after}]: {text}"
    );
    assert_eq!(starts[0]["zone_pair"], "in-out", "{text}");
    Ok(())
}
