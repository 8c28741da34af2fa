//! The gateway's authority over identities: the inventory, their credentials
//! and the token-signing keys, held in memory for the request path and kept
//! in the store.
//!
//! The request path reads memory (one `data_version` check per request
//! notices changes another process committed, such as the CLI suspending an
//! identity, so a suspension bites on the very next request). Signing keys,
//! revoked tokens and upstream credentials are held whole; identities and
//! API keys are read from the store when first asked for and kept, bounded,
//! until the store changes (`known.rs`). Anything the
//! authority cannot read or decide is an error the caller turns into a
//! refusal: it never answers "allowed" by default.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use portcullis_config::{Config, TokenSettings};
use portcullis_core::{Clock, Identity, UnixTime};
use portcullis_store::{Store, StoreError};
use portcullis_token::{KeySet, SecretHash, TokenError, Verifier};

use crate::upstream::Injection;

mod credentials;
mod delegation;
mod exchange;
mod holds;
mod known;
mod open;
mod principal;
mod revocation;
mod sign_in;
mod throttle;
mod token_endpoint;

pub use credentials::{ManageError, NewSecret};
pub use delegation::person_token_id;
pub use principal::{AuthFailure, Principal, Standing};
pub use sign_in::{SignInFailure, SignedIn};
pub use token_endpoint::{TokenAttempt, TokenIssued};

/// Why the authority could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("token keys: {0}")]
    Keys(#[from] TokenError),
    #[error("{0}")]
    Sealing(String),
    #[error("the identities could not be read back from the store")]
    Unreadable,
}

/// An API key as the request path needs it.
#[derive(Debug, Clone, PartialEq)]
struct ApiKeyEntry {
    credential: String,
    identity: String,
    expires: UnixTime,
}

/// What the request path reads, refreshed from the store when it changes.
#[derive(Debug)]
struct Cache {
    keys: KeySet,
    revoked: HashSet<String>,
    /// Per-identity upstream credentials, opened and prepared:
    /// identity -> API -> what to inject.
    upstream: HashMap<String, HashMap<String, Arc<Injection>>>,
    data_version: i64,
    /// When each identity's `last_used` was last written to the store
    /// (emptied when it holds [`known::GENERATION`] identities: the cost is
    /// one more write each).
    last_written: HashMap<String, UnixTime>,
}

impl Cache {
    /// Whether `claims` is revoked, or was exchanged from a token that is:
    /// revoking any token upstream ends every token exchanged from it.
    fn revokes(&self, claims: &portcullis_token::AccessClaims) -> bool {
        self.revoked.contains(&claims.jti)
            || claims
                .exchanged_from
                .iter()
                .any(|id| self.revoked.contains(id))
    }
}

/// Identities, credentials, keys and tokens for one gateway.
#[derive(Debug)]
pub struct Authority {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: TokenSettings,
    verifier: Verifier,
    /// (API name, mount): the audiences tokens may be issued for.
    apis: Vec<(String, String)>,
    /// Every scope any API's contract mentions, for discovery documents.
    scopes: Vec<String>,
    /// `http://host:port` of the gateway listener.
    base_url: String,
    /// Opens per-identity upstream credentials; `None` when not configured.
    sealing: Option<portcullis_token::SealingKey>,
    /// Each API's `upstream_auth` form: a per-identity credential goes in
    /// the same header or query parameter, so only these APIs take one.
    forms: HashMap<String, portcullis_config::UpstreamAuth>,
    cache: RwLock<Cache>,
    /// The identities and API keys asked for since the store last changed.
    known: known::Known,
    /// Tokens whose signature was already checked, by their exact text, so
    /// each is verified once rather than on every request (Ed25519 is the
    /// largest per-request cost). Times, revocation and the identity are
    /// still checked on every request; emptied whenever the store changes
    /// (a key rotated or removed) and when full.
    verified: RwLock<HashMap<Box<str>, portcullis_token::AccessClaims>>,
    /// Failed client authentications at the token endpoint.
    throttle: throttle::ClientThrottle,
    /// Token exchange's trusted issuers and their keys; `None` without a
    /// `delegation:` section.
    issuers: Option<delegation::Issuers>,
    /// Quarantines the watch decided and throttles it set, in memory.
    pub(crate) holds: holds::Holds,
}

/// The most verified tokens remembered before the memory is emptied.
const VERIFIED_MAX: usize = 16_384;

/// `last_used` is written at most this often per identity.
const LAST_USED_EVERY: UnixTime = 60;

impl Authority {
    /// Opens the store, applies the declarative inventory, loads (or makes)
    /// the signing keys, and fills the caches.
    pub fn open(
        config: &Config,
        base_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthorityError> {
        open::open(config, base_url, clock)
    }

    /// Opens the configuration's existing store to read it as it is: no
    /// migration, no declarative inventory applied, no signing key made,
    /// and every write refused (the store reports it `Unavailable`). For
    /// commands that must not change the gateway's state (`explain`,
    /// `verify`). A missing store file is an error, never created.
    pub fn open_read_only(
        config: &Config,
        base_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthorityError> {
        open::open_read_only(config, base_url, clock)
    }

    /// The store, for reading. Every change goes through the authority's own
    /// methods, which reload the in-memory copy; a write made here directly
    /// is not seen until another process changes the store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    /// The `delegation:` section this authority was opened with.
    pub fn delegation(&self) -> Option<&portcullis_config::DelegationSettings> {
        self.issuers.as_ref().map(|i| &i.settings)
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The public keys, as served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Result<serde_json::Value, AuthFailure> {
        Ok(self.read()?.keys.jwks())
    }

    /// The identity as the inventory holds it now.
    pub fn identity(&self, id: &str) -> Result<Option<Identity>, AuthFailure> {
        Ok(self.shared_identity(id)?.map(|i| Identity::clone(&i)))
    }

    /// Runs `f` on the identity as the inventory holds it now, in place
    /// (the authorize stage asks this on every request).
    pub fn with_identity<R>(
        &self,
        id: &str,
        f: impl FnOnce(&Identity) -> R,
    ) -> Result<Option<R>, AuthFailure> {
        Ok(self.shared_identity(id)?.map(|i| f(&i)))
    }

    /// The identity from memory, or read from the store and remembered.
    fn shared_identity(&self, id: &str) -> Result<Option<Arc<Identity>>, AuthFailure> {
        let found = self
            .known
            .identity(id, || self.store.get_identity(id))
            .map_err(|_| {
                tracing::error!(identity = id, "identity store unavailable");
                AuthFailure::Unavailable
            })?;
        // A quarantine the watch decided holds before the store has it (and
        // while the store cannot take it), wherever the identity is read.
        Ok(match found {
            Some(identity) if self.holds.is_quarantined(id) => Some(Arc::new(Identity {
                state: portcullis_core::IdentityState::Quarantined,
                ..Identity::clone(&identity)
            })),
            other => other,
        })
    }

    /// The API key whose secret hashes to `hash`, from memory or the store
    /// (which answers only a key usable at `now`).
    fn api_key(
        &self,
        hash: &SecretHash,
        now: UnixTime,
    ) -> Result<Option<Arc<ApiKeyEntry>>, AuthFailure> {
        let read = || {
            self.store
                .find_credential_by_hash(portcullis_store::CredentialKind::ApiKey, hash)
                .map(|found| {
                    found.filter(|c| c.is_usable(now)).map(|c| ApiKeyEntry {
                        credential: c.id,
                        identity: c.identity,
                        expires: c.expires,
                    })
                })
        };
        self.known.api_key(hash, read).map_err(|_| {
            tracing::error!("identity store unavailable");
            AuthFailure::Unavailable
        })
    }

    /// Notes that `id` acted at `now`; written to the store at most once a minute.
    pub fn touch(&self, id: &str, now: UnixTime) {
        let due = self
            .read()
            .map(|c| {
                c.last_written
                    .get(id)
                    .is_none_or(|t| now - t >= LAST_USED_EVERY)
            })
            .unwrap_or(false);
        if !due {
            return;
        }
        if let Ok(mut cache) = self.cache.write() {
            if cache.last_written.len() >= known::GENERATION {
                cache.last_written.clear();
            }
            cache.last_written.insert(id.to_owned(), now);
        }
        if let Err(e) = self.store.touch_identity(id, now) {
            tracing::warn!(identity = id, error = %e, "could not record last use");
        }
    }

    /// Reloads everything from the store if another process changed it.
    pub fn refresh(&self) -> Result<(), AuthFailure> {
        let version = self.store.data_version().map_err(unavailable)?;
        if self.read()?.data_version == version {
            return Ok(());
        }
        self.replace_cache(version)
    }

    /// Re-reads the store now (after this process changed it).
    pub fn reload(&self) -> Result<(), AuthFailure> {
        let version = self.store.data_version().map_err(unavailable)?;
        self.replace_cache(version)
    }

    fn replace_cache(&self, version: i64) -> Result<(), AuthFailure> {
        // First: a lookup from here on reads the store as it is now.
        self.known.clear().map_err(|_| AuthFailure::Unavailable)?;
        let fresh = open::load_cache(
            self.store.as_ref(),
            self.sealing.as_ref(),
            &self.forms,
            self.clock.now(),
            version,
        )
        .map_err(|e| {
            tracing::error!(error = %e, "could not reload identities");
            AuthFailure::Unavailable
        })?;
        let mut cache = self.cache.write().map_err(|_| AuthFailure::Unavailable)?;
        let last_written = std::mem::take(&mut cache.last_written);
        *cache = fresh;
        cache.last_written = last_written;
        drop(cache);
        self.forget_verified();
        Ok(())
    }

    /// The claims of `token` if its signature was checked before and its
    /// times still hold at `now`.
    pub(crate) fn verified(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Option<portcullis_token::AccessClaims> {
        let leeway = self.verifier.leeway_secs();
        let known = self.verified.read().ok()?;
        let claims = known.get(token)?;
        let current = now < claims.exp + leeway && claims.nbf.is_none_or(|nbf| nbf - leeway <= now);
        current.then(|| claims.clone())
    }

    pub(crate) fn remember_verified(&self, token: &str, claims: &portcullis_token::AccessClaims) {
        if let Ok(mut known) = self.verified.write() {
            if known.len() >= VERIFIED_MAX {
                known.clear();
            }
            known.insert(token.into(), claims.clone());
        }
    }

    fn forget_verified(&self) {
        if let Ok(mut known) = self.verified.write() {
            known.clear();
        }
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Cache>, AuthFailure> {
        self.cache.read().map_err(|_| AuthFailure::Unavailable)
    }
}

impl Authority {
    /// The configured token lifetimes, in seconds, as the grants take them.
    fn grant_limits(&self) -> portcullis_token::oauth::GrantLimits {
        portcullis_token::oauth::GrantLimits {
            default_ttl: secs(self.settings.default_ttl),
            max_ttl: secs(self.settings.max_ttl),
        }
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn unavailable(e: StoreError) -> AuthFailure {
    tracing::error!(error = %e, "identity store unavailable");
    AuthFailure::Unavailable
}
