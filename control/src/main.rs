//! The `pinhole` binary: `run`, `check`, `replay`, `ctl`.

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
        /// Serve the REST API on this address (e.g. 127.0.0.1:0 for any free port),
        /// overriding `control.listen` and turning the API on.
        #[arg(long, value_name = "ADDR")]
        control_listen: Option<String>,
        /// Write the REST API's bound address to this file once it listens.
        #[arg(long, value_name = "FILE")]
        control_addr_file: Option<PathBuf>,
        /// Extra EAL arguments, after `--`.
        #[arg(last = true)]
        eal: Vec<String>,
    },
    /// Replay a capture through the pipeline and write a JSON verdict report.
    Replay(pinhole_control::replay::ReplayArgs),
    /// Talk to a running engine's REST API (show, clear, apply).
    Ctl(pinhole_control::ctl::CtlArgs),
}

fn seconds(s: Option<f64>) -> anyhow::Result<Option<Duration>> {
    s.map(|s| {
        Duration::try_from_secs_f64(s)
            .map_err(|_| anyhow::anyhow!("invalid number of seconds: {s}"))
    })
    .transpose()
}

/// Structured logs on stderr. The filter is `PINHOLE_LOG`, else `RUST_LOG`, else
/// `level` (the configuration's `logging.level` for `run`), else `warn`.
fn init_logging(level: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = ["PINHOLE_LOG", "RUST_LOG"]
        .iter()
        .find_map(|var| EnvFilter::try_from_env(var).ok())
        .or_else(|| level.and_then(|l| EnvFilter::try_new(l).ok()))
        .unwrap_or_else(|| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .try_init();
}

/// Print an error, one `pinhole: ` line per line of it.
fn report_error(e: &dyn std::fmt::Display) -> ExitCode {
    for line in e.to_string().lines() {
        eprintln!("pinhole: {line}");
    }
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run { .. }) {
        init_logging(None);
    }
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
            control_listen,
            control_addr_file,
            eal,
        } => {
            let result = (|| -> anyhow::Result<run::RunSummary> {
                let opts = RunOptions {
                    duration: seconds(duration)?,
                    exit_when_idle: seconds(exit_when_idle)?,
                    summary_json,
                    mbufs,
                    control_listen,
                    control_addr_file,
                };
                let config = config::load(&path, &eal)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
                init_logging(config.as_ref().ok().map(|c| c.logging.level.as_str()));
                let config = config?;
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
        Command::Ctl(args) => match pinhole_control::ctl::run_cli(&args) {
            Ok(out) => {
                print!("{out}");
                ExitCode::SUCCESS
            }
            Err(e) => report_error(&e),
        },
        Command::Replay(args) => match pinhole_control::replay::run_cli(&args) {
            Ok(summary) => {
                eprintln!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => report_error(&e),
        },
    }
}
