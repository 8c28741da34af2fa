//! The console through real sockets: every route refuses without a
//! session, every write refuses without the session's CSRF token (or from
//! another origin), sign-in needs its own form token and an admin, a
//! session ends when its admin stops being one, actions change what the
//! admin API changes, and pages escape what they show.

use portcullis_admin::BOOTSTRAP_IDENTITY;
use portcullis_testkit::raw::{get, json, request};
use portcullis_testkit::{RawResponse, send};

use super::support::{Admin, SECRET, assert_problem};

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

/// A signed-in browser: its session cookie and the token its forms carry.
struct Browser {
    cookie: String,
    csrf: String,
}

fn set_cookie(r: &RawResponse, name: &str) -> Option<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next()?.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
        .next()
}

fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    page[at..at + 32].to_owned()
}

fn form(path: &str, cookie: &str, origin: Option<&str>, body: &str) -> Vec<u8> {
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", cookie),
    ];
    if let Some(origin) = origin {
        headers.push(("Origin", origin));
    }
    request("POST", path, &headers, body.as_bytes())
}

fn browse(path: &str, cookie: &str) -> Vec<u8> {
    request("GET", path, &[("Cookie", cookie)], b"")
}

/// Signs in through the form as the browser does; `client_id` empty for an
/// API key.
async fn sign_in(admin: &Admin, client_id: &str, secret: &str) -> RawResponse {
    let page = send(admin.addr(), &get("/console/login")).await;
    assert_eq!(page.status, 200);
    let token = set_cookie(&page, "portcullis_console_login").unwrap();
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf_in(&page.text()))
        .append_pair("client_id", client_id)
        .append_pair("secret", secret)
        .finish();
    let cookie = format!("portcullis_console_login={token}");
    send(
        admin.addr(),
        &form("/console/login", &cookie, Some("http://test"), &body),
    )
    .await
}

async fn signed_in(admin: &Admin) -> Browser {
    let r = sign_in(admin, BOOTSTRAP_IDENTITY, SECRET).await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console")),
        "{}",
        r.text()
    );
    let cookie = format!(
        "portcullis_console={}",
        set_cookie(&r, "portcullis_console").unwrap()
    );
    let page = send(admin.addr(), &browse("/console/inventory", &cookie)).await;
    assert_eq!(page.status, 200);
    Browser {
        csrf: csrf_in(&page.text()),
        cookie,
    }
}

fn asks_to_sign_in(r: &RawResponse, what: &str) {
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/login")),
        "{what}: {} {:?}",
        r.text(),
        r.headers
    );
    assert!(r.text().is_empty(), "{what}: no data");
}

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
