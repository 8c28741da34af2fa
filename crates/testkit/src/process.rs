//! A process a test started (`portcullis demo`, `portcullis serve`), killed
//! when the test ends however it ends.

use std::process::Child;

/// Kills and reaps its child when dropped, and removes what a killed
/// `portcullis demo` cannot: its private temporary folder (where the
/// console's verify report goes).
#[derive(Debug)]
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let pid = self.0.id();
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ =
            std::fs::remove_dir_all(std::env::temp_dir().join(format!("portcullis-demo-{pid}")));
    }
}

/// `portcullis demo --port 0`, run from `bin`, and its banner: every line
/// it printed before `Press Ctrl-C`. The rest of its output is drained, so
/// it never blocks on a full pipe.
///
/// # Panics
/// The demo does not start or prints no banner (test support).
pub fn demo(bin: &str) -> (Killed, Vec<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(bin)
        .args(["demo", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin} demo: {e}"));
    let stdout = child.stdout.take();
    let demo = Killed(child);
    let mut lines = BufReader::new(stdout.unwrap_or_else(|| panic!("no stdout"))).lines();
    let banner: Vec<String> = lines
        .by_ref()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("Press Ctrl-C"))
        .collect();
    std::thread::spawn(move || for _ in lines {});
    assert!(!banner.is_empty(), "the demo printed no banner");
    (demo, banner)
}

/// The value of `NAME='…'` on one of the banner's lines.
pub fn quoted<'a>(banner: &'a [String], name: &str) -> Option<&'a str> {
    let prefix = format!("{name}='");
    banner
        .iter()
        .find_map(|l| l.strip_prefix(&prefix)?.strip_suffix('\''))
}
