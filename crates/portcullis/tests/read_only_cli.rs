//! The commands that only read (`check`, `schema`, `explain`, `verify`)
//! leave the configuration's folder as they found it: no store made where
//! there was none, an existing store unchanged to the byte (and read as it
//! is: a suspension made there counts), and a store at an older schema
//! refused, not migrated.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use portcullis_testkit::ExampleCopy;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

struct Example(ExampleCopy);

impl Example {
    fn new(name: &str) -> Self {
        Self(ExampleCopy::new(&format!("read-only-{name}")))
    }

    /// `portcullis ARGS` in the example's folder, `-c portcullis.yaml` as
    /// a user types it there.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .current_dir(&self.0)
            .args(args)
            .args(["-c", "portcullis.yaml"])
            .output()
            .unwrap()
    }

    /// Every file under the folder, with its bytes.
    fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.insert(path.clone(), std::fs::read(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.0, &mut out);
        out
    }

    /// `explain` as `identity`: its exit code and JSON answer.
    fn explain(&self, identity: &str) -> (Option<i32>, Value, String) {
        let out = self.run(&[
            "explain",
            "--identity",
            identity,
            "--request",
            "GET /orders/v1/orders",
            "--json",
        ]);
        let json = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), json, stderr)
    }

    /// Runs every read-only command, each as it succeeds on the example.
    fn read_only_commands(&self) {
        for args in [&["check"][..], &["schema"], &["verify"]] {
            let out = self.run(args);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        }
        let (code, json, stderr) = self.explain("reporting-agent");
        assert_eq!(code, Some(0), "{json:#}\n{stderr}");
    }

    fn store(&self) -> PathBuf {
        self.0.join("portcullis.db")
    }
}

#[test]
fn read_only_commands_make_no_store() {
    let example = Example::new("none");
    let before = example.files();
    example.read_only_commands();
    assert!(!example.store().exists(), "a store was made");
    assert_eq!(
        example.files().keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert!(example.files() == before, "a file changed");
}

#[test]
fn read_only_commands_read_an_existing_store_and_change_nothing_in_it() {
    let example = Example::new("existing");
    // A command that writes makes the store and suspends an identity in it.
    let out = example.run(&["identity", "suspend", "partner-connector"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(example.store().exists());
    // The declared inventory changed since the store applied it: applying
    // it again would write the store (and take `orders:read` away).
    let declared = example.0.join("identities.yaml");
    let text = std::fs::read_to_string(&declared).unwrap().replacen(
        "scopes: [orders:read, customers:read]",
        "scopes: [customers:read]",
        1,
    );
    std::fs::write(&declared, text).unwrap();
    let before = example.files();
    example.read_only_commands();
    // explain reads the store as it is: the suspension there counts, and
    // `reporting-agent` still holds `orders:read` (read_only_commands).
    let (code, json, stderr) = example.explain("partner-connector");
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(json["outcome"]["code"], "identity-suspended", "{json:#}");
    assert_eq!(
        example.files().keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "no file made or removed"
    );
    assert!(example.files() == before, "the store's bytes changed");
}

#[test]
fn a_store_at_an_older_schema_is_refused_not_migrated() {
    let example = Example::new("older");
    let out = example.run(&["identity", "list"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    rusqlite::Connection::open(example.store())
        .unwrap()
        .execute("DELETE FROM schema_version WHERE version > 2", [])
        .unwrap();
    let before = example.files();
    let (code, _, stderr) = example.explain("reporting-agent");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("version 2, older than this build's"),
        "{stderr}"
    );
    assert!(example.files() == before, "the store was changed");
}
