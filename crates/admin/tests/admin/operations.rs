//! Every operation, checked through the gateway it manages: identities,
//! credentials, tokens and signing keys.

use portcullis_admin::BOOTSTRAP_IDENTITY;
use portcullis_testkit::RawResponse;
use portcullis_testkit::raw::{get, json, request, with_header};

use super::support::{Admin, assert_problem, bearer, encoded, jti_exp, pointers, token};

#[tokio::test]
async fn identities_are_listed_created_shown_and_suspended() {
    let admin = Admin::start().await;
    let list = admin.call(&get("/admin/v1/identities")).await;
    assert_eq!(list.status, 200, "{}", list.text());
    let ids: Vec<String> = list.json()["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(ids.iter().any(|i| i == BOOTSTRAP_IDENTITY));

    let created = admin
        .call(&json(
            "POST",
            "/admin/v1/identities",
            r#"{"id": "nightly-ci", "kind": "ci-job", "owner": "team-build",
                "environment": "ci", "tags": ["nightly", "reporting"], "scopes": ["orders:read"]}"#,
        ))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.header("location"),
        Some("/admin/v1/identities/nightly-ci")
    );
    assert_eq!(created.json()["state"], "active");
    let again = admin
        .call(&json(
            "POST",
            "/admin/v1/identities",
            r#"{"id": "nightly-ci", "kind": "agent", "owner": "x", "environment": "y", "scopes": []}"#,
        ))
        .await;
    assert_eq!(
        pointers(&assert_problem(&again, 400, "invalid-request")),
        ["/body/id"]
    );

    // A client secret: shown once, in the creating response only.
    let new = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/nightly-ci/credentials",
            r#"{"kind": "client-secret", "ttl_secs": 600, "label": "runner 1"}"#,
        ))
        .await;
    assert_eq!(new.status, 201, "{}", new.text());
    let secret = new.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pcs_"));
    assert_eq!(new.header("cache-control"), Some("no-store"));
    let shown = admin.call(&get("/admin/v1/identities/nightly-ci")).await;
    assert_eq!(shown.status, 200);
    assert!(!shown.text().contains(&secret));
    let credential = &shown.json()["credentials"][0];
    assert_eq!(credential["kind"], "client-secret");
    assert_eq!(credential["label"], "runner 1");
    assert!(credential.get("secret").is_none() && credential.get("secret_hash").is_none());

    // The secret works at the gateway; suspending bites on the next request.
    let issued = token(&admin.world, "nightly-ci", &secret, "orders:read").await;
    let agent = issued.json()["access_token"].as_str().unwrap().to_owned();
    let orders = bearer(&get("/orders/v1/orders"), &agent);
    assert_eq!(admin.world.gateway_anonymous(&orders).await.status, 200);
    let suspended = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/nightly-ci/state",
            r#"{"state": "suspended"}"#,
        ))
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.text());
    assert_eq!(suspended.json()["state"], "suspended");
    let refused = admin.world.gateway_anonymous(&orders).await;
    assert_eq!(refused.code().as_deref(), Some("identity-suspended"));
    let active = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/nightly-ci/state",
            r#"{"state": "active"}"#,
        ))
        .await;
    assert_eq!(active.status, 200);
    assert_eq!(admin.world.gateway_anonymous(&orders).await.status, 200);
    admin.stop().await;
}

#[tokio::test]
async fn credentials_are_rotated_and_revoked() {
    let admin = Admin::start().await;
    let key_of = |r: &RawResponse| {
        let v = r.json();
        (
            v["credential_id"].as_str().unwrap().to_owned(),
            v["secret"].as_str().unwrap().to_owned(),
        )
    };
    let new = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/reporting-agent/credentials",
            r#"{"kind": "api-key", "ttl_secs": 3600}"#,
        ))
        .await;
    assert_eq!(new.status, 201, "{}", new.text());
    let (old_id, old_key) = key_of(&new);
    assert!(old_id.starts_with("reporting-agent/") && old_key.starts_with("pck_"));
    let orders = |key: &str| with_header(&get("/orders/v1/orders"), "X-Api-Key", key);
    assert_eq!(
        admin
            .world
            .gateway_anonymous(&orders(&old_key))
            .await
            .status,
        200
    );

    let rotated = admin
        .call(&json(
            "POST",
            &format!("/admin/v1/credentials/{}/rotate", encoded(&old_id)),
            r#"{"overlap_secs": 0}"#,
        ))
        .await;
    assert_eq!(rotated.status, 201, "{}", rotated.text());
    assert_eq!(rotated.json()["replaces"], old_id.as_str());
    let (new_id, new_key) = key_of(&rotated);
    assert_ne!(new_key, old_key);
    assert_eq!(
        admin
            .world
            .gateway_anonymous(&orders(&old_key))
            .await
            .status,
        401
    );
    assert_eq!(
        admin
            .world
            .gateway_anonymous(&orders(&new_key))
            .await
            .status,
        200
    );

    let revoke = format!("/admin/v1/credentials/{}/revoke", encoded(&new_id));
    let revoked = admin.call(&request("POST", &revoke, &[], b"")).await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    assert_eq!(
        admin
            .world
            .gateway_anonymous(&orders(&new_key))
            .await
            .status,
        401
    );
    let shown = admin
        .call(&get("/admin/v1/identities/reporting-agent"))
        .await;
    let listed = shown.json()["credentials"].clone();
    let revoked_view = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == new_id.as_str())
        .unwrap();
    assert!(revoked_view["revoked"].is_i64());
    assert_eq!(revoked_view["usable"], false);
    assert!(!shown.text().contains(&new_key) && !shown.text().contains(&old_key));

    // A slash that is not encoded names no route; a credential that does not exist is named.
    let bare = admin
        .call(&request(
            "POST",
            &format!("/admin/v1/credentials/{new_id}/revoke"),
            &[],
            b"",
        ))
        .await;
    assert_problem(&bare, 404, "undeclared-route");
    let missing = admin
        .call(&json(
            "POST",
            "/admin/v1/credentials/reporting-agent%2Fnope/rotate",
            r#"{"overlap_secs": 5}"#,
        ))
        .await;
    assert_eq!(
        pointers(&assert_problem(&missing, 400, "invalid-request")),
        ["/path/credential_id"]
    );

    // A public key for private_key_jwt; a malformed key is located.
    let key = portcullis_token::SigningKey::generate("agent-key", 0).unwrap();
    let body = serde_json::json!({"kind": "private-key-jwt", "jwk": key.public_jwk(), "expires": admin.world.gateway.authority().now() + 600});
    let registered = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/reporting-agent/credentials",
            &body.to_string(),
        ))
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    assert!(registered.json().get("secret").is_none());
    let bad = serde_json::json!({"kind": "private-key-jwt", "jwk": {"kty": "RSA"}, "expires": admin.world.gateway.authority().now() + 600});
    let bad = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/reporting-agent/credentials",
            &bad.to_string(),
        ))
        .await;
    assert_eq!(
        pointers(&assert_problem(&bad, 400, "invalid-request")),
        ["/body/jwk"]
    );
    admin.stop().await;
}

#[tokio::test]
async fn tokens_are_revoked_and_signing_keys_rotated() {
    let admin = Admin::start().await;
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
    let orders = bearer(&get("/orders/v1/orders"), &agent);
    assert_eq!(admin.world.gateway_anonymous(&orders).await.status, 200);

    let rotated = admin
        .call(&request("POST", "/admin/v1/keys/rotate", &[], b""))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let kid = rotated.json()["kid"].as_str().unwrap().to_owned();
    let jwks = admin
        .world
        .gateway_anonymous(&get("/.well-known/jwks.json"))
        .await
        .json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(kids.len() >= 2 && kids.contains(&kid.as_str()), "{kids:?}");
    // Tokens signed before the rotation still verify until they expire.
    assert_eq!(admin.world.gateway_anonymous(&orders).await.status, 200);

    let (jti, exp) = jti_exp(&agent);
    let body = serde_json::json!({"jti": jti, "expires": exp}).to_string();
    let revoked = admin
        .call(&json("POST", "/admin/v1/tokens/revoke", &body))
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    assert_problem(
        &admin.world.gateway_anonymous(&orders).await,
        401,
        "unauthenticated",
    );

    let bad = admin
        .call(&json(
            "POST",
            "/admin/v1/tokens/revoke",
            r#"{"jti": "", "expires": 0}"#,
        ))
        .await;
    let mut at = pointers(&assert_problem(&bad, 400, "invalid-request"))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    at.sort();
    assert_eq!(at, ["/body/expires", "/body/jti"]);
    admin.stop().await;
}
