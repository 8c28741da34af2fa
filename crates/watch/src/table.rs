//! The identities followed, in shards behind their own locks so concurrent
//! requests of different identities rarely wait on each other, bounded in
//! number: a full shard forgets its least recently seen eighth.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::detectors::{Firing, IdentityWatch};
use crate::settings::WatchSettings;
use crate::{IGNORED_CODES, Observation};

const SHARDS: usize = 16;

/// Every identity's detector state.
#[derive(Debug)]
pub struct Watch {
    shards: Vec<Mutex<HashMap<Box<str>, IdentityWatch, foldhash::fast::RandomState>>>,
    per_shard: usize,
}

impl Watch {
    /// Follows at most `max_identities` identities (at least one per shard).
    pub fn new(max_identities: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: max_identities.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(
        &self,
        identity: &str,
    ) -> Option<&Mutex<HashMap<Box<str>, IdentityWatch, foldhash::fast::RandomState>>> {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::with_seed(0x5eed).hash_one(identity);
        let at = usize::try_from(hash % SHARDS as u64).unwrap_or(0);
        self.shards.get(at)
    }

    /// Feeds one decision to the identity's detectors; returns what fired
    /// (usually nothing, without allocating).
    pub fn observe(&self, settings: &WatchSettings, obs: &Observation<'_>) -> Vec<Firing> {
        if obs.code.is_some_and(|c| IGNORED_CODES.contains(&c)) {
            return Vec::new();
        }
        let tuning = settings.tuning(obs.identity, obs.kind);
        let Some(shard) = self.shard(obs.identity) else {
            return Vec::new();
        };
        let Ok(mut shard) = shard.lock() else {
            return Vec::new();
        };
        // Looked up by `&str` first: the key is allocated only for an
        // identity seen for the first time, never on every record.
        if let Some(watch) = shard.get_mut(obs.identity) {
            return watch.observe(tuning, settings, obs);
        }
        if shard.len() >= self.per_shard {
            forget_oldest(&mut shard);
        }
        shard
            .entry(obs.identity.into())
            .or_insert_with(|| IdentityWatch::new(obs.time_ms))
            .observe(tuning, settings, obs)
    }

    /// Forgets what the detectors knew of an identity and its escalation:
    /// an admin released it, so it starts again from a clean slate.
    pub fn release(&self, identity: &str) {
        if let Some(shard) = self.shard(identity)
            && let Ok(mut shard) = shard.lock()
        {
            shard.remove(identity);
        }
    }

    /// How many identities are followed now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.len()))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Operations and values enumeration remembers for an identity.
    #[cfg(test)]
    pub(crate) fn enumeration_footprint(&self, identity: &str) -> (usize, usize) {
        self.shard(identity)
            .and_then(|s| s.lock().ok())
            .and_then(|s| s.get(identity).map(IdentityWatch::enumeration_footprint))
            .unwrap_or_default()
    }
}

/// Drops the least recently seen eighth of a full shard, so a flood of new
/// identities costs one sort per eighth of the shard, not one scan each.
fn forget_oldest(shard: &mut HashMap<Box<str>, IdentityWatch, foldhash::fast::RandomState>) {
    let mut seen: Vec<i64> = shard.values().map(IdentityWatch::last_seen).collect();
    seen.sort_unstable();
    let cut = (seen.len() / 8).max(1);
    let Some(&limit) = seen.get(cut.saturating_sub(1)) else {
        return;
    };
    let mut left = cut;
    shard.retain(|_, w| {
        if left > 0 && w.last_seen() <= limit {
            left -= 1;
            false
        } else {
            true
        }
    });
}
