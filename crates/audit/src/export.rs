//! The export format: JSON Lines that verify on their own, offline.
//!
//! Line 1 is a header: the anchor the records follow (genesis, or a signed
//! checkpoint) and the public keys. Then one line per record (its stored
//! text and hash), then one per checkpoint. An export from the middle of a
//! ledger starts right after a checkpoint, so its first record still chains
//! to something signed.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chain::Hash;
use crate::checkpoint::Checkpoint;
use crate::key::PublicKey;
use crate::ledger::LedgerRead;
use crate::record::Sealed;
use crate::verify::{self, Anchor, Report};

/// One line of an export.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Line {
    Header {
        format: String,
        anchor_seq: u64,
        anchor_hash: String,
        keys: Vec<Value>,
    },
    Record {
        seq: u64,
        hash: String,
        body: String,
    },
    Checkpoint(Checkpoint),
}

const FORMAT: &str = "portcullis-audit/v1";

/// Why an export could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Ledger(Box<dyn std::error::Error + Send + Sync>),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line} of the export: {message}")]
    Format { line: usize, message: String },
}

/// Writes the records after the last checkpoint older than `since_ms`
/// (all, when `None`), their checkpoints and the ledger's keys. Returns how
/// many records were written.
///
/// # Errors
/// The ledger cannot be read or the output written.
pub fn export<L: LedgerRead + ?Sized>(
    ledger: &L,
    since_ms: Option<i64>,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let read = |e: L::Error| ExportError::Ledger(Box::new(e));
    let mut anchor = ledger.anchor().map_err(read)?;
    let checkpoints = ledger.checkpoints().map_err(read)?;
    if let Some(since) = since_ms
        && let Some((seq, hash)) = ledger.latest_checkpoint_before(since).map_err(read)?
        && seq > anchor.seq
    {
        anchor = Anchor { seq, hash };
    }
    let keys = ledger
        .keys()
        .map_err(read)?
        .iter()
        .map(PublicKey::to_jwk)
        .collect();
    write_line(
        out,
        &Line::Header {
            format: FORMAT.to_owned(),
            anchor_seq: anchor.seq,
            anchor_hash: anchor.hash.to_hex(),
            keys,
        },
    )?;
    let mut written = 0;
    let mut after = anchor.seq;
    loop {
        let batch = ledger.read_range(after, 1_000).map_err(read)?;
        let Some(last) = batch.last() else { break };
        after = match last {
            Ok(record) => record.seq,
            Err(seq) => *seq,
        };
        for record in batch {
            // Exported as stored: a row that is not a record cannot be,
            // and the export would not verify without it.
            let record = record.map_err(|seq| {
                ExportError::Ledger(format!("record {seq} is not a record").into())
            })?;
            write_line(
                out,
                &Line::Record {
                    seq: record.seq,
                    hash: record.hash.to_hex(),
                    body: record.body,
                },
            )?;
            written += 1;
        }
    }
    for checkpoint in checkpoints.into_iter().filter(|c| c.seq >= anchor.seq) {
        write_line(out, &Line::Checkpoint(checkpoint))?;
    }
    Ok(written)
}

fn write_line(out: &mut dyn Write, line: &Line) -> Result<(), ExportError> {
    let text = serde_json::to_string(line).map_err(|e| ExportError::Format {
        line: 0,
        message: e.to_string(),
    })?;
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Verifies an export with `keys` (the export's own when empty: then the
/// export proves only that it is consistent with itself).
///
/// # Errors
/// The export is not in this format (a line that does not parse is named).
pub fn verify_export(input: &mut dyn BufRead, keys: &[PublicKey]) -> Result<Report, ExportError> {
    let mut anchor = None;
    let mut own_keys = Vec::new();
    let mut records = Vec::new();
    let mut checkpoints = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let format = |message: String| ExportError::Format {
            line: i + 1,
            message,
        };
        match serde_json::from_str::<Line>(&line).map_err(|e| format(e.to_string()))? {
            Line::Header {
                format: f,
                anchor_seq,
                anchor_hash,
                keys,
            } if i == 0 && f == FORMAT => {
                let hash = Hash::from_hex(&anchor_hash)
                    .ok_or_else(|| format("the anchor is not a hash".into()))?;
                anchor = Some(Anchor {
                    seq: anchor_seq,
                    hash,
                });
                for jwk in &keys {
                    own_keys.push(PublicKey::from_jwk(jwk).map_err(|e| format(e.to_string()))?);
                }
            }
            Line::Header { .. } => return Err(format("not a portcullis-audit/v1 header".into())),
            Line::Record { seq, hash, body } => records.push(Sealed {
                seq,
                body,
                // A hash that is not hex cannot match: the walk reports it.
                hash: Hash::from_hex(&hash).unwrap_or(Hash::GENESIS),
            }),
            Line::Checkpoint(c) => checkpoints.push(c),
        }
    }
    let anchor = anchor.ok_or_else(|| ExportError::Format {
        line: 1,
        message: "no header".into(),
    })?;
    let keys = if keys.is_empty() { &own_keys } else { keys };
    Ok(verify::verify(anchor, records, &checkpoints, keys))
}

#[cfg(test)]
mod tests;
