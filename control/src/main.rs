//! The `pinhole` binary: `run`, `check`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use pinhole_control::config;
use pinhole_control::run::{self, RunOptions};

/// pinhole: DPDK forwarding engine with a zone-based firewall and SIP/SCCP ALGs.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a configuration and print every problem with its JSON path.
    Check {
        /// The configuration file (JSON).
        #[arg(long)]
        config: PathBuf,
        /// Extra EAL arguments (as `pinhole run` would append them).
        #[arg(last = true)]
        eal: Vec<String>,
    },
    /// Run the engine on DPDK ports until SIGINT/SIGTERM (or --duration / --exit-when-idle).
    Run {
        /// The configuration file (JSON).
        #[arg(long)]
        config: PathBuf,
        /// Stop after this many seconds.
        #[arg(long, value_name = "SECS")]
        duration: Option<f64>,
        /// Stop once no packet has arrived for this many seconds.
        #[arg(long, value_name = "SECS")]
        exit_when_idle: Option<f64>,
        /// Write the final summary as JSON to this file.
        #[arg(long, value_name = "FILE")]
        summary_json: Option<PathBuf>,
        /// Mbufs in the packet pool (default: sized from ports and workers).
        #[arg(long)]
        mbufs: Option<u32>,
        /// Do not print the human summary.
        #[arg(long)]
        quiet: bool,
        /// Extra EAL arguments, after `--`.
        #[arg(last = true)]
        eal: Vec<String>,
    },
    /// Replay a capture through the pipeline and write a JSON verdict report.
    Replay(pinhole_control::replay::ReplayArgs),
}

fn seconds(s: Option<f64>) -> anyhow::Result<Option<Duration>> {
    s.map(|s| {
        Duration::try_from_secs_f64(s)
            .map_err(|_| anyhow::anyhow!("invalid number of seconds: {s}"))
    })
    .transpose()
}

fn init_logging() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
}

/// Print an error, one `pinhole: ` line per line of it.
fn report_error(e: &dyn std::fmt::Display) -> ExitCode {
    for line in e.to_string().lines() {
        eprintln!("pinhole: {line}");
    }
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config: path, eal } => match config::load(&path, &eal) {
            Ok(c) => {
                let p = config::compile(&c, 1);
                println!(
                    "{}: valid ({} interfaces, {} zones, {} zone pairs, {} policy maps)",
                    path.display(),
                    p.interfaces.len(),
                    p.zones.len(),
                    p.zone_pairs.len(),
                    p.policy_maps.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Command::Run {
            config: path,
            duration,
            exit_when_idle,
            summary_json,
            mbufs,
            quiet,
            eal,
        } => {
            let result = (|| -> anyhow::Result<run::RunSummary> {
                let opts = RunOptions {
                    duration: seconds(duration)?,
                    exit_when_idle: seconds(exit_when_idle)?,
                    summary_json,
                    mbufs,
                };
                let config = config::load(&path, &eal)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                run::run(&config, &eal, &opts)
            })();
            match result {
                Ok(summary) => {
                    if !quiet {
                        print!("{}", summary.human());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => report_error(&e),
            }
        }
        Command::Replay(args) => match pinhole_control::replay::run_cli(&args) {
            Ok(summary) => {
                eprintln!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => report_error(&e),
        },
    }
}
