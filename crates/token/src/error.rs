//! Why a token, key or client credential was refused.
//!
//! Every variant is unit-like (or carries a [`Claim`] name), so a message can
//! never echo a token, a secret or any attacker-chosen text into a log line.
//! Callers map each variant to their own code (`unauthenticated` at the
//! gateway, OAuth `invalid_client` / `invalid_grant` at the token endpoint)
//! with an exhaustive `match`; this module must not know about those codes.

use std::fmt;

/// A registered claim whose absence refused a token or assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Claim {
    Iss,
    Sub,
    Aud,
    Exp,
    Iat,
    Jti,
    Scope,
}

impl Claim {
    /// The claim's name as it appears in a JWT.
    pub fn as_str(self) -> &'static str {
        match self {
            Claim::Iss => "iss",
            Claim::Sub => "sub",
            Claim::Aud => "aud",
            Claim::Exp => "exp",
            Claim::Iat => "iat",
            Claim::Jti => "jti",
            Claim::Scope => "scope",
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the token crate refused something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Longer than the bound checked before any parsing.
    #[error("token is too long")]
    TooLong,
    /// Not three base64url parts holding a JSON header and JSON claims, or a
    /// claim of the wrong JSON type, or a critical header we do not implement.
    #[error("token is malformed")]
    Malformed,
    /// The header names an algorithm other than the one pinned for the key.
    #[error("signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// No `kid`, or a `kid` that names no key we hold.
    #[error("signing key is not known")]
    UnknownKey,
    /// The signature does not verify with the key the token names.
    #[error("signature does not verify")]
    BadSignature,
    /// Signed by a retired key but issued after that key was retired.
    #[error("token was issued after its signing key was retired")]
    RetiredKey,
    /// The `typ` header is not the one this kind of token must carry.
    #[error("token type is not accepted")]
    WrongType,
    #[error("issuer is not accepted")]
    WrongIssuer,
    #[error("subject is not accepted")]
    WrongSubject,
    #[error("audience is not accepted")]
    WrongAudience,
    /// `exp` is in the past beyond the clock leeway.
    #[error("token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future beyond the clock leeway.
    #[error("token is not yet valid")]
    NotYetValid,
    /// A client assertion that lives longer than the server allows.
    #[error("assertion lifetime is too long")]
    LifetimeTooLong,
    /// A required claim is absent (or an empty string).
    #[error("required claim `{0}` is missing")]
    MissingClaim(Claim),
    /// `scope` is not space-separated RFC 6749 scope tokens.
    #[error("scope is not a list of valid scope tokens")]
    InvalidScope,
    /// A key set has no non-retired key to sign with.
    #[error("no active signing key")]
    NoActiveKey,
    /// A key id that is empty, too long, or has characters outside `[A-Za-z0-9._-]`.
    #[error("key id is not 1 to 64 characters of `[A-Za-z0-9._-]`")]
    InvalidKeyId,
    /// Two keys in one set with the same `kid`.
    #[error("key id is already in the key set")]
    DuplicateKeyId,
    /// Stored signing key bytes that are not an Ed25519 PKCS#8 document.
    #[error("signing key is not a valid ed25519 pkcs8 document")]
    InvalidKey,
    /// A client JWK of a type, curve or shape this crate does not accept.
    #[error("client key is not a supported public key")]
    UnsupportedKey,
    /// A client JWK that carries private key material.
    #[error("client key contains private key material")]
    PrivateKeyMaterial,
    #[error("signing key could not be generated")]
    KeyGeneration,
    #[error("random number generator failed")]
    Randomness,
    #[error("token could not be signed")]
    Signing,
}
