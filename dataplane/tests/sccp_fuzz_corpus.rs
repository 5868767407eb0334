//! Replays the `sccp_pdu` fuzz target's corpus (`fuzz/corpus/sccp_pdu/*`) on stable, with
//! the target's body, so CI exercises every seed (and every crash reproducer added
//! later) without nightly or libFuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use pinhole_dataplane::inspect::sccp::fuzzing::sccp_pdu as run_one;

#[test]
fn every_corpus_file_runs_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sccp_pdu");
    let mut files = 0;
    let mut pdus = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        // An unreadable seed is a failure, not an empty input that still counts.
        let data = std::fs::read(&path).unwrap();
        pdus += run_one(&data).pdus;
        files += 1;
    }
    // The seed corpus is there and its PDUs really reach the inspector.
    assert!(
        files >= 50,
        "only {files} corpus files in {}",
        dir.display()
    );
    assert!(pdus >= 50, "only {pdus} PDUs inspected");
}
