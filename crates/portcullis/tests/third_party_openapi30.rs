//! A real-world-shaped OpenAPI 3.0 service (users, logins, books; closed
//! bodies, `nullable`, path patterns, security schemes) put behind the
//! gateway the way a new user does it from the README: `check`, `serve`,
//! `explain`, traffic through it, and `verify --gateway --discover`, each
//! with no finding but the intended ones.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

use portcullis_testkit::books::{BOOKS_SERVER, Books, PASSWORD, USER};
use portcullis_testkit::raw::{RawResponse, request, send};
use portcullis_testkit::served::Served;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// The books fixture copied to a folder of its own, pointed at `upstream`.
struct Fixture(PathBuf);

impl Fixture {
    fn new(upstream: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("portcullis-books-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let from = portcullis_testkit::fixtures_dir().join("books");
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        for name in [
            "openapi.yaml",
            "identities.yaml",
            "verify-identities.yaml",
            "policies/books.cedar",
        ] {
            std::fs::copy(from.join(name), dir.join(name)).unwrap();
        }
        let config = std::fs::read_to_string(from.join("portcullis.yaml"))
            .unwrap()
            .replace("127.0.0.1:8080", "127.0.0.1:0")
            .replace("127.0.0.1:8081", "127.0.0.1:0")
            .replace("http://127.0.0.1:5000/api", upstream);
        std::fs::write(dir.join("portcullis.yaml"), config).unwrap();
        Self(dir)
    }

    fn config(&self) -> PathBuf {
        self.0.join("portcullis.yaml")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg(args[0])
            .arg("-c")
            .arg(self.config())
            .args(&args[1..])
            .output()
            .unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `check` passes with exactly the warnings this configuration means to
/// have: a login anyone may try, staff allowed everything, books readable
/// by both identities.
fn check_has_only_the_intended_findings(fixture: &Fixture) {
    let out = fixture.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut findings: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap(),
                f["subject"].as_str().unwrap_or("")
            )
        })
        .collect();
    findings.sort();
    assert_eq!(
        findings,
        [
            "wide-open books:get_book",
            "wide-open books:list_books",
            "wide-open books:login_user",
            "wildcard-action staff-do-everything",
            "wildcard-principal anyone-logs-in",
        ],
        "{doc:#}"
    );
    assert!(
        !fixture.0.join("portcullis.db").exists(),
        "check made a store"
    );
}

fn token(fixture: &Fixture, identity: &str, scopes: &str) -> String {
    let out = Command::new(BIN)
        .args(["token", "issue", "-c"])
        .arg(fixture.config())
        .args(["--identity", identity])
        .args(scopes.split(' ').flat_map(|s| ["--scope", s]))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).trim().to_owned()
}

async fn call(
    gateway: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> RawResponse {
    let auth = format!("Bearer {token}");
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    let mut headers = vec![("Authorization", auth.as_str())];
    if !text.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    send(gateway, &request(method, path, &headers, text.as_bytes())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_openapi_30_service_is_checked_served_explained_and_verified() {
    let books = Books::start().await.unwrap();
    let fixture = Fixture::new(&books.url());
    check_has_only_the_intended_findings(&fixture);
    let served = Served::start(BIN, &fixture.config());
    let gateway = served.addr;
    let librarian = token(
        &fixture,
        "librarian",
        "books:read books:write users:read users:write",
    );

    // Closed bodies, nullable and path patterns are enforced.
    let added = call(
        gateway,
        &librarian,
        "POST",
        "/books/books",
        Some(json!({"book_title": "new_one", "secret": "s", "year": null})),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let extra = call(
        gateway,
        &librarian,
        "POST",
        "/books/books",
        Some(json!({"book_title": "x", "secret": "s", "owner": "me"})),
    )
    .await;
    assert_eq!(extra.code().as_deref(), Some("invalid-request"));
    assert_eq!(extra.json()["errors"][0]["pointer"], "/body/owner");
    let pattern = call(gateway, &librarian, "GET", "/books/users/NOT_lower", None).await;
    assert_eq!(pattern.code().as_deref(), Some("invalid-request"));
    let user = call(
        gateway,
        &librarian,
        "GET",
        &format!("/books/users/{USER}"),
        None,
    )
    .await;
    assert_eq!(user.status, 200, "{}", user.text());
    // The upstream's stack is not told.
    assert_eq!(user.header("server"), None);
    let direct = send(
        books.addr,
        &request("GET", &format!("/api/users/{USER}"), &[], b""),
    )
    .await;
    assert_eq!(direct.header("server"), Some(BOOKS_SERVER));

    // Failed logins look the same whichever way they failed.
    let login = |user: &str, password: &str| json!({"username": user, "password": password});
    let wrong = call(
        gateway,
        &librarian,
        "POST",
        "/books/users/login",
        Some(login(USER, "nope")),
    )
    .await;
    let unknown = call(
        gateway,
        &librarian,
        "POST",
        "/books/users/login",
        Some(login("nobody", "nope")),
    )
    .await;
    assert_eq!(wrong.status, 200);
    assert_eq!(
        wrong.json(),
        json!({"status": "fail", "message": "Invalid username or password."})
    );
    assert_eq!(wrong.text(), unknown.text());
    let right = call(
        gateway,
        &librarian,
        "POST",
        "/books/users/login",
        Some(login(USER, PASSWORD)),
    )
    .await;
    assert_eq!(right.json()["status"], "success", "{}", right.text());

    // `explain` agrees, and leaves no store behind it but the gateway's.
    let out = fixture.run(&[
        "explain",
        "--identity",
        "catalog-agent",
        "--request",
        "GET /books/users",
        "--json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_ne!(doc["outcome"]["decision"], "allow", "{}", stdout(&out));
    let out = fixture.run(&[
        "explain",
        "--identity",
        "catalog-agent",
        "--request",
        "GET /books/books/bookTitle77",
        "--json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(doc["outcome"]["decision"], "allow", "{}", stdout(&out));

    // `verify` through the gateway, with discovery on the upstream: every
    // operation × identity as configured, and the undeclared debug route refused.
    let out = fixture.run(&[
        "verify",
        "--format",
        "json",
        "--allow-writes",
        "--gateway",
        &format!("http://{gateway}"),
        "--discover",
        "--upstream",
        &books.url(),
        "--rate",
        "1000",
        "--fail-on",
        "never",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no report: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["conformance"]["mismatches"], json!([]), "{doc:#}");
    let checks = doc["conformance"]["checks"].as_array().unwrap();
    assert!(checks.len() >= 40, "only {} checks", checks.len());
    assert!(checks.iter().any(|c| c["kind"] == "discovered-route"));
    let routes: Vec<&str> = doc["discovery"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    assert!(routes.contains(&"/admin/users"), "{routes:?}");
    let rules: std::collections::BTreeSet<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        rules.iter().all(|r| r.starts_with("policy/")
            || *r == "verify/undeclared-route"
            || *r == "verify/skipped"),
        "{rules:?}"
    );
    drop(served);
}
