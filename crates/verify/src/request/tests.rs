#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use portcullis_contract::request::{HeaderLookup, HeaderSource, RequestInput};
use portcullis_contract::{Contract, RouteMatch, Source, canonical};

use super::*;

struct Dir(std::path::PathBuf);

impl Source for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

struct Headers<'a>(&'a [(String, String)]);

impl HeaderSource for Headers<'_> {
    fn lookup(&self, name: &str) -> HeaderLookup<'_> {
        let mut found = self.0.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        match (found.next(), found.next()) {
            (None, _) => HeaderLookup::Absent,
            (Some(_), Some(_)) => HeaderLookup::Many,
            (Some((_, v)), None) => HeaderLookup::One(v),
        }
    }
}

fn example() -> Contract {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
    Contract::load("openapi.yaml", &Dir(dir)).unwrap_or_else(|e| panic!("{e:?}"))
}

/// What the gateway's own pure stages make of a probe: the canonical
/// check, the route under `/orders`, and the request validation. The
/// operation id it reached, or why not.
fn decide(contract: &Contract, probe: &Probe) -> Result<String, String> {
    let (path, query) = match probe.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (probe.target.as_str(), None),
    };
    canonical::check_path(path.as_bytes()).map_err(|e| format!("canonical: {e}"))?;
    let rest = path.strip_prefix("/orders").ok_or("not under the mount")?;
    let (index, params) = match contract.route(&probe.method, rest) {
        RouteMatch::Found { operation, params } => (operation, params),
        other => return Err(format!("route: {other:?}")),
    };
    let op = contract.operation(index).unwrap();
    let (content_type, body) = match &probe.body {
        Some((ct, bytes)) => (Some(ct.as_str()), bytes.as_slice()),
        None => (None, &[][..]),
    };
    let input = RequestInput {
        query,
        headers: &Headers(&probe.headers),
        content_type,
        body,
        max_depth: 32,
    };
    portcullis_contract::request::validate(op, &params, &input)
        .map_err(|e| format!("validate: {e:?}"))?;
    Ok(op.id.clone())
}

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
