//! Which credential a request to a protected API carries, and the
//! `WWW-Authenticate` challenge to answer with (RFC 6750, RFC 9728).
//!
//! Exactly one credential or none: a bearer token in `Authorization` or an
//! API key in `X-Api-Key`. Two at once, a repeated header, another scheme or
//! a malformed value are refused, never chosen between.

/// The header an API key is presented in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The credential found on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    None,
    Bearer(&'a str),
    ApiKey(&'a str),
}

/// Why the presented credential cannot even be looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PresentedError {
    #[error("more than one credential was presented")]
    Ambiguous,
    #[error("the authorization scheme is not Bearer")]
    WrongScheme,
    #[error("the credential is malformed")]
    Malformed,
}

/// Reads the request's credential from every value of `Authorization` and of
/// `X-Api-Key` (headers that could not be read as text count as malformed).
pub fn presented<'a>(
    authorization: &[Option<&'a str>],
    api_key: &[Option<&'a str>],
) -> Result<Presented<'a>, PresentedError> {
    if authorization.len() + api_key.len() > 1 {
        return Err(PresentedError::Ambiguous);
    }
    if let Some(value) = authorization.first() {
        let value = value.ok_or(PresentedError::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(PresentedError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(PresentedError::WrongScheme);
        }
        if !is_b64token(token) {
            return Err(PresentedError::Malformed);
        }
        return Ok(Presented::Bearer(token));
    }
    if let Some(value) = api_key.first() {
        let value = value.ok_or(PresentedError::Malformed)?;
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(PresentedError::Malformed);
        }
        return Ok(Presented::ApiKey(value));
    }
    Ok(Presented::None)
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// What went wrong, for the challenge's `error` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeError<'a> {
    /// No credential at all: RFC 6750 says to omit `error`.
    Missing,
    InvalidRequest,
    InvalidToken,
    InsufficientScope {
        scope: &'a str,
    },
}

/// The `WWW-Authenticate` value: `Bearer realm=..., error=..., scope=...,
/// resource_metadata=...`.
pub fn challenge(realm: &str, error: ChallengeError<'_>, resource_metadata: &str) -> String {
    let mut out = format!("Bearer realm=\"{}\"", quoted(realm));
    match error {
        ChallengeError::Missing => {}
        ChallengeError::InvalidRequest => out.push_str(", error=\"invalid_request\""),
        ChallengeError::InvalidToken => out.push_str(", error=\"invalid_token\""),
        ChallengeError::InsufficientScope { scope } => {
            out.push_str(&format!(
                ", error=\"insufficient_scope\", scope=\"{}\"",
                quoted(scope)
            ));
        }
    }
    out.push_str(&format!(
        ", resource_metadata=\"{}\"",
        quoted(resource_metadata)
    ));
    out
}

/// Keeps a quoted-string inside its quotes.
fn quoted(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_credential() {
        assert_eq!(presented(&[], &[]), Ok(Presented::None));
        assert_eq!(
            presented(&[Some("Bearer abc.def-_~+/==")], &[]),
            Ok(Presented::Bearer("abc.def-_~+/=="))
        );
        assert_eq!(
            presented(&[Some("bearer x")], &[]),
            Ok(Presented::Bearer("x"))
        );
        assert_eq!(
            presented(&[], &[Some("pck_abc")]),
            Ok(Presented::ApiKey("pck_abc"))
        );
        assert_eq!(
            presented(&[Some("Bearer x")], &[Some("pck_abc")]),
            Err(PresentedError::Ambiguous)
        );
        assert_eq!(
            presented(&[Some("Bearer x"), Some("Bearer y")], &[]),
            Err(PresentedError::Ambiguous)
        );
        assert_eq!(
            presented(&[Some("Basic eDp5")], &[]),
            Err(PresentedError::WrongScheme)
        );
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer =",
            "Bearer a=b",
        ] {
            assert_eq!(
                presented(&[Some(bad)], &[]),
                Err(PresentedError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(presented(&[None], &[]), Err(PresentedError::Malformed));
        assert_eq!(
            presented(&[], &[Some("a b")]),
            Err(PresentedError::Malformed)
        );
    }

    #[test]
    fn challenges() {
        let md = "http://127.0.0.1:8080/.well-known/oauth-protected-resource";
        assert_eq!(
            challenge("portcullis", ChallengeError::Missing, md),
            format!("Bearer realm=\"portcullis\", resource_metadata=\"{md}\"")
        );
        assert_eq!(
            challenge(
                "portcullis",
                ChallengeError::InsufficientScope {
                    scope: "orders:write"
                },
                md
            ),
            format!(
                "Bearer realm=\"portcullis\", error=\"insufficient_scope\", scope=\"orders:write\", resource_metadata=\"{md}\""
            )
        );
        assert!(
            challenge("a\"b", ChallengeError::InvalidToken, md)
                .starts_with("Bearer realm=\"ab\", error=\"invalid_token\"")
        );
    }
}
