//! SIP call load: calls start at a rate in calls per second; each runs INVITE (SDP
//! offer) / 100 / 180 / 200 (SDP answer) / ACK, then G.711 RTP at 50 packets/s per
//! direction between the announced addresses, then BYE / 200 after the hold time.
//! The phone is inside, the trunk outside; each call has its own phone address, so
//! every call is its own signalling session and dialog in the engine.
//!
//! The two user agents react to delivery, as real ones do: each signalling message is
//! sent once the previous one came out of the device under test (plus 2 ms), so a
//! response never overtakes its request inside the engine, however late a loaded
//! machine schedules it. RTP runs on its own 20 ms clock once the ACK is through; the
//! BYE follows the last RTP packet by 100 ms (media still in flight would otherwise
//! meet a closed pinhole). A call whose message is lost stalls (its loss is counted)
//! and is abandoned when the next trial starts.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::Ipv4Addr;

use pinhole_dataplane::packet::build;

use super::{Emit, Source};
use crate::stamp::{Class, Side, STAMP_LEN};

/// SIP's port.
pub const SIP_PORT: u16 = 5060;
/// Milliseconds between signalling steps.
const STEP_MS: u64 = 2;
/// Milliseconds between RTP packets (50 packets/s).
const RTP_INTERVAL_MS: u64 = 20;
/// Milliseconds from the last RTP packet to the BYE.
const BYE_AFTER_MEDIA_MS: u64 = 100;
/// G.711 payload of 20 ms.
const RTP_PAYLOAD: usize = 160;
/// Phones: 10.1.0.0/16.
const PHONE_BASE: u32 = u32::from_be_bytes([10, 1, 0, 1]);
/// The trunk.
pub const TRUNK: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);

/// The signalling steps of a call, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// INVITE with the offer, phone to trunk.
    Invite,
    /// 100 Trying.
    Trying,
    /// 180 Ringing.
    Ringing,
    /// 200 OK with the answer.
    Ok,
    /// ACK.
    Ack,
    /// One RTP packet each way (the number is the packet's index).
    Rtp(u32),
    /// BYE from the phone.
    Bye,
    /// 200 OK to the BYE.
    ByeOk,
}

/// One call's addresses, derived from its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// The call's number.
    pub id: u64,
    /// The phone's address.
    pub phone: Ipv4Addr,
    /// The phone's RTP port.
    pub phone_rtp: u16,
    /// The trunk's RTP port.
    pub trunk_rtp: u16,
}

impl Call {
    /// Call number `id` (phones are reused after 65 000 calls).
    pub fn new(id: u64) -> Call {
        let slot = (id % 65_000) as u32;
        Call {
            id,
            phone: Ipv4Addr::from(PHONE_BASE + slot),
            phone_rtp: 20_000 + 2 * (slot % 10_000) as u16,
            trunk_rtp: 40_000 + 2 * (slot % 10_000) as u16,
        }
    }

    fn sdp(&self, side: Side) -> String {
        let (user, addr, port) = match side {
            Side::Inside => ("alice", self.phone, self.phone_rtp),
            Side::Outside => ("bob", TRUNK, self.trunk_rtp),
        };
        format!(
            "v=0\r\no={user} {id} 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            id = self.id
        )
    }

    /// The SIP message text of `step` (`None` for RTP).
    pub fn sip_text(&self, step: Step) -> Option<String> {
        let (id, phone) = (self.id, self.phone);
        let via = |branch: u32| {
            format!("Via: SIP/2.0/UDP {phone}:{SIP_PORT};branch=z9hG4bK-{id}-{branch}\r\n")
        };
        let from = format!("From: <sip:alice-{id}@{phone}>;tag=a{id}\r\n");
        let to = format!("To: <sip:bob-{id}@{TRUNK}>");
        let to_tagged = format!("{to};tag=b{id}\r\n");
        let call_id = format!("Call-ID: call-{id}@{phone}\r\n");
        let ruri = format!("sip:bob-{id}@{TRUNK}:{SIP_PORT}");
        let request = |method: &str, cseq: u32, branch: u32, to: &str, body: Option<String>| {
            message(
                &format!("{method} {ruri} SIP/2.0\r\n"),
                &format!(
                    "{}Max-Forwards: 70\r\n{from}{to}{call_id}CSeq: {cseq} {method}\r\n\
                     Contact: <sip:alice-{id}@{phone}:{SIP_PORT}>\r\n",
                    via(branch)
                ),
                body,
            )
        };
        let response = |status: &str, cseq: &str, branch: u32, body: Option<String>| {
            message(
                &format!("SIP/2.0 {status}\r\n"),
                &format!(
                    "{}{from}{to_tagged}{call_id}CSeq: {cseq}\r\n\
                     Contact: <sip:bob-{id}@{TRUNK}:{SIP_PORT}>\r\n",
                    via(branch)
                ),
                body,
            )
        };
        Some(match step {
            Step::Invite => request(
                "INVITE",
                1,
                1,
                &format!("{to}\r\n"),
                Some(self.sdp(Side::Inside)),
            ),
            Step::Trying => response("100 Trying", "1 INVITE", 1, None),
            Step::Ringing => response("180 Ringing", "1 INVITE", 1, None),
            Step::Ok => response("200 OK", "1 INVITE", 1, Some(self.sdp(Side::Outside))),
            Step::Ack => request("ACK", 1, 2, &to_tagged, None),
            Step::Bye => request("BYE", 2, 3, &to_tagged, None),
            Step::ByeOk => response("200 OK", "2 BYE", 3, None),
            Step::Rtp(_) => return None,
        })
    }

    /// Who sends `step`.
    pub fn sender(step: Step) -> Side {
        match step {
            Step::Invite | Step::Ack | Step::Bye | Step::Rtp(_) => Side::Inside,
            Step::Trying | Step::Ringing | Step::Ok | Step::ByeOk => Side::Outside,
        }
    }

    /// The frame of SIP `step` (an Ethernet/IPv4/UDP frame between port 5060s).
    pub fn sip_frame(&self, step: Step) -> Option<Vec<u8>> {
        let text = self.sip_text(step)?;
        let (src, dst) = match Call::sender(step) {
            Side::Inside => (self.phone, TRUNK),
            Side::Outside => (TRUNK, self.phone),
        };
        Some(build::udp4_frame(
            src,
            dst,
            SIP_PORT,
            SIP_PORT,
            text.as_bytes(),
        ))
    }

    /// RTP packet `seq` from `side`, with room for the trailer at the end of the payload.
    pub fn rtp_frame(&self, side: Side, seq: u32) -> Vec<u8> {
        let mut rtp = Vec::with_capacity(12 + RTP_PAYLOAD);
        rtp.extend_from_slice(&[0x80, 0x00]);
        rtp.extend_from_slice(&(seq as u16).to_be_bytes());
        rtp.extend_from_slice(&seq.wrapping_mul(160).to_be_bytes());
        let ssrc = (self.id as u32).wrapping_mul(2).wrapping_add(side as u32);
        rtp.extend_from_slice(&ssrc.to_be_bytes());
        rtp.resize(12 + RTP_PAYLOAD.max(STAMP_LEN), 0xff);
        let ((src, sport), (dst, dport)) = match side {
            Side::Inside => ((self.phone, self.phone_rtp), (TRUNK, self.trunk_rtp)),
            Side::Outside => ((TRUNK, self.trunk_rtp), (self.phone, self.phone_rtp)),
        };
        build::udp4_frame(src, dst, sport, dport, &rtp)
    }
}

/// The call and step a SIP frame of this generator belongs to.
pub fn identify(frame: &[u8]) -> Option<(u64, Step)> {
    let text = frame.get(crate::frames::UDP_HEADERS..)?;
    let marker = b"Call-ID: call-";
    let at = text.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let digits = text
        .get(at..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let id: u64 = std::str::from_utf8(text.get(at..at + digits)?)
        .ok()?
        .parse()
        .ok()?;
    let bye = text.windows(9).any(|w| w == b"CSeq: 2 B");
    let step = if text.starts_with(b"INVITE ") {
        Step::Invite
    } else if text.starts_with(b"ACK ") {
        Step::Ack
    } else if text.starts_with(b"BYE ") {
        Step::Bye
    } else if text.starts_with(b"SIP/2.0 100") {
        Step::Trying
    } else if text.starts_with(b"SIP/2.0 180") {
        Step::Ringing
    } else if text.starts_with(b"SIP/2.0 200") && bye {
        Step::ByeOk
    } else if text.starts_with(b"SIP/2.0 200") {
        Step::Ok
    } else {
        return None;
    };
    Some((id, step))
}

fn message(start: &str, headers: &str, body: Option<String>) -> String {
    match body {
        Some(b) => format!(
            "{start}{headers}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ),
        None => format!("{start}{headers}Content-Length: 0\r\n\r\n"),
    }
}

/// The SIP call source.
#[derive(Debug)]
pub struct SipCalls {
    hold_ms: u64,
    cps: f64,
    next_call: u64,
    started_this_trial: u64,
    queue: BinaryHeap<Reverse<(u64, u64, Step)>>,
    /// Calls waiting for a signalling message to come out, and which.
    waiting: HashMap<u64, Step>,
    /// RTP packets per direction in a call.
    rtp_per_call: u32,
}

impl SipCalls {
    /// Calls held `hold_ms` milliseconds (RTP flows for that long).
    pub fn new(hold_ms: u64) -> SipCalls {
        SipCalls {
            hold_ms,
            cps: 0.0,
            next_call: 0,
            started_this_trial: 0,
            queue: BinaryHeap::new(),
            waiting: HashMap::new(),
            rtp_per_call: (hold_ms / RTP_INTERVAL_MS) as u32,
        }
    }

    /// Calls in progress.
    #[cfg(test)]
    pub fn active_calls(&self) -> usize {
        self.queue.len() + self.waiting.len()
    }

    fn next_step(&self, step: Step) -> Option<(u64, Step)> {
        let ms = |m: u64| m * 1_000_000;
        Some(match step {
            Step::Invite => (ms(STEP_MS), Step::Trying),
            Step::Trying => (ms(STEP_MS), Step::Ringing),
            Step::Ringing => (ms(STEP_MS), Step::Ok),
            Step::Ok => (ms(STEP_MS), Step::Ack),
            Step::Ack if self.rtp_per_call > 0 => (ms(STEP_MS), Step::Rtp(0)),
            Step::Ack => (ms(self.hold_ms), Step::Bye),
            Step::Rtp(k) if k + 1 < self.rtp_per_call => (ms(RTP_INTERVAL_MS), Step::Rtp(k + 1)),
            Step::Rtp(_) => (ms(BYE_AFTER_MEDIA_MS), Step::Bye),
            Step::Bye => (ms(STEP_MS), Step::ByeOk),
            Step::ByeOk => return None,
        })
    }
}

impl Source for SipCalls {
    fn rate_unit(&self) -> &'static str {
        "cps"
    }

    /// Per call: 7 SIP messages and 2 x 50 RTP packets per second of hold time.
    fn frames_per_second(&self, rate: f64) -> f64 {
        rate * (7.0 + 2.0 * f64::from(self.rtp_per_call))
    }

    fn setup_round_len(&self, _round: usize) -> Option<usize> {
        None
    }

    fn setup_frame(&mut self, _round: usize, _index: usize, _emit: &mut dyn FnMut(Emit<'_>)) {}

    fn start(&mut self, rate: f64) {
        self.cps = rate;
        self.started_this_trial = 0;
        // Calls of an earlier trial (stalled or unfinished) are abandoned: their times
        // are on the old trial's clock.
        self.queue.clear();
        self.waiting.clear();
    }

    fn delivered(&mut self, now_ns: u64, _side: Side, frame: &[u8]) -> bool {
        let Some((id, step)) = identify(frame) else {
            return false;
        };
        if self.waiting.get(&id) != Some(&step) {
            return false;
        }
        self.waiting.remove(&id);
        if let Some((delay, next)) = self.next_step(step) {
            self.queue.push(Reverse((now_ns + delay, id, next)));
        }
        true
    }

    fn poll(
        &mut self,
        now_ns: u64,
        stop_new: bool,
        budget: usize,
        emit: &mut dyn FnMut(Emit<'_>),
    ) -> bool {
        if !stop_new {
            // Call k starts at k / cps: the first at once.
            let started_by_now = if self.cps > 0.0 {
                super::due(self.cps, now_ns, 0) + 1
            } else {
                0
            };
            let owed = started_by_now.saturating_sub(self.started_this_trial);
            for _ in 0..owed {
                let at = (self.started_this_trial as f64 * 1e9 / self.cps.max(1e-9)) as u64;
                self.queue.push(Reverse((at, self.next_call, Step::Invite)));
                self.next_call += 1;
                self.started_this_trial += 1;
            }
        }
        let mut sent = 0;
        while sent < budget {
            let Some(Reverse((at, id, step))) = self.queue.peek().copied() else {
                break;
            };
            if at > now_ns {
                break;
            }
            self.queue.pop();
            let call = Call::new(id);
            if let Step::Rtp(k) = step {
                for side in [Side::Inside, Side::Outside] {
                    let frame = call.rtp_frame(side, k);
                    emit(Emit {
                        side,
                        class: Class::Rtp,
                        frame: &frame,
                        stamped: true,
                    });
                }
                sent += 2;
                if let Some((delay, next)) = self.next_step(step) {
                    self.queue.push(Reverse((at + delay, id, next)));
                }
            } else if let Some(frame) = call.sip_frame(step) {
                emit(Emit {
                    side: Call::sender(step),
                    class: Class::Sip,
                    frame: &frame,
                    stamped: false,
                });
                sent += 1;
                self.waiting.insert(id, step);
            }
        }
        stop_new && self.queue.is_empty() && self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::testing::run;
    use pinhole_dataplane::inspect::sip::{ParseLimits, SipMessage};
    use pinhole_dataplane::packet::{parse, Parsed};

    fn payload(frame: &[u8]) -> &[u8] {
        let Ok(Parsed::Ip(s)) = parse(frame) else {
            panic!("unparsable")
        };
        let r = s.payload_range().unwrap_or(0..0);
        &frame[r]
    }

    #[test]
    fn every_message_parses_back_and_the_sdp_announces_the_rtp_ports() {
        let call = Call::new(1234);
        let limits = ParseLimits::default();
        for step in [
            Step::Invite,
            Step::Trying,
            Step::Ringing,
            Step::Ok,
            Step::Ack,
            Step::Bye,
            Step::ByeOk,
        ] {
            let frame = call.sip_frame(step).unwrap_or_default();
            let text = payload(&frame);
            let msg =
                SipMessage::parse(text, &limits).unwrap_or_else(|e| panic!("{step:?}: {e:?}"));
            assert_eq!(
                msg.len(),
                text.len(),
                "{step:?}: the whole datagram is one message"
            );
            assert_eq!(msg.is_request(), Call::sender(step) == Side::Inside);
            if matches!(step, Step::Invite | Step::Ok) {
                let sdp = String::from_utf8_lossy(msg.body()).into_owned();
                let port = if step == Step::Invite {
                    call.phone_rtp
                } else {
                    call.trunk_rtp
                };
                assert!(sdp.contains(&format!("m=audio {port} RTP/AVP 0")), "{sdp}");
                assert_eq!(msg.content_length(), Some(msg.body().len() as u32));
            } else {
                assert!(msg.body().is_empty());
            }
        }
    }

    #[test]
    fn rtp_frames_go_between_the_announced_ports_with_room_for_the_stamp() {
        let call = Call::new(7);
        let f = call.rtp_frame(Side::Outside, 3);
        let Ok(Parsed::Ip(s)) = parse(&f) else {
            panic!("unparsable")
        };
        assert_eq!(s.src, std::net::IpAddr::V4(TRUNK));
        assert_eq!(s.dst, std::net::IpAddr::V4(call.phone));
        let p = payload(&f);
        assert_eq!(p.len(), 12 + RTP_PAYLOAD);
        assert_eq!(p[0], 0x80);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 3);
    }

    #[test]
    fn a_call_runs_its_ladder_then_rtp_then_bye() {
        // 1 call per second for 1 s, held 100 ms: 5 RTP packets each way.
        let mut src = SipCalls::new(100);
        let out = run(&mut src, 1.0, 1_000_000_000, 1_000_000, 2_000_000_000);
        let sip: Vec<&[u8]> = out
            .iter()
            .filter(|(_, e)| e.class == Class::Sip)
            .map(|(_, e)| payload(&e.frame))
            .collect();
        let starts: Vec<String> = sip
            .iter()
            .map(|p| {
                String::from_utf8_lossy(p)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(starts.len(), 7, "{starts:?}");
        assert!(starts[0].starts_with("INVITE"));
        assert!(starts[1].starts_with("SIP/2.0 100"));
        assert!(starts[2].starts_with("SIP/2.0 180"));
        assert!(starts[3].starts_with("SIP/2.0 200"));
        assert!(starts[4].starts_with("ACK"));
        assert!(starts[5].starts_with("BYE"));
        assert!(starts[6].starts_with("SIP/2.0 200"));
        let rtp: Vec<_> = out.iter().filter(|(_, e)| e.class == Class::Rtp).collect();
        assert_eq!(rtp.len(), 10);
        assert!(rtp.iter().all(|(_, e)| e.stamped));
        // RTP starts after the ACK and ends before the BYE; packets 20 ms apart.
        let ack_at = out
            .iter()
            .find(|(_, e)| e.class == Class::Sip && payload(&e.frame).starts_with(b"ACK"))
            .map(|(t, _)| *t);
        let bye_at = out
            .iter()
            .find(|(_, e)| payload(&e.frame).starts_with(b"BYE"))
            .map(|(t, _)| *t);
        let (first, last) = (rtp[0].0, rtp[rtp.len() - 1].0);
        assert!(ack_at.is_some_and(|a| a < first));
        assert!(bye_at.is_some_and(|b| b > last));
        assert_eq!(last - first, 4 * 20_000_000);
        assert_eq!(src.active_calls(), 0);
        assert_eq!(src.frames_per_second(1.0), 17.0);
    }

    #[test]
    fn every_message_is_identified_and_a_lost_one_stalls_its_call() {
        let call = Call::new(4242);
        for step in [
            Step::Invite,
            Step::Trying,
            Step::Ringing,
            Step::Ok,
            Step::Ack,
            Step::Bye,
            Step::ByeOk,
        ] {
            let frame = call.sip_frame(step).unwrap_or_default();
            assert_eq!(identify(&frame), Some((4242, step)));
        }
        assert_eq!(identify(&call.rtp_frame(Side::Inside, 1)), None);
        // Nothing delivered: the INVITE goes out, then the call waits.
        let mut src = SipCalls::new(100);
        src.start(1.0);
        let mut sent = 0;
        for ms in 0..500u64 {
            src.poll(ms * 1_000_000, ms > 0, usize::MAX, &mut |_| sent += 1);
        }
        assert_eq!(sent, 1);
        assert_eq!(src.active_calls(), 1);
        // A delivery of another call's message or another step changes nothing and does
        // not count as received; the awaited message does, once (a duplicate does not).
        let other_call = Call::new(9).sip_frame(Step::Invite).unwrap_or_default();
        assert!(!src.delivered(0, Side::Outside, &other_call));
        let other_step = call.sip_frame(Step::Ack).unwrap_or_default();
        assert!(!src.delivered(0, Side::Outside, &other_step));
        let first = Call::new(0).sip_frame(Step::Invite).unwrap_or_default();
        assert!(src.delivered(600_000_000, Side::Outside, &first));
        assert!(!src.delivered(600_000_000, Side::Outside, &first));
        let mut steps = Vec::new();
        src.poll(602_000_000, true, usize::MAX, &mut |e| {
            steps.push(identify(e.frame))
        });
        assert_eq!(steps, vec![Some((0, Step::Trying))]);
        // A new trial abandons it.
        src.start(1.0);
        assert_eq!(src.active_calls(), 0);
    }

    #[test]
    fn the_call_rate_is_kept_and_calls_in_progress_finish_after_stop() {
        let mut src = SipCalls::new(1_000);
        let out = run(&mut src, 50.0, 2_000_000_000, 1_000_000, 5_000_000_000);
        let invites = out
            .iter()
            .filter(|(_, e)| payload(&e.frame).starts_with(b"INVITE"))
            .count();
        let byes = out
            .iter()
            .filter(|(_, e)| payload(&e.frame).starts_with(b"BYE"))
            .count();
        assert_eq!(invites, 100);
        assert_eq!(byes, 100);
        assert_eq!(
            out.iter().filter(|(_, e)| e.class == Class::Rtp).count(),
            100 * 2 * 50
        );
    }
}
