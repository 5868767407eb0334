//! The pinhole (expectation) table: media and signalling flows that inspectors announced
//! and that the policy alone would not admit.
//!
//! Inspectors run on the worker that owns a control session, but the media they announce
//! may hash to any worker, so this table is shared: lookups are lock-free (each shard is an
//! immutable map published with an atomic pointer swap, RCU style), changes copy one
//! shard's map under that shard's mutex (changes happen at signalling rate, lookups at
//! new-flow rate). A pinhole is published before the packet that announced it is
//! forwarded. Per-pinhole state (pregenerated / active / closed, packets, last use) is
//! atomic so workers update it without touching the map.

mod table;

pub use table::{
    Pinhole, PinholeCounters, PinholeId, PinholeLookup, PinholeState, PinholeTable, SourceMatch,
};
