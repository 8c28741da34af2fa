//! `serve` reloads on its own: a change to a file the configuration reads
//! (coalesced) and SIGHUP both reload; a bad policy is refused, reported,
//! and the last good configuration keeps serving; files the configuration
//! does not read (the store, the ledger, a log) never reload it; a `-c`
//! path relative to the working directory reloads the same way; so does a
//! Kubernetes-style volume update (`..data` swapped by a rename).

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

struct Serve {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Serve {
    /// The next log line whose message is `message`, within thirty seconds
    /// (a bound, not a measure: the full suite loads this machine).
    fn wait_for(&self, message: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if v["message"] == message => return v,
                Ok(_) => {}
                Err(_) => panic!("no `{message}` log line within thirty seconds"),
            }
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
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

/// `portcullis serve -c CONFIG` run in `cwd`, its log lines collected.
fn serve(cwd: &Path, config: &Path) -> Serve {
    let mut child = Command::new(BIN)
        .current_dir(cwd)
        .args(["serve", "-c"])
        .arg(config)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx
                .send(serde_json::from_str(&line).unwrap_or_default())
                .is_err()
            {
                break;
            }
        }
    });
    Serve { child, lines }
}

#[test]
fn serve_reloads_on_change_and_sighup_and_keeps_the_last_good() {
    let dir = example_copy("reload-cli");
    let serve = serve(&dir, &dir.join("portcullis.yaml"));
    // The watch is in place before the gateway says it is listening.
    loop {
        let watching = serve.wait_for("watching for configuration changes");
        if watching["folder"]
            .as_str()
            .is_some_and(|f| f.ends_with("policies"))
        {
            break;
        }
    }
    serve.wait_for("portcullis listening");

    // A policy naming an operation the contract does not declare.
    std::fs::write(
        dir.join("policies/zz-bad.cedar"),
        "permit(principal, action == Action::\"orders:deleteEverything\", resource);\n",
    )
    .unwrap();
    let refused =
        serve.wait_for("configuration reload refused; the last good configuration keeps serving");
    assert_eq!(refused["trigger"], "file-change");
    assert_eq!(refused["serving"], 1);
    let errors = refused["errors"].as_str().unwrap();
    assert!(
        errors.contains("zz-bad.cedar:1")
            && errors.contains("declares no operation `deleteEverything`")
            && errors.contains("openapi.yaml"),
        "names the policy file and the contract: {errors}"
    );

    std::fs::remove_file(dir.join("policies/zz-bad.cedar")).unwrap();
    let applied = serve.wait_for("configuration reloaded");
    assert_eq!(
        (applied["trigger"].as_str(), applied["version"].as_u64()),
        (Some("file-change"), Some(2))
    );

    // Files beside the configuration that it does not read: written many
    // times, they reload nothing, so the next reload is the signal's.
    std::thread::sleep(Duration::from_millis(600));
    for i in 0..20 {
        std::fs::write(dir.join("gateway.log"), format!("line {i}\n")).unwrap();
        std::fs::write(dir.join("policies/README.txt"), format!("note {i}\n")).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(600));
    signal(&serve.child, "-HUP");
    let applied = serve.wait_for("configuration reloaded");
    assert_eq!(applied["trigger"], "signal", "{applied}");
    assert_eq!(applied["version"], 3);

    // Editors that save by renaming a new file over the old one: each
    // save reloads, the second included (the watch follows the new file).
    for round in 0..2 {
        let text = std::fs::read_to_string(dir.join("portcullis.yaml")).unwrap();
        std::fs::write(
            dir.join(".portcullis.yaml.swp"),
            format!("{text}\n# saved {round}\n"),
        )
        .unwrap();
        std::fs::rename(
            dir.join(".portcullis.yaml.swp"),
            dir.join("portcullis.yaml"),
        )
        .unwrap();
        let applied = serve.wait_for("configuration reloaded");
        assert_eq!(applied["trigger"], "file-change", "{applied}");
        assert_eq!(applied["version"], 4 + round);
    }

    // A storm: forty writes in well under a second, some of them invalid,
    // ending valid. Debounced and coalesced: a few reloads, not forty, and
    // the last one applies the final text.
    for i in 0..40 {
        let text = if i % 3 == 1 {
            "permit(principal, action resource".to_owned()
        } else {
            format!(
                "@id(\"storm-{i}\")\npermit(principal == Identity::\"stale-bot\", action == Action::\"orders:getOrder\", resource);\n"
            )
        };
        std::fs::write(dir.join("policies/storm.cedar"), text).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut outcomes = Vec::new();
    while let Ok(v) = serve.lines.recv_timeout(Duration::from_millis(2000)) {
        let m = v["message"].as_str().unwrap_or_default();
        if m.starts_with("configuration reload") {
            outcomes.push(m.to_owned());
        }
    }
    assert!(
        (1..=3).contains(&outcomes.len()),
        "one storm, {} reloads: {outcomes:?}",
        outcomes.len()
    );
    assert_eq!(
        outcomes.last().map(String::as_str),
        Some("configuration reloaded")
    );
    signal(&serve.child, "-TERM");
    drop(serve);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-c` relative to the working directory, as people type it: the
/// configuration file itself and its contract still reload the gateway.
fn reloads_with_a_relative_path(cwd: &Path, config: &Path) {
    let dir = cwd.join(config).parent().unwrap().to_owned();
    let serve = serve(cwd, config);
    loop {
        let watching = serve.wait_for("watching for configuration changes");
        let folder = watching["folder"].as_str().unwrap();
        assert!(Path::new(folder).is_absolute(), "{watching}");
        if folder.ends_with("policies") {
            break;
        }
    }
    serve.wait_for("portcullis listening");
    let edits = [
        ("portcullis.yaml", "\n# edited\n"),
        ("openapi.yaml", "\n# edited\n"),
    ];
    for (version, (file, tail)) in (2..).zip(edits) {
        let mut text = std::fs::read_to_string(dir.join(file)).unwrap();
        text.push_str(tail);
        std::fs::write(dir.join(file), text).unwrap();
        let applied = serve.wait_for("configuration reloaded");
        assert_eq!(applied["trigger"], "file-change", "{file}: {applied}");
        assert_eq!(applied["version"], version, "{file}: {applied}");
    }
    signal(&serve.child, "-TERM");
}

#[test]
fn a_relative_config_path_reloads_on_a_change_to_the_configuration_or_a_contract() {
    let dir = example_copy("reload-relative");
    reloads_with_a_relative_path(&dir, Path::new("portcullis.yaml"));
    let parent = dir.parent().unwrap();
    let name = dir.file_name().unwrap();
    reloads_with_a_relative_path(parent, &Path::new(name).join("portcullis.yaml"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A configuration mounted the way Kubernetes mounts a ConfigMap: each
/// file a symbolic link through `..data`, and an update that swaps
/// `..data` by a rename without touching any name the configuration read.
#[cfg(unix)]
#[test]
fn a_kubernetes_style_volume_update_reloads() {
    use std::os::unix::fs::symlink;
    let dir = std::env::temp_dir().join(format!("portcullis-reload-k8s-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let first = example_copy("reload-k8s-v1");
    std::fs::rename(&first, dir.join("..v1")).unwrap();
    symlink("..v1", dir.join("..data")).unwrap();
    for entry in std::fs::read_dir(dir.join("..v1")).unwrap() {
        let name = entry.unwrap().file_name();
        symlink(Path::new("..data").join(&name), dir.join(&name)).unwrap();
    }
    let serve = serve(&dir, &dir.join("portcullis.yaml"));
    serve.wait_for("portcullis listening");

    let second = example_copy("reload-k8s-v2");
    let text = std::fs::read_to_string(dir.join("..v1/portcullis.yaml")).unwrap();
    std::fs::write(second.join("portcullis.yaml"), format!("{text}\n# v2\n")).unwrap();
    std::fs::rename(&second, dir.join("..v2")).unwrap();
    symlink("..v2", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    let applied = serve.wait_for("configuration reloaded");
    assert_eq!(applied["trigger"], "file-change", "{applied}");
    assert_eq!(applied["version"], 2, "{applied}");
    signal(&serve.child, "-TERM");
    drop(serve);
    let _ = std::fs::remove_dir_all(&dir);
}
