use super::*;
use crate::testing::{ORDERS, contract, identity, schema, store};

fn run(policies: &str) -> Analysis {
    let orders = contract(ORDERS);
    let mut a = identity("alpha", "acme");
    a.tags = vec!["customer:c-1".into()];
    a.scopes = vec!["orders:read".into()];
    let mut b = identity("beta", "globex");
    b.scopes = vec!["orders:read".into()];
    analyze(
        &store(&[("p.cedar", policies)]),
        &schema(),
        &[("orders", &orders)],
        &[a, b],
    )
}

fn rules(analysis: &Analysis, subject: &str) -> Vec<(&'static str, Basis)> {
    analysis
        .findings
        .iter()
        .filter(|f| f.subject == subject)
        .map(|f| (f.rule, f.basis))
        .collect()
}

#[test]
fn conditions_no_identity_meets_are_unreachable_by_sampling() {
    let a = run(
        "@id(\"nobody\")\npermit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { principal.owner == \"initech\" };",
    );
    assert_eq!(
        rules(&a, "orders:getCustomer"),
        [("unreachable", Basis::Sampled)]
    );
    assert_eq!(
        rules(&a, "orders:getOrder"),
        [("unreachable", Basis::Proven)]
    );
}

#[test]
fn a_tenant_rule_is_conditional_and_a_condition_everyone_meets_is_wide_open() {
    let a = run(
        "permit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { principal.hasTag(\"customer\") && principal.getTag(\"customer\") == context.params.customerId };\n\
         permit(principal, action == Action::\"orders:getOrder\", resource)\n  when { principal.environment == \"prod\" };",
    );
    let column = |op: &str| {
        let i = a.coverage.operations.iter().position(|o| o == op).unwrap();
        a.coverage.cells[i].clone()
    };
    // alpha sees its own customer and not another; beta has no customer tag.
    assert_eq!(
        column("orders:getCustomer"),
        [Cell::Conditional, Cell::Deny]
    );
    assert_eq!(column("orders:getOrder"), [Cell::Allow, Cell::Allow]);
    assert_eq!(column("orders:cancelOrder"), [Cell::Deny, Cell::Deny]);
    assert_eq!(
        rules(&a, "orders:getOrder"),
        [("wide-open", Basis::Sampled)]
    );
    assert!(rules(&a, "orders:getCustomer").is_empty());
}

#[test]
fn wide_open_with_one_identity_names_it() {
    let orders = contract(ORDERS);
    let mut only = identity("alpha", "acme");
    only.scopes = vec!["orders:read".into()];
    let policies = "permit(principal, action == Action::\"orders:getOrder\", resource);\n\
                    permit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { principal.owner == \"acme\" };";
    let a = analyze(
        &store(&[("p.cedar", policies)]),
        &schema(),
        &[("orders", &orders)],
        &[only],
    );
    let message = |op: &str| {
        let f = a
            .findings
            .iter()
            .find(|f| f.subject == op && f.rule == "wide-open");
        f.map(|f| f.message.clone()).unwrap_or_default()
    };
    assert!(message("orders:getOrder").starts_with("the only identity, `alpha`, may call it"));
    assert_eq!(
        message("orders:getCustomer"),
        "the only identity, `alpha`, may call it in every sampled request"
    );
}
