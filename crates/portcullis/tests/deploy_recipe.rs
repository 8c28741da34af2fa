//! The deployment recipe stays true to the product: `deploy/config`'s
//! fleet configuration, beside the example it mounts as `example/`, passes
//! `portcullis check`; the loopback fleet script is valid shell.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn the_fleet_configuration_checks_clean() {
    let dir = std::env::temp_dir().join(format!("portcullis-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    portcullis_testkit::copy_example(&dir.join("example"));
    std::fs::copy(
        root().join("deploy/config/portcullis.yaml"),
        dir.join("portcullis.yaml"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check", "-c"])
        .arg(dir.join("portcullis.yaml"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn the_loopback_fleet_script_is_valid_shell() {
    let out = Command::new("bash")
        .arg("-n")
        .arg(root().join("deploy/fleet-local.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
