//! SIP inspection: message and SDP parsing, TCP framing, dialogs.
