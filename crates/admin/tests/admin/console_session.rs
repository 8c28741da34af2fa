//! Signing in to the console and how a session ends: the sign-in form's
//! own token, an admin only, the cookie's attributes, and a session that
//! ends when its admin is suspended or its credential revoked.

use portcullis_admin::BOOTSTRAP_IDENTITY;
use portcullis_testkit::raw::{json, request};
use portcullis_testkit::send;

use super::console_support::{asks_to_sign_in, browse, form, set_cookie, sign_in, signed_in};
use super::support::{Admin, SECRET, assert_problem};

#[tokio::test]
async fn sign_in_needs_its_form_token_and_an_active_admin() {
    let admin = Admin::start().await;
    // Without the form's own token (a page elsewhere posting a login).
    let body = format!(
        "csrf={}&client_id={BOOTSTRAP_IDENTITY}&secret={SECRET}",
        "a".repeat(32)
    );
    let r = send(
        admin.addr(),
        &form("/console/login", "", Some("http://test"), &body),
    )
    .await;
    assert_problem(&r, 403, "forbidden");
    // A wrong secret, and a valid key of an identity that is not an admin.
    for (client, secret) in [
        (BOOTSTRAP_IDENTITY, "wrong-secret"),
        ("", admin.world.key.as_str()),
    ] {
        let r = sign_in(&admin, client, secret).await;
        assert_eq!(r.status, 200, "{client}: {}", r.text());
        assert!(set_cookie(&r, "portcullis_console").is_none());
        assert!(
            r.text()
                .contains("does not sign in an active admin identity")
        );
    }
    // The cookie is what a session cookie must be.
    let r = sign_in(&admin, BOOTSTRAP_IDENTITY, SECRET).await;
    let raw = r
        .headers
        .iter()
        .find(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("portcullis_console="))
        .map(|(_, v)| v.clone())
        .unwrap();
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=14400",
    ] {
        assert!(raw.contains(part), "{raw}");
    }
    assert!(!raw.contains("Secure"), "plain HTTP: {raw}");
    // Reached over HTTPS through a terminating proxy, cookies are Secure.
    let proxied = request(
        "GET",
        "/console/login",
        &[("X-Forwarded-Proto", "https")],
        b"",
    );
    let page = send(admin.addr(), &proxied).await;
    let login = page.header("set-cookie").unwrap();
    assert!(login.ends_with("; Secure"), "{login}");
    admin.stop().await;
}

#[tokio::test]
async fn a_session_ends_when_its_admin_is_suspended_or_its_credential_revoked() {
    let admin = Admin::start().await;
    let browser = signed_in(&admin).await;
    // A second admin identity, signed in with an API key.
    let created = admin
        .call(&json(
            "POST",
            "/admin/v1/identities",
            r#"{"id":"ops-admin","kind":"service","owner":"ops","environment":"test","scopes":["portcullis:admin"]}"#,
        ))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let key = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/ops-admin/credentials",
            r#"{"kind":"api-key","ttl_secs":3600}"#,
        ))
        .await
        .json();
    let r = sign_in(&admin, "", key["secret"].as_str().unwrap()).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let ops = format!(
        "portcullis_console={}",
        set_cookie(&r, "portcullis_console").unwrap()
    );
    assert_eq!(
        send(admin.addr(), &browse("/console", &ops)).await.status,
        200
    );
    // Its key revoked: its session ends on the next request.
    let id = key["credential_id"].as_str().unwrap().replace('/', "%2F");
    let revoked = admin
        .call(&request(
            "POST",
            &format!("/admin/v1/credentials/{id}/revoke"),
            &[],
            b"",
        ))
        .await;
    assert_eq!(revoked.status, 204);
    asks_to_sign_in(
        &send(admin.addr(), &browse("/console", &ops)).await,
        "revoked key",
    );
    // The bootstrap admin suspended from its own console: that session ends too.
    let suspend = format!("csrf={}", browser.csrf);
    let path = format!("/console/identities/{BOOTSTRAP_IDENTITY}/suspend");
    let r = send(
        admin.addr(),
        &form(&path, &browser.cookie, Some("http://test"), &suspend),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    asks_to_sign_in(
        &send(admin.addr(), &browse("/console", &browser.cookie)).await,
        "suspended admin",
    );
    admin.stop().await;
}
