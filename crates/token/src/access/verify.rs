//! Verifying an access token presented as a bearer credential.
//!
//! The algorithm is pinned to EdDSA and the key is chosen only by `kid` from
//! our own key set; `jku`, `jwk`, `x5u` and friends are never followed.
//! Signature first, then claims: nothing in the claims is trusted before it.
//! Revocation (`jti`) and identity state are the caller's, against storage.

use jsonwebtoken::Algorithm;
use portcullis_core::UnixTime;
use serde::Deserialize;

use super::{ACCESS_TOKEN_TYP, AccessClaims, Actor, Person, delegation};
use crate::error::{Claim, TokenError};
use crate::jws::Compact;
use crate::keys::KeySet;
use crate::validity::Window;

/// The most clock skew a verifier tolerates, in seconds.
pub const MAX_LEEWAY_SECS: i64 = 120;

/// Checks access tokens for one issuer and a set of audiences.
#[derive(Debug, Clone)]
pub struct Verifier {
    issuer: String,
    audiences: Vec<String>,
    // INVARIANT: 0 <= leeway_secs <= MAX_LEEWAY_SECS.
    leeway_secs: i64,
}

/// The claims as found, before each is checked to be present.
#[derive(Deserialize)]
struct Found {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<String>,
    scope: Option<String>,
    exp: Option<UnixTime>,
    iat: Option<UnixTime>,
    nbf: Option<UnixTime>,
    jti: Option<String>,
    act: Option<Actor>,
    person: Option<Person>,
    #[serde(default)]
    exchanged_from: Vec<String>,
}

impl Verifier {
    /// `leeway_secs` is clamped to `0..=MAX_LEEWAY_SECS`; configuration
    /// should refuse a larger value before it gets here.
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>, leeway_secs: i64) -> Self {
        Self {
            issuer: issuer.into(),
            audiences,
            leeway_secs: leeway_secs.clamp(0, MAX_LEEWAY_SECS),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    pub fn leeway_secs(&self) -> i64 {
        self.leeway_secs
    }

    /// The claims of `token` if it is one of ours and valid at `now`.
    pub fn verify(
        &self,
        token: &str,
        keys: &KeySet,
        now: UnixTime,
    ) -> Result<AccessClaims, TokenError> {
        let jws = Compact::parse(token)?;
        // Pinned: the header's `alg` is compared, never obeyed.
        if jws.alg()? != "EdDSA" {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        let kid = jws.header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let key = keys.get(kid).ok_or(TokenError::UnknownKey)?;
        jws.verify(key.decoding_key(), Algorithm::EdDSA)?;

        if !jws.header.typ.as_deref().is_some_and(is_access_token_typ) {
            return Err(TokenError::WrongType);
        }
        let claims = required(jws.claims()?)?;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if !self.audiences.contains(&claims.aud) {
            return Err(TokenError::WrongAudience);
        }
        let window = Window {
            exp: claims.exp,
            nbf: claims.nbf,
            iat: Some(claims.iat),
        };
        window.check(now, self.leeway_secs)?;
        // A retired key vouches only for what it signed while active.
        if key.retired().is_some_and(|at| claims.iat > at) {
            return Err(TokenError::RetiredKey);
        }
        if !claims.scope_is_valid() {
            return Err(TokenError::InvalidScope);
        }
        delegation::check(claims.act.as_ref(), claims.person.as_ref())?;
        Ok(claims)
    }
}

/// `at+jwt`, or the full media type, case-insensitively (RFC 9068 section 4,
/// RFC 7515 section 4.1.9).
fn is_access_token_typ(typ: &str) -> bool {
    let typ = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..).unwrap_or(""),
        _ => typ,
    };
    typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYP)
}

/// Every required claim present and non-empty.
fn required(found: Found) -> Result<AccessClaims, TokenError> {
    fn present(value: Option<String>, claim: Claim) -> Result<String, TokenError> {
        value
            .filter(|v| !v.is_empty())
            .ok_or(TokenError::MissingClaim(claim))
    }
    Ok(AccessClaims {
        iss: present(found.iss, Claim::Iss)?,
        sub: present(found.sub, Claim::Sub)?,
        aud: present(found.aud, Claim::Aud)?,
        exp: found.exp.ok_or(TokenError::MissingClaim(Claim::Exp))?,
        iat: found.iat.ok_or(TokenError::MissingClaim(Claim::Iat))?,
        jti: present(found.jti, Claim::Jti)?,
        scope: found.scope.ok_or(TokenError::MissingClaim(Claim::Scope))?,
        nbf: found.nbf,
        act: found.act,
        person: found.person,
        exchanged_from: found.exchanged_from,
    })
}
