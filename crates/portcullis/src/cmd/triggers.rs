//! What makes a running `serve` reload: SIGHUP, and a change to a file the
//! configuration was read from (the file itself, contracts and the files
//! they reference, `identities.yaml`, secret files) or a `*.cedar` file
//! added to or removed from the policies folder.
//!
//! Those files themselves are watched, and the policies folder (not
//! recursively); an event counts only when its path is one of them. The
//! store, the audit ledger and any log beside the configuration are written
//! by the gateway itself, many times a second under load: watching the
//! files rather than their folder means those writes never even wake the
//! watcher. Every file is watched afresh after each reload, so an editor
//! that saves by renaming a new file over the old one is followed; a file
//! that cannot be watched (it is missing) is covered by watching its folder.
//!
//! Triggers are coalesced: however many arrive while a reload runs, one more
//! reload follows after a quiet moment, so a storm of edits costs a couple
//! of validations, not one per event.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use portcullis_proxy::Reloader;
use tokio::sync::mpsc;

/// Quiet time after the last trigger before reloading.
const SETTLE: Duration = Duration::from_millis(250);

/// Keeps the triggers running; dropping it stops them.
#[derive(Debug)]
pub struct Triggers {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Triggers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The watcher and the paths (files and folders) it watches now.
struct Watching {
    watcher: RecommendedWatcher,
    paths: BTreeSet<PathBuf>,
}

pub fn start(reloader: Reloader) -> Triggers {
    let (tx, rx) = mpsc::unbounded_channel::<&'static str>();
    let watching = watcher(reloader.clone(), tx.clone()).map(|watcher| {
        let watching = Arc::new(Mutex::new(Watching {
            watcher,
            paths: BTreeSet::new(),
        }));
        follow(&watching, &reloader);
        watching
    });
    spawn_sighup(tx);
    let task = tokio::spawn(run(reloader, rx, watching));
    Triggers { task }
}

async fn run(
    reloader: Reloader,
    mut rx: mpsc::UnboundedReceiver<&'static str>,
    watching: Option<Arc<Mutex<Watching>>>,
) {
    while let Some(trigger) = rx.recv().await {
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
        let _ = reloader.reload(trigger).await;
        if let Some(watching) = &watching {
            follow(watching, &reloader);
        }
    }
}

/// A watcher that sends a trigger for each event on a configuration input.
fn watcher(
    reloader: Reloader,
    tx: mpsc::UnboundedSender<&'static str>,
) -> Option<RecommendedWatcher> {
    let handler = move |result: notify::Result<Event>| {
        let Ok(event) = result else { return };
        let changes = matches!(
            event.kind,
            EventKind::Create(_)
                | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
                | EventKind::Remove(_)
        );
        if changes && event.paths.iter().any(|p| reloader.concerns(p)) {
            let _ = tx.send("file-change");
        }
    };
    match notify::recommended_watcher(handler) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the configuration's files; reload with SIGHUP or the admin API");
            None
        }
    }
}

/// Watches exactly what the configuration is read from now.
fn follow(watching: &Mutex<Watching>, reloader: &Reloader) {
    let inputs = reloader.inputs();
    let Ok(mut watching) = watching.lock() else {
        return;
    };
    let Watching { watcher, paths } = &mut *watching;
    let mut wanted = inputs.listed_folders();
    for file in &inputs.files {
        // Watched again each time: after a rename-over save the old watch
        // follows a file that is gone.
        let _ = watcher.unwatch(file);
        paths.remove(file);
        if watcher.watch(file, RecursiveMode::NonRecursive).is_ok() {
            paths.insert(file.clone());
        } else if let Some(folder) = file.parent() {
            wanted.insert(folder.to_path_buf());
        }
    }
    let stale: Vec<PathBuf> = paths
        .iter()
        .filter(|p| !wanted.contains(*p) && !inputs.files.contains(*p))
        .cloned()
        .collect();
    for path in stale {
        let _ = watcher.unwatch(&path);
        paths.remove(&path);
    }
    for folder in wanted {
        if paths.contains(&folder) {
            continue;
        }
        match watcher.watch(&folder, RecursiveMode::NonRecursive) {
            Ok(()) => {
                tracing::info!(folder = %folder.display(), "watching for configuration changes");
                paths.insert(folder);
            }
            Err(e) => tracing::warn!(
                error = %e,
                folder = %folder.display(),
                "cannot watch this configuration folder; reload with SIGHUP or the admin API"
            ),
        }
    }
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
