//! The run's summary: the engine report, totals, why it stopped; JSON and human forms.

use std::fmt::Write as _;

use pinhole_dataplane::engine::counters::CounterSnapshot;
use pinhole_dataplane::engine::EngineReport;
use serde::Serialize;

/// Why the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    /// SIGINT or SIGTERM.
    Signal,
    /// `--duration` elapsed.
    Duration,
    /// `--exit-when-idle`: no packet for the given time.
    Idle,
}

/// What `pinhole run` reports (and writes with `--summary-json`).
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Why the run ended.
    pub stopped_by: StopCause,
    /// Worker counters summed.
    pub totals: CounterSnapshot,
    /// Ports, workers, mempool.
    #[serde(flatten)]
    pub report: EngineReport,
}

impl RunSummary {
    /// Wrap a report.
    pub fn new(report: EngineReport, stopped_by: StopCause) -> Self {
        RunSummary {
            stopped_by,
            totals: report.totals(),
            report,
        }
    }

    /// Whether every mbuf came back to the pool.
    pub fn no_mbuf_leaked(&self) -> bool {
        self.report.mempool.available == self.report.mempool.size
    }

    /// A short human summary (a few lines).
    pub fn human(&self) -> String {
        let mut out = String::new();
        let r = &self.report;
        let _ = writeln!(
            out,
            "pinhole: ran {:.1}s, stopped by {:?}",
            r.duration_secs, self.stopped_by
        );
        for p in &r.ports {
            let _ = writeln!(
                out,
                "  port {:<12} in {:>10} pkts {:>12} bytes | out {:>10} pkts {:>12} bytes | missed {} errors {}/{}",
                p.name,
                p.stats.ipackets,
                p.stats.ibytes,
                p.stats.opackets,
                p.stats.obytes,
                p.stats.imissed,
                p.stats.ierrors,
                p.stats.oerrors
            );
        }
        let t = &self.totals;
        let drops: Vec<String> = t
            .drops
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| format!("{r}={n}"))
            .collect();
        let _ = writeln!(
            out,
            "  workers: {} rx, {} tx, {} tx-unsent, drops [{}]",
            t.rx_packets,
            t.tx_packets,
            t.tx_unsent,
            drops.join(" ")
        );
        let (handed, dropped) = r.workers.iter().fold((0, 0), |(h, d), w| {
            (h + w.handoff.sent, d + w.handoff.dropped_full)
        });
        let _ = writeln!(
            out,
            "  steering: {}, {handed} handed to another worker, {dropped} refused (ring full)",
            r.steering.as_str()
        );
        let i = &r.inspectors;
        let _ = writeln!(
            out,
            "  inspectors: sip {} messages, {} dialogs created | pinholes {} opened, {} closed, {} expired | open at stop: {} pinholes, {} sip dialogs",
            i.sip_counter("messages"),
            i.sip_counter("dialogs_created"),
            i.pinholes.opened,
            i.pinholes.closed,
            i.pinholes.expired,
            i.pinholes.open_at_end,
            i.sip_dialogs_open_at_end
        );
        let _ = writeln!(
            out,
            "  mbufs: {}/{} back in the pool{}",
            r.mempool.available,
            r.mempool.size,
            if self.no_mbuf_leaked() { "" } else { " (LEAK)" }
        );
        out
    }
}
