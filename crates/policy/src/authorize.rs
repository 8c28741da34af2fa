//! The authorize decision: one request, its action's slice of the policies,
//! Cedar's answer. Deny by default, and fail closed: a request, entity or
//! context that cannot be built, and any policy evaluation error, deny with
//! the error recorded. Never allow on error.
//!
//! Deterministic: no clock (time is an argument), no hidden state; ids and
//! errors are sorted, so the same inputs give the same `Decision`.

mod context;
mod principal;

pub(crate) use context::Reads;
pub(crate) use principal::Principals;

use std::collections::{HashMap, HashSet};

use cedar_policy::{Entity, EntityUid, Request, RestrictedExpression};
use portcullis_core::{Identity, UnixTime};
use serde_json::{Map, Value};

use crate::policies::{ActionSlice, PolicyStore};
use crate::schema::{ClaimType, PersonAttr};

/// Everything one decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    pub identity: &'a Identity,
    pub api: &'a str,
    /// The contract's operation id.
    pub operation: &'a str,
    /// Path parameters, typed by contract validation.
    pub params: &'a Map<String, Value>,
    /// Query parameters, typed by contract validation.
    pub query: &'a Map<String, Value>,
    /// Scopes the presented token carries.
    pub scopes: &'a [String],
    /// The caller's address as text.
    pub ip: &'a str,
    pub time: UnixTime,
    /// Whom the request acts for, when its token was exchanged.
    pub delegation: Option<&'a Delegation>,
}

/// Whom a request acts for, when its token was exchanged (RFC 8693).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// The person's id at their issuer (the subject token's `sub`), or the
    /// identity's id when an identity delegated.
    pub person: String,
    pub issuer: String,
    /// The claims the configuration maps onto `Person`, by mapped name.
    pub claims: Map<String, Value>,
    /// The identities acting, outermost (the principal) first.
    pub chain: Vec<String>,
}

/// Cedar's answer, made fail-closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Ids of the policies that decided: the permits that allowed, or the
    /// forbids that denied; empty for a default deny or a deny on error.
    pub determining: Vec<String>,
    /// Why building or evaluating the request failed; non-empty means denied.
    pub errors: Vec<String>,
}

impl Decision {
    fn denied(error: String) -> Self {
        Self {
            allowed: false,
            determining: Vec::new(),
            errors: vec![error],
        }
    }
}

impl PolicyStore {
    /// Decides `request` with its action's slice of the policies.
    pub fn authorize(&self, request: &AuthzRequest<'_>) -> Decision {
        self.evaluate(request).unwrap_or_else(Decision::denied)
    }

    /// The context record the request is evaluated with, as JSON (numbers
    /// of `number` parameters as text, as the schema maps them).
    ///
    /// # Errors
    /// Why `authorize` would deny before evaluating: unknown operation,
    /// undeclared parameter, value that does not fit its type.
    pub fn context_json(&self, request: &AuthzRequest<'_>) -> Result<Value, String> {
        context::context_json(self.slice(request)?, request)
    }

    /// The whole Cedar request as JSON, for people (`portcullis explain`):
    /// principal with its attributes and tags, action, resource, context.
    pub fn request_json(&self, request: &AuthzRequest<'_>) -> Value {
        let identity = request.identity;
        let mut tags = Map::new();
        for (name, value) in cedar_tags(identity) {
            tags.entry(name.to_owned())
                .or_insert_with(|| Value::String(value.to_owned()));
        }
        let context = self
            .context_json(request)
            .unwrap_or_else(|e| serde_json::json!({ "error": e }));
        let person = request.delegation.map(|d| {
            let mut attributes = Map::new();
            attributes.insert("id".into(), Value::String(d.person.clone()));
            attributes.insert("issuer".into(), Value::String(d.issuer.clone()));
            for attr in &self.person {
                if let Some(value) = d.claims.get(&attr.name) {
                    attributes.insert(attr.name.clone(), value.clone());
                }
            }
            serde_json::json!({
                "entity": format!("Person::{:?}", d.person),
                "attributes": attributes,
            })
        });
        let mut shown = serde_json::json!({
            "principal": format!("{}::{:?}", self.identity_type, identity.id),
            "principal_attributes": {
                "kind": identity.kind.as_str(),
                "owner": identity.owner,
                "environment": identity.environment,
                "tags": identity.tags,
            },
            "principal_tags": tags,
            "action": format!("Action::{:?}", format!("{}:{}", request.api, request.operation)),
            "resource": format!("Api::{:?}", request.api),
            "context": context,
        });
        if let (Some(person), Value::Object(map)) = (person, &mut shown) {
            map.insert("on_behalf_of".to_owned(), person);
        }
        shown
    }

    fn slice(&self, request: &AuthzRequest<'_>) -> Result<&ActionSlice, String> {
        self.actions
            .get(request.api)
            .and_then(|ops| ops.get(request.operation))
            .ok_or_else(|| {
                format!(
                    "operation `{}` of api `{}` is not in the schema",
                    request.operation, request.api
                )
            })
    }

    fn evaluate(&self, request: &AuthzRequest<'_>) -> Result<Decision, String> {
        let slice = self.slice(request)?;
        let fixed = slice.principals.get(
            slice,
            &self.identity_type,
            &self.authorizer,
            request.identity,
        )?;
        let mut permits = fixed.permits.clone();
        let mut forbids = fixed.forbids.clone();
        let mut errors = fixed.errors.clone();
        if slice.sets.contextual.is_empty() {
            context::check_parameters(slice, request)?;
        } else {
            let reads = slice.sets.reads;
            let context = context::cedar_context(slice, request, reads, &self.person_type)?;
            // The person is an entity: a policy reading its attributes needs
            // it in the store beside the principal.
            let with_person;
            let entities = match request.delegation {
                Some(delegation) if reads.person() => {
                    let person = person_entity(&self.person_type, &self.person, delegation)?;
                    with_person = fixed
                        .entities
                        .clone()
                        .add_entities([person], None)
                        .map_err(|e| format!("person: {e}"))?;
                    &with_person
                }
                _ => &fixed.entities,
            };
            // Not checked against the schema again: `context` builds each
            // attribute from the contract-typed parameters by the schema's
            // own mapping and refuses what does not fit, and a policy that
            // reads an attribute the request lacks errs, which denies.
            let cedar_request = Request::new(
                fixed.principal.clone(),
                slice.action.clone(),
                slice.resource.clone(),
                context,
                None,
            )
            .map_err(|e| format!("request: {e}"))?;
            let response =
                self.authorizer
                    .is_authorized(&cedar_request, &slice.sets.contextual, entities);
            let diagnostics = response.diagnostics();
            errors.extend(diagnostics.errors().map(ToString::to_string));
            let reasons = diagnostics.reason().map(ToString::to_string);
            match response.decision() {
                cedar_policy::Decision::Allow => permits.extend(reasons),
                cedar_policy::Decision::Deny => forbids.extend(reasons),
            }
        }
        errors.sort();
        // Cedar's rule over the whole slice: a forbid that holds denies, and
        // names the forbids; else a permit that holds allows, and names the
        // permits.
        let cedar_allowed = forbids.is_empty() && !permits.is_empty();
        // INVARIANT: an evaluation error denies, even when Cedar, having
        // skipped the erring policy (perhaps a forbid), would allow.
        let allowed = cedar_allowed && errors.is_empty();
        let mut determining = match (cedar_allowed, allowed) {
            (true, true) => permits,
            (true, false) => Vec::new(),
            (false, _) => forbids,
        };
        determining.sort();
        Ok(Decision {
            allowed,
            determining,
            errors,
        })
    }
}

/// The principal entity. Its Cedar tags are the identity's tags written
/// `name:value` (split at the first colon); a name given twice keeps its
/// first value, so the entity never depends on anything but the tag order
/// the inventory holds.
// INVARIANT: exactly the attributes and types `schema/text.rs` declares for
// `Identity` (a test checks this against the schema).
pub(crate) fn identity_entity(uid: EntityUid, identity: &Identity) -> Result<Entity, String> {
    let text = |s: &str| RestrictedExpression::new_string(s.to_owned());
    let attrs = HashMap::from([
        ("kind".to_owned(), text(identity.kind.as_str())),
        ("owner".to_owned(), text(&identity.owner)),
        ("environment".to_owned(), text(&identity.environment)),
        (
            "tags".to_owned(),
            RestrictedExpression::new_set(identity.tags.iter().map(|t| text(t))),
        ),
    ]);
    let mut tags = HashMap::new();
    for (name, value) in cedar_tags(identity) {
        tags.entry(name.to_owned()).or_insert_with(|| text(value));
    }
    Entity::new_with_tags(uid, attrs, HashSet::new(), tags).map_err(|e| format!("identity: {e}"))
}

/// The `Person` entity a delegated request acts for: `id`, `issuer`, and
/// each mapped claim the token carries in the type the configuration gave
/// it (a claim that does not fit is left out: the attributes are optional,
/// so a policy reading it sees it absent).
// INVARIANT: the attributes `schema::person_attrs` declares, no others.
fn person_entity(
    person_type: &cedar_policy::EntityTypeName,
    mapped: &[PersonAttr],
    delegation: &Delegation,
) -> Result<Entity, String> {
    let uid = context::person_uid(person_type, delegation)?;
    let text = |s: &str| RestrictedExpression::new_string(s.to_owned());
    let mut attrs = HashMap::from([
        ("id".to_owned(), text(&delegation.person)),
        ("issuer".to_owned(), text(&delegation.issuer)),
    ]);
    for attr in mapped {
        let value = delegation.claims.get(&attr.name);
        let typed = match (attr.ty, value) {
            (ClaimType::String, Some(Value::String(v))) => Some(text(v)),
            (ClaimType::Long, Some(Value::Number(n))) => {
                n.as_i64().map(RestrictedExpression::new_long)
            }
            (ClaimType::Bool, Some(Value::Bool(b))) => Some(RestrictedExpression::new_bool(*b)),
            (ClaimType::StringSet, Some(Value::Array(items))) => items
                .iter()
                .map(|i| i.as_str().map(text))
                .collect::<Option<Vec<_>>>()
                .map(RestrictedExpression::new_set),
            _ => None,
        };
        if let Some(typed) = typed {
            attrs.insert(attr.name.clone(), typed);
        }
    }
    Entity::new(uid, attrs, HashSet::new()).map_err(|e| format!("person: {e}"))
}

/// The identity's tags written `name:value`, split at the first colon, in
/// inventory order (the first of a repeated name wins where it matters).
fn cedar_tags(identity: &Identity) -> impl Iterator<Item = (&str, &str)> {
    identity
        .tags
        .iter()
        .filter_map(|t| t.split_once(':'))
        .filter(|(name, _)| !name.is_empty())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod split_tests;
