//! Starting the authority: the store opened, the declarative inventory
//! applied, the signing keys loaded or made, the caches filled; or, for a
//! command that only reads, the store opened as it is and nothing applied.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use portcullis_config::{Config, SeedIdentity, Storage, UpstreamAuth};
use portcullis_core::{Clock, IdentityState, UnixTime};
use portcullis_store::{Credential, CredentialKind, SqliteStore, Store, StoreError, StoredKey};
use portcullis_token::{KeySet, SealingKey, SigningKey, Verifier};

use crate::upstream::Injection;

use portcullis_store::postgres::PostgresStore;

use super::{Authority, AuthorityError, Cache, secs};

pub(super) fn open(
    config: &Config,
    base_url: &str,
    clock: Arc<dyn Clock>,
) -> Result<Authority, AuthorityError> {
    let store: Arc<dyn Store> = match &config.storage {
        Storage::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
        Storage::Postgres(url) => Arc::new(PostgresStore::open_stale_after(
            url.expose(),
            config.fleet.stale_after,
        )?),
        Storage::Memory => Arc::new(SqliteStore::open_in_memory()?),
    };
    let now = clock.now();
    for seed in &config.identities {
        apply_seed(store.as_ref(), seed, now)?;
    }
    let max_ttl = secs(config.tokens.max_ttl) + secs(config.tokens.leeway);
    ensure_keys(store.as_ref(), now, max_ttl)?;
    assemble(config, base_url, clock, store)
}

/// The configuration's store as it is, for commands that only read it: no
/// migration, no declared inventory applied, no signing key made or
/// pruned. A store in memory holds nothing until something is applied, so
/// that one is opened as [`open`] does, in this process only.
pub(super) fn open_read_only(
    config: &Config,
    base_url: &str,
    clock: Arc<dyn Clock>,
) -> Result<Authority, AuthorityError> {
    match &config.storage {
        Storage::Sqlite(path) => {
            let store = Arc::new(SqliteStore::open_read_only(path)?);
            assemble(config, base_url, clock, store)
        }
        Storage::Postgres(url) => {
            let store = Arc::new(PostgresStore::attach(url.expose())?);
            assemble(config, base_url, clock, store)
        }
        Storage::Memory => open(config, base_url, clock),
    }
}

/// The authority over `store` as it stands: its caches filled, the
/// configuration's token settings, APIs and scopes.
fn assemble(
    config: &Config,
    base_url: &str,
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
) -> Result<Authority, AuthorityError> {
    let sealing = match &config.sealing_key {
        Some(key) => Some(SealingKey::from_base64(key.expose())?),
        None => None,
    };
    let forms: HashMap<String, UpstreamAuth> = config
        .apis
        .iter()
        .filter_map(|a| a.upstream_auth.clone().map(|f| (a.name.clone(), f)))
        .collect();
    let version = store.data_version()?;
    let cache = load_cache(
        store.as_ref(),
        sealing.as_ref(),
        &forms,
        clock.now(),
        version,
    )?;
    let apis: Vec<(String, String)> = config
        .apis
        .iter()
        .map(|a| (a.name.clone(), a.mount.clone()))
        .collect();
    Ok(Authority {
        verifier: Verifier::new(
            config.tokens.issuer.clone(),
            apis.iter().map(|(name, _)| name.clone()).collect(),
            secs(config.tokens.leeway),
        ),
        settings: config.tokens.clone(),
        store,
        clock,
        apis,
        scopes: scopes(config),
        base_url: base_url.to_owned(),
        sealing,
        forms,
        cache: RwLock::new(cache),
        known: super::known::Known::new(),
        verified: RwLock::new(HashMap::new()),
        throttle: super::throttle::ClientThrottle::new(&config.tokens.failed_auth),
        issuers: config
            .delegation
            .as_ref()
            .map(super::delegation::Issuers::new),
        holds: super::holds::Holds::default(),
    })
}

/// Every scope any API's contract mentions, sorted, once each.
fn scopes(config: &Config) -> Vec<String> {
    let mut scopes: Vec<String> = config
        .apis
        .iter()
        .flat_map(|a| a.contract.operations())
        .flat_map(|o| o.scopes().map(str::to_owned))
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

impl Authority {
    /// The audit ledger's signing key, made and saved on first use. It is
    /// kept in this store, never in the ledger file.
    ///
    /// # Errors
    /// The store cannot be read or written, or holds a key that is not one.
    pub fn audit_key(&self) -> Result<portcullis_audit::AuditKey, AuthorityError> {
        let malformed = |e: portcullis_audit::KeyError| AuthorityError::Sealing(e.to_string());
        if let Some((kid, der)) = self.store.audit_key()? {
            return portcullis_audit::AuditKey::from_pkcs8(kid, &der).map_err(malformed);
        }
        let now = self.clock.now();
        let key =
            portcullis_audit::AuditKey::generate(format!("audit-{now}")).map_err(malformed)?;
        match self.store.insert_audit_key(key.kid(), now, key.pkcs8_der()) {
            Ok(()) => Ok(key),
            // Another process made one first: use that one.
            Err(StoreError::Conflict(_)) => match self.store.audit_key()? {
                Some((kid, der)) => {
                    portcullis_audit::AuditKey::from_pkcs8(kid, &der).map_err(malformed)
                }
                None => Err(AuthorityError::Unreadable),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Applies the declarative inventory again (a reload of
    /// `identities.yaml`), with the same rules as at start, and re-reads the
    /// store.
    ///
    /// # Errors
    /// The store could not be written or read back.
    pub fn apply_inventory(&self, seeds: &[SeedIdentity]) -> Result<(), AuthorityError> {
        let now = self.clock.now();
        for seed in seeds {
            apply_seed(self.store.as_ref(), seed, now)?;
        }
        self.reload().map_err(|_| AuthorityError::Unreadable)
    }
}

/// Applies one declared identity. The file may suspend or retire an
/// identity, but never re-activate one the store holds as not active: that
/// takes a deliberate act (admin API or CLI), not a reload of an old file.
fn apply_seed(store: &dyn Store, seed: &SeedIdentity, now: UnixTime) -> Result<(), StoreError> {
    let mut identity = seed.identity.clone();
    identity.created = now;
    if let Some(stored) = store.get_identity(&identity.id)?
        && stored.state != IdentityState::Active
        && identity.state == IdentityState::Active
    {
        identity.state = stored.state;
    }
    store.upsert_identity(&identity)?;
    let existing: HashSet<String> = store
        .list_credentials(&identity.id)?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for key in &seed.keys {
        let id = format!("{}/{}", identity.id, key.id);
        if existing.contains(&id) {
            store.set_credential_expiry(&id, key.expires)?;
            continue;
        }
        store.insert_credential(&Credential {
            id,
            identity: identity.id.clone(),
            kind: CredentialKind::PrivateKeyJwt,
            secret_hash: None,
            public_jwk: Some(key.jwk.clone()),
            created: now,
            expires: key.expires,
            revoked: None,
            label: Some("declared in identities.yaml".to_owned()),
        })?;
    }
    Ok(())
}

/// Makes the first signing key, and drops retired keys whose tokens have all expired.
/// Deletes keys retired longer than any token lives, and makes a signing
/// key if none is active. Nodes of a fleet starting together on one store
/// race here: a key another node deleted first, or made first under the
/// same id (ids are the creation second), is its work done, not an error.
fn ensure_keys(store: &dyn Store, now: UnixTime, max_ttl: i64) -> Result<(), AuthorityError> {
    let stored = store.list_keys()?;
    for key in &stored {
        if key.retired.is_some_and(|r| r + max_ttl < now) {
            match store.delete_key(&key.kid) {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    if !stored.iter().any(|k| k.retired.is_none()) {
        let key = SigningKey::generate(format!("k{now}"), now)?;
        let made = store.insert_key(&StoredKey {
            kid: key.kid().to_owned(),
            created: now,
            retired: None,
            pkcs8: key.pkcs8_der().to_vec(),
        });
        match made {
            Ok(()) => {}
            Err(StoreError::Conflict(_))
                if store.list_keys()?.iter().any(|k| k.retired.is_none()) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Reads everything the request path needs into memory.
pub(super) fn load_cache(
    store: &dyn Store,
    sealing: Option<&SealingKey>,
    forms: &HashMap<String, UpstreamAuth>,
    now: UnixTime,
    data_version: i64,
) -> Result<Cache, AuthorityError> {
    let mut keys = Vec::new();
    for k in store.list_keys()? {
        keys.push(SigningKey::from_pkcs8(
            k.kid, k.created, k.retired, &k.pkcs8,
        )?);
    }
    let revoked = store
        .revoked_tokens(now)?
        .into_iter()
        .map(|(jti, _)| jti)
        .collect();
    let mut upstream: HashMap<String, HashMap<String, Arc<Injection>>> = HashMap::new();
    for sealed in store.list_upstream_credentials()? {
        // Fail closed: a credential that cannot be opened stops the gateway
        // rather than letting the identity's requests go out without it.
        let key = sealing.ok_or_else(|| {
            AuthorityError::Sealing(
                "the store holds per-identity upstream credentials but no `sealing_key` is configured".into(),
            )
        })?;
        let context = sealing_context(&sealed.identity, &sealed.api);
        let plain = key.open(&sealed.nonce, &sealed.sealed, &context).map_err(|_| {
            AuthorityError::Sealing(format!(
                "the upstream credential of `{}` for `{}` does not open with the configured `sealing_key`",
                sealed.identity, sealed.api
            ))
        })?;
        let value = String::from_utf8(plain)
            .map_err(|_| AuthorityError::Sealing("an upstream credential is not text".into()))?;
        // An API no longer configured with a credential form takes none.
        let Some(form) = forms.get(&sealed.api) else {
            continue;
        };
        let injection = Injection::with_value(form, value, &sealed.identity)
            .map_err(|e| AuthorityError::Sealing(e.to_string()))?;
        upstream
            .entry(sealed.identity)
            .or_default()
            .insert(sealed.api, Arc::new(injection));
    }
    Ok(Cache {
        keys: KeySet::new(keys)?,
        revoked,
        upstream,
        data_version,
        last_written: HashMap::new(),
    })
}

/// What a sealed upstream credential is bound to.
pub(super) fn sealing_context(identity: &str, api: &str) -> Vec<u8> {
    format!("{identity}\0{api}").into_bytes()
}
