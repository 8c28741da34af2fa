//! Discovery documents: RFC 8414 authorization server metadata and RFC 9728
//! protected resource metadata, built from the issuer's base URL.

use serde_json::{Value, json};

/// `/.well-known/oauth-authorization-server` for an issuer served at `base`
/// (e.g. `http://127.0.0.1:8080`); `exchange` when token exchange (RFC
/// 8693) is configured.
pub fn authorization_server(issuer: &str, base: &str, scopes: &[String], exchange: bool) -> Value {
    let mut grants = vec!["client_credentials"];
    if exchange {
        grants.push(crate::oauth::TOKEN_EXCHANGE);
    }
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "grant_types_supported": grants,
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["EdDSA", "ES256"],
        "scopes_supported": scopes,
    })
}

/// `/.well-known/oauth-protected-resource` for the APIs at `base`.
pub fn protected_resource(base: &str, scopes: &[String]) -> Value {
    json!({
        "resource": base,
        "authorization_servers": [base],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": ["EdDSA"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_point_at_the_endpoints() {
        let scopes = vec!["orders:read".to_owned()];
        let a = authorization_server("portcullis", "http://127.0.0.1:8080", &scopes, false);
        assert_eq!(a["grant_types_supported"], json!(["client_credentials"]));
        let with = authorization_server("portcullis", "http://127.0.0.1:8080", &scopes, true);
        assert_eq!(
            with["grant_types_supported"][1],
            "urn:ietf:params:oauth:grant-type:token-exchange"
        );
        assert_eq!(a["token_endpoint"], "http://127.0.0.1:8080/oauth/token");
        assert_eq!(a["jwks_uri"], "http://127.0.0.1:8080/.well-known/jwks.json");
        assert_eq!(a["scopes_supported"][0], "orders:read");
        let r = protected_resource("http://127.0.0.1:8080", &scopes);
        assert_eq!(r["authorization_servers"][0], "http://127.0.0.1:8080");
    }
}
