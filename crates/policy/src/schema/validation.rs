//! The schema policies are validated against: the generated one with the
//! actions no policy names reduced to one per kind.
//!
//! Cedar's strict validator typechecks each policy once per action it can
//! apply to, and its `action in <group>` check scans the group's members
//! each time: at 10,000 operations that was 57% of the gateway's start.
//! Two actions typecheck every policy alike when no policy names either of
//! them and they share their group and their context type: a policy can
//! tell them apart only by their context, by their groups (`action in`), or
//! by naming one of them (`action == Action::"x"`, in its scope or its
//! conditions), and actions carry no attributes. So validating against one
//! unnamed action per (group, context) class, plus every action some policy
//! names, passes or fails every policy as the whole schema does. Cedar's
//! error messages name the action they failed for, so a set that fails is
//! validated again against the whole schema, and the user reads every
//! action (`validation_tests.rs` compares both over many policy sets).

use std::collections::HashSet;

use cedar_policy::{PolicySet, ValidationMode, ValidationResult, Validator};
use serde_json::Value;

use super::{PolicySchema, json};
use crate::error::PolicyError;

impl PolicySchema {
    /// Strict validation of `policies`, which name (in their scopes or
    /// conditions) only the actions in `named`: the result validating
    /// against the whole schema gives. `None` (a policy whose form could not
    /// be read) validates against the whole schema straight away.
    pub(crate) fn validate(
        &self,
        policies: &PolicySet,
        named: Option<&HashSet<String>>,
    ) -> Result<ValidationResult, PolicyError> {
        if let Some(named) = named {
            let result =
                Validator::new(self.reduced(named)?).validate(policies, ValidationMode::Strict);
            if result.validation_passed() {
                return Ok(result);
            }
        }
        Ok(Validator::new(self.cedar()?.clone()).validate(policies, ValidationMode::Strict))
    }

    /// The schema with every action in `named` and one other per (group,
    /// context type) class.
    pub(crate) fn reduced(
        &self,
        named: &HashSet<String>,
    ) -> Result<cedar_policy::Schema, PolicyError> {
        let mut classes = HashSet::new();
        let kept = self
            .actions
            .iter()
            .filter(|a| named.contains(&a.id) || classes.insert((&a.group, &a.params, &a.query)));
        cedar_policy::Schema::from_json_value(json::render(&self.apis, &self.person, kept))
            .map_err(|e| PolicyError::Schema(e.to_string()))
    }
}

/// Adds every action id a policy's JSON form names to `named`. Cedar writes
/// an entity as `{"type": "Action", "id": "..."}` (in the scope, and under
/// `__entity` in conditions); naming too many only costs time.
pub(crate) fn named_actions(json: &Value, named: &mut HashSet<String>) {
    match json {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("Action")
                && let Some(id) = map.get("id").and_then(Value::as_str)
            {
                named.insert(id.to_owned());
            }
            map.values().for_each(|v| named_actions(v, named));
        }
        Value::Array(items) => items.iter().for_each(|v| named_actions(v, named)),
        _ => {}
    }
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
