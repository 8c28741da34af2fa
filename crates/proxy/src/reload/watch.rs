//! Watching the folders a configuration is read from, for the changes that
//! can alter what it reads: a file written and closed, created, removed, or
//! renamed into or out of the folder.
//!
//! Not every write. The store and the audit ledger usually sit beside the
//! configuration, and the gateway writes them thousands of times a second
//! under load; with a watch that reports each write, every one of those
//! writes queued an event in the kernel and woke the watcher's thread only
//! for it to be dropped (about 4% of the gateway's CPU under load, in the
//! writer's `write` calls and the watcher's thread). On Linux the watch asks
//! inotify for exactly the events above, so those writes queue nothing: a
//! database keeps its files open and never closes them between writes.
//! Elsewhere `notify` watches (it cannot narrow the events it asks for) and
//! the same kinds of change are passed on.
//!
//! What is reported is the path that changed, for the caller to decide
//! whether it concerns the configuration, or `None` when the kernel's queue
//! overflowed and events were lost: anything may have changed.

use std::io;
use std::path::Path;

/// A watch over some folders (not recursive), calling `on_change` on its
/// own thread with each path that changed in one of them (`None`: events
/// were lost).
pub struct FolderWatch {
    inner: imp::Inner,
}

impl std::fmt::Debug for FolderWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FolderWatch")
    }
}

impl FolderWatch {
    /// Starts watching nothing yet.
    ///
    /// # Errors
    /// The platform's watch cannot be made (too many watchers, say).
    pub fn start(on_change: impl Fn(Option<&Path>) + Send + 'static) -> io::Result<Self> {
        imp::Inner::start(Box::new(on_change)).map(|inner| Self { inner })
    }

    /// Watches `folder` too.
    ///
    /// # Errors
    /// It cannot be watched (missing, not a folder, not readable).
    pub fn watch(&mut self, folder: &Path) -> io::Result<()> {
        self.inner.watch(folder)
    }

    /// Stops watching `folder`.
    pub fn unwatch(&mut self, folder: &Path) {
        self.inner.unwatch(folder);
    }
}

type OnChange = Box<dyn Fn(Option<&Path>) + Send>;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::collections::HashMap;
    use std::io;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask, Watches};

    use super::OnChange;

    /// Written and closed, created, deleted, renamed out, renamed in.
    const MASK: WatchMask = WatchMask::CLOSE_WRITE
        .union(WatchMask::CREATE)
        .union(WatchMask::DELETE)
        .union(WatchMask::MOVED_FROM)
        .union(WatchMask::MOVED_TO)
        .union(WatchMask::ONLYDIR);

    type Folders = Arc<Mutex<HashMap<WatchDescriptor, PathBuf>>>;

    pub(super) struct Inner {
        watches: Watches,
        folders: Folders,
        stop: Arc<AtomicBool>,
    }

    impl Inner {
        pub(super) fn start(on_change: OnChange) -> io::Result<Self> {
            let mut inotify = Inotify::init()?;
            let watches = inotify.watches();
            let folders: Folders = Arc::default();
            let stop = Arc::new(AtomicBool::new(false));
            let (seen, stopping) = (Arc::clone(&folders), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("config-watch".into())
                .spawn(move || {
                    let mut buffer = [0u8; 4096];
                    loop {
                        let events = match inotify.read_events_blocking(&mut buffer) {
                            Ok(events) => events,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => {
                                tracing::warn!(error = %e, "the configuration watch stopped; reload with SIGHUP or the admin API");
                                return;
                            }
                        };
                        if stopping.load(Ordering::Acquire) {
                            return;
                        }
                        for event in events {
                            if event.mask.contains(EventMask::Q_OVERFLOW) {
                                on_change(None);
                                continue;
                            }
                            if event.mask.contains(EventMask::IGNORED) {
                                continue;
                            }
                            let (Some(name), Ok(folders)) = (event.name, seen.lock()) else {
                                continue;
                            };
                            let Some(folder) = folders.get(&event.wd).cloned() else {
                                continue;
                            };
                            drop(folders);
                            on_change(Some(&folder.join(name)));
                        }
                    }
                })?;
            Ok(Self {
                watches,
                folders,
                stop,
            })
        }

        pub(super) fn watch(&mut self, folder: &Path) -> io::Result<()> {
            // Added under the lock: an event arriving at once waits for its
            // folder to be known rather than being dropped.
            let mut folders = self
                .folders
                .lock()
                .map_err(|_| io::Error::other("the watch's folder list is poisoned"))?;
            let wd = self.watches.add(folder, MASK)?;
            folders.insert(wd, folder.to_path_buf());
            Ok(())
        }

        pub(super) fn unwatch(&mut self, folder: &Path) {
            let Ok(mut folders) = self.folders.lock() else {
                return;
            };
            let gone: Vec<WatchDescriptor> = folders
                .iter()
                .filter(|(_, f)| f.as_path() == folder)
                .map(|(wd, _)| wd.clone())
                .collect();
            for wd in gone {
                folders.remove(&wd);
                let _ = self.watches.remove(wd);
            }
        }
    }

    impl Drop for Inner {
        /// Removing the watches queues an event for each, which wakes the
        /// thread to see it must stop. (With no watch left it stays blocked
        /// until the process ends; it holds only the caller's callback.)
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Release);
            let Ok(mut folders) = self.folders.lock() else {
                return;
            };
            for (wd, _) in folders.drain() {
                let _ = self.watches.remove(wd);
            }
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::io;
    use std::path::Path;

    use notify::event::ModifyKind;
    use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

    use super::OnChange;

    pub(super) struct Inner {
        watcher: RecommendedWatcher,
    }

    impl Inner {
        pub(super) fn start(on_change: OnChange) -> io::Result<Self> {
            let handler = move |result: notify::Result<Event>| {
                let Ok(event) = result else { return };
                let changes = matches!(
                    event.kind,
                    EventKind::Create(_)
                        | EventKind::Modify(
                            ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any
                        )
                        | EventKind::Remove(_)
                );
                if event.need_rescan() {
                    on_change(None);
                } else if changes {
                    event.paths.iter().for_each(|p| on_change(Some(p)));
                }
            };
            let watcher = notify::recommended_watcher(handler).map_err(io::Error::other)?;
            Ok(Self { watcher })
        }

        pub(super) fn watch(&mut self, folder: &Path) -> io::Result<()> {
            self.watcher
                .watch(folder, RecursiveMode::NonRecursive)
                .map_err(io::Error::other)
        }

        pub(super) fn unwatch(&mut self, folder: &Path) {
            let _ = self.watcher.unwatch(folder);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::FolderWatch;

    /// A fresh folder under the temp dir, removed when dropped.
    struct Folder(std::path::PathBuf);

    impl Folder {
        fn new() -> Self {
            let path = std::env::temp_dir().join(format!(
                "portcullis-watch-{}-{}",
                std::process::id(),
                fastrand::u64(..)
            ));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }

        fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn a_file_written_and_closed_or_renamed_in_is_reported_and_a_write_to_an_open_file_is_not() {
        let dir = Folder::new();
        let (tx, rx) = mpsc::channel();
        let mut watch = FolderWatch::start(move |p: Option<&std::path::Path>| {
            let _ = tx.send(p.map(std::path::Path::to_path_buf).unwrap_or_default());
        })
        .unwrap();
        watch.watch(dir.path()).unwrap();
        let quiet = |rx: &mpsc::Receiver<std::path::PathBuf>| {
            rx.recv_timeout(Duration::from_millis(200)).err().is_some()
        };

        // A file held open and written to, as a database is: nothing.
        let kept = dir.path().join("store.db-wal");
        let mut open = std::fs::File::create(&kept).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), kept);
        for _ in 0..100 {
            std::io::Write::write_all(&mut open, b"page").unwrap();
        }
        assert!(quiet(&rx), "writes to an open file must not be reported");

        // Written and closed: reported.
        let config = dir.path().join("portcullis.yaml");
        std::fs::write(&config, "x").unwrap();
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first, config);
        while rx.recv_timeout(Duration::from_millis(100)).is_ok() {}

        // Renamed over (how editors save): reported under the final name.
        let new = dir.path().join(".portcullis.yaml.swp");
        std::fs::write(&new, "y").unwrap();
        std::fs::rename(&new, &config).unwrap();
        let seen: Vec<_> =
            std::iter::from_fn(|| rx.recv_timeout(Duration::from_millis(300)).ok()).collect();
        assert!(seen.contains(&config), "{seen:?}");

        // No longer watched: nothing.
        watch.unwatch(dir.path());
        std::fs::write(&config, "z").unwrap();
        assert!(quiet(&rx));
    }
}
