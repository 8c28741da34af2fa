//! Who is calling: the outcome of authentication, and why it failed.

use std::sync::Arc;

use portcullis_policy::Delegation;
use portcullis_token::{
    API_KEY_HEADER, Presented, PresentedError, TokenError, hash_secret, presented,
};

use super::Authority;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub identity: String,
    /// The scopes this request may use: the token's, or for an API key the
    /// identity's whole grant (which is why API keys are reported as
    /// long-lived, wide credentials).
    pub scopes: Vec<String>,
    /// The API a token was issued for; `None` for an API key.
    pub audience: Option<String>,
    /// The token's id, for revocation and the audit record.
    pub token_id: Option<String>,
    /// The credential's id (API keys).
    pub credential_id: Option<String>,
    /// Whom the token acts for, when it was exchanged (RFC 8693); then
    /// `identity` is the outermost actor.
    pub delegation: Option<Arc<Delegation>>,
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("no credential")]
    Missing,
    #[error("malformed credential: {0}")]
    Malformed(PresentedError),
    #[error("invalid token: {0}")]
    Token(TokenError),
    #[error("token revoked")]
    Revoked,
    #[error("unknown or unusable credential")]
    UnknownCredential,
    #[error("identity store unavailable")]
    Unavailable,
}

/// Whether an identity may act now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Usable,
    Unusable(portcullis_core::Unusable),
    /// No longer in the inventory.
    Gone,
}

/// Whom an exchanged token acts for, and through whom.
pub(super) fn delegation_of(claims: &portcullis_token::AccessClaims) -> Option<Delegation> {
    match (&claims.act, &claims.person) {
        (Some(act), Some(person)) => Some(Delegation {
            person: claims.sub.clone(),
            issuer: person.iss.clone(),
            claims: person.claims.clone(),
            chain: act.ids().into_iter().map(str::to_owned).collect(),
        }),
        _ => None,
    }
}

impl Authority {
    /// The identities a delegated token was delegated through, beside the
    /// one using it: the rest of its act chain, and the identity it acts
    /// for when that is one of this gateway's (an identity's own token
    /// exchanged). Each must still be usable for the token to be.
    pub fn delegated_through<'a>(
        &self,
        delegation: &'a Delegation,
    ) -> impl Iterator<Item = &'a str> + use<'a> {
        let own = (delegation.issuer == self.settings.issuer).then_some(delegation.person.as_str());
        delegation
            .chain
            .iter()
            .skip(1)
            .map(String::as_str)
            .chain(own)
    }

    /// Whether the identity using a token, and every one it was delegated
    /// through, may act at `now` (what the token endpoint and introspection
    /// ask; the request path asks each in turn, to say which one failed).
    pub(super) fn usable_throughout(
        &self,
        claims: &portcullis_token::AccessClaims,
        now: portcullis_core::UnixTime,
    ) -> Result<bool, AuthFailure> {
        let delegation = delegation_of(claims);
        let through = delegation.iter().flat_map(|d| self.delegated_through(d));
        for id in std::iter::once(claims.acting()).chain(through) {
            if self.standing(id, now)? != Standing::Usable {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Checks an identity's state in place, without copying it (the request
    /// path asks this on every request).
    pub fn standing(
        &self,
        id: &str,
        now: portcullis_core::UnixTime,
    ) -> Result<Standing, AuthFailure> {
        Ok(match self.shared_identity(id)? {
            None => Standing::Gone,
            Some(identity) => match identity.check_usable(now) {
                Ok(()) => Standing::Usable,
                Err(why) => Standing::Unusable(why),
            },
        })
    }

    /// Authenticates the one credential a request's headers carry
    /// (`Authorization: Bearer` or `X-Api-Key`): the gateway, the OAuth
    /// introspection endpoint and the admin listener all ask this.
    pub fn authenticate_headers(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Principal, AuthFailure> {
        let values = |name: &str| -> Vec<Option<&str>> {
            headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().ok())
                .collect()
        };
        let authorization = values(http::header::AUTHORIZATION.as_str());
        let api_key = values(API_KEY_HEADER);
        self.authenticate(presented(&authorization, &api_key))
    }

    /// Authenticates the credential a request presents.
    pub fn authenticate(
        &self,
        presented: Result<Presented<'_>, PresentedError>,
    ) -> Result<Principal, AuthFailure> {
        let presented = presented.map_err(AuthFailure::Malformed)?;
        self.refresh()?;
        let now = self.clock.now();
        let cache = self.read()?;
        match presented {
            Presented::None => Err(AuthFailure::Missing),
            Presented::Bearer(token) => {
                let claims = match self.verified(token, now) {
                    Some(claims) => claims,
                    None => {
                        let claims = self
                            .verifier
                            .verify(token, &cache.keys, now)
                            .map_err(AuthFailure::Token)?;
                        self.remember_verified(token, &claims);
                        claims
                    }
                };
                if cache.revokes(&claims) {
                    return Err(AuthFailure::Revoked);
                }
                // A token for an identity no longer in the inventory is dead.
                drop(cache);
                if self.shared_identity(claims.acting())?.is_none() {
                    return Err(AuthFailure::UnknownCredential);
                }
                let delegation = delegation_of(&claims).map(Arc::new);
                let scopes = claims.scopes().map(str::to_owned).collect();
                // The subject is moved, not copied, unless someone acts for it.
                let identity = match claims.act {
                    Some(act) => act.sub,
                    None => claims.sub,
                };
                Ok(Principal {
                    scopes,
                    identity,
                    audience: Some(claims.aud),
                    token_id: Some(claims.jti),
                    credential_id: None,
                    delegation,
                })
            }
            Presented::ApiKey(key) => {
                // Looked up by hash: the map compares digests, not the secret.
                drop(cache);
                let entry = self
                    .api_key(&hash_secret(key), now)?
                    .ok_or(AuthFailure::UnknownCredential)?;
                if entry.expires <= now {
                    return Err(AuthFailure::UnknownCredential);
                }
                let identity = self
                    .shared_identity(&entry.identity)?
                    .ok_or(AuthFailure::UnknownCredential)?;
                Ok(Principal {
                    identity: identity.id.clone(),
                    scopes: identity.scopes.clone(),
                    audience: None,
                    token_id: None,
                    credential_id: Some(entry.credential.clone()),
                    delegation: None,
                })
            }
        }
    }
}
