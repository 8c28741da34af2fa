//! Validation against the reduced schema says exactly what validation
//! against the whole schema says, policy set by policy set.

use std::collections::HashSet;

use cedar_policy::{Policy, PolicyId, PolicySet, ValidationMode, ValidationResult, Validator};

use super::named_actions;
use crate::generate_schema;
use crate::testing::contract;

/// Classes with several members (getA/getB/getE, listA/listB, putA/putB)
/// and singletons, over two groups of one API and a second API.
const SHOP: &str = "\
openapi: 3.1.0
info: {title: shop, version: '1'}
paths:
  /a/{id}:
    get: {operationId: getA, parameters: [{name: id, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}
    put: {operationId: putA, parameters: [{name: id, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}
  /b/{id}:
    get: {operationId: getB, parameters: [{name: id, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}
    put: {operationId: putB, parameters: [{name: id, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}
  /e/{id}:
    get: {operationId: getE, parameters: [{name: id, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}
  /c/{id}:
    get: {operationId: getC, parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}
  /a:
    get: {operationId: listA, parameters: [{name: limit, in: query, schema: {type: integer}}], responses: {'200': {description: ok}}}
  /b:
    get: {operationId: listB, parameters: [{name: limit, in: query, schema: {type: integer}}], responses: {'200': {description: ok}}}
  /d:
    get: {operationId: getD, responses: {'200': {description: ok}}}
";

/// Policies that typecheck differently per action, by context, by group,
/// or by naming actions in their scope or conditions; some are errors.
const POLICIES: &[&str] = &[
    "permit(principal, action, resource);",
    "permit(principal, action in Action::\"shop:read\", resource) when { context.params.id > 3 };",
    "permit(principal, action in Action::\"shop:read\", resource) when { context.params has id && context.params.id > 3 };",
    "permit(principal, action == Action::\"shop:getB\", resource) when { context.params.id > 3 };",
    "permit(principal, action in [Action::\"shop:getA\", Action::\"shop:listA\"], resource) when { context.query.limit < 5 };",
    "permit(principal, action in Action::\"shop:read\", resource) when { if action == Action::\"shop:getE\" then context.params.id > 1 else true };",
    "permit(principal, action, resource) when { if action in Action::\"shop:write\" then context.params.id == 1 else context.hour > 2 };",
    "forbid(principal, action in Action::\"shop:read\", resource) when { action in [Action::\"shop:getC\"] && context.params.id like \"x*\" };",
    "permit(principal, action in Action::\"shop:read\", resource) when { action == Action::\"shop:getD\" && context.params.id > 0 };",
    "forbid(principal, action in Action::\"shop:write\", resource) unless { context.params.id == 1 };",
    "permit(principal, action == Action::\"shop:nope\", resource);",
    "permit(principal, action, resource) when { context.query has limit && context.query.limit > 1 };",
    "permit(principal, action in Action::\"other:read\", resource) when { context.params.id == 2 };",
    "forbid(principal, action, resource) when { action == Action::\"shop:getA\" && context.params.id == \"x\" };",
];

type Outcome = (Vec<(String, String)>, Vec<(String, String)>);

fn outcome(result: &ValidationResult) -> Outcome {
    let mut errors: Vec<_> = result
        .validation_errors()
        .map(|e| (e.policy_id().to_string(), e.to_string()))
        .collect();
    let mut warnings: Vec<_> = result
        .validation_warnings()
        .map(|w| (w.policy_id().to_string(), w.to_string()))
        .collect();
    errors.sort();
    warnings.sort();
    (errors, warnings)
}

#[test]
fn the_reduced_schema_validates_every_policy_set_as_the_whole_one_does() {
    let shop = contract(SHOP);
    let other = contract(crate::testing::ORDERS);
    let schema = generate_schema(&[("shop", &shop), ("other", &other)]).unwrap();
    let policies: Vec<Policy> = POLICIES
        .iter()
        .enumerate()
        .map(|(i, text)| Policy::parse(Some(PolicyId::new(format!("p{i}"))), *text).unwrap())
        .collect();
    let mut sets: Vec<Vec<usize>> = (0..policies.len()).map(|i| vec![i]).collect();
    for i in 0..policies.len() {
        for j in i + 1..policies.len() {
            sets.push(vec![i, j]);
        }
    }
    sets.push((0..policies.len()).collect());
    let mut failing = 0;
    for members in &sets {
        let chosen: Vec<Policy> = members.iter().map(|i| policies[*i].clone()).collect();
        let mut named = HashSet::new();
        for p in &chosen {
            named_actions(&p.to_json().unwrap(), &mut named);
        }
        let set = PolicySet::from_policies(chosen).unwrap();
        let whole =
            Validator::new(schema.cedar().unwrap().clone()).validate(&set, ValidationMode::Strict);
        let result = schema.validate(&set, Some(&named)).unwrap();
        assert_eq!(outcome(&result), outcome(&whole), "policies {members:?}");
        // Without the second pass, the reduced schema alone must still pass
        // or fail the set as the whole one does.
        let reduced =
            Validator::new(schema.reduced(&named).unwrap()).validate(&set, ValidationMode::Strict);
        assert_eq!(
            reduced.validation_passed(),
            whole.validation_passed(),
            "{members:?}"
        );
        failing += usize::from(!whole.validation_passed());
    }
    // The sets must exercise both outcomes.
    assert!(
        failing > sets.len() / 3 && failing < sets.len(),
        "{failing}"
    );
}

#[test]
fn the_reduced_schema_keeps_named_actions_and_one_per_kind() {
    let shop = contract(SHOP);
    let schema = generate_schema(&[("shop", &shop)]).unwrap();
    let named: HashSet<String> = ["shop:getB".to_owned()].into();
    let reduced = schema.reduced(&named).unwrap();
    let mut ids: Vec<String> = reduced
        .actions()
        .map(|a| a.id().unescaped().to_owned())
        .collect();
    ids.sort();
    // getA stands for getE (same group, same context); getB is named;
    // listA for listB; putA for putB.
    assert_eq!(
        ids,
        [
            "shop:getA",
            "shop:getB",
            "shop:getC",
            "shop:getD",
            "shop:listA",
            "shop:putA",
            "shop:read",
            "shop:write"
        ]
    );
    assert_eq!(schema.cedar().unwrap().actions().count(), 11);
}

#[test]
fn named_actions_are_read_from_scopes_and_conditions() {
    let policy = Policy::parse(
        None,
        "permit(principal, action in [Action::\"a:x\", Action::\"a:read\"], resource) \
         when { action == Action::\"a:y\" || [Action::\"a:z\"].contains(action) };",
    )
    .unwrap();
    let mut named = HashSet::new();
    named_actions(&policy.to_json().unwrap(), &mut named);
    let mut named: Vec<String> = named.into_iter().collect();
    named.sort();
    assert_eq!(named, ["a:read", "a:x", "a:y", "a:z"]);
}
