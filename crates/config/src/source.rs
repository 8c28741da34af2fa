//! Where configuration and contract files come from: the disk, or files
//! compiled into the binary (the demo).

use std::path::{Path, PathBuf};

use portcullis_contract::Source;

/// Reads files by path relative to the configuration file's folder.
pub trait Files: Source {
    /// The folder relative paths are read from, when they come from disk.
    fn base_dir(&self) -> Option<&Path> {
        None
    }

    /// A secret's file (`file:PATH`): read as any file, but never into the
    /// configuration's digest (which `fleet status` shows).
    ///
    /// # Errors
    /// The file cannot be read.
    fn secret(&self, path: &str) -> Result<String, String> {
        self.read(path)
    }

    /// The files directly in folder `dir` whose names end with `suffix`, as
    /// paths relative to the same root (`dir/name`), sorted.
    ///
    /// # Errors
    /// The folder cannot be read.
    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, String>;

    /// Whether `path` names something (readable or not): a secret's file
    /// that is absent is told from one that cannot be read.
    fn exists(&self, path: &str) -> bool {
        self.read(path).is_ok()
    }
}

/// Files under a folder on disk.
#[derive(Debug, Clone)]
pub struct Disk {
    root: PathBuf,
}

impl Disk {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
        }
    }
}

impl Source for Disk {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.root.join(path)).map_err(|e| e.to_string())
    }
}

impl Files for Disk {
    fn base_dir(&self) -> Option<&Path> {
        Some(&self.root)
    }

    fn exists(&self, path: &str) -> bool {
        // An error other than "not found" (a folder we may not enter)
        // counts as present, so reading it reports the real problem.
        self.root.join(path).try_exists().unwrap_or(true)
    }

    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(self.root.join(dir)).map_err(|e| e.to_string())?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_file = entry.file_type().map_err(|e| e.to_string())?.is_file();
            if is_file && name.ends_with(suffix) && !name.starts_with('.') {
                names.push(join(dir, &name));
            }
        }
        names.sort();
        Ok(names)
    }
}

/// `dir/name`, without doubling a slash the configuration wrote.
pub(crate) fn join(dir: &str, name: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Files compiled into the binary: (name, text) pairs.
#[derive(Debug, Clone, Copy)]
pub struct Embedded(pub &'static [(&'static str, &'static str)]);

impl Source for Embedded {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .iter()
            .find(|(name, _)| *name == path)
            .map(|(_, text)| (*text).to_owned())
            .ok_or_else(|| "no such embedded file".to_owned())
    }
}

impl Files for Embedded {
    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, String> {
        let prefix = join(dir, "");
        let mut names: Vec<String> = self
            .0
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| {
                name.strip_prefix(prefix.as_str())
                    .is_some_and(|rest| !rest.contains('/') && rest.ends_with(suffix))
            })
            .map(str::to_owned)
            .collect();
        if names.is_empty() && !self.0.iter().any(|(n, _)| n.starts_with(prefix.as_str())) {
            return Err("no such embedded folder".to_owned());
        }
        names.sort();
        Ok(names)
    }
}
