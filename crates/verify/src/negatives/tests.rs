#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::request::valid;
use crate::testing::{decide, example};
use serde_json::Value;

/// Every negative the gateway's pure stages can decide is refused with the
/// code the family expects, for every operation of the example API; the
/// rest (credentials, override headers, the body limit) need a live gateway.
#[test]
fn the_gateways_own_stages_refuse_each_negative_as_expected() {
    let contract = example();
    let mut kinds = BTreeSet::new();
    let mut decided = 0;
    for op in contract.operations() {
        let built = valid("/orders", op, &BTreeMap::new()).unwrap();
        let declared: Vec<Method> = contract
            .operations()
            .iter()
            .filter(|o| o.path == op.path)
            .map(|o| o.method)
            .collect();
        for negative in family(op, &built, &declared, 65_536) {
            kinds.insert(negative.kind);
            let offline = negative.credential == Credential::Valid
                && !matches!(negative.kind, "override-header" | "oversized-body");
            if !offline {
                continue;
            }
            let Expect::Refused(code) = negative.expect else {
                panic!("{}: {:?}", negative.kind, negative.expect)
            };
            assert_eq!(
                decide(&contract, &negative.probe),
                Err(code),
                "{} {}: {} ({:?})",
                op.id,
                negative.kind,
                negative.detail,
                negative.probe
            );
            decided += 1;
        }
    }
    assert!(decided > 100, "only {decided} negatives decided");
    let all = [
        "credential",
        "missing-parameter",
        "override-header",
        "oversized-body",
        "path-trick",
        "undeclared-method",
        "unknown-field",
        "wrong-content-type",
        "wrong-type",
    ];
    assert_eq!(
        kinds,
        all.into_iter().collect(),
        "every kind appears for the example API"
    );
}

#[test]
fn an_oversized_body_is_one_byte_over_and_still_json() {
    let body = oversized(100);
    assert_eq!(body.len(), 100);
    assert!(serde_json::from_slice::<Value>(&body).is_ok());
}

#[test]
fn query_parameters_are_removed_by_name_only() {
    assert_eq!(without_query_param("/a?x=1&xy=2&x=3", "x"), "/a?xy=2");
    assert_eq!(without_query_param("/a?x=1", "x"), "/a");
    assert_eq!(without_query_param("/a", "x"), "/a");
}
