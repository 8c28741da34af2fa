//! Logs as people and machines read them: the demo opens with its banner,
//! not log lines; `--log-format json` writes one JSON object a line and
//! `--log-format text` writes text, whatever stderr is.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use portcullis_testkit::process::Killed;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// Whether `line` is a JSON object, as a JSON log line is.
fn is_json(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.is_object())
}

/// Lines from `from` until one contains `until` (included), within thirty
/// seconds.
fn lines_until(from: impl Read + Send + 'static, until: &str) -> Vec<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(until);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no line with `{until}` within thirty seconds: {seen:#?}"),
        }
    }
}

#[test]
fn the_demo_opens_with_its_banner_and_no_log_lines() {
    // Both streams into one pipe, in the order a terminal would show them.
    let (reader, writer) = std::io::pipe().unwrap();
    let child = Command::new(BIN)
        .args(["demo", "--port", "0"])
        .env_remove("PORTCULLIS_LOG")
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let _demo = Killed(child);
    let screen = lines_until(reader, "Press Ctrl-C");
    let first = screen.iter().find(|l| !l.trim().is_empty()).unwrap();
    assert_eq!(first, "Portcullis demo", "{screen:#?}");
    let logs: Vec<&String> = screen
        .iter()
        .filter(|l| is_json(l) || l.contains(" INFO "))
        .collect();
    assert!(logs.is_empty(), "log lines on the demo's screen: {logs:#?}");
}

/// The example in a fresh folder, listening on free ports.
fn example_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    portcullis_testkit::copy_example(&dir);
    let config = std::fs::read_to_string(dir.join("portcullis.yaml"))
        .unwrap()
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:8081", "127.0.0.1:0");
    std::fs::write(dir.join("portcullis.yaml"), config).unwrap();
    dir
}

/// `serve`'s log lines up to "portcullis listening", with `args` given.
fn serve_logs(name: &str, args: &[&str]) -> Vec<String> {
    let dir = example_copy(name);
    let mut child = Command::new(BIN)
        .args(args)
        .arg(dir.join("portcullis.yaml"))
        .env_remove("PORTCULLIS_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Killed(child);
    let lines = lines_until(stderr, "portcullis listening");
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
    lines
}

#[test]
fn log_format_json_writes_one_json_object_a_line() {
    // The flag is global: before the command or after it.
    for args in [
        &["--log-format", "json", "serve", "-c"][..],
        &["serve", "--log-format", "json", "-c"][..],
    ] {
        let lines = serve_logs("log-json", args);
        assert!(lines.iter().all(|l| is_json(l)), "{lines:#?}");
        let last: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        assert_eq!(last["message"], "portcullis listening");
        assert_eq!(last["level"], "INFO");
    }
}

#[test]
fn log_format_text_writes_text_even_when_stderr_is_not_a_terminal() {
    let lines = serve_logs("log-text", &["serve", "--log-format", "text", "-c"]);
    assert!(lines.iter().all(|l| !is_json(l)), "{lines:#?}");
    let last = lines.last().unwrap();
    assert!(last.contains("INFO") && last.contains("addr="), "{last}");
    assert!(
        !last.contains('\u{1b}'),
        "no colour codes off a terminal: {last:?}"
    );
}

#[test]
fn check_accepts_log_format_and_keeps_its_report_on_stdout() {
    let dir = example_copy("log-check");
    for format in ["json", "text", "auto"] {
        let out = Command::new(BIN)
            .args(["check", "--log-format", format, "-c"])
            .arg(dir.join("portcullis.yaml"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.lines().any(is_json), "{stdout}");
    }
    let wrong = Command::new(BIN)
        .args(["check", "--log-format", "xml", "-c"])
        .arg(dir.join("portcullis.yaml"))
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
