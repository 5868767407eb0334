//! Replays the committed fuzz corpus (`fuzz/corpus/{sip_message,sdp}`) through the same
//! entry points the fuzz targets call, so stable CI checks every seed and every past
//! crasher without libFuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use pinhole_dataplane::inspect::sip::fuzzing;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn sip_message_corpus_replays_cleanly() {
    let files = corpus("sip_message");
    assert!(files.len() >= 10, "seed corpus missing");
    for (name, data) in files {
        assert_eq!(fuzzing::sip_message(&data), Ok(()), "{name}");
    }
}

#[test]
fn sdp_corpus_replays_cleanly() {
    let files = corpus("sdp");
    assert!(files.len() >= 5, "seed corpus missing");
    for (name, data) in files {
        assert_eq!(fuzzing::sdp(&data), Ok(()), "{name}");
    }
}
