//! The Skinny inspection profile (a parameter-map's Skinny part).

use std::time::Duration;

use super::header::DEFAULT_MAX_DATA_LENGTH;

/// Smallest accepted calls-per-second limit (Juniper's range).
pub const MIN_CALLS_PER_SECOND: u32 = 2;
/// Largest accepted calls-per-second limit.
pub const MAX_CALLS_PER_SECOND: u32 = 1000;

/// How the Skinny inspector behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkinnyConfig {
    /// Largest `data_length` accepted (4..=this); larger PDUs are malformed.
    pub max_data_length: u32,
    /// Drop (instead of pass and count) PDUs with unknown message ids, unknown header
    /// versions or ids travelling the wrong way.
    pub strict: bool,
    /// Drop (instead of pass and count) PDUs that cannot be parsed.
    pub drop_malformed: bool,
    /// Drop media set-up messages from or for stations that are not registered.
    pub enforce_registration: bool,
    /// New calls a station may start per second (clamped to 2..=1000).
    pub calls_per_second: u32,
    /// Pinholes (RTP and RTCP each count) a station may hold open at once.
    pub max_pinholes_per_station: u32,
    /// Media channels one control session may track.
    pub max_channels_per_session: usize,
    /// Idle timeout of the pinholes the inspector opens (media inactivity).
    pub media_idle_timeout: Duration,
}

impl Default for SkinnyConfig {
    fn default() -> Self {
        SkinnyConfig {
            max_data_length: DEFAULT_MAX_DATA_LENGTH,
            strict: false,
            drop_malformed: true,
            enforce_registration: false,
            calls_per_second: 20,
            max_pinholes_per_station: 32,
            max_channels_per_session: 64,
            media_idle_timeout: Duration::from_secs(120),
        }
    }
}

impl SkinnyConfig {
    /// The calls-per-second limit in force, clamped to its documented range.
    pub fn effective_calls_per_second(&self) -> u32 {
        self.calls_per_second
            .clamp(MIN_CALLS_PER_SECOND, MAX_CALLS_PER_SECOND)
    }
}
