//! Identities and tokens through the real listener: every bad credential is
//! refused with 401 `unauthenticated` and a challenge, whatever the path; an
//! identity's state bites on its very next request; scopes are the
//! operation's; the token endpoint speaks RFC 6749.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::IdentityState;
use portcullis_store::CredentialKind;
use portcullis_store::ledger::{Filter, Ledger};
use portcullis_testkit::raw::{get, request, with_header};
use portcullis_testkit::{RawResponse, World, example_config, seed, spawn, spawn_with};
use portcullis_token::{AccessClaims, KeySet, SigningKey};
use serde_json::Value;

fn bearer(req: &[u8], token: &str) -> Vec<u8> {
    with_header(req, "Authorization", &format!("Bearer {token}"))
}

fn orders() -> Vec<u8> {
    get("/orders/v1/orders")
}

fn assert_unauthenticated(r: &RawResponse, what: &str) {
    assert_eq!(
        (r.status, r.code().as_deref()),
        (401, Some("unauthenticated")),
        "{what}: {}",
        r.text()
    );
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer realm=\"portcullis\""),
        "{what}: {challenge}"
    );
    assert!(
        challenge.contains("resource_metadata=\""),
        "{what}: {challenge}"
    );
}

/// The gateway's own signing key, to make tokens with chosen flaws that only
/// the claims checks can catch.
fn gateway_keys(world: &World) -> KeySet {
    let stored = world.gateway.authority().store().list_keys().unwrap();
    let keys = stored
        .into_iter()
        .map(|k| SigningKey::from_pkcs8(k.kid, k.created, k.retired, &k.pkcs8).unwrap())
        .collect();
    KeySet::new(keys).unwrap()
}

fn claims(world: &World, identity: &str) -> AccessClaims {
    let now = world.gateway.authority().now();
    AccessClaims {
        iss: "portcullis".into(),
        sub: identity.into(),
        aud: "orders".into(),
        scope: "orders:read".into(),
        exp: now + 300,
        iat: now,
        nbf: None,
        jti: format!("test-{identity}-{now}"),
        act: None,
        person: None,
        exchanged_from: Vec::new(),
    }
}

#[tokio::test]
async fn no_credential_is_the_same_401_on_every_path() {
    let world = spawn().await;
    let mut bodies = Vec::new();
    for path in [
        "/orders/v1/orders",
        "/orders/debug/config",
        "/orders/v1/../x",
        "/nowhere",
        "/orders/v1/orders/%2e",
    ] {
        let r = world
            .gateway_anonymous(&request("GET", path, &[("X-Request-Id", "same")], b""))
            .await;
        assert_unauthenticated(&r, path);
        assert!(
            !r.header("www-authenticate").unwrap().contains("error="),
            "no credential: no error code"
        );
        bodies.push(r.text());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:#?}");
    // Discovery and the token endpoint need no credential.
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
        "/.well-known/portcullis/problems",
    ] {
        assert_eq!(
            world.gateway_anonymous(&get(path)).await.status,
            200,
            "{path}"
        );
    }
    world.stop().await;
}

#[tokio::test]
async fn bad_credentials_are_refused() {
    let world = spawn().await;
    let keys = gateway_keys(&world);
    let sign = |c: &AccessClaims| portcullis_token::issue(&keys, c).unwrap();
    let base = claims(&world, "reporting-agent");
    let other_keys = KeySet::new(vec![
        SigningKey::generate(keys.active().unwrap().kid(), 0).unwrap(),
    ])
    .unwrap();
    let none_token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&base).unwrap())
    );
    let jwk_x = keys.jwks()["keys"][0]["x"].as_str().unwrap().to_owned();
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            alg: jsonwebtoken::Algorithm::HS256,
            typ: Some("at+jwt".into()),
            kid: Some(keys.active().unwrap().kid().to_owned()),
            ..Default::default()
        },
        &base,
        &jsonwebtoken::EncodingKey::from_secret(jwk_x.as_bytes()),
    )
    .unwrap();
    let valid = sign(&base);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("not a JWT", bearer(&orders(), "not-a-jwt")),
        ("truncated", bearer(&orders(), &valid[..valid.len() - 10])),
        ("oversized", bearer(&orders(), &"a".repeat(9000))),
        (
            "empty bearer",
            with_header(&orders(), "Authorization", "Bearer"),
        ),
        (
            "other scheme",
            with_header(&orders(), "Authorization", "Basic dXNlcjpwYXNz"),
        ),
        ("alg none", bearer(&orders(), &none_token)),
        ("HMAC made with the public key", bearer(&orders(), &hs256)),
        (
            "unknown signing key",
            bearer(
                &orders(),
                &portcullis_token::issue(&other_keys, &base).unwrap(),
            ),
        ),
        (
            "wrong issuer",
            bearer(
                &orders(),
                &sign(&AccessClaims {
                    iss: "someone-else".into(),
                    ..base.clone()
                }),
            ),
        ),
        (
            "wrong audience",
            bearer(
                &orders(),
                &sign(&AccessClaims {
                    aud: "billing".into(),
                    ..base.clone()
                }),
            ),
        ),
        (
            "expired",
            bearer(
                &orders(),
                &sign(&AccessClaims {
                    exp: base.iat - 120,
                    iat: base.iat - 600,
                    ..base.clone()
                }),
            ),
        ),
        (
            "not yet valid",
            bearer(
                &orders(),
                &sign(&AccessClaims {
                    nbf: Some(base.iat + 600),
                    ..base.clone()
                }),
            ),
        ),
        (
            "unknown identity",
            bearer(
                &orders(),
                &sign(&AccessClaims {
                    sub: "ghost".into(),
                    ..base.clone()
                }),
            ),
        ),
        (
            "unknown API key",
            with_header(
                &orders(),
                "X-Api-Key",
                "pck_0000000000000000000000000000000000000000000",
            ),
        ),
        (
            "bearer and API key",
            with_header(&bearer(&orders(), &valid), "X-Api-Key", &world.key),
        ),
        (
            "two bearer headers",
            bearer(&bearer(&orders(), &valid), &valid),
        ),
    ];
    let revoked = sign(&AccessClaims {
        jti: "revoked-one".into(),
        ..base.clone()
    });
    world
        .gateway
        .authority()
        .revoke_token("revoked-one", base.exp)
        .unwrap();
    cases.push(("revoked", bearer(&orders(), &revoked)));
    for (what, req) in &cases {
        assert_unauthenticated(&world.gateway_anonymous(req).await, what);
    }
    // The control: the same token unharmed is accepted.
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), &valid))
            .await
            .status,
        200
    );
    world.stop().await;
}

#[tokio::test]
async fn identity_state_bites_on_the_very_next_request() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let (token, _) = authority
        .issue_for("reporting-agent", &["orders:read".into()], 600, "orders")
        .unwrap();
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), &token))
            .await
            .status,
        200
    );
    for state in [
        IdentityState::Suspended,
        IdentityState::Quarantined,
        IdentityState::Retired,
    ] {
        authority
            .set_state(
                "reporting-agent",
                state,
                portcullis_store::ChangedBy::who("test"),
            )
            .unwrap();
        let r = world.gateway_anonymous(&bearer(&orders(), &token)).await;
        assert_eq!(
            (r.status, r.code().as_deref()),
            (403, Some("identity-suspended")),
            "{state}"
        );
    }
    authority
        .set_state(
            "reporting-agent",
            IdentityState::Active,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), &token))
            .await
            .status,
        200
    );
    world.stop().await;
}

#[tokio::test]
async fn scopes_come_from_the_operation() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let (reader, _) = authority
        .issue_for("reporting-agent", &["orders:read".into()], 600, "orders")
        .unwrap();
    let patch = request(
        "PATCH",
        &format!("/orders/v1/orders/{}", seed::ORDER_PENDING),
        &[("Content-Type", "application/json")],
        br#"{"status":"paid"}"#,
    );
    let r = world.gateway_anonymous(&bearer(&patch, &reader)).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (403, Some("insufficient-scope"))
    );
    let challenge = r.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"orders:write\""),
        "{challenge}"
    );
    let customers = get(&format!("/orders/v1/customers/{}", seed::CUSTOMER_ACME));
    let r = world.gateway_anonymous(&bearer(&customers, &reader)).await;
    assert_eq!(
        r.code().as_deref(),
        Some("insufficient-scope"),
        "orders:read does not open customers"
    );
    world.stop().await;
}

async fn token_request(world: &World, auth: Option<String>, body: &str) -> RawResponse {
    world.token_request(auth.as_deref(), body).await
}

/// A new client secret of `identity`, made through the gateway's authority.
fn client_secret(world: &World, identity: &str) -> String {
    world
        .gateway
        .authority()
        .create_secret(identity, CredentialKind::ClientSecret, 3600, None)
        .unwrap()
        .secret
}

fn basic(id: &str, secret: &str) -> Option<String> {
    Some(portcullis_testkit::raw::basic(id, secret))
}

#[tokio::test]
async fn the_token_endpoint() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let secret = authority
        .create_secret("reporting-agent", CredentialKind::ClientSecret, 3600, None)
        .unwrap();
    let ok = token_request(
        &world,
        basic("reporting-agent", &secret.secret),
        "grant_type=client_credentials&scope=orders:read&expires_in=99999",
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    let body = ok.json();
    assert_eq!(
        (
            body["token_type"].as_str(),
            body["expires_in"].as_i64(),
            body["scope"].as_str()
        ),
        (Some("Bearer"), Some(900), Some("orders:read"))
    );
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), token))
            .await
            .status,
        200
    );

    let wrong = token_request(
        &world,
        basic("reporting-agent", "pcs_wrong"),
        "grant_type=client_credentials&scope=orders:read",
    )
    .await;
    let unknown = token_request(
        &world,
        basic("nobody-at-all", "pcs_wrong"),
        "grant_type=client_credentials&scope=orders:read",
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.json()["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(
        wrong.text(),
        unknown.text(),
        "an unknown client and a wrong secret look the same"
    );
    assert!(wrong.header("www-authenticate").is_some());

    let escalate = token_request(
        &world,
        basic("reporting-agent", &secret.secret),
        "grant_type=client_credentials&scope=orders:read%20orders:write",
    )
    .await;
    assert_eq!(
        (escalate.status, escalate.json()["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let no_scope = token_request(
        &world,
        basic("reporting-agent", &secret.secret),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(no_scope.json()["error"], "invalid_scope");
    let grant = token_request(
        &world,
        basic("reporting-agent", &secret.secret),
        "grant_type=password&scope=orders:read",
    )
    .await;
    assert_eq!(grant.json()["error"], "unsupported_grant_type");

    authority
        .set_state(
            "reporting-agent",
            IdentityState::Suspended,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    let suspended = token_request(
        &world,
        basic("reporting-agent", &secret.secret),
        "grant_type=client_credentials&scope=orders:read",
    )
    .await;
    assert_eq!(suspended.json()["error"], "unauthorized_client");
    authority
        .set_state(
            "reporting-agent",
            IdentityState::Active,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();

    authority.revoke_credential(&secret.credential_id).unwrap();
    let revoked = token_request(
        &world,
        basic("reporting-agent", &secret.secret),
        "grant_type=client_credentials&scope=orders:read",
    )
    .await;
    assert_eq!(revoked.json()["error"], "invalid_client");
    world.stop().await;
}

#[tokio::test]
async fn private_key_jwt_and_replay() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let key = SigningKey::generate("agent-key", 0).unwrap();
    authority
        .register_key(
            "fulfilment-service",
            key.public_jwk(),
            authority.now() + 3600,
        )
        .unwrap();
    let now = authority.now();
    let assertion = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            alg: jsonwebtoken::Algorithm::EdDSA,
            kid: Some("agent-key".into()),
            ..Default::default()
        },
        &serde_json::json!({
            "iss": "fulfilment-service", "sub": "fulfilment-service",
            "aud": format!("{}/oauth/token", authority.base_url()),
            "exp": now + 60, "iat": now, "jti": "assertion-1",
        }),
        &jsonwebtoken::EncodingKey::from_ed_der(key.pkcs8_der()),
    )
    .unwrap();
    let body = format!(
        "grant_type=client_credentials&scope=orders:write&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
    );
    let first = token_request(&world, None, &body).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let replayed = token_request(&world, None, &body).await;
    assert_eq!(
        (replayed.status, replayed.json()["error"].as_str()),
        (401, Some("invalid_client"))
    );
    world.stop().await;
}

#[tokio::test]
async fn api_keys_and_rotation() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let key = authority
        .create_secret("reporting-agent", CredentialKind::ApiKey, 3600, None)
        .unwrap();
    assert!(key.secret.starts_with("pck_"));
    let with_key = |k: &str| with_header(&orders(), "X-Api-Key", k);
    assert_eq!(
        world.gateway_anonymous(&with_key(&key.secret)).await.status,
        200
    );
    let rotated = authority.rotate_secret(&key.credential_id, 0).unwrap();
    assert_eq!(
        world
            .gateway_anonymous(&with_key(&rotated.secret))
            .await
            .status,
        200
    );
    assert_unauthenticated(
        &world.gateway_anonymous(&with_key(&key.secret)).await,
        "rotated out",
    );
    let overlapping = authority
        .rotate_secret(&rotated.credential_id, 600)
        .unwrap();
    assert_eq!(
        world
            .gateway_anonymous(&with_key(&rotated.secret))
            .await
            .status,
        200,
        "kept during the overlap"
    );
    assert_eq!(
        world
            .gateway_anonymous(&with_key(&overlapping.secret))
            .await
            .status,
        200
    );
    authority
        .revoke_credential(&overlapping.credential_id)
        .unwrap();
    assert_unauthenticated(
        &world
            .gateway_anonymous(&with_key(&overlapping.secret))
            .await,
        "revoked",
    );
    world.stop().await;
}

#[tokio::test]
async fn discovery_documents_and_key_rotation() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let (old_token, _) = authority
        .issue_for("reporting-agent", &["orders:read".into()], 600, "orders")
        .unwrap();
    let before = world
        .gateway_anonymous(&get("/.well-known/jwks.json"))
        .await
        .json();
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);
    assert!(before.to_string().contains("\"OKP\"") && !before.to_string().contains("\"d\""));
    authority.rotate_signing_key().unwrap();
    let after = world
        .gateway_anonymous(&get("/.well-known/jwks.json"))
        .await
        .json();
    assert_eq!(
        after["keys"].as_array().unwrap().len(),
        2,
        "the old key stays until its tokens expire"
    );
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), &old_token))
            .await
            .status,
        200
    );
    let metadata = world
        .gateway_anonymous(&get("/.well-known/oauth-authorization-server"))
        .await
        .json();
    assert_eq!(
        metadata["token_endpoint"],
        format!("{}/oauth/token", authority.base_url())
    );
    let resource = world
        .gateway_anonymous(&get("/.well-known/oauth-protected-resource"))
        .await
        .json();
    assert_eq!(resource["authorization_servers"][0], authority.base_url());
    world.stop().await;
}

async fn introspect(world: &World, form: &str, key: Option<&str>) -> RawResponse {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(k) = key {
        headers.push(("X-Api-Key", k));
    }
    world
        .gateway_anonymous(&request(
            "POST",
            "/oauth/introspect",
            &headers,
            form.as_bytes(),
        ))
        .await
}

async fn revoke(world: &World, id: &str, secret: &str, form: &str) -> RawResponse {
    let auth = basic(id, secret).unwrap();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    world
        .gateway_anonymous(&request("POST", "/oauth/revoke", &headers, form.as_bytes()))
        .await
}

#[tokio::test]
async fn revocation_and_introspection() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let secret = authority
        .create_secret("reporting-agent", CredentialKind::ClientSecret, 3600, None)
        .unwrap();
    let issued = token_request(
        &world,
        basic("reporting-agent", &secret.secret),
        "grant_type=client_credentials&scope=orders:read",
    )
    .await;
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), &token))
            .await
            .status,
        200
    );
    let form = format!("token={token}");

    // Introspection is for admin callers only.
    assert_eq!(
        introspect(&world, &form, None).await.code().as_deref(),
        Some("unauthenticated")
    );
    assert_eq!(
        introspect(&world, &form, Some(&world.key))
            .await
            .code()
            .as_deref(),
        Some("insufficient-scope")
    );
    let mut auditor = authority.identity("reporting-agent").unwrap().unwrap();
    auditor.id = "auditor".into();
    auditor.scopes = vec![portcullis_proxy::ADMIN_SCOPE.into()];
    authority.put_identity(&auditor).unwrap();
    let admin_key = authority
        .create_secret("auditor", CredentialKind::ApiKey, 600, None)
        .unwrap()
        .secret;
    let active = introspect(&world, &form, Some(&admin_key)).await.json();
    assert_eq!(
        (
            active["active"].as_bool(),
            active["sub"].as_str(),
            active["scope"].as_str()
        ),
        (Some(true), Some("reporting-agent"), Some("orders:read"))
    );

    // Another client cannot revoke it; its holder can. Both answers are 200.
    let other = authority
        .create_secret(
            "fulfilment-service",
            CredentialKind::ClientSecret,
            3600,
            None,
        )
        .unwrap();
    assert_eq!(
        revoke(&world, "fulfilment-service", &other.secret, &form)
            .await
            .status,
        200
    );
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), &token))
            .await
            .status,
        200,
        "not revoked by another client"
    );
    assert_eq!(
        revoke(&world, "reporting-agent", "pcs_wrong", &form)
            .await
            .status,
        401
    );
    assert_eq!(
        revoke(&world, "reporting-agent", &secret.secret, &form)
            .await
            .status,
        200
    );
    assert_unauthenticated(
        &world.gateway_anonymous(&bearer(&orders(), &token)).await,
        "revoked by its holder",
    );
    assert_eq!(
        introspect(&world, &form, Some(&admin_key)).await.json()["active"],
        false
    );
    world.stop().await;
}

#[tokio::test]
async fn expired_and_deleted_identities() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    let keys = gateway_keys(&world);
    // An identity whose own expiry has passed: its still-valid token is refused.
    let mut temp = authority.identity("reporting-agent").unwrap().unwrap();
    temp.id = "contractor-bot".into();
    temp.expires = Some(authority.now() - 1);
    authority.put_identity(&temp).unwrap();
    let token = portcullis_token::issue(&keys, &claims(&world, "contractor-bot")).unwrap();
    let r = world.gateway_anonymous(&bearer(&orders(), &token)).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (403, Some("identity-suspended"))
    );
    // A deleted identity: its token opens nothing, on the next request.
    let (token, _) = authority
        .issue_for("stale-bot", &["orders:read".into()], 600, "orders")
        .unwrap();
    assert_eq!(
        world
            .gateway_anonymous(&bearer(&orders(), &token))
            .await
            .status,
        200
    );
    authority.delete_identity("stale-bot").unwrap();
    assert_unauthenticated(
        &world.gateway_anonymous(&bearer(&orders(), &token)).await,
        "deleted identity",
    );
    world.stop().await;
}

/// The store file of [`stored_config`].
const STORE: &str = "portcullis.db";

/// A copy of the example in a fresh folder of this test's (`name`): the
/// store and the ledger beside its configuration are the test's, never
/// files inside `examples/`.
fn stored_example(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    portcullis_testkit::copy_example(&dir);
    dir
}

/// The example configuration in `dir`, its store the SQLite file [`STORE`]
/// there, its upstream a closed port.
fn stored_config(dir: &std::path::Path) -> portcullis_config::Config {
    portcullis_testkit::config_stored(
        dir,
        &portcullis_testkit::example_config(),
        &[("orders", "http://127.0.0.1:9")],
        portcullis_config::Storage::Sqlite(dir.join(STORE)),
    )
}

/// A new API key of `reporting-agent`'s and a token for it to read orders.
fn reporting_agent_credentials(
    authority: &portcullis_proxy::authority::Authority,
) -> (portcullis_proxy::authority::NewSecret, String) {
    let key = authority
        .create_secret("reporting-agent", CredentialKind::ApiKey, 3600, None)
        .unwrap();
    let (token, _) = authority
        .issue_for("reporting-agent", &["orders:read".into()], 600, "orders")
        .unwrap();
    (key, token)
}

/// Another process (the CLI) changing the store bites on the gateway's very
/// next request, though the gateway found the identity and its API key in
/// its memory on the request before: a suspension, a reactivation, a
/// revoked key, a deleted identity.
#[tokio::test]
async fn a_change_another_process_commits_bites_on_the_very_next_request() {
    use portcullis_store::{CredentialStore, IdentityStore};
    let dir = stored_example("other");
    let gateway = portcullis_proxy::Gateway::start(stored_config(&dir))
        .await
        .unwrap();
    let authority = gateway.authority();
    let (key, token) = reporting_agent_credentials(authority);
    let at = gateway.addr();
    let codes = || async {
        // A declared operation: the identity's state is checked before
        // routing would refuse an undeclared one. The upstream is closed,
        // so a caller who passes every check gets `upstream-unavailable`.
        let by_token = portcullis_testkit::send(at, &bearer(&orders(), &token)).await;
        let by_key =
            portcullis_testkit::send(at, &with_header(&orders(), "X-Api-Key", &key.secret)).await;
        (by_token.code(), by_key.code())
    };
    let passed = Some("upstream-unavailable".to_owned());
    let routed = (passed.clone(), passed.clone());
    // Twice: the second is answered from the gateway's memory.
    assert_eq!(codes().await, routed);
    assert_eq!(codes().await, routed);

    let other = portcullis_store::SqliteStore::open(&dir.join(STORE)).unwrap();
    other
        .set_identity_state(
            "reporting-agent",
            IdentityState::Suspended,
            1,
            &portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    let suspended = Some("identity-suspended".to_owned());
    assert_eq!(codes().await, (suspended.clone(), suspended));
    other
        .set_identity_state(
            "reporting-agent",
            IdentityState::Active,
            2,
            &portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    assert_eq!(codes().await, routed);
    other.revoke_credential(&key.credential_id, 3).unwrap();
    assert_eq!(codes().await, (passed, Some("unauthenticated".to_owned())));
    other.delete_identity("reporting-agent").unwrap();
    let unauthenticated = Some("unauthenticated".to_owned());
    assert_eq!(codes().await, (unauthenticated.clone(), unauthenticated));
    gateway.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The inventory is re-applied at every start, idempotently, on a store
/// that persists: credentials and keys survive, and the file never
/// re-activates an identity that was suspended since.
#[tokio::test]
async fn the_inventory_is_reapplied_at_start_and_never_reactivates() {
    let dir = stored_example("restart");
    let start = || async {
        portcullis_proxy::Gateway::start(stored_config(&dir))
            .await
            .unwrap()
    };
    let first = start().await;
    let authority = first.authority();
    let (key, token) = reporting_agent_credentials(authority);
    authority
        .set_state(
            "stale-bot",
            IdentityState::Suspended,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    let identities_before = authority.store().list_identities().unwrap().len();
    first.stop().await;

    let second = start().await;
    let authority = second.authority();
    assert_eq!(
        authority.store().list_identities().unwrap().len(),
        identities_before,
        "no duplicates"
    );
    assert_eq!(
        authority.identity("stale-bot").unwrap().unwrap().state,
        IdentityState::Suspended,
        "the file says active; the store's suspension stands"
    );
    assert_eq!(
        authority
            .identity("reporting-agent")
            .unwrap()
            .unwrap()
            .state,
        IdentityState::Active
    );
    let at = second.addr();
    // The API key and the token (same persisted signing key) still authenticate.
    let r = portcullis_testkit::send(
        at,
        &with_header(&get("/orders/v1/nope"), "X-Api-Key", &key.secret),
    )
    .await;
    assert_eq!(
        r.code().as_deref(),
        Some("undeclared-route"),
        "authenticated, then routed"
    );
    let r = portcullis_testkit::send(at, &bearer(&get("/orders/v1/nope"), &token)).await;
    assert_eq!(r.code().as_deref(), Some("undeclared-route"));
    second.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A guesser of one client's secret is slowed: after the configured number
/// of failures (10 a minute by default) every attempt is 429 with
/// `Retry-After`, before its secret is even checked; every failure is in
/// the ledger with the client id it tried; and a different client
/// authenticating from the same address is not punished for it.
#[tokio::test]
async fn failed_client_authentication_is_throttled_per_client_id() {
    let world = spawn().await;
    let victim = client_secret(&world, "reporting-agent");
    let other = client_secret(&world, "fulfilment-service");
    let form = "grant_type=client_credentials&scope=orders:read";
    let mut statuses = Vec::new();
    for i in 0..150 {
        let guess = format!("pcs_guess{i}");
        let r = token_request(&world, basic("reporting-agent", &guess), form).await;
        if r.status == 429 {
            let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
            assert_eq!(r.code().as_deref(), Some("rate-limited"));
        }
        statuses.push(r.status);
    }
    assert_eq!(
        statuses[..10],
        [401; 10],
        "the first failures are plain 401s"
    );
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // Even the right secret waits while the client id is locked out.
    let locked = token_request(&world, basic("reporting-agent", &victim), form).await;
    assert_eq!(locked.status, 429);
    // Another client from the same address is not punished.
    let fine = token_request(&world, basic("fulfilment-service", &other), form).await;
    assert_eq!(fine.status, 200, "{}", fine.text());

    world.gateway.flush_audit().await;
    let reader = Ledger::open_reader(world.gateway.ledger()).unwrap();
    let records = reader
        .query(&Filter {
            limit: 500,
            ..Filter::default()
        })
        .unwrap()
        .records;
    let tried: Vec<&Value> = records
        .iter()
        .filter(|r| r["entry"]["client_id"] == "reporting-agent")
        .collect();
    assert_eq!(
        tried.len(),
        151,
        "every attempt is recorded with the id it tried"
    );
    assert!(tried.iter().all(|r| r["entry"]["decision"] == "deny"));
    let codes: std::collections::BTreeSet<&str> = tried
        .iter()
        .filter_map(|r| r["entry"]["code"].as_str())
        .collect();
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        ["rate-limited", "unauthenticated"]
    );
    world.stop().await;
}

/// An address that keeps failing across many client ids is throttled too,
/// while a client that authenticates from it still gets its token.
#[tokio::test]
async fn failed_client_authentication_is_throttled_per_address() {
    let world = spawn_with(&format!(
        "{}\n",
        example_config().replace(
            "tokens: { issuer: portcullis,",
            "tokens: { failed_auth: { per_address: 5/m }, issuer: portcullis,"
        )
    ))
    .await;
    let good = client_secret(&world, "fulfilment-service");
    let form = "grant_type=client_credentials&scope=orders:read";
    let mut statuses = Vec::new();
    for i in 0..8 {
        let r = token_request(&world, basic(&format!("nobody-{i}"), "pcs_x"), form).await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    let fine = token_request(&world, basic("fulfilment-service", &good), form).await;
    assert_eq!(fine.status, 200, "{}", fine.text());
    world.stop().await;
}
