//! The identities and API keys the request path has asked about, read from
//! the store on first use and kept, bounded, until the store changes.
//!
//! The store is the truth. Holding the whole inventory in memory cost about
//! 0.7 KB and 13 µs of start per identity (13 s and 779 MiB at 1,000,000),
//! and any change made by another process (the CLI suspending one identity)
//! re-read all of it on the request that noticed. Now a change empties this
//! memory and the next request reads the one row it needs, so a suspension
//! still bites on the very next request.
//!
//! Bounded in two generations: lookups fill `hot`; when it is full it
//! becomes `cold` (the previous `cold` is dropped), and a `cold` hit moves
//! back to `hot`. An identity in steady use is never re-read; at most
//! 2 × [`GENERATION`] entries are held.
//!
//! A lookup reads the store outside the lock, so a change can land while
//! it does: each emptying bumps `generation`, and a row read under an older
//! generation is returned to its caller but not kept.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use portcullis_core::Identity;
use portcullis_token::SecretHash;

use super::ApiKeyEntry;

/// Entries per generation.
pub(super) const GENERATION: usize = 32_768;

/// One bounded map.
#[derive(Debug)]
struct Generations<K, V> {
    hot: HashMap<K, V>,
    cold: HashMap<K, V>,
}

/// Where a key was found.
enum Found<V> {
    Hot(V),
    /// In `cold`: kept, but moving it to `hot` needs the write lock.
    Cold,
    Nowhere,
}

impl<K: Eq + Hash, V: Clone> Generations<K, V> {
    fn new() -> Self {
        Self {
            hot: HashMap::new(),
            cold: HashMap::new(),
        }
    }

    fn find<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> Found<V>
    where
        K: Borrow<Q>,
    {
        match self.hot.get(key) {
            Some(value) => Found::Hot(value.clone()),
            None if self.cold.contains_key(key) => Found::Cold,
            None => Found::Nowhere,
        }
    }

    /// A `cold` entry, moved to `hot`.
    fn revive<Q: Eq + Hash + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let (key, value) = self.cold.remove_entry(key)?;
        self.insert(key, value.clone());
        Some(value)
    }

    fn insert(&mut self, key: K, value: V) {
        if self.hot.len() >= GENERATION {
            self.cold = std::mem::take(&mut self.hot);
        }
        self.hot.insert(key, value);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }
}

/// What the request path knows of the store's identities and API keys.
#[derive(Debug)]
pub(super) struct Known {
    inner: RwLock<Inner>,
}

#[derive(Debug)]
struct Inner {
    generation: u64,
    /// `None`: no such identity (a signed token for one deleted since).
    identities: Generations<String, Option<Arc<Identity>>>,
    /// Usable keys only; an unknown hash is not remembered, since anyone
    /// can present any number of them.
    api_keys: Generations<SecretHash, Arc<ApiKeyEntry>>,
}

/// Why a lookup failed: the store could not answer, or a lock was poisoned.
#[derive(Debug)]
pub(super) struct Unavailable;

impl Known {
    pub(super) fn new() -> Self {
        Self {
            inner: RwLock::new(Inner {
                generation: 0,
                identities: Generations::new(),
                api_keys: Generations::new(),
            }),
        }
    }

    /// Forgets everything: the store changed.
    pub(super) fn clear(&self) -> Result<(), Unavailable> {
        let mut inner = self.inner.write().map_err(|_| Unavailable)?;
        inner.generation += 1;
        inner.identities = Generations::new();
        inner.api_keys = Generations::new();
        Ok(())
    }

    /// The identity `id`, from memory or else `read` (the store).
    pub(super) fn identity<E>(
        &self,
        id: &str,
        read: impl FnOnce() -> Result<Option<Identity>, E>,
    ) -> Result<Option<Arc<Identity>>, Unavailable> {
        let read = || read().map(|found| Some(found.map(Arc::new)));
        self.lookup(|i| &i.identities, |i| &mut i.identities, id, read)
            .map(Option::flatten)
    }

    /// The usable API key whose secret hashes to `hash`, from memory or
    /// else `read` (the store, `None` for unknown or unusable).
    pub(super) fn api_key<E>(
        &self,
        hash: &SecretHash,
        read: impl FnOnce() -> Result<Option<ApiKeyEntry>, E>,
    ) -> Result<Option<Arc<ApiKeyEntry>>, Unavailable> {
        let read = || read().map(|found| found.map(Arc::new));
        self.lookup(|i| &i.api_keys, |i| &mut i.api_keys, hash, read)
    }

    /// Entries held now (tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner
            .read()
            .map_or(0, |i| i.identities.len() + i.api_keys.len())
    }

    /// `key` from `hot` under the read lock; else a `cold` entry revived
    /// under the write lock; else `read` outside any lock, kept if the
    /// store did not change meanwhile. A miss takes no write lock until
    /// there is something to keep, and `read` answering `None` keeps
    /// nothing.
    fn lookup<K, Q, V, E>(
        &self,
        map: fn(&Inner) -> &Generations<K, V>,
        map_mut: fn(&mut Inner) -> &mut Generations<K, V>,
        key: &Q,
        read: impl FnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<V>, Unavailable>
    where
        K: Eq + Hash + Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
        V: Clone,
    {
        let generation = {
            let inner = self.inner.read().map_err(|_| Unavailable)?;
            match map(&inner).find(key) {
                Found::Hot(value) => return Ok(Some(value)),
                Found::Cold => None,
                Found::Nowhere => Some(inner.generation),
            }
        };
        let generation = match generation {
            Some(generation) => generation,
            None => {
                let mut inner = self.inner.write().map_err(|_| Unavailable)?;
                if let Some(value) = map_mut(&mut inner).revive(key) {
                    return Ok(Some(value));
                }
                // Emptied since the read lock was let go.
                inner.generation
            }
        };
        let Some(found) = read().map_err(|_| Unavailable)? else {
            return Ok(None);
        };
        let mut inner = self.inner.write().map_err(|_| Unavailable)?;
        if inner.generation == generation {
            map_mut(&mut inner).insert(key.to_owned(), found.clone());
        }
        Ok(Some(found))
    }
}

#[cfg(test)]
#[path = "known_tests.rs"]
mod tests;
