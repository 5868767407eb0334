//! The device under test: the engine (`pinhole run` with a generated configuration) or
//! `dpdk-testpmd --forward-mode=io`, on the same core and the same two memif ports
//! (the DUT is the memif client; the generator is the server), or an external device
//! the harness does not start (bare metal: a second machine or the NICs' far end).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::frames::INSIDE_PREFIX;

/// Which device forwards between the generator's ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DutKind {
    /// `pinhole run`.
    Engine,
    /// `dpdk-testpmd --forward-mode=io`: the baseline.
    Testpmd,
    /// Already running elsewhere; the harness only generates.
    External,
}

/// The engine's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// No zones: every frame still goes through the pipeline (parse, session, policy).
    None,
    /// inside -> outside: UDP, TCP and ICMP inspected (sessions), everything else dropped.
    Firewall,
    /// inside -> outside: SIP inspected (ALG), ICMP inspected, everything else dropped:
    /// RTP crosses only through the pinholes the calls' SDP opened.
    Voice,
}

/// How to start the device under test.
#[derive(Clone, Debug)]
pub struct DutSpec {
    /// Which one.
    pub kind: DutKind,
    /// The pinhole binary.
    pub pinhole: PathBuf,
    /// The testpmd binary.
    pub testpmd: PathBuf,
    /// The main lcore (shared with the generator's: it mostly sleeps).
    pub main_core: u32,
    /// The forwarding core.
    pub core: u32,
    /// The memif control socket the generator listens on.
    pub socket: PathBuf,
    /// The engine's policy.
    pub policy: Policy,
    /// The engine's session capacity.
    pub sessions: u64,
    /// Working directory for configuration and summary files.
    pub dir: PathBuf,
}

/// memif rings of 16 Ki descriptors (DPDK's maximum): on a shared machine the DUT's core
/// may be taken away for tens of milliseconds, and a throughput figure should measure
/// forwarding, not that scheduling latency (1 Ki descriptors last 10 ms at 100 kpps).
const MEMIF_LOG2_RING: u32 = 14;

fn memif_vdevs(socket: &Path, role: &str) -> Vec<String> {
    (0..2)
        .flat_map(|id| {
            [
                "--vdev".to_owned(),
                format!(
                    "net_memif{id},role={role},socket={},id={id},rsize={MEMIF_LOG2_RING}",
                    socket.display()
                ),
            ]
        })
        .collect()
}

/// EAL arguments of the generator's side (server) of the memif pair.
pub fn generator_eal(socket: &Path, core: u32, prefix: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "-l",
        &core.to_string(),
        "--no-huge",
        "--no-pci",
        "-m",
        "1024",
        "--file-prefix",
        prefix,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(memif_vdevs(socket, "server"));
    args
}

/// The engine's configuration for `spec`.
pub fn engine_config(spec: &DutSpec) -> Value {
    let mut eal: Vec<String> = ["--no-huge", "--no-pci", "-m", "1024"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    eal.extend(memif_vdevs(&spec.socket, "client"));
    let zoned = spec.policy != Policy::None;
    let iface = |name: &str, port: &str, prefixes: &[&str]| {
        let mut v = json!({"name": name, "port": port, "prefixes": prefixes});
        if zoned {
            v["zone"] = json!(name);
        }
        v
    };
    let mut config = json!({
        "eal": eal,
        "workers": {"cores": [spec.core]},
        "interfaces": [
            iface("inside", "net_memif0", &[INSIDE_PREFIX]),
            iface("outside", "net_memif1", &["0.0.0.0/0"]),
        ],
        "forwarding": {"mode": "virtual-wire", "pairs": [["inside", "outside"]]},
        "sessions": {"capacity_per_worker": spec.sessions.max(65_536)},
    });
    let rules = match spec.policy {
        Policy::None => return config,
        Policy::Firewall => json!([{"protocol": "udp"}, {"protocol": "tcp"}, {"protocol": "icmp"}]),
        Policy::Voice => json!([{"protocol": "sip"}, {"protocol": "icmp"}]),
    };
    // Data sessions must outlive a whole search; calls a trial abandons (a message lost
    // under overload) must not: their pinholes and dialogs would fill the tables of
    // later trials.
    let timeouts = match spec.policy {
        Policy::Voice => json!({"udp": 60, "media_inactivity": 30, "max_call_duration": 120}),
        _ => json!({"udp": 3600, "tcp_established": 3600}),
    };
    config["zones"] = json!([{"name": "inside"}, {"name": "outside"}]);
    config["class_maps"] = json!([{"name": "measured", "match": "any", "rules": rules}]);
    config["parameter_maps"] = json!([{"name": "perf", "timeouts": timeouts}]);
    config["policy_maps"] = json!([{"name": "perf-policy",
        "classes": [{"class": "measured", "action": "inspect", "parameter_map": "perf"}],
        "class_default": "drop"}]);
    config["zone_pairs"] = json!([{"name": "in-out", "source": "inside", "destination": "outside",
        "service_policy": "perf-policy"}]);
    config
}

/// A started device under test.
pub struct RunningDut {
    kind: DutKind,
    child: Option<Child>,
    summary: PathBuf,
    prefix: String,
}

/// The EAL runtime directory of `prefix` (as root; DPDK does not remove it on exit).
pub fn eal_runtime_dir(prefix: &str) -> PathBuf {
    Path::new("/var/run/dpdk").join(prefix)
}

impl RunningDut {
    /// Start the device (nothing for `External`).
    pub fn start(spec: &DutSpec) -> anyhow::Result<RunningDut> {
        let lcores = format!("{},{}", spec.main_core, spec.core);
        let prefix = format!("pinhole-perf-dut-{}", std::process::id());
        let summary = spec.dir.join("engine-summary.json");
        let _ = std::fs::remove_file(&summary);
        let child = match spec.kind {
            DutKind::External => None,
            DutKind::Engine => {
                let path = spec.dir.join("engine.json");
                std::fs::write(&path, serde_json::to_vec_pretty(&engine_config(spec))?)?;
                let child = Command::new(&spec.pinhole)
                    .args(["run", "--quiet", "--config"])
                    .arg(&path)
                    .arg("--summary-json")
                    .arg(&summary)
                    .args([
                        "--",
                        "--file-prefix",
                        &prefix,
                        "-l",
                        &lcores,
                        "--main-lcore",
                    ])
                    .arg(spec.main_core.to_string())
                    .stdout(Stdio::null())
                    .spawn()
                    .with_context(|| format!("starting {}", spec.pinhole.display()))?;
                Some(child)
            }
            DutKind::Testpmd => {
                let child = Command::new(&spec.testpmd)
                    .args(["-l", &lcores, "--main-lcore"])
                    .arg(spec.main_core.to_string())
                    .args([
                        "--no-huge",
                        "--no-pci",
                        "-m",
                        "1024",
                        "--file-prefix",
                        &prefix,
                    ])
                    .args(memif_vdevs(&spec.socket, "client"))
                    .args([
                        "--",
                        "--forward-mode=io",
                        "--stats-period",
                        "1",
                        "--total-num-mbufs=32768",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .with_context(|| format!("starting {}", spec.testpmd.display()))?;
                Some(child)
            }
        };
        Ok(RunningDut {
            kind: spec.kind,
            child,
            summary,
            prefix,
        })
    }

    /// Whether the process has exited (an error: it should run until stopped).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Stop it (SIGINT, then SIGKILL after 10 s); the engine's summary when it wrote one.
    pub fn stop(mut self) -> anyhow::Result<Option<Value>> {
        let Some(mut child) = self.child.take() else {
            return Ok(None);
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() && self.kind == DutKind::Engine {
                    bail!("the engine exited with {status}");
                }
                break;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                bail!("{:?} did not stop on SIGINT; killed", self.kind);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(eal_runtime_dir(&self.prefix));
        if self.kind != DutKind::Engine {
            return Ok(None);
        }
        let bytes = std::fs::read(&self.summary).context("the engine wrote no summary")?;
        Ok(Some(serde_json::from_slice(&bytes)?))
    }
}

impl Drop for RunningDut {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(eal_runtime_dir(&self.prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(policy: Policy) -> DutSpec {
        DutSpec {
            kind: DutKind::Engine,
            pinhole: "pinhole".into(),
            testpmd: "dpdk-testpmd".into(),
            main_core: 0,
            core: 1,
            socket: "/tmp/x/memif.sock".into(),
            policy,
            sessions: 1000,
            dir: "/tmp/x".into(),
        }
    }

    #[test]
    fn generated_engine_configurations_are_valid() {
        for policy in [Policy::None, Policy::Firewall, Policy::Voice] {
            let text = engine_config(&spec(policy)).to_string();
            let loaded = pinhole_control::config::load_str(&text, &[]);
            assert!(loaded.is_ok(), "{policy:?}: {:?}", loaded.err());
        }
        let c = engine_config(&spec(Policy::Voice));
        assert_eq!(c["class_maps"][0]["rules"][0]["protocol"], "sip");
        assert!(c["eal"]
            .to_string()
            .contains("net_memif1,role=client,socket=/tmp/x/memif.sock,id=1,rsize=14"));
        assert!(engine_config(&spec(Policy::None)).get("zones").is_none());
    }

    #[test]
    fn the_generator_is_the_memif_server_on_its_own_core() {
        let args = generator_eal(Path::new("/s"), 0, "p");
        assert_eq!(args[..2], ["-l", "0"]);
        assert!(args
            .iter()
            .any(|a| a == "net_memif0,role=server,socket=/s,id=0,rsize=14"));
    }
}
