//! The world every admin test starts from, and the checks they share.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_admin::{ADMIN_SCOPE, AdminServer, BOOTSTRAP_IDENTITY, bootstrap};
use portcullis_testkit::raw::with_header;
use portcullis_testkit::{RawResponse, World, send, spawn, spawn_with, spawn_with_idp};
use serde_json::Value;

pub(crate) const SECRET: &str = "bootstrap-secret-0123456789-abcdefghij";

/// The example world, a bootstrapped admin, and the admin listener.
pub(crate) struct Admin {
    pub world: World,
    pub server: AdminServer,
    /// A bearer token of `portcullis-admin`, from the gateway's token endpoint.
    pub token: String,
}

impl Admin {
    pub(crate) async fn start() -> Self {
        Self::around(spawn().await).await
    }

    /// As [`Self::start`], the gateway running `config_text`.
    pub(crate) async fn start_with(config_text: &str) -> Self {
        Self::around(spawn_with(config_text).await).await
    }

    /// As [`Self::start`], the example's delegation issuer's keys at `jwks_url`.
    pub(crate) async fn start_with_idp(jwks_url: &str) -> Self {
        Self::around(spawn_with_idp(jwks_url).await).await
    }

    async fn around(world: World) -> Self {
        let authority = world.gateway.authority().clone();
        assert_eq!(
            bootstrap(&authority, Some(SECRET)).unwrap().as_deref(),
            Some(BOOTSTRAP_IDENTITY)
        );
        let server =
            AdminServer::start(loopback(), authority, None, Some(world.gateway.observer()))
                .await
                .unwrap();
        let issued = token(&world, BOOTSTRAP_IDENTITY, SECRET, ADMIN_SCOPE).await;
        assert_eq!(issued.status, 200, "{}", issued.text());
        let token = issued.json()["access_token"].as_str().unwrap().to_owned();
        Self {
            world,
            server,
            token,
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Sends `req` to the admin listener as the bootstrap admin.
    pub(crate) async fn call(&self, req: &[u8]) -> RawResponse {
        send(self.addr(), &bearer(req, &self.token)).await
    }

    pub(crate) async fn stop(self) {
        self.server.stop().await;
        self.world.stop().await;
    }
}

pub(crate) fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub(crate) fn bearer(req: &[u8], token: &str) -> Vec<u8> {
    with_header(req, "Authorization", &format!("Bearer {token}"))
}

/// `client_credentials` at the gateway's real token endpoint, Basic auth.
pub(crate) async fn token(world: &World, id: &str, secret: &str, scope: &str) -> RawResponse {
    let body = format!("grant_type=client_credentials&scope={scope}");
    let client = portcullis_testkit::raw::basic(id, secret);
    world.token_request(Some(&client), &body).await
}

/// The `jti` and `exp` of a token we were given.
pub(crate) fn jti_exp(token: &str) -> (String, i64) {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (
        claims["jti"].as_str().unwrap().to_owned(),
        claims["exp"].as_i64().unwrap(),
    )
}

/// Every refusal: the gateway's problem+json shape, with this code.
pub(crate) fn assert_problem(r: &RawResponse, status: u16, code: &str) -> Value {
    assert_eq!(
        (r.status, r.code().as_deref()),
        (status, Some(code)),
        "{}",
        r.text()
    );
    let body = r.json();
    for field in ["type", "title", "detail", "instance"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    assert_eq!(body["status"], status);
    assert_eq!(
        body["type"],
        format!("/.well-known/portcullis/problems#{code}")
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    body
}

pub(crate) fn pointers(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["pointer"].as_str()).collect())
        .unwrap_or_default()
}

pub(crate) fn encoded(credential_id: &str) -> String {
    credential_id.replace('/', "%2F")
}
