//! What every request of one identity to one action shares, computed on its
//! first request and kept for the life of the policy store (one snapshot):
//! the entity store with the principal in it, and the outcome of the
//! slice's policies that never read `context`. Those are decided by the
//! principal and the action alone, so evaluating them once gives exactly
//! the answer each request would; a request then evaluates only the
//! policies that read its context, against the kept entities.
//!
//! An entry is checked against the identity on every use: an identity whose
//! kind, owner, environment or tags changed since (the inventory changes
//! without a new snapshot) is computed afresh, so a policy always sees the
//! identity as the inventory holds it now. Bounded: at most
//! [`MAX_ENTRIES`] entries per action, the action's entries dropped when it
//! is full, so a flood of identities costs time, never unbounded memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cedar_policy::{
    Authorizer, Context, Entities, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
};
use portcullis_core::{Identity, IdentityKind};

use super::identity_entity;
use crate::policies::ActionSlice;

/// Most identities kept per action.
pub(crate) const MAX_ENTRIES: usize = 4_096;

/// One action's entries, keyed by identity id.
#[derive(Debug, Default)]
pub(crate) struct Principals {
    entries: RwLock<HashMap<Box<str>, Arc<Fixed>>>,
}

/// One identity's part of one action's decisions.
#[derive(Debug)]
pub(crate) struct Fixed {
    kind: IdentityKind,
    owner: String,
    environment: String,
    tags: Vec<String>,
    pub(crate) principal: EntityUid,
    /// The action, its group and the principal.
    pub(crate) entities: Entities,
    /// Ids of the fixed policies that hold: permits and forbids.
    pub(crate) permits: Vec<String>,
    pub(crate) forbids: Vec<String>,
    /// Evaluation errors of the fixed policies (each one denies).
    pub(crate) errors: Vec<String>,
}

impl Fixed {
    fn describes(&self, identity: &Identity) -> bool {
        self.kind == identity.kind
            && self.owner == identity.owner
            && self.environment == identity.environment
            && self.tags == identity.tags
    }
}

impl Principals {
    /// The identity's entry for `slice`, computed now if missing or stale.
    pub(crate) fn get(
        &self,
        slice: &ActionSlice,
        identity_type: &EntityTypeName,
        authorizer: &Authorizer,
        identity: &Identity,
    ) -> Result<Arc<Fixed>, String> {
        // A poisoned lock only means another request panicked mid-insert:
        // the map itself is whole, and a miss merely recomputes.
        if let Ok(entries) = self.entries.read()
            && let Some(fixed) = entries.get(identity.id.as_str())
            && fixed.describes(identity)
        {
            return Ok(Arc::clone(fixed));
        }
        let fixed = Arc::new(compute(slice, identity_type, authorizer, identity)?);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(identity.id.as_str().into(), Arc::clone(&fixed));
        }
        Ok(fixed)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }
}

fn compute(
    slice: &ActionSlice,
    identity_type: &EntityTypeName,
    authorizer: &Authorizer,
    identity: &Identity,
) -> Result<Fixed, String> {
    let principal =
        EntityUid::from_type_name_and_id(identity_type.clone(), EntityId::new(&identity.id));
    let entities = slice
        .entities
        .clone()
        .add_entities([identity_entity(principal.clone(), identity)?], None)
        .map_err(|e| format!("entities: {e}"))?;
    let mut fixed = Fixed {
        kind: identity.kind,
        owner: identity.owner.clone(),
        environment: identity.environment.clone(),
        tags: identity.tags.clone(),
        principal,
        entities,
        permits: Vec::new(),
        forbids: Vec::new(),
        errors: Vec::new(),
    };
    if !slice.sets.fixed.is_empty() {
        evaluate_fixed(slice, authorizer, &slice.sets.fixed, &mut fixed)?;
    }
    Ok(fixed)
}

/// Runs the policies that never read `context` with an empty one: what
/// they decide cannot depend on it.
fn evaluate_fixed(
    slice: &ActionSlice,
    authorizer: &Authorizer,
    policies: &PolicySet,
    fixed: &mut Fixed,
) -> Result<(), String> {
    let request = Request::new(
        fixed.principal.clone(),
        slice.action.clone(),
        slice.resource.clone(),
        Context::empty(),
        None,
    )
    .map_err(|e| format!("request: {e}"))?;
    let response = authorizer.is_authorized(&request, policies, &fixed.entities);
    let reasons = response.diagnostics().reason().map(ToString::to_string);
    // Cedar names the satisfied forbids when it denies and the satisfied
    // permits when it allows; when a forbid holds, which permits also hold
    // no longer matters to anyone.
    match response.decision() {
        cedar_policy::Decision::Allow => fixed.permits.extend(reasons),
        cedar_policy::Decision::Deny => fixed.forbids.extend(reasons),
    }
    fixed.errors = response
        .diagnostics()
        .errors()
        .map(ToString::to_string)
        .collect();
    Ok(())
}
