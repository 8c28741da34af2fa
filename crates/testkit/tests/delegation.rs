//! Agents acting for people (RFC 8693 token exchange) through the real
//! listener, against a test IdP whose key set the gateway fetches from a
//! loopback listener: what an exchanged token says, what policies see, the
//! scope intersection, a two-hop chain, refresh on an unknown key, and the
//! cascade that ends exchanged tokens.

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

use delegated::{ACCESS_TOKEN, Delegated, JWT, basic, payload};
use idp::{ISSUER, IdpKey};
use portcullis_example_orders::seed::{CUSTOMER_ACME, CUSTOMER_GLOBEX, ORDER_PENDING};
use portcullis_testkit::raw::request;
use serde_json::json;

fn customer_orders(customer: &str) -> String {
    format!("/orders/v1/customers/{customer}/orders")
}

#[tokio::test]
async fn an_agent_acts_for_a_person_and_policies_see_both() {
    let d = Delegated::start("delegation-basics").await;
    let alice = d.idp.token(
        "alice",
        d.now(),
        json!({ "tenant_id": CUSTOMER_ACME, "scope": "orders:read orders:write", "roles": ["support-lead"] }),
    );
    let r = d.exchange("support-bot", &alice, JWT, "orders:read").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json();
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "orders:read");
    assert_eq!(body["expires_in"], 120, "delegation.max_ttl bounds it");
    let token = body["access_token"].as_str().unwrap();
    let claims = payload(token);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["act"], json!({ "sub": "support-bot" }));
    assert_eq!(claims["person"]["iss"], ISSUER);
    assert_eq!(claims["person"]["claims"]["tenant"], CUSTOMER_ACME);
    assert_eq!(claims["person"]["claims"]["roles"], json!(["support-lead"]));

    // The person's own customer: permitted; another customer: forbidden.
    let own = d.get(&customer_orders(CUSTOMER_ACME), token).await;
    assert_eq!(own.status, 200, "{}", own.text());
    let other = d.get(&customer_orders(CUSTOMER_GLOBEX), token).await;
    assert_eq!(other.code().as_deref(), Some("forbidden"));
    // The same agent without a person: the rule needs `on_behalf_of`.
    let own_token = d.own_token("support-bot", "orders:read").await;
    let alone = d.get(&customer_orders(CUSTOMER_ACME), &own_token).await;
    assert_eq!(alone.code().as_deref(), Some("forbidden"));

    // The ledger names the person, the issuer and the chain, for the
    // exchange and for the call made with its token.
    let records = d.records(5).await;
    let delegated: Vec<_> = records
        .iter()
        .filter(|r| !r["entry"]["on_behalf_of"].is_null())
        .collect();
    let expected = json!({ "person": "alice", "issuer": ISSUER, "chain": ["support-bot"] });
    assert!(delegated.len() >= 3, "{delegated:#?}");
    assert!(
        delegated
            .iter()
            .all(|r| r["entry"]["on_behalf_of"] == expected)
    );
    assert!(
        delegated
            .iter()
            .any(|r| r["entry"]["path"] == "/oauth/token"
                && r["entry"]["client_id"] == "support-bot")
    );
    let metadata = d
        .world
        .gateway_anonymous(&portcullis_testkit::raw::get(
            "/.well-known/oauth-authorization-server",
        ))
        .await
        .json();
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["client_credentials", delegated::EXCHANGE])
    );
    d.world.stop().await;
}

/// Agent grant x what the subject token allows x what is asked: the token
/// carries exactly what was asked, and only when both sides allow all of it.
#[tokio::test]
async fn scopes_are_the_intersection_of_the_agents_grant_and_the_subject_token() {
    let d = Delegated::start("delegation-scopes").await;
    let table = [
        // support-bot holds orders:read orders:write customers:read.
        (
            "support-bot",
            "orders:read orders:write",
            "orders:read orders:write",
            Ok("orders:read orders:write"),
        ),
        (
            "support-bot",
            "orders:read",
            "orders:read",
            Ok("orders:read"),
        ),
        (
            "support-bot",
            "orders:read",
            "orders:write",
            Err("scope `orders:write` is not allowed by the subject token"),
        ),
        // third-agent holds orders:read only.
        (
            "third-agent",
            "orders:read orders:write",
            "orders:read",
            Ok("orders:read"),
        ),
        (
            "third-agent",
            "orders:read orders:write",
            "orders:write",
            Err("scope `orders:write` is not granted to this client"),
        ),
        (
            "support-bot",
            "",
            "orders:read",
            Err("scope `orders:read` is not allowed by the subject token"),
        ),
        (
            "support-bot",
            "orders:read",
            "",
            Err("`scope` is not a list of valid scope tokens"),
        ),
    ];
    for (actor, allows, asked, expected) in table {
        let subject = d.idp.token("alice", d.now(), json!({ "scope": allows }));
        let r = d.exchange(actor, &subject, JWT, asked).await;
        match expected {
            Ok(scope) => {
                assert_eq!(r.status, 200, "{actor} {allows} {asked}: {}", r.text());
                assert_eq!(r.json()["scope"], scope);
                assert_eq!(
                    payload(r.json()["access_token"].as_str().unwrap())["scope"],
                    scope
                );
            }
            Err(why) => {
                assert_eq!(r.status, 400, "{actor} {allows} {asked}");
                assert_eq!(r.json()["error"], "invalid_scope");
                assert_eq!(r.json()["error_description"], why);
            }
        }
    }
    // A roles claim lists scopes too when the issuer maps it that way; here
    // the array form of `scope` is read as well.
    let subject = d
        .idp
        .token("alice", d.now(), json!({ "scope": ["orders:read"] }));
    assert_eq!(
        d.exchange("support-bot", &subject, JWT, "orders:read")
            .await
            .status,
        200
    );
    d.world.stop().await;
}

#[tokio::test]
async fn a_sub_agent_exchanges_the_exchanged_token_for_a_two_hop_chain() {
    let d = Delegated::start("delegation-chain").await;
    let bob = d.idp.token(
        "bob",
        d.now(),
        json!({ "tenant_id": CUSTOMER_ACME, "scope": "orders:read orders:write", "roles": ["support-lead"] }),
    );
    let first = d
        .exchanged("support-bot", &bob, "orders:read orders:write")
        .await;
    let second = d
        .exchanged("sub-agent", &first, "orders:read orders:write")
        .await;
    let claims = payload(&second);
    assert_eq!(claims["sub"], "bob");
    assert_eq!(
        claims["act"],
        json!({ "sub": "sub-agent", "act": { "sub": "support-bot" } })
    );
    assert_eq!(claims["person"]["claims"]["tenant"], CUSTOMER_ACME);
    assert!(claims["exp"].as_i64() <= payload(&first)["exp"].as_i64());
    // Reads pass; a write through a chain longer than one is forbidden,
    // while the one-hop token may cancel for a support lead.
    assert_eq!(
        d.get(&customer_orders(CUSTOMER_ACME), &second).await.status,
        200
    );
    let cancel = request(
        "DELETE",
        &format!("/orders/v1/orders/{ORDER_PENDING}"),
        &[],
        b"",
    );
    let bearer = |t: &str| {
        portcullis_testkit::raw::with_header(&cancel, "Authorization", &format!("Bearer {t}"))
    };
    let two = d.world.gateway_anonymous(&bearer(&second)).await;
    assert_eq!(two.code().as_deref(), Some("forbidden"), "{}", two.text());
    let one = d.world.gateway_anonymous(&bearer(&first)).await;
    assert_eq!(one.status, 204, "{}", one.text());
    // A third hop passes max_chain (2); acting twice in one chain never.
    let third = d
        .exchange("third-agent", &second, ACCESS_TOKEN, "orders:read")
        .await;
    assert_eq!(third.json()["error"], "invalid_request");
    assert_eq!(
        third.json()["error_description"],
        "the act chain would be 3 long; at most 2 is allowed"
    );
    let looped = d
        .exchange("support-bot", &second, ACCESS_TOKEN, "orders:read")
        .await;
    assert_eq!(looped.json()["error"], "invalid_request");
    // The audience stays: a token for the orders API cannot become another's.
    let moved = d
        .token_request(
            basic("sub-agent", d.secret("sub-agent")),
            &[
                ("grant_type", delegated::EXCHANGE),
                ("subject_token", &first),
                ("subject_token_type", ACCESS_TOKEN),
                ("scope", "orders:read"),
                ("resource", "/billing"),
            ],
        )
        .await;
    assert_eq!(moved.json()["error"], "invalid_target");
    d.world.stop().await;
}

#[tokio::test]
async fn ending_the_agent_or_any_token_upstream_ends_every_exchanged_token() {
    let d = Delegated::start("delegation-cascade").await;
    let authority = d.world.gateway.authority();
    let carol = d.idp.token(
        "carol",
        d.now(),
        json!({ "tenant_id": CUSTOMER_ACME, "scope": "orders:read" }),
    );
    let path = customer_orders(CUSTOMER_ACME);
    let first = d.exchanged("support-bot", &carol, "orders:read").await;
    let second = d.exchanged("sub-agent", &first, "orders:read").await;
    assert_eq!(d.get(&path, &second).await.status, 200);

    // Suspending the agent that delegated refuses both on the next request.
    authority
        .set_state(
            "support-bot",
            portcullis_core::IdentityState::Suspended,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    for token in [&first, &second] {
        let r = d.get(&path, token).await;
        assert_eq!(
            (r.status, r.code().as_deref()),
            (403, Some("identity-suspended")),
            "{}",
            r.text()
        );
    }
    authority
        .set_state(
            "support-bot",
            portcullis_core::IdentityState::Active,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    assert_eq!(d.get(&path, &second).await.status, 200);

    // Revoking the first token (by the agent holding it) ends the second.
    let revoke = d
        .world
        .gateway_anonymous(&request(
            "POST",
            "/oauth/revoke",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                (
                    "Authorization",
                    &basic("support-bot", d.secret("support-bot")).unwrap(),
                ),
            ],
            format!("token={first}").as_bytes(),
        ))
        .await;
    assert_eq!(revoke.status, 200);
    for token in [&first, &second] {
        assert_eq!(
            d.get(&path, token).await.code().as_deref(),
            Some("unauthenticated")
        );
    }

    // Revoking the person's subject token (issuer and jti) ends what came from it.
    let dave = d.idp.token(
        "dave",
        d.now(),
        json!({ "tenant_id": CUSTOMER_ACME, "scope": "orders:read" }),
    );
    let from_dave = d.exchanged("support-bot", &dave, "orders:read").await;
    assert_eq!(d.get(&path, &from_dave).await.status, 200);
    let jti = payload(&dave)["jti"].as_str().unwrap().to_owned();
    let id = portcullis_proxy::authority::person_token_id(ISSUER, &jti);
    authority.revoke_token(&id, d.now() + 3600).unwrap();
    assert_eq!(
        d.get(&path, &from_dave).await.code().as_deref(),
        Some("unauthenticated")
    );
    let again = d.exchange("support-bot", &dave, JWT, "orders:read").await;
    assert_eq!(
        again.json()["error_description"],
        "the subject token has been revoked"
    );

    // An actor token instead of a client secret: revoking it ends the exchange.
    let erin = d.idp.token(
        "erin",
        d.now(),
        json!({ "tenant_id": CUSTOMER_ACME, "scope": "orders:read" }),
    );
    let actor = d.own_token("support-bot", "orders:read").await;
    let r = d
        .token_request(
            None,
            &[
                ("grant_type", delegated::EXCHANGE),
                ("subject_token", &erin),
                ("subject_token_type", JWT),
                ("actor_token", &actor),
                ("actor_token_type", ACCESS_TOKEN),
                ("scope", "orders:read"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let from_erin = r.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(payload(&from_erin)["act"]["sub"], "support-bot");
    assert_eq!(d.get(&path, &from_erin).await.status, 200);
    authority
        .revoke_token(payload(&actor)["jti"].as_str().unwrap(), d.now() + 600)
        .unwrap();
    assert_eq!(
        d.get(&path, &from_erin).await.code().as_deref(),
        Some("unauthenticated")
    );
    d.world.stop().await;
}

#[tokio::test]
async fn an_unknown_key_reads_the_issuers_set_again_at_most_once_per_interval() {
    let d = Delegated::start("delegation-refresh").await;
    let scope = json!({ "scope": "orders:read" });
    let fay = |key: &IdpKey| key.sign(&d.idp.person_claims("fay", d.now(), scope.clone()));
    // The set is fetched on first need.
    assert_eq!(d.idp.fetches(), 0);
    d.exchanged("support-bot", &fay(&d.idp.key), "orders:read")
        .await;
    assert_eq!(d.idp.fetches(), 1);
    // Rotated at the IdP: within `jwks_refresh` (3s here) of the last read
    // the new key is unknown and the set is not read again...
    let rotated = IdpKey::generate("idp-key-2");
    d.idp.publish(&[&d.idp.key, &rotated]);
    let r = d
        .exchange("support-bot", &fay(&rotated), JWT, "orders:read")
        .await;
    assert_eq!(
        (
            r.json()["error"].as_str(),
            r.json()["error_description"].as_str()
        ),
        (
            Some("invalid_request"),
            Some("the subject token names a key its issuer does not publish")
        )
    );
    assert_eq!(d.idp.fetches(), 1);
    // ...after it, the unknown key has the set read again, once.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    d.exchanged("support-bot", &fay(&rotated), "orders:read")
        .await;
    assert_eq!(d.idp.fetches(), 2);
    // Invented key ids: refused, and no more reads within the interval.
    for i in 0..5 {
        let header = json!({ "alg": "ES256", "kid": format!("invented-{i}") });
        let claims = d.idp.person_claims("fay", d.now(), scope.clone());
        let r = d
            .exchange(
                "support-bot",
                &d.idp.key.sign_with_header(&header, &claims),
                JWT,
                "orders:read",
            )
            .await;
        assert_eq!(r.json()["error"], "invalid_request");
    }
    assert_eq!(d.idp.fetches(), 2, "no fetch within the refresh interval");
    d.world.stop().await;
}

#[tokio::test]
async fn a_key_set_in_a_file_is_read_at_start_and_again_for_an_unknown_key() {
    let d = Delegated::start_with("delegation-file", |idp, dir| {
        std::fs::write(
            dir.join("idp.jwks.json"),
            json!({ "keys": [idp.key.jwk] }).to_string(),
        )
        .unwrap();
        "file:idp.jwks.json".to_owned()
    })
    .await;
    let scope = json!({ "scope": "orders:read" });
    let gus = |key: &IdpKey| key.sign(&d.idp.person_claims("gus", d.now(), scope.clone()));
    d.exchanged("support-bot", &gus(&d.idp.key), "orders:read")
        .await;
    assert_eq!(d.idp.fetches(), 0, "nothing fetched: the set is the file's");
    // The operator writes the rotated set; past `jwks_refresh` the file is read again.
    let rotated = IdpKey::generate("idp-key-2");
    let set = json!({ "keys": [d.idp.key.jwk, rotated.jwk] }).to_string();
    std::fs::write(d.dir().join("idp.jwks.json"), set).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    d.exchanged("support-bot", &gus(&rotated), "orders:read")
        .await;
    d.world.stop().await;
}

/// An `https://` key set is fetched over TLS and its certificate verified:
/// one no public root signed is not trusted, the set is never read, and the
/// exchange answers `unavailable` rather than trusting anything.
#[tokio::test]
async fn an_https_key_set_with_an_untrusted_certificate_is_never_read() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let fixtures = portcullis_testkit::fixtures_dir().join("tls");
    let cert = rustls::pki_types::CertificateDer::from(
        std::fs::read(fixtures.join("localhost.cert.der")).unwrap(),
    );
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
        std::fs::read(fixtures.join("localhost.key.der"))
            .unwrap()
            .into(),
    );
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let (seen, done) = (Arc::clone(&handshakes), Arc::new(AtomicUsize::new(0)));
    let completed = Arc::clone(&done);
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            if acceptor.accept(socket).await.is_ok() {
                completed.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let url = format!("https://localhost:{}/jwks.json", addr.port());
    let d = Delegated::start_with("delegation-https", |_, _| url.clone()).await;
    let subject = d
        .idp
        .token("hal", d.now(), json!({ "scope": "orders:read" }));
    let r = d
        .exchange("support-bot", &subject, JWT, "orders:read")
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (503, Some("unavailable")),
        "{}",
        r.text()
    );
    assert!(
        handshakes.load(Ordering::SeqCst) >= 1,
        "the gateway never connected"
    );
    assert_eq!(done.load(Ordering::SeqCst), 0, "a handshake completed");
    task.abort();
    d.world.stop().await;
}

/// An identity's own token as the subject: a sub-agent acts for the agent
/// itself, which is then `on_behalf_of` with this gateway as its issuer,
/// and ending that agent ends the sub-agent's token.
#[tokio::test]
async fn an_agent_delegates_its_own_token_to_a_sub_agent() {
    let d = Delegated::start("delegation-own").await;
    let own = d.own_token("support-bot", "orders:read").await;
    let sub = d.exchanged("sub-agent", &own, "orders:read").await;
    let claims = payload(&sub);
    assert_eq!(claims["sub"], "support-bot");
    assert_eq!(claims["act"], json!({ "sub": "sub-agent" }));
    assert_eq!(claims["person"]["iss"], "portcullis");
    assert_eq!(claims["aud"], payload(&own)["aud"]);
    // No person of a customer: the tenant rule does not hold.
    let path = customer_orders(CUSTOMER_ACME);
    assert_eq!(
        d.get(&path, &sub).await.code().as_deref(),
        Some("forbidden")
    );
    // The identity acted for is part of the chain's standing.
    let authority = d.world.gateway.authority();
    authority
        .set_state(
            "support-bot",
            portcullis_core::IdentityState::Quarantined,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    let r = d.get(&path, &sub).await;
    assert_eq!(
        r.code().as_deref(),
        Some("identity-suspended"),
        "{}",
        r.text()
    );
    // Acting for oneself is not delegation.
    let own_sub = d.own_token("sub-agent", "orders:read").await;
    let r = d
        .exchange("sub-agent", &own_sub, ACCESS_TOKEN, "orders:read")
        .await;
    assert_eq!(r.json()["error"], "invalid_request");
    d.world.stop().await;
}

/// A key the issuer withdraws (rotated out, or compromised) stops being
/// trusted once the set is older than `jwks_max_age` (3s here): the set is
/// read again before the next token is judged, even one naming a known key.
#[tokio::test]
async fn a_key_the_issuer_withdraws_stops_being_trusted() {
    let d = Delegated::start("delegation-withdrawn").await;
    let scope = json!({ "scope": "orders:read" });
    let ida = |key: &IdpKey| key.sign(&d.idp.person_claims("ida", d.now(), scope.clone()));
    d.exchanged("support-bot", &ida(&d.idp.key), "orders:read")
        .await;
    let replacement = IdpKey::generate("idp-key-2");
    d.idp.publish(&[&replacement]);
    // Within the age, the set in hand still holds the old key.
    d.exchanged("support-bot", &ida(&d.idp.key), "orders:read")
        .await;
    assert_eq!(d.idp.fetches(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let r = d
        .exchange("support-bot", &ida(&d.idp.key), JWT, "orders:read")
        .await;
    assert_eq!(
        r.json()["error_description"],
        "the subject token names a key its issuer does not publish",
        "{}",
        r.text()
    );
    assert_eq!(d.idp.fetches(), 2);
    d.exchanged("support-bot", &ida(&replacement), "orders:read")
        .await;
    d.world.stop().await;
}
