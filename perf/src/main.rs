//! The performance harness.
fn main() {}
