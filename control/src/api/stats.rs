//! `GET /stats` and `GET /metrics`: the engine's live counters, as JSON and in the
//! Prometheus text exposition format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use pinhole_dataplane::engine::commands::InspectorSnapshot;
use pinhole_dataplane::engine::counters::CounterSnapshot;
use pinhole_dataplane::engine::{PortReport, WorkerView};
use pinhole_dataplane::pipeline::sum_counter_values;
use pinhole_dataplane::policy::Policy;
use pinhole_dataplane::stats::CounterTable;
use pinhole_dataplane::Dataplane;
use serde::Serialize;
use serde_json::Value;

/// Everything `GET /stats` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    /// Seconds since the engine started.
    pub uptime_secs: u64,
    /// Version of the policy in force.
    pub policy_version: u64,
    /// DPDK counters per port.
    pub ports: Vec<PortReport>,
    /// Per worker.
    pub workers: Vec<WorkerStats>,
    /// Sums over the workers.
    pub totals: CounterSnapshot,
    /// Per zone pair of the policy in force (summed over workers).
    pub zone_pairs: Vec<NamedTraffic>,
    /// Per class (`policy-map/class`) of the policy in force.
    pub classes: Vec<NamedTraffic>,
    /// Per interface, received and sent.
    pub interfaces: Vec<InterfaceTraffic>,
    /// Pipeline drops by reason (summed over workers; reasons that occurred).
    pub drops: BTreeMap<String, u64>,
    /// Inspector counters.
    pub inspectors: InspectorStats,
}

/// One worker's counters.
#[derive(Clone, Debug, Serialize)]
pub struct WorkerStats {
    /// Worker index.
    pub worker: usize,
    /// Its lcore.
    pub lcore: u32,
    /// Its loop counters.
    #[serde(flatten)]
    pub counters: CounterSnapshot,
    /// Its pipeline's counters.
    pub pipeline: PipelineCounters,
}

/// A pipeline's headline counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PipelineCounters {
    /// Packets judged.
    pub packets: u64,
    /// Forwarded.
    pub forwarded: u64,
    /// Dropped.
    pub dropped: u64,
    /// Held for reassembly.
    pub consumed: u64,
    /// Packets of existing sessions.
    pub session_hits: u64,
    /// Sessions created by `inspect`.
    pub sessions_inspected: u64,
    /// Child sessions created from pinholes.
    pub sessions_from_pinholes: u64,
    /// Sessions ended.
    pub sessions_ended: u64,
    /// New flows passed statelessly.
    pub stateless_passes: u64,
}

/// Traffic of one named policy element.
#[derive(Clone, Debug, Serialize)]
pub struct NamedTraffic {
    /// Its name.
    pub name: String,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Sessions created under it.
    pub sessions: u64,
}

/// Traffic of one interface.
#[derive(Clone, Debug, Serialize)]
pub struct InterfaceTraffic {
    /// Interface name.
    pub name: String,
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets forwarded out of it.
    pub tx_packets: u64,
    /// Bytes forwarded out of it.
    pub tx_bytes: u64,
}

/// Inspector counters.
#[derive(Clone, Debug, Serialize)]
pub struct InspectorStats {
    /// The shared pinhole table.
    pub pinholes: BTreeMap<&'static str, u64>,
    /// SIP dialogs and registrations followed now.
    pub sip_dialogs: u64,
    /// Skinny stations known now.
    pub skinny_stations: u64,
    /// SIP inspector counters (summed over workers and parameter maps).
    pub sip: Value,
    /// Skinny inspector counters and the pipeline's inspector glue.
    pub skinny: Value,
}

fn traffic(names: impl Iterator<Item = String>, tables: &[&CounterTable]) -> Vec<NamedTraffic> {
    names
        .enumerate()
        .map(|(i, name)| {
            let mut t = NamedTraffic {
                name,
                packets: 0,
                bytes: 0,
                sessions: 0,
            };
            for table in tables {
                if let Some(c) = table.get(i) {
                    t.packets += c.packets.get();
                    t.bytes += c.bytes.get();
                    t.sessions += c.sessions.get();
                }
            }
            t
        })
        .collect()
}

/// The field-wise sum of `values` (an empty object when there are none).
fn sum_all(values: impl Iterator<Item = Value>) -> Value {
    sum_counter_values(values).unwrap_or_else(|| Value::Object(serde_json::Map::new()))
}

/// Collect the statistics.
pub fn collect(
    dataplane: &Dataplane,
    policy: &Policy,
    uptime_secs: u64,
    ports: Vec<PortReport>,
    workers: &[WorkerView],
    inspectors: &[InspectorSnapshot],
) -> Stats {
    let mut totals = CounterSnapshot::default();
    let mut drops = BTreeMap::new();
    for w in workers {
        totals.add(&w.counters);
        for (reason, n) in w.pipeline.drops_by_name() {
            *drops.entry(reason.to_owned()).or_default() += n;
        }
    }
    let zp_tables: Vec<&CounterTable> = workers.iter().map(|w| &w.pipeline.zone_pairs).collect();
    let class_tables: Vec<&CounterTable> = workers.iter().map(|w| &w.pipeline.classes).collect();
    let interfaces = policy
        .interfaces
        .iter()
        .enumerate()
        .map(|(i, itf)| {
            let mut t = InterfaceTraffic {
                name: itf.name.clone(),
                rx_packets: 0,
                rx_bytes: 0,
                tx_packets: 0,
                tx_bytes: 0,
            };
            for w in workers {
                if let Some(c) = w.pipeline.interfaces_in.get(i) {
                    t.rx_packets += c.packets.get();
                    t.rx_bytes += c.bytes.get();
                }
                if let Some(c) = w.pipeline.interfaces_out.get(i) {
                    t.tx_packets += c.packets.get();
                    t.tx_bytes += c.bytes.get();
                }
            }
            t
        })
        .collect();
    let pc = &dataplane.pinholes.counters;
    let pinholes = BTreeMap::from([
        ("opened", pc.opened.load(Ordering::Relaxed)),
        ("refreshed", pc.refreshed.load(Ordering::Relaxed)),
        ("closed", pc.closed.load(Ordering::Relaxed)),
        ("expired", pc.expired.load(Ordering::Relaxed)),
        ("refused_full", pc.refused_full.load(Ordering::Relaxed)),
        ("open", dataplane.pinholes.len()),
    ]);
    Stats {
        uptime_secs,
        policy_version: policy.version,
        ports,
        workers: workers
            .iter()
            .map(|w| {
                let p = &w.pipeline;
                WorkerStats {
                    worker: w.worker,
                    lcore: w.lcore,
                    counters: w.counters.clone(),
                    pipeline: PipelineCounters {
                        packets: p.packets.get(),
                        forwarded: p.forwarded.get(),
                        dropped: p.dropped.get(),
                        consumed: p.consumed.get(),
                        session_hits: p.session_hits.get(),
                        sessions_inspected: p.sessions_inspected.get(),
                        sessions_from_pinholes: p.sessions_from_pinholes.get(),
                        sessions_ended: p.sessions_ended.get(),
                        stateless_passes: p.stateless_passes.get(),
                    },
                }
            })
            .collect(),
        totals,
        zone_pairs: traffic(policy.zone_pairs.iter().map(|z| z.name.clone()), &zp_tables),
        classes: traffic(policy.class_names.iter().cloned(), &class_tables),
        interfaces,
        drops,
        inspectors: InspectorStats {
            pinholes,
            sip_dialogs: dataplane.algs.sip.len() as u64,
            skinny_stations: dataplane.algs.skinny.len() as u64,
            sip: sum_all(
                inspectors
                    .iter()
                    .flat_map(|i| i.sip.iter())
                    .filter_map(|c| serde_json::to_value(c).ok()),
            ),
            skinny: sum_all(
                inspectors
                    .iter()
                    .filter_map(|i| serde_json::to_value(i.glue).ok()),
            ),
        },
    }
}

/// A Prometheus label value, escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Write one metric family.
fn family<'a>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Option<(&'a str, String)>, u64)>,
) {
    let _ = writeln!(out, "# HELP pinhole_{name} {help}");
    let _ = writeln!(out, "# TYPE pinhole_{name} {kind}");
    for (labels, value) in samples {
        match labels {
            Some((k, v)) => {
                let _ = writeln!(out, "pinhole_{name}{{{k}=\"{}\"}} {value}", label(&v));
            }
            None => {
                let _ = writeln!(out, "pinhole_{name} {value}");
            }
        }
    }
}

/// Flatten a JSON object of counters into `(field, value)` pairs (nested objects
/// become `outer_inner`).
fn counters_of(prefix: &str, v: &Value, out: &mut Vec<(String, u64)>) {
    if let Value::Object(map) = v {
        for (k, v) in map {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}_{k}")
            };
            match v {
                Value::Number(n) => {
                    if let Some(n) = n.as_u64() {
                        out.push((name, n));
                    }
                }
                Value::Object(_) => counters_of(&name, v, out),
                _ => {}
            }
        }
    }
}

/// The statistics in the Prometheus text format.
pub fn prometheus(s: &Stats) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "uptime_seconds",
        "gauge",
        "Seconds since the engine started.",
        [(None, s.uptime_secs)],
    );
    family(
        &mut out,
        "policy_version",
        "gauge",
        "Version of the policy in force.",
        [(None, s.policy_version)],
    );
    let port = |f: fn(&PortReport) -> u64| {
        s.ports
            .iter()
            .map(move |p| (Some(("port", p.name.clone())), f(p)))
            .collect::<Vec<_>>()
    };
    family(
        &mut out,
        "port_rx_packets_total",
        "counter",
        "Packets the port received (DPDK).",
        port(|p| p.stats.ipackets),
    );
    family(
        &mut out,
        "port_tx_packets_total",
        "counter",
        "Packets the port sent (DPDK).",
        port(|p| p.stats.opackets),
    );
    family(
        &mut out,
        "port_rx_bytes_total",
        "counter",
        "Bytes the port received (DPDK).",
        port(|p| p.stats.ibytes),
    );
    family(
        &mut out,
        "port_tx_bytes_total",
        "counter",
        "Bytes the port sent (DPDK).",
        port(|p| p.stats.obytes),
    );
    family(
        &mut out,
        "port_rx_missed_total",
        "counter",
        "Packets the port dropped, RX queues full (DPDK).",
        port(|p| p.stats.imissed),
    );
    family(
        &mut out,
        "port_rx_errors_total",
        "counter",
        "Erroneous packets received (DPDK).",
        port(|p| p.stats.ierrors),
    );
    family(
        &mut out,
        "port_tx_errors_total",
        "counter",
        "Failed transmissions (DPDK).",
        port(|p| p.stats.oerrors),
    );
    let worker = |f: fn(&WorkerStats) -> u64| {
        s.workers
            .iter()
            .map(move |w| (Some(("worker", w.worker.to_string())), f(w)))
            .collect::<Vec<_>>()
    };
    family(
        &mut out,
        "worker_rx_packets_total",
        "counter",
        "Packets a worker received.",
        worker(|w| w.counters.rx_packets),
    );
    family(
        &mut out,
        "worker_tx_packets_total",
        "counter",
        "Packets a worker sent.",
        worker(|w| w.counters.tx_packets),
    );
    family(
        &mut out,
        "worker_dropped_total",
        "counter",
        "Packets a worker dropped, whatever the cause.",
        worker(|w| w.counters.dropped()),
    );
    family(
        &mut out,
        "worker_session_hits_total",
        "counter",
        "Packets of existing sessions.",
        worker(|w| w.pipeline.session_hits),
    );
    family(
        &mut out,
        "worker_sessions_created_total",
        "counter",
        "Sessions created (inspect and pinholes).",
        worker(|w| w.pipeline.sessions_inspected + w.pipeline.sessions_from_pinholes),
    );
    family(
        &mut out,
        "worker_sessions_ended_total",
        "counter",
        "Sessions ended.",
        worker(|w| w.pipeline.sessions_ended),
    );
    family(
        &mut out,
        "drops_total",
        "counter",
        "Packets the pipeline dropped, by reason.",
        s.drops
            .iter()
            .map(|(r, n)| (Some(("reason", r.clone())), *n)),
    );
    for (name, what, list) in [
        ("zone_pair", "zone pair", &s.zone_pairs),
        ("class", "class (policy-map/class)", &s.classes),
    ] {
        family(
            &mut out,
            &format!("{name}_packets_total"),
            "counter",
            &format!("Packets per {what}."),
            list.iter()
                .map(|t| (Some((name, t.name.clone())), t.packets)),
        );
        family(
            &mut out,
            &format!("{name}_sessions_total"),
            "counter",
            &format!("Sessions created per {what}."),
            list.iter()
                .map(|t| (Some((name, t.name.clone())), t.sessions)),
        );
    }
    family(
        &mut out,
        "pinholes",
        "counter",
        "Pinhole table events (open: a gauge of pinholes open now).",
        s.inspectors
            .pinholes
            .iter()
            .map(|(k, n)| (Some(("event", (*k).to_owned())), *n)),
    );
    family(
        &mut out,
        "sip_dialogs",
        "gauge",
        "SIP dialogs and registrations followed.",
        [(None, s.inspectors.sip_dialogs)],
    );
    family(
        &mut out,
        "skinny_stations",
        "gauge",
        "Skinny stations known.",
        [(None, s.inspectors.skinny_stations)],
    );
    for (alg, value) in [("sip", &s.inspectors.sip), ("skinny", &s.inspectors.skinny)] {
        let mut fields = Vec::new();
        counters_of("", value, &mut fields);
        family(
            &mut out,
            &format!("{alg}_inspector_total"),
            "counter",
            &format!("{alg} inspector counters, by counter."),
            fields.into_iter().map(|(k, n)| (Some(("counter", k)), n)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn summed_counters_flatten_to_metric_names() {
        let a = serde_json::json!({"x": 1, "y": {"z": 2}, "s": "k"});
        let b = serde_json::json!({"x": 3, "y": {"z": 4}, "s": "j"});
        let total = sum_all([a, b].into_iter());
        assert_eq!(total, serde_json::json!({"x": 4, "y": {"z": 6}, "s": "k"}));
        assert_eq!(sum_all(std::iter::empty()), serde_json::json!({}));
        let mut flat = Vec::new();
        counters_of("", &total, &mut flat);
        assert_eq!(flat, [("x".to_owned(), 4), ("y_z".to_owned(), 6)]);
    }
}
