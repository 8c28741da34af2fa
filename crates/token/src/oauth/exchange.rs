//! RFC 8693 token exchange: the request's parameters, and the decision
//! that turns a verified subject token and an authenticated actor into the
//! claims of a delegated token.
//!
//! The decision only narrows. The scopes are a subset of both the actor's
//! grant and what the subject token allows; the lifetime ends no later than
//! the subject token and the configured maxima; the act chain grows by one
//! identity and never past the configured length. Verifying the subject
//! token, and whether this actor may delegate at all, are the caller's.
//!
//! Errors follow RFC 8693 section 2.2.2: a subject or actor token that is
//! invalid or unacceptable by policy is `invalid_request`, an audience the
//! server does not serve is `invalid_target`, a scope outside what may be
//! granted is `invalid_scope`.

use portcullis_core::UnixTime;
use serde_json::{Map, Value, json};

use super::{GrantLimits, OAuthError, OAuthErrorCode, Params, invalid_request};
use crate::access::{Actor, Person};

/// The token-exchange grant type (RFC 8693 section 2.1).
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// Token type of an OAuth access token (RFC 8693 section 3).
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Token type of a JWT (RFC 8693 section 3): an IdP's token in JWT form.
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// The parameters only the token-exchange grant takes.
pub(super) const PARAMETERS: [&str; 5] = [
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
];

/// What a token-exchange request exchanges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRequest {
    pub subject_token: String,
    /// [`ACCESS_TOKEN_TYPE`] or [`JWT_TOKEN_TYPE`]; both are read as JWTs.
    pub subject_token_type: String,
}

/// Reads the exchange parameters; the actor token, when given, goes to the
/// caller as the client's authentication.
pub(super) fn parse(params: &Params) -> Result<(ExchangeRequest, Option<String>), OAuthError> {
    let get = |name: &str| params.get(name).filter(|v| !v.is_empty());
    let subject_token = get("subject_token")
        .ok_or_else(|| invalid_request("`subject_token` is required"))?
        .to_owned();
    let subject_token_type = get("subject_token_type")
        .ok_or_else(|| invalid_request("`subject_token_type` is required"))?;
    if !is_jwt_type(subject_token_type) {
        return Err(invalid_request(&format!(
            "`subject_token_type` must be `{ACCESS_TOKEN_TYPE}` or `{JWT_TOKEN_TYPE}`"
        )));
    }
    let actor_token = match (get("actor_token"), get("actor_token_type")) {
        (None, None) => None,
        (Some(token), Some(kind)) if is_jwt_type(kind) => Some(token.to_owned()),
        (Some(_), Some(_)) => {
            return Err(invalid_request(&format!(
                "`actor_token_type` must be `{ACCESS_TOKEN_TYPE}` or `{JWT_TOKEN_TYPE}`"
            )));
        }
        _ => {
            return Err(invalid_request(
                "`actor_token` and `actor_token_type` go together",
            ));
        }
    };
    if get("requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
        return Err(invalid_request(&format!(
            "`requested_token_type` can only be `{ACCESS_TOKEN_TYPE}`"
        )));
    }
    let request = ExchangeRequest {
        subject_token,
        subject_token_type: subject_token_type.to_owned(),
    };
    Ok((request, actor_token))
}

fn is_jwt_type(kind: &str) -> bool {
    kind == ACCESS_TOKEN_TYPE || kind == JWT_TOKEN_TYPE
}

/// A subject token, verified by the caller, as the decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectView {
    /// Who is acted for: the IdP's `sub`, or an identity's id.
    pub person: String,
    pub issuer: String,
    /// The claims the configuration maps, by their mapped names.
    pub claims: Map<String, Value>,
    /// The scopes the subject token allows.
    pub allows: Vec<String>,
    pub exp: UnixTime,
    /// The act chain the subject token already carries, outermost first.
    pub chain: Vec<String>,
    /// Revocation ids of the subject token and of everything it came from.
    pub sources: Vec<String>,
    /// The subject token's `may_act` claim.
    pub may_act: Option<Value>,
    /// The API a subject token of this gateway's own is bound to.
    pub audience: Option<String>,
}

/// The configured bounds on delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationLimits {
    /// The longest act chain an issued token may carry.
    pub max_chain: usize,
    /// The longest lifetime of an exchanged token, in seconds.
    pub max_ttl: i64,
    /// This gateway's issuer, as a `may_act` may name it.
    pub issuer: String,
}

/// The delegated token's claims, less `iss`, `aud`, `iat` and `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchanged {
    pub sub: String,
    pub scopes: Vec<String>,
    pub lifetime: i64,
    pub act: Actor,
    pub person: Person,
    pub exchanged_from: Vec<String>,
}

/// What one exchange asks for, beside the subject token.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeAsk<'a> {
    /// The authenticated acting identity.
    pub actor: &'a str,
    /// Its grantable scopes.
    pub actor_grant: &'a [String],
    pub requested: &'a [String],
    /// The API the token is for, already resolved by the caller.
    pub audience: &'a str,
    pub lifetime: Option<i64>,
}

/// Decides an exchange.
pub fn exchange(
    ask: ExchangeAsk<'_>,
    subject: &SubjectView,
    limits: GrantLimits,
    delegation: &DelegationLimits,
    now: UnixTime,
) -> Result<Exchanged, OAuthError> {
    if subject
        .audience
        .as_deref()
        .is_some_and(|a| a != ask.audience)
    {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidTarget,
            "the subject token is for another API; an exchange keeps its audience",
        ));
    }
    if let Some(may_act) = &subject.may_act {
        let named = may_act.get("sub").and_then(Value::as_str) == Some(ask.actor)
            && may_act
                .get("iss")
                .is_none_or(|iss| iss.as_str() == Some(&delegation.issuer));
        if !named {
            return Err(invalid_request(
                "the subject token's `may_act` does not name this actor",
            ));
        }
    }
    if subject.chain.iter().any(|id| id == ask.actor)
        || (subject.issuer == delegation.issuer && subject.person == ask.actor)
    {
        return Err(invalid_request(
            "this actor is already in the subject token's chain",
        ));
    }
    let mut chain = Vec::with_capacity(subject.chain.len() + 1);
    chain.push(ask.actor);
    chain.extend(subject.chain.iter().map(String::as_str));
    if chain.len() > delegation.max_chain {
        return Err(invalid_request(&format!(
            "the act chain would be {} long; at most {} is allowed",
            chain.len(),
            delegation.max_chain
        )));
    }
    let scopes = intersect(ask.requested, ask.actor_grant, &subject.allows)?;
    let remaining = subject.exp.saturating_sub(now);
    if remaining < 1 {
        return Err(invalid_request("the subject token has expired"));
    }
    let lifetime = ask
        .lifetime
        .unwrap_or(limits.default_ttl)
        .min(limits.max_ttl)
        .min(delegation.max_ttl)
        .max(1)
        .min(remaining);
    let act = Actor::chain(&chain).ok_or_else(|| invalid_request("no actor"))?;
    Ok(Exchanged {
        sub: subject.person.clone(),
        scopes,
        lifetime,
        act,
        person: Person {
            iss: subject.issuer.clone(),
            claims: subject.claims.clone(),
        },
        exchanged_from: subject.sources.clone(),
    })
}

/// The requested scopes, each of which both sides must allow.
fn intersect(
    requested: &[String],
    actor_grant: &[String],
    allows: &[String],
) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            "request the scopes the token needs with `scope`",
        ));
    }
    for scope in requested {
        let why = if !actor_grant.contains(scope) {
            "is not granted to this client"
        } else if !allows.contains(scope) {
            "is not allowed by the subject token"
        } else {
            continue;
        };
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            format!("scope `{scope}` {why}"),
        ));
    }
    Ok(requested.to_vec())
}

/// The successful exchange response (RFC 8693 section 2.2.1).
pub fn exchange_response(access_token: &str, lifetime: i64, scopes: &[String]) -> Value {
    json!({
        "access_token": access_token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scopes.join(" "),
    })
}

#[cfg(test)]
mod tests;
