//! Delegation from the admin side: what agents did for a person
//! (`decisions?person=`), and revoking a person's subject token by issuer
//! and `jti`, which ends every token exchanged from it.

use portcullis_example_orders::demo_idp::{DemoIdp, ISSUER};
use portcullis_example_orders::seed::CUSTOMER_ACME;
use portcullis_store::CredentialKind;
use portcullis_testkit::raw::{get, json, with_header};

use super::support::{Admin, assert_problem, jti_exp, pointers};

#[tokio::test]
async fn decisions_by_person_and_revoking_a_persons_token() {
    let idp = DemoIdp::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let admin = Admin::start_with_idp(&idp.jwks_url()).await;
    let authority = admin.world.gateway.authority();
    let secret = authority
        .create_secret("support-agent", CredentialKind::ClientSecret, 3600, None)
        .unwrap()
        .secret;
    let alice = idp
        .person_token("alice", CUSTOMER_ACME, "orders:read", authority.now())
        .unwrap();
    let body = format!(
        "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token={alice}\
         &subject_token_type=urn:ietf:params:oauth:token-type:jwt&scope=orders:read"
    );
    let client = portcullis_testkit::raw::basic("support-agent", &secret);
    let exchanged = admin.world.token_request(Some(&client), &body).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.text());
    let token = exchanged.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let orders = get(&format!("/orders/v1/customers/{CUSTOMER_ACME}/orders"));
    let call = with_header(&orders, "Authorization", &format!("Bearer {token}"));
    assert_eq!(admin.world.gateway_anonymous(&call).await.status, 200);

    // The exchange and the call, found by person; no one else's.
    let mut found = Vec::new();
    for _ in 0..100 {
        let page = admin
            .call(&get("/admin/v1/decisions?person=alice"))
            .await
            .json();
        found = page["decisions"].as_array().unwrap().clone();
        if found.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(found.len(), 2, "{found:#?}");
    for record in &found {
        assert_eq!(record["entry"]["on_behalf_of"]["person"], "alice");
        assert_eq!(record["entry"]["on_behalf_of"]["issuer"], ISSUER);
        assert_eq!(record["entry"]["on_behalf_of"]["chain"][0], "support-agent");
    }
    let bob = admin
        .call(&get("/admin/v1/decisions?person=bob"))
        .await
        .json();
    assert_eq!(bob["decisions"].as_array().unwrap().len(), 0);

    // Revoking alice's own token at her issuer ends what was exchanged from it.
    let (jti, exp) = jti_exp(&alice);
    let revoke = |issuer: &str| {
        let body = serde_json::json!({ "jti": jti, "expires": exp, "issuer": issuer }).to_string();
        json("POST", "/admin/v1/tokens/revoke", &body)
    };
    let untrusted = admin.call(&revoke("https://elsewhere.example")).await;
    let problem = assert_problem(&untrusted, 400, "invalid-request");
    assert_eq!(pointers(&problem), ["/body/issuer"]);
    assert_eq!(admin.world.gateway_anonymous(&call).await.status, 200);
    let revoked = admin.call(&revoke(ISSUER)).await;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    assert_problem(
        &admin.world.gateway_anonymous(&call).await,
        401,
        "unauthenticated",
    );
    admin.stop().await;
}
