//! Inline inspectors (application-layer gateways): SIP and SCCP (Skinny).

pub mod action;
pub mod sccp;
pub mod sip;
pub mod stream;
