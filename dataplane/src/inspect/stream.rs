//! TCP stream reassembly for control connections (SIP over TCP, Skinny), sans-IO.
//!
//! One [`StreamReassembler`] follows one direction of a connection. It is fed the TCP
//! sequence number and payload of each segment as the pipeline sees them and hands every
//! complete application message to the caller exactly once, in order, whatever the
//! segmentation: several messages per segment, one message across many segments,
//! retransmissions (dropped), overlaps (trimmed) and reordering (a bounded queue).
//!
//! Message boundaries are the caller's business: a framer callback looks at the
//! contiguous in-order bytes and answers [`FrameResult`]. When a message lies entirely
//! inside one in-order segment and nothing is buffered, it is delivered straight from
//! the segment (zero copy); only an incomplete tail is copied, into a buffer whose size
//! is bounded by [`StreamConfig::max_buffered`]. Buffers are reused, so a stream in
//! steady state does not allocate.
//!
//! Sequence numbers use wrapping (RFC 1982 style) arithmetic: an offset from the next
//! expected byte is interpreted as a signed 32-bit distance.

/// What the framer says about the bytes it was shown (which always start at a message
/// boundary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameResult {
    /// The first `len` bytes are one complete message (`len` > 0).
    Complete(usize),
    /// The bytes are the beginning of a message; more are needed.
    NeedMore,
    /// The bytes cannot be the start of a valid message.
    Invalid,
}

/// Bounds of one stream's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// Largest incomplete message kept while waiting for the rest; a message that needs
    /// more is reported as [`StreamError::Overflow`].
    pub max_buffered: usize,
    /// How many out-of-order segments may wait for a gap to fill.
    pub max_out_of_order_segments: usize,
    /// How many bytes those segments may hold together.
    pub max_out_of_order_bytes: usize,
    /// How far ahead of the next expected byte a segment may start and still be queued.
    pub max_out_of_order_distance: u32,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            max_buffered: 8 * 1024,
            max_out_of_order_segments: 8,
            max_out_of_order_bytes: 32 * 1024,
            max_out_of_order_distance: 256 * 1024,
        }
    }
}

/// Where the stream starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamStart {
    /// The SYN was seen with this initial sequence number; data starts at `isn + 1`.
    Syn(u32),
    /// Joined mid-stream: the first segment seen defines the base.
    MidStream,
}

/// A failure that stops message delivery until [`StreamReassembler::resynchronise`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamError {
    /// The framer rejected the bytes at a message boundary (or answered nonsense such as
    /// `Complete(0)` or a length beyond the bytes it was shown).
    Invalid,
    /// An incomplete message outgrew [`StreamConfig::max_buffered`].
    Overflow,
}

/// What happened to the segment just fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentDisposition {
    /// No payload.
    Empty,
    /// New in-order bytes (possibly after trimming an overlap with bytes already seen).
    InOrder,
    /// Every byte had been seen before.
    Retransmission,
    /// Ahead of a gap; queued until the gap fills.
    Queued,
    /// Ahead of a gap but the out-of-order queue is full or the segment is too far
    /// ahead; dropped (the sender will retransmit it).
    QueueFull,
    /// The stream has failed; in-order bytes were consumed without being framed.
    Discarded,
}

/// The result of feeding one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedReport {
    /// What happened to the segment itself.
    pub disposition: SegmentDisposition,
    /// Messages delivered during this call (from this segment and any queued ones it
    /// released).
    pub messages: u32,
    /// A failure that happened during this call.
    pub error: Option<StreamError>,
}

/// Per-stream counters (the pipeline sums them into its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Segments fed with payload.
    pub segments: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Messages delivered straight from a segment, without copying.
    pub zero_copy_messages: u64,
    /// Segments whose bytes had all been seen.
    pub retransmissions: u64,
    /// Segments that overlapped bytes already seen and were trimmed.
    pub overlaps_trimmed: u64,
    /// Segments queued out of order.
    pub out_of_order_queued: u64,
    /// Out-of-order segments dropped because the queue was full or they were too far ahead.
    pub out_of_order_dropped: u64,
    /// Framer rejections.
    pub invalid: u64,
    /// Buffer overflows.
    pub overflows: u64,
    /// Bytes consumed while failed.
    pub discarded_bytes: u64,
    /// Resynchronisations requested by the caller.
    pub resyncs: u64,
}

/// A segment waiting for a gap to fill. Slots are reused to avoid allocating.
#[derive(Debug, Default)]
struct QueuedSegment {
    seq: u32,
    data: Vec<u8>,
    used: bool,
}

/// Reassembles one direction of a TCP connection into framed messages.
#[derive(Debug)]
pub struct StreamReassembler {
    config: StreamConfig,
    /// Next expected sequence number; `None` until a mid-stream start sees its first segment.
    next_seq: Option<u32>,
    /// Incomplete message tail, starting at a message boundary.
    tail: Vec<u8>,
    queue: Vec<QueuedSegment>,
    queued_bytes: usize,
    failed: Option<StreamError>,
    counters: StreamCounters,
}

/// Signed distance from `base` to `seq` in sequence space.
#[inline]
fn seq_offset(seq: u32, base: u32) -> i64 {
    // Reinterpreting the wrapped difference as i32 is the RFC 1982 comparison.
    i64::from(seq.wrapping_sub(base) as i32)
}

impl StreamReassembler {
    /// A reassembler that starts as `start` says.
    pub fn new(config: StreamConfig, start: StreamStart) -> Self {
        let next_seq = match start {
            StreamStart::Syn(isn) => Some(isn.wrapping_add(1)),
            StreamStart::MidStream => None,
        };
        StreamReassembler {
            config,
            next_seq,
            tail: Vec::new(),
            queue: Vec::new(),
            queued_bytes: 0,
            failed: None,
            counters: StreamCounters::default(),
        }
    }

    /// The next sequence number expected, once known.
    pub fn next_seq(&self) -> Option<u32> {
        self.next_seq
    }

    /// Bytes of an incomplete message currently buffered.
    pub fn buffered(&self) -> usize {
        self.tail.len()
    }

    /// Bytes held in out-of-order segments.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// The failure that stopped delivery, if any.
    pub fn failure(&self) -> Option<StreamError> {
        self.failed
    }

    /// This stream's counters.
    pub fn counters(&self) -> &StreamCounters {
        &self.counters
    }

    /// Forget the failure and the incomplete tail: the next in-order byte is taken as the
    /// start of a message. Sequence tracking and queued segments are kept.
    pub fn resynchronise(&mut self) {
        self.failed = None;
        self.tail.clear();
        self.counters.resyncs += 1;
    }

    /// Feed one segment's payload. `frame` is shown contiguous in-order bytes starting
    /// at a message boundary; `deliver` receives each complete message once, in order.
    pub fn feed<F, D>(
        &mut self,
        seq: u32,
        payload: &[u8],
        mut frame: F,
        mut deliver: D,
    ) -> FeedReport
    where
        F: FnMut(&[u8]) -> FrameResult,
        D: FnMut(&[u8]),
    {
        let mut report = FeedReport {
            disposition: SegmentDisposition::Empty,
            messages: 0,
            error: None,
        };
        if payload.is_empty() {
            return report;
        }
        self.counters.segments += 1;
        let next = *self.next_seq.get_or_insert(seq);
        let offset = seq_offset(seq, next);
        if offset > 0 {
            report.disposition = self.enqueue(seq, offset, payload);
            return report;
        }
        let skip = usize::try_from(offset.unsigned_abs()).unwrap_or(usize::MAX);
        let Some(fresh) = payload.get(skip..).filter(|rest| !rest.is_empty()) else {
            self.counters.retransmissions += 1;
            report.disposition = SegmentDisposition::Retransmission;
            return report;
        };
        if skip > 0 {
            self.counters.overlaps_trimmed += 1;
        }
        report.disposition = if self.failed.is_some() {
            SegmentDisposition::Discarded
        } else {
            SegmentDisposition::InOrder
        };
        self.consume_in_order(fresh, &mut frame, &mut deliver, &mut report);
        self.release_queued(&mut frame, &mut deliver, &mut report);
        report
    }

    /// Queue a segment that starts `offset` (> 0) bytes after the next expected byte.
    fn enqueue(&mut self, seq: u32, offset: i64, payload: &[u8]) -> SegmentDisposition {
        let too_far = offset > i64::from(self.config.max_out_of_order_distance);
        let duplicate = self
            .queue
            .iter()
            .any(|q| q.used && q.seq == seq && q.data.len() >= payload.len());
        if duplicate {
            self.counters.retransmissions += 1;
            return SegmentDisposition::Retransmission;
        }
        let in_use = self.queue.iter().filter(|q| q.used).count();
        let over_bytes =
            self.queued_bytes.saturating_add(payload.len()) > self.config.max_out_of_order_bytes;
        if too_far || over_bytes || in_use >= self.config.max_out_of_order_segments {
            self.counters.out_of_order_dropped += 1;
            return SegmentDisposition::QueueFull;
        }
        let slot = match self.queue.iter().position(|q| !q.used) {
            Some(i) => i,
            None => {
                self.queue.push(QueuedSegment::default());
                self.queue.len() - 1
            }
        };
        if let Some(q) = self.queue.get_mut(slot) {
            q.seq = seq;
            q.data.clear();
            q.data.extend_from_slice(payload);
            q.used = true;
            self.queued_bytes += payload.len();
        }
        self.counters.out_of_order_queued += 1;
        SegmentDisposition::Queued
    }

    /// Deliver queued segments the in-order edge has reached.
    fn release_queued<F, D>(&mut self, frame: &mut F, deliver: &mut D, report: &mut FeedReport)
    where
        F: FnMut(&[u8]) -> FrameResult,
        D: FnMut(&[u8]),
    {
        loop {
            let Some(next) = self.next_seq else { return };
            let ready = self
                .queue
                .iter()
                .position(|q| q.used && seq_offset(q.seq, next) <= 0);
            let Some(i) = ready else { return };
            // Take the slot's buffer out so the segment can be consumed while `self` is
            // borrowed mutably; it goes back afterwards to keep its capacity.
            let (seq, data) = match self.queue.get_mut(i) {
                Some(q) => {
                    q.used = false;
                    (q.seq, std::mem::take(&mut q.data))
                }
                None => return,
            };
            self.queued_bytes = self.queued_bytes.saturating_sub(data.len());
            let skip = usize::try_from(seq_offset(seq, next).unsigned_abs()).unwrap_or(usize::MAX);
            if let Some(fresh) = data.get(skip..).filter(|rest| !rest.is_empty()) {
                self.consume_in_order(fresh, frame, deliver, report);
            }
            if let Some(q) = self.queue.get_mut(i) {
                q.data = data;
                q.data.clear();
            }
        }
    }

    /// Consume `data`, which starts exactly at the next expected byte.
    fn consume_in_order<F, D>(
        &mut self,
        mut data: &[u8],
        frame: &mut F,
        deliver: &mut D,
        report: &mut FeedReport,
    ) where
        F: FnMut(&[u8]) -> FrameResult,
        D: FnMut(&[u8]),
    {
        if let Some(next) = self.next_seq {
            // Sequence space is modulo 2^32, so truncating the length is the arithmetic.
            self.next_seq = Some(next.wrapping_add(data.len() as u32));
        }
        if self.failed.is_some() {
            self.counters.discarded_bytes += data.len() as u64;
            return;
        }
        let max = self.config.max_buffered;
        while !data.is_empty() {
            if self.tail.is_empty() {
                let (used, result) =
                    frame_all(data, frame, deliver, &mut self.counters, report, true);
                let rest = data.get(used..).unwrap_or_default();
                data = &[];
                match result {
                    FrameResult::Invalid => return self.fail(StreamError::Invalid, report),
                    FrameResult::NeedMore if rest.len() >= max => {
                        return self.fail(StreamError::Overflow, report)
                    }
                    _ => self.tail.extend_from_slice(rest),
                }
            } else {
                // Copy no more than the buffer may hold, frame, and go round again: the
                // tail never exceeds its bound even transiently.
                let room = max.saturating_sub(self.tail.len());
                let take = room.min(data.len());
                let (chunk, rest) = data.split_at(take);
                self.tail.extend_from_slice(chunk);
                data = rest;
                let tail = std::mem::take(&mut self.tail);
                let (used, result) =
                    frame_all(&tail, frame, deliver, &mut self.counters, report, false);
                self.tail = tail;
                self.tail.drain(..used.min(self.tail.len()));
                match result {
                    FrameResult::Invalid => return self.fail(StreamError::Invalid, report),
                    FrameResult::NeedMore if self.tail.len() >= max => {
                        return self.fail(StreamError::Overflow, report)
                    }
                    _ => {}
                }
            }
        }
    }

    fn fail(&mut self, error: StreamError, report: &mut FeedReport) {
        match error {
            StreamError::Invalid => self.counters.invalid += 1,
            StreamError::Overflow => self.counters.overflows += 1,
        }
        self.failed = Some(error);
        self.tail.clear();
        report.error = Some(error);
    }
}

/// Frame and deliver every complete message at the start of `bytes`. Returns how many
/// bytes were consumed and why framing stopped (`Complete` when all bytes were used).
fn frame_all<F, D>(
    bytes: &[u8],
    frame: &mut F,
    deliver: &mut D,
    counters: &mut StreamCounters,
    report: &mut FeedReport,
    zero_copy: bool,
) -> (usize, FrameResult)
where
    F: FnMut(&[u8]) -> FrameResult,
    D: FnMut(&[u8]),
{
    let mut used = 0;
    loop {
        let rest = bytes.get(used..).unwrap_or_default();
        if rest.is_empty() {
            return (used, FrameResult::Complete(used));
        }
        match frame(rest) {
            FrameResult::Complete(len) if len > 0 && len <= rest.len() => {
                if let Some(message) = rest.get(..len) {
                    deliver(message);
                }
                used += len;
                counters.messages += 1;
                if zero_copy {
                    counters.zero_copy_messages += 1;
                }
                report.messages += 1;
            }
            FrameResult::NeedMore => return (used, FrameResult::NeedMore),
            FrameResult::Complete(_) | FrameResult::Invalid => return (used, FrameResult::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Test framing: one length byte (>= 1) then that many bytes; a zero length byte is
    /// invalid.
    fn frame(bytes: &[u8]) -> FrameResult {
        match bytes.first() {
            None => FrameResult::NeedMore,
            Some(0) => FrameResult::Invalid,
            Some(&n) => {
                let total = usize::from(n) + 1;
                if bytes.len() >= total {
                    FrameResult::Complete(total)
                } else {
                    FrameResult::NeedMore
                }
            }
        }
    }

    fn msg(body: &[u8]) -> Vec<u8> {
        let mut m = vec![body.len() as u8];
        m.extend_from_slice(body);
        m
    }

    struct Harness {
        r: StreamReassembler,
        out: Vec<Vec<u8>>,
    }

    impl Harness {
        fn new(config: StreamConfig, start: StreamStart) -> Self {
            Harness {
                r: StreamReassembler::new(config, start),
                out: Vec::new(),
            }
        }
        fn feed(&mut self, seq: u32, payload: &[u8]) -> FeedReport {
            let out = &mut self.out;
            self.r.feed(seq, payload, frame, |m| out.push(m.to_vec()))
        }
    }

    #[test]
    fn several_messages_in_one_segment_are_delivered_in_order_without_copy() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(99));
        let mut seg = msg(b"abc");
        seg.extend(msg(b"de"));
        seg.extend(msg(b"f"));
        let rep = h.feed(100, &seg);
        assert_eq!(rep.messages, 3);
        assert_eq!(rep.disposition, SegmentDisposition::InOrder);
        assert_eq!(h.out, vec![msg(b"abc"), msg(b"de"), msg(b"f")]);
        assert_eq!(h.r.counters().zero_copy_messages, 3);
        assert_eq!(h.r.buffered(), 0);
        assert_eq!(h.r.next_seq(), Some(100 + seg.len() as u32));
    }

    #[test]
    fn message_split_across_segments_is_delivered_once() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(0));
        let m = msg(b"hello world");
        for (i, b) in m.iter().enumerate() {
            h.feed(1 + i as u32, std::slice::from_ref(b));
        }
        assert_eq!(h.out, vec![m]);
        assert_eq!(h.r.buffered(), 0);
    }

    #[test]
    fn retransmission_is_not_delivered_twice_and_is_counted() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(0));
        let m = msg(b"xyz");
        h.feed(1, &m);
        let rep = h.feed(1, &m);
        assert_eq!(rep.disposition, SegmentDisposition::Retransmission);
        assert_eq!(rep.messages, 0);
        assert_eq!(h.out.len(), 1);
        assert_eq!(h.r.counters().retransmissions, 1);
    }

    #[test]
    fn overlap_is_trimmed() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(0));
        let mut stream = msg(b"aaaa");
        stream.extend(msg(b"bbbb"));
        h.feed(1, &stream[..3]);
        // Resent from the start with more data.
        h.feed(1, &stream[..7]);
        h.feed(4, &stream[3..]);
        assert_eq!(h.out, vec![msg(b"aaaa"), msg(b"bbbb")]);
        assert_eq!(h.r.counters().overlaps_trimmed, 2);
    }

    #[test]
    fn out_of_order_segment_waits_for_the_gap() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(0));
        let a = msg(b"first");
        let b = msg(b"second");
        let rep = h.feed(1 + a.len() as u32, &b);
        assert_eq!(rep.disposition, SegmentDisposition::Queued);
        assert!(h.out.is_empty());
        assert_eq!(h.r.queued_bytes(), b.len());
        let rep = h.feed(1, &a);
        assert_eq!(rep.messages, 2);
        assert_eq!(h.out, vec![a, b]);
        assert_eq!(h.r.queued_bytes(), 0);
    }

    #[test]
    fn out_of_order_queue_is_bounded_and_counted() {
        let config = StreamConfig {
            max_out_of_order_segments: 2,
            max_out_of_order_bytes: 100,
            ..StreamConfig::default()
        };
        let mut h = Harness::new(config, StreamStart::Syn(0));
        assert_eq!(h.feed(10, b"\x01a").disposition, SegmentDisposition::Queued);
        assert_eq!(h.feed(20, b"\x01a").disposition, SegmentDisposition::Queued);
        assert_eq!(
            h.feed(30, b"\x01a").disposition,
            SegmentDisposition::QueueFull
        );
        assert_eq!(h.r.counters().out_of_order_dropped, 1);
        let mut h = Harness::new(config, StreamStart::Syn(0));
        assert_eq!(
            h.feed(10, &[1u8; 101]).disposition,
            SegmentDisposition::QueueFull
        );
        let far = StreamConfig::default().max_out_of_order_distance + 2;
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(0));
        assert_eq!(
            h.feed(far, b"\x01a").disposition,
            SegmentDisposition::QueueFull
        );
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(u32::MAX - 2));
        let mut stream = msg(b"wrap around");
        stream.extend(msg(b"again"));
        // Data starts at u32::MAX - 1 and crosses zero.
        h.feed(u32::MAX - 1, &stream[..4]);
        h.feed((u32::MAX - 1).wrapping_add(4), &stream[4..]);
        assert_eq!(h.out, vec![msg(b"wrap around"), msg(b"again")]);
        assert_eq!(
            h.r.next_seq(),
            Some((u32::MAX - 1).wrapping_add(stream.len() as u32))
        );
    }

    #[test]
    fn mid_stream_start_takes_the_first_segment_as_base() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::MidStream);
        assert_eq!(h.r.next_seq(), None);
        h.feed(5000, &msg(b"m"));
        assert_eq!(h.out, vec![msg(b"m")]);
        assert_eq!(h.r.next_seq(), Some(5002));
    }

    #[test]
    fn invalid_stops_delivery_until_resynchronised() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(0));
        let mut seg = msg(b"ok");
        seg.push(0); // invalid length byte
        seg.extend(msg(b"lost"));
        let rep = h.feed(1, &seg);
        assert_eq!(rep.error, Some(StreamError::Invalid));
        assert_eq!(rep.messages, 1);
        assert_eq!(h.r.failure(), Some(StreamError::Invalid));
        let next = h.r.next_seq().unwrap_or_default();
        let rep = h.feed(next, &msg(b"dropped"));
        assert_eq!(rep.disposition, SegmentDisposition::Discarded);
        assert_eq!(rep.messages, 0);
        h.r.resynchronise();
        let next = h.r.next_seq().unwrap_or_default();
        h.feed(next, &msg(b"back"));
        assert_eq!(h.out, vec![msg(b"ok"), msg(b"back")]);
        assert_eq!(h.r.counters().invalid, 1);
        assert_eq!(h.r.counters().resyncs, 1);
    }

    #[test]
    fn overflow_is_reported_and_tail_stays_bounded() {
        let config = StreamConfig {
            max_buffered: 10,
            ..StreamConfig::default()
        };
        let mut h = Harness::new(config, StreamStart::Syn(0));
        // A 51-byte message can never fit a 10-byte buffer.
        let m = msg(&[7u8; 50]);
        let mut seq = 1u32;
        let mut error = None;
        for chunk in m.chunks(4) {
            let rep = h.feed(seq, chunk);
            assert!(h.r.buffered() <= 10);
            error = error.or(rep.error);
            seq += chunk.len() as u32;
        }
        assert_eq!(error, Some(StreamError::Overflow));
        assert_eq!(h.r.counters().overflows, 1);
        // Messages that fit still pass once resynchronised at a boundary.
        h.r.resynchronise();
        h.feed(seq, &msg(b"small"));
        assert_eq!(h.out, vec![msg(b"small")]);
    }

    #[test]
    fn message_of_exactly_the_buffer_size_passes() {
        let config = StreamConfig {
            max_buffered: 10,
            ..StreamConfig::default()
        };
        let mut h = Harness::new(config, StreamStart::Syn(0));
        let m = msg(&[1u8; 9]); // 10 bytes
        h.feed(1, &m[..5]);
        h.feed(6, &m[5..]);
        assert_eq!(h.out, vec![m]);
        assert_eq!(h.r.failure(), None);
    }

    #[test]
    fn framer_nonsense_is_invalid_not_a_hang() {
        let mut r = StreamReassembler::new(StreamConfig::default(), StreamStart::Syn(0));
        let rep = r.feed(1, b"abc", |_| FrameResult::Complete(0), |_| {});
        assert_eq!(rep.error, Some(StreamError::Invalid));
        let mut r = StreamReassembler::new(StreamConfig::default(), StreamStart::Syn(0));
        let rep = r.feed(1, b"abc", |_| FrameResult::Complete(4), |_| {});
        assert_eq!(rep.error, Some(StreamError::Invalid));
    }

    #[test]
    fn buffers_are_reused_in_steady_state() {
        let mut h = Harness::new(StreamConfig::default(), StreamStart::Syn(0));
        let m = msg(&[9u8; 40]);
        let mut seq = 1u32;
        let mut capacity = None;
        for _ in 0..50 {
            h.feed(seq, &m[..20]);
            h.feed(seq + 20, &m[20..]);
            seq += m.len() as u32;
            let cap = h.r.tail.capacity();
            assert_eq!(*capacity.get_or_insert(cap), cap);
        }
        assert_eq!(h.out.len(), 50);
    }

    /// A segment of the stream: absolute offset and length.
    fn segments(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
        points.push(0);
        points.push(len);
        points.sort_unstable();
        points.dedup();
        points.windows(2).map(|w| (w[0], w[1] - w[0])).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn any_segmentation_reordering_and_retransmission_yields_the_messages(
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 1..20),
            cuts in proptest::collection::vec(any::<usize>(), 0..30),
            order in proptest::collection::vec(any::<usize>(), 0..60),
            isn in any::<u32>(),
            small_queue in any::<bool>(),
        ) {
            let stream: Vec<u8> = bodies.iter().flat_map(|b| msg(b)).collect();
            let segs = segments(stream.len(), &cuts);
            let config = if small_queue {
                StreamConfig { max_out_of_order_segments: 2, max_out_of_order_bytes: 30, ..StreamConfig::default() }
            } else {
                StreamConfig::default()
            };
            let mut h = Harness::new(config, StreamStart::Syn(isn));
            let base = isn.wrapping_add(1);
            // A scrambled, duplicated first pass, then the sender's in-order
            // retransmission of everything (as TCP would after timeouts).
            let mut plan: Vec<(usize, usize)> = order.iter().map(|i| segs[i % segs.len()]).collect();
            // Overlapping retransmissions: merged neighbours.
            for w in segs.windows(2).step_by(3) {
                plan.push((w[0].0, w[0].1 + w[1].1));
            }
            plan.extend(segs.iter().copied());
            for (off, len) in plan {
                let rep = h.feed(base.wrapping_add(off as u32), &stream[off..off + len]);
                prop_assert_eq!(rep.error, None);
                prop_assert!(h.r.buffered() <= config.max_buffered);
                prop_assert!(h.r.queued_bytes() <= config.max_out_of_order_bytes);
            }
            let expected: Vec<Vec<u8>> = bodies.iter().map(|b| msg(b)).collect();
            prop_assert_eq!(h.out, expected);
            prop_assert_eq!(h.r.buffered(), 0);
            prop_assert_eq!(h.r.next_seq(), Some(base.wrapping_add(stream.len() as u32)));
        }
    }
}
