//! The storage traits, grouped by meaning, and the [`Store`] supertrait the
//! gateway holds (`Arc<dyn Store>`).
//!
//! Every backend (embedded SQLite, PostgreSQL for fleets) implements them
//! all. Methods are synchronous and never read the clock: time-based ones
//! take `now`; the one exception is the fleet register ([`NodeStore`]),
//! whose heartbeats the store's own clock judges, so that nodes whose
//! clocks disagree still agree on who is alive. They store and report;
//! deciding whether an identity or credential may act is the caller's job.

use std::fmt;
use std::time::Duration;

use portcullis_core::{Identity, IdentityState, UnixTime};

use crate::model::SealedCredential;
use crate::{Credential, CredentialKind, StoreError, StoredKey};

/// The inventory of machine identities.
pub trait IdentityStore {
    /// Inserts the identity, or updates every field of an existing one except
    /// `created` and `last_used`, which keep their stored values. Idempotent:
    /// declarative seeding re-applies it at every start and reload.
    fn upsert_identity(&self, identity: &Identity) -> Result<(), StoreError>;

    /// [`Self::upsert_identity`] for many, all or none: a large inventory
    /// loads in one transaction rather than one commit per identity.
    fn upsert_identities(&self, identities: &[Identity]) -> Result<(), StoreError>;

    fn get_identity(&self, id: &str) -> Result<Option<Identity>, StoreError>;

    /// Every identity, sorted by id.
    fn list_identities(&self) -> Result<Vec<Identity>, StoreError>;

    /// Suspends, quarantines, retires or reactivates, and leaves a
    /// [`StateChange`] saying who did it for the audit ledger, in the same
    /// transaction; `NotFound` if missing.
    fn set_identity_state(
        &self,
        id: &str,
        state: IdentityState,
        now: UnixTime,
        by: &ChangedBy<'_>,
    ) -> Result<(), StoreError>;

    /// [`Self::set_identity_state`] only if the identity is in `expected`
    /// now; `Ok(false)` (nothing changed, nothing recorded) otherwise, so a
    /// change decided on an old view never overwrites a newer one. Never
    /// waits for another writer: a store another process holds locked is
    /// `Unavailable` at once, for a caller that retries (the watch), so the
    /// wait never holds up the request path's use of the store.
    fn set_identity_state_if(
        &self,
        id: &str,
        expected: IdentityState,
        state: IdentityState,
        now: UnixTime,
        by: &ChangedBy<'_>,
    ) -> Result<bool, StoreError>;

    /// State changes not yet written to the audit ledger, oldest first.
    fn pending_state_changes(&self, limit: u32) -> Result<Vec<StateChange>, StoreError>;

    /// Marks every state change up to `seq` written to the ledger.
    fn mark_state_changes_recorded(&self, seq: i64) -> Result<(), StoreError>;

    /// Records use at `now` (never moves `last_used` backwards); `NotFound`
    /// if missing.
    fn touch_identity(&self, id: &str, now: UnixTime) -> Result<(), StoreError>;

    /// Deletes the identity and, with it, its credentials; `NotFound` if
    /// missing.
    fn delete_identity(&self, id: &str) -> Result<(), StoreError>;
}

/// Who changed an identity's state, and why.
#[derive(Debug, Clone, Copy)]
pub struct ChangedBy<'a> {
    /// The admin identity, `cli:<user>`, or `watch:<detector>`.
    pub by: &'a str,
    pub reason: Option<&'a str>,
}

impl<'a> ChangedBy<'a> {
    /// Who, without a reason.
    pub const fn who(by: &'a str) -> Self {
        Self { by, reason: None }
    }
}

/// One identity state change, as the store keeps it until the gateway has
/// recorded it in the audit ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub seq: i64,
    pub time: UnixTime,
    pub identity: String,
    pub from: Option<IdentityState>,
    pub to: IdentityState,
    pub by: String,
    pub reason: Option<String>,
}

/// Credentials identities authenticate with.
pub trait CredentialStore {
    /// `Conflict` if the id or the secret hash is taken; `NotFound` if the
    /// identity does not exist.
    fn insert_credential(&self, credential: &Credential) -> Result<(), StoreError>;

    /// The identity's credentials, revoked and expired ones included, oldest
    /// first; empty if the identity does not exist.
    fn list_credentials(&self, identity: &str) -> Result<Vec<Credential>, StoreError>;

    /// The credential of that kind whose secret hashes to `hash`, revoked or
    /// expired ones included (the caller checks [`Credential::is_usable`]).
    ///
    /// An indexed lookup: the hash is of a high-entropy secret, so lookup
    /// timing tells an attacker nothing about any stored secret.
    fn find_credential_by_hash(
        &self,
        kind: CredentialKind,
        hash: &[u8; 32],
    ) -> Result<Option<Credential>, StoreError>;

    /// Revokes at `now`; revoking again keeps the first time. `NotFound` if
    /// missing.
    fn revoke_credential(&self, id: &str, now: UnixTime) -> Result<(), StoreError>;

    /// Sets the expiry (rotation shortens the old credential's to the end of
    /// the overlap window); `NotFound` if missing.
    fn set_credential_expiry(&self, id: &str, expires: UnixTime) -> Result<(), StoreError>;
}

/// The token service's signing keys.
pub trait KeyStore {
    /// `Conflict` if the kid is taken.
    fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError>;

    /// Every key, retired ones included, oldest first.
    fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Stops the key signing at `now`; retiring again keeps the first time.
    /// `NotFound` if missing.
    fn retire_key(&self, kid: &str, now: UnixTime) -> Result<(), StoreError>;

    /// Removes the key (once its tokens have expired); `NotFound` if missing.
    fn delete_key(&self, kid: &str) -> Result<(), StoreError>;

    /// The audit ledger's signing key, newest first: `(kid, pkcs8)`.
    fn audit_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError>;

    /// Saves an audit signing key; `Conflict` if the kid is taken.
    fn insert_audit_key(
        &self,
        kid: &str,
        created: UnixTime,
        pkcs8: &[u8],
    ) -> Result<(), StoreError>;
}

/// Revoked access tokens (RFC 7009) and seen client assertions (RFC 7523).
pub trait RevocationStore {
    /// Revokes the token with this `jti` until `expires` (its own expiry,
    /// after which it is refused anyway). Revoking again keeps the later
    /// expiry.
    fn revoke_token(&self, jti: &str, expires: UnixTime) -> Result<(), StoreError>;

    /// Whether the `jti` is on the revocation list (pruned or not yet).
    fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError>;

    /// Revocations still in force at `now`, to load an in-memory set.
    fn revoked_tokens(&self, now: UnixTime) -> Result<Vec<(String, UnixTime)>, StoreError>;

    /// Forgets revocations of tokens expired by `now`; returns how many.
    fn prune_revocations(&self, now: UnixTime) -> Result<usize, StoreError>;

    /// Records a client assertion's `jti`. Returns `true` if it is fresh, and
    /// `false` if the same client presented the same `jti` before and that
    /// record has not expired (a replay). Prunes expired records as it goes.
    fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
}

/// Per-identity upstream credentials, sealed by the caller.
pub trait UpstreamCredentialStore {
    /// Inserts or replaces the sealed credential of `identity` for `api`.
    fn put_upstream_credential(&self, sealed: &SealedCredential) -> Result<(), StoreError>;
    /// Every sealed credential (loaded once, opened by the gateway).
    fn list_upstream_credentials(&self) -> Result<Vec<SealedCredential>, StoreError>;
    /// `NotFound` if there is none.
    fn delete_upstream_credential(&self, identity: &str, api: &str) -> Result<(), StoreError>;
}

/// Noticing changes made by another process (the CLI beside a running
/// gateway), so in-memory copies can be refreshed before they are trusted.
pub trait ChangeStore {
    /// A number that differs from the last one returned whenever another
    /// writer committed in between. Own writes do not change it.
    fn data_version(&self) -> Result<i64, StoreError>;

    /// Whether a write would be accepted now (readiness): `Unavailable` if
    /// not (read-only file, locked, gone).
    fn check_writable(&self) -> Result<(), StoreError>;
}

/// The fleet's register: each gateway renews its row every few seconds, so
/// any node (or `portcullis fleet status`) can say which nodes are alive,
/// what they run, and whether their configurations agree. The store's clock
/// judges the heartbeats, so the nodes' clocks never matter.
pub trait NodeStore {
    /// Registers `node`, or renews its heartbeat.
    ///
    /// # Errors
    /// `Conflict` when another instance holds the node id and its heartbeat
    /// is younger than `live` (two gateways given one id: the second must
    /// not take the first's place while the first is alive).
    fn heartbeat_node(&self, node: &NodeRecord, live: Duration) -> Result<(), StoreError>;

    /// Every node registered, by id, with how long ago each was heard.
    fn list_nodes(&self) -> Result<Vec<NodeSeen>, StoreError>;

    /// Takes `instance`'s row off the register (a node stopping cleanly);
    /// nothing if another instance holds the id now.
    fn remove_node(&self, id: &str, instance: &str) -> Result<(), StoreError>;
}

/// What a node says of itself at each heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// The node id (`--node`, `PORTCULLIS_NODE`, or host and port).
    pub id: String,
    /// This process: differs at each start, so a restart is told apart
    /// from a second process claiming the same id.
    pub instance: String,
    pub version: String,
    /// A digest of the configuration files as read (see the config crate).
    pub config_digest: String,
    /// Where the node serves, as it was told to listen.
    pub address: String,
}

/// A registered node as the store last heard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSeen {
    pub node: NodeRecord,
    /// When this instance registered, by the store's clock.
    pub started: UnixTime,
    /// Milliseconds since its last heartbeat, by the store's clock.
    pub heard_ms_ago: i64,
}

/// Everything the gateway stores, behind one object.
pub trait Store:
    IdentityStore
    + CredentialStore
    + KeyStore
    + RevocationStore
    + UpstreamCredentialStore
    + ChangeStore
    + NodeStore
    + Send
    + Sync
    + fmt::Debug
{
}

impl<T> Store for T where
    T: IdentityStore
        + CredentialStore
        + KeyStore
        + RevocationStore
        + UpstreamCredentialStore
        + ChangeStore
        + NodeStore
        + Send
        + Sync
        + fmt::Debug
{
}
