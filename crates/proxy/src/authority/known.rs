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

impl<K: Eq + Hash, V: Clone> Generations<K, V> {
    fn new() -> Self {
        Self {
            hot: HashMap::new(),
            cold: HashMap::new(),
        }
    }

    fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.hot.get(key).cloned()
    }

    /// A `cold` entry, moved to `hot`.
    fn revive(&mut self, key: &K) -> Option<V> {
        let value = self.cold.remove_entry(key)?;
        self.insert(value.0, value.1.clone());
        Some(value.1)
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
    api_keys: Generations<SecretHash, ApiKeyEntry>,
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
        self.lookup(
            |inner| &mut inner.identities,
            |inner| inner.identities.get(id),
            || id.to_owned(),
            || read().map(|found| Some(found.map(Arc::new))),
        )
        .map(Option::flatten)
    }

    /// The usable API key whose secret hashes to `hash`, from memory or
    /// else `read` (the store, `None` for unknown or unusable).
    pub(super) fn api_key<E>(
        &self,
        hash: &SecretHash,
        read: impl FnOnce() -> Result<Option<ApiKeyEntry>, E>,
    ) -> Result<Option<ApiKeyEntry>, Unavailable> {
        self.lookup(
            |inner| &mut inner.api_keys,
            |inner| inner.api_keys.get(hash),
            || *hash,
            read,
        )
    }

    /// Entries held now (tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner
            .read()
            .map_or(0, |i| i.identities.len() + i.api_keys.len())
    }

    /// `get` under the read lock; else a `cold` entry revived, else `read`
    /// outside any lock and kept if the store did not change meanwhile.
    /// `read` answering `None` keeps nothing.
    fn lookup<K: Eq + Hash, V: Clone, E>(
        &self,
        map: impl Fn(&mut Inner) -> &mut Generations<K, V>,
        get: impl FnOnce(&Inner) -> Option<V>,
        key: impl FnOnce() -> K,
        read: impl FnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<V>, Unavailable> {
        // The key is made only on a miss: the hit path allocates nothing.
        let generation = {
            let inner = self.inner.read().map_err(|_| Unavailable)?;
            if let Some(found) = get(&inner) {
                return Ok(Some(found));
            }
            inner.generation
        };
        let key = key();
        {
            let mut inner = self.inner.write().map_err(|_| Unavailable)?;
            if let Some(found) = map(&mut inner).revive(&key) {
                return Ok(Some(found));
            }
        }
        let Some(found) = read().map_err(|_| Unavailable)? else {
            return Ok(None);
        };
        let mut inner = self.inner.write().map_err(|_| Unavailable)?;
        if inner.generation == generation {
            map(&mut inner).insert(key, found.clone());
        }
        Ok(Some(found))
    }
}

#[cfg(test)]
#[path = "known_tests.rs"]
mod tests;
