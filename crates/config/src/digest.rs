//! A digest of what a configuration was read from: every file's name (as
//! the configuration names it, relative to its folder) and a SHA-256 of its
//! bytes. Nodes of a fleet compare digests to find one whose configuration
//! differs from the others' (drift). Overrides given on the command line
//! (listen addresses, the node id) are not files, so nodes that differ
//! only in those agree; a secret's file (`file:PATH`) is read around the
//! digest, so no secret value, nor a hash of one, is in it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use portcullis_contract::Source;
use sha2::{Digest, Sha256};

use crate::source::Files;

/// Files that digests what is read through it.
pub(crate) struct Digesting<'f> {
    inner: &'f dyn Files,
    read: Mutex<BTreeMap<String, [u8; 32]>>,
}

impl<'f> Digesting<'f> {
    pub(crate) fn new(inner: &'f dyn Files) -> Self {
        Self {
            inner,
            read: Mutex::new(BTreeMap::new()),
        }
    }

    /// The digest of every file read so far, as 64 hex digits.
    pub(crate) fn finish(&self) -> String {
        let mut all = Sha256::new();
        if let Ok(read) = self.read.lock() {
            for (name, hash) in read.iter() {
                all.update(name.as_bytes());
                all.update([0]);
                all.update(hash);
            }
        }
        hex(&all.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Source for Digesting<'_> {
    fn read(&self, path: &str) -> Result<String, String> {
        let text = self.inner.read(path)?;
        if let Ok(mut read) = self.read.lock() {
            read.insert(path.to_owned(), Sha256::digest(text.as_bytes()).into());
        }
        Ok(text)
    }
}

impl Files for Digesting<'_> {
    fn base_dir(&self) -> Option<&Path> {
        self.inner.base_dir()
    }

    fn secret(&self, path: &str) -> Result<String, String> {
        self.inner.secret(path)
    }

    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, String> {
        self.inner.list(dir, suffix)
    }

    fn exists(&self, path: &str) -> bool {
        self.inner.exists(path)
    }
}
