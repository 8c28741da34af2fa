//! The coverage matrix: for each inventory identity and each operation, what
//! the policies answer over a fixed set of sampled requests.
//!
//! Samples: every string parameter takes each value the identity's
//! `name:value` tags carry (so tenant rules are seen from the inside) and
//! one value no tag carries (from the outside); integers are 1, booleans
//! true; optional query parameters are absent. Each is asked at two times,
//! a weekday morning and a weekend night (UTC), so time rules show. When the
//! operation's policies read `on_behalf_of` or `chain`, each is also asked
//! acting for a person (the identity alone in the chain) whose string
//! claims are the same sampled value, so a rule tying the person to a
//! parameter shows from the inside and the outside too. A cell
//! is `allow` or `deny` when every sample agrees, `cond` when they differ,
//! and `scope` when the identity's grant lacks the operation's scope (the
//! scope stage refuses before the policies are asked).

use portcullis_core::Identity;
use serde_json::{Map, Value};

use crate::authorize::{AuthzRequest, Delegation};
use crate::policies::PolicyStore;
use crate::schema::{AttrDef, Elem};

/// Tuesday 2026-11-24 10:00 UTC.
pub(crate) const WEEKDAY_MORNING: i64 = 1_795_514_400;
/// Saturday 2026-11-28 03:00 UTC.
pub(crate) const WEEKEND_NIGHT: i64 = 1_795_834_800;
/// A string value no identity's tag carries.
const OUTSIDER: &str = "portcullis-sample-outsider";

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Allow,
    Deny,
    /// Allowed for some sampled requests, denied for others.
    Conditional,
    /// The identity's grant lacks a scope the operation requires.
    NoScope,
}

impl Cell {
    pub fn as_str(self) -> &'static str {
        match self {
            Cell::Allow => "allow",
            Cell::Deny => "deny",
            Cell::Conditional => "cond",
            Cell::NoScope => "scope",
        }
    }
}

/// Asks the policies about `identity` calling `api`/`operation`.
pub(crate) fn cell(
    store: &PolicyStore,
    identity: &Identity,
    api: &str,
    operation: &str,
    (params, query): (&[AttrDef], &[AttrDef]),
) -> Cell {
    let mut strings: Vec<&str> = identity
        .tags
        .iter()
        .filter_map(|t| t.split_once(':').map(|(_, v)| v))
        .collect();
    strings.push(OUTSIDER);
    let delegated = store.reads_delegation(api, operation);
    let (mut allowed, mut denied) = (false, false);
    for value in strings {
        let params = sample(params, value, true);
        let query = sample(query, value, false);
        let person = delegated.then(|| sample_person(store, identity, value));
        for delegation in std::iter::once(None).chain(person.as_ref().map(Some)) {
            for time in [WEEKDAY_MORNING, WEEKEND_NIGHT] {
                let decision = store.authorize(&AuthzRequest {
                    identity,
                    api,
                    operation,
                    params: &params,
                    query: &query,
                    scopes: &identity.scopes,
                    ip: "127.0.0.1",
                    time,
                    delegation,
                });
                if decision.allowed {
                    allowed = true;
                } else {
                    denied = true;
                }
            }
        }
    }
    match (allowed, denied) {
        (true, false) => Cell::Allow,
        (true, true) => Cell::Conditional,
        _ => Cell::Deny,
    }
}

/// A person `identity` acts for, each mapped claim sampled like a
/// parameter: strings (and sets of them) `string`, numbers 1, `true`.
fn sample_person(store: &PolicyStore, identity: &Identity, string: &str) -> Delegation {
    let claims = store
        .person
        .iter()
        .map(|attr| (attr.name.clone(), attr.ty.sample(string)))
        .collect();
    Delegation {
        person: "portcullis-sample-person".to_owned(),
        issuer: "portcullis-sample-issuer".to_owned(),
        claims,
        chain: vec![identity.id.clone()],
    }
}

fn sample(defs: &[AttrDef], string: &str, all: bool) -> Map<String, Value> {
    defs.iter()
        .filter(|d| all || d.required)
        .map(|d| {
            let one = match d.elem {
                Elem::Long => Value::from(1),
                Elem::Bool => Value::Bool(true),
                Elem::String => Value::String(string.to_owned()),
            };
            let value = if d.set { Value::Array(vec![one]) } else { one };
            (d.name.clone(), value)
        })
        .collect()
}
