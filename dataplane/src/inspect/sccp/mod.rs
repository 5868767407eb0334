//! SCCP (Skinny) inspection: PDU framing, version-aware layouts, calls and registrations.
//!
//! - [`header`]: the 12-byte header, `data_length` bounds, id ranges, and the framer
//!   handed to [`crate::inspect::stream::StreamReassembler`].
//! - [`pdu`]: zero-copy parsing of the messages the ALG acts on, in every layout.
//! - [`builder`]: writing those messages in any layout (tests, corpora, captures).
//! - [`config`], [`counters`]: the inspection profile and what it counts.
//! - [`table`]: stations (registration, call rate, pinhole count) shared by all workers.
//! - [`inspector`]: one control connection's inspector: PDU in, pinhole actions out.
//! - [`connection`]: both directions of a control connection, from TCP segments
//!   (reassembly + framing + inspection).

pub mod builder;
pub mod config;
pub mod connection;
pub mod counters;
pub mod fuzzing;
pub mod header;
pub mod inspector;
pub mod pdu;
pub mod table;

pub use builder::{BuildError, KeyMaterial, PduWriter};
pub use config::SkinnyConfig;
pub use connection::{SegmentDropReason, SegmentVerdict, SkinnyConnection};
pub use counters::SkinnyCounters;
pub use header::{
    frame_pdu, split_pdu, Header, HeaderVersion, IdRange, MessageId, PduError,
    DEFAULT_MAX_DATA_LENGTH,
};
pub use inspector::{
    skinny_call_ref, skinny_stream_ref, ControlSessionId, SkinnyDropReason, SkinnyInspector,
    SkinnyVerdict,
};
pub use pdu::{
    parse_pdu, ChannelAck, DeviceName, KeyInfoSummary, OpenChannel, Pdu, Register,
    SessionTransmission, SkinnyAddr, SkinnyMessage, StartTransmission, StopChannel,
    TransmissionAck, TransmissionFailure,
};
pub use table::{Registration, SkinnyTable, Station};
