//! SCCP (Skinny) inspection: PDU framing, version-aware layouts, calls and registrations.
//!
//! - [`header`]: the 12-byte header, `data_length` bounds, id ranges, and the framer
//!   handed to [`crate::inspect::stream::StreamReassembler`].
//! - [`pdu`]: zero-copy parsing of the messages the ALG acts on, in every layout.
//! - [`builder`]: writing those messages in any layout (tests, corpora, captures).

pub mod builder;
pub mod header;
pub mod pdu;

pub use builder::{BuildError, KeyMaterial, PduWriter};
pub use header::{
    frame_pdu, split_pdu, Header, HeaderVersion, IdRange, MessageId, PduError,
    DEFAULT_MAX_DATA_LENGTH,
};
pub use pdu::{
    parse_pdu, ChannelAck, DeviceName, KeyInfoSummary, OpenChannel, Pdu, Register,
    SessionTransmission, SkinnyAddr, SkinnyMessage, StartTransmission, StopChannel,
    TransmissionAck, TransmissionFailure,
};
