//! One Skinny control connection end to end: TCP segments of both directions in,
//! reassembled and framed into PDUs, inspected, and one verdict per segment out.
//!
//! The verdict of a segment is the strictest verdict of the PDUs it completed. A dropped
//! segment's range is remembered so that its retransmission, which the reassembler would
//! otherwise wave through as already seen, is dropped as well.

use std::sync::Arc;

use super::config::SkinnyConfig;
use super::counters::SkinnyCounters;
use super::header::{frame_pdu, LENGTH_PREFIX};
use super::inspector::{ControlSessionId, SkinnyDropReason, SkinnyInspector, SkinnyVerdict};
use super::table::SkinnyTable;
use crate::inspect::action::{FlowContext, InspectAction};
use crate::inspect::stream::{StreamConfig, StreamError, StreamReassembler, StreamStart};
use crate::time::Timestamp;

/// Why a segment of a Skinny connection is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentDropReason {
    /// A PDU it completed was dropped by the inspector.
    Pdu(SkinnyDropReason),
    /// The byte stream could not be framed into PDUs (bad `data_length`).
    Framing(StreamError),
    /// A retransmission of a segment that was dropped.
    DroppedBefore,
}

/// The decision on one TCP segment of a Skinny control connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentVerdict {
    /// Forward it.
    Forward,
    /// Drop it.
    Drop(SegmentDropReason),
}

/// One direction: its reassembler and the last range dropped.
#[derive(Debug)]
struct Direction {
    stream: StreamReassembler,
    dropped: Option<(u32, u32)>,
}

impl Direction {
    fn overlaps_dropped(&self, seq: u32, len: usize) -> bool {
        let Some((start, end)) = self.dropped else {
            return false;
        };
        // Wrapping interval overlap: [seq, seq+len) against [start, end).
        let span = end.wrapping_sub(start);
        let a = seq.wrapping_sub(start);
        let b = start.wrapping_sub(seq);
        a < span || (b as usize) < len
    }
}

/// A Skinny control connection: both directions' reassembly and the inspector.
#[derive(Debug)]
pub struct SkinnyConnection {
    inspector: SkinnyInspector,
    config: Arc<SkinnyConfig>,
    server_port: u16,
    to_call_manager: Direction,
    to_station: Direction,
}

impl SkinnyConnection {
    /// A connection whose call manager listens on `server_port`. `to_cm_start` and
    /// `to_station_start` say where each direction's byte stream starts (the SYN's ISN,
    /// or mid-stream when inspection starts on an established connection).
    pub fn new(
        config: Arc<SkinnyConfig>,
        table: Arc<SkinnyTable>,
        session: ControlSessionId,
        server_port: u16,
        to_cm_start: StreamStart,
        to_station_start: StreamStart,
    ) -> Self {
        let stream_config = StreamConfig {
            // One maximal PDU, plus what precedes data_length.
            max_buffered: (config.max_data_length as usize).saturating_add(LENGTH_PREFIX),
            ..StreamConfig::default()
        };
        let direction = |start| Direction {
            stream: StreamReassembler::new(stream_config, start),
            dropped: None,
        };
        SkinnyConnection {
            inspector: SkinnyInspector::new(Arc::clone(&config), table, session, server_port),
            config,
            server_port,
            to_call_manager: direction(to_cm_start),
            to_station: direction(to_station_start),
        }
    }

    /// The inspector (for its station and channel state).
    pub fn inspector(&self) -> &SkinnyInspector {
        &self.inspector
    }

    /// The reassembler of the station -> call manager direction.
    pub fn to_call_manager_stream(&self) -> &StreamReassembler {
        &self.to_call_manager.stream
    }

    /// The reassembler of the call manager -> station direction.
    pub fn to_station_stream(&self) -> &StreamReassembler {
        &self.to_station.stream
    }

    /// Inspect one TCP segment (`seq`, `payload`) seen on `ctx` at `now`.
    pub fn on_segment(
        &mut self,
        ctx: &FlowContext,
        seq: u32,
        payload: &[u8],
        now: Timestamp,
        counters: &mut SkinnyCounters,
        actions: &mut Vec<InspectAction>,
    ) -> SegmentVerdict {
        let direction = if ctx.dst.port() == self.server_port {
            &mut self.to_call_manager
        } else {
            &mut self.to_station
        };
        // Any segment that carries bytes of a dropped one is dropped, also when TCP
        // merged them with new data: the reassembler would inspect only the new part
        // and the refused PDU would reach its destination with it.
        if direction.overlaps_dropped(seq, payload.len()) {
            return SegmentVerdict::Drop(SegmentDropReason::DroppedBefore);
        }
        let max = self.config.max_data_length;
        let inspector = &mut self.inspector;
        let mut worst: Option<SkinnyDropReason> = None;
        let report = direction.stream.feed(
            seq,
            payload,
            |bytes| frame_pdu(bytes, max),
            |pdu| {
                if let SkinnyVerdict::Drop(reason) =
                    inspector.inspect(pdu, ctx, now, counters, actions)
                {
                    worst = worst.or(Some(reason));
                }
            },
        );
        let mut verdict = match worst {
            Some(reason) => SegmentVerdict::Drop(SegmentDropReason::Pdu(reason)),
            None => SegmentVerdict::Forward,
        };
        if let Some(error) = report.error {
            counters.malformed += 1;
            // Skinny PDUs nearly always start a segment: try again at the next one.
            direction.stream.resynchronise();
            if self.config.drop_malformed && verdict == SegmentVerdict::Forward {
                verdict = SegmentVerdict::Drop(SegmentDropReason::Framing(error));
            }
        }
        if matches!(verdict, SegmentVerdict::Drop(_)) {
            let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            direction.dropped = Some((seq, seq.wrapping_add(len)));
        }
        verdict
    }

    /// The connection ended: close everything its inspector opened.
    pub fn ended(&mut self, counters: &mut SkinnyCounters, actions: &mut Vec<InspectAction>) {
        self.inspector.control_session_ended(counters, actions);
    }
}
