//! SIP inspection: message and SDP parsing, TCP framing, dialogs.
//!
//! The parsers are zero-copy over `&[u8]` and bounded by [`ParseLimits`]; every refusal
//! is a `Copy` error enum. The path of a message through an ALG:
//!
//! 1. framing: [`frame_stream`] on TCP; a UDP datagram is one message;
//! 2. [`SipMessage::parse`]: start line, header section, body (UDP rules);
//! 3. [`check`]: may the ALG build state from it;
//! 4. [`offer_answer_sdp`]: the SDP an offer/answer carrier announces, and
//!    [`SessionDescription::endpoints`]: the media streams pinholes are built from.
//!
//! Parsing policy decisions are documented in `docs/sip-parsing-policy.md`.

mod body;
mod error;
mod framing;
pub mod fuzzing;
mod head;
mod header;
mod host;
mod lex;
mod limits;
mod message;
mod method;
mod nameaddr;
mod scalar;
pub mod sdp;
mod startline;
mod uri;
mod validate;
mod via;

pub use body::{find_sdp, parse_content_type, ContentType};
pub use error::{InvalidMessage, ParseError, SdpError};
pub use framing::{frame_stream, StreamFrame};
pub use header::{split_list, HeaderName};
pub use host::Host;
pub use limits::{ParseLimits, SDP_MEDIA_CAPACITY};
pub use message::{HeaderField, Headers, SipMessage};
pub use method::Method;
pub use nameaddr::{parse_contact, parse_name_addr, Contact, NameAddr};
pub use scalar::{parse_cseq, CSeq};
pub use sdp::{MediaEndpoint, SessionDescription};
pub use startline::{StartLine, StatusCode};
pub use uri::{parse_uri, SipUri, Uri};
pub use validate::{check, is_offer_answer_carrier, offer_answer_sdp, CheckedMessage};
pub use via::{parse_via, Via};
