//! Skinny inspector counters: one plain struct per worker (single writer), summed by the
//! control plane.

/// What the Skinny inspector saw and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SkinnyCounters {
    /// PDUs inspected.
    pub pdus: u64,
    /// KeepAlive / KeepAliveAck.
    pub keepalives: u64,
    /// Register messages.
    pub registers: u64,
    /// RegisterAck messages.
    pub register_acks: u64,
    /// RegisterReject messages.
    pub register_rejects: u64,
    /// Unregister / UnregisterAck messages.
    pub unregisters: u64,
    /// PDUs that could not be parsed (bad length, short body, bad address type or port).
    pub malformed: u64,
    /// Message ids outside every known range.
    pub unknown_ids: u64,
    /// Header versions whose layouts are unknown.
    pub unknown_versions: u64,
    /// SPCP messages (passed, not interpreted).
    pub spcp: u64,
    /// Messages whose id range contradicts the direction they travelled (not acted on).
    pub wrong_direction: u64,
    /// PDUs on a flow where neither side uses the Skinny server port (not acted on).
    pub unknown_direction: u64,
    /// New calls seen (a new conferenceID/callReference for a station).
    pub calls: u64,
    /// Pinholes requested (RTP and RTCP each count).
    pub pinholes_opened: u64,
    /// Streams closed (each may cover an RTP and an RTCP pinhole).
    pub streams_closed: u64,
    /// Stop/Close messages that asked to keep the port, so nothing was closed.
    pub keep_port_honoured: u64,
    /// Acks with a non-zero status (no pinhole).
    pub failed_acks: u64,
    /// Media messages with an unusable address or port 0 (no pinhole).
    pub invalid_media_address: u64,
    /// StartMediaTransmission with SRTP key material (keys never leave the packet).
    pub encrypted_media: u64,
    /// MediaTransmissionFailure messages.
    pub media_failures: u64,
    /// Media messages dropped because the station is not registered.
    pub unregistered_drops: u64,
    /// Messages dropped by call flood protection.
    pub call_flood_drops: u64,
    /// Messages dropped because the station holds its maximum of pinholes.
    pub pinhole_limit_drops: u64,
    /// Messages dropped because the control session tracks its maximum of channels.
    pub channel_limit_drops: u64,
    /// Stations not tracked because the shared table was full.
    pub station_table_full: u64,
    /// PDUs dropped, all reasons.
    pub dropped: u64,
}
