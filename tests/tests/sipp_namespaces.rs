//! Real SIP peers through the engine. SIPp places calls with RTP (its built-in
//! `uac_pcap` scenario, which plays a G.711 recording and an RFC 2833 digit) against
//! SIPp's `uas` (RTP echo on) in another network namespace, over UDP and over TCP at
//! once; the namespaces' only path to each other is the engine on two `net_af_packet`
//! ports, under a default-drop zone policy.
//!
//! With SIP inspected every call completes, the RTP reaches namespace B (read with
//! tshark from a capture there) through the pinholes the SDP opened, and at stop no
//! pinhole and no SIP dialog is left. With SIP merely passed the calls still complete,
//! but no RTP arrives: class-default drops it.
//!
//! Needs root (namespaces, veths) and `sipp`, `tshark`, `ethtool`, `ip`, `ss` (what
//! `make test` installs); as another user it says so loudly and passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pinhole_e2e::netns::{have, is_root, Background, NamespacePair, Side, INNER_IFACE};
use pinhole_e2e::{num, spawn_pinhole, Scratch, EAL_NO_NIC};
use serde_json::{json, Value};

/// Calls per transport (all under way at once: the scenario lasts about 9.5 s).
const CALLS: u64 = 3;
/// RTP packets a call sends at least (the recording has 236, the digit a few more).
const RTP_PER_CALL: u64 = 200;
/// The SIP port on B.
const SIP_PORT: u16 = 5060;

/// One engine at a time: its worker busy-polls a core, and CI machines have two.
static ONE_ENGINE: Mutex<()> = Mutex::new(());

/// A SIP transport and the ports its calls use (distinct per transport, so the
/// capture tells the UDP calls' RTP from the TCP calls').
#[derive(Clone, Copy, Debug)]
struct Transport {
    name: &'static str,
    /// SIPp's `-t` value.
    sipp: &'static str,
    /// `ss` option listing this transport's listening sockets.
    ss: &'static str,
    /// The UAC's local SIP port.
    uac_port: u16,
    /// The UAC's media port.
    uac_media: u16,
    /// The UAS's media (echo) port, announced in its answer.
    uas_media: u16,
}

const TRANSPORTS: [Transport; 2] = [
    Transport {
        name: "udp",
        sipp: "u1",
        ss: "-Hlnu",
        uac_port: 5061,
        uac_media: 7000,
        uas_media: 6000,
    },
    Transport {
        name: "tcp",
        sipp: "t1",
        ss: "-Hlnt",
        uac_port: 5062,
        uac_media: 7100,
        uas_media: 6100,
    },
];

/// Whether this machine can run the test; loud when it cannot because of the user,
/// an error when root lacks the tools `make test` installs. Under CI
/// (`PINHOLE_E2E_REQUIRE_ROOT` set by `.ci/run`) not being root is an error too, so the
/// test can never pass there without running.
fn can_run() -> anyhow::Result<bool> {
    if !is_root() {
        if std::env::var_os("PINHOLE_E2E_REQUIRE_ROOT").is_some() {
            bail!("PINHOLE_E2E_REQUIRE_ROOT is set but this is not root: the SIPp test must run");
        }
        // Straight to stderr: the test harness captures eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !!! SKIPPED: the SIPp namespace test needs root (network namespaces, veths).\n\
             !!! Run it as root: cargo test -p pinhole-e2e --test sipp_namespaces\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return Ok(false);
    }
    for tool in ["sipp", "tshark", "ethtool", "ip", "ss"] {
        if !have(tool) {
            bail!("{tool} is missing: `make deps` installs it (packages sip-tester, tshark, ethtool, iproute2)");
        }
    }
    Ok(true)
}

/// The RTP recordings `uac_pcap` plays, looked up relative to the working directory as
/// `pcap/<name>`: copied from where the sip-tester package installed them.
fn install_rtp_recordings(dir: &Scratch) -> anyhow::Result<PathBuf> {
    let listing = std::process::Command::new("dpkg")
        .args(["-L", "sip-tester"])
        .output()
        .context("dpkg -L sip-tester")?;
    let files = String::from_utf8_lossy(&listing.stdout).into_owned();
    let pcap_dir = dir.join("pcap");
    std::fs::create_dir_all(&pcap_dir)?;
    for name in ["g711a.pcap", "dtmf_2833_1.pcap"] {
        let shipped = files
            .lines()
            .find(|l| Path::new(l).file_name().is_some_and(|f| f == name))
            .with_context(|| format!("sip-tester does not ship {name}"))?;
        std::fs::copy(shipped, pcap_dir.join(name))
            .with_context(|| format!("copying {shipped}"))?;
    }
    Ok(dir.path().to_path_buf())
}

/// The engine's configuration: A and B in zones of their own on a virtual wire; from A
/// to B SIP is inspected (or only passed) and everything else dropped. With `pass`,
/// B's SIP replies need a pass of their own (no session carries them back).
fn config(pair: &NamespacePair, sip_action: &str) -> Value {
    let mut eal: Vec<String> = EAL_NO_NIC.iter().map(|s| (*s).to_owned()).collect();
    for (i, side) in [&pair.a, &pair.b].into_iter().enumerate() {
        eal.extend(["--vdev".to_owned(), side.vdev(i)]);
    }
    let mut policy_maps = vec![json!({"name": "a-to-b", "classes": [
        {"class": "sip", "action": sip_action}
    ], "class_default": "drop"})];
    let mut zone_pairs = vec![
        json!({"name": "a-b", "source": "za", "destination": "zb", "service_policy": "a-to-b"}),
    ];
    if sip_action == "pass" {
        policy_maps.push(json!({"name": "b-to-a", "classes": [
            {"class": "sip-replies", "action": "pass"}
        ], "class_default": "drop"}));
        zone_pairs.push(
            json!({"name": "b-a", "source": "zb", "destination": "za", "service_policy": "b-to-a"}),
        );
    }
    json!({
        "eal": eal,
        "workers": {"cores": [1]},
        "interfaces": [
            {"name": "a", "port": "net_af_packet0", "zone": "za"},
            {"name": "b", "port": "net_af_packet1", "zone": "zb"}
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]},
        "zones": [{"name": "za"}, {"name": "zb"}],
        "class_maps": [
            {"name": "sip", "rules": [{"protocol": "sip"}]},
            {"name": "sip-replies", "match": "any", "rules": [
                {"access_group": {"proto": "udp", "src_ports": [SIP_PORT]}},
                {"access_group": {"proto": "tcp", "src_ports": [SIP_PORT]}}
            ]}
        ],
        "policy_maps": policy_maps,
        "zone_pairs": zone_pairs
    })
}

/// Wait until something in `side`'s namespace listens on `port` over `t`.
fn wait_listening(side: &Side, t: Transport, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = side
            .command("ss")
            .args([t.ss, &format!("sport = :{port}")])
            .output()?;
        if !out.stdout.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("nothing listens on {} port {port} in {}", t.name, side.ns);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What one run of calls came to.
struct Outcome {
    /// The engine's `--summary-json`.
    summary: Value,
    /// RTP packets from A that reached B's media port, per transport.
    rtp_into_b: Vec<(&'static str, u64)>,
}

/// RTP packets from A to B's media port `port` in the capture taken in B.
fn rtp_count(capture: &Path, a: &Side, port: u16) -> anyhow::Result<u64> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-d", &format!("udp.port=={port},rtp")])
        .args([
            "-Y",
            &format!("rtp && ip.src=={} && udp.dstport=={port}", a.addr),
        ])
        .args(["-T", "fields", "-e", "rtp.seq"])
        .output()
        .context("tshark -r")?;
    if !out.status.success() {
        bail!("tshark -r: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().count() as u64)
}

/// Where SIPp writes its statistics (`-trace_stat -stf`).
fn stats_file(dir: &Scratch, role: &str, t: Transport) -> PathBuf {
    dir.join(&format!("{role}-{}-stats.csv", t.name))
}

/// The cumulative counters of SIPp's last statistics line (`;`-separated, with a
/// header line naming them, cumulative ones suffixed `(C)`).
struct SippStats {
    header: Vec<String>,
    last: Vec<String>,
}

impl SippStats {
    fn read(path: &Path) -> anyhow::Result<SippStats> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading SIPp statistics {}", path.display()))?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let split = |l: &str| l.split(';').map(str::to_owned).collect::<Vec<_>>();
        let header = lines.next().map(split).context("empty SIPp statistics")?;
        let last = lines
            .next_back()
            .map(split)
            .context("no SIPp statistics line")?;
        Ok(SippStats { header, last })
    }

    fn get(&self, counter: &str) -> anyhow::Result<u64> {
        let name = format!("{counter}(C)");
        let i = self
            .header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("no {name} in SIPp statistics"))?;
        self.last
            .get(i)
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("{name} is not a number"))
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Place `CALLS` calls over each transport at once from A to B through the engine
/// with SIP under `sip_action`; every call must complete.
fn place_calls(sip_action: &str) -> anyhow::Result<Outcome> {
    let _one = ONE_ENGINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = Scratch::new(&format!("sipp-{sip_action}"))?;
    let pair = NamespacePair::create([10, 77, 0])?;
    let workdir = install_rtp_recordings(&dir)?;

    let mut engine = spawn_pinhole(&dir, &config(&pair, sip_action), &["--quiet"], &[])?;
    pair.wait_for_engine(&mut engine)?;

    let capture = dir.join("b.pcapng");
    let mut tshark_cmd = pair.b.command("tshark");
    tshark_cmd
        .args(["-i", INNER_IFACE, "-q", "-w"])
        .arg(&capture);
    let mut tshark = Background::spawn("tshark", tshark_cmd, &dir)?;
    tshark.wait_for_stderr("Capturing on", Duration::from_secs(30))?;

    let mut servers = Vec::new();
    for t in TRANSPORTS {
        let mut uas = pair.b.command("sipp");
        uas.args(["-sn", "uas", "-i", &pair.b.addr.to_string()])
            .args(["-p", &SIP_PORT.to_string(), "-t", t.sipp])
            .args(["-mp", &t.uas_media.to_string(), "-rtp_echo"])
            .args(["-m", &CALLS.to_string(), "-nostdin", "-trace_stat", "-stf"])
            .arg(stats_file(&dir, "uas", t))
            .current_dir(&workdir);
        servers.push((t, Background::spawn(&format!("uas-{}", t.name), uas, &dir)?));
        wait_listening(&pair.b, t, SIP_PORT)?;
    }
    let mut clients = Vec::new();
    for t in TRANSPORTS {
        let mut uac = pair.a.command("sipp");
        uac.args(["-sn", "uac_pcap", &format!("{}:{SIP_PORT}", pair.b.addr)])
            .args([
                "-i",
                &pair.a.addr.to_string(),
                "-p",
                &t.uac_port.to_string(),
            ])
            .args(["-t", t.sipp, "-mp", &t.uac_media.to_string()])
            .args(["-m", &CALLS.to_string(), "-r", "10", "-nostdin"])
            .args(["-timeout", "40", "-timeout_error", "-trace_stat", "-stf"])
            .arg(stats_file(&dir, "uac", t))
            .current_dir(&workdir);
        clients.push((t, Background::spawn(&format!("uac-{}", t.name), uac, &dir)?));
    }

    let mut failures = Vec::new();
    for (t, mut uac) in clients {
        let status = uac.wait(Duration::from_secs(50))?;
        let stats = SippStats::read(&stats_file(&dir, "uac", t))?;
        let (ok, failed) = (stats.get("SuccessfulCall")?, stats.get("FailedCall")?);
        if !status.success() || ok != CALLS || failed != 0 {
            let screen = std::fs::read_to_string(dir.join(&format!("uac-{}.out", t.name)))
                .unwrap_or_default();
            failures.push(format!(
                "uac over {}: {status}, {ok} calls successful, {failed} failed\n{}\n{}",
                t.name,
                tail(&screen),
                uac.stderr()
            ));
        }
    }
    for (t, mut uas) in servers {
        let status = uas.wait(Duration::from_secs(10))?;
        let stats = SippStats::read(&stats_file(&dir, "uas", t))?;
        // SIPp's uas keeps each call 4 s after its 200 to BYE (to answer a repeated
        // BYE) and counts a call whose TCP connection the uac closes meanwhile, as the
        // uac does after its last call, as failed ("FailedTcpClosed"), with or without
        // an engine in between. The uac succeeded with every call, so such a call was
        // complete; any other failure is one.
        let ok = stats.get("SuccessfulCall")?;
        let closed = stats.get("FailedTcpClosed")?;
        let failed = stats.get("FailedCall")?;
        if ok + closed != CALLS || failed != closed {
            failures.push(format!(
                "uas over {}: {status}, {ok} calls successful, {failed} failed ({closed} by TCP close)\n{}",
                t.name,
                uas.stderr()
            ));
        }
    }
    tshark.interrupt(Duration::from_secs(10))?;
    let run = engine.stop(Duration::from_secs(20))?;
    if !failures.is_empty() {
        bail!(
            "calls with SIP {sip_action} failed:\n{}\nengine:\n{}",
            failures.join("\n"),
            run.stderr()
        );
    }
    assert!(
        run.output.status.success(),
        "the engine failed:\n{}",
        run.stderr()
    );
    let summary = run.summary()?.clone();
    let mut rtp_into_b = Vec::new();
    for t in TRANSPORTS {
        rtp_into_b.push((t.name, rtp_count(&capture, &pair.a, t.uas_media)?));
    }
    Ok(Outcome {
        summary,
        rtp_into_b,
    })
}

fn drops(summary: &Value, reason: &str) -> u64 {
    num(summary, &format!("/totals/drops/{reason}")).unwrap_or(0)
}

#[test]
fn inspected_calls_complete_their_rtp_crosses_and_nothing_is_left_open() -> anyhow::Result<()> {
    if !can_run()? {
        return Ok(());
    }
    let out = place_calls("inspect")?;
    let s = &out.summary;
    for (transport, rtp) in &out.rtp_into_b {
        assert!(
            *rtp >= CALLS * RTP_PER_CALL,
            "{transport}: only {rtp} RTP packets reached B\n{s:#}"
        );
    }
    let calls = CALLS * TRANSPORTS.len() as u64;
    assert_eq!(num(s, "/inspectors/sip/dialogs_created")?, calls, "{s:#}");
    assert_eq!(num(s, "/inspectors/sip/dialogs_ended_bye")?, calls, "{s:#}");
    assert!(num(s, "/inspectors/pinholes/opened")? >= 2 * calls, "{s:#}");
    assert_eq!(num(s, "/inspectors/pinholes/open_at_end")?, 0, "{s:#}");
    assert_eq!(num(s, "/inspectors/sip_dialogs_open_at_end")?, 0, "{s:#}");
    assert_eq!(drops(s, "class_default_drop"), 0, "{s:#}");
    Ok(())
}

#[test]
fn passed_calls_complete_but_their_rtp_is_dropped() -> anyhow::Result<()> {
    if !can_run()? {
        return Ok(());
    }
    let out = place_calls("pass")?;
    let s = &out.summary;
    for (transport, rtp) in &out.rtp_into_b {
        assert_eq!(*rtp, 0, "{transport}: RTP reached B without a pinhole");
    }
    let calls = CALLS * TRANSPORTS.len() as u64;
    assert!(
        drops(s, "class_default_drop") >= calls * RTP_PER_CALL,
        "{s:#}"
    );
    assert_eq!(num(s, "/inspectors/pinholes/opened")?, 0, "{s:#}");
    assert_eq!(num(s, "/inspectors/sip_dialogs_open_at_end")?, 0, "{s:#}");
    Ok(())
}
