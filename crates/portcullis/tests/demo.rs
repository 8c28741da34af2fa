//! Every call the demo prints does what the demo says it does, through the
//! gateway with the caller's real token and on the bare API.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_core::IdentityState;
use portcullis_example_orders::demo_idp::DemoIdp;
use portcullis_example_orders::demo_script::{Caller, PERSON, calls};
use portcullis_store::CredentialKind;
use portcullis_testkit::{World, raw, spawn_with_idp};

/// Gets a token the way the demo's curl line does: client secret, token
/// endpoint; for the delegated caller, exchanging the person's token.
async fn token_via_endpoint(world: &World, caller: Caller, idp: &DemoIdp) -> String {
    let (identity, scopes) = caller.identity().unwrap();
    let secret = world
        .gateway
        .authority()
        .create_secret(identity, CredentialKind::ClientSecret, 3600, None)
        .unwrap()
        .secret;
    let mut body = format!("grant_type=client_credentials&scope={}", scopes.join("+"));
    if caller == Caller::Delegated {
        let (person, tenant) = PERSON;
        let now = world.gateway.authority().now();
        let subject = idp
            .person_token(person, tenant, &scopes.join(" "), now)
            .unwrap();
        body = format!(
            "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token={subject}\
             &subject_token_type=urn:ietf:params:oauth:token-type:jwt&scope={}",
            scopes.join("+")
        );
    }
    let client = raw::basic(identity, &secret);
    let r = world.token_request(Some(&client), &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_demo_call_does_what_it_says() {
    let idp = DemoIdp::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let world = spawn_with_idp(&idp.jwks_url()).await;
    let reader = token_via_endpoint(&world, Caller::Reader, &idp).await;
    let writer = token_via_endpoint(&world, Caller::Writer, &idp).await;
    let partner = token_via_endpoint(&world, Caller::Partner, &idp).await;
    let support = token_via_endpoint(&world, Caller::Delegated, &idp).await;
    let authority = world.gateway.authority();
    let (stale_id, stale_scopes) = Caller::Suspended.identity().unwrap();
    let stale_scopes: Vec<String> = stale_scopes.iter().map(|s| (*s).to_owned()).collect();
    let (stale, _) = authority
        .issue_for(stale_id, &stale_scopes, 900, "orders")
        .unwrap();
    authority
        .set_state(
            stale_id,
            IdentityState::Suspended,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();

    for call in calls() {
        let body = call.body.unwrap_or("").as_bytes();
        let request = raw::request(call.method, &call.path, &call.headers, body);
        let token = match call.caller {
            Caller::Nobody => None,
            Caller::Reader => Some(&reader),
            Caller::Writer => Some(&writer),
            Caller::Suspended => Some(&stale),
            Caller::Partner => Some(&partner),
            Caller::Delegated => Some(&support),
        };
        let request = match token {
            Some(t) => raw::with_header(&request, "Authorization", &format!("Bearer {t}")),
            None => request,
        };
        let through = world.gateway_anonymous(&request).await;
        assert_eq!(
            through.status,
            call.gateway_status,
            "{}: {}",
            call.title,
            through.text()
        );
        assert_eq!(
            through.code().as_deref(),
            call.gateway_code,
            "{}",
            call.title
        );
        if !call.bare_leak.is_empty() {
            assert!(
                !through.text().contains(call.bare_leak),
                "{}: gateway leaked {}",
                call.title,
                call.bare_leak
            );
        }
        let bare = world
            .direct(&raw::request(
                call.method,
                call.bare_path(),
                &call.headers,
                body,
            ))
            .await;
        assert_eq!(
            bare.status,
            call.bare_status,
            "{} (bare): {}",
            call.title,
            bare.text()
        );
        assert!(
            bare.text().contains(call.bare_leak),
            "{} (bare) does not show {}",
            call.title,
            call.bare_leak
        );
    }
    world.stop().await;
}

#[test]
fn curl_lines_keep_the_path_as_written_and_carry_the_token() {
    let c = calls()
        .into_iter()
        .find(|c| c.path.contains("%2E"))
        .unwrap();
    let line = c.curl("http://127.0.0.1:8080", &c.path, true);
    assert!(line.contains("--path-as-is"));
    assert!(
        line.contains("-H \"Authorization: Bearer $WRITER\""),
        "{line}"
    );
    assert!(
        line.ends_with("'http://127.0.0.1:8080/orders/v1/customers/%2E%2E/%2E%2E/debug/config'")
    );
    assert!(
        !c.curl("http://127.0.0.1:9000", c.bare_path(), false)
            .contains("Authorization")
    );
}

/// The demo's MCP session, step by step, with the reader's token as the
/// demo's curl lines send it.
#[tokio::test]
async fn the_demo_mcp_session_does_what_it_says() {
    use portcullis_example_orders::demo_mcp::{INITIALIZE, STEPS, lines};
    let idp = DemoIdp::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let world = spawn_with_idp(&idp.jwks_url()).await;
    let reader = token_via_endpoint(&world, Caller::Reader, &idp).await;
    let bearer = format!("Bearer {reader}");
    let post = |body: &str, session: Option<&str>| {
        let mut headers = vec![
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ];
        if let Some(s) = session {
            headers.push(("Mcp-Session-Id", s));
        }
        raw::request("POST", "/mcp", &headers, body.as_bytes())
    };
    let init = world.gateway_anonymous(&post(INITIALIZE, None)).await;
    assert_eq!(init.status, 200, "{}", init.text());
    let session = init.header("mcp-session-id").unwrap().to_owned();
    for step in STEPS {
        let answer = world
            .gateway_anonymous(&post(step.body, Some(&session)))
            .await;
        let result = &answer.json()["result"];
        match step.refused_with {
            None => assert_ne!(result["isError"], true, "{}: {}", step.title, answer.text()),
            Some(code) => {
                assert_eq!(result["isError"], true, "{}", step.title);
                assert_eq!(result["structuredContent"]["code"], code, "{}", step.title);
            }
        }
    }
    let listed = world
        .gateway_anonymous(&post(STEPS[0].body, Some(&session)))
        .await
        .json();
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"orders_listOrders") && !names.contains(&"orders_getCustomer"));
    let printed = lines("http://127.0.0.1:8080").join("\n");
    for step in STEPS {
        assert!(printed.contains(step.body));
    }
    world.stop().await;
}
