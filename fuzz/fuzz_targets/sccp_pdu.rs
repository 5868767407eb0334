//! Fuzz the Skinny parser, framing and inspector (the body is
//! `pinhole_dataplane::inspect::sccp::fuzzing::sccp_pdu`, which
//! `dataplane/tests/sccp_fuzz_corpus.rs` also runs over the corpus on stable).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pinhole_dataplane::inspect::sccp::fuzzing::sccp_pdu(data);
});
