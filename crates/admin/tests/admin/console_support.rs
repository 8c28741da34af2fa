//! What the console's tests share: a browser that signs in through the
//! form, and the requests it sends.

use portcullis_admin::BOOTSTRAP_IDENTITY;
use portcullis_testkit::raw::{get, request};
use portcullis_testkit::{RawResponse, send};

use super::support::{Admin, SECRET};

/// A signed-in browser: its session cookie and the token its forms carry.
pub(crate) struct Browser {
    pub cookie: String,
    pub csrf: String,
}

pub(crate) fn set_cookie(r: &RawResponse, name: &str) -> Option<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next()?.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
        .next()
}

pub(crate) fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    page[at..at + 32].to_owned()
}

pub(crate) fn form(path: &str, cookie: &str, origin: Option<&str>, body: &str) -> Vec<u8> {
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", cookie),
    ];
    if let Some(origin) = origin {
        headers.push(("Origin", origin));
    }
    request("POST", path, &headers, body.as_bytes())
}

pub(crate) fn browse(path: &str, cookie: &str) -> Vec<u8> {
    request("GET", path, &[("Cookie", cookie)], b"")
}

/// Signs in through the form as the browser does; `client_id` empty for an
/// API key.
pub(crate) async fn sign_in(admin: &Admin, client_id: &str, secret: &str) -> RawResponse {
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

pub(crate) async fn signed_in(admin: &Admin) -> Browser {
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

pub(crate) fn asks_to_sign_in(r: &RawResponse, what: &str) {
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/console/login")),
        "{what}: {} {:?}",
        r.text(),
        r.headers
    );
    assert!(r.text().is_empty(), "{what}: no data");
}
