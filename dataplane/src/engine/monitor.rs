//! A live view of a running engine for the control plane: the workers' counters (read
//! without locks), their pipeline statistics, and the command channels to their
//! session shards. Cloneable and `Send`, so an API thread can hold it while the
//! control thread keeps the [`super::Engine`] (and its ports).

use std::sync::Arc;

use super::commands::WorkerCommands;
use super::counters::{CounterSnapshot, WorkerCounters};
use crate::pipeline::PipelineStats;

/// What the control plane may read from, and ask of, a running engine.
#[derive(Clone, Debug)]
pub struct EngineMonitor {
    pub(super) lcores: Vec<u32>,
    pub(super) counters: Vec<Arc<WorkerCounters>>,
    pub(super) pipeline_stats: Vec<Arc<PipelineStats>>,
    pub(super) commands: WorkerCommands,
    pub(super) clock: dpdk_sys::TscClock,
}

/// One worker's live numbers.
#[derive(Clone, Debug)]
pub struct WorkerView {
    /// Worker index.
    pub worker: usize,
    /// The lcore it runs on.
    pub lcore: u32,
    /// Its loop counters.
    pub counters: CounterSnapshot,
    /// Its pipeline's counters (shared atomics).
    pub pipeline: Arc<PipelineStats>,
}

impl EngineMonitor {
    /// Every worker's numbers now.
    pub fn workers(&self) -> Vec<WorkerView> {
        self.lcores
            .iter()
            .zip(&self.counters)
            .zip(&self.pipeline_stats)
            .enumerate()
            .map(|(worker, ((&lcore, counters), pipeline))| WorkerView {
                worker,
                lcore,
                counters: counters.snapshot(),
                pipeline: Arc::clone(pipeline),
            })
            .collect()
    }

    /// The workers' clock now (what pinhole, dialog and station times are measured on).
    pub fn now(&self) -> crate::time::Timestamp {
        crate::time::Timestamp(self.clock.now_nanos())
    }

    /// The workers' command channels (session dumps and clears, inspector counters).
    pub fn commands(&self) -> &WorkerCommands {
        &self.commands
    }
}
