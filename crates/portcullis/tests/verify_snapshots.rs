//! `portcullis verify` output on the example configuration, pinned: text,
//! JSON, SARIF and JUnit in coverage mode (no gateway, no upstream, so no
//! network). Run from a copy of the example, by a relative path, so no
//! temporary folder shows; the run's duration is the only thing normalised.
//! These were written before verify's engine left the binary, and must not
//! change when it moves.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::process::Command;

use portcullis_testkit::ExampleCopy;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A copy of the example, removed when dropped.
struct Example(ExampleCopy);

impl Example {
    fn new(name: &str) -> Self {
        Self(ExampleCopy::new(&format!("verify-snap-{name}")))
    }

    /// `verify -c portcullis.yaml --format <format>` from the copy's
    /// folder: standard output, with durations normalised.
    fn verify(&self, format: &str) -> String {
        let out = Command::new(BIN)
            .current_dir(&self.0)
            .args(["verify", "-c", "portcullis.yaml", "--format", format])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "coverage alone passes: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        normalise(&String::from_utf8(out.stdout).unwrap())
    }
}

/// Every run-dependent figure replaced: the duration in text (`in 0.1 s`),
/// JSON (`"elapsed_ms": 12`) and JUnit (`time="0.012"`).
fn normalise(text: &str) -> String {
    let mut out = text.to_owned();
    for (before, after) in [
        (" error finding(s), in ", " s"),
        ("\"elapsed_ms\": ", ","),
        ("time=\"", "\""),
    ] {
        out = blank_after(&out, before, after);
    }
    out
}

/// `text` with the digits and dots between each `before` and the `after`
/// that follows them replaced by `[elapsed]`.
fn blank_after(text: &str, before: &str, after: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(before) {
        let (head, tail) = rest.split_at(at + before.len());
        out.push_str(head);
        let figure = tail
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tail.len());
        if figure > 0 && tail[figure..].starts_with(after) {
            out.push_str("[elapsed]");
            rest = &tail[figure..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn verify_text_on_the_example() {
    insta::assert_snapshot!(Example::new("text").verify("text"));
}

#[test]
fn verify_json_on_the_example() {
    insta::assert_snapshot!(Example::new("json").verify("json"));
}

#[test]
fn verify_sarif_on_the_example() {
    insta::assert_snapshot!(Example::new("sarif").verify("sarif"));
}

#[test]
fn verify_junit_on_the_example() {
    insta::assert_snapshot!(Example::new("junit").verify("junit"));
}
