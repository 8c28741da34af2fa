//! The layering, written once and checked: every crate ARCHITECTURE.md's
//! crate map calls `pure` must not depend, directly or through anything it
//! links, on a crate that does I/O (a database driver, an async runtime, an
//! HTTP stack, a file watcher). The map is read from ARCHITECTURE.md and
//! the dependency graph from `cargo metadata`, so neither is remembered.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// Crates that do I/O: none may be reached from a pure crate.
const IO_CRATES: &[&str] = &[
    "rusqlite",
    "libsqlite3-sys",
    "sqlx",
    "tokio-postgres",
    "postgres",
    "redis",
    "tokio",
    "mio",
    "socket2",
    "hyper",
    "hyper-util",
    "h2",
    "axum",
    "reqwest",
    "notify",
];

/// The crates the map's `kind` column calls exactly `pure`.
fn pure_crates(architecture: &str) -> Vec<String> {
    architecture
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 3 && cells[2] == "pure")
                .then(|| cells[1].split('`').nth(1).unwrap_or_default().to_owned())
        })
        .collect()
}

/// Each pure crate that reaches an I/O crate through its normal (linked)
/// dependencies, with the I/O crates it reaches.
fn violations(metadata: &Value, pure: &[String]) -> Vec<(String, BTreeSet<String>)> {
    let names: HashMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let edges: HashMap<&str, Vec<&str>> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let linked = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap())
                .collect();
            (node["id"].as_str().unwrap(), linked)
        })
        .collect();
    let mut found = Vec::new();
    for name in pure {
        let Some(start) = names.iter().find(|(_, n)| **n == name).map(|(id, _)| *id) else {
            panic!("ARCHITECTURE.md names `{name}`, which is not in the workspace");
        };
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(id) = todo.pop() {
            for dep in edges.get(id).into_iter().flatten() {
                if seen.insert(*dep) {
                    todo.push(dep);
                }
            }
        }
        let io: BTreeSet<String> = seen
            .iter()
            .map(|id| names[id])
            .filter(|n| IO_CRATES.contains(n))
            .map(str::to_owned)
            .collect();
        if !io.is_empty() {
            found.push((name.clone(), io));
        }
    }
    found
}

#[test]
fn no_crate_the_architecture_calls_pure_depends_on_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let pure = pure_crates(&architecture);
    for expected in ["portcullis-core", "portcullis-contract", "portcullis-audit"] {
        assert!(pure.iter().any(|p| p == expected), "{pure:?}");
    }
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = violations(&metadata, &pure);
    assert!(found.is_empty(), "pure crates reaching I/O: {found:?}");
}

/// The check bites: a pure crate that reaches `tokio` through another crate
/// is named, and a dev-dependency on it is not.
#[test]
fn a_pure_crate_gaining_an_io_dependency_is_named() {
    let node = |id: &str, deps: Value| json!({"id": id, "deps": deps});
    let dep = |pkg: &str, kind: Value| json!({"pkg": pkg, "dep_kinds": [{"kind": kind}]});
    let metadata = json!({
        "packages": [
            {"id": "a", "name": "portcullis-a"},
            {"id": "b", "name": "helper"},
            {"id": "t", "name": "tokio"},
            {"id": "c", "name": "portcullis-c"},
        ],
        "resolve": {"nodes": [
            node("a", json!([dep("b", Value::Null)])),
            node("b", json!([dep("t", Value::Null)])),
            node("c", json!([dep("t", json!("dev"))])),
            node("t", json!([])),
        ]},
    });
    let pure = vec!["portcullis-a".to_owned(), "portcullis-c".to_owned()];
    let found = violations(&metadata, &pure);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "portcullis-a");
    assert!(found[0].1.contains("tokio"));
    let table = "| crate | kind | job |\n|---|---|---|\n| `portcullis-a` (`crates/a`) | pure | x |\n| `portcullis-b` (`crates/b`) | data plane | y |\n";
    assert_eq!(pure_crates(table), ["portcullis-a"]);
}
