//! UDP over K flows, both directions, one frame size (64 bytes on the wire by
//! default): the RFC 2544 throughput stream, through sessions the learning round created.

use super::{due, Emit, Source};
use crate::frames::{flow, Flow, Proto, Template};
use crate::stamp::{Class, Side};

/// The UDP flows source.
#[derive(Debug)]
pub struct UdpFlows {
    flows: Vec<Flow>,
    template: Template,
    rate: f64,
    emitted: u64,
}

impl UdpFlows {
    /// `flows` flows (at least one) of `frame_len`-byte frames (without FCS).
    pub fn new(flows: u32, frame_len: usize) -> UdpFlows {
        UdpFlows {
            flows: (0..flows.max(1)).map(|i| flow(i, Proto::Udp)).collect(),
            template: Template::new(Proto::Udp, frame_len),
            rate: 0.0,
            emitted: 0,
        }
    }
}

impl Source for UdpFlows {
    fn rate_unit(&self) -> &'static str {
        "pps"
    }

    fn frames_per_second(&self, rate: f64) -> f64 {
        rate
    }

    fn setup_round_len(&self, round: usize) -> Option<usize> {
        (round == 0).then_some(self.flows.len())
    }

    fn setup_frame(&mut self, _round: usize, index: usize, emit: &mut dyn FnMut(Emit<'_>)) {
        if let Some(f) = self.flows.get(index) {
            self.template.address(f, Side::Inside);
            emit(Emit {
                side: Side::Inside,
                class: Class::Setup,
                frame: self.template.bytes(),
                stamped: false,
            });
        }
    }

    fn start(&mut self, rate: f64) {
        self.rate = rate;
        self.emitted = 0;
    }

    fn poll(
        &mut self,
        now_ns: u64,
        stop_new: bool,
        budget: usize,
        emit: &mut dyn FnMut(Emit<'_>),
    ) -> bool {
        if stop_new {
            return true;
        }
        let n = due(self.rate, now_ns, self.emitted).min(budget as u64);
        let flows = self.flows.len() as u64;
        for _ in 0..n {
            // Alternate directions; walk the flows in order.
            let k = self.emitted;
            let side = if k.is_multiple_of(2) {
                Side::Inside
            } else {
                Side::Outside
            };
            if let Some(f) = self.flows.get(((k / 2) % flows) as usize) {
                self.template.address(f, side);
            }
            emit(Emit {
                side,
                class: Class::Udp,
                frame: self.template.bytes(),
                stamped: true,
            });
            self.emitted += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::testing::run;

    #[test]
    fn the_rate_is_kept_and_both_directions_cover_every_flow() {
        let mut src = UdpFlows::new(4, 60);
        assert_eq!(src.setup_round_len(0), Some(4));
        assert_eq!(src.setup_round_len(1), None);
        let mut setup = Vec::new();
        for i in 0..4 {
            src.setup_frame(0, i, &mut |e| {
                setup.push((e.side, e.class, e.frame.to_vec()))
            });
        }
        assert!(setup
            .iter()
            .all(|(s, c, f)| *s == Side::Inside && *c == Class::Setup && f.len() == 60));
        // 1000 pps for 1 s, polled every millisecond.
        let out = run(&mut src, 1000.0, 1_000_000_001, 1_000_000, 0);
        assert_eq!(out.len(), 1000);
        let inside = out.iter().filter(|(_, e)| e.side == Side::Inside).count();
        assert_eq!(inside, 500);
        assert!(out
            .iter()
            .all(|(_, e)| e.stamped && e.class == Class::Udp && e.frame.len() == 60));
        // Frame 2k and 2k+1 are the two directions of one flow: addresses swapped.
        let (a, b) = (&out[0].1.frame, &out[1].1.frame);
        assert_eq!(a[26..30], b[30..34]);
        assert_eq!(a[30..34], b[26..30]);
        // Every flow appears.
        let mut sources: Vec<&[u8]> = out
            .iter()
            .filter(|(_, e)| e.side == Side::Inside)
            .map(|(_, e)| &e.frame[26..30])
            .collect();
        sources.sort();
        sources.dedup();
        assert_eq!(sources.len(), 4);
    }
}
