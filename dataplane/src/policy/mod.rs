//! The compiled policy: an immutable value built by the control plane from the
//! configuration and published to the workers with an atomic pointer swap.
//!
//! Workers load it once per burst; no packet is judged by a mix of two policies.
//! Names follow Cisco's zone-based policy firewall: zones, zone pairs, class maps,
//! policy maps, parameter maps and the port map.

mod classify;
mod model;
mod prefix;
mod zones;

pub use classify::{ClassMatch, PolicyDecision};
pub use model::*;
pub use prefix::Prefix;
pub use zones::ZoneResolution;
