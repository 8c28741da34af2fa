//! `portcullis explain` as a user runs it on the example: the stage that
//! decided, the Cedar request, the determining policies with their file and
//! line, and the exit code (0 allow, 1 deny, 2 a wrong question).

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::process::Command;

use portcullis_testkit::seed;
use serde_json::Value;

use portcullis_testkit::ExampleCopy;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

struct Example(ExampleCopy);

impl Example {
    fn new(name: &str) -> Self {
        Self(ExampleCopy::new(&format!("explain-{name}")))
    }

    fn explain(&self, args: &[&str]) -> (Option<i32>, Value, String) {
        let out = Command::new(BIN)
            .arg("explain")
            .arg("-c")
            .arg(self.0.join("portcullis.yaml"))
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out.status.code(), json, stderr)
    }
}

fn verdicts(json: &Value) -> Vec<(String, String)> {
    json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_owned(),
                s["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_tenant_rule_explained_from_both_sides() {
    let example = Example::new("tenant");
    let own = format!("GET /orders/v1/customers/{}/orders", seed::CUSTOMER_ACME);
    let (code, json, stderr) =
        example.explain(&["--identity", "partner-connector", "--request", &own]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["outcome"]["decision"], "allow");
    assert_eq!(json["operation"]["operation"], "listCustomerOrders");
    assert_eq!(
        json["operation"]["route"],
        "GET /v1/customers/{customerId}/orders"
    );
    assert_eq!(
        json["determining_policies"],
        serde_json::json!([{"id": "partner-own-customer-orders", "at": "policies/partners.cedar:3"}])
    );
    assert_eq!(
        json["cedar"]["action"],
        "Action::\"orders:listCustomerOrders\""
    );
    assert_eq!(
        json["cedar"]["context"]["params"]["customerId"],
        seed::CUSTOMER_ACME
    );
    assert_eq!(
        json["cedar"]["principal_tags"]["customer"],
        seed::CUSTOMER_ACME
    );
    let stages = verdicts(&json);
    assert!(
        stages
            .iter()
            .any(|(s, v)| s == "authorize" && v == "passed")
    );
    assert!(stages.iter().any(|(s, v)| s == "forward" && v == "skipped"));

    let other = format!("GET /orders/v1/customers/{}/orders", seed::CUSTOMER_INITECH);
    let (code, json, _) =
        example.explain(&["--identity", "partner-connector", "--request", &other]);
    assert_eq!(code, Some(1));
    assert_eq!(json["outcome"]["code"], "forbidden");
    assert_eq!(json["determining_policies"], serde_json::json!([]));
    let stages = verdicts(&json);
    assert!(stages.contains(&("authorize".into(), "refused".into())));
    assert!(stages.contains(&("rate_limit".into(), "not reached".into())));
}

#[test]
fn a_write_outside_business_hours_and_a_forbid_over_a_permit() {
    let example = Example::new("hours");
    let body = example.0.join("order.json");
    std::fs::write(
        &body,
        format!(
            r#"{{"customerId":"{}","deliverBy":"2030-01-01T00:00:00Z","items":[{{"sku":"WID-0001","quantity":2}}]}}"#,
            seed::CUSTOMER_ACME
        ),
    )
    .unwrap();
    let body = body.to_str().unwrap();
    let post = [
        "--identity",
        "fulfilment-service",
        "--request",
        "POST /orders/v1/orders",
        "--body",
        body,
    ];
    let (code, json, stderr) =
        example.explain(&[&post[..], &["--at", "2026-11-24T10:00:00Z"]].concat());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        json["determining_policies"][0]["id"],
        "new-business-in-business-hours"
    );
    assert_eq!(json["cedar"]["context"]["hour"], 10);
    assert_eq!(json["cedar"]["context"]["weekday"], 2);
    let (code, json, _) = example.explain(&[&post[..], &["--at", "2026-11-28T10:00:00Z"]].concat());
    assert_eq!(
        (code, &json["outcome"]["code"]),
        (Some(1), &"forbidden".into())
    );

    let customer = format!("GET /orders/v1/customers/{}", seed::CUSTOMER_ACME);
    let (code, json, _) =
        example.explain(&["--identity", "reporting-agent", "--request", &customer]);
    assert_eq!(code, Some(1));
    assert_eq!(
        json["determining_policies"][0]["id"],
        "agents-never-read-customers"
    );
    assert_eq!(
        json["determining_policies"][0]["at"],
        "policies/readers.cedar:12"
    );
}

#[test]
fn earlier_stages_refuse_before_the_policies_are_asked() {
    let example = Example::new("stages");
    let (code, json, _) = example.explain(&[
        "--identity",
        "reporting-agent",
        "--request",
        "GET /orders/debug/config",
    ]);
    assert_eq!(
        (code, &json["outcome"]["code"]),
        (Some(1), &"undeclared-route".into())
    );
    assert!(json["cedar"].is_null());
    let (code, json, _) = example.explain(&[
        "--identity",
        "reporting-agent",
        "--request",
        "GET /orders/v1/orders",
        "--scope",
        "customers:read",
    ]);
    assert_eq!(
        (code, &json["outcome"]["code"]),
        (Some(1), &"insufficient-scope".into())
    );
    let (code, json, _) =
        example.explain(&["--identity", "nobody", "--request", "GET /orders/v1/orders"]);
    assert_eq!(
        (code, &json["outcome"]["code"]),
        (Some(1), &"unauthenticated".into())
    );
    let (code, _, stderr) = example.explain(&["--identity", "reporting-agent", "--request", "GET"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("METHOD PATH"), "{stderr}");
}
