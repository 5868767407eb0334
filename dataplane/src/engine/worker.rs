//! The worker loop: poll every port's RX queue, run the pipeline, send per egress port.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam::channel::Sender;
use dpdk_sys::{Mbuf, Mempool, RxBurst, RxQueue, TscClock, TxBuffer, TxQueue};

use super::counters::{BurstCounts, WorkerCounters};
use crate::ids::IfaceId;
use crate::pipeline::{DropReason, Event, Pipeline, Verdict};
use crate::time::Timestamp;

/// This worker's queues on one port.
pub(crate) struct WorkerPort {
    pub(crate) rx: RxQueue,
    pub(crate) tx: TxQueue,
    pub(crate) pending: TxBuffer,
    pub(crate) ingress: Option<IfaceId>,
}

/// Everything one worker owns; moved onto its lcore.
pub(crate) struct Worker {
    pub(crate) pipeline: Pipeline,
    pub(crate) ports: Vec<WorkerPort>,
    pub(crate) egress_slot: Vec<Option<usize>>,
    pub(crate) counters: Arc<WorkerCounters>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) clock: TscClock,
    /// For frames the pipeline emits on its own (reassembled datagrams).
    pub(crate) pool: Arc<Mempool>,
    pub(crate) events: Sender<Event>,
}

fn flush(port: &mut WorkerPort, counts: &mut BurstCounts) {
    let outcome = port.pending.flush(&mut port.tx);
    counts.tx_packets += u64::from(outcome.sent);
    counts.tx_unsent += u64::from(outcome.dropped);
}

fn enqueue(port: &mut WorkerPort, m: Mbuf, counts: &mut BurstCounts) {
    if let Err(m) = port.pending.push(m) {
        flush(port, counts);
        if port.pending.push(m).is_err() {
            // Unreachable after a flush (the buffer is empty); counted, never a panic.
            counts.tx_unsent += 1;
        }
    }
}

fn egress_port<'a>(
    ports: &'a mut [WorkerPort],
    egress_slot: &[Option<usize>],
    egress: IfaceId,
) -> Option<&'a mut WorkerPort> {
    let slot = egress_slot.get(egress.index()).copied().flatten()?;
    ports.get_mut(slot)
}

impl Worker {
    /// Run until the stop flag is raised; returns 0 (the lcore's exit status).
    pub(crate) fn run(self) -> i32 {
        let Worker {
            mut pipeline,
            mut ports,
            egress_slot,
            counters,
            stop,
            clock,
            pool,
            events,
        } = self;
        let mut burst = RxBurst::default();
        while !stop.load(Ordering::Relaxed) {
            let mut received = false;
            for slot in 0..ports.len() {
                let (n, ingress) = match ports.get_mut(slot) {
                    Some(p) => (p.rx.receive(&mut burst), p.ingress),
                    None => (0, None),
                };
                if n == 0 {
                    continue;
                }
                received = true;
                let now = Timestamp(clock.now_nanos());
                let mut counts = BurstCounts {
                    rx_packets: n as u64,
                    ..BurstCounts::default()
                };
                pipeline.begin_burst(now);
                // Overlap the burst's session-table cache misses before judging packets.
                pipeline.prefetch_burst(burst.pending());
                for mut m in burst.by_ref() {
                    counts.rx_bytes += m.len() as u64;
                    let verdict = match ingress {
                        Some(iface) => pipeline.process(m.data_mut(), iface, now),
                        None => Verdict::Drop(DropReason::UnknownIngress),
                    };
                    match verdict {
                        Verdict::Forward(egress) => {
                            match egress_port(&mut ports, &egress_slot, egress) {
                                Some(port) => enqueue(port, m, &mut counts),
                                None => counts.egress_unmapped += 1,
                            }
                        }
                        Verdict::Drop(reason) => counters.count_drop(reason),
                        Verdict::Consumed => counts.consumed += 1,
                    }
                }
                pipeline.end_burst(now);
                Self::send_emitted(&mut pipeline, &mut ports, &egress_slot, &pool, &mut counts);
                for event in pipeline.take_events() {
                    if events.try_send(event).is_err() {
                        counts.events_lost += 1;
                    }
                }
                for port in ports.iter_mut().filter(|p| !p.pending.is_empty()) {
                    flush(port, &mut counts);
                }
                counters.publish(&counts);
            }
            if !received {
                // Timers still run when no traffic arrives.
                let now = Timestamp(clock.now_nanos());
                pipeline.begin_burst(now);
                pipeline.end_burst(now);
            }
        }
        // Drain: nothing may stay buffered once the worker returns.
        let mut counts = BurstCounts::default();
        for port in ports.iter_mut() {
            flush(port, &mut counts);
        }
        if counts != BurstCounts::default() {
            counters.publish(&counts);
        }
        0
    }

    /// Copy the frames the pipeline released on its own into mbufs and queue them.
    /// Rare (reassembled fragments), so the copy does not burden the fast path.
    fn send_emitted(
        pipeline: &mut Pipeline,
        ports: &mut [WorkerPort],
        egress_slot: &[Option<usize>],
        pool: &Mempool,
        counts: &mut BurstCounts,
    ) {
        for (egress, frame) in pipeline.take_emitted() {
            counts.emitted += 1;
            let Some(port) = egress_port(ports, egress_slot, egress) else {
                counts.emit_failed += 1;
                continue;
            };
            match pool.alloc() {
                Some(mut m) => {
                    if m.append(&frame) {
                        enqueue(port, m, counts);
                    } else {
                        counts.emit_failed += 1;
                    }
                }
                None => counts.emit_failed += 1,
            }
        }
    }
}
