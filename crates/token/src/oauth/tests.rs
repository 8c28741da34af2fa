use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::*;

fn parse(body: &str, auth: Option<&str>) -> Result<TokenRequest, OAuthError> {
    parse_token_request(body.as_bytes(), auth)
}

fn code(r: Result<TokenRequest, OAuthError>) -> OAuthErrorCode {
    r.unwrap_err().code()
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

#[test]
fn client_secret_basic_and_post() {
    let r = parse(
        "grant_type=client_credentials&scope=orders%3Aread+orders%3Aread+customers%3Aread",
        Some(&basic("bot", "pcs_x")),
    )
    .unwrap();
    assert_eq!(
        r.client,
        ClientAuth::Secret {
            client_id: "bot".into(),
            secret: "pcs_x".into()
        }
    );
    assert_eq!(r.scopes, ["orders:read", "customers:read"]);
    let r = parse("grant_type=client_credentials&client_id=bot&client_secret=pcs_x&resource=orders&expires_in=60", None).unwrap();
    assert_eq!(
        r.client,
        ClientAuth::Secret {
            client_id: "bot".into(),
            secret: "pcs_x".into()
        }
    );
    assert_eq!(r.resource.as_deref(), Some("orders"));
    assert_eq!(r.lifetime, Some(60));
}

#[test]
fn private_key_jwt() {
    let body = format!(
        "grant_type=client_credentials&scope=a&client_assertion_type={}&client_assertion=h.p.s",
        JWT_BEARER_ASSERTION.replace(':', "%3A")
    );
    let r = parse(&body, None).unwrap();
    assert_eq!(
        r.client,
        ClientAuth::Assertion {
            client_id: None,
            assertion: "h.p.s".into()
        }
    );
}

#[test]
fn refuses_what_it_would_have_to_guess_about() {
    assert_eq!(
        code(parse(
            "grant_type=client_credentials&grant_type=client_credentials&client_id=a&client_secret=b",
            None
        )),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        code(parse("grant_type=password&username=a", None)),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        code(parse("grant_type=password", None)),
        OAuthErrorCode::UnsupportedGrantType
    );
    assert_eq!(
        code(parse("client_id=a&client_secret=b", None)),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        code(parse("grant_type=client_credentials", None)),
        OAuthErrorCode::InvalidClient
    );
    assert_eq!(
        code(parse(
            "grant_type=client_credentials&client_id=bot&client_secret=pcs_x",
            Some(&basic("bot", "pcs_x"))
        )),
        OAuthErrorCode::InvalidRequest,
        "two authentication methods"
    );
    assert_eq!(
        code(parse("grant_type=client_credentials", Some("Basic !!!"))),
        OAuthErrorCode::InvalidClient
    );
    assert_eq!(
        code(parse("grant_type=client_credentials", Some("Bearer abc"))),
        OAuthErrorCode::InvalidClient
    );
    assert_eq!(
        code(parse(
            "grant_type=client_credentials&scope=a%20%20b",
            Some(&basic("a", "b"))
        )),
        OAuthErrorCode::InvalidScope
    );
    assert_eq!(
        code(parse(
            "grant_type=client_credentials&expires_in=-5",
            Some(&basic("a", "b"))
        )),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        code(parse(
            "grant_type=client_credentials&resource=a&audience=b",
            Some(&basic("a", "b"))
        )),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        code(parse(
            "grant_type=client_credentials&client_assertion=x",
            None
        )),
        OAuthErrorCode::InvalidRequest
    );
}

#[test]
fn errors_render_the_rfc_6749_shape() {
    let e = OAuthError::new(OAuthErrorCode::InvalidScope, "nope");
    assert_eq!(
        e.to_json(),
        serde_json::json!({"error": "invalid_scope", "error_description": "nope"})
    );
    assert_eq!(OAuthErrorCode::InvalidClient.status(), 401);
    assert_eq!(OAuthErrorCode::InvalidGrant.status(), 400);
}

#[test]
fn grants_are_least_privilege_and_short() {
    let limits = GrantLimits {
        default_ttl: 300,
        max_ttl: 900,
    };
    let grantable = vec!["orders:read".to_owned(), "orders:write".to_owned()];
    let g = grant(&["orders:read".to_owned()], &grantable, None, limits).unwrap();
    assert_eq!(
        (g.scopes.as_slice(), g.lifetime),
        (["orders:read".to_owned()].as_slice(), 300)
    );
    assert_eq!(
        grant(&["orders:read".to_owned()], &grantable, Some(3600), limits)
            .unwrap()
            .lifetime,
        900
    );
    assert_eq!(
        grant(&["orders:read".to_owned()], &grantable, Some(30), limits)
            .unwrap()
            .lifetime,
        30
    );
    let escalate = grant(
        &["orders:read".to_owned(), "admin".to_owned()],
        &grantable,
        None,
        limits,
    );
    assert_eq!(escalate.unwrap_err().code(), OAuthErrorCode::InvalidScope);
    assert_eq!(
        grant(&[], &grantable, None, limits).unwrap_err().code(),
        OAuthErrorCode::InvalidScope
    );
}

#[test]
fn token_response_shape() {
    let v = token_response("t", 300, &["a".to_owned(), "b".to_owned()]);
    assert_eq!(
        v,
        serde_json::json!({"access_token": "t", "token_type": "Bearer", "expires_in": 300, "scope": "a b"})
    );
}

#[test]
fn revocation_and_introspection_requests() {
    let r = parse_revocation_request(
        b"token=abc&token_type_hint=access_token",
        Some(&basic("bot", "pcs_x")),
    )
    .unwrap();
    assert_eq!(r.token, "abc");
    assert_eq!(
        r.client,
        ClientAuth::Secret {
            client_id: "bot".into(),
            secret: "pcs_x".into()
        }
    );
    assert_eq!(
        parse_revocation_request(b"token=abc", None)
            .unwrap_err()
            .code(),
        OAuthErrorCode::InvalidClient
    );
    assert_eq!(
        parse_revocation_request(b"", Some(&basic("a", "b")))
            .unwrap_err()
            .code(),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(parse_introspection_request(b"token=t").unwrap(), "t");
    assert_eq!(
        parse_introspection_request(b"token=t&token=u")
            .unwrap_err()
            .code(),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        parse_introspection_request(b"scope=x").unwrap_err().code(),
        OAuthErrorCode::InvalidRequest
    );
}
