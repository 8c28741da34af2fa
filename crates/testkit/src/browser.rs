//! Rendering a page in headless Chromium, for tests of the HTML reports
//! (`verify --report`, `posture --format html`). Chromium comes from
//! `chromium` (or `chromium-browser`, `google-chrome`) on the PATH, or
//! `PORTCULLIS_CHROMIUM`; `.ci/run` installs it and sets
//! `PORTCULLIS_REQUIRE_BROWSER=1`, so CI always renders.

#![allow(
    clippy::unwrap_used,
    reason = "test support: a browser that cannot be run fails the test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium: `PORTCULLIS_CHROMIUM`, else the first of its names on the PATH.
pub fn chromium() -> Option<PathBuf> {
    match std::env::var_os("PORTCULLIS_CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)),
        None => on_path(&["chromium", "chromium-browser", "google-chrome"]),
    }
}

/// The first program of `names` found on the PATH.
pub fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|p| p.is_file())
}

/// The page's DOM after Chromium loaded it and ran its script; `None`
/// (said on stderr) where no Chromium is installed, unless
/// `PORTCULLIS_REQUIRE_BROWSER` is set (CI), where that fails the test.
pub fn rendered(page: &Path, scratch: &Path) -> Option<String> {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("PORTCULLIS_REQUIRE_BROWSER").is_none(),
            "PORTCULLIS_REQUIRE_BROWSER is set but no Chromium was found"
        );
        eprintln!("no Chromium on this machine: the page was not rendered (CI renders it)");
        return None;
    };
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}
