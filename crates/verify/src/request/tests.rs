#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::BTreeMap;

use super::*;
use crate::testing::{decide, example};

#[test]
fn every_operation_of_the_example_gets_a_request_the_gateway_accepts() {
    let contract = example();
    for op in contract.operations() {
        let built =
            valid("/orders", op, &BTreeMap::new()).unwrap_or_else(|e| panic!("{}: {e}", op.id));
        assert_eq!(
            decide(&contract, &built.probe),
            Ok(op.id.clone()),
            "{:?}",
            built.probe
        );
    }
}

#[test]
fn given_values_replace_generated_ones() {
    let contract = example();
    let op = contract
        .operations()
        .iter()
        .find(|o| o.id == "listCustomerOrders")
        .unwrap();
    let tenant = "11111111-2222-4333-8444-555555555555";
    let given = BTreeMap::from([("customerId".to_owned(), tenant.to_owned())]);
    let built = valid("/orders", op, &given).unwrap();
    assert_eq!(
        built.probe.target,
        format!("/orders/v1/customers/{tenant}/orders")
    );
    assert_eq!(
        decide(&contract, &built.probe),
        Ok("listCustomerOrders".to_owned())
    );
}

#[test]
fn segments_keep_the_path_shape() {
    assert_eq!(encode_segment("a b/c.d"), "a%20b%2Fc.d");
    assert_eq!(encode_segment("42"), "42");
}
