//! The token-exchange grant (RFC 8693): an authenticated actor, listed in
//! `delegation.actors`, presents a subject token (a person's, from a trusted
//! issuer, or one of this gateway's own) and receives a token whose `sub` is
//! that person and whose `act` chain ends with the actor.
//!
//! Order: a subject token naming a key its issuer's set lacks first has the
//! set read again (before the client authenticates, so a retry never
//! replays a client assertion); then the actor authenticates, exactly as for
//! client credentials (failures count against the same throttle); then the
//! subject token is verified, and the pure decision (`oauth::exchange`)
//! narrows scopes, lifetime and chain.

use std::net::IpAddr;
use std::sync::Arc;

use portcullis_policy::Delegation;
use portcullis_token::oauth::{
    DelegationLimits, ExchangeAsk, ExchangeRequest, OAuthError, OAuthErrorCode, TokenRequest,
    exchange, exchange_response,
};
use portcullis_token::subject::unverified_issuer;
use portcullis_token::{AccessClaims, new_jti};
use serde_json::Value;

use super::delegation::Issuers;
use super::token_endpoint::TokenIssued;
use super::{Authority, secs};

impl Authority {
    /// Handles a token-exchange request; the token's delegation comes back
    /// for the record.
    pub(super) fn exchange_token(
        &self,
        request: &TokenRequest,
        asked: &ExchangeRequest,
        tried: &str,
        source: IpAddr,
    ) -> Result<(Value, Arc<Delegation>), TokenIssued> {
        let Some(issuers) = &self.issuers else {
            return Err(not_configured().into());
        };
        if let Some(index) = stale_issuer(issuers, &asked.subject_token) {
            return Err(TokenIssued::KeysStale(index));
        }
        self.refresh().map_err(|_| TokenIssued::Unavailable)?;
        let now = self.clock.now();
        let (client, identity) = self.authenticated_client(&request.client, tried, source, now)?;
        let ask = Ask {
            subject_token: &asked.subject_token,
            scopes: &request.scopes,
            resource: request.resource.as_deref(),
            lifetime: request.lifetime,
        };
        let issued = self.exchange_as(issuers, &identity, client.token, &ask, now)?;
        Ok((
            exchange_response(&issued.token, issued.lifetime, &issued.scopes),
            issued.delegation,
        ))
    }

    /// An exchange made by someone who holds the store (`portcullis token
    /// exchange`): `identity` acts without a client credential, under every
    /// other rule of the grant. Reads the issuer's key set again first when
    /// the subject token names a key it lacks (bounded, as for the endpoint).
    ///
    /// # Errors
    /// The grant's own refusals (`TokenIssued::Refused`), or `Unavailable`.
    pub async fn exchange_for(
        &self,
        identity: &str,
        subject_token: &str,
        scopes: &[String],
        resource: Option<&str>,
        lifetime: Option<i64>,
    ) -> Result<(String, AccessClaims), TokenIssued> {
        let Some(issuers) = &self.issuers else {
            return Err(not_configured().into());
        };
        if let Some(index) = stale_issuer(issuers, subject_token) {
            issuers.refresh(index).await;
        }
        self.refresh().map_err(|_| TokenIssued::Unavailable)?;
        let now = self.clock.now();
        let found = self
            .identity(identity)
            .map_err(|_| TokenIssued::Unavailable)?
            .filter(|i| i.check_usable(now).is_ok())
            .ok_or_else(|| {
                OAuthError::new(
                    OAuthErrorCode::UnauthorizedClient,
                    "the identity is not in the inventory or not active",
                )
            })?;
        let ask = Ask {
            subject_token,
            scopes,
            resource,
            lifetime,
        };
        let issued = self.exchange_as(issuers, &found, None, &ask, now)?;
        Ok((issued.token, issued.claims))
    }

    /// The grant for an authenticated, usable `identity`.
    fn exchange_as(
        &self,
        issuers: &Issuers,
        identity: &portcullis_core::Identity,
        actor_token: Option<String>,
        asked: &Ask<'_>,
        now: i64,
    ) -> Result<Issued, TokenIssued> {
        if !issuers.settings.actors.contains(&identity.id) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "this identity may not act for others (it is not in `delegation.actors`)",
            )
            .recorded_as(portcullis_core::ProblemCode::Forbidden)
            .into());
        }
        let subject = self.subject_view(issuers, asked.subject_token, now)?;
        let audience = match (asked.resource, &subject.audience) {
            (None, Some(api)) => api.clone(),
            (resource, _) => self.audience(resource).map_err(|e| match resource {
                Some(_) => OAuthError::new(
                    OAuthErrorCode::InvalidTarget,
                    "`resource` must name one of the gateway's APIs",
                ),
                None => e,
            })?,
        };
        let limits = self.grant_limits();
        let bounds = DelegationLimits {
            max_chain: issuers.settings.max_chain,
            max_ttl: secs(issuers.settings.max_ttl),
            issuer: self.settings.issuer.clone(),
        };
        let ask = ExchangeAsk {
            actor: &identity.id,
            actor_grant: &identity.scopes,
            requested: asked.scopes,
            audience: &audience,
            lifetime: asked.lifetime,
        };
        let mut issued = exchange(ask, &subject, limits, &bounds, now)?;
        // Revoking the actor token the actor authenticated with ends this one.
        issued.exchanged_from.extend(actor_token);
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: issued.sub,
            aud: audience,
            scope: issued.scopes.join(" "),
            exp: now + issued.lifetime,
            iat: now,
            nbf: None,
            jti: new_jti().map_err(|_| TokenIssued::Unavailable)?,
            act: Some(issued.act),
            person: Some(issued.person),
            exchanged_from: issued.exchanged_from,
        };
        let token = self.sign(&claims)?;
        self.touch(&identity.id, now);
        let delegation = super::principal::delegation_of(&claims)
            .map(Arc::new)
            .ok_or(TokenIssued::Unavailable)?;
        tracing::info!(
            identity = %identity.id,
            person = %claims.sub,
            issuer = %delegation.issuer,
            chain = ?delegation.chain,
            audience = %claims.aud,
            scope = %claims.scope,
            jti = %claims.jti,
            lifetime = issued.lifetime,
            "token exchanged"
        );
        Ok(Issued {
            token,
            lifetime: issued.lifetime,
            scopes: issued.scopes,
            claims,
            delegation,
        })
    }

    /// Reads the key set of issuer `index` again (bounded: at most once per
    /// its `jwks_refresh`), after `KeysStale`.
    pub async fn refresh_issuer_keys(&self, index: usize) {
        if let Some(issuers) = &self.issuers {
            issuers.refresh(index).await;
        }
    }
}

/// What one exchange asks for.
struct Ask<'a> {
    subject_token: &'a str,
    scopes: &'a [String],
    resource: Option<&'a str>,
    lifetime: Option<i64>,
}

/// A token the grant issued, with what the answer and the record need.
struct Issued {
    token: String,
    lifetime: i64,
    scopes: Vec<String>,
    claims: AccessClaims,
    delegation: Arc<Delegation>,
}

fn not_configured() -> OAuthError {
    OAuthError::new(
        OAuthErrorCode::UnsupportedGrantType,
        "token exchange is not configured on this gateway (`delegation`)",
    )
}

/// The index of the configured issuer whose key set a subject token needs
/// read again: the set was never read, or lacks the token's `kid`, and may
/// be read now. Reads nothing of the token but its `iss` and `kid`.
fn stale_issuer(issuers: &Issuers, token: &str) -> Option<usize> {
    let (iss, kid) = unverified_issuer(token).ok()?;
    let index = issuers
        .settings
        .issuers
        .iter()
        .position(|i| i.issuer == iss)?;
    issuers.needs_keys(index, kid.as_deref()).then_some(index)
}
