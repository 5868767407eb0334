//! Two network namespaces whose only path to each other is the engine: one veth pair per
//! namespace, the namespace end addressed (private addresses, only inside the test's
//! own namespaces), the root-namespace end a `net_af_packet` port of the engine.
//! Everything is removed on drop, also when the test fails half-way.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The interface name inside each namespace.
pub const INNER_IFACE: &str = "ph0";

/// Whether this process runs as root (namespaces and veths need it).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Whether `program` is on the PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Run a command to completion; an error quoting its stderr when it fails.
pub fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {}: {}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// One side: a namespace, its veth's root end (the engine's port) and its address.
#[derive(Debug, Clone)]
pub struct Side {
    /// Namespace name.
    pub ns: String,
    /// The veth end left in the root namespace, the engine's port.
    pub root_iface: String,
    /// The namespace end's address (a /24 shared by both sides).
    pub addr: Ipv4Addr,
}

impl Side {
    /// A command run inside this namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, program]);
        c
    }

    /// `--vdev` argument making the root end engine port `net_af_packet<index>`.
    pub fn vdev(&self, index: usize) -> String {
        format!("net_af_packet{index},iface={}", self.root_iface)
    }

    fn root_ifindex(&self) -> Option<u32> {
        std::fs::read_to_string(format!("/sys/class/net/{}/ifindex", self.root_iface))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }
}

/// Two namespaces `a` and `b` on one /24, joined only through the engine.
#[derive(Debug)]
pub struct NamespacePair {
    /// The calling side (`.1`).
    pub a: Side,
    /// The called side (`.2`).
    pub b: Side,
}

impl NamespacePair {
    /// Create both namespaces and veth pairs (names unique to this process and call),
    /// with IPv6 off (no router solicitations or DAD in the captures) and transmit
    /// checksum offload off: a veth hands the engine's `AF_PACKET` socket TCP/UDP
    /// packets whose checksum is left to the hardware, which the engine forwards as
    /// they are and the other namespace then drops as corrupt.
    pub fn create(subnet: [u8; 3]) -> anyhow::Result<NamespacePair> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let tag = format!("{}{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let [x, y, z] = subnet;
        let pair = NamespacePair {
            a: Side {
                ns: format!("ph-a-{tag}"),
                root_iface: format!("pha{tag}"),
                addr: Ipv4Addr::new(x, y, z, 1),
            },
            b: Side {
                ns: format!("ph-b-{tag}"),
                root_iface: format!("phb{tag}"),
                addr: Ipv4Addr::new(x, y, z, 2),
            },
        };
        // From here on, Drop removes whatever part was created.
        for side in [&pair.a, &pair.b] {
            if side.root_iface.len() > 15 {
                bail!("interface name {} is too long", side.root_iface);
            }
            run("ip", &["netns", "add", &side.ns])?;
            run(
                "ip",
                &[
                    "link",
                    "add",
                    &side.root_iface,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    INNER_IFACE,
                    "netns",
                    &side.ns,
                ],
            )?;
            let _ = run(
                "sysctl",
                &[
                    "-qw",
                    &format!("net.ipv6.conf.{}.disable_ipv6=1", side.root_iface),
                ],
            );
            run("ethtool", &["-K", &side.root_iface, "tx", "off"])?;
            run("ip", &["link", "set", &side.root_iface, "up"])?;
            let addr = format!("{}/24", side.addr);
            let script = format!(
                "sysctl -qw net.ipv6.conf.all.disable_ipv6=1; \
                 sysctl -qw net.ipv6.conf.default.disable_ipv6=1; \
                 set -e; ip link set lo up; \
                 ethtool -K {INNER_IFACE} tx off >/dev/null; \
                 ip addr add {addr} dev {INNER_IFACE}; ip link set {INNER_IFACE} up"
            );
            run("ip", &["netns", "exec", &side.ns, "sh", "-c", &script])?;
        }
        Ok(pair)
    }

    /// Wait until a process (the engine's `net_af_packet` ports) has a packet socket on
    /// both root ends, so nothing sent afterwards goes unseen.
    pub fn wait_for_engine(&self, engine: &mut crate::RunningPinhole) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let wanted: Vec<u32> = [&self.a, &self.b]
            .iter()
            .filter_map(|s| s.root_ifindex())
            .collect();
        loop {
            let table = std::fs::read_to_string("/proc/net/packet").unwrap_or_default();
            // Columns: sk RefCnt Type Proto Iface R Rmem User Inode.
            let bound: Vec<u32> = table
                .lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().nth(4)?.parse().ok())
                .collect();
            if wanted.len() == 2 && wanted.iter().all(|i| bound.contains(i)) {
                return Ok(());
            }
            if !engine.is_running() {
                bail!(
                    "the engine exited before its ports came up:\n{}",
                    engine.stderr()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "the engine's ports did not come up in time:\n{}",
                    engine.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for NamespacePair {
    fn drop(&mut self) {
        for side in [&self.a, &self.b] {
            // Deleting a namespace deletes its veth end and with it the root end; the
            // explicit delete covers a namespace that was never created.
            let _ = run("ip", &["netns", "del", &side.ns]);
            let _ = run("ip", &["link", "del", &side.root_iface]);
        }
    }
}

/// A process running in the background, killed on drop.
#[derive(Debug)]
pub struct Background {
    name: String,
    child: Option<Child>,
    /// Where its standard error goes.
    pub stderr_path: PathBuf,
}

impl Background {
    /// Start `command` with output to `<dir>/<name>.out` and `.err`.
    pub fn spawn(
        name: &str,
        mut command: Command,
        dir: &crate::Scratch,
    ) -> anyhow::Result<Background> {
        let stderr_path = dir.join(&format!("{name}.err"));
        let child = command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join(&format!("{name}.out")))?)
            .stderr(std::fs::File::create(&stderr_path)?)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Background {
            name: name.to_owned(),
            child: Some(child),
            stderr_path,
        })
    }

    /// Its standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Wait until its standard error contains `text` (a tool saying it is ready).
    pub fn wait_for_stderr(&mut self, text: &str, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        while !self.stderr().contains(text) {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok())
                .flatten()
            {
                bail!("{} exited ({status}):\n{}", self.name, self.stderr());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not say {text:?} in time:\n{}",
                    self.name,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Wait for it to exit; killed (and an error) after `within`.
    pub fn wait(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        let mut child = self.child.take().context("already waited for")?;
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{} did not finish in {within:?}:\n{}",
                    self.name,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ask it to stop (SIGINT) and wait for it.
    pub fn interrupt(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        if let Some(child) = self.child.as_ref() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
        }
        self.wait(within)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
