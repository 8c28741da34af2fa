//! The grant decision: which scopes and how long, for an authenticated
//! client. Least privilege: the client must name the scopes it wants, each
//! must be among the identity's grantable scopes, and the lifetime is the
//! smaller of what was asked and the configured maximum.

use super::{OAuthError, OAuthErrorCode};

/// Configured token lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantLimits {
    pub default_ttl: i64,
    pub max_ttl: i64,
}

/// What a token will carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub scopes: Vec<String>,
    pub lifetime: i64,
}

/// Decides a grant. `grantable` are the identity's scopes.
pub fn grant(
    requested: &[String],
    grantable: &[String],
    lifetime: Option<i64>,
    limits: GrantLimits,
) -> Result<Grant, OAuthError> {
    if requested.is_empty() {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            "request the scopes the token needs with `scope`",
        ));
    }
    if let Some(extra) = requested.iter().find(|s| !grantable.contains(s)) {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            format!("scope `{extra}` is not granted to this client"),
        ));
    }
    let lifetime = lifetime
        .unwrap_or(limits.default_ttl)
        .min(limits.max_ttl)
        .max(1);
    Ok(Grant {
        scopes: requested.to_vec(),
        lifetime,
    })
}
