//! Fuzz the SDP parser and media endpoint resolution.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = pinhole_dataplane::inspect::sip::fuzzing::sdp(data) {
        panic!("invariant violated: {violation}");
    }
});
