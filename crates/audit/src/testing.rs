//! A ledger backend in a vector, for this crate's tests: the seam's
//! contract with no storage behind it.

use std::convert::Infallible;

use crate::chain::Hash;
use crate::checkpoint::Checkpoint;
use crate::key::PublicKey;
use crate::ledger::{LedgerRead, LedgerWrite};
use crate::record::{Entry, Sealed};
use crate::verify::Anchor;

#[derive(Debug)]
pub(crate) struct MemoryLedger {
    /// Each record with its entry's time.
    records: Vec<(Sealed, i64)>,
    checkpoints: Vec<Checkpoint>,
    keys: Vec<PublicKey>,
    /// A stored row that no longer reads as a record.
    spoiled: Option<u64>,
}

impl MemoryLedger {
    pub(crate) fn new() -> Self {
        Self {
            records: Vec::new(),
            checkpoints: Vec::new(),
            keys: Vec::new(),
            spoiled: None,
        }
    }

    /// Makes the row of `seq` unreadable, as an edited indexed column is.
    pub(crate) fn spoil(&mut self, seq: u64) {
        self.spoiled = Some(seq);
    }
}

impl LedgerRead for MemoryLedger {
    type Error = Infallible;

    fn anchor(&self) -> Result<Anchor, Infallible> {
        Ok(Anchor::GENESIS)
    }

    fn read_range(&self, after: u64, limit: u32) -> Result<Vec<Result<Sealed, u64>>, Infallible> {
        Ok(self
            .records
            .iter()
            .filter(|(s, _)| s.seq > after)
            .take(limit as usize)
            .map(|(s, _)| match self.spoiled {
                Some(seq) if seq == s.seq => Err(seq),
                _ => Ok(s.clone()),
            })
            .collect())
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, Infallible> {
        Ok(self.checkpoints.clone())
    }

    fn latest_checkpoint_before(&self, before_ms: i64) -> Result<Option<(u64, Hash)>, Infallible> {
        Ok(self
            .checkpoints
            .iter()
            .rev()
            .find(|c| {
                self.records
                    .iter()
                    .any(|(s, time)| s.seq == c.seq && *time < before_ms)
            })
            .and_then(|c| Some((c.seq, Hash::from_hex(&c.hash)?))))
    }

    fn keys(&self) -> Result<Vec<PublicKey>, Infallible> {
        Ok(self.keys.clone())
    }
}

impl LedgerWrite for MemoryLedger {
    fn head(&self) -> Result<(u64, Hash), Infallible> {
        Ok(self
            .records
            .last()
            .map_or((0, Hash::GENESIS), |(s, _)| (s.seq, s.hash)))
    }

    fn append_batch(&mut self, batch: &[(Sealed, &Entry)]) -> Result<(), Infallible> {
        self.records
            .extend(batch.iter().map(|(s, e)| (s.clone(), e.time_ms)));
        Ok(())
    }

    fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), Infallible> {
        self.checkpoints.push(checkpoint.clone());
        Ok(())
    }

    fn publish_key(&mut self, key: &PublicKey) -> Result<(), Infallible> {
        self.keys.push(key.clone());
        Ok(())
    }
}
