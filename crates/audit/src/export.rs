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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    Record {
        seq: u64,
        hash: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    Checkpoint {
        #[serde(flatten)]
        checkpoint: Checkpoint,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
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
    export_chains(&[(None, ledger)], since_ms, out)
}

/// As [`export`], for several chains (a fleet's, one per node): a header
/// per chain, the records of all merged oldest first by their time (each
/// chain keeps its own order, the order it was committed in), then each
/// chain's checkpoints; every line names its chain.
///
/// # Errors
/// A chain cannot be read or the output written.
pub fn export_chains<L: LedgerRead + ?Sized>(
    chains: &[(Option<String>, &L)],
    since_ms: Option<i64>,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let mut cursors = Vec::with_capacity(chains.len());
    let mut checkpoints = Vec::new();
    for (node, ledger) in chains {
        let read = |e: L::Error| ExportError::Ledger(Box::new(e));
        let mut anchor = ledger.anchor().map_err(read)?;
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
                node: node.clone(),
            },
        )?;
        let signed = ledger.checkpoints().map_err(read)?;
        checkpoints.extend(
            signed
                .into_iter()
                .filter(|c| c.seq >= anchor.seq)
                .map(|c| (node.clone(), c)),
        );
        cursors.push(Cursor {
            ledger: *ledger,
            node: node.clone(),
            after: anchor.seq,
            page: std::collections::VecDeque::new(),
        });
    }
    let mut written = 0;
    loop {
        // The chain whose next record is the oldest (ties: the first chain).
        let mut oldest: Option<(usize, i64)> = None;
        for (i, cursor) in cursors.iter_mut().enumerate() {
            if let Some(time) = cursor.peek_time()?
                && oldest.is_none_or(|(_, t)| time < t)
            {
                oldest = Some((i, time));
            }
        }
        let Some((i, _)) = oldest else { break };
        let Some(cursor) = cursors.get_mut(i) else {
            break;
        };
        let Some(record) = cursor.page.pop_front() else {
            break;
        };
        write_line(
            out,
            &Line::Record {
                seq: record.seq,
                hash: record.hash.to_hex(),
                body: record.body,
                node: cursor.node.clone(),
            },
        )?;
        written += 1;
    }
    for (node, checkpoint) in checkpoints {
        write_line(out, &Line::Checkpoint { checkpoint, node })?;
    }
    Ok(written)
}

/// One chain's records, read a page at a time.
struct Cursor<'a, L: LedgerRead + ?Sized> {
    ledger: &'a L,
    node: Option<String>,
    after: u64,
    page: std::collections::VecDeque<Sealed>,
}

impl<L: LedgerRead + ?Sized> Cursor<'_, L> {
    /// The time of the next record, reading the next page when needed.
    fn peek_time(&mut self) -> Result<Option<i64>, ExportError> {
        if self.page.is_empty() {
            let batch = self
                .ledger
                .read_range(self.after, 1_000)
                .map_err(|e| ExportError::Ledger(Box::new(e)))?;
            for record in batch {
                // Exported as stored: a row that is not a record cannot be,
                // and the export would not verify without it.
                let record = record.map_err(|seq| {
                    ExportError::Ledger(format!("record {seq} is not a record").into())
                })?;
                self.after = record.seq;
                self.page.push_back(record);
            }
        }
        // A record whose time does not read sorts first: it is still
        // exported, and verification names it.
        Ok(self
            .page
            .front()
            .map(|r| r.decode().map_or(i64::MIN, |b| b.entry.time_ms)))
    }
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

/// Verifies an export of one chain with `keys` (the export's own when
/// empty: then the export proves only that it is consistent with itself).
///
/// # Errors
/// The export is not in this format (a line that does not parse is named),
/// or it holds several chains (see [`verify_export_each`]).
pub fn verify_export(input: &mut dyn BufRead, keys: &[PublicKey]) -> Result<Report, ExportError> {
    let mut chains = verify_export_each(input, keys)?;
    match (chains.pop(), chains.is_empty()) {
        (Some((_, report)), true) => Ok(report),
        _ => Err(ExportError::Format {
            line: 1,
            message: "this export holds several chains: verify each".into(),
        }),
    }
}

/// A line of a chain, past the headers.
enum Item {
    Record(Sealed),
    Checkpoint(Checkpoint),
}

/// A chain being read back from an export.
#[derive(Default)]
struct Chain {
    anchor: Option<Anchor>,
    keys: Vec<PublicKey>,
    records: Vec<Sealed>,
    checkpoints: Vec<Checkpoint>,
}

/// Verifies every chain of an export on its own, in the order their headers
/// come: a report per chain, named by its node (`None` for a single
/// gateway's).
///
/// # Errors
/// The export is not in this format (a line that does not parse, a header
/// after a record, a line of a chain without a header: the line is named).
pub fn verify_export_each(
    input: &mut dyn BufRead,
    keys: &[PublicKey],
) -> Result<Vec<(Option<String>, Report)>, ExportError> {
    let mut order: Vec<Option<String>> = Vec::new();
    let mut chains: std::collections::HashMap<Option<String>, Chain> =
        std::collections::HashMap::new();
    let mut headers_done = false;
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let format = |message: String| ExportError::Format {
            line: i + 1,
            message,
        };
        let parsed = serde_json::from_str::<Line>(&line).map_err(|e| format(e.to_string()))?;
        let (node, item) = match parsed {
            Line::Header {
                format: f,
                anchor_seq,
                anchor_hash,
                keys,
                node,
            } if !headers_done && f == FORMAT && !chains.contains_key(&node) => {
                let hash = Hash::from_hex(&anchor_hash)
                    .ok_or_else(|| format("the anchor is not a hash".into()))?;
                let mut chain = Chain {
                    anchor: Some(Anchor {
                        seq: anchor_seq,
                        hash,
                    }),
                    ..Chain::default()
                };
                for jwk in &keys {
                    chain
                        .keys
                        .push(PublicKey::from_jwk(jwk).map_err(|e| format(e.to_string()))?);
                }
                order.push(node.clone());
                chains.insert(node, chain);
                continue;
            }
            Line::Header { .. } => {
                return Err(format(
                    "not a portcullis-audit/v1 header in its place".into(),
                ));
            }
            Line::Record {
                seq,
                hash,
                body,
                node,
            } => (
                node,
                Item::Record(Sealed {
                    seq,
                    body,
                    // A hash that is not hex cannot match: the walk reports it.
                    hash: Hash::from_hex(&hash).unwrap_or(Hash::GENESIS),
                }),
            ),
            Line::Checkpoint { checkpoint, node } => (node, Item::Checkpoint(checkpoint)),
        };
        headers_done = true;
        let chain = chains
            .get_mut(&node)
            .ok_or_else(|| format("a line of a chain that has no header".into()))?;
        match item {
            Item::Record(record) => chain.records.push(record),
            Item::Checkpoint(checkpoint) => chain.checkpoints.push(checkpoint),
        }
    }
    if order.is_empty() {
        return Err(ExportError::Format {
            line: 1,
            message: "no header".into(),
        });
    }
    Ok(order
        .into_iter()
        .filter_map(|node| {
            let chain = chains.remove(&node)?;
            let anchor = chain.anchor?;
            let keys = if keys.is_empty() { &chain.keys } else { keys };
            Some((
                node,
                verify::verify(anchor, chain.records, &chain.checkpoints, keys),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests;
