//! Access tokens: RFC 9068 JWTs (`typ: at+jwt`) signed with the active
//! Ed25519 key, and their verification with the algorithm pinned.
//!
//! Issuing here only signs what it is given: deciding who may have which
//! scopes for how long is the token endpoint's job. Must never read the
//! clock; every time comes from the caller.

mod delegation;
mod verify;

use jsonwebtoken::{Algorithm, Header};
use portcullis_core::{UnixTime, valid_scope};
use serde::{Deserialize, Serialize};

use crate::error::{Claim, TokenError};
use crate::keys::KeySet;
use crate::{jws, random};

pub use delegation::{Actor, MAX_CHAIN, Person};
pub use verify::{MAX_LEEWAY_SECS, Verifier};

/// The `typ` header of an access token (RFC 9068 section 2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The claims of one access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The identity id the token speaks for; for an exchanged token, the
    /// person (or identity) it acts for, and `act` names who acts.
    pub sub: String,
    /// The API the token is for.
    pub aud: String,
    /// Space-separated scope tokens (RFC 6749 section 3.3); may be empty.
    pub scope: String,
    pub exp: UnixTime,
    pub iat: UnixTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<UnixTime>,
    /// Unique per token, so it can be revoked and audited.
    pub jti: String,
    /// Who acts for `sub` (RFC 8693 section 4.1): the identity using this
    /// token, and nested inside it each identity that delegated to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// Where `sub` comes from when `act` is present: its issuer and the
    /// claims the configuration maps for policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
    /// The revocation ids of every token this one was exchanged from,
    /// transitively: revoking any of them ends this one too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanged_from: Vec<String>,
}

impl AccessClaims {
    /// The scope tokens, in order.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether `scope` is empty or single-space-separated valid scope tokens.
    pub(crate) fn scope_is_valid(&self) -> bool {
        self.scope.is_empty() || self.scope.split(' ').all(valid_scope)
    }

    /// The identity using this token: the outermost actor of an exchanged
    /// token, else the subject.
    pub fn acting(&self) -> &str {
        self.act.as_ref().map_or(&self.sub, |a| &a.sub)
    }

    /// Refuses claims this crate would refuse on the way back in.
    fn check_shape(&self) -> Result<(), TokenError> {
        delegation::check(self.act.as_ref(), self.person.as_ref())?;
        for (value, claim) in [
            (&self.iss, Claim::Iss),
            (&self.sub, Claim::Sub),
            (&self.aud, Claim::Aud),
            (&self.jti, Claim::Jti),
        ] {
            if value.is_empty() {
                return Err(TokenError::MissingClaim(claim));
            }
        }
        if !self.scope_is_valid() {
            return Err(TokenError::InvalidScope);
        }
        Ok(())
    }
}

/// Signs `claims` with the active key: `alg` EdDSA, `typ` at+jwt, `kid` of
/// the active key.
pub fn issue(keys: &KeySet, claims: &AccessClaims) -> Result<String, TokenError> {
    claims.check_shape()?;
    let key = keys.active().ok_or(TokenError::NoActiveKey)?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding_key()).map_err(|_| TokenError::Signing)
}

/// The identity an access token says is using it (its outermost actor, or
/// its subject), NOT verified: only for recording who a refused actor token
/// claimed to be.
pub fn unverified_acting(token: &str) -> Result<String, TokenError> {
    #[derive(Deserialize)]
    struct Acting {
        sub: Option<String>,
        act: Option<Actor>,
    }
    let found: Acting = jws::Compact::parse(token)?.claims()?;
    found
        .act
        .map(|a| a.sub)
        .or(found.sub)
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::MissingClaim(Claim::Sub))
}

/// A fresh `jti`: 128 random bits, base64url (22 characters).
pub fn new_jti() -> Result<String, TokenError> {
    Ok(jws::b64(&random::bytes::<16>()?))
}

#[cfg(test)]
mod tests;
