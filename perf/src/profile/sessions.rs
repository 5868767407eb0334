//! An established-session mix: M sessions, half UDP and half TCP (after a real
//! three-way handshake in the learning rounds), both directions, IMIX frame sizes
//! (64, 570 and 1518 bytes on the wire, 7:4:1). Packets walk the sessions in a
//! scattered order so a large table is exercised out of cache, as real traffic does.

use pinhole_dataplane::packet::TcpFlags;

use super::{due, Emit, Source};
use crate::frames::{flow, Flow, Proto, Template};
use crate::stamp::{Class, Side};

/// Frame sizes without FCS and their share out of 12 (simple IMIX).
const IMIX: [(usize, u64); 3] = [(60, 7), (566, 4), (1514, 1)];
/// Initial sequence numbers of the two sides.
const ISN: [u32; 2] = [0x1000_0000, 0x2000_0000];

/// The session-mix source.
#[derive(Debug)]
pub struct SessionMix {
    sessions: u32,
    /// Next sequence number to send, per TCP session (odd indices) and side.
    next_seq: Vec<[u32; 2]>,
    udp: Vec<Template>,
    tcp: Vec<Template>,
    control: Template,
    stride: u64,
    rate: f64,
    emitted: u64,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A stride coprime with `n`, near the golden ratio of `n`: stepping by it visits every
/// session once per `n` steps, far apart in memory.
fn stride_for(n: u64) -> u64 {
    let mut s = ((n as f64) * 0.618_033_988_7) as u64 | 1;
    while n > 1 && gcd(s, n) != 1 {
        s += 2;
    }
    s.max(1)
}

impl SessionMix {
    /// `sessions` sessions (at least 2).
    pub fn new(sessions: u32) -> SessionMix {
        let sessions = sessions.max(2);
        SessionMix {
            sessions,
            next_seq: vec![ISN; (sessions / 2) as usize],
            udp: IMIX
                .iter()
                .map(|(len, _)| Template::new(Proto::Udp, *len))
                .collect(),
            tcp: IMIX
                .iter()
                .map(|(len, _)| Template::new(Proto::Tcp, *len))
                .collect(),
            control: Template::tcp_control(),
            stride: stride_for(u64::from(sessions)),
            rate: 0.0,
            emitted: 0,
        }
    }

    fn flow(&self, session: u32) -> Flow {
        let proto = if session % 2 == 1 {
            Proto::Tcp
        } else {
            Proto::Udp
        };
        flow(session, proto)
    }

    fn size_index(k: u64) -> usize {
        let mut slot = k % 12;
        for (i, (_, share)) in IMIX.iter().enumerate() {
            if slot < *share {
                return i;
            }
            slot -= share;
        }
        0
    }
}

impl Source for SessionMix {
    fn rate_unit(&self) -> &'static str {
        "pps"
    }

    fn frames_per_second(&self, rate: f64) -> f64 {
        rate
    }

    /// Round 0: a UDP datagram or a SYN from inside per session; round 1: SYN-ACKs
    /// from outside; round 2: the ACKs from inside.
    fn setup_round_len(&self, round: usize) -> Option<usize> {
        match round {
            0 => Some(self.sessions as usize),
            1 | 2 => Some(self.next_seq.len()),
            _ => None,
        }
    }

    fn setup_flow(&self, round: usize, index: usize) -> u32 {
        match round {
            0 => index as u32,
            _ => index as u32 * 2 + 1,
        }
    }

    fn setup_frame(&mut self, round: usize, index: usize, emit: &mut dyn FnMut(Emit<'_>)) {
        let session = self.setup_flow(round, index);
        let side = if round == 1 {
            Side::Outside
        } else {
            Side::Inside
        };
        let f = self.flow(session);
        let template = match (round, f.proto) {
            (0, Proto::Udp) => self.udp.first_mut(),
            (0, Proto::Tcp) => Some(self.control.tcp(ISN[0].wrapping_sub(1), 0, TcpFlags::SYN)),
            (1, _) => {
                let flags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);
                Some(self.control.tcp(ISN[1].wrapping_sub(1), ISN[0], flags))
            }
            _ => Some(self.control.tcp(ISN[0], ISN[1], TcpFlags::ACK)),
        };
        if let Some(t) = template {
            t.address(&f, side);
            emit(Emit {
                side,
                class: Class::Setup,
                frame: t.bytes(),
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
        let sessions = u64::from(self.sessions);
        for _ in 0..n {
            let k = self.emitted;
            self.emitted += 1;
            let side = if k.is_multiple_of(2) {
                Side::Inside
            } else {
                Side::Outside
            };
            let session = ((k / 2).wrapping_mul(self.stride) % sessions) as u32;
            let f = self.flow(session);
            let size = Self::size_index(k / 2);
            let (class, template) = match f.proto {
                Proto::Udp => (Class::Udp, self.udp.get_mut(size)),
                Proto::Tcp => (Class::Tcp, self.tcp.get_mut(size)),
            };
            let Some(t) = template else { continue };
            if f.proto == Proto::Tcp {
                let Some(seqs) = self.next_seq.get_mut((session / 2) as usize) else {
                    continue;
                };
                let (me, peer) = (side.index(), side.peer().index());
                let seq = seqs[me];
                let ack = seqs[peer];
                seqs[me] = seq.wrapping_add(t.payload_len() as u32);
                t.tcp(seq, ack, TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0));
            }
            t.address(&f, side);
            emit(Emit {
                side,
                class,
                frame: t.bytes(),
                stamped: true,
            });
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::testing::run;
    use pinhole_dataplane::packet::{parse, L4Summary, Parsed};

    #[test]
    fn the_stride_visits_every_session() {
        for n in [2u64, 3, 10, 1000, 1 << 20] {
            let s = stride_for(n);
            assert_eq!(gcd(s, n), 1, "{n}");
        }
        let n = 1000u64;
        let s = stride_for(n);
        let mut seen: Vec<u64> = (0..n).map(|k| k * s % n).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len() as u64, n);
    }

    #[test]
    fn learning_is_a_handshake_and_traffic_follows_its_sequence_numbers() {
        let mut src = SessionMix::new(10);
        let mut rounds = Vec::new();
        let mut round = 0;
        while let Some(len) = src.setup_round_len(round) {
            for i in 0..len {
                src.setup_frame(round, i, &mut |e| {
                    let Ok(Parsed::Ip(s)) = parse(e.frame) else {
                        panic!("unparsable")
                    };
                    rounds.push((round, e.side, s.l4));
                });
            }
            round += 1;
        }
        assert_eq!(round, 3);
        // Handshake rounds address the TCP sessions (odd numbers).
        assert_eq!(
            (
                src.setup_flow(0, 4),
                src.setup_flow(1, 2),
                src.setup_flow(2, 0)
            ),
            (4, 5, 1)
        );
        let syns = rounds
            .iter()
            .filter(|(r, _, l4)| {
                *r == 0 && matches!(l4, L4Summary::Tcp(t) if t.flags == TcpFlags::SYN)
            })
            .count();
        assert_eq!(syns, 5);
        assert!(rounds.iter().any(|(r, s, l4)| *r == 1 && *s == Side::Outside && matches!(l4, L4Summary::Tcp(t) if t.flags.syn() && t.flags.ack() && t.ack == ISN[0])));
        assert!(rounds.iter().any(|(r, s, l4)| *r == 2
            && *s == Side::Inside
            && matches!(l4, L4Summary::Tcp(t) if t.seq == ISN[0] && t.ack == ISN[1])));

        let out = run(&mut src, 12_000.0, 1_000_000_001, 1_000_000, 0);
        assert_eq!(out.len(), 12_000);
        // IMIX shares: 7:4:1.
        let small = out.iter().filter(|(_, e)| e.frame.len() <= 70).count();
        let large = out.iter().filter(|(_, e)| e.frame.len() == 1514).count();
        assert_eq!((small, large), (7_000, 1_000));
        // Per TCP connection and side, sequence numbers advance by the payload sent.
        let mut last: std::collections::HashMap<(Vec<u8>, Side), (u32, u32)> = Default::default();
        for (_, e) in &out {
            let Ok(Parsed::Ip(s)) = parse(&e.frame) else {
                panic!("unparsable")
            };
            if let L4Summary::Tcp(t) = s.l4 {
                assert_eq!(e.class, Class::Tcp);
                let key = (e.frame[26..34].to_vec(), e.side);
                let len = e.frame.len() as u32 - 54;
                if let Some((seq, plen)) = last.get(&key) {
                    assert_eq!(t.seq, seq.wrapping_add(*plen));
                } else {
                    assert_eq!(t.seq, ISN[e.side.index()]);
                }
                last.insert(key, (t.seq, len));
            }
        }
        assert_eq!(last.len(), 10);
    }
}
