//! The worker loop: poll every port's RX queue (and the hand-off inbox), run the
//! pipeline, send per egress port.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam::channel::Sender;
use dpdk_sys::{Mbuf, Mempool, RxBurst, RxQueue, TscClock, TxBuffer, TxQueue, BURST_SIZE};

use super::commands::CommandInbox;
use super::counters::{BurstCounts, WorkerCounters};
use super::handoff::{Claim, Handoff};
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
    pub(crate) egress_slot: Vec<usize>,
    pub(crate) counters: Arc<WorkerCounters>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) clock: TscClock,
    /// For frames the pipeline emits on its own (reassembled datagrams).
    pub(crate) pool: Arc<Mempool>,
    pub(crate) events: Sender<Event>,
    /// The software hand-off, when flows are steered in software.
    pub(crate) handoff: Option<Handoff>,
    /// Where the pipeline goes when the worker stops (the stop report reads its
    /// inspector counters).
    pub(crate) finished: Sender<Pipeline>,
    /// Requests from the control side (session dumps and clears), run between bursts.
    pub(crate) commands: CommandInbox,
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
    egress_slot: &[usize],
    egress: IfaceId,
) -> Option<&'a mut WorkerPort> {
    let slot = egress_slot.get(egress.index()).copied()?;
    ports.get_mut(slot)
}

impl Worker {
    /// Run until the stop flag is raised; returns 0 (the lcore's exit status).
    pub(crate) fn run(mut self) -> i32 {
        let mut burst = RxBurst::default();
        while !self.stop.load(Ordering::Relaxed) {
            let mut received = false;
            for slot in 0..self.ports.len() {
                received |= self.poll_port(slot, &mut burst);
            }
            received |= self.poll_inbox(&mut burst);
            if !received {
                // Timers still run when no traffic arrives.
                let now = Timestamp(self.clock.now_nanos());
                self.pipeline.begin_burst(now);
                self.pipeline.end_burst(now);
            }
            let clock = self.clock;
            self.commands.poll(&mut self.pipeline, !received, || {
                Timestamp(clock.now_nanos())
            });
        }
        self.drain(&mut burst);
        let Worker {
            pipeline, finished, ..
        } = self;
        // The channel has room for every worker's pipeline; should the engine be gone,
        // the pipeline is simply dropped here.
        let _ = finished.try_send(pipeline);
        0
    }

    /// Receive and judge one burst from port `slot`; whether anything arrived.
    fn poll_port(&mut self, slot: usize, burst: &mut RxBurst) -> bool {
        let (n, ingress) = match self.ports.get_mut(slot) {
            Some(p) => (p.rx.receive(burst), p.ingress),
            None => (0, None),
        };
        if n == 0 {
            return false;
        }
        let now = Timestamp(self.clock.now_nanos());
        let mut counts = BurstCounts {
            rx_packets: n as u64,
            ..BurstCounts::default()
        };
        self.pipeline.begin_burst(now);
        // Claim first, so the prefetch touches only sessions this worker holds.
        let slot_id = u16::try_from(slot).unwrap_or(u16::MAX);
        let mut mine: [Option<Mbuf>; BURST_SIZE] = std::array::from_fn(|_| None);
        let mut kept = 0;
        for m in burst.by_ref() {
            counts.rx_bytes += m.len() as u64;
            let m = match self.handoff.as_mut() {
                None => m,
                Some(handoff) => match handoff.claim(m, slot_id) {
                    Claim::Mine(m) => m,
                    Claim::HandedOff => continue,
                },
            };
            match mine.get_mut(kept) {
                Some(place) => {
                    *place = Some(m);
                    kept += 1;
                }
                // A burst never exceeds BURST_SIZE; judged unprefetched should it.
                None => self.judge(m, ingress, now, &mut counts),
            }
        }
        if let Some(handoff) = self.handoff.as_mut() {
            let refused = handoff.flush();
            self.counters
                .count_drops(DropReason::HandoffRingFull, refused);
        }
        if let Some(iface) = ingress {
            // Overlap the burst's session-table cache misses before judging packets.
            self.pipeline
                .prefetch_burst(mine.iter().flatten().map(Mbuf::data), iface);
        }
        for m in mine.iter_mut().filter_map(Option::take) {
            self.judge(m, ingress, now, &mut counts);
        }
        self.finish_burst(now, &mut counts);
        true
    }

    /// Judge one burst of packets other workers handed over; whether any came.
    fn poll_inbox(&mut self, burst: &mut RxBurst) -> bool {
        let n = match self.handoff.as_mut() {
            Some(handoff) => handoff.receive(burst),
            None => 0,
        };
        if n == 0 {
            return false;
        }
        let now = Timestamp(self.clock.now_nanos());
        let mut counts = BurstCounts::default();
        self.pipeline.begin_burst(now);
        for m in burst.by_ref() {
            // The sender recorded the port's slot (the same in every worker).
            let ingress = self
                .ports
                .get(usize::from(m.port()))
                .and_then(|p| p.ingress);
            self.judge(m, ingress, now, &mut counts);
        }
        self.finish_burst(now, &mut counts);
        true
    }

    /// Run the pipeline on one packet and act on its verdict.
    fn judge(
        &mut self,
        mut m: Mbuf,
        ingress: Option<IfaceId>,
        now: Timestamp,
        counts: &mut BurstCounts,
    ) {
        let verdict = match ingress {
            Some(iface) => self.pipeline.process(m.data_mut(), iface, now),
            None => Verdict::Drop(DropReason::UnknownIngress),
        };
        match verdict {
            Verdict::Forward(egress) => {
                match egress_port(&mut self.ports, &self.egress_slot, egress) {
                    Some(port) => enqueue(port, m, counts),
                    None => counts.egress_unmapped += 1,
                }
            }
            Verdict::Drop(reason) => self.counters.count_drop(reason),
            Verdict::Consumed => counts.consumed += 1,
        }
    }

    /// After a burst: timers, emitted frames, events, TX, counters.
    fn finish_burst(&mut self, now: Timestamp, counts: &mut BurstCounts) {
        self.pipeline.end_burst(now);
        Self::send_emitted(
            &mut self.pipeline,
            &mut self.ports,
            &self.egress_slot,
            &self.pool,
            counts,
        );
        for event in self.pipeline.take_events() {
            if self.events.try_send(event).is_err() {
                counts.events_lost += 1;
            }
        }
        for port in self.ports.iter_mut().filter(|p| !p.pending.is_empty()) {
            flush(port, counts);
        }
        self.counters.publish(counts);
    }

    /// Stop: hand off what is batched, judge what other workers still hand over until
    /// none can any more, then send everything: nothing stays buffered or in a ring.
    fn drain(&mut self, burst: &mut RxBurst) {
        if let Some(handoff) = self.handoff.as_mut() {
            let refused = handoff.close_outgoing();
            self.counters
                .count_drops(DropReason::HandoffRingFull, refused);
            loop {
                // Read before draining: once no producer is left, this drain is the last.
                let last = !self.handoff.as_ref().is_some_and(Handoff::may_receive_more);
                while self.poll_inbox(burst) {}
                if last {
                    break;
                }
                std::hint::spin_loop();
            }
        }
        let mut counts = BurstCounts::default();
        for port in self.ports.iter_mut() {
            flush(port, &mut counts);
        }
        if counts != BurstCounts::default() {
            self.counters.publish(&counts);
        }
    }

    /// Copy the frames the pipeline released on its own into mbufs and queue them.
    /// Rare (reassembled fragments), so the copy does not burden the fast path.
    fn send_emitted(
        pipeline: &mut Pipeline,
        ports: &mut [WorkerPort],
        egress_slot: &[usize],
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
