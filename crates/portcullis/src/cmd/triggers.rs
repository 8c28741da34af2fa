//! What makes a running `serve` reload: SIGHUP, and any change to a file
//! under the configuration file's folder (contracts, policies,
//! `identities.yaml`, the file itself), debounced.
//!
//! Triggers are coalesced: however many arrive while a reload runs, one more
//! reload follows, so a storm of edits costs a couple of validations, not
//! one per event. The store's own files are ignored: the gateway writes them.

use std::path::Path;
use std::time::Duration;

use notify_debouncer_full::notify::event::ModifyKind;
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use portcullis_proxy::Reloader;
use tokio::sync::mpsc;

/// Quiet time after the last change to a file before it counts as changed.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// Quiet time after the last trigger before reloading.
const SETTLE: Duration = Duration::from_millis(250);

/// Keeps the triggers running; dropping it stops the file watcher.
#[derive(Debug)]
pub struct Triggers {
    _watcher: Option<Box<dyn std::any::Any + Send>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Triggers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the signal handler and the file watcher. A watcher that cannot
/// start (no inotify) is a warning: SIGHUP and the admin API still reload.
pub fn start(reloader: Reloader) -> Triggers {
    let (tx, rx) = mpsc::unbounded_channel::<&'static str>();
    let watcher = reloader
        .path()
        .parent()
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }
        })
        .and_then(|dir| watch(dir, tx.clone()));
    spawn_sighup(tx);
    let task = tokio::spawn(run(reloader, rx));
    Triggers {
        _watcher: watcher,
        task,
    }
}

async fn run(reloader: Reloader, mut rx: mpsc::UnboundedReceiver<&'static str>) {
    while let Some(trigger) = rx.recv().await {
        // Coalesce: wait until the triggers stop for a moment (a deploy
        // writing many files, an editor saving twice); one reload covers
        // them all.
        loop {
            tokio::time::sleep(SETTLE).await;
            let mut more = false;
            while rx.try_recv().is_ok() {
                more = true;
            }
            if !more {
                break;
            }
        }
        // The outcome is logged and kept in the reload status by the reloader.
        let _ = reloader.reload(trigger).await;
    }
}

fn watch(
    dir: &Path,
    tx: mpsc::UnboundedSender<&'static str>,
) -> Option<Box<dyn std::any::Any + Send>> {
    let handler = move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        // Reading the files (a reload does) is not a change: only creations,
        // writes, renames and removals count, or each reload would trigger
        // the next.
        let relevant = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Create(_)
                        | EventKind::Modify(
                            ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any
                        )
                        | EventKind::Remove(_)
                )
            })
            .flat_map(|e| e.paths.iter())
            .any(|p| !is_store_file(p));
        if relevant {
            let _ = tx.send("file-change");
        }
    };
    let mut debouncer = match new_debouncer(DEBOUNCE, None, handler) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the configuration's files; reload with SIGHUP or the admin API");
            return None;
        }
    };
    if let Err(e) = debouncer.watch(dir, RecursiveMode::Recursive) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the configuration's folder; reload with SIGHUP or the admin API");
        return None;
    }
    tracing::info!(dir = %dir.display(), "watching the configuration's folder for changes");
    Some(Box::new(debouncer))
}

/// SQLite's own files (`portcullis.db`, its `-wal`, `-shm`, `-journal`).
fn is_store_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    [
        ".db",
        ".db-wal",
        ".db-shm",
        ".db-journal",
        ".sqlite",
        ".sqlite-wal",
        ".sqlite-shm",
    ]
    .iter()
    .any(|suffix| name.ends_with(suffix))
}

#[cfg(unix)]
fn spawn_sighup(tx: mpsc::UnboundedSender<&'static str>) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    if tx.send("signal").is_err() {
                        break;
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP"),
    }
}

#[cfg(not(unix))]
fn spawn_sighup(_tx: mpsc::UnboundedSender<&'static str>) {}

#[cfg(test)]
mod tests {
    use super::is_store_file;
    use std::path::Path;

    #[test]
    fn the_store_files_do_not_trigger_reloads() {
        assert!(is_store_file(Path::new("/x/portcullis.db-wal")));
        assert!(is_store_file(Path::new("portcullis.db")));
        assert!(!is_store_file(Path::new("/x/policies/a.cedar")));
        assert!(!is_store_file(Path::new("portcullis.yaml")));
    }
}
