//! Subject tokens from trusted issuers: the JWT a person's identity provider
//! issued, presented at the token endpoint for an exchange (RFC 8693), and
//! verified with RFC 8725's discipline.
//!
//! The issuer is read from the token only to choose which configured issuer
//! to verify it as; everything else follows that configuration: the
//! algorithms it is pinned to (the header's `alg` is compared, never
//! obeyed, and `none` is never among them), keys only from the issuer's own
//! set (`jku`, `jwk`, `x5u` are never followed), `aud` required and naming
//! the gateway, `exp` required, `nbf`/`iat` with a bounded leeway.

mod keys;

use jsonwebtoken::Algorithm;
use portcullis_core::UnixTime;
use serde_json::{Map, Value};

use crate::access::MAX_LEEWAY_SECS;
use crate::error::{Claim, TokenError};
use crate::jws::Compact;
use crate::validity::Window;

pub use keys::{IssuerKeys, MAX_ISSUER_KEYS};

/// The longest `kid` read from an issuer's set or a subject token.
pub const MAX_SUBJECT_KID_LEN: usize = 256;

/// The longest `sub` accepted from an issuer, in bytes.
pub const MAX_SUBJECT_LEN: usize = 256;

/// The signature algorithms an issuer can be pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectAlgorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    EdDsa,
}

impl SubjectAlgorithm {
    pub const ALL: [Self; 9] = [
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::EdDsa,
    ];

    /// The JOSE name (case-sensitive, as RFC 7518 registers it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    fn jose(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Rs384 => Algorithm::RS384,
            Self::Rs512 => Algorithm::RS512,
            Self::Ps256 => Algorithm::PS256,
            Self::Ps384 => Algorithm::PS384,
            Self::Ps512 => Algorithm::PS512,
            Self::Es256 => Algorithm::ES256,
            Self::Es384 => Algorithm::ES384,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }

    fn family(self) -> keys::KeyFamily {
        use keys::KeyFamily;
        match self {
            Self::Rs256 | Self::Rs384 | Self::Rs512 | Self::Ps256 | Self::Ps384 | Self::Ps512 => {
                KeyFamily::Rsa
            }
            Self::Es256 => KeyFamily::P256,
            Self::Es384 => KeyFamily::P384,
            Self::EdDsa => KeyFamily::Ed25519,
        }
    }
}

/// What one configured issuer requires of its tokens.
#[derive(Debug, Clone, Copy)]
pub struct SubjectRules<'a> {
    pub issuer: &'a str,
    /// The `aud` value that names this gateway at that issuer.
    pub audience: &'a str,
    /// Pinned: a token signed with anything else is refused.
    pub algorithms: &'a [SubjectAlgorithm],
    /// Clamped to `0..=MAX_LEEWAY_SECS`.
    pub leeway_secs: i64,
}

/// A verified subject token.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectToken {
    pub issuer: String,
    pub sub: String,
    pub jti: Option<String>,
    pub exp: UnixTime,
    /// Who may act for the subject (RFC 8693 section 4.4), when it says.
    pub may_act: Option<Value>,
    /// Every claim, for the configured mapping to read.
    pub claims: Map<String, Value>,
}

/// The `iss` of a token, unverified: only to choose which issuer's rules
/// and keys to verify it with. Also its `kid`, for the key refresh.
pub fn unverified_issuer(token: &str) -> Result<(String, Option<String>), TokenError> {
    let jws = Compact::parse(token)?;
    let claims: Map<String, Value> = jws.claims()?;
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .filter(|i| !i.is_empty())
        .ok_or(TokenError::MissingClaim(Claim::Iss))?;
    Ok((iss.to_owned(), jws.header.kid))
}

/// Verifies `token` as one of `rules.issuer`'s, with its `keys`, at `now`.
/// `TokenError::UnknownKey` means the set may be stale: the caller may
/// refresh it (bounded) and try once more.
pub fn verify_subject(
    token: &str,
    rules: SubjectRules<'_>,
    keys: &IssuerKeys,
    now: UnixTime,
) -> Result<SubjectToken, TokenError> {
    let jws = Compact::parse(token)?;
    let alg = SubjectAlgorithm::parse(jws.alg()?)
        .filter(|a| rules.algorithms.contains(a))
        .ok_or(TokenError::UnsupportedAlgorithm)?;
    let kid = jws.header.kid.as_deref();
    if kid.is_some_and(|k| k.is_empty() || k.len() > MAX_SUBJECT_KID_LEN) {
        return Err(TokenError::UnknownKey);
    }
    let key = keys.select(kid, alg)?;
    jws.verify(&key.key, alg.jose())?;
    if !jws.header.typ.as_deref().is_none_or(is_subject_typ) {
        return Err(TokenError::WrongType);
    }
    let claims: Map<String, Value> = jws.claims()?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(rules.issuer) {
        return Err(TokenError::WrongIssuer);
    }
    let audience_matches = match claims.get("aud") {
        None => return Err(TokenError::MissingClaim(Claim::Aud)),
        Some(Value::String(aud)) => aud == rules.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(rules.audience)),
        Some(_) => return Err(TokenError::Malformed),
    };
    if !audience_matches {
        return Err(TokenError::WrongAudience);
    }
    let exp = numeric_date(&claims, "exp")?.ok_or(TokenError::MissingClaim(Claim::Exp))?;
    let window = Window {
        exp,
        nbf: numeric_date(&claims, "nbf")?,
        iat: numeric_date(&claims, "iat")?,
    };
    window.check(now, rules.leeway_secs.clamp(0, MAX_LEEWAY_SECS))?;
    let sub = text("sub")
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::MissingClaim(Claim::Sub))?;
    if sub.len() > MAX_SUBJECT_LEN || sub.chars().any(char::is_control) {
        return Err(TokenError::WrongSubject);
    }
    let jti = match claims.get("jti") {
        None => None,
        Some(Value::String(j)) if !j.is_empty() && j.len() <= crate::MAX_JTI_LEN => Some(j.clone()),
        Some(_) => return Err(TokenError::Malformed),
    };
    let may_act = claims.get("may_act").cloned();
    if may_act.as_ref().is_some_and(|m| !m.is_object()) {
        return Err(TokenError::Malformed);
    }
    Ok(SubjectToken {
        issuer: rules.issuer.to_owned(),
        sub: sub.to_owned(),
        jti,
        exp,
        may_act,
        claims,
    })
}

/// A NumericDate (RFC 7519 section 2): seconds, fractions allowed (and
/// dropped); any other JSON type is malformed.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<UnixTime>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            // Saturating: `as` clamps a float outside i64's range.
            (None, Some(f)) if f.is_finite() => Ok(Some(f.floor() as i64)),
            _ => Err(TokenError::Malformed),
        },
        Some(_) => Err(TokenError::Malformed),
    }
}

/// The `typ` values a subject token may carry: none, `JWT`, or an access
/// token's (RFC 9068); anything else (a logout token, a security event) is
/// some other kind of JWT and refused (RFC 8725 section 3.11).
fn is_subject_typ(typ: &str) -> bool {
    let typ = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..).unwrap_or(""),
        _ => typ,
    };
    typ.eq_ignore_ascii_case("jwt") || typ.eq_ignore_ascii_case(crate::ACCESS_TOKEN_TYP)
}

#[cfg(test)]
mod tests;
