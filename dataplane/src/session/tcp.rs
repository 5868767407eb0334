//! The per-session TCP connection tracker: handshake, data, FIN exchange and RST,
//! with invalid transitions reported (the caller drops and counts them).
//!
//! The tracker keeps a few bits and sequence numbers per direction and derives the
//! connection state from them, so simultaneous open and half-close need no extra
//! states. Sequence checking is deliberately basic: SYN-ACKs and handshake ACKs must
//! acknowledge the peer's SYN, an RST must sit within [`RST_WINDOW`] of the sender's
//! highest sequence number seen, and no payload may follow a FIN.

use super::key::Direction;

/// How far (in sequence space, either side of the sender's highest sequence number
/// seen) an RST is still believed. Blind RST injection must guess within it.
pub const RST_WINDOW: u32 = 1 << 20;

/// TCP header flags: the parser's type, so a parsed segment feeds the tracker as is.
pub use crate::packet::TcpFlags;

/// What the tracker needs of one TCP segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpSegment {
    /// The header flags.
    pub flags: TcpFlags,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with ACK).
    pub ack: u32,
    /// Payload length in bytes.
    pub payload_len: u32,
}

impl TcpSegment {
    /// A segment from its parts.
    pub const fn new(flags: TcpFlags, seq: u32, ack: u32, payload_len: u32) -> Self {
        TcpSegment {
            flags,
            seq,
            ack,
            payload_len,
        }
    }

    /// Sequence space this segment occupies (payload, plus one each for SYN and FIN).
    fn seq_len(&self) -> u32 {
        let syn = u32::from(self.flags.contains(TcpFlags::SYN));
        let fin = u32::from(self.flags.contains(TcpFlags::FIN));
        self.payload_len.wrapping_add(syn).wrapping_add(fin)
    }
}

/// Operator switches for TCP tracking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpPolicy {
    /// Accept a connection whose first packet seen is not a SYN (it was established
    /// before the engine saw it, e.g. after a restart or failover) as ESTABLISHED.
    /// Off by default: a firewall should see the handshake.
    pub midstream_pickup: bool,
}

/// The state of a tracked TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// One side sent a SYN; nothing came back yet.
    SynSent,
    /// Both sides sent a SYN (SYN-ACK or simultaneous open); handshake not complete.
    SynReceived,
    /// Both SYNs acknowledged.
    Established,
    /// One side sent a FIN that is not acknowledged yet.
    FinWait,
    /// One side's FIN is acknowledged; the other side may still send (half-close).
    CloseWait,
    /// Both sides sent a FIN; not both are acknowledged.
    LastAck,
    /// Both FINs acknowledged.
    TimeWait,
    /// Reset.
    Closed,
}

impl TcpState {
    /// Stable upper-case name (the conventional one) for dumps.
    pub const fn as_str(self) -> &'static str {
        match self {
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynReceived => "SYN_RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Closed => "CLOSED",
        }
    }

    /// Whether the connection counts as half-open (for `max_incomplete`).
    pub const fn is_half_open(self) -> bool {
        matches!(self, TcpState::SynSent | TcpState::SynReceived)
    }

    /// Whether the connection is over (FIN exchange done or reset).
    pub const fn is_closing(self) -> bool {
        matches!(
            self,
            TcpState::LastAck | TcpState::TimeWait | TcpState::Closed
        )
    }
}

/// Why a TCP segment was judged invalid. Each reason is a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcpInvalid {
    /// A flag combination no stack sends (SYN+FIN, SYN+RST, no flags, FIN without ACK...).
    InvalidFlags,
    /// The first packet of a new connection is not a SYN and mid-stream pickup is off.
    NotSynFirst,
    /// A SYN-ACK with no SYN from the other side.
    SynAckWithoutSyn,
    /// A SYN-ACK that does not acknowledge the other side's SYN.
    SynAckBadAck,
    /// An ACK or data before both sides sent a SYN.
    DataBeforeHandshake,
    /// A handshake ACK that does not acknowledge the other side's SYN.
    HandshakeBadAck,
    /// A SYN on a connection past its handshake (not a retransmitted SYN-ACK).
    SynOnEstablished,
    /// An RST too far from the sender's sequence numbers (or not acking a SYN).
    RstOutOfWindow,
    /// An RST as the first packet of a connection.
    RstWithoutSession,
    /// Payload beyond the sender's own FIN.
    DataAfterFin,
    /// A non-SYN segment after the connection was reset.
    AfterClose,
}

impl TcpInvalid {
    /// Every reason, in a stable order (for counters).
    pub const ALL: [TcpInvalid; 11] = [
        TcpInvalid::InvalidFlags,
        TcpInvalid::NotSynFirst,
        TcpInvalid::SynAckWithoutSyn,
        TcpInvalid::SynAckBadAck,
        TcpInvalid::DataBeforeHandshake,
        TcpInvalid::HandshakeBadAck,
        TcpInvalid::SynOnEstablished,
        TcpInvalid::RstOutOfWindow,
        TcpInvalid::RstWithoutSession,
        TcpInvalid::DataAfterFin,
        TcpInvalid::AfterClose,
    ];

    /// Number of reasons.
    pub const COUNT: usize = Self::ALL.len();

    /// Stable snake_case name for counters and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            TcpInvalid::InvalidFlags => "invalid_flags",
            TcpInvalid::NotSynFirst => "not_syn_first",
            TcpInvalid::SynAckWithoutSyn => "syn_ack_without_syn",
            TcpInvalid::SynAckBadAck => "syn_ack_bad_ack",
            TcpInvalid::DataBeforeHandshake => "data_before_handshake",
            TcpInvalid::HandshakeBadAck => "handshake_bad_ack",
            TcpInvalid::SynOnEstablished => "syn_on_established",
            TcpInvalid::RstOutOfWindow => "rst_out_of_window",
            TcpInvalid::RstWithoutSession => "rst_without_session",
            TcpInvalid::DataAfterFin => "data_after_fin",
            TcpInvalid::AfterClose => "after_close",
        }
    }

    /// Dense index in [`TcpInvalid::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// The tracker's judgement of one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpVerdict {
    /// The segment fits the connection; state updated.
    Accept,
    /// The segment does not fit; state unchanged. Drop and count it.
    Invalid(TcpInvalid),
}

// Per-direction knowledge bits.
const SYN_SEEN: u8 = 0x01; // this side's SYN seen (or assumed on pickup)
const SYN_ACKED: u8 = 0x02; // the other side acknowledged this side's SYN
const FIN_SEEN: u8 = 0x04;
const FIN_ACKED: u8 = 0x08;
const SEQ_KNOWN: u8 = 0x10; // `end` is valid
const ISN_KNOWN: u8 = 0x20; // `isn` is valid (a real SYN was seen)

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Side {
    isn: u32,
    /// One past the highest sequence number this side sent.
    end: u32,
    /// Sequence number of this side's FIN.
    fin_seq: u32,
    bits: u8,
}

impl Side {
    fn has(&self, bit: u8) -> bool {
        self.bits & bit != 0
    }

    fn syn(seq: u32, seg: &TcpSegment) -> Side {
        Side {
            isn: seq,
            end: seq.wrapping_add(seg.seq_len()),
            fin_seq: 0,
            bits: SYN_SEEN | SEQ_KNOWN | ISN_KNOWN,
        }
    }

    /// Whether `ack` acknowledges this side's SYN (and possibly data sent with it).
    fn acked_by(&self, ack: u32) -> bool {
        if !self.has(ISN_KNOWN) {
            return true;
        }
        let first = self.isn.wrapping_add(1);
        ack.wrapping_sub(first) <= self.end.wrapping_sub(first)
    }

    fn advance(&mut self, seg: &TcpSegment) {
        let end = seg.seq.wrapping_add(seg.seq_len());
        if !self.has(SEQ_KNOWN) || seq_after(end, self.end) {
            self.end = end;
            self.bits |= SEQ_KNOWN;
        }
    }
}

/// Whether sequence number `a` is after `b` (modulo 2^32).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

fn check_flags(flags: TcpFlags) -> Result<(), TcpInvalid> {
    const CORE: u8 = 0x01 | 0x02 | 0x04 | 0x10;
    let core = flags.0 & CORE;
    let fin = TcpFlags::FIN.0;
    let syn = TcpFlags::SYN.0;
    let rst = TcpFlags::RST.0;
    let ack = TcpFlags::ACK.0;
    let valid = core == syn
        || core == syn | ack
        || core == rst
        || core == rst | ack
        || core == fin | ack
        || core == ack;
    if valid {
        Ok(())
    } else {
        Err(TcpInvalid::InvalidFlags)
    }
}

/// One TCP connection's tracked state (24 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpTracker {
    sides: [Side; 2],
    state: TcpState,
}

impl TcpTracker {
    /// Start tracking with the first segment seen, sent by the initiator.
    ///
    /// A SYN opens a half-open connection. Anything else is refused unless
    /// `policy.midstream_pickup`, in which case an ACK-bearing segment is taken as
    /// part of an ESTABLISHED connection (or one half-closed, for a FIN).
    pub fn open(seg: &TcpSegment, policy: TcpPolicy) -> Result<TcpTracker, TcpInvalid> {
        check_flags(seg.flags)?;
        let f = seg.flags;
        if f.contains(TcpFlags::RST) {
            return Err(TcpInvalid::RstWithoutSession);
        }
        if f.contains(TcpFlags::SYN) {
            if f.contains(TcpFlags::ACK) {
                return Err(TcpInvalid::SynAckWithoutSyn);
            }
            return Ok(TcpTracker {
                sides: [Side::syn(seg.seq, seg), Side::default()],
                state: TcpState::SynSent,
            });
        }
        if !policy.midstream_pickup {
            return Err(TcpInvalid::NotSynFirst);
        }
        let assumed = SYN_SEEN | SYN_ACKED;
        let mut first = Side {
            bits: assumed,
            ..Side::default()
        };
        first.advance(seg);
        let mut tracker = TcpTracker {
            sides: [
                first,
                Side {
                    bits: assumed,
                    ..Side::default()
                },
            ],
            state: TcpState::Established,
        };
        if f.contains(TcpFlags::FIN) {
            tracker.note_fin(0, seg);
        }
        tracker.state = tracker.derive();
        Ok(tracker)
    }

    /// The connection state.
    pub const fn state(&self) -> TcpState {
        self.state
    }

    /// Judge segment `seg` travelling in `dir` and update the state if it fits.
    pub fn update(&mut self, dir: Direction, seg: &TcpSegment) -> TcpVerdict {
        let mut next = *self;
        match next.apply(dir.index(), seg) {
            Ok(()) => {
                *self = next;
                TcpVerdict::Accept
            }
            Err(reason) => TcpVerdict::Invalid(reason),
        }
    }

    fn side(&mut self, i: usize) -> &mut Side {
        // `i` is always 0 or 1 (a Direction index); the fallback only satisfies the
        // no-indexing rule without a panic path.
        let [a, b] = &mut self.sides;
        if i == 0 {
            a
        } else {
            b
        }
    }

    fn get(&self, i: usize) -> Side {
        let [a, b] = self.sides;
        if i == 0 {
            a
        } else {
            b
        }
    }

    fn apply(&mut self, d: usize, seg: &TcpSegment) -> Result<(), TcpInvalid> {
        check_flags(seg.flags)?;
        let o = 1 - d;
        let f = seg.flags;
        if f.contains(TcpFlags::RST) {
            return self.apply_rst(d, o, seg);
        }
        let syn_only = f.contains(TcpFlags::SYN) && !f.contains(TcpFlags::ACK);
        match self.state {
            TcpState::Closed | TcpState::TimeWait if syn_only => {
                // Port reuse: a fresh handshake replaces the finished connection.
                self.sides = [Side::default(), Side::default()];
                *self.side(d) = Side::syn(seg.seq, seg);
                self.state = TcpState::SynSent;
                return Ok(());
            }
            TcpState::Closed => return Err(TcpInvalid::AfterClose),
            TcpState::SynSent | TcpState::SynReceived => self.apply_handshake(d, o, seg)?,
            _ => self.apply_established(d, o, seg)?,
        }
        self.state = self.derive();
        Ok(())
    }

    fn apply_rst(&mut self, d: usize, o: usize, seg: &TcpSegment) -> Result<(), TcpInvalid> {
        if self.state == TcpState::Closed {
            return Ok(());
        }
        let sender = self.get(d);
        let peer = self.get(o);
        let believable = if sender.has(SEQ_KNOWN) {
            let dist = seg.seq.wrapping_sub(sender.end);
            dist <= RST_WINDOW || dist.wrapping_neg() <= RST_WINDOW
        } else if peer.has(ISN_KNOWN) && !peer.has(SYN_ACKED) {
            // Refusing a SYN: the RST must acknowledge it.
            seg.flags.contains(TcpFlags::ACK) && peer.acked_by(seg.ack)
        } else {
            // Nothing known about the sender's sequence space (mid-stream pickup).
            true
        };
        if !believable {
            return Err(TcpInvalid::RstOutOfWindow);
        }
        self.state = TcpState::Closed;
        Ok(())
    }

    fn apply_handshake(&mut self, d: usize, o: usize, seg: &TcpSegment) -> Result<(), TcpInvalid> {
        let f = seg.flags;
        let peer = self.get(o);
        if f.contains(TcpFlags::SYN) {
            let me = self.get(d);
            if f.contains(TcpFlags::ACK) {
                if !peer.has(SYN_SEEN) {
                    return Err(TcpInvalid::SynAckWithoutSyn);
                }
                if !peer.acked_by(seg.ack) {
                    return Err(TcpInvalid::SynAckBadAck);
                }
                self.side(o).bits |= SYN_ACKED;
            }
            if !me.has(SYN_SEEN) || !me.has(SYN_ACKED) {
                // First SYN from this side, or a retransmission (possibly with a new ISN
                // after a failed attempt): the latest one counts.
                let acked = me.bits & SYN_ACKED;
                *self.side(d) = Side::syn(seg.seq, seg);
                self.side(d).bits |= acked;
            }
            return Ok(());
        }
        let me = self.get(d);
        if !me.has(SYN_SEEN) || !peer.has(SYN_SEEN) {
            return Err(TcpInvalid::DataBeforeHandshake);
        }
        if !peer.has(SYN_ACKED) {
            if !peer.acked_by(seg.ack) {
                return Err(TcpInvalid::HandshakeBadAck);
            }
            self.side(o).bits |= SYN_ACKED;
        }
        if self.derive() == TcpState::Established || !seg.flags.contains(TcpFlags::FIN) {
            // The ACK that completes the handshake may carry data (and a FIN).
            return self.apply_established(d, o, seg);
        }
        Err(TcpInvalid::DataBeforeHandshake)
    }

    fn apply_established(
        &mut self,
        d: usize,
        o: usize,
        seg: &TcpSegment,
    ) -> Result<(), TcpInvalid> {
        let f = seg.flags;
        let me = self.get(d);
        let peer = self.get(o);
        if f.contains(TcpFlags::SYN) {
            // A SYN-ACK retransmitted because the handshake ACK was lost is harmless.
            let retransmit = f.contains(TcpFlags::ACK)
                && me.has(ISN_KNOWN)
                && seg.seq == me.isn
                && peer.acked_by(seg.ack);
            return if retransmit {
                Ok(())
            } else {
                Err(TcpInvalid::SynOnEstablished)
            };
        }
        if me.has(FIN_SEEN) && seg.payload_len > 0 {
            let end = seg.seq.wrapping_add(seg.payload_len);
            if seq_after(end, me.fin_seq) {
                return Err(TcpInvalid::DataAfterFin);
            }
        }
        if f.contains(TcpFlags::FIN) {
            self.note_fin(d, seg);
        }
        if f.contains(TcpFlags::ACK) && peer.has(FIN_SEEN) {
            let fin_end = peer.fin_seq.wrapping_add(1);
            if !seq_after(fin_end, seg.ack) {
                self.side(o).bits |= FIN_ACKED;
            }
        }
        self.side(d).advance(seg);
        Ok(())
    }

    fn note_fin(&mut self, d: usize, seg: &TcpSegment) {
        let side = self.side(d);
        if !side.has(FIN_SEEN) {
            side.bits |= FIN_SEEN;
            side.fin_seq = seg.seq.wrapping_add(seg.payload_len);
        }
    }

    fn derive(&self) -> TcpState {
        if self.state == TcpState::Closed {
            return TcpState::Closed;
        }
        let [a, b] = self.sides;
        let synced = |s: &Side| s.has(SYN_SEEN) && s.has(SYN_ACKED);
        if !(synced(&a) && synced(&b)) {
            return if a.has(SYN_SEEN) && b.has(SYN_SEEN) {
                TcpState::SynReceived
            } else {
                TcpState::SynSent
            };
        }
        let fins = u8::from(a.has(FIN_SEEN)) + u8::from(b.has(FIN_SEEN));
        let acked = u8::from(a.has(FIN_ACKED)) + u8::from(b.has(FIN_ACKED));
        match (fins, acked) {
            (0, _) => TcpState::Established,
            (1, 0) => TcpState::FinWait,
            (1, _) => TcpState::CloseWait,
            (_, 2) => TcpState::TimeWait,
            _ => TcpState::LastAck,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_is_compact() {
        assert!(std::mem::size_of::<TcpTracker>() <= 36);
    }

    #[test]
    fn reason_index_matches_all() {
        for (i, r) in TcpInvalid::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
