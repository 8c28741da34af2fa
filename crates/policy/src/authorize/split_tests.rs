//! The split evaluation (fixed policies once per identity, contextual ones
//! per request) against Cedar evaluating the whole slice with the request
//! checked against the schema, which is what `authorize` did before.

use std::collections::HashMap;

use cedar_policy::{Entities, EntityId, EntityUid, Request};
use serde_json::json;

use super::{Decision, context, identity_entity, principal};
use crate::testing::{Call, identity, schema, store};
use crate::{PolicySchema, PolicyStore};

/// Cedar on the whole slice, request checked against the schema; the same
/// fail-closed reading of its answer.
fn whole(store: &PolicyStore, schema: &PolicySchema, call: &Call) -> Decision {
    let request = call.request();
    let denied = |e: String| Decision::denied(e);
    let Ok(slice) = store.slice(&request) else {
        return denied("unknown operation".into());
    };
    let context =
        match context::cedar_context(slice, &request, context::Reads::ALL, &store.person_type) {
            Ok(c) => c,
            Err(e) => return denied(e),
        };
    let principal = EntityUid::from_type_name_and_id(
        store.identity_type.clone(),
        EntityId::new(&request.identity.id),
    );
    let entity = identity_entity(principal.clone(), request.identity).unwrap();
    let entities: Entities = slice.entities.clone().add_entities([entity], None).unwrap();
    let cedar_request = match Request::new(
        principal,
        slice.action.clone(),
        slice.resource.clone(),
        context,
        Some(schema.cedar().unwrap()),
    ) {
        Ok(r) => r,
        Err(e) => return denied(e.to_string()),
    };
    let response = store
        .authorizer
        .is_authorized(&cedar_request, &slice.sets.policies, &entities);
    let mut errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(ToString::to_string)
        .collect();
    errors.sort();
    let cedar_allowed = response.decision() == cedar_policy::Decision::Allow;
    let allowed = cedar_allowed && errors.is_empty();
    let mut determining: Vec<String> = if cedar_allowed && !allowed {
        Vec::new()
    } else {
        response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect()
    };
    determining.sort();
    Decision {
        allowed,
        determining,
        errors,
    }
}

const POLICIES: [&str; 9] = [
    "@id(\"all\")\npermit(principal, action, resource);",
    "@id(\"readers\")\npermit(principal, action in Action::\"orders:read\", resource) when { principal.environment == \"prod\" };",
    "@id(\"tenant\")\npermit(principal, action == Action::\"orders:getCustomer\", resource) when { context.params.customerId == principal.owner };",
    "@id(\"small\")\npermit(principal, action == Action::\"orders:getOrder\", resource) when { context.params.orderId < 100 };",
    "@id(\"no-billing\")\nforbid(principal, action == Action::\"orders:cancelOrder\", resource) when { principal.tags.contains(\"billing\") };",
    "@id(\"night\")\nforbid(principal, action, resource) when { context.hour < 6 };",
    "@id(\"big\")\nforbid(principal, action == Action::\"orders:getOrder\", resource) when { context.params.orderId > 1000 };",
    "@id(\"overflow-fixed\")\nforbid(principal, action == Action::\"orders:cancelOrder\", resource) when { principal.owner == \"evil\" && 9223372036854775807 + 1 > 0 };",
    "@id(\"overflow-context\")\nforbid(principal, action == Action::\"orders:getOrder\", resource) when { context.params.orderId + 9223372036854775800 > 0 };",
];

fn calls() -> Vec<Call> {
    let mut calls = Vec::new();
    for owner in ["acme", "evil", "other"] {
        for id in [1_i64, 50, 500, 5000, 100] {
            for time in [1_700_000_000_i64, 1_700_000_000 - 6 * 3600] {
                let mut call =
                    Call::new(identity("bot", owner), "getOrder", json!({"orderId": id}))
                        .query(json!({"limit": 1}));
                call.time = time;
                calls.push(call);
                let mut cancel = Call::new(
                    identity("bot", owner),
                    "cancelOrder",
                    json!({"orderId": id}),
                );
                cancel.time = time;
                calls.push(cancel);
            }
        }
        calls.push(Call::new(
            identity("bot", owner),
            "getCustomer",
            json!({"customerId": "acme"}),
        ));
        let mut untagged = identity("bot", owner);
        untagged.tags.clear();
        untagged.environment = "dev".into();
        calls.push(Call::new(untagged, "cancelOrder", json!({"orderId": 1})));
    }
    // What the schema check refused before: a missing required parameter,
    // an undeclared one, a value of the wrong type.
    calls.push(Call::new(
        identity("bot", "acme"),
        "getOrder",
        json!({"orderId": 1}),
    ));
    calls.push(Call::new(identity("bot", "acme"), "cancelOrder", json!({})));
    calls.push(Call::new(
        identity("bot", "acme"),
        "cancelOrder",
        json!({"orderId": 1, "x": 1}),
    ));
    calls.push(Call::new(
        identity("bot", "acme"),
        "cancelOrder",
        json!({"orderId": "1"}),
    ));
    calls
}

#[test]
fn the_split_decides_as_cedar_does_on_the_whole_slice() {
    let calls = calls();
    let schema = schema();
    let mut compared = 0;
    // Every subset of the policies, each against every call.
    for mask in 0..(1_u32 << POLICIES.len()) {
        let files: Vec<(String, &str)> = POLICIES
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(i, p)| (format!("p{i}.cedar"), *p))
            .collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(f, t)| (f.as_str(), *t)).collect();
        let store = store(&files);
        for call in &calls {
            let split = store.authorize(&call.request());
            let expected = whole(&store, &schema, call);
            assert_eq!(
                split.allowed, expected.allowed,
                "{mask:b} {:?}",
                call.params
            );
            assert_eq!(split.determining, expected.determining, "{mask:b}");
            assert_eq!(
                split.errors.is_empty(),
                expected.errors.is_empty(),
                "{mask:b} {split:?} {expected:?}"
            );
            compared += 1;
        }
    }
    assert!(compared > 10_000);
}

#[test]
fn the_evaluation_errors_are_cedars_own() {
    let schema = schema();
    let store = store(&[
        ("a.cedar", POLICIES[0]),
        ("b.cedar", POLICIES[7]),
        ("c.cedar", POLICIES[8]),
    ]);
    for call in [
        Call::new(
            identity("bot", "evil"),
            "cancelOrder",
            json!({"orderId": 1}),
        ),
        Call::new(identity("bot", "acme"), "getOrder", json!({"orderId": 1}))
            .query(json!({"limit": 1})),
    ] {
        assert_eq!(
            store.authorize(&call.request()),
            whole(&store, &schema, &call)
        );
    }
}

#[test]
fn a_changed_identity_is_decided_as_it_is_now() {
    let store = store(&[("a.cedar", POLICIES[4]), ("b.cedar", POLICIES[0])]);
    let mut call = Call::new(
        identity("bot", "acme"),
        "cancelOrder",
        json!({"orderId": 1}),
    );
    assert!(!store.authorize(&call.request()).allowed);
    call.identity.tags.clear();
    assert!(store.authorize(&call.request()).allowed);
    call.identity.tags.push("billing".into());
    assert!(!store.authorize(&call.request()).allowed);
}

#[test]
fn the_kept_identities_are_bounded() {
    let store = store(&[("a.cedar", POLICIES[1])]);
    let mut owners = HashMap::new();
    for i in 0..principal::MAX_ENTRIES + 10 {
        let call = Call::new(
            identity(&format!("bot-{i}"), "acme"),
            "getCustomer",
            json!({"customerId": "a"}),
        );
        owners.insert(i, store.authorize(&call.request()).allowed);
    }
    assert!(owners.values().all(|allowed| *allowed));
    let request = Call::new(
        identity("x", "acme"),
        "getCustomer",
        json!({"customerId": "a"}),
    );
    let slice = store.slice(&request.request()).unwrap();
    assert!(slice.principals.len() <= principal::MAX_ENTRIES);
    assert!(slice.principals.len() > 0);
}
