//! SIP inspection: message and SDP parsing, TCP framing, dialogs.
//!
//! The parsers are zero-copy over `&[u8]` and bounded by [`ParseLimits`]; every refusal
//! is a `Copy` error enum. The path of a message through an ALG:
//!
//! 1. framing: [`frame_stream`] on TCP; a UDP datagram is one message;
//! 2. [`SipMessage::parse`]: start line, header section, body (UDP rules);
//! 3. [`check`]: may the ALG build state from it;
//! 4. [`offer_answer_sdp`]: the SDP an offer/answer carrier announces, and
//!    [`SessionDescription::endpoints`]: the media streams pinholes are built from;
//! 5. [`SipInspector::inspect`]: all of the above plus the inspect profile
//!    ([`SipProfile`], applied by a [`ProfileGuard`] before any state changes) and dialogs (in the shared
//!    [`DialogTable`]), turning offer/answer into [`InspectAction`]s.
//!
//! [`InspectAction`]: crate::inspect::action::InspectAction
//!
//! Parsing policy decisions are documented in `docs/sip-parsing-policy.md`.

mod block_list;
mod body;
mod config;
mod conformance;
mod counters;
mod dialog;
mod error;
mod framing;
pub mod fuzzing;
mod guard;
mod head;
mod header;
mod host;
mod inspector;
mod lex;
mod limits;
mod message;
mod method;
mod nameaddr;
mod profile;
mod quota;
mod rate_limit;
mod scalar;
pub mod sdp;
mod sources;
mod startline;
mod table;
mod uri;
mod validate;
mod via;

pub use block_list::{is_rejection, RejectionWindow};
pub use body::{find_sdp, parse_content_type, ContentType};
pub use config::{MediaSourcePolicy, SipConfig};
pub use counters::{ProfileCounters, SipCounters};
pub use dialog::DialogView;
pub use error::{InvalidMessage, ParseError, SdpError};
pub use framing::{frame_for_reassembler, frame_stream, StreamFrame};
pub use guard::{ProfileGuard, ProfileState};
pub use header::{split_list, HeaderName};
pub use host::Host;
pub use inspector::{SipInspector, SipOutcome};
pub use limits::{ParseLimits, SDP_MEDIA_CAPACITY};
pub use message::{HeaderField, Headers, SipMessage};
pub use method::Method;
pub use nameaddr::{parse_contact, parse_name_addr, Contact, NameAddr};
pub use profile::{
    BlockPolicy, ProfileRule, ProfileVerdict, RateLimit, RuleAction, RuleActions, SipProfile,
    MAX_RATE_LIMITS,
};
pub use quota::{DialogQuota, QuotaTicket};
pub use rate_limit::TokenBucket;
pub use scalar::{parse_cseq, CSeq};
pub use sdp::{MediaEndpoint, SessionDescription};
pub use sources::{SourceState, SourceTable, SourceTableFull};
pub use startline::{StartLine, StatusCode};
pub use table::{DialogEnd, DialogTable, EndedDialog, TableFull};
pub use uri::{parse_uri, SipUri, Uri};
pub use validate::{check, is_offer_answer_carrier, offer_answer_sdp, CheckedMessage};
pub use via::{parse_via, Via};
