//! Fuzz the packet parser and fragment reassembler: no input may panic, and every
//! summary's offsets must stay inside the buffer (see `packet::exercise`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pinhole_dataplane::packet::exercise::exercise;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = exercise(data) {
        // A broken promise is a bug: make libFuzzer keep the input.
        #[allow(clippy::panic)]
        {
            panic!("packet parser violation: {violation}");
        }
    }
});
