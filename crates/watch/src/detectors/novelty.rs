//! Novelty: an operation, a source address or an hour of the week the
//! identity has never used, once it has a history (a warm-up in time and in
//! requests). What is new is learnt either way; at most one alert per
//! cooldown. The sets are bounded: a full set learns nothing more and stops
//! judging that kind (an identity seen from that many addresses is
//! posture's finding, not an anomaly of the minute).

use std::collections::HashSet;
use std::hash::BuildHasher;

use super::{Evidence, millis};
use crate::settings::Novelty;
use crate::{Observation, hour_of_week};

/// Distinct operations remembered per identity.
const OPERATIONS: usize = 4096;
/// Distinct source addresses remembered per identity.
const ADDRESSES: usize = 1024;

type Seen = HashSet<u64, foldhash::fast::FixedState>;

#[derive(Debug)]
pub(super) struct State {
    first_ms: i64,
    records: u64,
    operations: Seen,
    addresses: Seen,
    /// One bit per hour of the week.
    hours: [u64; 3],
    fired_ms: Option<i64>,
}

fn hash(parts: impl std::hash::Hash) -> u64 {
    foldhash::fast::FixedState::with_seed(0x0dd).hash_one(parts)
}

/// Inserts `value`; `Some(true)` if it was new, `None` if the set is full.
fn learn(set: &mut Seen, value: u64, cap: usize) -> Option<bool> {
    if set.contains(&value) {
        return Some(false);
    }
    if set.len() >= cap {
        return None;
    }
    set.insert(value);
    Some(true)
}

impl State {
    pub(super) fn new(now_ms: i64) -> Self {
        Self {
            first_ms: now_ms,
            records: 0,
            operations: Seen::default(),
            addresses: Seen::default(),
            hours: [0; 3],
            fired_ms: None,
        }
    }

    pub(super) fn observe(&mut self, p: &Novelty, obs: &Observation<'_>) -> Option<Evidence> {
        self.first_ms = self.first_ms.min(obs.time_ms);
        let warmup = i64::try_from(p.warmup.as_millis()).unwrap_or(i64::MAX);
        let warm = obs.time_ms.saturating_sub(self.first_ms) >= warmup
            && self.records >= u64::from(p.warmup_records);
        self.records = self.records.saturating_add(1);
        let mut new: Option<String> = None;
        if p.operation
            && let (Some(api), Some(op)) = (obs.api, obs.operation)
            && learn(&mut self.operations, hash((api, op)), OPERATIONS) == Some(true)
        {
            new.get_or_insert_with(|| format!("operation {api}:{op}"));
        }
        if p.address
            && let Some(addr) = obs.address
            && learn(&mut self.addresses, hash(addr), ADDRESSES) == Some(true)
        {
            new.get_or_insert_with(|| format!("address {addr}"));
        }
        if p.hour {
            let hour = hour_of_week(obs.time_ms);
            let (word, bit) = ((hour / 64) as usize, hour % 64);
            if let Some(w) = self.hours.get_mut(word)
                && *w & (1 << bit) == 0
            {
                *w |= 1 << bit;
                new.get_or_insert_with(|| format!("hour of week {hour}"));
            }
        }
        let subject = new.filter(|_| warm)?;
        if self
            .fired_ms
            .is_some_and(|t| obs.time_ms.saturating_sub(t) < millis(p.cooldown))
        {
            return None;
        }
        self.fired_ms = Some(obs.time_ms);
        Some(Evidence {
            since_ms: Some(self.first_ms),
            subject: Some(subject),
            ..Evidence::counted(p.cooldown, self.records, p.warmup_records)
        })
    }
}
