//! Every bad token-exchange request gets its RFC 6749 / RFC 8693 error with
//! the right status, is recorded as a denial, and never issues a token.
//! (Invalid or unacceptable subject and actor tokens are `invalid_request`,
//! as RFC 8693 section 2.2.2 requires.)

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

#[path = "support/delegated.rs"]
mod delegated;
#[path = "support/idp.rs"]
mod idp;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use delegated::{ACCESS_TOKEN, Delegated, EXCHANGE, JWT, basic};
use idp::IdpKey;
use serde_json::{Value, json};

fn unsigned(header: &Value, claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string().as_bytes());
    format!("{}.{}.", b64(header), b64(claims))
}

#[tokio::test]
async fn every_bad_exchange_gets_its_exact_error_is_recorded_and_issues_nothing() {
    let d = Delegated::start("delegation-refusals").await;
    let now = d.now();
    let scope = json!({ "scope": "orders:read" });
    let claims = |extra: Value| {
        let mut c = d.idp.person_claims("alice", now, scope.clone());
        if let (Value::Object(c), Value::Object(extra)) = (&mut c, extra) {
            c.extend(extra);
        }
        c
    };
    let good = d.idp.key.sign(&claims(json!({})));
    // Loads the issuer's key set, so what follows is judged against it.
    d.exchanged("support-bot", &good, "orders:read").await;

    let stranger = IdpKey::generate("idp-key-1");
    let delegated_token = d.exchanged("support-bot", &good, "orders:read").await;
    let kid = |alg: &str| json!({ "alg": alg, "kid": "idp-key-1" });
    let subject_cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown issuer",
            d.idp
                .key
                .sign(&claims(json!({ "iss": "https://evil.test" }))),
            "the subject token's issuer is not trusted here",
        ),
        (
            "alg none",
            unsigned(&kid("none"), &claims(json!({}))),
            "the subject token is signed with an algorithm its issuer is not pinned to",
        ),
        (
            "alg not pinned",
            d.idp
                .key
                .sign_with_header(&kid("RS256"), &claims(json!({}))),
            "the subject token is signed with an algorithm its issuer is not pinned to",
        ),
        (
            "shared-secret alg",
            unsigned(&kid("HS256"), &claims(json!({}))),
            "the subject token is signed with an algorithm its issuer is not pinned to",
        ),
        (
            "expired",
            d.idp.key.sign(&claims(json!({ "exp": now - 300 }))),
            "the subject token has expired",
        ),
        (
            "not yet valid",
            d.idp.key.sign(&claims(json!({ "nbf": now + 300 }))),
            "the subject token is not valid yet",
        ),
        (
            "wrong audience",
            d.idp.key.sign(&claims(json!({ "aud": "someone-else" }))),
            "the subject token is not for this gateway (`aud`)",
        ),
        (
            "forged signature",
            stranger.sign(&claims(json!({}))),
            "the subject token does not verify with its issuer's key",
        ),
        (
            "unknown kid",
            d.idp.key.sign_with_header(
                &json!({ "alg": "ES256", "kid": "gone" }),
                &claims(json!({})),
            ),
            "the subject token names a key its issuer does not publish",
        ),
        (
            "may_act names another",
            d.idp
                .key
                .sign(&claims(json!({ "may_act": { "sub": "other-bot" } }))),
            "the subject token's `may_act` does not name this actor",
        ),
        (
            "not a JWT",
            "not-a-token".to_owned(),
            "`subject_token` is not a signed JWT with an `iss`",
        ),
    ];
    let mut refused = 0;
    for (name, token, description) in &subject_cases {
        let r = d.exchange("support-bot", token, JWT, "orders:read").await;
        assert_eq!(
            (
                r.status,
                r.json()["error"].as_str(),
                r.json()["error_description"].as_str()
            ),
            (400, Some("invalid_request"), Some(*description)),
            "{name}"
        );
        assert!(r.json().get("access_token").is_none(), "{name}");
        refused += 1;
    }

    fn exchange<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![("grant_type", EXCHANGE), ("subject_token_type", JWT)];
        form.extend_from_slice(extra);
        form
    }
    let secret = basic("support-bot", d.secret("support-bot"));
    let (good_ref, delegated_ref) = (good.as_str(), delegated_token.as_str());
    /// What is wrong, the `Authorization`, the form; status, error, description.
    type Case<'a> = (
        &'a str,
        Option<String>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
        &'a str,
    );
    let request_cases: Vec<Case<'_>> = vec![
        (
            "wider scope",
            secret.clone(),
            exchange(&[("subject_token", good_ref), ("scope", "orders:write")]),
            400,
            "invalid_scope",
            "scope `orders:write` is not allowed by the subject token",
        ),
        (
            "repeated parameter",
            secret.clone(),
            exchange(&[
                ("subject_token", good_ref),
                ("subject_token", good_ref),
                ("scope", "orders:read"),
            ]),
            400,
            "invalid_request",
            "parameter `subject_token` is repeated",
        ),
        (
            "unknown parameter",
            secret.clone(),
            exchange(&[
                ("subject_token", good_ref),
                ("scope", "orders:read"),
                ("may_act", "x"),
            ]),
            400,
            "invalid_request",
            "unknown parameter `may_act`",
        ),
        (
            "unsupported subject_token_type",
            secret.clone(),
            vec![
                ("grant_type", EXCHANGE),
                ("subject_token", good_ref),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:saml2",
                ),
                ("scope", "orders:read"),
            ],
            400,
            "invalid_request",
            "`subject_token_type` must be `urn:ietf:params:oauth:token-type:access_token` or `urn:ietf:params:oauth:token-type:jwt`",
        ),
        (
            "unsupported requested_token_type",
            secret.clone(),
            exchange(&[
                ("subject_token", good_ref),
                ("scope", "orders:read"),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
            ]),
            400,
            "invalid_request",
            "`requested_token_type` can only be `urn:ietf:params:oauth:token-type:access_token`",
        ),
        (
            "no subject token",
            secret.clone(),
            exchange(&[("scope", "orders:read")]),
            400,
            "invalid_request",
            "`subject_token` is required",
        ),
        (
            "unknown resource",
            secret.clone(),
            exchange(&[
                ("subject_token", good_ref),
                ("scope", "orders:read"),
                ("resource", "/nowhere"),
            ]),
            400,
            "invalid_target",
            "`resource` must name one of the gateway's APIs",
        ),
        (
            "actor not allowed to delegate",
            basic("outsider-bot", d.secret("outsider-bot")),
            exchange(&[("subject_token", good_ref), ("scope", "orders:read")]),
            400,
            "unauthorized_client",
            "this identity may not act for others (it is not in `delegation.actors`)",
        ),
        (
            "no client authentication",
            None,
            exchange(&[("subject_token", good_ref), ("scope", "orders:read")]),
            401,
            "invalid_client",
            "client authentication is required",
        ),
        (
            "wrong secret",
            basic("support-bot", "pcs_wrong"),
            exchange(&[("subject_token", good_ref), ("scope", "orders:read")]),
            401,
            "invalid_client",
            "client authentication failed",
        ),
        (
            "a delegated token as actor token",
            None,
            exchange(&[
                ("subject_token", good_ref),
                ("scope", "orders:read"),
                ("actor_token", delegated_ref),
                ("actor_token_type", ACCESS_TOKEN),
            ]),
            401,
            "invalid_client",
            "client authentication failed",
        ),
    ];
    for (name, auth, form, status, error, description) in request_cases {
        let r = d.token_request(auth, &form).await;
        assert_eq!(
            (
                r.status,
                r.json()["error"].as_str(),
                r.json()["error_description"].as_str()
            ),
            (status, Some(error), Some(description)),
            "{name}"
        );
        assert!(r.json().get("access_token").is_none(), "{name}");
        refused += 1;
    }

    // Each was recorded as a denial of a token request.
    let records = d.records(refused + 2).await;
    let denied = records
        .iter()
        .filter(|r| r["entry"]["path"] == "/oauth/token" && r["entry"]["decision"] == "deny")
        .count();
    assert_eq!(denied, refused);
    let issued = records
        .iter()
        .filter(|r| r["entry"]["path"] == "/oauth/token" && r["entry"]["decision"] == "allow")
        .count();
    assert_eq!(issued, 2, "only the two good exchanges issued a token");
    // Not allowed to act for others is recorded as what it is.
    assert!(records.iter().any(|r| {
        r["entry"]["client_id"] == "outsider-bot" && r["entry"]["code"] == "forbidden"
    }));
    d.world.stop().await;
}

#[tokio::test]
async fn without_a_delegation_section_the_grant_is_unsupported() {
    let config =
        portcullis_testkit::without_section(&portcullis_testkit::example_config(), "delegation");
    assert!(!config.contains("issuers:"));
    let world = portcullis_testkit::spawn_with(&config).await;
    let body = format!(
        "grant_type={EXCHANGE}&subject_token=a.b.c&subject_token_type={JWT}&client_id=x&client_secret=y"
    );
    let r = world
        .gateway_anonymous(&portcullis_testkit::raw::request(
            "POST",
            "/oauth/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        ))
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let metadata = world
        .gateway_anonymous(&portcullis_testkit::raw::get(
            "/.well-known/oauth-authorization-server",
        ))
        .await
        .json();
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["client_credentials"])
    );
    world.stop().await;
}
