//! `portcullis serve` as a child process, for the binary's own integration
//! tests: started on a configuration, its address read from its
//! `portcullis listening` log line, killed when dropped so a failing test
//! leaves nothing running.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `portcullis serve`.
#[derive(Debug)]
pub struct Served {
    child: Child,
    /// The gateway listener's address.
    pub addr: SocketAddr,
}

impl Served {
    /// Runs `bin serve -c config` and waits (at most 20 s) until it listens.
    pub fn start(bin: &str, config: &Path) -> Self {
        Self::start_with(bin, config, &[])
    }

    /// As [`Served::start`], with more arguments to `serve` (`--node`...).
    pub fn start_with(bin: &str, config: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(bin)
            .args(["serve", "--log-format", "json", "-c"])
            .arg(config)
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin}: {e}"));
        let Some(stderr) = child.stderr.take() else {
            panic!("serve's stderr is not piped")
        };
        let mut lines = BufReader::new(stderr).lines();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            if v.get("message").and_then(Value::as_str) == Some("portcullis listening")
                && let Some(addr) = v
                    .get("addr")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok())
            {
                // Keep draining its logs so it never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines.by_ref() {});
                return Self { child, addr };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the gateway did not start on {}", config.display());
    }

    /// SIGTERM, and waits for the orderly stop (its last audit commit and
    /// checkpoint included).
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary `bin` with `args` and `-c config`: its exit code,
/// standard output and standard error.
pub fn cli(bin: &str, config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin)
        .args(args)
        .arg("-c")
        .arg(config)
        .output()
        .unwrap_or_else(|e| panic!("{bin}: {e}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
