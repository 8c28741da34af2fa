//! Whether anything may have written the database file since the last
//! look, without asking SQLite.
//!
//! The gateway asks `data_version` on every request, so that a change the
//! command line commits from another process bites on the very next one.
//! Asking SQLite starts and ends a read transaction: file locks, several
//! system calls, about 3% of the gateway's CPU under load. Every commit,
//! whoever makes it, writes the database's `-wal` file (or, at a
//! checkpoint, the database file) with `write` calls, and the kernel queues
//! an inotify event for such a write before the call returns. So: when no
//! event has been queued since the last look, nothing was committed since
//! then either, and the version read then still holds. One non-blocking
//! `read` of the inotify descriptor answers that.
//!
//! Whenever in doubt the answer is "maybe": any event, an overflowed queue,
//! an error. A watch that ends (the file deleted or renamed, so later
//! writes would go to a file not watched) stops the shortcut for good, and
//! so does a platform without inotify: SQLite is then asked every time.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::io;
    use std::path::Path;

    use inotify::{EventMask, Inotify, WatchMask};

    use super::Seen;

    /// Written, or gone from where it was (its watch then ends).
    const MASK: WatchMask = WatchMask::MODIFY
        .union(WatchMask::DELETE_SELF)
        .union(WatchMask::MOVE_SELF)
        .union(WatchMask::ATTRIB);

    pub(crate) struct Changes {
        inotify: Inotify,
        buffer: Box<[u8; 4096]>,
    }

    impl Changes {
        /// Watches the database file and its `-wal` file; `None` when they
        /// cannot both be watched.
        pub(crate) fn watch(database: &Path) -> Option<Self> {
            let mut wal = database.as_os_str().to_owned();
            wal.push("-wal");
            let inotify = Inotify::init().ok()?;
            let mut watches = inotify.watches();
            for file in [database, Path::new(&wal)] {
                watches.add(file, MASK).ok()?;
            }
            Some(Self {
                inotify,
                buffer: Box::new([0; 4096]),
            })
        }

        /// Takes every event queued since the last look.
        pub(crate) fn look(&mut self) -> Seen {
            let mut seen = Seen::Nothing;
            loop {
                match self.inotify.read_events(&mut self.buffer[..]) {
                    Ok(events) => {
                        for event in events {
                            let ended = EventMask::IGNORED
                                | EventMask::DELETE_SELF
                                | EventMask::MOVE_SELF
                                | EventMask::UNMOUNT;
                            if event.mask.intersects(ended) {
                                return Seen::Lost;
                            }
                            seen = Seen::Something;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return seen,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Seen::Lost,
                }
            }
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::path::Path;

    use super::Seen;

    pub(crate) struct Changes;

    impl Changes {
        pub(crate) fn watch(_database: &Path) -> Option<Self> {
            None
        }

        pub(crate) fn look(&mut self) -> Seen {
            Seen::Lost
        }
    }
}

pub(crate) use imp::Changes;

/// What a look found.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
pub(crate) enum Seen {
    /// No write since the last look.
    Nothing,
    /// Maybe a write.
    Something,
    /// The watch no longer covers the files: never answer `Nothing` again.
    Lost,
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::{Changes, Seen};

    #[test]
    fn a_write_is_seen_once_and_a_file_moved_away_ends_the_shortcut() {
        let dir = std::env::temp_dir().join(format!("portcullis-changes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("store.db");
        let wal = dir.join("store.db-wal");
        std::fs::write(&database, b"db").unwrap();
        let mut log = std::fs::File::create(&wal).unwrap();
        let mut changes = Changes::watch(&database).unwrap();
        assert_eq!(changes.look(), Seen::Nothing);
        std::io::Write::write_all(&mut log, b"frame").unwrap();
        assert_eq!(changes.look(), Seen::Something);
        assert_eq!(changes.look(), Seen::Nothing);
        std::fs::rename(&wal, dir.join("elsewhere")).unwrap();
        assert_eq!(changes.look(), Seen::Lost);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_that_cannot_be_watched_give_no_shortcut() {
        let missing = std::env::temp_dir().join("portcullis-changes-missing/store.db");
        assert!(Changes::watch(&missing).is_none());
    }
}
