//! Bindings to the system DPDK and the thin safe layer over them.
