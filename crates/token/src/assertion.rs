//! RFC 7523 `private_key_jwt` client authentication: a client proves who it
//! is with a short-lived JWT signed by a key it registered, so no shared
//! secret exists at all.
//!
//! This module checks one assertion against the client's registered keys.
//! It must not decide replay: the caller keeps every accepted `jti` (per
//! client) until its `exp` plus [`ASSERTION_LEEWAY_SECS`] and refuses a
//! second use. `max_lifetime_secs` bounds how long that memory must be.

mod client_key;

use portcullis_core::UnixTime;
use serde::Deserialize;

use crate::error::{Claim, TokenError};
use crate::jws::Compact;
use crate::validity::Window;

pub use client_key::{ClientKey, ClientKeyAlgorithm};

/// Clock skew tolerated between a client and the gateway, in seconds.
pub const ASSERTION_LEEWAY_SECS: i64 = 30;

/// The longest `jti` accepted, in bytes: the caller stores it.
pub const MAX_JTI_LEN: usize = 256;

/// What the caller needs from a verified assertion to refuse its replay.
/// Only [`verify_assertion`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaims {
    jti: String,
    exp: UnixTime,
}

impl AssertionClaims {
    pub fn jti(&self) -> &str {
        &self.jti
    }

    pub fn exp(&self) -> UnixTime {
        self.exp
    }
}

/// `aud` is a string or an array of strings (RFC 7519 4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Audience::One(a) => a == wanted,
            Audience::Many(all) => all.iter().any(|a| a == wanted),
        }
    }
}

#[derive(Deserialize)]
struct Found {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<UnixTime>,
    nbf: Option<UnixTime>,
    iat: Option<UnixTime>,
    jti: Option<String>,
}

/// Verifies a client assertion for `client_id` at the token endpoint.
///
/// The algorithm comes from the registered key, never from the header. With
/// a `kid` in the header only keys with that `kid` (or none) are tried;
/// without one, every key of the header's algorithm is tried.
pub fn verify_assertion(
    assertion: &str,
    client_id: &str,
    keys: &[ClientKey],
    token_endpoint: &str,
    now: UnixTime,
    max_lifetime_secs: i64,
) -> Result<AssertionClaims, TokenError> {
    let jws = Compact::parse(assertion)?;
    verify_signature(&jws, keys)?;
    let found: Found = jws.claims()?;

    let iss = found.iss.ok_or(TokenError::MissingClaim(Claim::Iss))?;
    if iss != client_id {
        return Err(TokenError::WrongIssuer);
    }
    let sub = found.sub.ok_or(TokenError::MissingClaim(Claim::Sub))?;
    if sub != client_id {
        return Err(TokenError::WrongSubject);
    }
    let aud = found.aud.ok_or(TokenError::MissingClaim(Claim::Aud))?;
    if !aud.contains(token_endpoint) {
        return Err(TokenError::WrongAudience);
    }
    let exp = found.exp.ok_or(TokenError::MissingClaim(Claim::Exp))?;
    let jti = found
        .jti
        .filter(|j| !j.is_empty())
        .ok_or(TokenError::MissingClaim(Claim::Jti))?;
    if jti.len() > MAX_JTI_LEN {
        return Err(TokenError::Malformed);
    }
    let window = Window {
        exp,
        nbf: found.nbf,
        iat: found.iat,
    };
    window.check(now, ASSERTION_LEEWAY_SECS)?;
    // A long-lived assertion is a bearer credential in all but name.
    if exp.saturating_sub(now) > max_lifetime_secs {
        return Err(TokenError::LifetimeTooLong);
    }
    Ok(AssertionClaims { jti, exp })
}

/// The signature against the candidate keys, each with its own algorithm.
fn verify_signature(jws: &Compact<'_>, keys: &[ClientKey]) -> Result<(), TokenError> {
    let alg = jws.alg()?;
    let kid = jws.header.kid.as_deref();
    let mut candidates = keys
        .iter()
        .filter(|k| match (kid, k.kid()) {
            (Some(wanted), Some(has)) => wanted == has,
            _ => true,
        })
        .peekable();
    if candidates.peek().is_none() {
        return Err(TokenError::UnknownKey);
    }
    let mut pinned = candidates
        .filter(|k| k.algorithm().as_str() == alg)
        .peekable();
    if pinned.peek().is_none() {
        return Err(TokenError::UnsupportedAlgorithm);
    }
    let mut outcome = Err(TokenError::BadSignature);
    for key in pinned {
        outcome = jws.verify(key.decoding_key(), key.algorithm().jose());
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// The `sub` of an assertion, NOT verified: only for finding which client's
/// keys to verify it with when the request carries no `client_id`.
pub fn unverified_client_id(assertion: &str) -> Result<String, TokenError> {
    #[derive(Deserialize)]
    struct Sub {
        sub: Option<String>,
    }
    let jws = Compact::parse(assertion)?;
    let found: Sub = jws.claims()?;
    found
        .sub
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::MissingClaim(Claim::Sub))
}

#[cfg(test)]
mod tests;
