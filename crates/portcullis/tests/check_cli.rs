//! `portcullis check` output, snapshot-tested: the demo (clean, with its
//! coverage matrix), a policy set that loads but has findings, policies that
//! do not load, and an empty policy folder. Then `check` as CI runs it, on
//! a copy of the books fixture: secrets that live only on the gateway host,
//! one broken API reported once, and accepted findings.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A copy of the example whose policy folder holds exactly `policies`.
struct Example(PathBuf);

impl Example {
    fn new(name: &str, policies: Option<&[(&str, &str)]>) -> Self {
        let dir =
            std::env::temp_dir().join(format!("portcullis-check-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        portcullis_testkit::copy_example(&dir);
        if let Some(policies) = policies {
            std::fs::remove_dir_all(dir.join("policies")).unwrap();
            std::fs::create_dir_all(dir.join("policies")).unwrap();
            for (file, text) in policies {
                std::fs::write(dir.join("policies").join(file), text).unwrap();
            }
        }
        Self(dir)
    }

    /// Runs `check` from the example's folder: (exit code, stdout, stderr).
    fn check(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        check_in(&self.0, extra)
    }
}

/// Runs `check` in `dir`: (exit code, stdout, stderr).
fn check_in(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(["check", "-c", "portcullis.yaml"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_demo_checks_clean_with_its_coverage_matrix() {
    let example = Example::new("demo", None);
    let (code, stdout, stderr) = example.check(&["--strict"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "");
    insta::assert_snapshot!(stdout);
}

const LOOSE: &str = r#"// Everything for everyone: both wildcards at once.
@id("allow-all")
permit(principal, action, resource);

// Names an identity the inventory does not declare.
@id("ghost-reads")
permit(principal == Identity::"ghost", action in Action::"orders:read", resource);

// `==` a group matches no single operation's request.
@id("group-by-equality")
permit(principal, action == Action::"orders:write", resource);
"#;

const FORBIDS: &str = r#"// No permit covers what this forbids... once allow-all is gone.
@id("no-cancel-for-agents")
forbid(principal, action == Action::"orders:cancelOrder", resource)
when { principal.kind == "agent" };
"#;

#[test]
fn a_loose_policy_set_loads_with_findings_and_fails_strict() {
    let example = Example::new(
        "loose",
        Some(&[("loose.cedar", LOOSE), ("forbids.cedar", FORBIDS)]),
    );
    let (code, stdout, stderr) = example.check(&[]);
    assert_eq!(code, Some(0), "warnings alone pass: {stderr}");
    insta::assert_snapshot!(stdout);
    let (code, _, _) = example.check(&["--strict"]);
    assert_eq!(code, Some(1), "--strict fails on warnings");
    let (_, json, _) = example.check(&["--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["ok"], true);
    assert!(json["findings"].as_array().unwrap().iter().any(|f| {
        f["rule"] == "wide-open" && f["basis"] == "proven" && f["subject"] == "orders:getOrder"
    }));
    assert_eq!(json["coverage"]["cells"].as_array().unwrap().len(), 12);
}

#[test]
fn a_forbid_with_no_permit_and_an_unreachable_operation() {
    let example = Example::new("forbids", Some(&[("forbids.cedar", FORBIDS)]));
    let (code, stdout, _) = example.check(&[]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("info[forbid-overrides-nothing] no-cancel-for-agents"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "warning[unreachable] orders:cancelOrder: no policy permits it for anyone (proven)"
        ),
        "{stdout}"
    );
}

#[test]
fn policies_that_do_not_load_are_errors_with_file_and_line() {
    let broken = [
        ("a-syntax.cedar", "permit(principal, action resource);\n"),
        (
            "b-schema.cedar",
            "// typo in an attribute\npermit(principal, action == Action::\"orders:getOrder\", resource)\nwhen { principal.ownr == \"x\" };\n",
        ),
        (
            "c-removed.cedar",
            "permit(principal, action == Action::\"orders:deleteEverything\", resource);\n",
        ),
        (
            "d-context.cedar",
            "permit(principal, action == Action::\"orders:getOrder\", resource)\nwhen { context.params.customerId == \"x\" };\n",
        ),
    ];
    let example = Example::new("broken", Some(&broken));
    let (code, stdout, stderr) = example.check(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    insta::assert_snapshot!(stderr);
}

#[test]
fn an_empty_policy_folder_warns_that_everything_is_denied() {
    let example = Example::new("empty", Some(&[]));
    let (code, stdout, stderr) = example.check(&[]);
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("portcullis.yaml:16: warning: no policy in `policies/`: every request to an API will be denied"),
        "{stderr}"
    );
    assert!(
        stdout.contains("warning[unreachable] orders:getOrder"),
        "{stdout}"
    );
    assert_eq!(example.check(&["--strict"]).0, Some(1));
}

/// A copy of the books fixture (`crates/testkit/fixtures/books`), its
/// configuration edited by `edit`.
struct Books(PathBuf);

impl Books {
    fn new(name: &str, edit: impl Fn(String) -> String) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-check-books-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let from = portcullis_testkit::fixtures_dir().join("books");
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        for file in ["openapi.yaml", "identities.yaml", "policies/books.cedar"] {
            std::fs::copy(from.join(file), dir.join(file)).unwrap();
        }
        let config = std::fs::read_to_string(from.join("portcullis.yaml")).unwrap();
        std::fs::write(dir.join("portcullis.yaml"), edit(config)).unwrap();
        Self(dir)
    }

    /// `check` from the folder: (exit code, stdout, stderr).
    fn check(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        check_in(&self.0, extra)
    }

    /// `check --json`'s diagnostics as `severity: message` lines, and the exit code.
    fn diagnostics(&self, extra: &[&str]) -> (Option<i32>, Vec<String>) {
        let args: Vec<&str> = ["--json"].iter().chain(extra).copied().collect();
        let (code, stdout, stderr) = self.check(&args);
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
        let lines = doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    d["severity"].as_str().unwrap(),
                    d["message"].as_str().unwrap()
                )
            })
            .collect();
        (code, lines)
    }
}

impl Drop for Books {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The books configuration with an upstream credential in a file and a
/// sealing key in the environment, neither of which exists on a CI runner.
fn with_host_secrets(config: String) -> String {
    config.replace(
        "    upstream: http://127.0.0.1:5000/api\n",
        "    upstream: http://127.0.0.1:5000/api\n    upstream_auth: { header: X-Api-Key, value: \"file:upstream.token\" }\n",
    ) + "sealing_key: \"env:PORTCULLIS_CHECK_TEST_ABSENT_SEALING_KEY\"\n"
}

#[test]
fn check_notes_each_secret_absent_here_and_passes() {
    let books = Books::new("secrets-absent", with_host_secrets);
    let (code, diagnostics) = books.diagnostics(&[]);
    assert_eq!(code, Some(0), "{diagnostics:#?}");
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    assert!(
        diagnostics.iter().all(|d| d.starts_with("note: ")),
        "{diagnostics:#?}"
    );
    assert!(
        diagnostics[0].contains("`file:upstream.token`"),
        "{diagnostics:#?}"
    );
    assert!(
        diagnostics[1].contains("`env:PORTCULLIS_CHECK_TEST_ABSENT_SEALING_KEY`"),
        "{diagnostics:#?}"
    );
    let (code, _, stderr) = books.check(&[]);
    assert_eq!(code, Some(0));
    assert!(stderr.contains("portcullis.yaml:11: note: the upstream credential `file:upstream.token` is not resolved here"), "{stderr}");
}

#[test]
fn check_with_secrets_fails_naming_only_the_absent_secrets() {
    let books = Books::new("secrets-required", with_host_secrets);
    let (code, diagnostics) = books.diagnostics(&["--secrets"]);
    assert_eq!(code, Some(1));
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
    assert!(
        diagnostics[0]
            .starts_with("error: cannot read the upstream credential from `upstream.token`"),
        "{diagnostics:#?}"
    );
    assert_eq!(
        diagnostics[1],
        "error: environment variable `PORTCULLIS_CHECK_TEST_ABSENT_SEALING_KEY` is not set"
    );
    // Present, the same references resolve; an empty one is a real problem
    // even without `--secrets`.
    std::fs::write(books.0.join("upstream.token"), "\n").unwrap();
    let (code, diagnostics) = books.diagnostics(&[]);
    assert_eq!(code, Some(1));
    assert!(
        diagnostics[0].starts_with("error: the upstream credential is empty"),
        "{diagnostics:#?}"
    );
    // `serve` resolves every secret and refuses to start without them.
    let serve = Command::new(BIN)
        .current_dir(&books.0)
        .args(["serve", "-c", "portcullis.yaml"])
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert!(
        stderr.contains("the upstream credential is empty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`PORTCULLIS_CHECK_TEST_ABSENT_SEALING_KEY` is not set"),
        "{stderr}"
    );
}

#[test]
fn one_broken_api_reports_one_error() {
    // Its upstream: the contract still loaded, so the policies and rate
    // limits naming its operations are checked against it, and pass.
    let books = Books::new("bad-upstream", |c| {
        c.replace("http://127.0.0.1:5000/api", "https://books.internal/api")
    });
    let (code, diagnostics) = books.diagnostics(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        diagnostics,
        [
            "error: upstream `https://books.internal/api`: https upstreams are not supported by this build yet"
        ]
    );
    // Its contract: what names its operations is skipped, and says so once.
    let books = Books::new("bad-contract", |c| c);
    let contract = std::fs::read_to_string(books.0.join("openapi.yaml")).unwrap();
    std::fs::write(
        books.0.join("openapi.yaml"),
        contract.replace("servers:\n", "serverz:\n"),
    )
    .unwrap();
    let (code, diagnostics) = books.diagnostics(&[]);
    assert_eq!(code, Some(1));
    let errors: Vec<&String> = diagnostics
        .iter()
        .filter(|d| d.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 1, "{diagnostics:#?}");
    assert!(errors[0].contains("`serverz`"), "{diagnostics:#?}");
    assert!(
        diagnostics.contains(&"note: `policies`: skipped: api `books` failed above".to_owned()),
        "{diagnostics:#?}"
    );
}

/// The books fixture's five findings, each reviewed and accepted.
const ACCEPT_ALL: &str = r#"accept:
  - { rule: wide-open, subject: "books:list_books", reason: the catalogue is for every client }
  - { rule: wide-open, subject: "books:get_book", reason: the catalogue is for every client }
  - { rule: wide-open, subject: "books:login_user", reason: anyone may try to log in }
  - rule: wildcard-action
    subject: staff-do-everything
    reason: staff run the library
  - { rule: wildcard-principal, subject: anyone-logs-in, reason: anyone may try to log in }
"#;

#[test]
fn strict_passes_with_every_finding_accepted_and_fails_naming_one_that_is_not() {
    let books = Books::new("accept-all", |c| c + ACCEPT_ALL);
    let (code, stdout, stderr) = books.check(&["--strict"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stderr, "");
    // Shown, never hidden.
    assert!(
        stdout.contains("0 warning(s), 5 accepted finding(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning[wide-open] books:get_book: every declared identity may call it in every sampled request (sampled), accepted: the catalogue is for every client"),
        "{stdout}"
    );
    let (_, json, _) = books.check(&["--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (doc["warnings"].as_u64(), doc["accepted"].as_u64()),
        (Some(0), Some(5))
    );
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["accepted"] == true && f["reason"].is_string())
    );

    let books = Books::new("accept-all-but-one", |c| {
        c + &ACCEPT_ALL.replace(
            "  - { rule: wide-open, subject: \"books:get_book\", reason: the catalogue is for every client }\n",
            "",
        )
    });
    let (code, stdout, _) = books.check(&["--strict"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("1 warning(s), 4 accepted finding(s)"),
        "{stdout}"
    );
    let unaccepted: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  warning[") && !l.contains(", accepted: "))
        .collect();
    assert_eq!(
        unaccepted,
        [
            "  warning[wide-open] books:get_book: every declared identity may call it in every sampled request (sampled)"
        ]
    );
}

#[test]
fn accept_entries_are_checked_with_their_line() {
    // An entry that matches no finding: a warning at its line (and `--strict` fails).
    let books = Books::new("accept-stale", |c| {
        c + ACCEPT_ALL + "  - { rule: wide-open, subject: \"books:delete_book\", reason: gone }\n"
    });
    let (code, _, stderr) = books.check(&["--strict"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("portcullis.yaml:38: warning: `accept`: no `wide-open` finding about `books:delete_book`"),
        "{stderr}"
    );
    // An entry without a reason: an error at its line.
    let books = Books::new("accept-no-reason", |c| {
        c + "accept:\n  - { rule: wide-open, subject: \"books:get_book\" }\n"
    });
    let (code, _, stderr) = books.check(&[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(
            "portcullis.yaml:31: error: `accept`: `wide-open` on `books:get_book` needs a `reason`"
        ),
        "{stderr}"
    );
}
