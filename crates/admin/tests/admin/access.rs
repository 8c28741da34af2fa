//! Who may use the admin listener, the bootstrap path, and the shape of
//! every refusal: credentials, paths, methods, queries, bodies.

use portcullis_admin::{BOOTSTRAP_IDENTITY, bootstrap};
use portcullis_testkit::raw::{get, json, request, with_header};
use portcullis_testkit::{send, spawn};

use super::support::{Admin, SECRET, assert_problem, bearer, pointers, token};

#[tokio::test]
async fn no_or_bad_credential_is_401_with_a_challenge_before_any_path() {
    let admin = Admin::start().await;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "none",
            get("/admin/v1/identities"),
            "Bearer realm=\"portcullis\", resource_metadata=",
        ),
        (
            "unknown path",
            get("/admin/v1/no-such-thing"),
            "Bearer realm=\"portcullis\", resource_metadata=",
        ),
        (
            "bad token",
            bearer(&get("/admin/v1/identities"), "abc.def.ghi"),
            "error=\"invalid_token\"",
        ),
        (
            "basic",
            with_header(&get("/admin/v1/identities"), "Authorization", "Basic eDp5"),
            "error=\"invalid_request\"",
        ),
        (
            "unknown key",
            with_header(&get("/admin/v1/identities"), "X-Api-Key", "pck_nope"),
            "error=\"invalid_token\"",
        ),
    ];
    for (what, req, challenge) in cases {
        let r = send(admin.addr(), &req).await;
        assert_problem(&r, 401, "unauthenticated");
        let got = r.header("www-authenticate").unwrap_or_default();
        assert!(got.contains(challenge), "{what}: {got}");
    }
    admin.stop().await;
}

#[tokio::test]
async fn a_non_admin_credential_is_403_insufficient_scope() {
    let admin = Admin::start().await;
    // The tester's API key holds every scope the contracts name, not admin.
    let by_key = send(
        admin.addr(),
        &with_header(&get("/admin/v1/identities"), "X-Api-Key", &admin.world.key),
    )
    .await;
    let secret = admin
        .world
        .gateway
        .authority()
        .create_secret(
            "reporting-agent",
            portcullis_store::CredentialKind::ClientSecret,
            600,
            None,
        )
        .unwrap();
    let issued = token(
        &admin.world,
        "reporting-agent",
        &secret.secret,
        "orders:read",
    )
    .await;
    let agent = issued.json()["access_token"].as_str().unwrap().to_owned();
    let by_token = send(admin.addr(), &bearer(&get("/admin/v1/identities"), &agent)).await;
    for r in [by_key, by_token] {
        assert_problem(&r, 403, "insufficient-scope");
        let challenge = r.header("www-authenticate").unwrap();
        assert!(
            challenge.contains("error=\"insufficient_scope\", scope=\"portcullis:admin\""),
            "{challenge}"
        );
    }
    admin.stop().await;
}

#[tokio::test]
async fn bootstrap_rules() {
    let world = spawn().await;
    let authority = world.gateway.authority();
    assert_eq!(bootstrap(authority, None).unwrap(), None);
    assert!(bootstrap(authority, Some("too-short")).is_err());
    assert!(bootstrap(authority, Some(&format!("{SECRET} with spaces"))).is_err());
    assert_eq!(
        bootstrap(authority, Some(SECRET)).unwrap().as_deref(),
        Some(BOOTSTRAP_IDENTITY)
    );
    // Once an admin exists, a secret left in the environment changes nothing.
    assert_eq!(bootstrap(authority, Some(SECRET)).unwrap(), None);
    let credentials = authority
        .store()
        .list_credentials(BOOTSTRAP_IDENTITY)
        .unwrap();
    assert_eq!(credentials.len(), 1);
    assert!(credentials[0].expires <= authority.now() + 24 * 3600);
    // Asking for more than the admin scope is refused at the token endpoint.
    let wide = token(
        &world,
        BOOTSTRAP_IDENTITY,
        SECRET,
        "portcullis:admin orders:read",
    )
    .await;
    assert_eq!(wide.json()["error"], "invalid_scope");
    world.stop().await;
}

#[tokio::test]
async fn bad_bodies_are_located_problems() {
    let admin = Admin::start().await;
    let state = "/admin/v1/identities/reporting-agent/state";
    let cases: [(&str, &str, Vec<&str>); 6] = [
        ("syntax", "{\"state\": ", vec!["/body"]),
        ("not an object", "[\"suspended\"]", vec!["/body"]),
        (
            "unknown field",
            r#"{"state": "suspended", "why": "x"}"#,
            vec!["/body/why"],
        ),
        (
            "bad spelling",
            r#"{"state": "sleeping"}"#,
            vec!["/body/state"],
        ),
        ("wrong type", r#"{"state": 3}"#, vec!["/body/state"]),
        ("missing", "{}", vec!["/body/state"]),
    ];
    for (what, body, want) in cases {
        let r = admin.call(&json("POST", state, body)).await;
        let problem = assert_problem(&r, 400, "invalid-request");
        assert_eq!(pointers(&problem), want, "{what}");
    }
    let plain = admin
        .call(&request(
            "POST",
            state,
            &[("Content-Type", "text/plain")],
            br#"{"state": "active"}"#,
        ))
        .await;
    assert_problem(&plain, 415, "unsupported-media-type");
    let empty = admin.call(&request("POST", state, &[], b"")).await;
    assert_eq!(
        pointers(&assert_problem(&empty, 400, "invalid-request")),
        ["/body"]
    );
    let declared = [
        ("Content-Type", "application/json"),
        ("Content-Length", "70000"),
    ];
    let large = admin.call(&request("POST", state, &declared, b"")).await;
    assert_problem(&large, 413, "payload-too-large");
    let latin = [("Content-Type", "application/json; charset=latin1")];
    let latin = admin
        .call(&request("POST", state, &latin, br#"{"state": "active"}"#))
        .await;
    assert_problem(&latin, 415, "unsupported-media-type");
    let ttl = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/reporting-agent/credentials",
            r#"{"kind": "api-key", "ttl_secs": "soon"}"#,
        ))
        .await;
    let problem = assert_problem(&ttl, 400, "invalid-request");
    assert_eq!(pointers(&problem), ["/body/ttl_secs"]);
    assert!(!problem.to_string().contains("i64"));
    let new = admin
        .call(&json("POST", "/admin/v1/identities", r#"{"id": "Bad Id", "kind": "agent", "owner": "", "environment": "e", "scopes": ["a b"]}"#))
        .await;
    let mut at = pointers(&assert_problem(&new, 400, "invalid-request"))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    at.sort();
    assert_eq!(at, ["/body/id", "/body/owner", "/body/scopes/0"]);
    admin.stop().await;
}

#[tokio::test]
async fn paths_methods_and_queries_are_refused_in_shape() {
    let admin = Admin::start().await;
    for path in [
        "/admin/v1/nope",
        "/admin/v2/identities",
        "/",
        "/admin/v1/identities/",
        "/orders/v1/orders",
    ] {
        let r = admin.call(&get(path)).await;
        assert_problem(&r, 404, "undeclared-route");
    }
    let r = admin.call(&get("/admin/v1/keys/rotate")).await;
    assert_problem(&r, 405, "method-not-allowed");
    assert_eq!(r.header("allow"), Some("POST"));
    let r = admin
        .call(&request("DELETE", "/admin/v1/identities", &[], b""))
        .await;
    assert_problem(&r, 405, "method-not-allowed");
    let allow = r.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let r = admin.call(&get("/admin/v1/identities?state=active")).await;
    assert_eq!(
        pointers(&assert_problem(&r, 400, "invalid-request")),
        ["/query"]
    );
    for (path, pointer) in [
        ("/admin/v1/identities/Not%20Valid", "/path/id"),
        ("/admin/v1/identities/ghost", "/path/id"),
        ("/admin/v1/identities/%FF", "/path/id"),
    ] {
        let r = admin.call(&get(path)).await;
        assert_eq!(
            pointers(&assert_problem(&r, 400, "invalid-request")),
            [pointer],
            "{path}"
        );
    }
    let ghost = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/ghost/state",
            r#"{"state": "retired"}"#,
        ))
        .await;
    assert_eq!(
        pointers(&assert_problem(&ghost, 400, "invalid-request")),
        ["/path/id"]
    );
    let with_body = admin
        .call(&json("POST", "/admin/v1/keys/rotate", "{}"))
        .await;
    assert_eq!(
        pointers(&assert_problem(&with_body, 400, "invalid-request")),
        ["/body"]
    );
    let id = admin
        .call(&with_header(
            &get("/admin/v1/nope"),
            "X-Request-Id",
            "req-42",
        ))
        .await;
    assert_eq!(id.json()["instance"], "req-42");
    admin.stop().await;
}

#[tokio::test]
async fn a_suspended_admin_is_refused_on_its_next_request() {
    let admin = Admin::start().await;
    admin
        .world
        .gateway
        .authority()
        .set_state(
            BOOTSTRAP_IDENTITY,
            portcullis_core::IdentityState::Suspended,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    let r = admin.call(&get("/admin/v1/identities")).await;
    assert_problem(&r, 403, "identity-suspended");
    admin.stop().await;
}

#[tokio::test]
async fn the_gateway_listener_never_serves_admin_routes() {
    let admin = Admin::start().await;
    for req in [
        get("/admin/v1/identities"),
        bearer(&get("/admin/v1/identities"), &admin.token),
        with_header(&get("/admin/v1/identities"), "X-Api-Key", &admin.world.key),
        bearer(
            &request("POST", "/admin/v1/keys/rotate", &[], b""),
            &admin.token,
        ),
    ] {
        let r = admin.world.gateway_anonymous(&req).await;
        assert!(matches!(r.status, 401 | 404), "{} {}", r.status, r.text());
        assert!(r.code().is_some(), "{}", r.text());
        assert!(r.json().get("identities").is_none() && r.json().get("kid").is_none());
    }
    admin.stop().await;
}

#[tokio::test]
async fn stop_closes_the_listener() {
    let admin = Admin::start().await;
    let addr = admin.addr();
    let started = std::time::Instant::now();
    admin.server.stop().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    admin.world.stop().await;
}
