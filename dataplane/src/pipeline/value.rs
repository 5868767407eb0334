//! What the pipeline keeps per session (the session table's user value).

use std::sync::Arc;

use crate::ids::IfaceId;
use crate::pinhole::Pinhole;
use crate::policy::{ClassId, ParamMapId, ZonePairId};

use super::alg::FlowAlg;

/// Why a session exists.
#[derive(Debug)]
pub enum SessionOrigin {
    /// A class with `inspect` created it.
    Inspect,
    /// A pinhole admitted its first packet: a child (media) session of a call.
    Pinhole(Arc<Pinhole>),
}

/// The pipeline's per-session value.
#[derive(Debug)]
pub struct SessionValue {
    /// Why it exists.
    pub origin: SessionOrigin,
    /// The zone pair it was admitted under (None: a pinhole child across no pair).
    pub zone_pair: Option<ZonePairId>,
    /// The class that matched.
    pub class: Option<ClassId>,
    /// Parameter map for its timeouts and limits.
    pub parameter_map: ParamMapId,
    /// The interface each direction arrives on: `[initiator side, responder side]`.
    pub ingress: [IfaceId; 2],
    /// The inspector attached to this control flow, with its framing state.
    pub alg: Option<Box<FlowAlg>>,
}
