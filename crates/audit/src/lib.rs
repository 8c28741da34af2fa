//! The audit ledger: one record for every request the gateway decided,
//! hash-chained and periodically signed so that any change to the stored
//! history (a modified, deleted, inserted or reordered record, a truncated
//! tail) is detected and located.
//!
//! - [`record`]: what a record holds and its canonical encoding.
//! - [`chain`]: SHA-256 over that encoding, each record naming its
//!   predecessor's hash.
//! - [`key`] and [`checkpoint`]: Ed25519 signatures over the chain head,
//!   every N records or T seconds.
//! - [`verify`]: walks records and checkpoints (from a ledger or an
//!   export) and reports the first problem.
//! - [`ledger`]: the seam to storage (`LedgerRead`, `LedgerWrite`) and
//!   [`verify_ledger`] over it; the SQLite ledger and the writer thread
//!   live in `portcullis-store`, beside the identity store.
//! - [`export`]: the self-verifying JSON Lines format.
//!
//! Pure: no files, sockets, database or runtime (a test checks the
//! dependency graph), so every backend's history is judged by the same code.
//! No secret, token, credential or body content is ever part of a record:
//! the gateway hands over ids, counts and codes only.

pub mod chain;
pub mod checkpoint;
pub mod event;
pub mod export;
pub mod key;
pub mod ledger;
pub mod record;
pub mod verify;

#[cfg(test)]
mod testing;

pub use chain::Hash;
pub use checkpoint::Checkpoint;
pub use event::{Alert, StateChange};
pub use key::{AuditKey, KeyError, PublicKey};
pub use ledger::{LedgerRead, LedgerWrite, verify_ledger};
pub use record::{Entry, McpCall, OnBehalfOf, Sealed, StageTime};
pub use verify::{Anchor, Problem, Report, verify};
