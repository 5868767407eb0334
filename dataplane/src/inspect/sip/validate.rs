//! Whether an ALG may build state from a parsed message, and which SDP it carries.
//!
//! Strict by design (requirement 2 and RFC 4475's KEY rows): the dialog identity must be
//! unambiguous (Call-ID, From, To, CSeq exactly once, at least one Via), every header
//! the inspector reads must follow its grammar, the CSeq method must equal the request
//! method, and only offer/answer carriers contribute SDP: INVITE, ACK, UPDATE, PRACK
//! and the 101-299 responses to INVITE, UPDATE and PRACK. Headers the ALG does not act
//! on (Date, Accept, Require, ...) are not judged: an ALG is not a user agent, and
//! refusing a call over a malformed Date would only break interop (RFC 4475 baddate).

use super::body::find_sdp;
use super::error::{InvalidMessage, SdpError};
use super::limits::ParseLimits;
use super::message::SipMessage;
use super::method::Method;
use super::nameaddr::NameAddr;
use super::scalar::CSeq;
use super::sdp::SessionDescription;
use super::via::Via;

/// The dialog-relevant fields of a message that passed [`check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedMessage<'a> {
    /// The Call-ID.
    pub call_id: &'a [u8],
    /// From.
    pub from: NameAddr<'a>,
    /// To.
    pub to: NameAddr<'a>,
    /// CSeq.
    pub cseq: CSeq<'a>,
    /// The topmost Via.
    pub top_via: Via<'a>,
}

/// Validate `msg` for inspection.
pub fn check<'a>(msg: &SipMessage<'a>) -> Result<CheckedMessage<'a>, InvalidMessage> {
    let call_id = msg.call_id()?;
    let from = msg.from()?;
    let to = msg.to()?;
    let cseq = msg.cseq()?;
    let top_via = msg.top_via()?;
    for via in msg.vias() {
        via?;
    }
    for contact in msg.contacts() {
        contact?;
    }
    for route in msg.routes().chain(msg.record_routes()) {
        route?;
    }
    msg.content_type()?;
    msg.expires()?;
    msg.max_forwards()?;
    if let Some(method) = msg.method() {
        if method != cseq.method {
            return Err(InvalidMessage::CSeqMethodMismatch);
        }
    }
    Ok(CheckedMessage {
        call_id,
        from,
        to,
        cseq,
        top_via,
    })
}

/// Whether `msg` (already checked) is an offer/answer carrier.
pub fn is_offer_answer_carrier(msg: &SipMessage<'_>, checked: &CheckedMessage<'_>) -> bool {
    match msg.status() {
        None => checked.cseq.method.carries_offer_answer(),
        Some(status) => {
            (101..300).contains(&status.0)
                && matches!(
                    checked.cseq.method,
                    Method::Invite | Method::Update | Method::Prack
                )
        }
    }
}

/// The session description an offer/answer carrier announces: `Ok(None)` for other
/// messages, bodies without SDP, or encoded bodies the ALG cannot read.
pub fn offer_answer_sdp<'a>(
    msg: &SipMessage<'a>,
    checked: &CheckedMessage<'a>,
    limits: &ParseLimits,
) -> Result<Option<SessionDescription<'a>>, SdpError> {
    if !is_offer_answer_carrier(msg, checked) || msg.body_is_encoded() {
        return Ok(None);
    }
    // `check` already refused a malformed or duplicated Content-Type.
    let content_type = msg.content_type().ok().flatten();
    match find_sdp(content_type, msg.body(), limits)? {
        Some(body) => SessionDescription::parse(body, limits).map(Some),
        None => Ok(None),
    }
}
