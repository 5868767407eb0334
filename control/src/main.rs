//! The `pinhole` binary.
fn main() {}
