//! The performance harness.
//!
//! - `baseline`: forward between two `net_null` ports with the engine, then with
//!   `dpdk-testpmd --forward-mode=io` on the same cores and devices; print Mpps for both
//!   and the ratio. A benchmark, never an assertion.
//! - `gen-demo`: write the demo capture shipped in `configs/demo/`.

mod baseline;
mod demo_capture;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// pinhole performance harness.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Engine vs dpdk-testpmd (io forwarding) on net_null ports, same cores.
    Baseline(baseline::Options),
    /// Write the demo capture (a SIP call with RTP and a little other traffic).
    GenDemo {
        /// Where to write it.
        #[arg(long, default_value = "configs/demo/demo.pcap")]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Baseline(opts) => baseline::run(&opts),
        Command::GenDemo { out } => {
            let frames = demo_capture::frames();
            demo_capture::write_pcap(&out, &frames)?;
            println!("{}: {} frames", out.display(), frames.len());
            Ok(())
        }
    }
}
