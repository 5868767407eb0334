//! `pinhole replay`: run a capture through the sans-IO pipeline and report what every
//! packet, flow and pinhole came to.
//!
//! Each packet gets its ingress interface by its source address and an egress by its
//! destination address ([`ifaces`]); a packet whose ingress equals its egress would not
//! cross the engine and is only counted (`not_crossing`). Frames without a readable IP
//! source (non-IP, malformed) enter on the first interface of the configuration and the
//! pipeline judges them. An IPv4 header checksum of zero (checksum offload on the
//! capturing host) is filled in before the packet is judged (`checksums_filled`). Packets are processed in file order, one per burst, with the
//! capture's timestamps (absolute nanoseconds, held monotonic: a timestamp earlier than
//! the previous packet's is taken as the previous one) as the clock. Nothing is aged
//! after the last packet: the report describes the state at the last packet's time
//! (pregenerated pinholes whose idle timeout has passed by then are reported expired).
//!
//! Layout: [`capture`] (pcap / pcapng reading), [`linktype`] (to Ethernet), [`ifaces`]
//! (address to interface), [`flows`] (per-flow accounting), [`report`] (the JSON),
//! [`output`] (`--out` pcaps), [`time`] (timestamps as report values).

pub mod capture;
pub mod flows;
pub mod ifaces;
pub mod linktype;
pub mod output;
pub mod report;
pub mod time;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use pinhole_dataplane::packet::{self, Parsed};
use pinhole_dataplane::pipeline::{DataplaneSettings, Event};
use pinhole_dataplane::policy::Policy;
use pinhole_dataplane::{Dataplane, IfaceId, Pipeline, Timestamp, Verdict, WorkerId};

use crate::config;
use capture::{Capture, CapturedFrame};
use flows::{FlowKey, FlowTable, PacketFacts, PacketOutcome};
pub use ifaces::{IfaceOverride, InterfaceMap};
use output::OutputDir;
pub use report::Report;
use report::{
    iface_name, CaptureInfo, EventRecord, InspectorCounters, PacketCounts, PinholeRecord,
    SipDialogRecord, StatsReport,
};

/// Most events a report lists; the rest are counted in `events_truncated`.
pub const MAX_EVENTS: usize = 10_000;

/// Drop reason name for packets no interface prefix covers.
pub const NO_INGRESS_INTERFACE: &str = "no_ingress_interface";

/// Why a replay could not run. Each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The configuration could not be loaded.
    #[error("config {path}: {message}")]
    Config {
        /// The file.
        path: String,
        /// Every issue, `; `-separated.
        message: String,
    },
    /// The capture could not be opened.
    #[error("capture {path}: {source}")]
    CaptureOpen {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is neither pcap nor pcapng.
    #[error("capture {0}: not a pcap or pcapng file")]
    NotACapture(String),
    /// The capture is damaged.
    #[error("capture {path}: {message}")]
    CaptureRead {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A link type replay does not read.
    #[error("capture {path}: unsupported link type {link_type} (supported: Ethernet 1, raw IP 101/12/14/228/229, Linux cooked 113/276, loopback 0/108)")]
    UnsupportedLinkType {
        /// The file.
        path: String,
        /// Its pcap link type number.
        link_type: u32,
    },
    /// `--iface` is not `NAME=PREFIX`.
    #[error("--iface {0}: expected NAME=PREFIX (e.g. inside=10.0.0.0/8)")]
    BadIfaceArg(String),
    /// `--iface` names an interface the configuration does not have.
    #[error("--iface: no interface named {name:?} (interfaces: {known})")]
    UnknownInterface {
        /// The name given.
        name: String,
        /// The configuration's interfaces.
        known: String,
    },
    /// Writing `--out` or the report failed.
    #[error("{path}: {message}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// What to replay and how.
#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    /// The configuration file.
    pub config: PathBuf,
    /// The capture.
    pub pcap: PathBuf,
    /// `--iface NAME=PREFIX` overrides.
    pub iface_overrides: Vec<IfaceOverride>,
    /// `--out DIR`.
    pub out_dir: Option<PathBuf>,
    /// `--midstream`: pick up TCP sessions whose handshake the capture missed.
    pub midstream: bool,
}

/// `pinhole replay` arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct ReplayArgs {
    /// The configuration file (JSON).
    #[arg(long)]
    pub config: PathBuf,
    /// The capture (pcap or pcapng).
    #[arg(long)]
    pub pcap: PathBuf,
    /// Put PREFIX behind interface NAME (repeatable; wins over configured prefixes of
    /// the same length).
    #[arg(long = "iface", value_name = "NAME=PREFIX")]
    pub iface: Vec<String>,
    /// Write what each interface sends to `DIR/<interface>.pcap`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where to write the JSON report (`-` for stdout).
    #[arg(long, value_name = "FILE|-")]
    pub report: String,
    /// Pick up TCP sessions already established when the capture starts.
    #[arg(long)]
    pub midstream: bool,
}

/// Run `pinhole replay` with parsed arguments: replay, write the report, and return a
/// one-line summary for the caller to print.
pub fn run_cli(args: &ReplayArgs) -> Result<String, ReplayError> {
    let iface_overrides = args
        .iface
        .iter()
        .map(|s| s.parse())
        .collect::<Result<Vec<IfaceOverride>, _>>()?;
    let report = replay(&ReplayOptions {
        config: args.config.clone(),
        pcap: args.pcap.clone(),
        iface_overrides,
        out_dir: args.out.clone(),
        midstream: args.midstream,
    })?;
    write_report(&report, &args.report)?;
    let p = &report.packets;
    Ok(format!(
        "{}: {} packets, {} forwarded, {} dropped, {} not crossing, {} held; {} flows, {} pinholes",
        args.pcap.display(),
        p.total,
        p.forwarded,
        p.dropped,
        p.not_crossing,
        p.consumed,
        report.flows.len(),
        report.pinholes.len()
    ))
}

/// Write `report` as pretty JSON to `dest` (`-` is stdout).
pub fn write_report(report: &Report, dest: &str) -> Result<(), ReplayError> {
    let err = |e: String| ReplayError::Output {
        path: if dest == "-" {
            "stdout".into()
        } else {
            dest.into()
        },
        message: e,
    };
    let mut json = serde_json::to_vec_pretty(report).map_err(|e| err(e.to_string()))?;
    json.push(b'\n');
    if dest == "-" {
        std::io::stdout()
            .lock()
            .write_all(&json)
            .map_err(|e| err(e.to_string()))
    } else {
        std::fs::write(dest, json).map_err(|e| err(e.to_string()))
    }
}

/// Load the configuration and replay the capture through it.
pub fn replay(opts: &ReplayOptions) -> Result<Report, ReplayError> {
    let cfg = config::load(&opts.config, &[]).map_err(|e| ReplayError::Config {
        path: opts.config.display().to_string(),
        message: match &e {
            config::ConfigError::Invalid(issues) => issues
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            config::ConfigError::Read { source, .. } => source.to_string(),
        },
    })?;
    let mut policy = config::compile(&cfg, 1);
    if opts.midstream {
        policy.sessions.midstream_pickup = true;
    }
    let mut capture = Capture::open(&opts.pcap)?;
    let mut out = match &opts.out_dir {
        Some(dir) => Some(OutputDir::create(dir, &policy)?),
        None => None,
    };
    let mut replayer = Replayer::new(policy, &opts.iface_overrides)?;
    while let Some(frame) = capture.next_frame() {
        replayer.feed(frame?, out.as_mut())?;
    }
    if let Some(out) = out {
        out.finish()?;
    }
    Ok(replayer.finish(CaptureSource {
        file: opts.pcap.display().to_string(),
        format: capture.format(),
        link_types: capture.link_types().iter().map(|l| l.as_str()).collect(),
    }))
}

/// Where the frames came from, for the report.
#[derive(Clone, Debug, Default)]
pub struct CaptureSource {
    /// The file.
    pub file: String,
    /// `pcap` or `pcapng`.
    pub format: &'static str,
    /// Link type names.
    pub link_types: Vec<&'static str>,
}

/// The replay engine, fed one frame at a time (usable without files, e.g. in tests).
pub struct Replayer {
    dp: Arc<Dataplane>,
    pipeline: Pipeline,
    policy: Arc<Policy>,
    map: InterfaceMap,
    flows: FlowTable,
    counts: PacketCounts,
    no_ingress: u64,
    events: Vec<Event>,
    events_truncated: u64,
    first_ns: Option<u64>,
    now: Timestamp,
}

impl Replayer {
    /// A replayer for `policy` (its `sessions.midstream_pickup` already set as wanted).
    pub fn new(policy: Policy, overrides: &[IfaceOverride]) -> Result<Self, ReplayError> {
        let map = InterfaceMap::new(&policy, overrides)?;
        let settings = DataplaneSettings {
            keep_history: true,
            ..Default::default()
        };
        let dp = Dataplane::with_settings(policy, settings);
        let pipeline = dp.worker(WorkerId(0));
        Ok(Replayer {
            policy: dp.policy(),
            dp,
            pipeline,
            map,
            flows: FlowTable::default(),
            counts: PacketCounts::default(),
            no_ingress: 0,
            events: Vec::new(),
            events_truncated: 0,
            first_ns: None,
            now: Timestamp(0),
        })
    }

    /// Replay one frame; forwarded frames go to `out` when given.
    pub fn feed(
        &mut self,
        frame: CapturedFrame,
        mut out: Option<&mut OutputDir>,
    ) -> Result<(), ReplayError> {
        let CapturedFrame { time_ns, mut frame } = frame;
        self.counts.total += 1;
        if linktype::fill_offloaded_ipv4_checksum(&mut frame) {
            self.counts.checksums_filled += 1;
        }
        self.first_ns.get_or_insert(time_ns);
        let now = Timestamp(time_ns.max(self.now.0));
        self.now = now;

        let key = match packet::parse(&frame) {
            Ok(Parsed::Ip(s)) => Some(FlowKey::of(&s)),
            Ok(Parsed::NonIp(_)) | Err(_) => None,
        };
        let (ingress, egress) = match key {
            Some(k) => (self.map.lookup(k.src.ip()), self.map.lookup(k.dst.ip())),
            None => (Some(IfaceId(0)), None),
        };
        let mut facts = key.map(|key| PacketFacts {
            key,
            time_ns,
            ingress,
            egress,
            forwarded_to: None,
            zone_pair: None,
            decided_by: "",
            outcome: PacketOutcome::Dropped,
        });
        let Some(ingress) = ingress else {
            self.no_ingress += 1;
            if let Some(mut f) = facts {
                f.decided_by = NO_INGRESS_INTERFACE;
                self.flows.record(f);
            }
            return Ok(());
        };
        if egress == Some(ingress) {
            self.counts.not_crossing += 1;
            if let Some(mut f) = facts {
                f.decided_by = "not_crossing";
                f.outcome = PacketOutcome::NotCrossing;
                self.flows.record(f);
            }
            return Ok(());
        }

        let p = &mut self.pipeline;
        p.begin_burst(now);
        let verdict = p.process(&mut frame, ingress, now);
        let (decided, zone_pair) = p.last_decision();
        p.end_burst(now);
        let outcome = match verdict {
            Verdict::Forward(e) => {
                self.counts.forwarded += 1;
                if let Some(o) = out.as_deref_mut() {
                    o.write(e, time_ns, &frame)?;
                }
                PacketOutcome::Forwarded
            }
            Verdict::Drop(_) => PacketOutcome::Dropped,
            Verdict::Consumed => {
                self.counts.consumed += 1;
                PacketOutcome::Consumed
            }
        };
        if let Some(f) = facts.as_mut() {
            f.forwarded_to = match verdict {
                Verdict::Forward(e) => Some(e),
                _ => None,
            };
            f.zone_pair = zone_pair;
            f.decided_by = decided.as_str();
            f.outcome = outcome;
        }
        if let Some(f) = facts {
            self.flows.record(f);
        }
        let emitted: Vec<(IfaceId, Vec<u8>)> = self.pipeline.take_emitted().collect();
        for (egress, bytes) in emitted {
            self.counts.emitted += 1;
            if let Ok(Parsed::Ip(s)) = packet::parse(&bytes) {
                self.flows.record_emitted(FlowKey::of(&s), egress);
            }
            if let Some(o) = out.as_deref_mut() {
                o.write(egress, time_ns, &bytes)?;
            }
        }
        for e in self.pipeline.take_events() {
            if self.events.len() < MAX_EVENTS {
                self.events.push(e);
            } else {
                self.events_truncated += 1;
            }
        }
        Ok(())
    }

    /// The report, describing the state at the last packet's time.
    pub fn finish(self, source: CaptureSource) -> Report {
        let policy = &*self.policy;
        let last = self.now;
        // Pregenerated pinholes idle past their timeout by the last packet are expired;
        // active ones are untouched (no session aging happens here).
        self.dp.pinholes.sweep(last);
        let stats = self.pipeline.stats();
        let mut drops: BTreeMap<String, u64> = stats
            .drops_by_name()
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect();
        if self.no_ingress > 0 {
            drops.insert(NO_INGRESS_INTERFACE.to_string(), self.no_ingress);
        }
        let mut counts = self.counts;
        counts.dropped = drops.values().sum();
        let have_packets = self.first_ns.is_some();
        let pinholes: Vec<PinholeRecord> = self
            .dp
            .pinholes
            .history()
            .iter()
            .map(|p| PinholeRecord::of(p))
            .collect();
        Report {
            capture: CaptureInfo {
                file: source.file,
                format: source.format,
                link_types: source.link_types,
                first_time: self.first_ns.map(time::seconds),
                last_time: have_packets.then(|| time::seconds(last.0)),
                last_time_iso: have_packets.then(|| time::iso8601(last.0)),
            },
            packets: counts,
            drops,
            flows: self.flows.records(
                |i| iface_name(policy, i),
                |z| {
                    policy
                        .zone_pairs
                        .get(usize::from(z.0))
                        .map(|z| z.name.clone())
                },
            ),
            sip_dialogs: SipDialogRecord::collect(&self.dp, &pinholes, last),
            pinholes,
            inspectors: InspectorCounters::collect(&self.dp, [&self.pipeline]),
            events: self
                .events
                .iter()
                .map(|e| EventRecord::of(e, policy))
                .collect(),
            events_truncated: self.events_truncated,
            stats: StatsReport::of(stats, policy),
        }
    }
}
