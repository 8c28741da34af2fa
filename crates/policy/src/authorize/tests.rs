use cedar_policy::{Context, Entities, EntityUid};
use serde_json::json;

use super::{context, identity_entity};
use crate::testing::{Call, delegation, identity, schema, store};
use crate::{Decision, PolicyStore};

fn decide(store: &PolicyStore, call: &Call) -> Decision {
    let first = store.authorize(&call.request());
    // Same inputs, same answer.
    assert_eq!(store.authorize(&call.request()), first);
    first
}

fn allowed(ids: &[&str]) -> Decision {
    Decision {
        allowed: true,
        determining: ids.iter().map(|s| (*s).to_owned()).collect(),
        errors: vec![],
    }
}

fn denied(ids: &[&str]) -> Decision {
    Decision {
        allowed: false,
        ..allowed(ids)
    }
}

fn order(id: i64) -> Call {
    Call::new(identity("bot", "acme"), "getOrder", json!({"orderId": id}))
        .query(json!({"limit": 10}))
}

fn customer(id: &str) -> Call {
    Call::new(
        identity("bot", "acme"),
        "getCustomer",
        json!({"customerId": id}),
    )
}

fn cancel(id: i64) -> Call {
    Call::new(
        identity("bot", "acme"),
        "cancelOrder",
        json!({"orderId": id}),
    )
}

#[test]
fn a_permit_for_a_group_applies_to_its_members_only() {
    let store = store(&[(
        "read.cedar",
        "@id(\"readers\")\npermit(principal, action in Action::\"orders:read\", resource == Api::\"orders\");",
    )]);
    assert_eq!(decide(&store, &order(1)), allowed(&["readers"]));
    assert_eq!(decide(&store, &customer("acme")), allowed(&["readers"]));
    assert_eq!(decide(&store, &cancel(1)), denied(&[]));
}

#[test]
fn a_forbid_overrides_a_permit_and_is_named() {
    let store = store(&[
        ("a.cedar", "permit(principal, action, resource);"),
        (
            "b.cedar",
            "\n\nforbid(principal, action == Action::\"orders:cancelOrder\", resource)\n  when { principal.tags.contains(\"billing\") };",
        ),
    ]);
    assert_eq!(decide(&store, &order(1)), allowed(&["a.cedar:1"]));
    assert_eq!(decide(&store, &cancel(1)), denied(&["b.cedar:3"]));
}

#[test]
fn the_tenant_rule_compares_a_path_parameter_with_an_identity_attribute() {
    let store = store(&[(
        "tenant.cedar",
        "@id(\"tenant\")\npermit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { context.params.customerId == principal.owner };",
    )]);
    assert_eq!(decide(&store, &customer("acme")), allowed(&["tenant"]));
    assert_eq!(decide(&store, &customer("globex")), denied(&[]));
}

#[test]
fn a_long_path_parameter_compares_numerically() {
    let store = store(&[(
        "a.cedar",
        "permit(principal, action == Action::\"orders:getOrder\", resource)\n  when { context.params.orderId >= 10 && context.query.limit < 100 };",
    )]);
    assert!(!decide(&store, &order(9)).allowed);
    assert!(decide(&store, &order(10)).allowed);
    assert!(decide(&store, &order(1_000_000)).allowed);
}

#[test]
fn query_numbers_are_text_and_optional_attributes_need_has() {
    let store = store(&[(
        "a.cedar",
        "permit(principal, action == Action::\"orders:getOrder\", resource)\n  when { context.query has \"max-price\" && context.query[\"max-price\"] == \"9.5\"\n    && context.query has tag && context.query.tag.contains(\"x\") };",
    )]);
    let call = order(1).query(json!({"limit": 1, "max-price": 9.5, "tag": ["x", "y"]}));
    assert!(decide(&store, &call).allowed);
    assert!(!decide(&store, &order(1)).allowed);
}

#[test]
fn time_scopes_ip_and_delegation_are_in_the_context() {
    let store = store(&[(
        "a.cedar",
        "permit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { context.time >= 1700000000 && context.scopes.contains(\"orders:read\")\n    && context.ip == \"10.0.0.7\" && !(context has on_behalf_of) && context.chain.length == 0 };",
    )]);
    let mut call = customer("acme");
    assert!(decide(&store, &call).allowed);
    call.delegation = Some(delegation("alice", "acme", &["bot"]));
    assert!(!decide(&store, &call).allowed);
    call.delegation = None;
    call.time = 1_699_999_999;
    assert!(!decide(&store, &call).allowed);
}

#[test]
fn business_hours_come_from_the_time_in_utc() {
    let store = store(&[(
        "a.cedar",
        "permit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { context.weekday <= 5 && context.hour >= 9 && context.hour < 17 };",
    )]);
    let mut call = customer("acme");
    // 2023-11-14 was a Tuesday; 22:13:20 UTC.
    call.time = 1_700_000_000;
    assert!(!decide(&store, &call).allowed);
    call.time = 1_700_000_000 - 13 * 3_600; // Tuesday 09:13
    assert!(decide(&store, &call).allowed);
    call.time += 4 * 86_400; // Saturday 09:13
    assert!(!decide(&store, &call).allowed);
    assert_eq!(super::context::clock_face(0), (0, 4));
    assert_eq!(super::context::clock_face(-1), (23, 3));
}

#[test]
fn tags_written_name_colon_value_are_cedar_tags() {
    let store = store(&[(
        "a.cedar",
        "permit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { principal.hasTag(\"customer\") && principal.getTag(\"customer\") == context.params.customerId };",
    )]);
    let mut call = customer("acme");
    call.identity.tags = vec!["customer:acme".into(), "customer:other".into()];
    assert!(decide(&store, &call).allowed);
    call.identity.tags = vec!["customer:other".into(), "customer:acme".into()];
    assert!(!decide(&store, &call).allowed);
    call.identity.tags = vec!["customer".into()];
    assert!(!decide(&store, &call).allowed);
}

#[test]
fn an_empty_store_denies_everything() {
    let store = store(&[]);
    assert!(store.is_empty());
    assert_eq!(decide(&store, &order(1)), denied(&[]));
}

#[test]
fn a_value_of_the_wrong_type_denies_with_an_error() {
    let store = store(&[("a.cedar", "permit(principal, action, resource);")]);
    let call = Call::new(
        identity("bot", "acme"),
        "getOrder",
        json!({"orderId": "42"}),
    )
    .query(json!({"limit": 1}));
    let decision = decide(&store, &call);
    assert!(!decision.allowed);
    assert!(decision.determining.is_empty());
    assert_eq!(decision.errors.len(), 1, "{decision:?}");
    assert!(decision.errors[0].contains("`orderId`"), "{decision:?}");
    // A number beyond Cedar's Long is refused the same way.
    let call = Call::new(
        identity("bot", "acme"),
        "getOrder",
        json!({"orderId": u64::MAX}),
    )
    .query(json!({"limit": 1}));
    assert!(!decide(&store, &call).allowed);
}

#[test]
fn undeclared_or_missing_parameters_deny_with_an_error() {
    let store = store(&[("a.cedar", "permit(principal, action, resource);")]);
    let extra = order(1).query(json!({"limit": 1, "debug": true}));
    let missing = Call::new(identity("bot", "acme"), "getOrder", json!({}));
    for call in [extra, missing] {
        let decision = decide(&store, &call);
        assert!(
            !decision.allowed && !decision.errors.is_empty(),
            "{decision:?}"
        );
    }
}

#[test]
fn an_evaluation_error_denies_even_where_cedar_would_allow() {
    // The forbid overflows and Cedar skips it; the permit alone would allow.
    let store = store(&[
        ("a.cedar", "permit(principal, action, resource);"),
        (
            "b.cedar",
            "forbid(principal, action == Action::\"orders:getOrder\", resource)\n  when { context.params.orderId + 9223372036854775807 > 0 };",
        ),
    ]);
    let decision = decide(&store, &order(1));
    assert!(!decision.allowed);
    assert!(decision.determining.is_empty());
    assert!(
        decision.errors.iter().any(|e| e.contains("b.cedar:1")),
        "{decision:?}"
    );
}

#[test]
fn an_unknown_operation_denies_with_an_error() {
    let store = store(&[("a.cedar", "permit(principal, action, resource);")]);
    let decision = decide(
        &store,
        &Call::new(identity("bot", "acme"), "dropTables", json!({})),
    );
    assert!(!decision.allowed);
    assert_eq!(decision.errors.len(), 1);
}

#[test]
fn the_identity_entity_conforms_to_the_schema() {
    let uid: EntityUid = "Identity::\"bot\"".parse().unwrap();
    let entity = identity_entity(uid, &identity("bot", "acme")).unwrap();
    Entities::from_entities([entity], Some(schema().cedar().unwrap())).unwrap();
}

#[test]
fn the_store_is_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<PolicyStore>();
}

#[test]
fn the_json_context_is_the_context_evaluated() {
    let store = store(&[]);
    let schema = schema();
    let mut delegated = customer("acme");
    delegated.delegation = Some(delegation("alice", "acme", &["bot", "planner"]));
    let full = json!({"limit": 1, "max-price": 9.5, "tag": ["x"], "in": true, "status": "paid"});
    for call in [order(7).query(full), order(8), delegated] {
        let request = call.request();
        let slice = store.slice(&request).unwrap();
        let json = store.context_json(&request).unwrap();
        let parsed =
            Context::from_json_value(json, Some((schema.cedar().unwrap(), &slice.action))).unwrap();
        assert_eq!(
            context::cedar_context(slice, &request, context::Reads::ALL, &store.person_type)
                .unwrap(),
            parsed
        );
    }
}

#[test]
fn policies_see_the_person_acted_for_and_the_chain() {
    let store = store(&[
        (
            "tenant.cedar",
            "@id(\"own-tenant\")\npermit(principal, action == Action::\"orders:getCustomer\", resource)\n  when { context has on_behalf_of && context.on_behalf_of has tenant\n    && context.on_behalf_of.tenant == context.params.customerId\n    && context.on_behalf_of has roles && context.on_behalf_of.roles.contains(\"support\")\n    && context.on_behalf_of has level && context.on_behalf_of.level >= 3\n    && context.on_behalf_of has mfa && context.on_behalf_of.mfa\n    && context.on_behalf_of.issuer == \"https://idp.example\" };",
        ),
        (
            "chain.cedar",
            "@id(\"short-chains\")\nforbid(principal, action, resource)\n  when { context.chain.length > 2 || context.chain.ids.contains(\"rogue\") };",
        ),
    ]);
    let mut call = customer("acme");
    // Without delegation: no `on_behalf_of`, so the permit does not hold.
    assert_eq!(decide(&store, &call), denied(&[]));
    call.delegation = Some(delegation("alice", "acme", &["bot"]));
    assert_eq!(decide(&store, &call), allowed(&["own-tenant"]));
    call.delegation = Some(delegation("bob", "globex", &["bot"]));
    assert_eq!(decide(&store, &call), denied(&[]));
    call.delegation = Some(delegation("alice", "acme", &["bot", "planner", "third"]));
    assert_eq!(decide(&store, &call), denied(&["short-chains"]));
    call.delegation = Some(delegation("alice", "acme", &["bot", "rogue"]));
    assert_eq!(decide(&store, &call), denied(&["short-chains"]));
    // A mapped claim of the wrong type is absent, never a wrong value.
    let mut odd = delegation("alice", "acme", &["bot"]);
    odd.claims.insert("tenant".into(), json!(42));
    call.delegation = Some(odd);
    assert_eq!(decide(&store, &call), denied(&[]));
}
