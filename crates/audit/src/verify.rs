//! Verification: walk the records in sequence order from the anchor (the
//! genesis, or the signed checkpoint the ledger was pruned at), recompute
//! every hash, follow every link, then check each checkpoint's signature and
//! that it matches the record it names. The first problem is reported with
//! the record it concerns.
//!
//! What cannot be detected, and is said in the report: records written after
//! the last checkpoint and then cut off (a checkpoint is signed every N
//! records or T seconds, so this window is bounded).

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::chain::Hash;
use crate::checkpoint::Checkpoint;
use crate::key::PublicKey;
use crate::record::Sealed;

/// The first thing wrong with a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The record's stored text or hash was changed.
    Modified { seq: u64 },
    /// Records `from..=to` are missing.
    Deleted { from: u64, to: u64 },
    /// A record that was never written in this place.
    Inserted { seq: u64 },
    /// The record stored as `seq` was written as `found`.
    Reordered { seq: u64, found: u64 },
    /// The ledger ends at `last`, but a checkpoint covers up to `checkpoint`.
    Truncated { last: u64, checkpoint: u64 },
    /// A checkpoint whose signature does not verify with the known keys.
    BadSignature { seq: u64 },
    /// A correctly signed checkpoint that does not match the record it
    /// names: the history up to it was rewritten.
    Rewritten { seq: u64 },
    /// A pruned ledger whose first record does not follow a signed checkpoint.
    Unanchored { seq: u64 },
}

impl Problem {
    /// The record the problem is located at.
    pub fn seq(&self) -> u64 {
        match *self {
            Problem::Modified { seq }
            | Problem::Inserted { seq }
            | Problem::Reordered { seq, .. }
            | Problem::BadSignature { seq }
            | Problem::Rewritten { seq }
            | Problem::Unanchored { seq } => seq,
            Problem::Deleted { from, .. } => from,
            Problem::Truncated { last, .. } => last + 1,
        }
    }

    /// A stable name for scripts.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Modified { .. } => "modified",
            Problem::Deleted { .. } => "deleted",
            Problem::Inserted { .. } => "inserted",
            Problem::Reordered { .. } => "reordered",
            Problem::Truncated { .. } => "truncated",
            Problem::BadSignature { .. } => "bad-signature",
            Problem::Rewritten { .. } => "rewritten",
            Problem::Unanchored { .. } => "unanchored",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Modified { seq } => write!(f, "record {seq} was modified"),
            Problem::Deleted { from, to } if from == to => write!(f, "record {from} was deleted"),
            Problem::Deleted { from, to } => write!(f, "records {from} to {to} were deleted"),
            Problem::Inserted { seq } => write!(f, "record {seq} was inserted"),
            Problem::Reordered { seq, found } => {
                write!(
                    f,
                    "record {found} is stored in the place of record {seq}: reordered"
                )
            }
            Problem::Truncated { last, checkpoint } => write!(
                f,
                "the ledger ends at record {last}, but a signed checkpoint covers up to {checkpoint}: records after {last} were removed"
            ),
            Problem::BadSignature { seq } => {
                write!(
                    f,
                    "the checkpoint at record {seq} is not signed by a known key"
                )
            }
            Problem::Rewritten { seq } => write!(
                f,
                "the records up to {seq} do not match their signed checkpoint: the history was rewritten"
            ),
            Problem::Unanchored { seq } => write!(
                f,
                "the ledger starts at record {seq} without a signed checkpoint before it"
            ),
        }
    }
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub records: u64,
    pub checkpoints: u64,
    /// The last record, if any.
    pub last_seq: Option<u64>,
    /// The last record a valid checkpoint covers.
    pub signed_to: Option<u64>,
    pub problem: Option<Problem>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }

    /// Records after the last checkpoint: intact as far as the chain shows,
    /// but not yet bound by a signature.
    pub fn unsigned_tail(&self) -> u64 {
        match (self.last_seq, self.signed_to) {
            (Some(last), Some(signed)) => last.saturating_sub(signed),
            (Some(last), None) => last,
            _ => 0,
        }
    }
}

/// The chain's start: genesis, or the checkpoint a pruned ledger keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub seq: u64,
    pub hash: Hash,
}

impl Anchor {
    pub const GENESIS: Anchor = Anchor {
        seq: 0,
        hash: Hash::GENESIS,
    };
}

/// Verifies `records` (in ascending stored order) and `checkpoints` against
/// `keys`, starting after `anchor`. Records are streamed: memory grows with
/// the number of checkpoints, not of records.
pub fn verify(
    anchor: Anchor,
    records: impl IntoIterator<Item = Sealed>,
    checkpoints: &[Checkpoint],
    keys: &[PublicKey],
) -> Report {
    let mut report = Report {
        records: 0,
        checkpoints: checkpoints.len() as u64,
        last_seq: None,
        signed_to: None,
        problem: None,
    };
    if anchor.seq > 0
        && !checkpoints
            .iter()
            .any(|c| c.seq == anchor.seq && c.hash == anchor.hash.to_hex() && c.is_signed_by(keys))
    {
        report.problem = Some(Problem::Unanchored {
            seq: anchor.seq + 1,
        });
        return report;
    }
    let wanted: HashSet<u64> = checkpoints.iter().map(|c| c.seq).collect();
    let mut at_checkpoints: HashMap<u64, Hash> = HashMap::from([(anchor.seq, anchor.hash)]);
    let walked = walk(anchor, records.into_iter(), |record| {
        report.records += 1;
        report.last_seq = Some(record.seq);
        if wanted.contains(&record.seq) {
            at_checkpoints.insert(record.seq, record.hash);
        }
    });
    if let Err(problem) = walked {
        report.problem = Some(problem);
        return report;
    }
    for checkpoint in checkpoints {
        if !checkpoint.is_signed_by(keys) {
            report.problem = Some(Problem::BadSignature {
                seq: checkpoint.seq,
            });
            return report;
        }
        match at_checkpoints.get(&checkpoint.seq) {
            Some(hash) if hash.to_hex() == checkpoint.hash => {
                report.signed_to = report.signed_to.max(Some(checkpoint.seq));
            }
            Some(_) => {
                report.problem = Some(Problem::Rewritten {
                    seq: checkpoint.seq,
                });
                return report;
            }
            // Pruned away below the anchor: nothing left to compare.
            None if checkpoint.seq < anchor.seq => {}
            None => {
                report.problem = Some(Problem::Truncated {
                    last: report.last_seq.unwrap_or(anchor.seq),
                    checkpoint: checkpoint.seq,
                });
                return report;
            }
        }
    }
    report
}

/// The record walk: hashes, sequence and links, calling `seen` for each
/// record that passed.
fn walk(
    anchor: Anchor,
    records: impl Iterator<Item = Sealed>,
    mut seen: impl FnMut(&Sealed),
) -> Result<(), Problem> {
    let (mut prev_seq, mut prev_hash) = (anchor.seq, anchor.hash);
    let mut records = records.peekable();
    while let Some(record) = records.next() {
        let Ok(body) = record.decode() else {
            return Err(Problem::Modified { seq: record.seq });
        };
        if Hash::of(record.body.as_bytes()) != record.hash {
            return Err(Problem::Modified { seq: record.seq });
        }
        if body.seq != record.seq {
            return Err(Problem::Reordered {
                seq: record.seq,
                found: body.seq,
            });
        }
        if record.seq <= prev_seq {
            return Err(Problem::Inserted { seq: record.seq });
        }
        if record.seq > prev_seq + 1 {
            return Err(Problem::Deleted {
                from: prev_seq + 1,
                to: record.seq - 1,
            });
        }
        if body.prev != prev_hash.to_hex() {
            // Either this record does not belong (the next one links past
            // it), or the previous one was changed and re-hashed.
            let next_links_past = records
                .peek()
                .and_then(|n| n.decode().ok())
                .is_none_or(|n| n.prev == prev_hash.to_hex());
            return Err(if next_links_past || prev_seq == anchor.seq {
                Problem::Inserted { seq: record.seq }
            } else {
                Problem::Modified { seq: prev_seq }
            });
        }
        seen(&record);
        (prev_seq, prev_hash) = (record.seq, record.hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
