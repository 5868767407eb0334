//! The `pinhole` binary: `run`, `check`, `replay`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pinhole_control::config;

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
    /// Replay a capture through the pipeline and write a JSON verdict report.
    Replay(pinhole_control::replay::ReplayArgs),
}

fn main() -> ExitCode {
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
        Command::Replay(args) => match pinhole_control::replay::run_cli(&args) {
            Ok(summary) => {
                eprintln!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("pinhole replay: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
