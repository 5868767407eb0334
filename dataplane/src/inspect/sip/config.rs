//! The SIP inspector's parameters (the parameter-map of one zone pair's inspect action).

use std::time::Duration;

use super::limits::ParseLimits;

/// Which source a media pinhole admits (requirement 13). The pinhole table applies the
/// matching rule; the inspector fills `PinholeRequest::src` accordingly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MediaSourcePolicy {
    /// Media toward one party must come from the address the other party announced in
    /// its SDP (the default). Until the other party has announced one (between offer
    /// and answer), the pinhole admits any source and is narrowed when the answer is seen.
    #[default]
    AnnouncedAddress,
    /// Media must come from the other party's signalling address (direct media, as
    /// Linux's `sip_direct_media`).
    SignallingPeer,
    /// Like [`MediaSourcePolicy::AnnouncedAddress`]; the pinhole table matches the
    /// prefix rather than the exact address (SBCs, multi-homed gateways).
    SamePrefix,
    /// Any source.
    Any,
}

/// Parameters of the SIP inspector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipConfig {
    /// Parser bounds.
    pub limits: ParseLimits,
    /// Media source policy.
    pub source_policy: MediaSourcePolicy,
    /// Idle timeout of media pinholes (and of the media sessions they become).
    pub media_idle_timeout: Duration,
    /// How long a dialog may stay early (INVITE without final response) before it is
    /// removed with its pinholes.
    pub early_dialog_timeout: Duration,
    /// Maximum call duration: a confirmed dialog older than this is removed.
    pub max_call_duration: Duration,
    /// Keep an inbound signalling pinhole toward a registered Contact for the
    /// registration's lifetime (requirement 12).
    pub register_pinholes: bool,
    /// Registration lifetime when neither the Contact nor the Expires header gives one.
    pub default_registration: Duration,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            limits: ParseLimits::DEFAULT,
            source_policy: MediaSourcePolicy::default(),
            media_idle_timeout: Duration::from_secs(120),
            early_dialog_timeout: Duration::from_secs(180),
            max_call_duration: Duration::from_secs(12 * 3600),
            register_pinholes: true,
            default_registration: Duration::from_secs(3600),
        }
    }
}
