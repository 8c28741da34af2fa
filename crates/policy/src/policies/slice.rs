//! Per-action slices of the policy set: for each operation, only the
//! policies whose action scope can match it (`action == it`, `action in` it
//! or its group, or no action constraint), forbids included.
//!
//! Cedar's authorizer evaluates every policy it is handed (≈1.4 µs each
//! here), so a request must be handed its slice, not the whole set.

use std::collections::{BTreeSet, HashMap};

use cedar_policy::{ActionConstraint, Entities, Entity, EntityId, EntityUid, Policy, PolicySet};

use crate::schema::{ActionDef, AttrDef, PolicySchema};

/// What one action's requests need, built once at load.
#[derive(Debug)]
pub(crate) struct ActionSlice {
    pub(crate) action: EntityUid,
    pub(crate) resource: EntityUid,
    /// The action and its group, so `action in Action::"<api>:read"` holds.
    pub(crate) entities: Entities,
    pub(crate) policies: PolicySet,
    pub(crate) params: Vec<AttrDef>,
    pub(crate) query: Vec<AttrDef>,
}

/// Slices `policies` for every action of `schema`, keyed by API then
/// operation id.
pub(crate) fn slice<'p>(
    schema: &PolicySchema,
    policies: impl Iterator<Item = &'p Policy>,
) -> Result<HashMap<String, HashMap<String, ActionSlice>>, String> {
    let actions = schema.actions();
    let mut exact: HashMap<&str, usize> = HashMap::new();
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, action) in actions.iter().enumerate() {
        exact.insert(&action.id, i);
        groups.entry(&action.group).or_default().push(i);
    }
    let mut members: Vec<Vec<Policy>> = actions.iter().map(|_| Vec::new()).collect();
    for policy in policies {
        let mut matched = BTreeSet::new();
        match policy.action_constraint() {
            ActionConstraint::Any => matched.extend(0..actions.len()),
            // `==` a group matches only a request for the group itself,
            // which never happens: such a policy belongs to no slice.
            ActionConstraint::Eq(uid) => matched.extend(exact.get(uid.id().unescaped())),
            ActionConstraint::In(uids) => {
                for uid in &uids {
                    let id = uid.id().unescaped();
                    matched.extend(exact.get(id));
                    matched.extend(groups.get(id).into_iter().flatten());
                }
            }
        }
        for i in matched {
            if let Some(list) = members.get_mut(i) {
                list.push(policy.clone());
            }
        }
    }
    let mut out: HashMap<String, HashMap<String, ActionSlice>> = HashMap::new();
    for (action, policies) in actions.iter().zip(members) {
        out.entry(action.api.clone())
            .or_default()
            .insert(action.operation.clone(), build(schema, action, policies)?);
    }
    Ok(out)
}

fn build(
    schema: &PolicySchema,
    action: &ActionDef,
    policies: Vec<Policy>,
) -> Result<ActionSlice, String> {
    let types = schema.types();
    let uid = |ty: &cedar_policy::EntityTypeName, id: &str| {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    };
    let action_uid = uid(&types.action, &action.id);
    let group_uid = uid(&types.action, &action.group);
    let entities = Entities::from_entities(
        [
            Entity::new_no_attrs(action_uid.clone(), [group_uid.clone()].into()),
            Entity::new_no_attrs(group_uid, Default::default()),
        ],
        None,
    )
    .map_err(|e| e.to_string())?;
    Ok(ActionSlice {
        action: action_uid,
        resource: uid(&types.api, &action.api),
        entities,
        policies: PolicySet::from_policies(policies).map_err(|e| e.to_string())?,
        params: action.params.clone(),
        query: action.query.clone(),
    })
}
