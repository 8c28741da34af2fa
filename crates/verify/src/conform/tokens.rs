//! The callers conformance checks the gateway as, and their tokens.
//!
//! An identity's attributes come from the gateway's store when it is here
//! (so a suspension made there counts), else from the configuration's
//! declared inventory. A token comes from the gateway's own token service
//! when the identity's client secret is given (`--identities`): the way a
//! CI job checks a gateway whose store it cannot see, and a check of the
//! token service besides. Otherwise it is issued from the gateway's store,
//! as `portcullis token issue` makes it. The negatives' tokens (without the
//! scope, already expired) come the same ways; an expired one needs the
//! store, since the token service never issues one.
//!
//! The store is read, never written, and used only when it is the
//! gateway's: every signing key it holds is one the gateway publishes at
//! `/.well-known/jwks.json` (a URL publishing no key set at all is no
//! gateway, and is sent the store's tokens: its answers show what it is).
//! A store beside the configuration that the gateway does not run on (a
//! demo's gateway keeps its store in memory) would sign tokens the gateway
//! rightly refuses, and each refusal would read as the gateway's mismatch;
//! such a store is set aside, with the reason, for the checks that needed
//! it.

use std::sync::Arc;

use portcullis_config::{Config, SecretText, Storage, TestIdentity};
use portcullis_core::{FixedClock, Identity, IdentityState, SystemClock};
use portcullis_proxy::authority::Authority;
use serde_json::Value;

use crate::wire::{self, Target};

/// An identity holding a token for one API.
#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    /// The scopes its token carries.
    pub scopes: Vec<String>,
    pub token: String,
    secret: Option<SecretText>,
}

/// Why an identity cannot be checked as, or that the gateway is gone.
pub enum NoCaller {
    /// Reported as skipped, with this reason.
    Skipped(String),
    /// The gateway's token service did not answer at all.
    Unreachable(String),
}

/// Where tokens come from.
pub struct Issuer<'a> {
    /// The gateway's store, when it is here.
    store: Option<Authority>,
    /// The same store on a clock well past: its tokens have expired.
    expired: Option<Authority>,
    /// Why there is no store to issue from (empty when there is one).
    no_store: String,
    gateway: &'a Target,
    ttl: i64,
}

impl<'a> Issuer<'a> {
    /// Opens the configuration's store, read-only, when it exists and is
    /// the gateway's: `jwks` is the gateway's `/.well-known/jwks.json`
    /// answer. Never creates or changes a store: one made here would hold
    /// keys no gateway trusts.
    ///
    /// # Errors
    /// The store exists but cannot be read.
    pub fn open(
        config: &Config,
        gateway: &'a Target,
        jwks: &[u8],
    ) -> Result<Self, portcullis_proxy::authority::AuthorityError> {
        // No key set at all: not a gateway (the upstream itself, say). Its
        // answers to the store's tokens show what it is, as findings.
        let published: Option<Value> = serde_json::from_slice::<Value>(jwks)
            .ok()
            .filter(|v| v.get("keys").is_some_and(Value::is_array));
        let base_url = format!("http://{}", config.listen);
        let (store, no_store) = match &config.storage {
            Storage::Sqlite(path) if path.exists() => {
                let store = Authority::open_read_only(config, &base_url, Arc::new(SystemClock))?;
                match published.and_then(|p| unpublished(&store, &p)) {
                    None => (Some(store), String::new()),
                    Some(why) => (
                        None,
                        format!("the store {} is not the gateway's: {why}", path.display()),
                    ),
                }
            }
            Storage::Sqlite(path) => (
                None,
                format!("the gateway's store is not here (no {})", path.display()),
            ),
            Storage::Postgres(_) => {
                match Authority::open_read_only(config, &base_url, Arc::new(SystemClock)) {
                    Ok(store) => match published.and_then(|p| unpublished(&store, &p)) {
                        None => (Some(store), String::new()),
                        Some(why) => (
                            None,
                            format!("the PostgreSQL store is not the gateway's: {why}"),
                        ),
                    },
                    Err(e) => (
                        None,
                        format!("the gateway's PostgreSQL store cannot be read: {e}"),
                    ),
                }
            }
            Storage::Memory => (
                None,
                "the configuration keeps its store in the gateway's memory".to_owned(),
            ),
        };
        let expired = match &store {
            Some(store) => {
                let past = store.now()
                    - 2 * i64::try_from(config.tokens.max_ttl.as_secs()).unwrap_or(900)
                    - 60;
                let clock = Arc::new(FixedClock(past));
                Some(Authority::open_read_only(config, &base_url, clock)?)
            }
            None => None,
        };
        Ok(Self {
            store,
            expired,
            no_store,
            gateway,
            ttl: i64::try_from(config.tokens.default_ttl.as_secs()).unwrap_or(300),
        })
    }

    /// `wanted` with a token for `api`; `declared` holds the configuration's
    /// inventory, for an identity the store does not hold or when there is
    /// no store here.
    ///
    /// # Errors
    /// Why not: the identity is unknown or not active, no token can be had,
    /// or the gateway cannot be reached.
    pub async fn caller(
        &self,
        declared: &Authority,
        wanted: &TestIdentity,
        api: &str,
    ) -> Result<Caller, NoCaller> {
        let skip = |why: String| NoCaller::Skipped(why);
        let stored = match &self.store {
            Some(store) => store
                .identity(&wanted.id)
                .map_err(|e| skip(format!("the store cannot be read: {e}")))?,
            None => None,
        };
        let identity = match stored {
            Some(identity) => identity,
            None => declared
                .identity(&wanted.id)
                .ok()
                .flatten()
                .ok_or_else(|| skip("not in the inventory".into()))?,
        };
        if identity.state != IdentityState::Active {
            return Err(skip(format!(
                "{} identities cannot get a token",
                identity.state.as_str()
            )));
        }
        let scopes = wanted
            .scopes
            .clone()
            .unwrap_or_else(|| identity.scopes.clone());
        let (token, scopes) = match (&wanted.client_secret, &self.store) {
            (Some(secret), _) => {
                from_token_service(self.gateway, &wanted.id, secret, &scopes, api).await?
            }
            (None, Some(store)) => match store.issue_for(&identity.id, &scopes, self.ttl, api) {
                Ok((token, _)) => (token, scopes),
                Err(e) => return Err(skip(format!("no token: {e}"))),
            },
            (None, None) => {
                return Err(skip(format!(
                    "no client secret given (list the identity in --identities with its client_secret), and no store to issue from: {}",
                    self.no_store
                )));
            }
        };
        Ok(Caller {
            identity,
            scopes,
            token,
            secret: wanted.client_secret.clone(),
        })
    }

    /// A token of `caller` carrying only `scopes`.
    ///
    /// # Errors
    /// Why none can be had.
    pub async fn narrower(
        &self,
        caller: &Caller,
        scopes: &[String],
        api: &str,
    ) -> Result<String, String> {
        if let Some(store) = &self.store {
            return store
                .issue_for(&caller.identity.id, scopes, 60, api)
                .map(|(t, _)| t)
                .map_err(|e| format!("no token: {e}"));
        }
        let Some(secret) = &caller.secret else {
            return Err(format!(
                "no client secret and no store to issue from: {}",
                self.no_store
            ));
        };
        match from_token_service(self.gateway, &caller.identity.id, secret, scopes, api).await {
            Ok((token, _)) => Ok(token),
            Err(NoCaller::Skipped(why) | NoCaller::Unreachable(why)) => Err(why),
        }
    }

    /// A token of `caller` acting for `delegation`'s person, issued from
    /// the gateway's store (a person's token from the IdP is not ours to
    /// make, so the token endpoint cannot be used).
    ///
    /// # Errors
    /// Why none can be had: without the gateway's store, none can.
    pub fn delegated(
        &self,
        caller: &Caller,
        delegation: &portcullis_policy::Delegation,
        api: &str,
    ) -> Result<String, String> {
        let Some(store) = &self.store else {
            return Err(format!(
                "a delegated token is made from the gateway's store: {}",
                self.no_store
            ));
        };
        store
            .issue_delegated(delegation, &caller.scopes, 60, api)
            .map(|(t, _)| t)
            .map_err(|e| format!("no token: {e}"))
    }

    /// A token of `caller` that has already expired.
    ///
    /// # Errors
    /// Why none can be had: without the gateway's store, none can.
    pub fn expired(&self, caller: &Caller, api: &str) -> Result<String, String> {
        let Some(expired) = &self.expired else {
            return Err(format!(
                "an expired token is made from the gateway's store: {}",
                self.no_store
            ));
        };
        expired
            .issue_for(&caller.identity.id, &caller.scopes, 60, api)
            .map(|(t, _)| t)
            .map_err(|e| format!("no token: {e}"))
    }
}

/// Why tokens `store` signs would not verify at a gateway publishing the
/// JWK Set `published`; `None` when every key the store holds is published
/// exactly as the store holds it.
fn unpublished(store: &Authority, published: &Value) -> Option<String> {
    let Ok(ours) = store.jwks() else {
        return Some("its signing keys cannot be read".into());
    };
    let ours = ours.get("keys").and_then(Value::as_array).cloned();
    let ours = match ours {
        Some(keys) if !keys.is_empty() => keys,
        _ => return Some("it holds no signing key".into()),
    };
    let theirs = published.get("keys").and_then(Value::as_array);
    let missing = ours
        .iter()
        .find(|key| !theirs.is_some_and(|t| t.contains(key)))?;
    let kid = missing.get("kid").and_then(Value::as_str).unwrap_or("?");
    Some(format!(
        "its signing key `{kid}` is not one the gateway publishes at /.well-known/jwks.json"
    ))
}

/// `POST /oauth/token` with client credentials; the token and the scopes
/// it was granted.
async fn from_token_service(
    gateway: &Target,
    id: &str,
    secret: &SecretText,
    scopes: &[String],
    api: &str,
) -> Result<(String, Vec<String>), NoCaller> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials")
        .append_pair("client_id", id)
        .append_pair("client_secret", secret.expose())
        .append_pair("resource", api)
        .append_pair("scope", &scopes.join(" "));
    let body = form.finish();
    let answer = wire::send(
        gateway,
        "POST",
        "/oauth/token",
        &[],
        Some(("application/x-www-form-urlencoded", body.as_bytes())),
    )
    .await
    .map_err(|e| NoCaller::Unreachable(format!("the token service cannot be reached: {e}")))?;
    let doc: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let token = doc.get("access_token").and_then(Value::as_str);
    match token {
        Some(token) if answer.status == 200 => {
            let granted = doc
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            Ok((token.to_owned(), granted))
        }
        _ => {
            let said = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            Err(NoCaller::Skipped(format!(
                "the token service refused ({}): {} {}",
                answer.status,
                said("error"),
                said("error_description")
            )))
        }
    }
}
