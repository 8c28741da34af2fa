//! Storage for Portcullis: the inventory of machine identities, their
//! credentials, the token service's signing keys, revoked tokens and seen
//! client assertions; and the audit ledger's SQLite file with its writer
//! thread ([`ledger`]), the backend of `portcullis_audit`'s ledger seam.
//!
//! The [`Store`] trait is what the rest of the gateway speaks; [`SqliteStore`]
//! is the embedded implementation used by default, and a PostgreSQL one can
//! implement the same traits later. Methods are synchronous: the data plane
//! calls them from `spawn_blocking` or keeps what it needs in memory.
//!
//! This crate never reads the system clock (methods take `now`), never
//! decides whether a credential or identity may act (that is the caller's
//! job, with the helpers on the model types), and never puts secret
//! material in an error message or a `Debug` rendering.

#[cfg(test)]
mod behaviour;
mod error;
pub mod ledger;
mod location;
mod model;
pub mod postgres;
mod sqlite;
mod store;

pub use error::{Conflict, Corrupt, NotFound, StoreError, Unavailable};
pub use location::{PostgresUrl, StorageLocation, StorageUrlError, UnsupportedScheme};
pub use model::{Credential, CredentialKind, SealedCredential, StoredKey, UnknownCredentialKind};
pub use sqlite::SqliteStore;
pub use store::{
    ChangeStore, ChangedBy, CredentialStore, IdentityStore, KeyStore, NodeRecord, NodeSeen,
    NodeStore, RevocationStore, StateChange, Store, UpstreamCredentialStore,
};
