//! Glue between the pipeline and the inspectors: which inspector a control flow has,
//! its per-flow framing state, and running it on a packet's payload.

use super::verdict::DropReason;
use super::Pipeline;
use crate::inspect::action::InspectAction;
use crate::packet::PacketSummary;
use crate::policy::Alg;
use crate::session::{Direction, SessionHandle};
use crate::time::Timestamp;

/// Inspector state shared by every worker (call and registration tables).
#[derive(Debug, Default)]
pub struct SharedAlgState {}

/// Per-control-flow inspector state (framing buffers), owned by the flow's session.
#[derive(Debug)]
pub struct FlowAlg {
    /// Which inspector.
    pub alg: Alg,
}

impl FlowAlg {
    /// Fresh state for a new control flow.
    pub fn new(alg: Alg) -> Box<FlowAlg> {
        Box::new(FlowAlg { alg })
    }

    /// The control flow ended: the inspector's last word (e.g. Skinny closes the
    /// calls of a control session that went away).
    pub(super) fn control_flow_ended(
        &self,
        _shared: &SharedAlgState,
        _out: &mut Vec<InspectAction>,
    ) {
    }
}

/// Counters of the inspector glue.
#[derive(Debug, Default, serde::Serialize)]
pub struct AlgCounters {}

impl Pipeline {
    /// Run the session's inspector (if any) on this packet's payload; pinholes it opens
    /// are published before the packet is forwarded.
    pub(super) fn inspect_payload(
        &mut self,
        h: SessionHandle,
        _dir: Direction,
        _buf: &[u8],
        _s: &PacketSummary,
        _flow_tuple: &super::judge::FlowFacts,
        now: Timestamp,
    ) -> Result<(), DropReason> {
        let Some(session) = self.sessions.get(h) else {
            return Ok(());
        };
        if session.value.alg.is_none() {
            return Ok(());
        }
        let pm = session.value.parameter_map;
        self.apply_actions(pm, now);
        Ok(())
    }
}
