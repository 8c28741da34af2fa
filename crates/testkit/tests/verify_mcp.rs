//! `verify --gateway` checks the MCP face too (`Verification::run` with
//! `Options::gateway`, in process, against live gateways on 127.0.0.1:0):
//! through a gateway running the intended configuration every identity's
//! `tools/list` is what the configuration permits and each negative with a
//! `tools/call` form is refused with the HTTP family's code; through one
//! whose policies and body limit differ from the configuration `verify` is
//! given, the extra and missing tools and the call let through are found.
//! Identities get their tokens from the gateway's token service (its store
//! is in memory), so the expired-token negative is skipped with the reason.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::BTreeSet;
use std::net::SocketAddr;

use portcullis_config::{Config, SecretText, TestIdentity};
use portcullis_proxy::Gateway;
use portcullis_store::CredentialKind;
use portcullis_testkit::{ExampleCopy, example_config, examples_dir};
use portcullis_verify::conform::{Listing, Report};
use portcullis_verify::{Options, Silent, Verification};

const IDENTITIES: [&str; 4] = [
    "reporting-agent",
    "fulfilment-service",
    "partner-connector",
    "stale-bot",
];

/// Every declared identity, each with a fresh client secret of `gateway`.
fn identities(gateway: &Gateway) -> Vec<TestIdentity> {
    IDENTITIES
        .iter()
        .map(|id| {
            let secret = gateway
                .authority()
                .create_secret(id, CredentialKind::ClientSecret, 600, None)
                .unwrap()
                .secret;
            TestIdentity {
                id: (*id).to_owned(),
                client_secret: Some(SecretText::new(secret)),
                scopes: None,
            }
        })
        .collect()
}

/// Verifies `gateway` against the intended configuration `config`, as
/// `identities`, writes allowed.
async fn verify(
    config: &Config,
    gateway: SocketAddr,
    identities: Vec<TestIdentity>,
) -> Verification {
    let options = Options {
        gateway: Some(format!("http://{gateway}")),
        identities: Some(identities),
        allow_writes: true,
        ..Options::coverage(examples_dir().join("portcullis.yaml"))
    };
    Verification::run(config, options, &mut Silent)
        .await
        .unwrap()
}

fn report(run: &Verification) -> &Report {
    &run.conformance.as_ref().unwrap().1
}

fn listing<'r>(report: &'r Report, identity: &str) -> &'r Listing {
    report
        .mcp
        .listings
        .iter()
        .find(|l| l.identity == identity)
        .unwrap_or_else(|| panic!("no listing for {identity}: {:#?}", report.mcp))
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faithful_gateways_mcp_face_lists_what_is_permitted_and_refuses_each_negative() {
    let world = portcullis_testkit::spawn().await;
    let intended = portcullis_testkit::config(
        &example_config(),
        &format!("http://{}", world.upstream_addr()),
    );
    let run = verify(&intended, world.gateway_addr(), identities(&world.gateway)).await;
    let report = report(&run);
    let mcp = &report.mcp;
    assert!(!run.failed(), "{}", report.text("gateway"));
    assert!(mcp.failures.is_empty(), "{:#?}", mcp.failures);
    // One listing per identity, each exactly what the configuration permits.
    assert_eq!(mcp.listings.len(), IDENTITIES.len(), "{mcp:#?}");
    assert!(mcp.listings.iter().all(|l| l.matches() && l.consistent()));
    let partner = listing(report, "partner-connector");
    assert_eq!(
        sorted(
            &partner
                .listed
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        ),
        sorted(&["orders_getOrderSummary", "orders_listCustomerOrders"])
    );
    assert_eq!(listing(report, "reporting-agent").listed.len(), 5);
    // Every operation the HTTP pass saw forwarded for an identity is listed
    // for it (checked by the pass, and here from the report itself).
    for c in report
        .checks
        .iter()
        .filter(|c| c.kind == "valid" && c.got == "forwarded")
    {
        let tool = format!("{}_{}", c.api, c.operation);
        assert!(listing(report, &c.identity).listed.contains(&tool), "{c:?}");
    }
    // The negatives with a tools/call form went out, each refused alike.
    let sent: BTreeSet<&str> = mcp.calls.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(
        sent,
        BTreeSet::from([
            "credential",
            "missing-parameter",
            "oversized-body",
            "unknown-field",
            "wrong-type"
        ])
    );
    assert!(mcp.calls.len() >= 20, "only {} calls", mcp.calls.len());
    assert!(
        mcp.calls.iter().all(|c| c.matches()),
        "{:#?}",
        mcp.call_mismatches().collect::<Vec<_>>()
    );
    let via = |kind: &str, detail: &str| {
        mcp.calls
            .iter()
            .find(|c| c.kind == kind && c.request.contains(detail))
            .map(|c| (c.got.as_str(), c.via.as_str()))
    };
    assert_eq!(
        via("credential", "(no credential)"),
        Some(("unauthenticated", "HTTP 401"))
    );
    assert_eq!(
        via("credential", "without the operation's scopes"),
        Some(("insufficient-scope", "tool result"))
    );
    assert_eq!(
        via("oversized-body", "over the limit"),
        Some(("payload-too-large", "HTTP 413"))
    );
    assert_eq!(
        via("wrong-type", "given text"),
        Some(("invalid-request", "tool result"))
    );
    // What has no tools/call form is counted, per kind, never sent.
    let skipped: BTreeSet<&str> = mcp.not_applicable.keys().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        skipped,
        BTreeSet::from([
            "override-header",
            "path-trick",
            "undeclared-method",
            "wrong-content-type"
        ])
    );
    assert!(
        mcp.skipped
            .iter()
            .any(|(what, why)| what.contains("an expired token") && why.contains("store")),
        "{:#?}",
        mcp.skipped
    );
    let text = report.text("gateway");
    assert!(
        text.contains("mcp face of gateway: 4 listings checked, 0 mismatches;"),
        "{text}"
    );
    world.stop().await;
}

/// A gateway on a copy of the example, its policies and body limit changed
/// by `fault`, in front of its own orders API.
async fn faulty(
    name: &str,
    fault: impl FnOnce(&std::path::Path, &mut String),
) -> (Gateway, portcullis_example_orders::OrdersApi, ExampleCopy) {
    let copy = ExampleCopy::new(name);
    let mut text = std::fs::read_to_string(copy.join("portcullis.yaml")).unwrap();
    fault(&copy, &mut text);
    let orders = portcullis_example_orders::OrdersApi::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let config =
        portcullis_testkit::config_in(&copy, &text, "orders", &format!("http://{}", orders.addr()));
    let gateway = Gateway::start(config).await.unwrap();
    (gateway, orders, copy)
}

fn replace_in(dir: &std::path::Path, name: &str, from: &str, to: &str) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{name} has no {from:?}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_enforcing_other_policies_and_limits_is_caught_on_its_mcp_face() {
    let (gateway, orders, _copy) = faulty("verify-mcp-faulty", |dir, config| {
        // Fulfilment loses adding items; partners gain every order read.
        replace_in(
            dir,
            "policies/fulfilment.cedar",
            ",\n    Action::\"orders:addOrderItem\"",
            "",
        );
        replace_in(
            dir,
            "policies/partners.cedar",
            "action == Action::\"orders:getOrderSummary\"",
            "action in Action::\"orders:read\"",
        );
        // Twice the body limit the configuration says.
        assert!(config.contains("body_bytes: 65536"));
        *config = config.replace("body_bytes: 65536", "body_bytes: 131072");
    })
    .await;
    let intended =
        portcullis_testkit::config(&example_config(), &format!("http://{}", orders.addr()));
    let run = verify(&intended, gateway.addr(), identities(&gateway)).await;
    assert!(run.failed());
    let report = report(&run);
    let fulfilment = listing(report, "fulfilment-service");
    assert_eq!(
        fulfilment.missing(),
        ["orders_addOrderItem"],
        "{fulfilment:#?}"
    );
    assert!(fulfilment.extra().is_empty());
    let partner = listing(report, "partner-connector");
    assert!(partner.missing().is_empty());
    assert_eq!(
        sorted(&partner.extra()),
        sorted(&[
            "orders_getOrder",
            "orders_listOrderItems",
            "orders_listOrders"
        ])
    );
    assert!(listing(report, "reporting-agent").matches());
    // A body over the intended limit reaches the operation through
    // tools/call, as it does over HTTP.
    let let_through: Vec<_> = report.mcp.call_mismatches().collect();
    assert!(!let_through.is_empty());
    assert!(
        let_through.iter().all(|c| c.kind == "oversized-body"
            && c.expected == "payload-too-large"
            && c.got == "invalid-request"),
        "{let_through:#?}"
    );
    let rules: BTreeSet<String> = run.findings().into_iter().map(|f| f.rule.id).collect();
    for rule in [
        "verify/mcp-listing-mismatch",
        "verify/mcp-negative-mismatch",
    ] {
        assert!(rules.contains(rule), "{rules:?}");
    }
    assert!(!rules.contains("verify/mcp-protocol"), "{rules:?}");
    gateway.stop().await;
    orders.stop().await;
}
