//! The throughput harness: NDR (zero loss) and PDR (at most 0.5 % loss) by binary
//! search, RFC 2544 style, for the engine and for `dpdk-testpmd --forward-mode=io` on
//! the same core and memif ports; a table on stdout and a JSON record in `perf/results/`.
//! `load` runs one fixed-rate trial (the SIP call load, or any profile) and reports it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;
use serde_json::Value;

use crate::dut::{generator_eal, DutKind, DutSpec, Policy, RunningDut};
use crate::generator::{Generator, Learning, TrialReport};
use crate::profile::sessions::SessionMix;
use crate::profile::sip::SipCalls;
use crate::profile::udp::UdpFlows;
use crate::profile::Source;
use crate::search::{best_of, Bound, Search, TrialResult};

/// Which traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// UDP over K flows, one frame size.
    Udp,
    /// IMIX of UDP and established TCP over M sessions.
    Sessions,
    /// SIP calls with RTP.
    Sip,
}

/// Options shared by `ndr` and `load`.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Traffic profile.
    #[arg(long, value_enum, default_value_t = ProfileKind::Udp)]
    profile: ProfileKind,
    /// UDP flows (udp profile).
    #[arg(long, default_value_t = 1024)]
    flows: u32,
    /// Frame size on the wire, FCS included (udp profile).
    #[arg(long, default_value_t = 64)]
    frame_size: usize,
    /// Sessions (sessions profile).
    #[arg(long, default_value_t = 10_000)]
    sessions: u32,
    /// Call hold time in milliseconds (sip profile).
    #[arg(long, default_value_t = 2_000)]
    hold_ms: u64,
    /// Engine policy (default: voice for sip, firewall otherwise).
    #[arg(long, value_enum)]
    policy: Option<Policy>,
    /// Seconds of traffic per trial.
    #[arg(long, default_value_t = 2.0)]
    trial_secs: f64,
    /// The generator's core (its EAL main lcore).
    #[arg(long, default_value_t = 0)]
    gen_core: u32,
    /// The DUT's forwarding core.
    #[arg(long, default_value_t = 1)]
    dut_core: u32,
    /// The DUT's main lcore.
    #[arg(long, default_value_t = 0)]
    dut_main_core: u32,
    /// The pinhole binary (default: next to this one).
    #[arg(long)]
    pinhole: Option<PathBuf>,
    /// The testpmd binary.
    #[arg(long, default_value = "dpdk-testpmd")]
    testpmd: PathBuf,
    /// Generator EAL arguments replacing the memif defaults (bare metal: `-l 2 -a
    /// 0000:3b:00.0 -a 0000:3b:00.1`); use with `--dut external` and `--gen-ports`.
    #[arg(long, allow_hyphen_values = true, num_args = 1.., value_delimiter = ' ')]
    gen_eal: Option<Vec<String>>,
    /// The generator's two ports, inside then outside (default: the memif pair).
    #[arg(long, value_delimiter = ',', default_value = "net_memif0,net_memif1")]
    gen_ports: Vec<String>,
    /// Learning rate (frames per second) for the sessions the trials use.
    #[arg(long, default_value_t = 200_000.0)]
    learn_pps: f64,
}

/// Options of `ndr`.
#[derive(clap::Args, Debug)]
pub struct NdrOptions {
    #[command(flatten)]
    common: Common,
    /// Devices to measure, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "engine,testpmd"
    )]
    dut: Vec<DutKind>,
    /// Highest rate tried (pps, or calls/s for sip); capped by what the generator reaches.
    #[arg(long)]
    max_rate: Option<f64>,
    /// Search resolution, relative to the rate found.
    #[arg(long, default_value_t = 0.02)]
    resolution: f64,
    /// Attempts added to a trial that lost frames (the best counts): filters out a
    /// shared machine's scheduling hiccups; 0 (plain RFC 2544) on a dedicated machine.
    #[arg(long, default_value_t = 0)]
    retries: usize,
    /// Restart the device before every trial (default: for sip, whose calls leave
    /// state behind when a trial overloads the device).
    #[arg(long)]
    fresh_dut: Option<bool>,
    /// Trials per device at most.
    #[arg(long, default_value_t = 14)]
    max_trials: usize,
    /// Directory for the JSON record (none: do not write).
    #[arg(long, default_value = "perf/results")]
    out: Option<PathBuf>,
    /// A label for the record's file name.
    #[arg(long)]
    label: Option<String>,
}

/// Options of `load`.
#[derive(clap::Args, Debug)]
pub struct LoadOptions {
    #[command(flatten)]
    common: Common,
    /// The device.
    #[arg(long, value_enum, default_value_t = DutKind::Engine)]
    dut: DutKind,
    /// Rate (pps, or calls/s for sip).
    #[arg(long)]
    rate: f64,
    /// Write the report here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn source(c: &Common) -> Box<dyn Source> {
    match c.profile {
        ProfileKind::Udp => Box::new(UdpFlows::new(
            c.flows,
            c.frame_size.saturating_sub(4).max(crate::frames::MIN_FRAME),
        )),
        ProfileKind::Sessions => Box::new(SessionMix::new(c.sessions)),
        ProfileKind::Sip => Box::new(SipCalls::new(c.hold_ms)),
    }
}

fn policy(c: &Common) -> Policy {
    c.policy.unwrap_or(match c.profile {
        ProfileKind::Sip => Policy::Voice,
        _ => Policy::Firewall,
    })
}

/// Trials' extra time: SIP calls in progress run to their BYE.
fn tail(c: &Common) -> Duration {
    match c.profile {
        ProfileKind::Sip => Duration::from_millis(c.hold_ms + 1_000),
        _ => Duration::ZERO,
    }
}

/// The generator, its working directory, and the DUT specification.
struct Bench {
    generator: Generator,
    spec: DutSpec,
    dir: PathBuf,
}

impl Bench {
    fn open(c: &Common, kind: DutKind) -> anyhow::Result<Bench> {
        let dir = std::env::temp_dir().join(format!("pinhole-perf-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let socket = dir.join("memif.sock");
        let eal = match &c.gen_eal {
            Some(args) => args.clone(),
            None => generator_eal(
                &socket,
                c.gen_core,
                &format!("pinhole-perf-gen-{}", std::process::id()),
            ),
        };
        let [inside, outside] = c.gen_ports.as_slice() else {
            bail!("--gen-ports needs two ports");
        };
        let generator = Generator::open(&eal, [inside, outside])?;
        let pinhole = match &c.pinhole {
            Some(p) => p.clone(),
            None => std::env::current_exe()?
                .parent()
                .context("no parent directory")?
                .join("pinhole"),
        };
        let sessions = match c.profile {
            ProfileKind::Udp => u64::from(c.flows),
            ProfileKind::Sessions => u64::from(c.sessions),
            ProfileKind::Sip => 1 << 20,
        };
        let spec = DutSpec {
            kind,
            pinhole,
            testpmd: c.testpmd.clone(),
            main_core: c.dut_main_core,
            core: c.dut_core,
            socket,
            policy: policy(c),
            sessions: sessions * 2,
            dir: dir.clone(),
        };
        Ok(Bench {
            generator,
            spec,
            dir,
        })
    }

    /// Start the DUT, wait for the path, send the learning rounds.
    fn start(
        &mut self,
        kind: DutKind,
        c: &Common,
        src: &mut dyn Source,
    ) -> anyhow::Result<(RunningDut, Learning)> {
        self.spec.kind = kind;
        let mut dut = RunningDut::start(&self.spec)?;
        if !self.generator.wait_for_path(Duration::from_secs(30)) {
            let exited = dut.exited();
            bail!("{kind:?}: no frame came through within 30 s (exited: {exited:?})");
        }
        let l = self.generator.learn(src, c.learn_pps);
        if l.resent > 0 || l.missing > 0 {
            eprintln!(
                "{kind:?}: learning: {} frames sent, {} resent, {} never came through",
                l.sent, l.resent, l.missing
            );
        }
        Ok((dut, l))
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // The generator's EAL runtime directory (DPDK leaves it behind).
        let prefix = format!("pinhole-perf-gen-{}", std::process::id());
        let _ = std::fs::remove_dir_all(crate::dut::eal_runtime_dir(&prefix));
    }
}

/// One device's search.
#[derive(Debug, Serialize)]
struct DutResult {
    dut: DutKind,
    /// Highest rate the generator reached against this device (frames/s; for SIP, the
    /// frames/s of the maximum call rate, not measured).
    generator_ceiling_fps: f64,
    /// Maximum rate searched.
    max_rate: f64,
    ndr: Bound,
    pdr: Bound,
    /// NDR in frames per second.
    ndr_fps: f64,
    /// DUT core cycles per frame at NDR (core TSC rate / NDR frames per second): an
    /// upper bound, the polling core is busy even when idle.
    cycles_per_frame_at_ndr: Option<f64>,
    /// Whether the NDR is the top of the searched range (for packet rates, 95 % of the
    /// generator's ceiling): the device may do better.
    generator_limited: bool,
    learning: Learning,
    trials: Vec<TrialReport>,
    engine_summary: Option<Value>,
}

/// Machine and software the figures come from.
#[derive(Debug, Serialize)]
struct Machine {
    cpu: String,
    cpus: usize,
    tsc_hz: u64,
    dpdk: String,
    kernel: String,
}

fn machine(tsc_hz: u64) -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    let out = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    Machine {
        cpu,
        // Not available_parallelism: the EAL pinned this thread to one core.
        cpus: std::fs::read_to_string("/proc/cpuinfo")
            .map(|t| t.lines().filter(|l| l.starts_with("processor")).count())
            .unwrap_or(0),
        tsc_hz,
        dpdk: out("pkg-config", &["--modversion", "libdpdk"]),
        kernel: out("uname", &["-sr"]),
    }
}

/// The whole record written to `perf/results/`.
#[derive(Debug, Serialize)]
struct Record {
    date: String,
    command: String,
    machine: Machine,
    profile: ProfileKind,
    rate_unit: &'static str,
    parameters: Value,
    /// Extra attempts allowed for a trial that lost frames.
    retries: usize,
    results: Vec<DutResult>,
}

fn parameters(c: &Common) -> Value {
    serde_json::json!({
        "flows": c.flows, "frame_size": c.frame_size, "sessions": c.sessions,
        "hold_ms": c.hold_ms, "policy": policy(c), "trial_secs": c.trial_secs,
        "gen_core": c.gen_core, "dut_core": c.dut_core,
    })
}

fn today() -> String {
    std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn default_max_rate(p: ProfileKind) -> f64 {
    match p {
        ProfileKind::Sip => 2_000.0,
        _ => 20_000_000.0,
    }
}

/// Run `ndr`.
pub fn run_ndr(o: &NdrOptions) -> anyhow::Result<()> {
    let c = &o.common;
    let first = o.dut.first().copied().context("no --dut")?;
    let mut bench = Bench::open(c, first)?;
    let mut results = Vec::new();
    for &kind in &o.dut {
        let mut src = source(c);
        let (dut, learning) = bench.start(kind, c, src.as_mut())?;
        let mut dut = Some(dut);
        let fresh = o.fresh_dut.unwrap_or(c.profile == ProfileKind::Sip);
        let fps_per_rate = src.frames_per_second(1.0);
        // Calibration: what the generator reaches against this device, flat out. Only
        // for packet rates: SIP user agents wait for delivery, so a flat-out call rate
        // measures the device's signalling round trips, not the generator.
        let wanted = o.max_rate.unwrap_or(default_max_rate(c.profile));
        let ceiling_fps = if c.profile == ProfileKind::Sip {
            src.frames_per_second(wanted)
        } else {
            let flat_out =
                bench
                    .generator
                    .trial(src.as_mut(), wanted * 10.0, c.trial_secs.min(1.0), tail(c));
            flat_out.offered_fps
        };
        let max_rate = wanted.min(ceiling_fps / fps_per_rate * 0.95);
        println!(
            "{kind:?}: generator ceiling {:.3} M frames/s; searching up to {max_rate:.1} {}",
            ceiling_fps / 1e6,
            src.rate_unit()
        );
        let mut reports = Vec::new();
        let search = Search::new(max_rate, o.resolution, &[0.0, 0.005]).run(o.max_trials, |rate| {
            let (t, _) = best_of(o.retries, || {
                if fresh {
                    // A stateful device keeps what an overloaded trial left behind
                    // (abandoned calls' dialogs and pinholes, seconds of queued
                    // frames): each trial gets a device started afresh.
                    if let Some(d) = dut.take() {
                        d.stop()?;
                    }
                    dut = Some(bench.start(kind, c, src.as_mut())?.0);
                }
                let r = bench.generator.trial(src.as_mut(), rate, c.trial_secs, tail(c));
                println!(
                    "  trial {:>12.1} {}: offered {:>10} received {:>10} loss {:>8.4} % (refused {}) p50 {} ns p99 {} ns",
                    rate, src.rate_unit(), r.sent(), r.received_total(), r.loss_ratio() * 100.0, r.tx_refused, r.latency.p50_ns, r.latency.p99_ns
                );
                let t = TrialResult { rate, sent: r.sent(), received: r.received_total() };
                reports.push(r);
                Ok::<_, anyhow::Error>(t)
            })?;
            Ok::<_, anyhow::Error>(t)
        })?;
        let summary = match dut.take() {
            Some(d) => d.stop()?,
            None => None,
        };
        let (ndr, pdr) = match search.bounds() {
            [ndr, pdr] => (*ndr, *pdr),
            _ => bail!("search lost a threshold"),
        };
        let ndr_fps = ndr.pass * fps_per_rate;
        results.push(DutResult {
            dut: kind,
            generator_ceiling_fps: ceiling_fps,
            max_rate,
            ndr,
            pdr,
            ndr_fps,
            cycles_per_frame_at_ndr: (ndr_fps > 0.0)
                .then(|| bench.generator.tsc_hz() as f64 / ndr_fps),
            generator_limited: ndr.pass >= max_rate,
            learning,
            trials: reports,
            engine_summary: summary,
        });
    }
    let unit = source(c).rate_unit();
    print_table(&results, unit);
    let record = Record {
        date: today(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine: machine(bench.generator.tsc_hz()),
        profile: c.profile,
        rate_unit: unit,
        parameters: parameters(c),
        retries: o.retries,
        results,
    };
    if let Some(dir) = &o.out {
        std::fs::create_dir_all(dir)?;
        let name = format!(
            "{}-{}.json",
            record.date,
            o.label
                .clone()
                .unwrap_or_else(|| format!("{:?}", c.profile).to_lowercase())
        );
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&record)?)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn print_table(results: &[DutResult], unit: &str) {
    let testpmd = results
        .iter()
        .find(|r| r.dut == DutKind::Testpmd)
        .map(|r| r.ndr.pass);
    println!();
    println!("| DUT | NDR ({unit}) | NDR Mframes/s | PDR ({unit}) | cycles/frame at NDR | NDR / testpmd | p50 / p99 latency at NDR |");
    println!("|---|---|---|---|---|---|---|");
    for r in results {
        // The best attempt at the NDR rate (a lossless one; with retries, there may be
        // failed attempts at the same rate before it).
        let at_ndr = r
            .trials
            .iter()
            .filter(|t| t.rate == r.ndr.pass)
            .min_by(|a, b| a.loss_ratio().total_cmp(&b.loss_ratio()));
        let lat = at_ndr
            .map(|t| {
                format!(
                    "{:.1} / {:.1} µs",
                    t.latency.p50_ns as f64 / 1e3,
                    t.latency.p99_ns as f64 / 1e3
                )
            })
            .unwrap_or_else(|| "-".into());
        let ratio = testpmd
            .filter(|t| *t > 0.0)
            .map(|t| format!("{:.2}", r.ndr.pass / t))
            .unwrap_or_else(|| "-".into());
        println!(
            "| {:?}{} | {:.0} | {:.3} | {:.0} | {} | {} | {} |",
            r.dut,
            if r.generator_limited {
                " (at the search ceiling)"
            } else {
                ""
            },
            r.ndr.pass,
            r.ndr_fps / 1e6,
            r.pdr.pass,
            r.cycles_per_frame_at_ndr
                .map(|c| format!("{c:.0}"))
                .unwrap_or_else(|| "-".into()),
            ratio,
            lat
        );
    }
}

/// Run `load`: one trial at a fixed rate.
pub fn run_load(o: &LoadOptions) -> anyhow::Result<()> {
    let c = &o.common;
    let mut bench = Bench::open(c, o.dut)?;
    let mut src = source(c);
    let (dut, learning) = bench.start(o.dut, c, src.as_mut())?;
    let r = bench
        .generator
        .trial(src.as_mut(), o.rate, c.trial_secs, tail(c));
    let summary = dut.stop()?;
    let names = ["udp", "tcp", "sip", "rtp", "setup"];
    println!(
        "{:?} at {} {} for {} s ({:.3} M frames/s offered)",
        c.profile,
        o.rate,
        src.rate_unit(),
        c.trial_secs,
        r.offered_fps / 1e6
    );
    for (i, name) in names.iter().enumerate().take(4) {
        let (sent, got) = (r.offered[i], r.received[i]);
        if sent > 0 || got > 0 {
            println!(
                "  {name:<4} sent {sent:>10} received {got:>10} lost {:>8}",
                sent.saturating_sub(got)
            );
        }
    }
    println!(
        "  total sent {} received {} loss {:.4} % (refused by the port {}, misrouted {})",
        r.sent(),
        r.received_total(),
        r.loss_ratio() * 100.0,
        r.tx_refused,
        r.misrouted
    );
    let l = &r.latency;
    println!(
        "  latency ns: min {} p50 {} p90 {} p99 {} p99.9 {} max {} ({} samples)",
        l.min_ns, l.p50_ns, l.p90_ns, l.p99_ns, l.p999_ns, l.max_ns, l.count
    );
    if let Some(path) = &o.json {
        let v = serde_json::json!({"report": r, "parameters": parameters(c), "dut": o.dut, "learning": learning,
            "generator_ports": bench.generator.port_stats(), "engine_summary": summary});
        std::fs::write(path, serde_json::to_vec_pretty(&v)?)?;
    }
    Ok(())
}
