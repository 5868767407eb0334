//! Traffic sources, without I/O: given the time since the trial started, a source says
//! which frames are due. The generator (DPDK) copies them into mbufs, stamps them and
//! sends them; tests drive the same sources with a fake clock.
//!
//! - [`udp::UdpFlows`]: 64-byte (or any size) UDP over K flows, both directions;
//! - [`sessions::SessionMix`]: an IMIX of UDP and established TCP over M sessions;
//! - [`sip::SipCalls`]: SIP calls (INVITE / 100 / 180 / 200 / ACK with SDP, RTP at 50
//!   packets/s per direction, BYE after a hold time) at a rate in calls per second.

pub mod sessions;
pub mod sip;
pub mod udp;

use crate::stamp::{Class, Side};

/// One frame a source wants sent.
#[derive(Clone, Copy, Debug)]
pub struct Emit<'a> {
    /// The generator port it leaves from.
    pub side: Side,
    /// How it is counted.
    pub class: Class,
    /// The frame (without FCS).
    pub frame: &'a [u8],
    /// Whether the generator writes its trailer (measured frames) into the last bytes.
    pub stamped: bool,
}

/// A traffic source.
pub trait Source {
    /// What the rate counts (`"pps"` or `"cps"`).
    fn rate_unit(&self) -> &'static str;

    /// Frames per second on the wire (both directions) at `rate`, for reports.
    fn frames_per_second(&self, rate: f64) -> f64;

    /// Learning rounds sent once before the first trial (sessions are created then):
    /// the number of frames of `round`, `None` when there is no such round. Rounds are
    /// separated by a pause so a handshake's steps arrive in order.
    fn setup_round_len(&self, round: usize) -> Option<usize>;

    /// The flow (see [`crate::frames::flow`]) frame `index` of learning round `round`
    /// belongs to: the generator recognises its arrival by that flow's inside host.
    fn setup_flow(&self, _round: usize, index: usize) -> u32 {
        index as u32
    }

    /// Emit frame `index` of learning round `round`.
    fn setup_frame(&mut self, round: usize, index: usize, emit: &mut dyn FnMut(Emit<'_>));

    /// Begin a trial at `rate`.
    fn start(&mut self, rate: f64);

    /// Emit up to `budget` frames due at `now_ns` (nanoseconds since the trial started).
    /// With `stop_new`, start nothing new (no new packets for rate sources, no new calls
    /// for SIP, whose calls in progress run to their BYE). Returns `true` when the
    /// trial's traffic is complete.
    fn poll(
        &mut self,
        now_ns: u64,
        stop_new: bool,
        budget: usize,
        emit: &mut dyn FnMut(Emit<'_>),
    ) -> bool;

    /// An unstamped frame (signalling) came out of the device under test on `side` at
    /// `now_ns`: sources that react to delivery (a user agent answers a request once it
    /// has it) advance here. Returns whether the frame is one this trial is waiting for
    /// (only those count as received: a late message of an earlier trial does not).
    fn delivered(&mut self, _now_ns: u64, _side: Side, _frame: &[u8]) -> bool {
        false
    }
}

/// Frames a constant-rate source owes at `now_ns` after having emitted `emitted`.
pub fn due(rate: f64, now_ns: u64, emitted: u64) -> u64 {
    let total = (rate * now_ns as f64 / 1e9) as u64;
    total.saturating_sub(emitted)
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// What a source emitted, owned.
    #[derive(Clone, Debug)]
    pub struct Owned {
        pub side: Side,
        pub class: Class,
        pub frame: Vec<u8>,
        pub stamped: bool,
    }

    /// Poll `source` every `step_ns` for `duration_ns` (then with `stop_new` until done
    /// or `drain_ns` more), collecting everything; unstamped (signalling) frames are
    /// delivered back to the source at once, as a lossless, instant device would.
    pub fn run(
        source: &mut dyn Source,
        rate: f64,
        duration_ns: u64,
        step_ns: u64,
        drain_ns: u64,
    ) -> Vec<(u64, Owned)> {
        let mut out: Vec<(u64, Owned)> = Vec::new();
        source.start(rate);
        let mut now = 0;
        loop {
            let stop = now >= duration_ns;
            let before = out.len();
            let done = source.poll(now, stop, usize::MAX, &mut |e| {
                out.push((
                    now,
                    Owned {
                        side: e.side,
                        class: e.class,
                        frame: e.frame.to_vec(),
                        stamped: e.stamped,
                    },
                ))
            });
            for (_, e) in out.iter().skip(before).filter(|(_, e)| !e.stamped) {
                source.delivered(now, e.side.peer(), &e.frame);
            }
            if done || now > duration_ns + drain_ns {
                break;
            }
            now += step_ns;
        }
        out
    }

    #[test]
    fn due_counts_what_the_rate_owes() {
        assert_eq!(due(1_000_000.0, 1_000, 0), 1);
        assert_eq!(due(1_000_000.0, 1_000_000_000, 999_990), 10);
        assert_eq!(due(10.0, 50_000_000, 3), 0);
    }
}
