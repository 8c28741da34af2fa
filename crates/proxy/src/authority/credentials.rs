//! Managing the inventory: credentials created (secrets shown once),
//! rotated with an overlap window, revoked; identity state; token
//! revocation; signing-key rotation. Used by the admin API, the CLI, the
//! demo and tests. Every change is written to the store first, then the
//! in-memory copy is reloaded, so the request path never runs ahead of it.

use portcullis_core::{IdentityState, UnixTime};
use portcullis_store::{Credential, CredentialKind, StoreError, StoredKey};
use portcullis_token::{
    AccessClaims, ApiKey, ClientKey, ClientSecret, SigningKey, TokenError, issue, new_jti,
};

use std::sync::Arc;

use crate::upstream::Injection;

use super::{AuthFailure, Authority};

/// Why a management action failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("identity `{0}` does not exist")]
    NoSuchIdentity(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the identity store is unavailable")]
    Unavailable,
}

impl From<AuthFailure> for ManageError {
    fn from(_: AuthFailure) -> Self {
        Self::Unavailable
    }
}

/// A new secret: its credential id and the value, shown this once.
#[derive(Debug)]
pub struct NewSecret {
    pub credential_id: String,
    pub secret: String,
    pub expires: UnixTime,
}

impl Authority {
    /// Adds or updates an identity (the admin API, the CLI, tests).
    pub fn put_identity(&self, identity: &portcullis_core::Identity) -> Result<(), ManageError> {
        if !portcullis_core::valid_identity_id(&identity.id) {
            return Err(ManageError::Invalid(format!(
                "`{}` is not a valid identity id",
                identity.id
            )));
        }
        if let Some(bad) = identity
            .scopes
            .iter()
            .find(|s| !portcullis_core::valid_scope(s))
        {
            return Err(ManageError::Invalid(format!(
                "`{bad}` is not a valid scope"
            )));
        }
        self.store.upsert_identity(identity)?;
        self.reload()?;
        Ok(())
    }

    /// Removes an identity and everything it holds; its tokens die with it.
    pub fn delete_identity(&self, id: &str) -> Result<(), ManageError> {
        self.store.delete_identity(id)?;
        self.reload()?;
        tracing::info!(identity = id, "identity deleted");
        Ok(())
    }

    fn require_identity(&self, id: &str) -> Result<(), ManageError> {
        match self.store.get_identity(id)? {
            Some(_) => Ok(()),
            None => Err(ManageError::NoSuchIdentity(id.to_owned())),
        }
    }

    fn credential_id(identity: &str, kind: CredentialKind) -> Result<String, ManageError> {
        let suffix: String = new_jti()?
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(10)
            .collect();
        Ok(format!("{identity}/{}-{suffix}", kind.as_str()))
    }

    /// Creates a client secret or API key valid for `ttl` seconds.
    pub fn create_secret(
        &self,
        identity: &str,
        kind: CredentialKind,
        ttl: i64,
        label: Option<String>,
    ) -> Result<NewSecret, ManageError> {
        self.require_identity(identity)?;
        let (secret, hash) = match kind {
            CredentialKind::ClientSecret => ClientSecret::generate()?,
            CredentialKind::ApiKey => ApiKey::generate()?,
            CredentialKind::PrivateKeyJwt => {
                return Err(ManageError::Invalid(
                    "a key credential is registered, not generated".into(),
                ));
            }
        };
        if ttl <= 0 {
            return Err(ManageError::Invalid(
                "a credential must expire: give a positive lifetime".into(),
            ));
        }
        let now = self.clock.now();
        let credential = Credential {
            id: Self::credential_id(identity, kind)?,
            identity: identity.to_owned(),
            kind,
            secret_hash: Some(hash),
            public_jwk: None,
            created: now,
            expires: now.saturating_add(ttl),
            revoked: None,
            label,
        };
        self.store.insert_credential(&credential)?;
        self.reload()?;
        tracing::info!(identity, credential = %credential.id, kind = kind.as_str(), "credential created");
        Ok(NewSecret {
            credential_id: credential.id,
            secret,
            expires: credential.expires,
        })
    }

    /// Registers a public key for `private_key_jwt`.
    pub fn register_key(
        &self,
        identity: &str,
        jwk: serde_json::Value,
        expires: UnixTime,
    ) -> Result<String, ManageError> {
        self.require_identity(identity)?;
        ClientKey::from_jwk(&jwk)?;
        let now = self.clock.now();
        let id = Self::credential_id(identity, CredentialKind::PrivateKeyJwt)?;
        self.store.insert_credential(&Credential {
            id: id.clone(),
            identity: identity.to_owned(),
            kind: CredentialKind::PrivateKeyJwt,
            secret_hash: None,
            public_jwk: Some(jwk),
            created: now,
            expires,
            revoked: None,
            label: None,
        })?;
        self.reload()?;
        Ok(id)
    }

    /// Replaces a secret credential: a new one now, the old one kept for `overlap` seconds.
    pub fn rotate_secret(
        &self,
        credential_id: &str,
        overlap: i64,
    ) -> Result<NewSecret, ManageError> {
        let identity = credential_id.split('/').next().unwrap_or_default();
        let old = self
            .store
            .list_credentials(identity)?
            .into_iter()
            .find(|c| c.id == credential_id)
            .ok_or_else(|| {
                ManageError::Invalid(format!("credential `{credential_id}` does not exist"))
            })?;
        let now = self.clock.now();
        let ttl = (old.expires - old.created).max(1);
        let new = self.create_secret(identity, old.kind, ttl, old.label.clone())?;
        self.store
            .set_credential_expiry(&old.id, old.expires.min(now.saturating_add(overlap.max(0))))?;
        self.reload()?;
        Ok(new)
    }

    pub fn revoke_credential(&self, credential_id: &str) -> Result<(), ManageError> {
        self.store
            .revoke_credential(credential_id, self.clock.now())?;
        self.reload()?;
        Ok(())
    }

    /// Changes an identity's state; refused on its very next request if not active.
    pub fn set_state(
        &self,
        identity: &str,
        state: IdentityState,
        by: portcullis_store::ChangedBy<'_>,
    ) -> Result<(), ManageError> {
        self.store
            .set_identity_state(identity, state, self.clock.now(), &by)?;
        if state == IdentityState::Active {
            // Released: what the watch held in memory goes too.
            self.holds.release_quarantine(identity);
            self.holds.release_throttle(identity);
        }
        self.reload()?;
        tracing::info!(
            identity,
            state = state.as_str(),
            by = by.by,
            "identity state changed"
        );
        Ok(())
    }

    /// Quarantines the identity only if it is active now (the watch's
    /// decision, written after the fact: a release, a suspension or a
    /// retirement made since stands). Whether it changed it.
    pub fn quarantine_if_active(
        &self,
        identity: &str,
        by: portcullis_store::ChangedBy<'_>,
    ) -> Result<bool, ManageError> {
        let changed = self.store.set_identity_state_if(
            identity,
            IdentityState::Active,
            IdentityState::Quarantined,
            self.clock.now(),
            &by,
        )?;
        if changed {
            self.reload()?;
            tracing::info!(identity, by = by.by, "identity quarantined");
        }
        Ok(changed)
    }

    /// Revokes a token by its id until it would have expired anyway.
    pub fn revoke_token(&self, jti: &str, expires: UnixTime) -> Result<(), ManageError> {
        self.store.revoke_token(jti, expires)?;
        self.reload()?;
        Ok(())
    }

    /// Issues a token directly (the CLI's `token issue`), with the same
    /// least-scope rules as the token endpoint.
    pub fn issue_for(
        &self,
        identity: &str,
        scopes: &[String],
        ttl: i64,
        audience: &str,
    ) -> Result<(String, AccessClaims), ManageError> {
        let found = self
            .identity(identity)?
            .ok_or_else(|| ManageError::NoSuchIdentity(identity.to_owned()))?;
        let now = self.clock.now();
        found
            .check_usable(now)
            .map_err(|e| ManageError::Invalid(e.to_string()))?;
        if let Some(extra) = scopes.iter().find(|s| !found.scopes.contains(s)) {
            return Err(ManageError::Invalid(format!(
                "scope `{extra}` is not granted to `{identity}`"
            )));
        }
        if !self.apis.iter().any(|(name, _)| name == audience) {
            return Err(ManageError::Invalid(format!(
                "`{audience}` is not one of the gateway's APIs"
            )));
        }
        let ttl = ttl.clamp(1, super::secs(self.settings.max_ttl));
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: identity.to_owned(),
            aud: audience.to_owned(),
            scope: scopes.join(" "),
            exp: now + ttl,
            iat: now,
            nbf: None,
            jti: new_jti()?,
            act: None,
            person: None,
            exchanged_from: Vec::new(),
        };
        let token = issue(&self.read()?.keys, &claims)?;
        Ok((token, claims))
    }

    /// Issues directly a token acting for `delegation`'s person, its chain
    /// as given (the first identity is the one using it), under the same
    /// rules as [`Self::issue_for`] for that identity: what `verify` checks
    /// delegation rules with, from the gateway's store.
    ///
    /// # Errors
    /// As [`Self::issue_for`]; an empty chain is invalid.
    pub fn issue_delegated(
        &self,
        delegation: &portcullis_policy::Delegation,
        scopes: &[String],
        ttl: i64,
        audience: &str,
    ) -> Result<(String, AccessClaims), ManageError> {
        let actor = delegation
            .chain
            .first()
            .ok_or_else(|| ManageError::Invalid("a delegation needs an actor".into()))?;
        let (_, mut claims) = self.issue_for(actor, scopes, ttl, audience)?;
        claims.sub.clone_from(&delegation.person);
        claims.act = portcullis_token::Actor::chain(&delegation.chain);
        claims.person = Some(portcullis_token::Person {
            iss: delegation.issuer.clone(),
            claims: delegation.claims.clone(),
        });
        let token = issue(&self.read()?.keys, &claims)?;
        Ok((token, claims))
    }

    /// Retires the signing key and starts signing with a new one; the old
    /// one stays published until its tokens have expired.
    pub fn rotate_signing_key(&self) -> Result<String, ManageError> {
        let now = self.clock.now();
        for key in self
            .store
            .list_keys()?
            .iter()
            .filter(|k| k.retired.is_none())
        {
            self.store.retire_key(&key.kid, now)?;
        }
        let key = SigningKey::generate(format!("k{now}-{}", self.store.list_keys()?.len()), now)?;
        self.store.insert_key(&StoredKey {
            kid: key.kid().to_owned(),
            created: now,
            retired: None,
            pkcs8: key.pkcs8_der().to_vec(),
        })?;
        self.reload()?;
        Ok(key.kid().to_owned())
    }
}

impl Authority {
    /// Holds `value` as `identity`'s own credential for `api`, injected in
    /// place of the API's (same header or query parameter). Sealed before it
    /// is stored; needs `sealing_key`.
    pub fn set_upstream_credential(
        &self,
        identity: &str,
        api: &str,
        value: &str,
    ) -> Result<(), ManageError> {
        self.require_identity(identity)?;
        let key = self.sealing.as_ref().ok_or_else(|| {
            ManageError::Invalid(
                "configure `sealing_key` to hold per-identity upstream credentials".into(),
            )
        })?;
        if !self.forms.contains_key(api) {
            return Err(ManageError::Invalid(format!(
                "API `{api}` has no `upstream_auth`, so there is nowhere to inject a credential"
            )));
        }
        if value.is_empty() || http::HeaderValue::from_str(value).is_err() {
            return Err(ManageError::Invalid(
                "the credential must be non-empty header-safe text".into(),
            ));
        }
        let (nonce, sealed) = key.seal(
            value.as_bytes(),
            &super::open::sealing_context(identity, api),
        )?;
        self.store
            .put_upstream_credential(&portcullis_store::SealedCredential {
                identity: identity.to_owned(),
                api: api.to_owned(),
                nonce,
                sealed,
                created: self.clock.now(),
            })?;
        self.reload()?;
        tracing::info!(identity, api, "per-identity upstream credential set");
        Ok(())
    }

    pub fn remove_upstream_credential(&self, identity: &str, api: &str) -> Result<(), ManageError> {
        self.store.delete_upstream_credential(identity, api)?;
        self.reload()?;
        Ok(())
    }

    /// The identity's own credential for `api`, prepared, if it holds one.
    pub(crate) fn upstream_credential(
        &self,
        identity: &str,
        api: &str,
    ) -> Result<Option<Arc<Injection>>, AuthFailure> {
        Ok(self
            .read()?
            .upstream
            .get(identity)
            .and_then(|apis| apis.get(api))
            .cloned())
    }
}
