#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The REST control plane against the real binary on `net_pcap` ports: every endpoint,
//! authentication, refused policies (nothing applied), session dump and clear, the
//! responses checked against the server's own OpenAPI document, and 100 policy pushes
//! under traffic with every packet accounted for.

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pinhole_dataplane::packet::build::{tcp4_frame, udp4_frame, TcpHeader};
use pinhole_dataplane::packet::{Port, TcpFlags};
use pinhole_e2e::{num, pinhole_bin, unique_prefix, write_empty_pcap, Scratch, EAL_NO_NIC};
use serde_json::{json, Value};

const TOKEN: &str = "test-token-4f1c";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn write_pcap(path: &Path, frames: impl Iterator<Item = Vec<u8>>) -> usize {
    let mut w =
        PcapWriter::with_header(File::create(path).unwrap(), PcapHeader::default()).unwrap();
    let mut n = 0;
    for (i, f) in frames.enumerate() {
        w.write_packet(&PcapPacket::new(
            Duration::from_micros(i as u64),
            f.len() as u32,
            &f,
        ))
        .unwrap();
        n += 1;
    }
    n
}

fn invite() -> Vec<u8> {
    let sdp = "v=0\r\no=alice 2890844526 2890844526 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let msg = format!(
        "INVITE sip:bob@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@192.0.2.10>\r\nFrom: Alice <sip:alice@10.0.0.1>;tag=1928301774\r\nCall-ID: a84b4c76e66710@10.0.0.1\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@10.0.0.1:5060>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    udp4_frame(ip("10.0.0.1"), ip("192.0.2.10"), 5060, 5060, msg.as_bytes())
}

/// The policy part used by the tests: SIP and NTP inspected, DNS passed, the rest
/// dropped, from `inside` to `outside`.
fn policy(dns_action: &str, pair: &str) -> Value {
    json!({
        "interfaces": [
            {"name": "a", "port": "net_pcap0", "zone": "inside"},
            {"name": "b", "port": "net_pcap1", "zone": "outside"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "inside"}, {"name": "outside"}],
        "class_maps": [
            {"name": "voice", "rules": [{"protocol": "sip"}]},
            {"name": "dns", "rules": [{"protocol": "dns"}]},
            {"name": "ntp", "rules": [{"protocol": "ntp"}]}
        ],
        "policy_maps": [{"name": "out", "classes": [
            {"class": "voice", "action": "inspect"},
            {"class": "dns", "action": dns_action},
            {"class": "ntp", "action": "inspect"}
        ], "class_default": "drop"}],
        "zone_pairs": [{"name": pair, "source": "inside", "destination": "outside", "service_policy": "out"}]
    })
}

struct Reply {
    status: u16,
    etag: Option<String>,
    content_type: Option<String>,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    /// The `details[].path` of an error answer.
    fn paths(&self) -> Vec<String> {
        self.json()["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A running engine with its API.
struct Engine {
    child: Child,
    addr: String,
    summary: PathBuf,
}

impl Engine {
    fn start(dir: &Scratch, input: &Path, control: Value) -> Engine {
        let (empty, out_a, out_b) = (
            dir.join("empty.pcap"),
            dir.join("out_a.pcap"),
            dir.join("out_b.pcap"),
        );
        write_empty_pcap(&empty).unwrap();
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
        let mut config = policy("pass", "in-out");
        config["eal"] = json!(eal);
        config["workers"] = json!({"cores": [1]});
        config["control"] = control;
        Engine::launch(dir, &config)
    }

    /// Start `pinhole run` on a complete configuration.
    fn launch(dir: &Scratch, config: &Value) -> Engine {
        let config_path = dir.join("config.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let addr_file = dir.join("addr");
        let summary = dir.join("summary.json");
        let child = Command::new(pinhole_bin().unwrap())
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .arg("--summary-json")
            .arg(&summary)
            .args([
                "--quiet",
                "--control-listen",
                "127.0.0.1:0",
                "--control-addr-file",
            ])
            .arg(&addr_file)
            .arg("--")
            .args(["--file-prefix", &unique_prefix("rest")])
            .env("PINHOLE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut engine = Engine {
            child,
            addr: String::new(),
            summary,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while engine.addr.is_empty() {
            if let Ok(a) = std::fs::read_to_string(&addr_file) {
                engine.addr = a.trim().to_owned();
            } else if let Ok(Some(status)) = engine.child.try_wait() {
                panic!("pinhole exited before listening: {status}");
            } else {
                assert!(Instant::now() < deadline, "the API never came up");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        engine
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut r = ureq::request(method, &format!("http://{}/api/v1{path}", self.addr))
            .timeout(Duration::from_secs(30));
        if let Some(t) = token {
            r = r.set("Authorization", &format!("Bearer {t}"));
        }
        for (k, v) in headers {
            r = r.set(k, v);
        }
        let result = match body {
            Some(b) => r.send_string(b),
            None => r.call(),
        };
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        Reply {
            status: resp.status(),
            etag: resp.header("etag").map(str::to_owned),
            content_type: resp.header("content-type").map(str::to_owned),
            text: resp.into_string().unwrap(),
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.call("GET", path, Some(TOKEN), None, &[])
    }

    fn put_policy(&self, doc: &str, headers: &[(&str, &str)]) -> Reply {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend_from_slice(headers);
        self.call("PUT", "/policy", Some(TOKEN), Some(doc), &h)
    }

    /// Stop with SIGINT and return the run summary.
    fn stop(mut self) -> Value {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "pinhole exited with {status}");
        serde_json::from_slice(&std::fs::read(&self.summary).unwrap()).unwrap()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Validate `instance` against the response schema `schema_name` of the server's own
/// OpenAPI document.
fn conforms(openapi: &Value, schema_name: &str, instance: &Value) {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{schema_name}"),
        "components": openapi["components"],
    });
    if let Err(e) = jsonschema::validate(&schema, instance) {
        panic!("{schema_name}: {e} at {}\n{instance:#}", e.instance_path);
    }
}

/// Wait until the engine has received `n` packets.
fn wait_for_rx(engine: &Engine, n: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stats = engine.get("/stats").json();
        if num(&stats, "/totals/rx_packets").unwrap() >= n {
            return stats;
        }
        assert!(Instant::now() < deadline, "only {stats:#} received");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_endpoint_authenticated_validated_and_described() {
    let dir = Scratch::new("rest-api").unwrap();
    let input = dir.join("in.pcap");
    let frames = vec![
        invite(),
        udp4_frame(ip("10.0.0.2"), ip("192.0.2.53"), 40000, 53, b"query"),
        udp4_frame(ip("10.0.0.3"), ip("192.0.2.123"), 123, 123, b"ntp"),
        udp4_frame(ip("10.0.0.4"), ip("192.0.2.124"), 123, 123, b"ntp"),
        tcp4_frame(
            ip("10.0.0.5"),
            ip("192.0.2.23"),
            &TcpHeader::new(Port(40001), Port(23), TcpFlags::SYN),
            b"",
        ),
    ];
    write_pcap(&input, frames.into_iter());
    let engine = Engine::start(
        &dir,
        &input,
        json!({"token": TOKEN, "max_body_bytes": 4096}),
    );
    wait_for_rx(&engine, 5);

    // Authentication, on every route.
    for token in [None, Some("wrong"), Some("test-token-4f1")] {
        for path in [
            "/health",
            "/policy",
            "/stats",
            "/sessions",
            "/openapi.json",
            "/nope",
        ] {
            let r = engine.call("GET", path, token, None, &[]);
            assert_eq!(r.status, 401, "{path} with {token:?}");
            assert!(r.json()["error"].is_string());
        }
    }
    let openapi = engine.get("/openapi.json").json();
    assert_eq!(openapi["openapi"], "3.1.0");

    // The API's threads run on the main lcore's CPU (0), never on the worker's (1).
    let mut api_threads = 0;
    for task in std::fs::read_dir(format!("/proc/{}/task", engine.child.id())).unwrap() {
        let task = task.unwrap().path();
        let comm = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if comm.starts_with("pinhole-api") || comm.starts_with("tokio") {
            let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
            let cpus = status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(str::trim)
                .unwrap_or_default()
                .to_owned();
            assert_eq!(cpus, "0", "{} may run on CPUs {cpus}", comm.trim());
            api_threads += 1;
        }
    }
    assert!(api_threads >= 1, "no API thread found");

    // Every endpoint, each answer checked against the document.
    let health = engine.get("/health");
    assert_eq!(health.status, 200);
    conforms(&openapi, "Health", &health.json());
    let pol = engine.get("/policy");
    assert_eq!((pol.status, pol.etag.as_deref()), (200, Some("\"1\"")));
    conforms(&openapi, "PolicyDocument", &pol.json());
    assert_eq!(
        pol.json()["zone_pairs"],
        policy("pass", "in-out")["zone_pairs"]
    );
    assert!(pol.json().get("eal").is_none() && pol.json().get("control").is_none());

    let stats = engine.get("/stats").json();
    conforms(&openapi, "Stats", &stats);
    assert_eq!(num(&stats, "/ports/0/ipackets").unwrap(), 5);
    assert_eq!(stats["zone_pairs"][0]["name"], "in-out");
    assert_eq!(
        num(&stats, "/drops/class_default_drop").unwrap(),
        1,
        "{stats:#}"
    );
    assert!(
        num(&stats, "/inspectors/sip/messages").unwrap() >= 1,
        "{stats:#}"
    );

    let metrics = engine.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type.unwrap().starts_with("text/plain"));
    assert!(
        metrics
            .text
            .contains("pinhole_port_rx_packets_total{port=\"net_pcap0\"} 5"),
        "{}",
        metrics.text
    );
    assert!(metrics
        .text
        .contains("pinhole_drops_total{reason=\"class_default_drop\"} 1"));

    let pinholes = engine.get("/pinholes").json();
    conforms(&openapi, "Pinholes", &pinholes);
    assert!(
        pinholes["pinholes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["dst_port"] == 49170),
        "{pinholes:#}"
    );
    let dialogs = engine.get("/sip/dialogs").json();
    conforms(&openapi, "Dialogs", &dialogs);
    assert_eq!(dialogs["dialogs"][0]["call_id"], "a84b4c76e66710@10.0.0.1");
    assert_eq!(
        dialogs["dialogs"][0]["zones"],
        serde_json::json!(["inside", "outside"])
    );
    conforms(&openapi, "Stations", &engine.get("/sccp/stations").json());
    conforms(&openapi, "Calls", &engine.get("/sccp/calls").json());

    // Sessions: SIP, NTP x2 (inspected); DNS is passed statelessly, telnet dropped.
    let all = engine.get("/sessions").json();
    conforms(&openapi, "SessionPage", &all);
    assert_eq!(all["sessions"].as_array().unwrap().len(), 3, "{all:#}");
    assert_eq!(all["next_cursor"], Value::Null);
    let sip = engine
        .get("/sessions?protocol=udp&port=5060&zone_pair=in-out")
        .json();
    assert_eq!(sip["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(sip["sessions"][0]["alg"], "sip");
    assert_eq!(sip["sessions"][0]["src"], "10.0.0.1");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/sessions?limit=1&cursor={c}"),
            None => "/sessions?limit=1".to_owned(),
        };
        let page = engine.get(&q).json();
        conforms(&openapi, "SessionPage", &page);
        seen.extend(
            page["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["src"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    for bad in [
        "/sessions?protocol=gre!",
        "/sessions?address=10.0.0",
        "/sessions?colour=red",
        "/sessions?limit=0",
    ] {
        let r = engine.get(bad);
        assert_eq!(r.status, 400, "{bad}");
        conforms(&openapi, "Error", &r.json());
        assert_eq!(r.paths().len(), 1, "{}", r.text);
    }
    let cleared = engine
        .call(
            "DELETE",
            "/sessions?address=10.0.0.3",
            Some(TOKEN),
            None,
            &[],
        )
        .json();
    conforms(&openapi, "Cleared", &cleared);
    assert_eq!(cleared["cleared"], 1);
    assert_eq!(
        engine.get("/sessions").json()["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Refused policies: every problem by path, nothing applied.
    let doc = policy("pass", "in-out");
    let mut dangling = doc.clone();
    dangling["zone_pairs"][0]["service_policy"] = json!("missing");
    let mut wrong_type = doc.clone();
    wrong_type["zones"][0]["name"] = json!(7);
    let mut unknown = doc.clone();
    unknown["class_maps"][1]["colour"] = json!("red");
    let mut runtime = doc.clone();
    runtime["workers"] = json!({"cores": [2]});
    let mut moved_port = doc.clone();
    moved_port["interfaces"][1]["port"] = json!("net_pcap0");
    moved_port["interfaces"][1]["vlan"] = json!(7);
    let mut two = doc.clone();
    two["zone_pairs"][0]["destination"] = json!("nowhere");
    two["policy_maps"][0]["classes"][0]["class"] = json!("gone");
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("{\"zones\": [".into(), vec![""]),
        ("[1, 2]".into(), vec![""]),
        (dangling.to_string(), vec!["zone_pairs[0].service_policy"]),
        (wrong_type.to_string(), vec!["zones[0].name"]),
        (unknown.to_string(), vec!["class_maps[1].colour"]),
        (runtime.to_string(), vec!["workers"]),
        (
            moved_port.to_string(),
            vec!["interfaces[1].port", "interfaces[1].vlan"],
        ),
        (
            two.to_string(),
            vec![
                "policy_maps[0].classes[0].class",
                "zone_pairs[0].destination",
            ],
        ),
    ];
    for (body, paths) in cases {
        let r = engine.put_policy(&body, &[]);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        conforms(&openapi, "Error", &r.json());
        assert_eq!(r.paths(), paths, "{body}");
    }
    let big = format!(
        "{{\"zones\": [{}]}}",
        vec!["{\"name\": \"z\"}"; 1000].join(",")
    );
    // Drained up to a bound, so the client reads the 413 rather than a reset.
    for _ in 0..20 {
        let r = engine.put_policy(&big, &[]);
        assert_eq!(r.status, 413, "{}", r.text);
        conforms(&openapi, "Error", &r.json());
    }
    let r = engine.call(
        "PUT",
        "/policy",
        Some(TOKEN),
        Some(&doc.to_string()),
        &[("Content-Type", "text/plain")],
    );
    assert_eq!(r.status, 415);
    let r = engine.put_policy(&doc.to_string(), &[("If-Match", "\"7\"")]);
    assert_eq!(r.status, 412, "{}", r.text);
    conforms(&openapi, "Error", &r.json());
    let after = engine.get("/policy");
    assert_eq!(after.etag.as_deref(), Some("\"1\""), "nothing applied");
    assert_eq!(after.json(), pol.json());
    assert_eq!(engine.get("/health").json()["policy_version"], 1);

    // Other methods and routes: JSON errors too.
    let r = engine.call("POST", "/stats", Some(TOKEN), Some("{}"), &[]);
    assert_eq!(r.status, 405);
    conforms(&openapi, "Error", &r.json());
    let r = engine.get("/nope");
    assert_eq!(r.status, 404);
    conforms(&openapi, "Error", &r.json());

    // An accepted push: new version and ETag; the zone pair renamed, so its sessions
    // are cleared (the documented rule), while the renamed policy is in force.
    let renamed = policy("drop", "in-out-2");
    let r = engine.put_policy(&renamed.to_string(), &[("If-Match", "\"1\"")]);
    assert_eq!(r.status, 200, "{}", r.text);
    conforms(&openapi, "PolicyVersion", &r.json());
    assert_eq!(
        (r.json()["version"].as_u64(), r.etag.as_deref()),
        (Some(2), Some("\"2\""))
    );
    let now = engine.get("/policy");
    assert_eq!(now.etag.as_deref(), Some("\"2\""));
    assert_eq!(now.json()["zone_pairs"], renamed["zone_pairs"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = engine.get("/sessions").json()["sessions"]
            .as_array()
            .unwrap()
            .len();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} sessions of the removed zone pair survive"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        engine.get("/stats").json()["zone_pairs"][0]["name"],
        "in-out-2"
    );
    let summary = engine.stop();
    assert_eq!(num(&summary, "/totals/rx_packets").unwrap(), 5);
}

#[test]
fn a_public_listen_address_needs_a_token() {
    let dir = Scratch::new("rest-public").unwrap();
    let mut config = policy("pass", "in-out");
    config["eal"] = json!([
        "--no-huge",
        "--vdev",
        "net_pcap0,rx_pcap=/dev/null",
        "--vdev",
        "net_pcap1,rx_pcap=/dev/null"
    ]);
    config["control"] = json!({"listen": "0.0.0.0:8080"});
    let path = dir.join("c.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let out = Command::new(pinhole_bin().unwrap())
        .arg("check")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("control.listen: 0.0.0.0:8080 is not a loopback address: set control.token or control.token_env"),
        "{stderr}"
    );
}

#[test]
fn a_hundred_pushes_under_traffic_lose_no_packet() {
    let dir = Scratch::new("rest-load").unwrap();
    let input = dir.join("in.pcap");
    // Endless traffic (the capture replays in a loop) into a sink port, so the pushes
    // overlap traffic however fast the machine is: DNS passed or dropped (it alternates),
    // NTP inspected, telnet and the rest dropped.
    let frames = (0..2000u32).map(|i| {
        let src = Ipv4Addr::from(0x0a00_0000 | (i % 512));
        match i % 4 {
            0 => udp4_frame(
                src,
                ip("192.0.2.53"),
                40000 + (i % 1000) as u16,
                53,
                b"query",
            ),
            1 => udp4_frame(src, ip("192.0.2.123"), 123, 123, b"ntp"),
            2 => tcp4_frame(
                src,
                ip("192.0.2.23"),
                &TcpHeader::new(Port(40001), Port(23), TcpFlags::SYN),
                b"",
            ),
            _ => udp4_frame(src, ip("192.0.2.99"), 9999, 9999, b"other"),
        }
    });
    write_pcap(&input, frames);
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    eal.extend([
        "--vdev".into(),
        format!(
            "net_pcap0,rx_pcap={},infinite_rx=1,tx_pcap={}",
            input.display(),
            dir.join("out_a.pcap").display()
        ),
        "--vdev".into(),
        "net_null1,no-rx=1".into(),
    ]);
    let mut config = policy("pass", "in-out");
    config["interfaces"][1]["port"] = json!("net_null1");
    config["eal"] = json!(eal);
    config["control"] = json!({"token": TOKEN});
    let engine = Engine::launch(&dir, &config);
    let before = num(&wait_for_rx(&engine, 1000), "/totals/rx_packets").unwrap();
    let mut last = Value::Null;
    for n in 0..100u64 {
        let (action, pair) = if n % 2 == 0 {
            ("drop", "pair-a")
        } else {
            ("pass", "pair-b")
        };
        last = policy(action, pair);
        last["interfaces"][1]["port"] = json!("net_null1");
        let r = engine.put_policy(
            &last.to_string(),
            &[("If-Match", &format!("\"{}\"", n + 1))],
        );
        assert_eq!(r.status, 200, "push {n}: {}", r.text);
        assert_eq!(r.json()["version"].as_u64(), Some(n + 2));
    }
    let stats = engine.get("/stats").json();
    let during = num(&stats, "/totals/rx_packets").unwrap() - before;
    assert!(during > 0, "no traffic while the policies were pushed");
    let now = engine.get("/policy");
    assert_eq!(now.etag.as_deref(), Some("\"101\""));
    assert_eq!(now.json()["zone_pairs"], last["zone_pairs"]);
    assert_eq!(stats["policy_version"], 101);
    assert_eq!(stats["zone_pairs"][0]["name"], "pair-b");
    // The last policy passes DNS: DNS flows cross after the pushes.
    let crossed = |s: &Value| {
        s["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "out/dns")
            .unwrap()["packets"]
            .as_u64()
            .unwrap()
    };
    let dns_then = crossed(&stats);
    let deadline = Instant::now() + Duration::from_secs(30);
    while crossed(&engine.get("/stats").json()) == dns_then {
        assert!(Instant::now() < deadline, "the last policy is not in force");
        std::thread::sleep(Duration::from_millis(20));
    }
    let summary = engine.stop();
    let t = |p: &str| num(&summary, &format!("/totals/{p}")).unwrap();
    let dropped: u64 = summary["totals"]["drops"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum::<u64>()
        + t("tx_unsent")
        + t("egress_unmapped")
        + t("emit_failed");
    let sent = num(&summary, "/ports/0/ipackets").unwrap();
    assert_eq!(t("rx_packets"), sent, "{summary:#}");
    assert_eq!(t("consumed") + t("emitted"), 0, "{summary:#}");
    assert_eq!(
        t("tx_packets") + dropped,
        sent,
        "forwarded + dropped = sent: {summary:#}"
    );
    assert_eq!(num(&summary, "/ports/1/opackets").unwrap(), t("tx_packets"));
    assert!(t("tx_packets") > 0 && dropped > 0, "{summary:#}");
    assert!(t("drops/class_default_drop") > 0, "{summary:#}");
    eprintln!("load: {sent} packets, {during} of them while 100 policies were pushed");
}

/// `pinhole ctl ARGS` against `engine`; (success, stdout, stderr).
fn ctl(engine: &Engine, token: Option<&str>, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(pinhole_bin().unwrap());
    cmd.arg("ctl")
        .arg("--url")
        .arg(format!("http://{}", engine.addr))
        .args(args)
        .env_remove("PINHOLE_TOKEN");
    if let Some(t) = token {
        cmd.env("PINHOLE_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ctl_shows_clears_and_applies_like_the_api() {
    let dir = Scratch::new("rest-ctl").unwrap();
    let input = dir.join("in.pcap");
    let frames = vec![
        invite(),
        udp4_frame(ip("10.0.0.3"), ip("192.0.2.123"), 123, 123, b"ntp"),
        udp4_frame(ip("10.0.0.4"), ip("192.0.2.124"), 123, 123, b"ntp"),
        tcp4_frame(
            ip("10.0.0.5"),
            ip("192.0.2.23"),
            &TcpHeader::new(Port(40001), Port(23), TcpFlags::SYN),
            b"",
        ),
    ];
    write_pcap(&input, frames.into_iter());
    let engine = Engine::start(&dir, &input, json!({"token": TOKEN}));
    wait_for_rx(&engine, 4);
    let show = |args: &[&str]| {
        let (ok, out, err) = ctl(&engine, Some(TOKEN), args);
        assert!(ok, "{args:?}: {err}");
        out
    };

    let zp = show(&["show", "zone-pair", "security"]);
    let row = zp.lines().nth(1).unwrap_or_default();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["in-out", "inside", "outside", "out", "4", "3"],
        "{zp}"
    );
    let pm = show(&[
        "show",
        "policy-map",
        "type",
        "inspect",
        "zone-pair",
        "in-out",
    ]);
    assert!(pm.contains("Service-policy inspect: out"), "{pm}");
    let class_default = pm.lines().find(|l| l.contains("class-default")).unwrap();
    let api = engine.get("/stats").json();
    let counted = api["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "out/class-default")
        .unwrap()
        .clone();
    let bytes = counted["bytes"].to_string();
    assert_eq!(
        class_default.split_whitespace().collect::<Vec<_>>(),
        ["class-default", "drop", "1", bytes.as_str(), "0"],
        "{pm}"
    );
    let pm_sessions = show(&[
        "show",
        "policy-map",
        "type",
        "inspect",
        "zone-pair",
        "in-out",
        "sessions",
    ]);
    assert!(pm_sessions.contains("3 session(s)"), "{pm_sessions}");
    let sip = show(&["show", "sessions", "--protocol", "udp", "--port", "5060"]);
    assert!(
        sip.contains("10.0.0.1:5060") && sip.contains("1 session(s)"),
        "{sip}"
    );
    let as_json: Value = serde_json::from_str(&show(&["--json", "show", "sessions"])).unwrap();
    assert_eq!(as_json.as_array().unwrap().len(), 3);
    assert!(show(&["show", "pinholes"]).contains(":49170"));
    assert!(show(&["show", "sip", "dialogs"]).contains("a84b4c76e66710@10.0.0.1"));
    let stats = show(&["show", "stats"]);
    assert!(
        stats.contains("net_pcap0") && stats.contains("class_default_drop"),
        "{stats}"
    );

    let (ok, _, err) = ctl(&engine, None, &["show", "stats"]);
    assert!(
        !ok && err.contains("pinhole: 401: missing or wrong bearer token"),
        "{err}"
    );
    let (ok, _, err) = ctl(&engine, Some(TOKEN), &["show", "nonsense"]);
    assert!(!ok && err.contains("unknown view"), "{err}");

    assert_eq!(
        show(&["clear", "sessions", "--address", "10.0.0.3"]),
        "cleared 1 session(s)\n"
    );
    assert_eq!(
        show(&["clear", "zone-pair", "in-out", "inspect", "sessions"]),
        "cleared 2 session(s)\n"
    );

    // apply: a whole configuration (runtime sections left out) or refused with paths.
    let mut whole = policy("drop", "in-out");
    whole["eal"] = json!(["ignored"]);
    whole["workers"] = json!({"cores": [9]});
    let good = dir.join("good.json");
    std::fs::write(&good, whole.to_string()).unwrap();
    assert_eq!(
        show(&["apply", good.to_str().unwrap(), "--if-match", "1"]),
        "policy version 2 in force\n"
    );
    let (ok, _, err) = ctl(
        &engine,
        Some(TOKEN),
        &["apply", good.to_str().unwrap(), "--if-match", "1"],
    );
    assert!(!ok && err.contains("pinhole: 412:"), "{err}");
    let mut bad_doc = policy("drop", "in-out");
    bad_doc["zone_pairs"][0]["service_policy"] = json!("missing");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, bad_doc.to_string()).unwrap();
    let (ok, _, err) = ctl(&engine, Some(TOKEN), &["apply", bad.to_str().unwrap()]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("pinhole: 400: policy not applied: 1 problem(s)"),
        "{err}"
    );
    assert!(
        err.contains("pinhole: zone_pairs[0].service_policy: no policy map named \"missing\""),
        "{err}"
    );
    assert_eq!(engine.get("/health").json()["policy_version"], 2);
    engine.stop();
}

#[test]
fn sessions_of_every_worker_are_paged_and_cleared() {
    let dir = Scratch::new("rest-workers").unwrap();
    let queue = |q: u8| {
        let path = dir.join(&format!("q{q}.pcap"));
        write_pcap(
            &path,
            (1..=3u8).map(|i| {
                udp4_frame(
                    Ipv4Addr::new(10, q, 0, i),
                    ip("192.0.2.123"),
                    123,
                    123,
                    b"ntp",
                )
            }),
        );
        path
    };
    let (q0, q1, empty) = (queue(0), queue(1), dir.join("empty.pcap"));
    write_empty_pcap(&empty).unwrap();
    let out = |n: &str| dir.join(n).display().to_string();
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    // One RX file per queue, so each worker reads its own flows; two worker lcores share
    // CPU 1 so the test runs on a 2-core machine.
    eal.extend([
        "--vdev".into(),
        format!(
            "net_pcap0,rx_pcap={},rx_pcap={},tx_pcap={},tx_pcap={}",
            q0.display(),
            q1.display(),
            out("a0.pcap"),
            out("a1.pcap")
        ),
        "--vdev".into(),
        format!(
            "net_pcap1,rx_pcap={e},rx_pcap={e},tx_pcap={},tx_pcap={}",
            out("b0.pcap"),
            out("b1.pcap"),
            e = empty.display()
        ),
        "--lcores".into(),
        "0@0,1@1,2@1".into(),
        "--main-lcore".into(),
        "0".into(),
    ]);
    let mut config = policy("pass", "in-out");
    config["eal"] = json!(eal);
    config["workers"] = json!({"cores": [1, 2]});
    config["control"] = json!({"token": TOKEN});
    let engine = Engine::launch(&dir, &config);
    wait_for_rx(&engine, 6);
    let mut workers = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/sessions?limit=2&cursor={c}"),
            None => "/sessions?limit=2".to_owned(),
        };
        let page = engine.get(&q).json();
        workers.extend(
            page["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["worker"].as_u64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        workers,
        [0, 0, 0, 1, 1, 1],
        "every session once, worker by worker"
    );
    let one = engine.get("/sessions?address=10.1.0.2").json();
    assert_eq!(one["sessions"][0]["worker"], 1);
    let cleared = engine
        .call(
            "DELETE",
            "/sessions?zone_pair=in-out",
            Some(TOKEN),
            None,
            &[],
        )
        .json();
    assert_eq!(cleared["cleared"], 6);
    assert_eq!(engine.get("/sessions").json()["sessions"], json!([]));
    let stats = engine.get("/stats").json();
    assert_eq!(stats["workers"].as_array().unwrap().len(), 2);
    engine.stop();
}

#[test]
fn a_listen_address_in_use_stops_the_start_with_one_line() {
    let dir = Scratch::new("rest-inuse").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut config = policy("pass", "in-out");
    let empty = dir.join("empty.pcap");
    write_empty_pcap(&empty).unwrap();
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    for (i, out) in ["a", "b"].iter().enumerate() {
        eal.push("--vdev".into());
        eal.push(format!(
            "net_pcap{i},rx_pcap={},tx_pcap={}",
            empty.display(),
            dir.join(&format!("{out}.pcap")).display()
        ));
    }
    config["eal"] = json!(eal);
    config["control"] = json!({ "listen": addr });
    let run = pinhole_e2e::run_pinhole(&dir, &config, &["--duration", "5"], &[]).unwrap();
    let stderr = run.stderr();
    assert_eq!(run.output.status.code(), Some(1), "{stderr}");
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("pinhole: "))
        .collect();
    assert_eq!(
        ours,
        [format!("pinhole: control.listen: cannot listen on {addr}: Address already in use (os error 98)").as_str()],
        "{stderr}"
    );
    drop(taken);
}
