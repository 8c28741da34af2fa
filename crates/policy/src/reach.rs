//! Whether an identity can ever be permitted an operation: the question
//! `tools/list` asks before it shows a tool.
//!
//! Sound by construction: Cedar's partial evaluation runs the action's slice
//! with the principal and the action known and the whole context unknown
//! (parameters, scopes, address, time). A residual (a condition on the
//! context) could be true for some request, so it counts as reachable; only
//! a slice that denies for every context (no permit can hold, or a forbid
//! holds whatever the context) is unreachable. Errors and anything that
//! cannot be built answer `Err`, which callers treat as unreachable: a tool
//! is never shown on a guess.

use cedar_policy::{EntityId, EntityUid, RequestBuilder};
use portcullis_core::Identity;

use crate::authorize::identity_entity;
use crate::policies::PolicyStore;

/// The answer of [`PolicyStore::reach`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Permitted whatever the request holds.
    Always,
    /// Permitted for some requests, refused for others (a condition on the
    /// parameters, scopes, address or time).
    Sometimes,
    /// Refused for every request.
    Never,
}

impl Reach {
    /// Whether some request is permitted.
    pub fn is_reachable(self) -> bool {
        self != Reach::Never
    }
}

impl PolicyStore {
    /// Whether `identity` can be permitted some call of `operation` of `api`.
    ///
    /// # Errors
    /// An operation outside the schema, or an identity Cedar refuses as an
    /// entity; callers show nothing for it.
    pub fn reach(&self, identity: &Identity, api: &str, operation: &str) -> Result<Reach, String> {
        let slice = self
            .actions
            .get(api)
            .and_then(|ops| ops.get(operation))
            .ok_or_else(|| {
                format!("operation `{operation}` of api `{api}` is not in the schema")
            })?;
        let principal = EntityUid::from_type_name_and_id(
            self.identity_type.clone(),
            EntityId::new(&identity.id),
        );
        let entities = slice
            .entities
            .clone()
            .add_entities([identity_entity(principal.clone(), identity)?], None)
            .map_err(|e| format!("entities: {e}"))?;
        let request = RequestBuilder::default()
            .principal(principal)
            .action(slice.action.clone())
            .resource(slice.resource.clone())
            .build();
        let response =
            self.authorizer
                .is_authorized_partial(&request, &slice.sets.policies, &entities);
        if let Some(id) = response.definitely_errored().next() {
            // A policy that errs for every request denies every request
            // (`authorize` denies on any error).
            return Err(format!("policy `{id}` errs for every request"));
        }
        Ok(match response.decision() {
            Some(cedar_policy::Decision::Allow) => Reach::Always,
            Some(cedar_policy::Decision::Deny) => Reach::Never,
            None => Reach::Sometimes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Reach;
    use crate::testing::{identity, store};

    fn reach(policies: &str, operation: &str) -> Reach {
        let store = store(&[("p.cedar", policies)]);
        store
            .reach(&identity("bot", "acme"), "orders", operation)
            .unwrap()
    }

    #[test]
    fn no_permit_is_never_and_an_unconditional_one_is_always() {
        let p = "permit(principal, action == Action::\"orders:getOrder\", resource);";
        assert_eq!(reach(p, "getOrder"), Reach::Always);
        assert_eq!(reach(p, "cancelOrder"), Reach::Never);
    }

    #[test]
    fn a_condition_on_the_request_is_sometimes() {
        let p = "permit(principal, action == Action::\"orders:getOrder\", resource)\n  when { context.params.orderId == 7 && context.hour < 18 };";
        assert_eq!(reach(p, "getOrder"), Reach::Sometimes);
    }

    #[test]
    fn a_condition_on_the_principal_is_decided_now() {
        let yes = "permit(principal, action == Action::\"orders:getOrder\", resource)\n  when { principal.owner == \"acme\" };";
        let no = "permit(principal, action == Action::\"orders:getOrder\", resource)\n  when { principal.owner == \"other\" && context.hour < 18 };";
        assert_eq!(reach(yes, "getOrder"), Reach::Always);
        assert_eq!(reach(no, "getOrder"), Reach::Never);
    }

    #[test]
    fn a_forbid_that_always_holds_overrides_every_permit() {
        let p = "permit(principal, action, resource);\nforbid(principal, action == Action::\"orders:cancelOrder\", resource)\n  when { principal.owner == \"acme\" };";
        assert_eq!(reach(p, "cancelOrder"), Reach::Never);
        assert_eq!(reach(p, "getOrder"), Reach::Always);
    }

    #[test]
    fn a_forbid_on_the_request_leaves_it_sometimes() {
        let p = "permit(principal, action, resource);\nforbid(principal, action, resource) when { context.ip == \"10.0.0.1\" };";
        assert_eq!(reach(p, "getOrder"), Reach::Sometimes);
    }

    #[test]
    fn an_unknown_operation_is_an_error() {
        let store = store(&[("p.cedar", "permit(principal, action, resource);")]);
        assert!(
            store
                .reach(&identity("bot", "acme"), "orders", "nope")
                .is_err()
        );
    }
}
