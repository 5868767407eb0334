//! Engine vs `dpdk-testpmd --forward-mode=io`, same devices (two `net_null` ports, an
//! endless source and sink), same worker core, same memory settings.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

/// Options of `baseline`.
#[derive(clap::Args, Debug)]
pub struct Options {
    /// Seconds each side forwards.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The forwarding core (the main lcore is the lowest other core).
    #[arg(long, default_value_t = 1)]
    core: u32,
    /// The main lcore.
    #[arg(long, default_value_t = 0)]
    main_core: u32,
    /// The pinhole binary (default: next to this one).
    #[arg(long)]
    pinhole: Option<PathBuf>,
    /// The testpmd binary.
    #[arg(long, default_value = "dpdk-testpmd")]
    testpmd: PathBuf,
}

const EAL: &[&str] = &[
    "--no-huge",
    "--no-pci",
    "-m",
    "1024",
    "--vdev",
    "net_null0",
    "--vdev",
    "net_null1",
];

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.parent().context("no parent directory")?.join(name))
}

/// Forwarded packets per second of the engine (both directions).
fn engine_mpps(opts: &Options, dir: &Path) -> anyhow::Result<f64> {
    let bin = match &opts.pinhole {
        Some(p) => p.clone(),
        None => sibling("pinhole")?,
    };
    let config = serde_json::json!({
        "eal": EAL,
        "workers": {"cores": [opts.core]},
        "interfaces": [{"name": "a", "port": "net_null0"}, {"name": "b", "port": "net_null1"}],
        "forwarding": {"mode": "virtual-wire", "pairs": [["a", "b"]]}
    });
    let config_path = dir.join("perf.json");
    let summary_path = dir.join("perf-summary.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
    let lcores = format!("{},{}", opts.main_core, opts.core);
    let status = Command::new(&bin)
        .args(["run", "--quiet", "--config"])
        .arg(&config_path)
        .args(["--duration", &opts.seconds.to_string(), "--summary-json"])
        .arg(&summary_path)
        .args([
            "--",
            "--file-prefix",
            &format!("pinhole-perf-{}", std::process::id()),
        ])
        .args(["-l", &lcores, "--main-lcore", &opts.main_core.to_string()])
        .status()
        .with_context(|| format!("starting {}", bin.display()))?;
    if !status.success() {
        bail!("{} failed ({status})", bin.display());
    }
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary_path)?)?;
    let tx = summary
        .pointer("/totals/tx_packets")
        .and_then(|v| v.as_u64())
        .context("no totals.tx_packets")?;
    let secs = summary
        .pointer("/duration_secs")
        .and_then(|v| v.as_f64())
        .context("no duration_secs")?;
    Ok(tx as f64 / secs / 1e6)
}

/// testpmd's steady-state forwarding rate: its per-period Tx-pps of both ports, summed,
/// averaged over the periods after the first (warm-up).
fn testpmd_mpps(opts: &Options) -> anyhow::Result<f64> {
    let lcores = format!("{},{}", opts.main_core, opts.core);
    let child = Command::new(&opts.testpmd)
        .args(["-l", &lcores, "--main-lcore", &opts.main_core.to_string()])
        .args([
            "--file-prefix",
            &format!("testpmd-perf-{}", std::process::id()),
        ])
        .args(EAL)
        .args([
            "--",
            "--forward-mode=io",
            "--stats-period",
            "1",
            "--total-num-mbufs=32768",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", opts.testpmd.display()))?;
    std::thread::sleep(Duration::from_secs(opts.seconds));
    // testpmd prints its final statistics and exits cleanly on SIGINT.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let output = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_testpmd_tx_pps(&text).context("no Tx-pps lines in testpmd's output")
}

/// Average over stats periods (skipping the first) of the summed `Tx-pps:` of all ports,
/// in Mpps. Periods are delimited by port 0's block.
pub fn parse_testpmd_tx_pps(text: &str) -> Option<f64> {
    let mut periods: Vec<f64> = Vec::new();
    let mut current: Option<f64> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.contains("NIC statistics for port 0") {
            periods.extend(current.take());
            current = Some(0.0);
        }
        if let Some(rest) = line.strip_prefix("Tx-pps:") {
            let pps: f64 = rest.split_whitespace().next()?.parse().ok()?;
            if let Some(c) = current.as_mut() {
                *c += pps;
            }
        }
    }
    periods.extend(current);
    let steady: Vec<f64> = periods.into_iter().skip(1).collect();
    (!steady.is_empty()).then(|| steady.iter().sum::<f64>() / steady.len() as f64 / 1e6)
}

/// Run both and print the comparison.
pub fn run(opts: &Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("pinhole-perf-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "baseline: 2 x net_null, forwarding core {}, {} s each",
        opts.core, opts.seconds
    );
    let engine = engine_mpps(opts, &dir)?;
    println!("pinhole      {engine:8.2} Mpps");
    let testpmd = testpmd_mpps(opts)?;
    println!("dpdk-testpmd {testpmd:8.2} Mpps (io forwarding)");
    println!("ratio        {:8.2} (pinhole / testpmd)", engine / testpmd);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testpmd_periods_are_summed_over_ports_and_the_first_is_skipped() {
        let text = "\
  ######################## NIC statistics for port 0  ########################
  Tx-pps:            5          Tx-bps:            0
  ######################## NIC statistics for port 1  ########################
  Tx-pps:            5          Tx-bps:            0
  ######################## NIC statistics for port 0  ########################
  Tx-pps:      1000000          Tx-bps:            0
  ######################## NIC statistics for port 1  ########################
  Tx-pps:      2000000          Tx-bps:            0
  ######################## NIC statistics for port 0  ########################
  Tx-pps:      2000000          Tx-bps:            0
  ######################## NIC statistics for port 1  ########################
  Tx-pps:      3000000          Tx-bps:            0
";
        assert_eq!(parse_testpmd_tx_pps(text), Some(4.0));
        assert_eq!(parse_testpmd_tx_pps("nothing"), None);
    }
}
