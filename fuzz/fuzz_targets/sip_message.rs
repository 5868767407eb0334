//! Fuzz the SIP message path: framing, parsing, checks, SDP extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = pinhole_dataplane::inspect::sip::fuzzing::sip_message(data) {
        panic!("invariant violated: {violation}");
    }
});
