//! SIP methods. Method names are case-sensitive (RFC 3261 §7.1): `REGIStER` and
//! `RE%47IST%45R` are unknown methods, not REGISTER.

/// A request method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// INVITE.
    Invite,
    /// ACK.
    Ack,
    /// BYE.
    Bye,
    /// CANCEL.
    Cancel,
    /// REGISTER.
    Register,
    /// OPTIONS.
    Options,
    /// UPDATE (RFC 3311).
    Update,
    /// PRACK (RFC 3262).
    Prack,
    /// INFO.
    Info,
    /// MESSAGE.
    Message,
    /// REFER.
    Refer,
    /// SUBSCRIBE.
    Subscribe,
    /// NOTIFY.
    Notify,
    /// PUBLISH.
    Publish,
    /// Any other token.
    Other(&'a [u8]),
}

impl<'a> Method<'a> {
    /// The method named by `token` (exact, case-sensitive match).
    pub fn from_token(token: &'a [u8]) -> Method<'a> {
        match token {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"UPDATE" => Method::Update,
            b"PRACK" => Method::Prack,
            b"INFO" => Method::Info,
            b"MESSAGE" => Method::Message,
            b"REFER" => Method::Refer,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"PUBLISH" => Method::Publish,
            other => Method::Other(other),
        }
    }

    /// The method's token as written on the wire.
    pub fn token(&self) -> &'a [u8] {
        match self {
            Method::Invite => b"INVITE",
            Method::Ack => b"ACK",
            Method::Bye => b"BYE",
            Method::Cancel => b"CANCEL",
            Method::Register => b"REGISTER",
            Method::Options => b"OPTIONS",
            Method::Update => b"UPDATE",
            Method::Prack => b"PRACK",
            Method::Info => b"INFO",
            Method::Message => b"MESSAGE",
            Method::Refer => b"REFER",
            Method::Subscribe => b"SUBSCRIBE",
            Method::Notify => b"NOTIFY",
            Method::Publish => b"PUBLISH",
            Method::Other(token) => token,
        }
    }

    /// Whether requests of this method (or, for INVITE/UPDATE/PRACK, their provisional
    /// and success responses) may carry an SDP offer or answer (RFC 3261, 3262, 3311).
    pub fn carries_offer_answer(&self) -> bool {
        matches!(
            self,
            Method::Invite | Method::Ack | Method::Update | Method::Prack
        )
    }
}
