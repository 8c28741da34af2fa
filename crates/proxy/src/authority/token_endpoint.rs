//! `POST /oauth/token`: client credentials in, a short-lived, least-scope
//! access token out; or, for a token exchange (RFC 8693, `exchange.rs`), a
//! subject token and an authenticated actor in, a delegated token out.
//! Errors are RFC 6749's (and RFC 8693's); a store fault is `Unavailable`
//! and never a token.

use std::net::IpAddr;

use portcullis_store::{CredentialKind, Store};
use portcullis_token::oauth::{
    ClientAuth, OAuthError, OAuthErrorCode, TokenRequest, grant, parse_token_request,
    token_response,
};
use portcullis_token::{
    AccessClaims, ClientKey, TokenError, hash_secret, issue, new_jti, unverified_acting,
    unverified_client_id, verify_assertion, verify_secret,
};
use serde_json::Value;

use super::Authority;

/// Longest lifetime accepted for a client assertion.
const MAX_ASSERTION_LIFETIME: i64 = 300;

/// The token endpoint's outcome other than success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenIssued {
    #[error("{0}")]
    Refused(OAuthError),
    /// Too many failed client authentications (for this client id, or from
    /// this address): try again after this long.
    #[error("too many failed client authentications")]
    Throttled(std::time::Duration),
    #[error("the identity store is unavailable")]
    Unavailable,
    /// A token exchange's subject token names a key its issuer's set (at
    /// this index in `delegation.issuers`) lacks, and the set may be read
    /// again: the caller reads it (`Authority::refresh_issuer_keys`) and
    /// asks once more. Never an answer.
    #[error("the issuer's key set needs reading again")]
    KeysStale(usize),
}

/// One token request: the client id it tried (for the record, whether or
/// not it authenticated) and its outcome.
#[derive(Debug)]
pub struct TokenAttempt {
    pub client_id: Option<String>,
    pub result: Result<Value, TokenIssued>,
    /// For an exchange that issued a token: whom it acts for.
    pub delegation: Option<std::sync::Arc<portcullis_policy::Delegation>>,
}

/// An authenticated client: its identity id, and the actor token's id when
/// it authenticated with one (a token exchange), which the exchanged token
/// then depends on.
pub(super) struct Client {
    pub(super) id: String,
    pub(super) token: Option<String>,
}

impl From<OAuthError> for TokenIssued {
    fn from(e: OAuthError) -> Self {
        Self::Refused(e)
    }
}

fn client_failed() -> TokenIssued {
    // One answer for an unknown client, a wrong secret, a bad assertion: the
    // endpoint must not say which client ids exist.
    TokenIssued::Refused(OAuthError::new(
        OAuthErrorCode::InvalidClient,
        "client authentication failed",
    ))
}

impl Authority {
    /// Handles a token request from `source`; the outcome carries the RFC
    /// 6749 response body.
    pub fn token(&self, body: &[u8], authorization: Option<&str>, source: IpAddr) -> TokenAttempt {
        let request = match parse_token_request(body, authorization) {
            Ok(r) => r,
            Err(e) => {
                return TokenAttempt {
                    client_id: None,
                    result: Err(e.into()),
                    delegation: None,
                };
            }
        };
        let client_id = match &request.client {
            ClientAuth::Secret { client_id, .. } => Some(client_id.clone()),
            ClientAuth::Assertion {
                client_id,
                assertion,
            } => client_id
                .clone()
                .or_else(|| unverified_client_id(assertion).ok()),
            ClientAuth::ActorToken(token) => unverified_acting(token).ok(),
        };
        let tried = client_id.as_deref().unwrap_or("");
        let (result, delegation) = match &request.exchange {
            None => (self.grant_token(&request, tried, source), None),
            Some(exchange) => match self.exchange_token(&request, exchange, tried, source) {
                Ok((document, delegation)) => (Ok(document), Some(delegation)),
                Err(e) => (Err(e), None),
            },
        };
        TokenAttempt {
            client_id,
            result,
            delegation,
        }
    }

    /// Authenticates the client, counting failures against `tried` and
    /// `source`, and returns its identity if it may act now.
    pub(super) fn authenticated_client(
        &self,
        client: &ClientAuth,
        tried: &str,
        source: IpAddr,
        now: i64,
    ) -> Result<(Client, portcullis_core::Identity), TokenIssued> {
        if let Some(wait) = self.throttle.locked(tried) {
            return Err(TokenIssued::Throttled(wait));
        }
        let client = match self.authenticate_client(client, now) {
            Ok(client) => client,
            Err(TokenIssued::Refused(e)) => {
                tracing::info!(client_id = %tried, %source, "client authentication failed");
                return Err(match self.throttle.failed(tried, source) {
                    Some(wait) => TokenIssued::Throttled(wait),
                    None => TokenIssued::Refused(e),
                });
            }
            Err(other) => return Err(other),
        };
        let identity = self
            .identity(&client.id)
            .map_err(|_| TokenIssued::Unavailable)?
            .ok_or_else(client_failed)?;
        if identity.check_usable(now).is_err() {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "the identity is not active",
            )
            .into());
        }
        Ok((client, identity))
    }

    /// The client-credentials grant.
    fn grant_token(
        &self,
        request: &TokenRequest,
        tried: &str,
        source: IpAddr,
    ) -> Result<Value, TokenIssued> {
        self.refresh().map_err(|_| TokenIssued::Unavailable)?;
        let now = self.clock.now();
        let (_, identity) = self.authenticated_client(&request.client, tried, source, now)?;
        let audience = self.audience(request.resource.as_deref())?;
        let limits = self.grant_limits();
        let granted = grant(&request.scopes, &identity.scopes, request.lifetime, limits)?;
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: identity.id.clone(),
            aud: audience,
            scope: granted.scopes.join(" "),
            exp: now + granted.lifetime,
            iat: now,
            nbf: None,
            jti: new_jti().map_err(|_| TokenIssued::Unavailable)?,
            act: None,
            person: None,
            exchanged_from: Vec::new(),
        };
        let token = self.sign(&claims)?;
        self.touch(&identity.id, now);
        tracing::info!(identity = %identity.id, audience = %claims.aud, scope = %claims.scope, jti = %claims.jti, lifetime = granted.lifetime, "token issued");
        Ok(token_response(&token, granted.lifetime, &granted.scopes))
    }

    /// Signs `claims` with the active key.
    pub(super) fn sign(&self, claims: &AccessClaims) -> Result<String, TokenIssued> {
        let cache = self.read().map_err(|_| TokenIssued::Unavailable)?;
        issue(&cache.keys, claims).map_err(|e| {
            tracing::error!(error = %e, "could not sign a token");
            TokenIssued::Unavailable
        })
    }

    /// The API a token is for: its name or mount; optional when there is one API.
    ///
    /// # Errors
    /// `invalid_request`: no such API, or none named where there are several.
    pub fn audience(&self, resource: Option<&str>) -> Result<String, OAuthError> {
        let invalid = || {
            OAuthError::new(
                OAuthErrorCode::InvalidRequest,
                "`resource` must name one of the gateway's APIs",
            )
        };
        let Some(resource) = resource else {
            return match self.apis.as_slice() {
                [(name, _)] => Ok(name.clone()),
                _ => Err(OAuthError::new(
                    OAuthErrorCode::InvalidRequest,
                    "name the API with `resource`",
                )),
            };
        };
        let path = resource
            .strip_prefix(self.base_url.as_str())
            .unwrap_or(resource);
        self.apis
            .iter()
            .find(|(name, mount)| name == resource || mount == path)
            .map(|(name, _)| name.clone())
            .ok_or_else(invalid)
    }

    /// Checks the client's secret, assertion or actor token.
    pub(super) fn authenticate_client(
        &self,
        client: &ClientAuth,
        now: i64,
    ) -> Result<Client, TokenIssued> {
        let store: &dyn Store = self.store.as_ref();
        let id = match client {
            ClientAuth::ActorToken(token) => return self.actor_token(token, now),
            ClientAuth::Secret { client_id, secret } => {
                let credentials = store
                    .list_credentials(client_id)
                    .map_err(|_| TokenIssued::Unavailable)?;
                let mut matched = false;
                for c in credentials
                    .iter()
                    .filter(|c| c.kind == CredentialKind::ClientSecret && c.is_usable(now))
                {
                    if let Some(hash) = &c.secret_hash {
                        matched |= verify_secret(secret, hash);
                    }
                }
                if credentials.is_empty() {
                    // Same work for an unknown client as for a known one.
                    let _ = verify_secret(secret, &hash_secret("portcullis-no-such-client"));
                }
                if matched {
                    client_id.clone()
                } else {
                    return Err(client_failed());
                }
            }
            ClientAuth::Assertion {
                client_id,
                assertion,
            } => {
                let client_id = match client_id {
                    Some(id) => id.clone(),
                    None => unverified_client_id(assertion).map_err(|_| client_failed())?,
                };
                let keys: Vec<ClientKey> = store
                    .list_credentials(&client_id)
                    .map_err(|_| TokenIssued::Unavailable)?
                    .iter()
                    .filter(|c| c.kind == CredentialKind::PrivateKeyJwt && c.is_usable(now))
                    .filter_map(|c| {
                        c.public_jwk
                            .as_ref()
                            .and_then(|j| ClientKey::from_jwk(j).ok())
                    })
                    .collect();
                let endpoint = format!("{}/oauth/token", self.base_url);
                let verified = match verify_assertion(
                    assertion,
                    &client_id,
                    &keys,
                    &endpoint,
                    now,
                    MAX_ASSERTION_LIFETIME,
                ) {
                    // RFC 7523 also allows the issuer identifier as audience.
                    Err(TokenError::WrongAudience) => verify_assertion(
                        assertion,
                        &client_id,
                        &keys,
                        &self.settings.issuer,
                        now,
                        MAX_ASSERTION_LIFETIME,
                    ),
                    other => other,
                }
                .map_err(|_| client_failed())?;
                let fresh = store
                    .record_assertion(&client_id, verified.jti(), verified.exp(), now)
                    .map_err(|_| TokenIssued::Unavailable)?;
                if !fresh {
                    return Err(OAuthError::new(
                        OAuthErrorCode::InvalidClient,
                        "client assertion was already used",
                    )
                    .into());
                }
                client_id
            }
        };
        Ok(Client { id, token: None })
    }

    /// An actor token: the acting identity's own access token from this
    /// gateway, not revoked and not itself delegated (an exchanged token
    /// acts for someone; it cannot stand for the actor).
    fn actor_token(&self, token: &str, now: i64) -> Result<Client, TokenIssued> {
        let cache = self.read().map_err(|_| TokenIssued::Unavailable)?;
        let claims = self
            .verifier
            .verify(token, &cache.keys, now)
            .map_err(|_| client_failed())?;
        if cache.revoked.contains(&claims.jti) || claims.act.is_some() {
            return Err(client_failed());
        }
        Ok(Client {
            id: claims.sub,
            token: Some(claims.jti),
        })
    }
}
