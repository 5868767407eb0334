//! Bindings to the system DPDK and the thin safe layer over them.
//!
//! [`raw`] is the bindgen output (DPDK's `static inline` functions included, through
//! bindgen's `wrap_static_fns`). Everything else is the safe layer, one concept per module:
//! - [`eal`]: EAL initialisation and cleanup, once per process.
//! - [`mempool`]: packet-buffer pools (RAII) and their occupancy.
//! - [`mbuf`]: an owned packet buffer that frees itself on drop.
//! - [`port`]: ethdev ports: lookup by name, capability-checked setup, stats, stop/close.
//! - [`burst`]: RX and TX bursts over a port's queues.
//! - [`ring`]: bounded lock-free mbuf rings between workers (many producers, one consumer).
//! - [`lcore`]: lcores and launching work pinned on them.
//! - [`tsc`]: the TSC clock.
//! - [`error`]: the error type, carrying DPDK's own error text.

/// The raw bindgen output; only the safe layer in this crate calls it.
#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unsafe_op_in_unsafe_fn
)]
pub mod raw {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub mod burst;
pub mod eal;
pub mod error;
pub mod lcore;
pub mod mbuf;
pub mod mempool;
pub mod port;
pub mod ring;
pub mod tsc;

pub use burst::{RxBurst, RxQueue, TxBuffer, TxOutcome, TxQueue, BURST_SIZE};
pub use eal::Eal;
pub use error::Error;
pub use lcore::{launch, LaunchedWorker, Lcore};
pub use mbuf::Mbuf;
pub use mempool::Mempool;
pub use port::{DevInfo, Port, PortConfig, PortId, PortStats};
pub use ring::{mbuf_ring, RingConsumer, RingProducer};
pub use tsc::TscClock;
