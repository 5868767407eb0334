//! The pinhole dataplane: a sans-IO pipeline that turns packet bytes, an ingress
//! interface and a clock value into a verdict, plus the DPDK worker loop that drives it.
//!
//! Layout (one concept per module):
//! - [`packet`]: Ethernet / VLAN / IPv4 / IPv6 / TCP / UDP / ICMP parsing into a summary.
//! - [`policy`]: the compiled, immutable policy workers read (zones, zone pairs, classes).
//! - [`session`]: the per-worker session shard, TCP state machine and timer wheel.
//! - [`pinhole`]: expectations opened by inspectors, readable by every worker.
//! - [`inspect`]: the SIP and SCCP inspectors and the TCP stream framing they share.
//! - [`pipeline`]: `process(packet, ingress, now) -> Verdict`, tying the above together.
//! - [`stats`]: single-writer counters read without locks.
//! - [`steer`]: which worker owns a packet (a symmetric flow hash on the raw frame).
//! - [`ids`], [`time`]: newtypes for interfaces, zones, workers, and time as an input.
//! - `engine` (feature `dpdk`): the worker loop over DPDK ports.

pub mod ids;
pub mod inspect;
pub mod packet;
pub mod pinhole;
pub mod pipeline;
pub mod policy;
pub mod session;
pub mod stats;
pub mod steer;
pub mod time;

#[cfg(feature = "dpdk")]
pub mod engine;

pub use ids::{IfaceId, WorkerId, ZoneId, ZoneLink};
pub use pipeline::{Dataplane, DropReason, Pipeline, Verdict};
pub use time::Timestamp;
