//! `portcullis verify --gateway`: through a gateway running the intended
//! configuration every operation × identity answers as the configuration
//! says, and every route discovery finds on the upstream is refused; each
//! deliberate fault is caught: a policy that permits too much, an operation
//! missing from a policy, a response check turned off, and a "gateway" that
//! is really the upstream. Test identities may come from a file, with
//! tokens from the gateway's token service.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_testkit::served::Served;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A copy of the example in its own folder, its upstream pointed at
/// `upstream`, listening on free ports, its store at `store` when given;
/// `edit` changes the copy (the fault under test).
fn example(
    name: &str,
    upstream: SocketAddr,
    store: Option<&Path>,
    edit: impl FnOnce(&Path),
) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "portcullis-verify-gw-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    portcullis_testkit::copy_example(&dir);
    let mut config = std::fs::read_to_string(dir.join("portcullis.yaml"))
        .unwrap()
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:8081", "127.0.0.1:0")
        .replace("http://127.0.0.1:9000", &format!("http://{upstream}"));
    if let Some(store) = store {
        config = config.replace(
            "sqlite://portcullis.db",
            &format!("sqlite://{}", store.display()),
        );
    }
    std::fs::write(dir.join("portcullis.yaml"), config).unwrap();
    edit(&dir);
    dir
}

/// Replaces `from` by `to` in the file `name` of `dir`, which must hold it.
fn replace_in(dir: &Path, name: &str, from: &str, to: &str) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{name} has no {from:?}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

fn serve(dir: &Path) -> Served {
    Served::start(BIN, &dir.join("portcullis.yaml"))
}

/// `verify -c <config> --format json --allow-writes <args>`: the exit code,
/// the report and standard error.
fn verify(config: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    verify_with(config, args, &[])
}

fn verify_with(config: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Value, String) {
    let out = Command::new(BIN)
        .args(["verify", "--format", "json", "--allow-writes", "-c"])
        .arg(config.join("portcullis.yaml"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no report: {stderr}"));
    (out.status.code(), report, stderr)
}

/// The example API on a free port, and a runtime to stop it with.
fn upstream() -> (
    tokio::runtime::Runtime,
    portcullis_example_orders::OrdersApi,
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime
        .block_on(portcullis_example_orders::OrdersApi::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .unwrap();
    (runtime, api)
}

/// The mismatches of a report's conformance.
fn mismatches(report: &Value) -> &Vec<Value> {
    report["conformance"]["mismatches"].as_array().unwrap()
}

#[test]
fn a_faithful_gateway_passes_and_refuses_every_discovered_route() {
    let (runtime, api) = upstream();
    let intended = example("faithful", api.addr(), None, |_| {});
    let gateway = serve(&intended);
    let page = intended.join("report.html");
    let (code, doc, stderr) = verify(
        &intended,
        &[
            "--gateway",
            &format!("http://{}", gateway.addr),
            "--discover",
            "--upstream",
            &format!("http://{}", api.addr()),
            "--rate",
            "1000",
            "--fail-on",
            "never",
            "--report",
            page.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
    assert_eq!(doc["failed"], false);
    let report = &doc["conformance"];
    let checks = report["checks"].as_array().unwrap();
    let checked = checks.len();
    assert!(checked >= 30, "only {checked} checks");
    // Both outcomes occur: the policies allow some and refuse others.
    assert!(checks.iter().any(|c| c["expected"] == "forwarded"));
    assert!(checks.iter().any(|c| c["expected"] == "forbidden"));
    // The tenant rule is exercised on both sides for the partner.
    let partner: Vec<&Value> = checks
        .iter()
        .filter(|c| c["identity"] == "partner-connector" && c["operation"] == "listCustomerOrders")
        .collect();
    assert_eq!(partner.len(), 2, "{partner:#?}");
    assert_ne!(partner[0]["expected"], partner[1]["expected"]);
    // So is the delegation rule, for the agent acting for a person of the
    // path's customer and for one of no customer.
    let delegated: Vec<&Value> = checks
        .iter()
        .filter(|c| c["kind"] == "delegated" && c["operation"] == "listCustomerOrders")
        .collect();
    let sides: Vec<(&str, &str)> = delegated
        .iter()
        .map(|c| {
            (
                c["identity"].as_str().unwrap(),
                c["expected"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sides,
        [
            ("support-agent for verify-person-inside", "forwarded"),
            ("support-agent for verify-person-outside", "forbidden")
        ]
    );
    assert!(delegated.iter().all(|c| c["ok"] == true), "{delegated:#?}");
    // The negative family went out too, and every refusal had the one
    // problem shape; every forwarded answer was already checked.
    let kinds: std::collections::BTreeSet<&str> =
        checks.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    for kind in [
        "valid",
        "path-trick",
        "undeclared-method",
        "credential",
        "wrong-content-type",
        "unknown-field",
        "oversized-body",
        "override-header",
        "wrong-type",
        "missing-parameter",
        "discovered-route",
    ] {
        assert!(kinds.contains(kind), "no {kind} check: {kinds:?}");
    }
    assert!(
        checks
            .iter()
            .all(|c| c["shape"].is_null() && c["unchecked"].is_null())
    );
    // Every undeclared route the upstream answers was sent through the
    // gateway, and refused there.
    let found = doc["discovery"]["findings"].as_array().unwrap();
    let routes: Vec<&Value> = checks
        .iter()
        .filter(|c| c["kind"] == "discovered-route")
        .collect();
    assert!(found.len() >= 20, "{found:#?}");
    assert_eq!(routes.len(), found.len());
    assert!(
        routes
            .iter()
            .all(|c| c["ok"] == true && c["got"] != "forwarded"),
        "{routes:#?}"
    );
    assert!(routes.iter().any(|c| {
        c["request"]
            .as_str()
            .unwrap()
            .ends_with("/orders/debug/config")
    }));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<table id=\"matrix\">") && html.contains("/debug/config"));
    eprintln!("faithful gateway: {checked} checks, all as expected");
    drop(gateway);
    runtime.block_on(api.stop());
    let _ = std::fs::remove_dir_all(&intended);
}

/// Runs `verify` of the intended configuration against a gateway running
/// the same one with `fault` applied (sharing its store, so the tokens are
/// the same); returns the mismatches.
fn caught(name: &str, fault: impl FnOnce(&Path)) -> Vec<Value> {
    let (runtime, api) = upstream();
    let intended = example(&format!("{name}-intended"), api.addr(), None, |_| {});
    let faulty = example(
        name,
        api.addr(),
        Some(&intended.join("portcullis.db")),
        fault,
    );
    let gateway = serve(&faulty);
    let (code, doc, stderr) = verify(
        &intended,
        &["--gateway", &format!("http://{}", gateway.addr)],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["level"] == "error")
    );
    drop(gateway);
    runtime.block_on(api.stop());
    let _ = std::fs::remove_dir_all(&faulty);
    let _ = std::fs::remove_dir_all(&intended);
    mismatches(&doc).clone()
}

#[test]
fn a_policy_that_permits_too_much_is_caught() {
    let found = caught("permissive", |dir| {
        std::fs::remove_dir_all(dir.join("policies")).unwrap();
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        let everything = "@id(\"everything\")\npermit(principal, action, resource);\n";
        std::fs::write(dir.join("policies/all.cedar"), everything).unwrap();
    });
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|m| m["expected"] == "forbidden" && m["got"] == "forwarded"),
        "{found:#?}"
    );
}

#[test]
fn a_delegation_rule_the_gateway_does_not_enforce_is_caught() {
    let found = caught("delegation-unchecked", |dir| {
        replace_in(
            dir,
            "policies/delegation.cedar",
            "context.on_behalf_of.tenant == context.params.customerId",
            "context.on_behalf_of.tenant != \"\"",
        );
    });
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0]["identity"],
        "support-agent for verify-person-outside"
    );
    assert_eq!(
        (found[0]["expected"].as_str(), found[0]["got"].as_str()),
        (Some("forbidden"), Some("forwarded"))
    );
}

#[test]
fn an_operation_missing_from_a_policy_is_caught() {
    let found = caught("missing-operation", |dir| {
        replace_in(
            dir,
            "policies/fulfilment.cedar",
            ",\n    Action::\"orders:addOrderItem\"",
            "",
        );
    });
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|m| m["identity"] == "fulfilment-service"
            && m["operation"] == "addOrderItem"
            && m["expected"] == "forwarded"
            && m["got"] == "forbidden"),
        "{found:#?}"
    );
}

#[test]
fn a_response_check_turned_off_is_caught() {
    let found = caught("responses-off", |dir| {
        replace_in(
            dir,
            "portcullis.yaml",
            "responses: { undeclared_fields: strip, secrets: redact }",
            "responses: { undeclared_fields: allow, secrets: allow }",
        );
    });
    assert!(!found.is_empty());
    // Right code, wrong answer: the order's internal fields came through.
    assert!(
        found
            .iter()
            .all(|m| m["expected"] == m["got"] && m["unchecked"].is_string())
    );
    assert!(
        found.iter().any(|m| m["operation"] == "getOrder"
            && m["unchecked"]
                .as_str()
                .unwrap()
                .contains("undeclared field")),
        "{found:#?}"
    );
}

#[test]
fn a_bypassed_gateway_is_caught() {
    let (runtime, api) = upstream();
    let intended = example("bypassed", api.addr(), None, |_| {});
    // The store the tokens come from, as a gateway would have made it.
    let made = Command::new(BIN)
        .args(["identity", "list", "-c"])
        .arg(intended.join("portcullis.yaml"))
        .output()
        .unwrap();
    assert!(made.status.success());
    let (code, doc, stderr) = verify(&intended, &["--gateway", &format!("http://{}", api.addr())]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        mismatches(&doc)
            .iter()
            .any(|m| m["expected"] == "forbidden" && m["got"] == "forwarded")
    );
    runtime.block_on(api.stop());
    let _ = std::fs::remove_dir_all(&intended);
}

#[test]
fn listed_identities_get_their_tokens_from_the_token_service() {
    let (runtime, api) = upstream();
    let intended = example("listed", api.addr(), None, |_| {});
    let gateway = serve(&intended);
    let rotated = Command::new(BIN)
        .args(["identity", "rotate", "reporting-agent", "-c"])
        .arg(intended.join("portcullis.yaml"))
        .output()
        .unwrap();
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let secret = String::from_utf8(rotated.stdout).unwrap().trim().to_owned();
    std::fs::write(
        intended.join("test-identities.yaml"),
        "identities:\n  - id: reporting-agent\n    client_secret: env:VERIFY_TEST_SECRET\n    scopes: [orders:read]\n  - id: partner-connector\n    client_secret: env:VERIFY_TEST_WRONG\n  - id: ghost\n",
    )
    .unwrap();
    let ids = intended.join("test-identities.yaml");
    let (code, doc, stderr) = verify_with(
        &intended,
        &[
            "--gateway",
            &format!("http://{}", gateway.addr),
            "--identities",
            ids.to_str().unwrap(),
        ],
        &[
            ("VERIFY_TEST_SECRET", &secret),
            ("VERIFY_TEST_WRONG", "pcs_not_the_secret"),
        ],
    );
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
    let report = &doc["conformance"];
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.len() >= 20);
    assert!(checks.iter().all(|c| c["identity"] == "reporting-agent"));
    // Its token carries only the scope asked for: customer reads are refused.
    assert!(
        checks
            .iter()
            .any(|c| c["operation"] == "listCustomers" && c["expected"] == "insufficient-scope")
    );
    let skipped = report["skipped"].as_array().unwrap();
    let why = |who: &str| {
        skipped
            .iter()
            .find(|s| s["what"].as_str().unwrap().starts_with(who))
            .map(|s| s["why"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert!(
        why("ghost").contains("not in the inventory"),
        "{skipped:#?}"
    );
    assert!(
        why("partner-connector").contains("token service refused (401)"),
        "{skipped:#?}"
    );
    drop(gateway);
    runtime.block_on(api.stop());
    let _ = std::fs::remove_dir_all(&intended);
}

#[test]
fn an_operation_no_generated_value_satisfies_is_skipped_with_the_reason() {
    let (runtime, api) = upstream();
    let intended = example("unsatisfiable", api.addr(), None, |dir| {
        replace_in(
            dir,
            "openapi.yaml",
            "          minimum: 1\n          maximum: 1000",
            "          minimum: 5\n          maximum: 4",
        );
    });
    let gateway = serve(&intended);
    let (code, doc, stderr) = verify(
        &intended,
        &["--gateway", &format!("http://{}", gateway.addr)],
    );
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
    let skipped = doc["conformance"]["skipped"].as_array().unwrap();
    let reason = skipped
        .iter()
        .find(|s| s["what"] == "orders:createOrder")
        .map(|s| s["why"].as_str().unwrap())
        .unwrap_or_else(|| panic!("{skipped:#?}"));
    assert!(
        reason.contains("no valid request") && reason.contains("no integer meets the bounds"),
        "{reason}"
    );
    let checks = doc["conformance"]["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .all(|c| c["operation"] != "createOrder" || c["kind"] != "valid")
    );
    assert!(
        checks.iter().any(|c| c["operation"] == "listOrders"),
        "the rest is checked"
    );
    drop(gateway);
    runtime.block_on(api.stop());
    let _ = std::fs::remove_dir_all(&intended);
}
