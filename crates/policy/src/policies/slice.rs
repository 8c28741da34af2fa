//! Per-action slices of the policy set: for each operation, only the
//! policies whose action scope can match it (`action == it`, `action in` it
//! or its group, or no action constraint), forbids included.
//!
//! Cedar's authorizer evaluates every policy it is handed (≈1 µs each
//! here), so a request must be handed its slice, not the whole set. A slice
//! is split once more, at load: the policies whose conditions never read
//! `context` are decided by the principal and the action alone, so they are
//! evaluated once per identity (`authorize/principal.rs`), and a request
//! evaluates only the ones that read it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cedar_policy::{ActionConstraint, Entities, Entity, EntityId, EntityUid, Policy, PolicySet};

use crate::authorize::{Principals, Reads};
use crate::schema::{ActionDef, AttrDef, PolicySchema};

/// What one action's requests need, built once at load.
#[derive(Debug)]
pub(crate) struct ActionSlice {
    pub(crate) action: EntityUid,
    pub(crate) resource: EntityUid,
    /// The action and its group, so `action in Action::"<api>:read"` holds.
    pub(crate) entities: Entities,
    /// The policies, shared by every action with the same ones.
    pub(crate) sets: Arc<SliceSets>,
    pub(crate) params: Vec<AttrDef>,
    pub(crate) query: Vec<AttrDef>,
    /// Per identity: its entity store and the fixed policies' outcome.
    pub(crate) principals: Principals,
}

/// One slice's policies. Most actions of a large API match the same
/// policies (those on their group and on every action), so one copy serves
/// them all: at 10,000 operations, a copy per action was most of the
/// memory the gateway held.
#[derive(Debug)]
pub(crate) struct SliceSets {
    /// The whole slice (analysis, reach, counts).
    pub(crate) policies: PolicySet,
    /// The slice's policies that never read `context`.
    pub(crate) fixed: PolicySet,
    /// The slice's policies that read `context`: the only ones a request
    /// evaluates once its identity's fixed outcome is known.
    pub(crate) contextual: PolicySet,
    /// The context attributes the contextual policies read: all a request
    /// builds.
    pub(crate) reads: Reads,
}

/// Slices `policies` for every action of `schema`, keyed by API then
/// operation id.
pub(crate) fn slice<'p>(
    schema: &PolicySchema,
    policies: impl Iterator<Item = (&'p Policy, Option<&'p serde_json::Value>)>,
) -> Result<HashMap<String, HashMap<String, ActionSlice>>, String> {
    let actions = schema.actions();
    let mut exact: HashMap<&str, usize> = HashMap::new();
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, action) in actions.iter().enumerate() {
        exact.insert(&action.id, i);
        groups.entry(&action.group).or_default().push(i);
    }
    let mut members: Vec<Vec<usize>> = actions.iter().map(|_| Vec::new()).collect();
    let mut all = Vec::new();
    for (index, (policy, json)) in policies.enumerate() {
        all.push((policy, context_reads(json)));
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
                list.push(index);
            }
        }
    }
    let mut shared: HashMap<Vec<usize>, Arc<SliceSets>> = HashMap::new();
    let mut out: HashMap<String, HashMap<String, ActionSlice>> = HashMap::new();
    for (action, indexes) in actions.iter().zip(members) {
        let sets = match shared.get(&indexes) {
            Some(sets) => Arc::clone(sets),
            None => {
                let sets = Arc::new(sets(indexes.iter().filter_map(|i| all.get(*i).copied()))?);
                shared.insert(indexes, Arc::clone(&sets));
                sets
            }
        };
        out.entry(action.api.clone())
            .or_default()
            .insert(action.operation.clone(), build(schema, action, sets)?);
    }
    Ok(out)
}

fn build(
    schema: &PolicySchema,
    action: &ActionDef,
    sets: Arc<SliceSets>,
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
        sets,
        params: action.params.clone(),
        query: action.query.clone(),
        principals: Principals::default(),
    })
}

fn sets<'p>(members: impl Iterator<Item = (&'p Policy, Reads)>) -> Result<SliceSets, String> {
    let mut reads = Reads::NONE;
    let (mut policies, mut contextual, mut fixed) = (Vec::new(), Vec::new(), Vec::new());
    for (policy, policy_reads) in members {
        if policy_reads == Reads::NONE {
            fixed.push(policy.clone());
        } else {
            reads = reads.union(policy_reads);
            contextual.push(policy.clone());
        }
        policies.push(policy.clone());
    }
    let set = |list: Vec<Policy>| PolicySet::from_policies(list).map_err(|e| e.to_string());
    Ok(SliceSets {
        policies: set(policies)?,
        fixed: set(fixed)?,
        contextual: set(contextual)?,
        reads,
    })
}

/// The context attributes a policy reads. Cedar's JSON policy form writes
/// a variable as `{"Var": "<name>"}`, an attribute access as `{".": {"left":
/// ..., "attr": ...}}` and a presence test as `{"has": ...}` of the same
/// shape; `context` used any other way (compared whole, say) reads all of
/// it, and so does a policy whose form could not be read (`None`): that
/// only costs time.
pub(crate) fn context_reads(json: Option<&serde_json::Value>) -> Reads {
    json.map_or(Reads::ALL, |json| reads_in(json, Reads::NONE))
}

fn reads_in(value: &serde_json::Value, reads: Reads) -> Reads {
    use serde_json::Value;
    let is_context = |v: &Value| v.get("Var").and_then(Value::as_str) == Some("context");
    match value {
        Value::Object(map) => {
            for access in [".", "has"] {
                if let Some(inner) = map.get(access)
                    && inner.get("left").is_some_and(is_context)
                {
                    return match inner.get("attr").and_then(Value::as_str) {
                        Some(attr) => reads.with(attr),
                        None => Reads::ALL,
                    };
                }
            }
            if is_context(value) {
                return Reads::ALL;
            }
            map.values().fold(reads, |r, v| reads_in(v, r))
        }
        Value::Array(items) => items.iter().fold(reads, |r, v| reads_in(v, r)),
        _ => reads,
    }
}
