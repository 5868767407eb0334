//! What the engine reports when it stops (serialisable for `--summary-json`).

use serde::Serialize;

use super::counters::CounterSnapshot;

/// The engine's final report.
#[derive(Clone, Debug, Serialize)]
pub struct EngineReport {
    /// Seconds between start and stop.
    pub duration_secs: f64,
    /// How both directions of a flow were kept on one worker.
    pub steering: crate::steer::Steering,
    /// One entry per port, in first-use order.
    pub ports: Vec<PortReport>,
    /// One entry per worker.
    pub workers: Vec<WorkerReport>,
    /// Pool occupancy after the ports closed.
    pub mempool: MempoolReport,
    /// The SIP and Skinny inspectors' counters summed over the workers, and the
    /// pinholes and SIP dialogs still open at stop.
    pub inspectors: crate::pipeline::InspectorCounters,
}

/// One port's DPDK statistics at stop.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PortReport {
    /// Device name.
    pub name: String,
    /// DPDK port id.
    pub port_id: u16,
    /// RSS hash functions in effect (0: off).
    pub rss_hf: u64,
    /// Whether the statistics could be read.
    pub stats_read: bool,
    /// Whether the port closed cleanly.
    pub closed: bool,
    /// DPDK's counters (zero when `stats_read` is false).
    #[serde(flatten)]
    pub stats: dpdk_sys::PortStats,
}

impl PortReport {
    /// A report from what the port said.
    pub fn new(
        name: String,
        port_id: u16,
        rss_hf: u64,
        stats: Option<dpdk_sys::PortStats>,
        closed: bool,
    ) -> Self {
        PortReport {
            name,
            port_id,
            rss_hf,
            stats_read: stats.is_some(),
            closed,
            stats: stats.unwrap_or_default(),
        }
    }
}

/// One worker's counters at stop.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WorkerReport {
    /// Worker index.
    pub worker: usize,
    /// The lcore it ran on.
    pub lcore: u32,
    /// What the worker function returned (0 = clean).
    pub exit_status: i32,
    /// Its counters.
    #[serde(flatten)]
    pub counters: CounterSnapshot,
    /// The pipeline's own headline counters.
    pub pipeline: crate::pipeline::PipelineSummary,
    /// Packets handed to and from other workers (software steering).
    pub handoff: super::handoff::HandoffSnapshot,
}

/// Mempool occupancy.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct MempoolReport {
    /// Buffers the pool was created with.
    pub size: u32,
    /// Buffers free.
    pub available: u32,
    /// Buffers taken.
    pub in_use: u32,
}

impl EngineReport {
    /// Totals over all workers.
    pub fn totals(&self) -> CounterSnapshot {
        let mut t = CounterSnapshot::default();
        for w in &self.workers {
            t.add(&w.counters);
        }
        t
    }
}
