//! The `pinhole` binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use pinhole_control::run::{self, RunOptions, RunPlan};

/// pinhole: DPDK forwarding engine with a zone-based firewall and SIP/SCCP ALGs.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

fn seconds(s: Option<f64>) -> Result<Option<Duration>, String> {
    s.map(|s| Duration::try_from_secs_f64(s).map_err(|_| format!("invalid number of seconds: {s}")))
        .transpose()
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            duration,
            exit_when_idle,
            summary_json,
            mbufs,
            quiet,
            eal,
        } => {
            let result = (|| -> anyhow::Result<run::RunSummary> {
                let opts = RunOptions {
                    duration: seconds(duration).map_err(anyhow::Error::msg)?,
                    exit_when_idle: seconds(exit_when_idle).map_err(anyhow::Error::msg)?,
                    summary_json,
                    mbufs,
                };
                let plan = RunPlan::from_file(&config)?;
                run::run(&plan, &eal, &opts)
            })();
            match result {
                Ok(summary) => {
                    if !quiet {
                        print!("{}", summary.human());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("pinhole: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
