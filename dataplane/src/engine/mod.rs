//! The DPDK worker loop that drives the pipeline from real ports.
//!
//! [`Engine::start`] resolves the policy's ports, sets each up with one RX and one TX
//! queue per worker, and launches one worker per configured lcore; [`Engine::stop`]
//! stops the workers, stops and closes the ports (drivers flush their output) and
//! returns an [`EngineReport`] with port statistics, worker counters, the inspectors'
//! counters with the pinholes and SIP dialogs still open, and the mempool's occupancy
//! (every mbuf must be back).
//!
//! Both directions of a flow are judged by one worker (its session lives in that
//! worker's shard): multi-queue ports get a symmetric RSS key, and where a port cannot
//! spread flows that way (or `workers.steering` says so) workers hand packets to the
//! flow's owner in software ([`handoff`]).

pub mod commands;
pub mod counters;
pub mod handoff;
pub mod monitor;
pub mod portmap;
pub mod report;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam::channel::{Receiver, Sender};

use dpdk_sys::{
    Eal, LaunchedWorker, Lcore, Mempool, Port, PortConfig, PortId, TscClock, BURST_SIZE,
};

use self::commands::WorkerCommands;
use self::counters::WorkerCounters;
use self::handoff::HandoffCounters;
pub use self::monitor::{EngineMonitor, WorkerView};
use self::portmap::PortMap;
pub use self::report::{EngineReport, MempoolReport, PortReport, WorkerReport};
use self::worker::{Worker, WorkerPort};
use crate::ids::WorkerId;
use crate::pipeline::{Dataplane, Event, InspectorCounters, Pipeline, PipelineStats};
use crate::steer::{Steering, SteeringMode};

/// How to run the engine (beyond the policy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// One worker per lcore, in this order (worker i runs on `worker_lcores[i]`).
    pub worker_lcores: Vec<u32>,
    /// Descriptors per RX queue (adjusted to the device limits).
    pub rx_desc: u16,
    /// Descriptors per TX queue (adjusted to the device limits).
    pub tx_desc: u16,
    /// Mbufs in the pool; `None` sizes it from ports, queues and descriptors.
    pub mbufs: Option<u32>,
    /// How both directions of a flow are kept on one worker.
    pub steering: SteeringMode,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            worker_lcores: vec![1],
            rx_desc: 1024,
            tx_desc: 1024,
            mbufs: None,
            steering: SteeringMode::Auto,
        }
    }
}

/// Events a worker may queue for the control thread before it counts them lost.
const EVENT_CHANNEL: usize = 4096;

/// Per-lcore mempool cache: big enough to serve a few bursts without the shared ring.
const MEMPOOL_CACHE: u32 = 256;

/// Why the engine could not start. Messages name the configuration path at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No worker lcore configured.
    #[error("workers.cores: at least one worker core is needed")]
    NoWorkers,
    /// The policy has no interface, hence no port.
    #[error("interfaces: at least one interface is needed")]
    NoInterfaces,
    /// A worker lcore appears twice.
    #[error("workers.cores[{index}]: core {core} is listed twice")]
    DuplicateCore {
        /// Position in the list.
        index: usize,
        /// The core.
        core: u32,
    },
    /// A worker lcore the EAL did not enable.
    #[error(
        "workers.cores[{index}]: core {core} is not an enabled DPDK lcore (check -l/--lcores)"
    )]
    LcoreNotEnabled {
        /// Position in the list.
        index: usize,
        /// The core.
        core: u32,
    },
    /// A worker lcore that is the main (control) lcore.
    #[error(
        "workers.cores[{index}]: core {core} is the main lcore; workers need cores of their own"
    )]
    LcoreIsMain {
        /// Position in the list.
        index: usize,
        /// The core.
        core: u32,
    },
    /// An interface names a port DPDK does not have.
    #[error("interfaces[{iface}].port: no DPDK port named {name:?}")]
    NoSuchPort {
        /// Index of the first interface on that port.
        iface: usize,
        /// The device name.
        name: String,
    },
    /// The port exists but cannot be set up as needed.
    #[error("interfaces[{iface}].port: {source}")]
    Port {
        /// Index of the first interface on that port.
        iface: usize,
        /// What DPDK said.
        source: dpdk_sys::Error,
    },
    /// A started port lacks the queue a worker needs (a driver that ignored the setup).
    #[error("interfaces[{iface}].port: queue {queue} is missing after setup")]
    QueueMissing {
        /// Index of the first interface on that port.
        iface: usize,
        /// The queue.
        queue: u16,
    },
    /// The packet-buffer pool could not be created.
    #[error("mbuf pool of {size} buffers: {source} (more memory: -m or hugepages)")]
    Mempool {
        /// Buffers requested.
        size: u32,
        /// What DPDK said.
        source: dpdk_sys::Error,
    },
    /// `workers.steering` is `rss` but a port cannot spread flows symmetrically.
    #[error("interfaces[{iface}].port: workers.steering is \"rss\" but {name:?} cannot spread flows over its RX queues with a symmetric RSS hash (use \"auto\" or \"handoff\")")]
    NoSymmetricRss {
        /// Index of the first interface on that port.
        iface: usize,
        /// The device name.
        name: String,
    },
    /// The hand-off rings could not be created.
    #[error("workers.steering: hand-off rings: {source} (more memory: -m or hugepages)")]
    HandoffRings {
        /// What DPDK said.
        source: dpdk_sys::Error,
    },
    /// A worker could not be launched.
    #[error("workers.cores[{index}]: {source}")]
    Launch {
        /// Position in the list.
        index: usize,
        /// What DPDK said.
        source: dpdk_sys::Error,
    },
}

/// A running engine.
pub struct Engine {
    stop: Arc<AtomicBool>,
    workers: Vec<(u32, LaunchedWorker)>,
    counters: Vec<Arc<WorkerCounters>>,
    handoff_counters: Vec<Arc<HandoffCounters>>,
    pipeline_stats: Vec<Arc<PipelineStats>>,
    steering: Steering,
    events: Receiver<Event>,
    /// The workers' pipelines, handed back when they stop.
    finished: Receiver<Pipeline>,
    dataplane: Arc<Dataplane>,
    commands: WorkerCommands,
    clock: TscClock,
    ports: Vec<Port>,
    pool: Arc<Mempool>,
    started: Instant,
}

fn check_lcores(lcores: &[u32]) -> Result<(), EngineError> {
    if lcores.is_empty() {
        return Err(EngineError::NoWorkers);
    }
    for (index, &core) in lcores.iter().enumerate() {
        if lcores.iter().take(index).any(|&c| c == core) {
            return Err(EngineError::DuplicateCore { index, core });
        }
        if !Lcore(core).is_enabled() {
            return Err(EngineError::LcoreNotEnabled { index, core });
        }
        if Lcore(core) == Lcore::main() {
            return Err(EngineError::LcoreIsMain { index, core });
        }
    }
    Ok(())
}

/// Mbufs needed so no queue ever starves: every descriptor filled, every cache full,
/// every worker's bursts in flight, plus slack.
pub fn pool_size(ports: usize, workers: usize, rx_desc: u16, tx_desc: u16) -> u32 {
    let queues = ports.saturating_mul(workers);
    let descriptors = queues.saturating_mul(usize::from(rx_desc) + usize::from(tx_desc));
    let in_flight = workers.saturating_mul(MEMPOOL_CACHE as usize + 2 * BURST_SIZE * (ports + 1));
    let wanted = descriptors
        .saturating_add(in_flight)
        .saturating_add(handoff::mbufs_needed(workers))
        .saturating_add(1024)
        .max(4096);
    // A power of two minus one is the ring-friendly size DPDK recommends.
    let rounded = wanted
        .checked_next_power_of_two()
        .unwrap_or(wanted)
        .saturating_sub(1);
    u32::try_from(rounded).unwrap_or(u32::MAX)
}

impl Engine {
    /// Set up the ports of `dataplane`'s policy and start one worker per lcore.
    pub fn start(
        eal: &Eal,
        dataplane: &Arc<Dataplane>,
        cfg: &EngineConfig,
    ) -> Result<Engine, EngineError> {
        let policy = dataplane.policy();
        let map = PortMap::from_policy(&policy);
        if map.slots.is_empty() {
            return Err(EngineError::NoInterfaces);
        }
        check_lcores(&cfg.worker_lcores)?;
        for slot in &map.slots {
            PortId::by_name(&slot.device).map_err(|_| EngineError::NoSuchPort {
                iface: slot.first_iface,
                name: slot.device.clone(),
            })?;
        }
        let workers = cfg.worker_lcores.len();
        let queues = u16::try_from(workers).map_err(|_| EngineError::NoWorkers)?;

        let size = cfg
            .mbufs
            .unwrap_or_else(|| pool_size(map.slots.len(), workers, cfg.rx_desc, cfg.tx_desc));
        let pool = Mempool::create("pinhole_mbufs", size, MEMPOOL_CACHE, -1)
            .map(Arc::new)
            .map_err(|source| EngineError::Mempool { size, source })?;

        let port_cfg = PortConfig {
            rx_queues: queues,
            tx_queues: queues,
            rx_desc: cfg.rx_desc,
            tx_desc: cfg.tx_desc,
            promiscuous: true,
        };
        let mut ports = Vec::with_capacity(map.slots.len());
        for slot in &map.slots {
            let port_err = |source| EngineError::Port {
                iface: slot.first_iface,
                source,
            };
            let mut port = Port::configure(&slot.device, &port_cfg, &pool).map_err(port_err)?;
            port.start().map_err(port_err)?;
            tracing::info!(
                port = slot.device,
                id = port.id().0,
                queues,
                rss_hf = port.rss_hf(),
                "port started"
            );
            ports.push(port);
        }
        let symmetric: Vec<bool> = ports.iter().map(Port::rss_symmetric).collect();
        let steering = crate::steer::decide(cfg.steering, workers, &symmetric).map_err(|e| {
            let slot = map.slots.get(e.port);
            EngineError::NoSymmetricRss {
                iface: slot.map_or(0, |s| s.first_iface),
                name: slot.map(|s| s.device.clone()).unwrap_or_default(),
            }
        })?;
        tracing::info!(steering = steering.as_str(), mode = ?cfg.steering, "flow steering");

        let clock = TscClock::start(eal);
        let stop = Arc::new(AtomicBool::new(false));
        let (event_tx, event_rx): (Sender<Event>, Receiver<Event>) =
            crossbeam::channel::bounded(EVENT_CHANNEL);
        let (finished_tx, finished_rx) = crossbeam::channel::bounded(workers);
        let (commands, inboxes) = commands::channels(workers);
        let mut engine = Engine {
            stop: Arc::clone(&stop),
            workers: Vec::with_capacity(workers),
            counters: Vec::with_capacity(workers),
            handoff_counters: Vec::with_capacity(workers),
            pipeline_stats: Vec::with_capacity(workers),
            steering,
            events: event_rx,
            finished: finished_rx,
            dataplane: Arc::clone(dataplane),
            commands,
            clock,
            ports,
            pool,
            started: Instant::now(),
        };
        // Declared after `engine`, so on an early return it drops first: a running worker
        // waits at stop for every producer end, including those not handed out yet.
        let mut handoffs = match steering {
            Steering::Handoff => handoff::build(queues)
                .map_err(|source| EngineError::HandoffRings { source })?
                .into_iter()
                .map(|(h, c)| (Some(h), c))
                .collect::<Vec<_>>(),
            Steering::SingleWorker | Steering::Rss => (0..workers)
                .map(|_| (None, Arc::new(HandoffCounters::default())))
                .collect(),
        }
        .into_iter();
        for ((index, &core), inbox) in cfg.worker_lcores.iter().enumerate().zip(inboxes) {
            let queue = u16::try_from(index).map_err(|_| EngineError::NoWorkers)?;
            let (handoff, handoff_counters) = handoffs
                .next()
                .unwrap_or_else(|| (None, Arc::new(HandoffCounters::default())));
            let mut worker_ports = Vec::with_capacity(engine.ports.len());
            for (port, slot) in engine.ports.iter().zip(&map.slots) {
                let (Some(rx), Some(tx)) = (port.rx_queue(queue), port.tx_queue(queue)) else {
                    return Err(EngineError::QueueMissing {
                        iface: slot.first_iface,
                        queue,
                    });
                };
                worker_ports.push(WorkerPort {
                    rx,
                    tx,
                    pending: Default::default(),
                    ingress: slot.ingress,
                });
            }
            let counters = Arc::new(WorkerCounters::default());
            let pipeline = dataplane.worker(WorkerId(queue));
            let pipeline_stats = Arc::clone(pipeline.stats());
            let worker = Worker {
                pipeline,
                ports: worker_ports,
                egress_slot: map.egress_slot.clone(),
                counters: Arc::clone(&counters),
                stop: Arc::clone(&stop),
                clock,
                pool: Arc::clone(&engine.pool),
                events: event_tx.clone(),
                handoff,
                finished: finished_tx.clone(),
                commands: inbox,
            };
            // On failure `engine` drops: the stop flag is not raised yet, so raise it first.
            let launched = dpdk_sys::launch(Lcore(core), move || worker.run());
            match launched {
                Ok(handle) => {
                    engine.workers.push((core, handle));
                    engine.counters.push(counters);
                    engine.handoff_counters.push(handoff_counters);
                    engine.pipeline_stats.push(pipeline_stats);
                }
                Err(source) => {
                    engine.stop.store(true, Ordering::SeqCst);
                    return Err(EngineError::Launch { index, source });
                }
            }
            tracing::info!(worker = index, lcore = core, "worker launched");
        }
        Ok(engine)
    }

    /// Packets received so far over all workers.
    pub fn rx_packets(&self) -> u64 {
        self.counters.iter().map(|c| c.rx_packets()).sum()
    }

    /// A live view for the control plane: counters, pipeline statistics and the
    /// workers' command channels.
    pub fn monitor(&self) -> EngineMonitor {
        EngineMonitor {
            lcores: self.workers.iter().map(|(lcore, _)| *lcore).collect(),
            counters: self.counters.clone(),
            pipeline_stats: self.pipeline_stats.clone(),
            commands: self.commands.clone(),
            clock: self.clock,
        }
    }

    /// Every port's DPDK counters now (same shape as the stop report; `closed` false).
    pub fn port_stats(&self) -> Vec<PortReport> {
        self.ports
            .iter()
            .map(|port| {
                PortReport::new(
                    port.name().to_owned(),
                    port.id().0,
                    port.rss_hf(),
                    port.stats().ok(),
                    false,
                )
            })
            .collect()
    }

    /// Audit and alert events the workers produced (bounded; workers count what is lost).
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// Stop the workers, report, stop and close the ports, and check the mempool.
    pub fn stop(mut self) -> EngineReport {
        self.stop.store(true, Ordering::SeqCst);
        let mut workers = Vec::with_capacity(self.workers.len());
        let stats = self
            .counters
            .iter()
            .zip(&self.pipeline_stats)
            .zip(&self.handoff_counters);
        for (index, ((lcore, handle), ((counters, pipeline), handoff))) in
            self.workers.drain(..).zip(stats).enumerate()
        {
            let status = handle.wait();
            workers.push(WorkerReport {
                worker: index,
                lcore,
                exit_status: status,
                counters: counters.snapshot(),
                pipeline: pipeline.summary(),
                handoff: handoff.snapshot(),
            });
        }
        // Every worker has returned, so every pipeline it handed back is in the channel.
        let pipelines: Vec<Pipeline> = self.finished.try_iter().collect();
        let inspectors = InspectorCounters::collect(&self.dataplane, &pipelines);
        let mut ports = Vec::with_capacity(self.ports.len());
        for port in self.ports.drain(..) {
            let stats = port.stats().ok();
            let name = port.name().to_owned();
            let id = port.id().0;
            let rss_hf = port.rss_hf();
            let closed = port.close();
            if let Err(e) = &closed {
                tracing::warn!(port = name, error = %e, "port close failed");
            }
            ports.push(PortReport::new(name, id, rss_hf, stats, closed.is_ok()));
        }
        let mempool = MempoolReport {
            size: self.pool.size(),
            available: self.pool.available(),
            in_use: self.pool.in_use(),
        };
        EngineReport {
            duration_secs: self.started.elapsed().as_secs_f64(),
            steering: self.steering,
            ports,
            workers,
            mempool,
            inspectors,
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Reached without `stop` only on a start failure: workers must end before ports close.
        self.stop.store(true, Ordering::SeqCst);
        self.workers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_covers_every_descriptor_and_is_a_power_of_two_minus_one() {
        let size = pool_size(2, 2, 1024, 1024);
        assert!(size >= 2 * 2 * 2048);
        assert_eq!((size + 1).count_ones(), 1);
        assert_eq!(pool_size(1, 1, 0, 0), 4095);
    }
}
