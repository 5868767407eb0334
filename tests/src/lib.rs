//! Helpers for the end-to-end tests: locating (and building) the `pinhole` binary,
//! unique EAL file prefixes, scratch directories, corpus paths, running the binary
//! (to completion or in the background) and reading its JSON summary, and network
//! namespaces joined through the engine ([`netns`]).

pub mod netns;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// EAL arguments every test run uses: no hugepages, no PCI scan, a small heap.
pub const EAL_NO_NIC: &[&str] = &["--no-huge", "--no-pci", "-m", "512"];

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file of the shared corpora (`../shared/corpora/<rel>` from the repo root).
pub fn corpus(rel: &str) -> PathBuf {
    repo_root().join("../shared/corpora").join(rel)
}

/// The `pinhole` binary: `$PINHOLE_BIN`, else `target/<profile>/pinhole` next to this test
/// executable, built (or brought up to date) once per test process with cargo.
pub fn pinhole_bin() -> anyhow::Result<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| locate_or_build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn locate_or_build() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("PINHOLE_BIN") {
        return Ok(PathBuf::from(bin));
    }
    // target/<profile>/deps/<test-exe> -> target/<profile>
    let exe = std::env::current_exe().context("locating the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("test executable is not under target/<profile>/deps")?
        .to_path_buf();
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.current_dir(repo_root()).args([
        "build",
        "--quiet",
        "-p",
        "pinhole-control",
        "--bin",
        "pinhole",
    ]);
    if profile != "debug" {
        build.args(["--profile", &profile]);
    }
    let status = build
        .status()
        .context("running cargo build for the pinhole binary")?;
    if !status.success() {
        bail!("cargo build -p pinhole-control failed");
    }
    let bin = profile_dir.join("pinhole");
    if !bin.exists() {
        bail!(
            "{} not found after building; set PINHOLE_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// A file prefix no other EAL instance on this machine uses.
pub fn unique_prefix(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "pinhole-e2e-{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A scratch directory, removed on drop.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// A fresh directory for `test`.
    pub fn new(test: &str) -> anyhow::Result<Scratch> {
        let path = std::env::temp_dir().join(unique_prefix(test));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Scratch { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A finished `pinhole run`.
#[derive(Debug)]
pub struct RunResult {
    /// Exit status, stdout, stderr.
    pub output: Output,
    /// The `--summary-json` document, when the run wrote one.
    pub summary: Option<serde_json::Value>,
}

impl RunResult {
    /// stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The summary, or an error quoting the run's stderr.
    pub fn summary(&self) -> anyhow::Result<&serde_json::Value> {
        self.summary.as_ref().with_context(|| {
            format!(
                "no summary; status {:?}, stderr:\n{}",
                self.output.status,
                self.stderr()
            )
        })
    }
}

/// Write `config` into `dir` and prepare `pinhole run --config ... --summary-json ...
/// <args> -- --file-prefix <unique> <eal>`; returns the command and the summary's path.
fn pinhole_run_command(
    dir: &Scratch,
    config: &serde_json::Value,
    args: &[&str],
    extra_eal: &[&str],
) -> anyhow::Result<(Command, PathBuf)> {
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(config)?)?;
    let summary_path = dir.join("summary.json");
    let _ = std::fs::remove_file(&summary_path);
    let prefix = unique_prefix("run");
    let mut command = Command::new(pinhole_bin()?);
    command
        .arg("run")
        .arg("--config")
        .arg(&config_path)
        .arg("--summary-json")
        .arg(&summary_path)
        .args(args)
        .arg("--")
        .args(["--file-prefix", &prefix])
        .args(extra_eal);
    Ok((command, summary_path))
}

fn read_summary(path: &Path) -> anyhow::Result<Option<serde_json::Value>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).context("parsing the summary")?,
        )),
        Err(_) => Ok(None),
    }
}

/// Write `config` into `dir`, run `pinhole run --config ... <args> -- <eal>` with a
/// unique file prefix, and read the JSON summary.
pub fn run_pinhole(
    dir: &Scratch,
    config: &serde_json::Value,
    args: &[&str],
    extra_eal: &[&str],
) -> anyhow::Result<RunResult> {
    let (mut command, summary_path) = pinhole_run_command(dir, config, args, extra_eal)?;
    let output = command.output().context("starting pinhole")?;
    let summary = read_summary(&summary_path)?;
    Ok(RunResult { output, summary })
}

/// A `pinhole run` in the background (output to files in its scratch directory),
/// stopped by [`RunningPinhole::stop`] with SIGINT; killed if dropped still running.
#[derive(Debug)]
pub struct RunningPinhole {
    child: Option<Child>,
    summary_path: PathBuf,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
}

/// Start `pinhole run` like [`run_pinhole`] without waiting for it.
pub fn spawn_pinhole(
    dir: &Scratch,
    config: &serde_json::Value,
    args: &[&str],
    extra_eal: &[&str],
) -> anyhow::Result<RunningPinhole> {
    let (mut command, summary_path) = pinhole_run_command(dir, config, args, extra_eal)?;
    let stdout_path = dir.join("pinhole.stdout");
    let stderr_path = dir.join("pinhole.stderr");
    let child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path)?)
        .stderr(std::fs::File::create(&stderr_path)?)
        .spawn()
        .context("starting pinhole")?;
    Ok(RunningPinhole {
        child: Some(child),
        summary_path,
        stdout_path,
        stderr_path,
    })
}

impl RunningPinhole {
    /// Whether the engine is still running (false once it exited, e.g. on a bad config).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// What the engine wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Stop the engine as an operator would (SIGINT), wait up to `grace` for its report
    /// (then kill it), and read its summary.
    pub fn stop(mut self, grace: Duration) -> anyhow::Result<RunResult> {
        let mut child = self
            .child
            .take()
            .context("the engine was already stopped")?;
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + grace;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                break child.wait()?;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let output = Output {
            status,
            stdout: std::fs::read(&self.stdout_path).unwrap_or_default(),
            stderr: std::fs::read(&self.stderr_path).unwrap_or_default(),
        };
        let summary = read_summary(&self.summary_path)?;
        Ok(RunResult { output, summary })
    }
}

impl Drop for RunningPinhole {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The unsigned number at JSON `pointer` in `v`.
pub fn num(v: &serde_json::Value, pointer: &str) -> anyhow::Result<u64> {
    v.pointer(pointer)
        .and_then(serde_json::Value::as_u64)
        .with_context(|| format!("no number at {pointer} in the summary"))
}

/// The packets of a pcap file, payload bytes only, in file order.
pub fn pcap_packets(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = pcap_file::pcap::PcapReader::new(file)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut packets = Vec::new();
    while let Some(packet) = reader.next_packet() {
        packets.push(
            packet
                .with_context(|| format!("reading {}", path.display()))?
                .data
                .into_owned(),
        );
    }
    Ok(packets)
}

/// Write a pcap file (Ethernet link type) holding `frames`, a millisecond apart.
pub fn write_pcap(path: &Path, frames: &[Vec<u8>]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = pcap_file::pcap::PcapWriter::new(file)
        .with_context(|| format!("writing {}", path.display()))?;
    for (i, frame) in frames.iter().enumerate() {
        let len = u32::try_from(frame.len()).context("frame too long")?;
        w.write_packet(&pcap_file::pcap::PcapPacket::new(
            Duration::from_millis(u64::try_from(i).unwrap_or(u64::MAX)),
            len,
            frame,
        ))
        .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Write a pcap file (Ethernet link type) holding no packet.
pub fn write_empty_pcap(path: &Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    pcap_file::pcap::PcapWriter::new(file)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
