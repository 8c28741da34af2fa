//! The console in headless Chromium against a running `portcullis demo`:
//! `crates/console/web/browser/console.mjs` (playwright-core, installed by
//! `npm ci` in `crates/console/web`, which `.ci/run` does) signs in, opens
//! every page, suspends an identity from the console and sees the gateway
//! refuse it, watches that refusal reach live decisions within 2 s, and
//! checks that an attacker's text renders as text. Screenshots of each page
//! are written to `CARGO_TARGET_TMPDIR/console-screenshots`.
//!
//! Without Chromium, Node or playwright-core the test says so and passes,
//! unless `PORTCULLIS_REQUIRE_BROWSER` is set (CI), where it fails.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_testkit::browser::{chromium, on_path};
use portcullis_testkit::process::{demo, quoted};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn web() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../console/web")
}

/// Node, playwright-core and Chromium, or why not.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let node = on_path(&["node"]).ok_or("no node on the PATH")?;
    if !web().join("node_modules/playwright-core").is_dir() {
        return Err("playwright-core is not installed: run `npm ci` in crates/console/web".into());
    }
    let chromium = chromium().ok_or("no Chromium on the PATH")?;
    Ok((node, chromium))
}

#[test]
fn the_console_works_in_a_real_browser_against_the_demo() {
    let (node, chromium) = match tools() {
        Ok(found) => found,
        Err(why) => {
            assert!(
                std::env::var_os("PORTCULLIS_REQUIRE_BROWSER").is_none(),
                "PORTCULLIS_REQUIRE_BROWSER is set but the browser test cannot run: {why}"
            );
            eprintln!("the console's browser test did not run: {why} (CI runs it)");
            return;
        }
    };
    let (_demo, banner) = demo(BIN);
    let console = banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("console   "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let admin_key = quoted(&banner, "ADMIN").unwrap();
    // `READER=$(curl -s -u 'reporting-agent:pcs_…' … http://127.0.0.1:port/oauth/token | …)`
    let reader = banner.iter().find(|l| l.starts_with("READER=")).unwrap();
    let credential = reader.split('\'').nth(1).unwrap();
    let (reader_id, reader_secret) = credential.split_once(':').unwrap();
    let gateway = reader
        .split_whitespace()
        .find_map(|w| w.strip_suffix("/oauth/token"))
        .unwrap();
    // The last verify report the console shows: where the banner's verify
    // line writes it, here from a coverage-only run (no traffic).
    let verify_line = banner.iter().find(|l| l.contains("--report-json")).unwrap();
    let report = verify_line.rsplit(' ').next().unwrap();
    // (In the demo's private folder, which `Killed` removes.)
    let examples =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders/portcullis.yaml");
    let verified = Command::new(BIN)
        .args(["verify", "-c"])
        .arg(&examples)
        .args(["--report-json", report])
        .output()
        .unwrap();
    assert!(
        Path::new(report).is_file(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(node)
        .arg(web().join("browser/console.mjs"))
        .env("CONSOLE", &console)
        .env("GATEWAY", gateway)
        .env("ADMIN_KEY", admin_key)
        .env("READER_ID", reader_id)
        .env("READER_SECRET", reader_secret)
        .env("CHROMIUM", chromium)
        .env("OUT", &out)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    println!("{said}");
    assert!(
        run.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let shots = std::fs::read_dir(&out).unwrap().count();
    assert!(shots >= 10, "{shots} screenshots in {}", out.display());
    println!("screenshots: {}", out.display());
}
