//! The DPDK worker loop that drives the pipeline from real ports.
