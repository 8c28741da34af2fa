//! Drives every fuzz target over its saved corpus (`fuzz/corpus/<target>/`),
//! so CI exercises them on a stable compiler.

#![allow(
    clippy::panic,
    reason = "test code: a missing corpus should fail the test"
)]

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus for {target}");
    files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect()
}

#[test]
fn canonical_path_corpus() {
    for input in corpus("canonical_path") {
        portcullis_fuzz_targets::canonical_path(&input);
    }
}

#[test]
fn bearer_token_corpus() {
    for input in corpus("bearer_token") {
        portcullis_fuzz_targets::bearer_token(&input);
    }
}

#[test]
fn contract_loader_corpus() {
    for input in corpus("contract_loader") {
        portcullis_fuzz_targets::contract_loader(&input);
    }
}

#[test]
fn json_body_corpus() {
    for input in corpus("json_body") {
        portcullis_fuzz_targets::json_body(&input);
    }
}
