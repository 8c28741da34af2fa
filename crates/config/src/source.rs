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

impl Files for Embedded {}
