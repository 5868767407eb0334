//! What an inspector asks of the pipeline: the vocabulary shared by the SIP and SCCP
//! inspectors. Inspectors own no I/O and no tables of the pipeline; they return these
//! actions and the pipeline applies them (pinholes are published before the packet that
//! announced them is forwarded).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::ids::ZoneLink;
use serde::Serialize;

/// Which inspector produced an action or owns a pinhole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectorKind {
    /// The SIP ALG.
    Sip,
    /// The SCCP (Skinny) ALG.
    Skinny,
}

/// Layer-4 transport of a flow or pinhole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// What a pinhole carries (for reports and per-kind limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// RTP audio.
    Audio,
    /// RTP video.
    Video,
    /// T.38 fax over UDPTL (`m=image`).
    Image,
    /// `m=application` streams.
    Application,
    /// RTCP belonging to one of the above.
    Rtcp,
    /// SIP signalling (direct signalling to a Contact, registered Contacts).
    Signalling,
}

/// Opaque identity of a call (SIP dialog, Skinny call) chosen by its inspector; every
/// pinhole a call opens carries it so that the call's teardown closes them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CallRef(pub u64);

/// One stream of a call (an `m=` line and direction, a Skinny channel), so that an update
/// can retire exactly the streams it replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StreamRef(pub u32);

/// A request to admit future packets toward `dst:dst_port` (an expectation; Cisco's
/// "pregenerated session").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinholeRequest {
    /// Transport of the admitted flow.
    pub transport: Transport,
    /// Required source address, or any.
    pub src: Option<IpAddr>,
    /// Required source port, or any.
    pub src_port: Option<u16>,
    /// Destination address the media is sent to.
    pub dst: IpAddr,
    /// Destination port.
    pub dst_port: u16,
    /// What it carries.
    pub kind: MediaKind,
    /// The call it belongs to.
    pub call: CallRef,
    /// The stream within the call.
    pub stream: StreamRef,
    /// Who opened it.
    pub opened_by: InspectorKind,
    /// How long it may stay unused before it expires.
    pub idle_timeout: Duration,
}

/// An inspector's request to the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InspectAction {
    /// Open (or refresh, when an identical one exists) a pinhole.
    Open(PinholeRequest),
    /// Close one stream's pinholes (and end the child sessions they created).
    CloseStream {
        /// The call.
        call: CallRef,
        /// The stream.
        stream: StreamRef,
    },
    /// Close every pinhole of a call (and end its child sessions).
    CloseCall {
        /// The call.
        call: CallRef,
    },
}

/// The flow a payload was seen on, as the inspector needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowContext {
    /// Sender of this payload.
    pub src: SocketAddr,
    /// Receiver of this payload.
    pub dst: SocketAddr,
    /// Transport of the control flow.
    pub transport: Transport,
    /// The zones the control session runs between (either direction).
    pub zone_link: ZoneLink,
}
