//! The seam between the chain and wherever it is stored.
//!
//! A ledger backend (the SQLite file in `portcullis-store`, a PostgreSQL
//! table for fleets) stores sealed records, checkpoints and the public
//! keys that sign them; it never seals, hashes or judges anything. What a
//! record means and whether the history holds together is decided here,
//! over these traits, so every backend is verified the same way.

use crate::chain::Hash;
use crate::checkpoint::Checkpoint;
use crate::key::PublicKey;
use crate::record::{Entry, Sealed};
use crate::verify::{self, Anchor, Problem, Report};

/// Records read per page when walking a whole ledger.
const PAGE: u32 = 1_000;

/// What a ledger backend gives readers.
pub trait LedgerRead {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Where the chain starts: genesis, or the checkpoint it was pruned at.
    fn anchor(&self) -> Result<Anchor, Self::Error>;

    /// The stored records after `after`, in sequence order, at most `limit`.
    /// A stored row that is not a record (text that does not decode, a copy
    /// that disagrees with the text) is `Err` with its sequence number, so
    /// verification can name it rather than the backend hiding it.
    fn read_range(&self, after: u64, limit: u32) -> Result<Vec<Result<Sealed, u64>>, Self::Error>;

    /// Every checkpoint, in sequence order.
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, Self::Error>;

    /// The newest checkpoint whose record is older than `before_ms`.
    fn latest_checkpoint_before(&self, before_ms: i64) -> Result<Option<(u64, Hash)>, Self::Error>;

    /// The public keys published in the ledger.
    fn keys(&self) -> Result<Vec<PublicKey>, Self::Error>;
}

/// What the writer needs of a ledger backend.
pub trait LedgerWrite: LedgerRead {
    /// The last record's sequence number and hash (the anchor's when empty).
    fn head(&self) -> Result<(u64, Hash), Self::Error>;

    /// Stores sealed records, with the entries they seal (for the backend's
    /// indexed copies), all or nothing.
    fn append_batch(&mut self, batch: &[(Sealed, &Entry)]) -> Result<(), Self::Error>;

    /// Stores a signed checkpoint.
    fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), Self::Error>;

    /// Publishes a public key, refusing another key under the same `kid`.
    fn publish_key(&mut self, key: &PublicKey) -> Result<(), Self::Error>;
}

/// Verifies a whole ledger through its backend, page by page, with `keys`
/// (the ledger's own when empty).
///
/// # Errors
/// The backend cannot be read. A record that is not one is a [`Problem`]
/// in the report, not an error.
pub fn verify_ledger<L: LedgerRead + ?Sized>(
    ledger: &L,
    keys: &[PublicKey],
) -> Result<Report, L::Error> {
    let own;
    let keys = if keys.is_empty() {
        own = ledger.keys()?;
        own.as_slice()
    } else {
        keys
    };
    let anchor = ledger.anchor()?;
    let checkpoints = ledger.checkpoints()?;
    let mut pages = Pages {
        ledger,
        after: anchor.seq,
        page: Vec::new().into_iter(),
        unreadable: None,
        failed: None,
    };
    let mut report = verify::verify(anchor, pages.by_ref(), &checkpoints, keys);
    if let Some(e) = pages.failed {
        return Err(e);
    }
    if let Some(seq) = pages.unreadable
        && report.problem.as_ref().is_none_or(|p| p.seq() >= seq)
    {
        report.problem = Some(Problem::Modified { seq });
    }
    Ok(report)
}

/// The records of a ledger, a page at a time; stops at the first row that
/// is not a record (remembered) or at a read failure (remembered).
struct Pages<'a, L: LedgerRead + ?Sized> {
    ledger: &'a L,
    after: u64,
    page: std::vec::IntoIter<Result<Sealed, u64>>,
    unreadable: Option<u64>,
    failed: Option<L::Error>,
}

impl<L: LedgerRead + ?Sized> Iterator for Pages<'_, L> {
    type Item = Sealed;

    fn next(&mut self) -> Option<Sealed> {
        if self.unreadable.is_some() || self.failed.is_some() {
            return None;
        }
        let next = match self.page.next() {
            Some(row) => row,
            None => {
                match self.ledger.read_range(self.after, PAGE) {
                    Ok(page) => self.page = page.into_iter(),
                    Err(e) => {
                        self.failed = Some(e);
                        return None;
                    }
                }
                self.page.next()?
            }
        };
        match next {
            Ok(sealed) => {
                self.after = sealed.seq;
                Some(sealed)
            }
            Err(seq) => {
                self.unreadable = Some(seq);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::AuditKey;
    use crate::testing::MemoryLedger;

    /// 2,500 records (three pages), a checkpoint at the end.
    fn ledger() -> MemoryLedger {
        let key = AuditKey::generate("audit-t").unwrap();
        let mut ledger = MemoryLedger::new();
        ledger.publish_key(&key.public()).unwrap();
        let mut prev = Hash::GENESIS;
        for seq in 1..=2_500u64 {
            let entry = Entry {
                time_ms: i64::try_from(seq).unwrap(),
                decision: "allow".into(),
                ..Entry::default()
            };
            let sealed = Sealed::seal(seq, prev, entry.clone()).unwrap();
            prev = sealed.hash;
            ledger.append_batch(&[(sealed, &entry)]).unwrap();
        }
        ledger
            .add_checkpoint(&Checkpoint::sign(&key, 2_500, prev, 1))
            .unwrap();
        ledger
    }

    #[test]
    fn a_ledger_is_verified_across_pages_through_the_seam() {
        let report = verify_ledger(&ledger(), &[]).unwrap();
        assert!(report.is_ok(), "{:?}", report.problem);
    }

    #[test]
    fn a_row_that_no_longer_reads_as_a_record_is_named() {
        let mut ledger = ledger();
        ledger.spoil(1_234);
        let report = verify_ledger(&ledger, &[]).unwrap();
        assert_eq!(report.problem, Some(Problem::Modified { seq: 1_234 }));
    }
}
