//! The performance harness.
//!
//! - `baseline`: forward between two `net_null` ports with the engine, then with
//!   `dpdk-testpmd --forward-mode=io` on the same cores and devices; print Mpps for both
//!   and the ratio. A benchmark, never an assertion.
//! - `ndr`: NDR/PDR binary search (RFC 2544 style) of the engine and of testpmd on the
//!   same core and memif ports, driven by the project's own generator; table and JSON.
//! - `load`: one fixed-rate trial of a traffic profile (SIP call load, UDP, sessions).
//! - `pktgen-profile`: pcap files and a Lua script for pktgen-dpdk on bare metal.
//! - `gen-demo`: write the demo capture shipped in `configs/demo/`.

mod baseline;
mod demo_capture;
mod dut;
mod frames;
mod generator;
mod latency;
mod ndr;
mod pktgen;
mod profile;
mod search;
mod stamp;

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
    /// NDR and PDR of the engine and dpdk-testpmd with the project's generator.
    Ndr(ndr::NdrOptions),
    /// One fixed-rate trial of a traffic profile; sent, received, loss, latency.
    Load(ndr::LoadOptions),
    /// Write pcap files and a Lua script pktgen-dpdk replays (bare metal).
    PktgenProfile(pktgen::Options),
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
        Command::Ndr(opts) => ndr::run_ndr(&opts),
        Command::Load(opts) => ndr::run_load(&opts),
        Command::PktgenProfile(opts) => pktgen::run(&opts),
        Command::GenDemo { out } => {
            let frames = demo_capture::frames();
            demo_capture::write_pcap(&out, &frames)?;
            println!("{}: {} frames", out.display(), frames.len());
            Ok(())
        }
    }
}
