//! The audit-trail and alert stream: pipeline events as JSON lines (the same records as
//! the replay report's `events`, names resolved against the policy), rate limited (a token bucket; what is suppressed is counted and
//! reported in the stream itself once the rate allows again).

use std::io::Write;
use std::time::Instant;

use pinhole_dataplane::pipeline::Event;
use pinhole_dataplane::policy::Policy;
use serde_json::json;

use crate::replay::report::EventRecord;

/// Writes events as JSON lines, at most `per_second` a second.
pub struct EventWriter {
    out: Box<dyn Write + Send>,
    per_second: u32,
    tokens: f64,
    last: Instant,
    suppressed: u64,
    /// Seconds added to each event's time: the engine stamps events with its own clock
    /// (zero at start), the stream carries Unix time.
    clock_base: f64,
    /// Events written.
    pub written: u64,
    /// Events suppressed by the rate limit, in all.
    pub suppressed_total: u64,
}

impl EventWriter {
    /// A writer to `out` allowing `per_second` events a second (bursts up to that many).
    pub fn new(out: Box<dyn Write + Send>, per_second: u32) -> Self {
        EventWriter {
            out,
            per_second: per_second.max(1),
            tokens: f64::from(per_second.max(1)),
            last: Instant::now(),
            suppressed: 0,
            clock_base: 0.0,
            written: 0,
            suppressed_total: 0,
        }
    }

    /// Open the configured destination: `stdout` or a file path (appended to).
    pub fn open(dest: &str, per_second: u32) -> std::io::Result<Self> {
        let out: Box<dyn Write + Send> = if dest == "stdout" {
            Box::new(std::io::stdout())
        } else {
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dest)?,
            )
        };
        Ok(EventWriter::new(out, per_second))
    }

    /// Events stamped `t` by a clock whose zero was `base_unix_secs` (Unix time) are
    /// written at `base_unix_secs + t`.
    pub fn with_clock_base(mut self, base_unix_secs: f64) -> Self {
        self.clock_base = base_unix_secs;
        self
    }

    /// Write one event unless the rate limit suppresses it. Output errors are returned.
    pub fn write(&mut self, policy: &Policy, e: &Event) -> std::io::Result<()> {
        self.write_at(policy, e, Instant::now())
    }

    fn write_at(&mut self, policy: &Policy, e: &Event, now: Instant) -> std::io::Result<()> {
        let rate = f64::from(self.per_second);
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * rate).min(rate);
        self.last = now;
        if self.tokens < 1.0 {
            self.suppressed += 1;
            self.suppressed_total += 1;
            return Ok(());
        }
        self.tokens -= 1.0;
        if self.suppressed > 0 {
            let line = json!({"kind": "suppressed", "alert": true, "count": self.suppressed});
            writeln!(self.out, "{line}")?;
            self.suppressed = 0;
        }
        let mut record = EventRecord::of(e, policy);
        record.at += self.clock_base;
        let record = serde_json::to_string(&record).map_err(std::io::Error::other)?;
        writeln!(self.out, "{record}")?;
        self.written += 1;
        Ok(())
    }

    /// Flush the destination.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use pinhole_dataplane::pipeline::EventKind;
    use pinhole_dataplane::policy::Forwarding;
    use pinhole_dataplane::session::{Endpoint, FlowTuple};
    use pinhole_dataplane::{DropReason, Timestamp};
    use serde_json::Value;

    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn event() -> Event {
        let ep = |s: &str, p| Endpoint::new(s.parse().unwrap(), p);
        Event {
            at: Timestamp::from_secs(3),
            kind: EventKind::LimitHit(DropReason::SessionTableFull),
            flow: FlowTuple::new(17, ep("10.0.0.1", 5060), ep("192.0.2.1", 5060)),
            ingress: None,
            zone_pair: None,
            class: None,
            detail: 0,
        }
    }

    #[test]
    fn the_clock_base_turns_engine_time_into_unix_time() {
        let policy =
            Policy::forwarding_only(Vec::new(), Forwarding::VirtualWire { peer: Vec::new() });
        let buf = Buf::default();
        let mut w = EventWriter::new(Box::new(buf.clone()), 10).with_clock_base(1_700_000_000.5);
        w.write(&policy, &event()).unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        // The event was stamped 3 s after the engine's clock started.
        assert_eq!(line["at"].as_f64(), Some(1_700_000_003.5));
    }

    #[test]
    fn events_are_json_lines_and_rate_limited() {
        let policy =
            Policy::forwarding_only(Vec::new(), Forwarding::VirtualWire { peer: Vec::new() });
        let buf = Buf::default();
        let mut w = EventWriter::new(Box::new(buf.clone()), 2);
        let t0 = Instant::now();
        for _ in 0..5 {
            w.write_at(&policy, &event(), t0).unwrap();
        }
        assert_eq!(w.written, 2);
        assert_eq!(w.suppressed_total, 3);
        // A second later the bucket has refilled: the next line reports what was lost.
        w.write_at(&policy, &event(), t0 + Duration::from_secs(1))
            .unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["kind"], "limit_hit");
        assert_eq!(lines[0]["reason"], "session_table_full");
        assert_eq!(lines[0]["src"], "10.0.0.1:5060");
        assert_eq!(lines[2]["kind"], "suppressed");
        assert_eq!(lines[2]["count"], 3);
    }
}
