//! What makes a running `serve` reload: SIGHUP, and a change to a file the
//! configuration was read from (the file itself, contracts and the files
//! they reference, `identities.yaml`, secret files) or a `*.cedar` file
//! added to or removed from the policies folder.
//!
//! The folders holding those files are watched (not recursively), and an
//! event counts only when its path is one of them: the store, the audit
//! ledger and any log beside the configuration are written by the gateway
//! itself, many times a second under load, and must never reload it. The
//! watched set follows each reload. (Folders, not the files: a watch on a
//! file that an editor replaces by renaming a new one over it follows the
//! old file, and re-watching races with the watcher's own cleanup.) The
//! watch (`portcullis_proxy::FolderWatch`) asks only for files written and
//! closed, created, removed or renamed, so the gateway's own writes to the
//! files it keeps open never reach it.
//!
//! Triggers are coalesced: however many arrive while a reload runs, one more
//! reload follows after a quiet moment, so a storm of edits costs a couple
//! of validations, not one per event.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use portcullis_config::Inputs;
use portcullis_proxy::{FolderWatch, Reloader};
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

/// The watcher and the folders it watches now.
struct Watching {
    watcher: FolderWatch,
    paths: BTreeSet<PathBuf>,
}

pub fn start(reloader: Reloader) -> Triggers {
    let (tx, rx) = mpsc::unbounded_channel::<&'static str>();
    // The watcher's thread holds only the inputs and the sender, never the
    // reloader: notify drops its handler on its own thread, maybe after the
    // process has finished, and whatever it holds is then never dropped (the
    // gateway's audit writer signs its last checkpoint when dropped).
    let watching = watcher(reloader.inputs(), tx.clone()).map(|watcher| {
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

/// A watcher that sends a trigger for each change to a configuration input.
fn watcher(
    inputs: Arc<RwLock<Inputs>>,
    tx: mpsc::UnboundedSender<&'static str>,
) -> Option<FolderWatch> {
    // `None`: the kernel lost events, so any input may have changed.
    let on_change = move |path: Option<&std::path::Path>| {
        if path.is_none_or(|path| inputs.read().is_ok_and(|i| i.concern(path))) {
            let _ = tx.send("file-change");
        }
    };
    match FolderWatch::start(on_change) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the configuration's files; reload with SIGHUP or the admin API");
            None
        }
    }
}

/// Watches exactly the folders the configuration is read from now.
fn follow(watching: &Mutex<Watching>, reloader: &Reloader) {
    let Ok(wanted) = reloader.inputs().read().map(|i| i.folders_to_watch()) else {
        return;
    };
    let Ok(mut watching) = watching.lock() else {
        return;
    };
    let Watching { watcher, paths } = &mut *watching;
    let stale: Vec<PathBuf> = paths.difference(&wanted).cloned().collect();
    for folder in stale {
        watcher.unwatch(&folder);
        paths.remove(&folder);
    }
    let new: Vec<PathBuf> = wanted.difference(paths).cloned().collect();
    for folder in new {
        match watcher.watch(&folder) {
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
