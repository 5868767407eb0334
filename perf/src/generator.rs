//! The DPDK side of the traffic generator: two ports (memif to an engine on this
//! machine, or NICs cabled to one), one core that sends what a [`Source`] says is due,
//! stamps it, and counts and times what comes back.
//!
//! Frames the device under test could not take (a full memif ring, or TX descriptors on
//! a NIC) count as offered and lost: on a wire they would be the receiver's `imissed`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dpdk_sys::{Eal, Mempool, Port, PortConfig, RxBurst, RxQueue, TscClock, TxBuffer, TxQueue};
use pinhole_dataplane::packet::build::{self, Ipv4Header};
use pinhole_dataplane::packet::IpProtocol;
use serde::Serialize;

use crate::latency::{Histogram, Summary};
use crate::profile::sip::SIP_PORT;
use crate::profile::{Emit, Source};
use crate::stamp::{self, Class, Side, Stamp, CLASSES};

const MBUFS: u32 = 32_768;
/// Times a learning frame is sent at most.
pub const LEARN_PASSES: usize = 5;

/// What the learning rounds did.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Learning {
    /// Frames sent (resent ones included).
    pub sent: u64,
    /// Frames that came through.
    pub received: u64,
    /// Frames sent again because they had not come through.
    pub resent: u64,
    /// Frames that never came through (their sessions will lose traffic).
    pub missing: u64,
}

/// Note that the flow of `frame` came through.
fn mark_arrival(arrived: &mut [bool], frame: &[u8]) -> bool {
    match inside_flow(frame).and_then(|f| arrived.get_mut(f as usize)) {
        Some(a) => {
            *a = true;
            true
        }
        None => false,
    }
}

/// The flow number of a frame by its inside host (source or destination in
/// 10.0.1.0 and up, see [`crate::frames::flow`]).
fn inside_flow(frame: &[u8]) -> Option<u32> {
    let addr = |at: usize| {
        frame
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let base = crate::frames::INSIDE_BASE;
    [addr(26)?, addr(30)?]
        .into_iter()
        .find(|a| (base..base + 0x00ff_ffff).contains(a))
        .map(|a| a - base)
}
const DESCRIPTORS: u16 = 1024;

/// Counters of one trial.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrialReport {
    /// Requested rate (packets or calls per second).
    pub rate: f64,
    /// Seconds of traffic (new traffic; SIP calls in progress run longer).
    pub seconds: f64,
    /// Frames offered per class (Udp, Tcp, Sip, Rtp, Setup).
    pub offered: [u64; CLASSES],
    /// Frames received per class.
    pub received: [u64; CLASSES],
    /// Offered frames the port did not take (counted as lost).
    pub tx_refused: u64,
    /// Frames not generated for want of mbufs (not offered).
    pub alloc_failed: u64,
    /// Frames that came back on the side they were sent from.
    pub misrouted: u64,
    /// Stamped frames of an earlier trial (not counted).
    pub stale: u64,
    /// Offered frames per second actually achieved.
    pub offered_fps: f64,
    /// One-way latency of the stamped frames.
    pub latency: Summary,
}

impl TrialReport {
    /// Frames offered, every class but setup.
    pub fn sent(&self) -> u64 {
        self.offered.iter().take(Class::Setup.index()).sum()
    }

    /// Frames received, every class but setup.
    pub fn received_total(&self) -> u64 {
        self.received.iter().take(Class::Setup.index()).sum()
    }

    /// Lost over offered.
    pub fn loss_ratio(&self) -> f64 {
        crate::search::TrialResult {
            rate: self.rate,
            sent: self.sent(),
            received: self.received_total(),
        }
        .loss_ratio()
    }
}

/// Generator ports and their queues. Field order is drop order: queues, ports, pool, EAL.
pub struct Generator {
    rx: [RxQueue; 2],
    tx: [TxQueue; 2],
    ports: Vec<Port>,
    pool: Arc<Mempool>,
    clock: TscClock,
    ns_per_cycle: f64,
    trial: u16,
    _eal: Eal,
}

/// Everything a send needs, borrowed apart from the source.
struct Sender<'a> {
    pool: &'a Mempool,
    tx: &'a mut [TxQueue; 2],
    buffers: &'a mut [TxBuffer; 2],
    report: &'a mut TrialReport,
    trial: u16,
}

impl Sender<'_> {
    fn send(&mut self, e: Emit<'_>) {
        let Some(mut m) = self.pool.alloc() else {
            self.report.alloc_failed += 1;
            return;
        };
        if !m.append(e.frame) {
            self.report.alloc_failed += 1;
            return;
        }
        if e.stamped {
            let s = Stamp {
                trial: self.trial,
                class: e.class,
                side: e.side,
                sent_tsc: dpdk_sys::tsc::cycles(),
            };
            stamp::write(m.data_mut(), &s);
        }
        if let Some(o) = self.report.offered.get_mut(e.class.index()) {
            *o += 1;
        }
        let side = e.side.index();
        let (Some(buf), Some(q)) = (self.buffers.get_mut(side), self.tx.get_mut(side)) else {
            return;
        };
        if let Err(m) = buf.push(m) {
            self.report.tx_refused += u64::from(buf.flush(q).dropped);
            if buf.push(m).is_err() {
                self.report.tx_refused += 1;
            }
        }
    }

    fn flush(&mut self) {
        for (buf, q) in self.buffers.iter_mut().zip(self.tx.iter_mut()) {
            self.report.tx_refused += u64::from(buf.flush(q).dropped);
        }
    }
}

/// Whether `frame` is an IPv4/UDP datagram from or to the SIP port.
fn is_sip(frame: &[u8]) -> bool {
    let (Some(&ethertype_hi), Some(&ethertype_lo), Some(&vihl), Some(&proto)) =
        (frame.get(12), frame.get(13), frame.get(14), frame.get(23))
    else {
        return false;
    };
    if [ethertype_hi, ethertype_lo] != [0x08, 0x00] || proto != 17 {
        return false;
    }
    let l4 = 14 + usize::from(vihl & 0x0f) * 4;
    let port = |at: usize| {
        frame
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    port(l4) == Some(SIP_PORT) || port(l4 + 2) == Some(SIP_PORT)
}

impl Generator {
    /// Initialise the EAL with `eal_args` and start `ports` (inside, outside).
    pub fn open(eal_args: &[String], ports: [&str; 2]) -> anyhow::Result<Generator> {
        let eal = Eal::init("pinhole-perf", eal_args).context("generator EAL")?;
        let pool =
            Arc::new(Mempool::create("perf_gen", MBUFS, 256, -1).context("generator mempool")?);
        let cfg = PortConfig {
            rx_queues: 1,
            tx_queues: 1,
            rx_desc: DESCRIPTORS,
            tx_desc: DESCRIPTORS,
            promiscuous: true,
        };
        let mut started = Vec::new();
        for name in ports {
            let mut p = Port::configure(name, &cfg, &pool)
                .with_context(|| format!("generator port {name}"))?;
            p.start()
                .with_context(|| format!("starting generator port {name}"))?;
            started.push(p);
        }
        let queues = |i: usize| -> anyhow::Result<(RxQueue, TxQueue)> {
            let p = started.get(i).context("port")?;
            Ok((
                p.rx_queue(0).context("rx queue")?,
                p.tx_queue(0).context("tx queue")?,
            ))
        };
        let (rx0, tx0) = queues(0)?;
        let (rx1, tx1) = queues(1)?;
        let clock = TscClock::start(&eal);
        Ok(Generator {
            rx: [rx0, rx1],
            tx: [tx0, tx1],
            ports: started,
            pool,
            ns_per_cycle: 1e9 / clock.hz() as f64,
            clock,
            trial: 0,
            _eal: eal,
        })
    }

    /// TSC cycles per second (for cycles per packet).
    pub fn tsc_hz(&self) -> u64 {
        self.clock.hz()
    }

    /// Receive both ports once; count into `report`.
    fn receive(
        &mut self,
        burst: &mut RxBurst,
        report: &mut TrialReport,
        latency: &mut Histogram,
        unstamped: &mut dyn FnMut(u64, Side, &[u8]) -> bool,
    ) -> usize {
        let mut n = 0;
        for (side, q) in [Side::Inside, Side::Outside]
            .into_iter()
            .zip(self.rx.iter_mut())
        {
            if q.receive(burst) == 0 {
                continue;
            }
            let now = self.clock.now_nanos();
            let now_tsc = dpdk_sys::tsc::cycles();
            for m in burst.by_ref() {
                n += 1;
                let data = m.data();
                let class = match stamp::read(data) {
                    Some(s) if s.trial == self.trial => {
                        latency.record(
                            (now_tsc.saturating_sub(s.sent_tsc) as f64 * self.ns_per_cycle) as u64,
                        );
                        if s.side == side {
                            report.misrouted += 1;
                        }
                        s.class
                    }
                    Some(_) => {
                        report.stale += 1;
                        continue;
                    }
                    None => {
                        let expected = unstamped(now, side, data);
                        match (is_sip(data), expected) {
                            (true, true) => Class::Sip,
                            (true, false) => {
                                report.stale += 1;
                                continue;
                            }
                            (false, _) => Class::Setup,
                        }
                    }
                };
                if let Some(r) = report.received.get_mut(class.index()) {
                    *r += 1;
                }
            }
        }
        n
    }

    /// Receive until nothing arrives for `quiet` (at most `max`).
    fn drain(
        &mut self,
        report: &mut TrialReport,
        latency: &mut Histogram,
        quiet: Duration,
        max: Duration,
        unstamped: &mut dyn FnMut(u64, Side, &[u8]) -> bool,
    ) {
        let mut burst = RxBurst::default();
        let start = Instant::now();
        let mut last = Instant::now();
        while start.elapsed() < max && last.elapsed() < quiet {
            if self.receive(&mut burst, report, latency, unstamped) > 0 {
                last = Instant::now();
            }
        }
    }

    /// Send ICMP echoes from inside every 50 ms until one comes out on the outside
    /// (the device under test is up and forwarding), at most `timeout`.
    pub fn wait_for_path(&mut self, timeout: Duration) -> bool {
        self.trial = self.trial.wrapping_add(1);
        let ip = Ipv4Header::new(
            [10, 0, 0, 1].into(),
            [198, 18, 0, 1].into(),
            IpProtocol::ICMP,
        )
        .build(&build::icmp(8, 0, build::echo_rest(1, 1), &[0u8; 32]));
        let frame = build::pad(build::ethernet_ip(&ip));
        let start = Instant::now();
        let mut report = TrialReport::default();
        let mut latency = Histogram::default();
        while start.elapsed() < timeout {
            let mut buffers = [TxBuffer::default(), TxBuffer::default()];
            let mut s = Sender {
                pool: &self.pool,
                tx: &mut self.tx,
                buffers: &mut buffers,
                report: &mut report,
                trial: self.trial,
            };
            s.send(Emit {
                side: Side::Inside,
                class: Class::Setup,
                frame: &frame,
                stamped: false,
            });
            s.flush();
            self.drain(
                &mut report,
                &mut latency,
                Duration::from_millis(50),
                Duration::from_millis(50),
                &mut |_, _, _| false,
            );
            if report.received[Class::Setup.index()] > 0 {
                // Let any further probes in flight arrive before measuring.
                self.drain(
                    &mut report,
                    &mut latency,
                    Duration::from_millis(100),
                    Duration::from_secs(1),
                    &mut |_, _, _| false,
                );
                return true;
            }
        }
        false
    }

    /// Send the source's learning rounds at `pps`. A frame the device under test did
    /// not pass on (overrun while creating sessions) is sent again, up to
    /// [`LEARN_PASSES`] times, so every measured session exists before the trials:
    /// arrivals are recognised by the inside host's address, one per flow.
    pub fn learn(&mut self, source: &mut dyn Source, pps: f64) -> Learning {
        self.trial = self.trial.wrapping_add(1);
        let mut report = TrialReport::default();
        let mut latency = Histogram::default();
        let mut burst = RxBurst::default();
        let mut learning = Learning::default();
        let mut round = 0;
        while let Some(len) = source.setup_round_len(round) {
            let flows = (0..len)
                .map(|i| source.setup_flow(round, i))
                .max()
                .map_or(0, |m| m as usize + 1);
            let mut arrived = vec![false; flows];
            let mut pending: Vec<usize> = (0..len).collect();
            for _ in 0..LEARN_PASSES {
                let start = self.clock.now_nanos();
                let mut next = 0;
                while next < pending.len() {
                    let now = self.clock.now_nanos().saturating_sub(start);
                    let n = (crate::profile::due(pps, now, next as u64) as usize)
                        .min(32)
                        .min(pending.len() - next);
                    let mut buffers = [TxBuffer::default(), TxBuffer::default()];
                    let mut s = Sender {
                        pool: &self.pool,
                        tx: &mut self.tx,
                        buffers: &mut buffers,
                        report: &mut report,
                        trial: self.trial,
                    };
                    for &i in pending.iter().skip(next).take(n) {
                        source.setup_frame(round, i, &mut |e| s.send(e));
                    }
                    s.flush();
                    next += n;
                    self.receive(&mut burst, &mut report, &mut latency, &mut |_, _, f| {
                        mark_arrival(&mut arrived, f)
                    });
                }
                self.drain(
                    &mut report,
                    &mut latency,
                    Duration::from_millis(200),
                    Duration::from_secs(2),
                    &mut |_, _, f| mark_arrival(&mut arrived, f),
                );
                pending.retain(|&i| {
                    !arrived
                        .get(source.setup_flow(round, i) as usize)
                        .copied()
                        .unwrap_or(false)
                });
                if pending.is_empty() {
                    break;
                }
                learning.resent += pending.len() as u64;
            }
            learning.missing += pending.len() as u64;
            round += 1;
        }
        let setup = Class::Setup.index();
        learning.sent = report.offered[setup];
        learning.received = report.received[setup];
        learning
    }

    /// One trial: `source` at `rate` for `seconds`, then until its traffic is complete
    /// (at most `tail` more), then until the ports are quiet.
    pub fn trial(
        &mut self,
        source: &mut dyn Source,
        rate: f64,
        seconds: f64,
        tail: Duration,
    ) -> TrialReport {
        self.trial = self.trial.wrapping_add(1);
        let mut report = TrialReport {
            rate,
            seconds,
            ..TrialReport::default()
        };
        let mut latency = Histogram::default();
        let mut burst = RxBurst::default();
        let mut buffers = [TxBuffer::default(), TxBuffer::default()];
        let duration_ns = (seconds * 1e9) as u64;
        let limit_ns = duration_ns + tail.as_nanos() as u64;
        source.start(rate);
        let start = self.clock.now_nanos();
        let end;
        loop {
            let now = self.clock.now_nanos().saturating_sub(start);
            let stop = now >= duration_ns;
            let mut s = Sender {
                pool: &self.pool,
                tx: &mut self.tx,
                buffers: &mut buffers,
                report: &mut report,
                trial: self.trial,
            };
            let done = source.poll(now, stop, dpdk_sys::BURST_SIZE, &mut |e| s.send(e));
            s.flush();
            self.receive(
                &mut burst,
                &mut report,
                &mut latency,
                &mut |at, side, frame| source.delivered(at.saturating_sub(start), side, frame),
            );
            if done || now >= limit_ns {
                end = now;
                break;
            }
        }
        self.drain(
            &mut report,
            &mut latency,
            Duration::from_millis(200),
            Duration::from_secs(5),
            &mut |at, side, frame| source.delivered(at.saturating_sub(start), side, frame),
        );
        let total: u64 = report.offered.iter().sum();
        report.offered_fps = total as f64 / (end.max(1) as f64 / 1e9);
        report.latency = latency.summary();
        report
    }

    /// Port statistics of the generator's ports (inside, outside).
    pub fn port_stats(&self) -> Vec<dpdk_sys::PortStats> {
        self.ports.iter().filter_map(|p| p.stats().ok()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::sip::{Call, Step};

    #[test]
    fn sip_frames_are_recognised_and_others_are_not() {
        let call = Call::new(1);
        assert!(call.sip_frame(Step::Invite).is_some_and(|f| is_sip(&f)));
        assert!(!is_sip(&call.rtp_frame(Side::Inside, 0)));
        assert!(!is_sip(&[0u8; 10]));
    }

    #[test]
    fn learning_arrivals_are_recognised_by_the_inside_host_whatever_the_direction() {
        use crate::frames::{flow, Proto, Template};
        let mut t = Template::new(Proto::Udp, 60);
        let f = flow(123_456, Proto::Udp);
        t.address(&f, Side::Inside);
        assert_eq!(inside_flow(t.bytes()), Some(123_456));
        t.address(&f, Side::Outside);
        assert_eq!(inside_flow(t.bytes()), Some(123_456));
        let mut arrived = vec![false; 200_000];
        mark_arrival(&mut arrived, t.bytes());
        assert!(arrived[123_456]);
        assert_eq!(arrived.iter().filter(|a| **a).count(), 1);
        // SIP phones (10.1/16) are flows too, but RTP/SIP frames never reach learning;
        // a frame with no inside host is not a flow.
        assert_eq!(inside_flow(&[0u8; 20]), None);
    }

    #[test]
    fn the_report_excludes_setup_frames_from_loss() {
        let r = TrialReport {
            offered: [100, 0, 0, 0, 50],
            received: [99, 0, 0, 0, 0],
            ..TrialReport::default()
        };
        assert_eq!(r.sent(), 100);
        assert_eq!(r.received_total(), 99);
        assert!((r.loss_ratio() - 0.01).abs() < 1e-12);
    }
}
