//! The token endpoint's request and answers (RFC 6749 section 4.4, client
//! credentials; RFC 8693, token exchange, in `exchange`; client
//! authentication per section 2.3 and RFC 7523).
//!
//! Parsing only: which client this is, what it asks for, and the RFC 6749
//! error shape. Checking the secret or assertion against storage, and the
//! grant decision, belong to the caller and [`grant`]. It must never accept
//! a request it had to guess about: repeated parameters, two ways of
//! authenticating at once and unknown grant types are refused.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

mod exchange;
mod grant;

pub use exchange::{
    ACCESS_TOKEN_TYPE, DelegationLimits, ExchangeAsk, ExchangeRequest, Exchanged, JWT_TOKEN_TYPE,
    SubjectView, TOKEN_EXCHANGE, exchange, exchange_response,
};
pub use grant::{Grant, GrantLimits, grant};

/// `client_assertion_type` for RFC 7523 JWT client assertions.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The RFC 6749 section 5.2 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8693 section 2.2.2: the audience or resource is not one the
    /// server issues tokens for.
    InvalidTarget,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
        }
    }

    /// 401 for a failed client authentication (with `WWW-Authenticate`), 400 otherwise.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            _ => 400,
        }
    }
}

/// A refusal at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    code: OAuthErrorCode,
    description: String,
    /// The catalogue code to record it under, when the OAuth code alone
    /// would say less (`unauthorized_client` covers both a suspended client
    /// and one not allowed to delegate).
    recorded: Option<portcullis_core::ProblemCode>,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            recorded: None,
        }
    }

    /// Records this refusal under `code` in the ledger and metrics.
    #[must_use]
    pub fn recorded_as(mut self, code: portcullis_core::ProblemCode) -> Self {
        self.recorded = Some(code);
        self
    }

    /// The catalogue code given by [`Self::recorded_as`], if any.
    pub fn recorded(&self) -> Option<portcullis_core::ProblemCode> {
        self.recorded
    }

    pub fn code(&self) -> OAuthErrorCode {
        self.code
    }

    /// The `error_description`: what was wrong, for a person.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The body: `{"error": ..., "error_description": ...}`.
    pub fn to_json(&self) -> Value {
        json!({ "error": self.code.as_str(), "error_description": self.description })
    }
}

pub(crate) fn invalid_request(description: &str) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidRequest, description)
}

/// How the client proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic` or `client_secret_post`.
    Secret { client_id: String, secret: String },
    /// `private_key_jwt`; `client_id` is optional in the body (RFC 7523 3).
    Assertion {
        client_id: Option<String>,
        assertion: String,
    },
    /// Token exchange only: the acting identity's own access token as the
    /// `actor_token` (RFC 8693 section 2.1), in place of a client credential.
    ActorToken(String),
}

/// A parsed token request: `client_credentials`, or a token exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub client: ClientAuth,
    /// `Some` for the token-exchange grant: what is exchanged.
    pub exchange: Option<ExchangeRequest>,
    /// Requested scopes, in order, without repeats.
    pub scopes: Vec<String>,
    /// The API the token is for (`resource`, RFC 8707, or `audience`).
    pub resource: Option<String>,
    /// Requested lifetime in seconds (`expires_in`, a Portcullis extension).
    pub lifetime: Option<i64>,
}

/// Parameters this endpoint understands; anything else is refused so a
/// client's typo is not silently ignored.
const KNOWN: &[&str] = &[
    "grant_type",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion_type",
    "client_assertion",
    "resource",
    "audience",
    "expires_in",
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
];

/// Parameters of the revocation (RFC 7009) and introspection (RFC 7662) endpoints.
const KNOWN_REVOKE: &[&str] = &[
    "token",
    "token_type_hint",
    "client_id",
    "client_secret",
    "client_assertion_type",
    "client_assertion",
];

/// Reads a form, refusing unknown and repeated parameters.
fn parse_form(body: &[u8], known: &[&str]) -> Result<Params, OAuthError> {
    let mut seen = HashSet::new();
    let mut params = Params(Vec::new());
    for (k, v) in form_urlencoded::parse(body) {
        if !known.contains(&k.as_ref()) {
            return Err(invalid_request(&format!(
                "unknown parameter `{}`",
                k.escape_debug()
            )));
        }
        if !seen.insert(k.clone()) {
            return Err(invalid_request(&format!("parameter `{k}` is repeated")));
        }
        params.0.push((k.into_owned(), v.into_owned()));
    }
    Ok(params)
}

/// A revocation request (RFC 7009): the token to revoke and the client asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRequest {
    pub client: ClientAuth,
    pub token: String,
}

/// Parses a revocation request.
pub fn parse_revocation_request(
    body: &[u8],
    authorization: Option<&str>,
) -> Result<RevocationRequest, OAuthError> {
    let params = parse_form(body, KNOWN_REVOKE)?;
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid_request("`token` is required"))?
        .to_owned();
    let client = client_auth(&params, authorization)?;
    Ok(RevocationRequest { client, token })
}

/// Parses an introspection request (RFC 7662); the caller authenticates with
/// its own bearer credential, checked by the endpoint.
pub fn parse_introspection_request(body: &[u8]) -> Result<String, OAuthError> {
    let params = parse_form(body, &["token", "token_type_hint"])?;
    params
        .get("token")
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| invalid_request("`token` is required"))
}

/// Parses a token request from its form body and `Authorization` header.
pub fn parse_token_request(
    body: &[u8],
    authorization: Option<&str>,
) -> Result<TokenRequest, OAuthError> {
    let params = parse_form(body, KNOWN)?;
    let get = |name: &str| params.get(name);
    let (exchange, actor_token) = match get("grant_type") {
        Some("client_credentials") => {
            if let Some(name) = exchange::PARAMETERS.iter().find(|p| get(p).is_some()) {
                return Err(invalid_request(&format!(
                    "`{name}` belongs to the token-exchange grant"
                )));
            }
            (None, None)
        }
        Some(TOKEN_EXCHANGE) => {
            let (request, actor_token) = exchange::parse(&params)?;
            (Some(request), actor_token)
        }
        Some(_) => {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "supported grant types: `client_credentials` and \
                 `urn:ietf:params:oauth:grant-type:token-exchange`",
            ));
        }
        None => return Err(invalid_request("`grant_type` is required")),
    };
    let client = match actor_token {
        Some(token) => {
            if authorization.is_some()
                || ["client_id", "client_secret", "client_assertion"]
                    .iter()
                    .any(|p| get(p).is_some())
            {
                return Err(invalid_request(
                    "authenticate the actor one way: an `actor_token` or a client credential",
                ));
            }
            ClientAuth::ActorToken(token)
        }
        None => client_auth(&params, authorization)?,
    };
    let scopes = match get("scope") {
        Some(s) => parse_scope(s)?,
        None => Vec::new(),
    };
    let resource = match (get("resource"), get("audience")) {
        (Some(_), Some(_)) => {
            return Err(invalid_request("give `resource` or `audience`, not both"));
        }
        (r, a) => r.or(a).map(str::to_owned),
    };
    let lifetime =
        match get("expires_in") {
            Some(t) => Some(t.parse::<i64>().ok().filter(|t| *t > 0).ok_or_else(|| {
                invalid_request("`expires_in` must be a positive number of seconds")
            })?),
            None => None,
        };
    Ok(TokenRequest {
        client,
        exchange,
        scopes,
        resource,
        lifetime,
    })
}

/// The form's parameters, each at most once.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn client_auth(params: &Params, authorization: Option<&str>) -> Result<ClientAuth, OAuthError> {
    let get = |name: &str| params.get(name);
    let basic = authorization.map(parse_basic).transpose()?;
    let post = match (get("client_id"), get("client_secret")) {
        (Some(id), Some(secret)) => Some((id, secret)),
        _ => None,
    };
    let assertion = match (get("client_assertion_type"), get("client_assertion")) {
        (Some(JWT_BEARER_ASSERTION), Some(a)) => Some(a),
        (Some(_), Some(_)) => return Err(invalid_request("unsupported `client_assertion_type`")),
        (None, None) => None,
        _ => {
            return Err(invalid_request(
                "`client_assertion_type` and `client_assertion` go together",
            ));
        }
    };
    // RFC 6749 section 2.3: a client must not use more than one method.
    let methods = usize::from(basic.is_some())
        + usize::from(post.is_some())
        + usize::from(assertion.is_some());
    if methods > 1 {
        return Err(invalid_request(
            "use exactly one client authentication method",
        ));
    }
    if let Some((client_id, secret)) = basic {
        if get("client_id").is_some_and(|id| id != client_id) {
            return Err(invalid_request(
                "`client_id` does not match the Authorization header",
            ));
        }
        return Ok(ClientAuth::Secret { client_id, secret });
    }
    if let Some((id, secret)) = post {
        return Ok(ClientAuth::Secret {
            client_id: id.to_owned(),
            secret: secret.to_owned(),
        });
    }
    if let Some(assertion) = assertion {
        return Ok(ClientAuth::Assertion {
            client_id: get("client_id").map(str::to_owned),
            assertion: assertion.to_owned(),
        });
    }
    Err(OAuthError::new(
        OAuthErrorCode::InvalidClient,
        "client authentication is required",
    ))
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 section 2.3.1).
fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::new(OAuthErrorCode::InvalidClient, "malformed Basic credentials");
    let (scheme, rest) = header.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(rest.trim().as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    let id = unescape(id).filter(|i| !i.is_empty()).ok_or_else(bad)?;
    let secret = unescape(secret).filter(|s| !s.is_empty()).ok_or_else(bad)?;
    Ok((id, secret))
}

/// Space-separated scope tokens (RFC 6749 section 3.3); repeats collapse.
pub fn parse_scope(scope: &str) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ') {
        if !portcullis_core::valid_scope(s) {
            return Err(OAuthError::new(
                OAuthErrorCode::InvalidScope,
                "`scope` is not a list of valid scope tokens",
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// The successful token response body (RFC 6749 section 5.1).
pub fn token_response(access_token: &str, lifetime: i64, scopes: &[String]) -> Value {
    json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scopes.join(" "),
    })
}

#[cfg(test)]
mod tests;
