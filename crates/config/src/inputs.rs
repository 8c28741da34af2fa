//! What a configuration was read from: every file and every folder listed,
//! so the gateway can watch exactly those for changes and nothing else (not
//! the store and ledger it writes itself, not a log file beside them).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use portcullis_contract::Source;

use crate::source::Files;

/// The files and folders one load read, as paths on disk.
// INVARIANT: every path is absolute and normal (see [`absolute`]), the form
// in which a file watcher reports a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Files read, whether or not they existed.
    pub files: BTreeSet<PathBuf>,
    /// Folders listed, with the name suffix that was looked for.
    pub folders: BTreeSet<(PathBuf, String)>,
}

impl Inputs {
    /// Whether a change at `path` could change the configuration: it is a
    /// file that was read, or a file with the right suffix in a folder that
    /// was listed (one added, removed or renamed there counts), or a name
    /// starting with `..` beside either. That last is how Kubernetes
    /// updates a mounted ConfigMap or Secret: the files are symbolic links
    /// through `..data`, and an update swaps `..data` by a rename, never
    /// touching the names the configuration read.
    pub fn concern(&self, path: &Path) -> bool {
        let path = absolute(path);
        if self.files.contains(&path) {
            return true;
        }
        let Some(parent) = path.parent() else {
            return false;
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let watched = |folder: &Path| folder == parent;
        let beside = self.files.iter().filter_map(|f| f.parent()).any(watched)
            || self.folders.iter().any(|(folder, _)| watched(folder));
        if name.starts_with("..") && beside {
            return true;
        }
        self.folders
            .iter()
            .any(|(folder, suffix)| folder == parent && name.ends_with(suffix.as_str()))
    }

    /// The folders to watch: each read file's folder and each listed
    /// folder. Folders rather than the files themselves, because an editor
    /// that saves by renaming a new file over the old one leaves a watch on
    /// the file following a file that is gone.
    pub fn folders_to_watch(&self) -> BTreeSet<PathBuf> {
        let parents = self
            .files
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf));
        let listed = self.folders.iter().map(|(f, _)| f.clone());
        parents.chain(listed).collect()
    }

    /// Adds everything `other` read.
    pub fn extend(&mut self, other: Inputs) {
        self.files.extend(other.files);
        self.folders.extend(other.folders);
    }
}

/// `path` with `.` dropped and `..` applied lexically, so the spelling in a
/// configuration (`./openapi.yaml`, `contracts/../openapi.yaml`) and the
/// path a file watcher reports compare equal.
pub(crate) fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` made absolute against the working directory (when it can be
/// read) and then [`normal`]. Symbolic links are left alone: a watcher
/// reports a change under the name it was asked to watch.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    normal(&std::path::absolute(path).unwrap_or_else(|_| path.to_owned()))
}

/// A [`Files`] that notes what is read through it.
pub(crate) struct Recording<'f> {
    inner: &'f dyn Files,
    seen: Mutex<Inputs>,
}

impl<'f> Recording<'f> {
    pub(crate) fn new(inner: &'f dyn Files) -> Self {
        Self {
            inner,
            seen: Mutex::new(Inputs::default()),
        }
    }

    pub(crate) fn into_inputs(self) -> Inputs {
        self.seen.into_inner().unwrap_or_default()
    }

    fn on_disk(&self, relative: &str) -> Option<PathBuf> {
        self.inner
            .base_dir()
            .map(|base| absolute(&base.join(relative)))
    }
}

impl Source for Recording<'_> {
    fn read(&self, path: &str) -> Result<String, String> {
        if let (Some(file), Ok(mut seen)) = (self.on_disk(path), self.seen.lock()) {
            seen.files.insert(file);
        }
        self.inner.read(path)
    }
}

impl Files for Recording<'_> {
    fn base_dir(&self) -> Option<&Path> {
        self.inner.base_dir()
    }

    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, String> {
        if let (Some(folder), Ok(mut seen)) = (self.on_disk(dir), self.seen.lock()) {
            seen.folders.insert((folder, suffix.to_owned()));
        }
        self.inner.list(dir, suffix)
    }

    fn exists(&self, path: &str) -> bool {
        self.inner.exists(path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a missing value should fail the test"
    )]
    use super::*;

    #[test]
    fn normal_paths_compare_as_a_watcher_reports_them() {
        assert_eq!(
            normal(Path::new("/a/./b/../c.yaml")),
            Path::new("/a/c.yaml")
        );
        assert_eq!(normal(Path::new("./x/y")), Path::new("x/y"));
        assert_eq!(normal(Path::new("../x")), Path::new("../x"));
    }

    #[test]
    fn a_load_records_what_it_read_and_concerns_only_that() {
        let dir = std::env::temp_dir().join(format!("portcullis-inputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        std::fs::write(
            dir.join("c.yaml"),
            "apis:\n  - {name: a, contract: ./a.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\npolicies: policies/\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("a.yaml"),
            "openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths: {}\n",
        )
        .unwrap();
        std::fs::write(dir.join("policies/p.cedar"), "").unwrap();
        let (loaded, inputs) =
            crate::load_traced(&dir.join("c.yaml"), &crate::Overrides::default());
        assert!(loaded.is_ok());
        assert!(inputs.concern(&dir.join("c.yaml")));
        assert!(inputs.concern(&dir.join("a.yaml")));
        assert!(inputs.concern(&dir.join("policies/p.cedar")));
        assert!(inputs.concern(&dir.join("policies/new.cedar")));
        assert!(!inputs.concern(&dir.join("policies/notes.txt")));
        assert!(!inputs.concern(&dir.join("portcullis.db-wal")));
        assert!(!inputs.concern(&dir.join("audit.db")));
        assert!(!inputs.concern(&dir.join("gateway.log")));
        // A Kubernetes volume update: `..data` swapped beside the files.
        assert!(inputs.concern(&dir.join("..data")));
        assert!(inputs.concern(&dir.join("policies/..data")));
        assert!(!inputs.concern(&dir.join("elsewhere/..data")));
        assert_eq!(
            inputs.folders_to_watch().into_iter().collect::<Vec<_>>(),
            [dir.clone(), dir.join("policies")]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
