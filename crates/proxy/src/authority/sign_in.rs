//! Signing in to the web console, and whether a console session's
//! credential still stands.
//!
//! A sign-in is checked as the token endpoint checks a client: an API key
//! by its hash (only a key usable now is found), a client secret against
//! the client's usable secrets, with the same constant-time comparison,
//! and failures counted by the same throttle (a client id tried too often
//! is locked before its secret is checked; API keys are counted per
//! address, since they name no client). What the session may then do is
//! decided on every request (identity state, scope, this credential), not
//! here.

use std::net::IpAddr;
use std::time::Duration;

use portcullis_store::CredentialKind;
use portcullis_token::{hash_secret, verify_secret};

use super::Authority;

/// Who signed in, with which credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub identity: String,
    pub credential_id: String,
}

/// Why a sign-in did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignInFailure {
    /// One answer for an unknown client, a wrong secret, an unusable key.
    #[error("the credential was not accepted")]
    Refused,
    #[error("too many failed sign-ins; wait {0:?}")]
    Throttled(Duration),
    #[error("the identity store is unavailable")]
    Unavailable,
}

impl Authority {
    /// Checks an API key (`client_id` absent) or a client's secret, from
    /// `source`.
    ///
    /// # Errors
    /// [`SignInFailure`]; a store fault is `Unavailable`, never a pass.
    pub fn sign_in(
        &self,
        client_id: Option<&str>,
        secret: &str,
        source: IpAddr,
    ) -> Result<SignedIn, SignInFailure> {
        self.refresh().map_err(|_| SignInFailure::Unavailable)?;
        let now = self.clock.now();
        let tried = match client_id {
            Some(id) => id.to_owned(),
            None => format!("api-key@{source}"),
        };
        if let Some(wait) = self.throttle.locked(&tried) {
            return Err(SignInFailure::Throttled(wait));
        }
        let found = match client_id {
            None => self
                .api_key(&hash_secret(secret), now)
                .map_err(|_| SignInFailure::Unavailable)?
                .filter(|key| key.expires > now)
                .map(|key| SignedIn {
                    identity: key.identity.clone(),
                    credential_id: key.credential.clone(),
                }),
            Some(id) => self.client_secret(id, secret, now)?,
        };
        match found {
            Some(signed_in) => Ok(signed_in),
            None => {
                tracing::info!(client_id = %tried, %source, "console sign-in failed");
                Err(match self.throttle.failed(&tried, source) {
                    Some(wait) => SignInFailure::Throttled(wait),
                    None => SignInFailure::Refused,
                })
            }
        }
    }

    /// The usable client secret of `client_id` that `secret` matches.
    fn client_secret(
        &self,
        client_id: &str,
        secret: &str,
        now: i64,
    ) -> Result<Option<SignedIn>, SignInFailure> {
        let credentials = self
            .store
            .list_credentials(client_id)
            .map_err(|_| SignInFailure::Unavailable)?;
        let mut matched = None;
        // Every usable secret is compared, so the time taken does not say
        // which one matched.
        for c in credentials
            .iter()
            .filter(|c| c.kind == CredentialKind::ClientSecret && c.is_usable(now))
        {
            if let Some(hash) = &c.secret_hash
                && verify_secret(secret, hash)
            {
                matched = Some(c.id.clone());
            }
        }
        if credentials.is_empty() {
            // About the same work for an unknown client as for a known one
            // (one hash; SHA-256 of a short secret is cheap either way).
            let _ = verify_secret(secret, &hash_secret("portcullis-no-such-client"));
        }
        Ok(matched.map(|credential_id| SignedIn {
            identity: client_id.to_owned(),
            credential_id,
        }))
    }

    /// Whether `identity`'s credential `credential_id` is still usable now
    /// (not revoked, not expired, still there).
    ///
    /// # Errors
    /// The store does not answer.
    pub fn credential_usable(
        &self,
        identity: &str,
        credential_id: &str,
    ) -> Result<bool, portcullis_store::StoreError> {
        let now = self.clock.now();
        Ok(self
            .store
            .list_credentials(identity)?
            .iter()
            .any(|c| c.id == credential_id && c.is_usable(now)))
    }
}
