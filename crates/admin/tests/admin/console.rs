//! The console through real sockets: every route refuses without a
//! session, every write refuses without the session's CSRF token (or from
//! another origin), actions change what the admin API changes, and pages
//! escape what they show. Sign-in and sessions: `console_session.rs`.

use portcullis_admin::BOOTSTRAP_IDENTITY;
use portcullis_testkit::raw::{get, json, request};
use portcullis_testkit::send;

use super::console_support::{asks_to_sign_in, browse, form, signed_in};
use super::support::{Admin, assert_problem};

/// Every page and fragment (`GET`) and every write (`POST`) the console has.
const PAGES: [&str; 15] = [
    "/console",
    "/console/inventory",
    "/console/identities/reporting-agent",
    "/console/identities/reporting-agent/suspend",
    "/console/identities/reporting-agent/resume",
    "/console/identities/reporting-agent/quarantine",
    "/console/identities/reporting-agent/retire",
    "/console/credentials/reporting-agent%2Fclient-secret-x/rotate",
    "/console/decisions",
    "/console/decisions/rows",
    "/console/alerts",
    "/console/posture",
    "/console/posture/report?format=json",
    "/console/audit",
    "/console/verify",
];
const WRITES: [&str; 9] = [
    "/console/identities/reporting-agent/suspend",
    "/console/identities/reporting-agent/resume",
    "/console/identities/reporting-agent/quarantine",
    "/console/identities/reporting-agent/retire",
    "/console/credentials/reporting-agent%2Fclient-secret-x/rotate",
    "/console/credentials/reporting-agent%2Fclient-secret-x/revoke",
    "/console/alerts/0000000000001-000000000001/acknowledge",
    "/console/audit/verify",
    "/console/logout",
];

#[tokio::test]
async fn every_console_route_refuses_without_a_session() {
    let admin = Admin::start().await;
    let bogus = "portcullis_console=0123456789abcdef0123456789abcdef";
    for path in PAGES {
        asks_to_sign_in(&send(admin.addr(), &get(path)).await, path);
        asks_to_sign_in(&send(admin.addr(), &browse(path, bogus)).await, path);
        // htmx's refresh is told to go to sign-in, not given a page.
        let htmx = request("GET", path, &[("HX-Request", "true")], b"");
        let r = send(admin.addr(), &htmx).await;
        assert_problem(&r, 401, "unauthenticated");
        assert_eq!(r.header("hx-redirect"), Some("/console/login"), "{path}");
    }
    for path in WRITES {
        let r = send(
            admin.addr(),
            &form(path, bogus, Some("http://test"), "csrf=x"),
        )
        .await;
        assert_problem(&r, 401, "unauthenticated");
    }
    // The admin API's credential does not open the console either.
    let by_token = super::support::bearer(&get("/console/inventory"), &admin.token);
    asks_to_sign_in(&send(admin.addr(), &by_token).await, "bearer token");
    // Only sign-in and the embedded files are open, and the files carry no data.
    assert_eq!(
        send(admin.addr(), &get("/console/assets/console.css"))
            .await
            .status,
        200
    );
    let missing = send(admin.addr(), &get("/console/assets/../Cargo.toml")).await;
    assert!(missing.status >= 400);
    admin.stop().await;
}

#[tokio::test]
async fn every_console_write_refuses_without_the_sessions_csrf_token() {
    let admin = Admin::start().await;
    let browser = signed_in(&admin).await;
    let other = format!("csrf={}", "0".repeat(32));
    let good = format!("csrf={}", browser.csrf);
    for path in WRITES {
        for (what, body, origin) in [
            ("no token", "", Some("http://test")),
            ("another token", other.as_str(), Some("http://test")),
            (
                "the token twice",
                &*format!("{good}&{good}"),
                Some("http://test"),
            ),
            (
                "from another origin",
                good.as_str(),
                Some("https://evil.example"),
            ),
            ("from an opaque origin", good.as_str(), Some("null")),
        ] {
            let r = send(admin.addr(), &form(path, &browser.cookie, origin, body)).await;
            let problem = assert_problem(&r, 403, "forbidden");
            assert!(
                problem["detail"].as_str().unwrap().contains("CSRF"),
                "{path} {what}"
            );
        }
        // A JSON body is not a form, whatever it carries.
        let mut req = json("POST", path, &format!(r#"{{"csrf":"{}"}}"#, browser.csrf));
        req = portcullis_testkit::raw::with_header(&req, "Cookie", &browser.cookie);
        let r = send(admin.addr(), &req).await;
        assert!(matches!(r.status, 403 | 415), "{path}: {}", r.status);
    }
    // Nothing above changed anything: the identity is active, the session alive.
    let listed = admin
        .call(&get("/admin/v1/identities/reporting-agent"))
        .await;
    assert_eq!(listed.json()["identity"]["state"], "active");
    assert_eq!(
        send(admin.addr(), &browse("/console", &browser.cookie))
            .await
            .status,
        200
    );
    admin.stop().await;
}

#[tokio::test]
async fn console_actions_change_what_the_admin_api_changes_and_pages_escape_text() {
    let admin = Admin::start().await;
    let browser = signed_in(&admin).await;
    let csrf = format!("csrf={}", browser.csrf);
    // Confirm first: the page says what will happen and posts back.
    let confirm = send(
        admin.addr(),
        &browse(
            "/console/identities/reporting-agent/suspend",
            &browser.cookie,
        ),
    )
    .await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm
            .text()
            .contains("action=\"/console/identities/reporting-agent/suspend\"")
    );
    let body = format!("{csrf}&reason=rotating+keys");
    let r = send(
        admin.addr(),
        &form(
            "/console/identities/reporting-agent/suspend",
            &browser.cookie,
            Some("http://test"),
            &body,
        ),
    )
    .await;
    assert_eq!(
        (r.status, r.header("location")),
        (
            303,
            Some("/console/identities/reporting-agent?done=suspend")
        )
    );
    let shown = admin
        .call(&get("/admin/v1/identities/reporting-agent"))
        .await
        .json();
    assert_eq!(shown["identity"]["state"], "suspended");
    // An unknown field is refused, not ignored.
    let r = send(
        admin.addr(),
        &form(
            "/console/identities/reporting-agent/resume",
            &browser.cookie,
            Some("http://test"),
            &format!("{csrf}&state=active"),
        ),
    )
    .await;
    assert_problem(&r, 400, "invalid-request");
    // The state change is in the ledger, made by the admin, with the reason.
    let mut recorded = serde_json::Value::Null;
    for _ in 0..50 {
        let page = admin
            .call(&get(
                "/admin/v1/decisions?decision=state&identity=reporting-agent",
            ))
            .await
            .json();
        if let Some(first) = page["decisions"].as_array().and_then(|d| d.first()) {
            recorded = first["entry"]["state_change"].clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(recorded["by"], BOOTSTRAP_IDENTITY);
    assert_eq!(recorded["reason"], "rotating keys (from the console)");
    // Text an attacker wrote shows as text.
    let created = admin
        .call(&json(
            "POST",
            "/admin/v1/identities",
            r#"{"id":"tricky","kind":"agent","owner":"<script>alert(1)</script>","environment":"<img src=x onerror=alert(2)>","scopes":[]}"#,
        ))
        .await;
    assert_eq!(created.status, 201);
    for path in ["/console/inventory", "/console/identities/tricky"] {
        let page = send(admin.addr(), &browse(path, &browser.cookie)).await;
        let text = page.text();
        // askama escapes with numeric references.
        assert!(
            text.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}"
        );
        assert!(
            !text.contains("<script>alert") && !text.contains("<img src=x"),
            "{path}"
        );
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
    }
    // Verify runs and says each chain is intact.
    let r = send(
        admin.addr(),
        &form(
            "/console/audit/verify",
            &browser.cookie,
            Some("http://test"),
            &csrf,
        ),
    )
    .await;
    assert_eq!(r.status, 303);
    let audit = send(admin.addr(), &browse("/console/audit", &browser.cookie))
        .await
        .text();
    assert!(audit.contains("intact"), "{audit}");
    // Signing out ends the session.
    let r = send(
        admin.addr(),
        &form(
            "/console/logout",
            &browser.cookie,
            Some("http://test"),
            &csrf,
        ),
    )
    .await;
    assert_eq!(r.status, 303);
    asks_to_sign_in(
        &send(admin.addr(), &browse("/console", &browser.cookie)).await,
        "signed out",
    );
    admin.stop().await;
}

#[tokio::test]
async fn credential_actions_show_a_new_secret_once_and_are_recorded_with_the_admin() {
    let admin = Admin::start().await;
    let browser = signed_in(&admin).await;
    let csrf = format!("csrf={}", browser.csrf);
    let made = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/reporting-agent/credentials",
            r#"{"kind":"api-key","ttl_secs":3600}"#,
        ))
        .await
        .json();
    let old = made["credential_id"].as_str().unwrap().to_owned();
    let encoded = old.replace('/', "%2F");
    // Rotate: asked first, then the new secret on its own page, once.
    let path = format!("/console/credentials/{encoded}/rotate");
    let confirm = send(admin.addr(), &browse(&path, &browser.cookie)).await;
    assert!(confirm.text().contains("name=\"overlap_secs\""));
    let bad = send(
        admin.addr(),
        &form(
            &path,
            &browser.cookie,
            Some("http://test"),
            &format!("{csrf}&overlap_secs=-1"),
        ),
    )
    .await;
    assert_problem(&bad, 400, "invalid-request");
    let rotated = send(
        admin.addr(),
        &form(
            &path,
            &browser.cookie,
            Some("http://test"),
            &format!("{csrf}&overlap_secs=0"),
        ),
    )
    .await;
    assert_eq!(rotated.status, 200);
    let page = rotated.text();
    assert!(
        page.contains("only time the secret is shown") && page.contains("pck_"),
        "{page}"
    );
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
    // Revoke the new one.
    let listed = admin
        .call(&get("/admin/v1/identities/reporting-agent"))
        .await
        .json();
    let new = listed["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "api-key" && c["id"] != old.as_str() && c["usable"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/console/credentials/{}/revoke", new.replace('/', "%2F"));
    let revoked = send(
        admin.addr(),
        &form(&path, &browser.cookie, Some("http://test"), &csrf),
    )
    .await;
    assert_eq!(
        (revoked.status, revoked.header("location")),
        (303, Some("/console/identities/reporting-agent?done=revoke"))
    );
    // Both are in the ledger, with the admin, never a secret.
    let page = admin
        .call(&get(
            "/admin/v1/decisions?decision=credential&identity=reporting-agent",
        ))
        .await
        .json();
    let changes: Vec<(String, String, String)> = page["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let c = &r["entry"]["credential_change"];
            (
                c["credential"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                c["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                new.clone(),
                "revoked".to_owned(),
                BOOTSTRAP_IDENTITY.to_owned()
            ),
            (old, "rotated".to_owned(), BOOTSTRAP_IDENTITY.to_owned()),
        ]
    );
    assert!(!page.to_string().contains("pck_"));
    admin.stop().await;
}
