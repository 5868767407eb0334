//! Placeholder build script; the bindgen build lands with the bindings work.
fn main() {}
