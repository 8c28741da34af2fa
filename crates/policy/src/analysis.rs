//! Policy analysis for `portcullis check`: findings about the policy set as
//! a whole, each with a severity and its basis, and the identity × operation
//! coverage matrix.
//!
//! Findings from a policy's scope (which actions and principals it can
//! match) are proven: they follow from the scope alone, for every request.
//! Findings about what identities can actually do are sampled from the
//! matrix (see `matrix`), so a condition the samples do not exercise can
//! hide behaviour. Cedar's symbolic compiler (`cedar-policy-symcc`) would
//! prove those too, but needs an SMT solver this build does not ship.

mod matrix;

use std::collections::{BTreeMap, HashSet};

use cedar_policy::{ActionConstraint, Effect, Policy, PrincipalConstraint};
use portcullis_contract::Contract;
use portcullis_core::Identity;

use crate::policies::PolicyStore;
use crate::schema::PolicySchema;
pub use matrix::Cell;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether a finding holds for every request or was seen in samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Proven,
    Sampled,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Proven => "proven",
            Basis::Sampled => "sampled",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Stable rule id: `unreachable`, `wide-open`, `wildcard-action`,
    /// `wildcard-principal`, `never-applies`, `unknown-identity`,
    /// `forbid-overrides-nothing`.
    pub rule: &'static str,
    /// The operation (`api:operationId`) or policy id it is about.
    pub subject: String,
    pub message: String,
    /// `file:line` of the policy, when it is about one.
    pub at: Option<String>,
    pub basis: Basis,
}

/// Who can call what: `cells[operation][identity]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub identities: Vec<String>,
    /// `api:operationId`, in contract order.
    pub operations: Vec<String>,
    pub cells: Vec<Vec<Cell>>,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
}

/// Analyses `store` (loaded against `schema`, generated from `contracts`)
/// for the declared `identities`.
pub fn analyze(
    store: &PolicyStore,
    schema: &PolicySchema,
    contracts: &[(&str, &Contract)],
    identities: &[Identity],
) -> Analysis {
    let mut findings = Vec::new();
    let slices: Vec<_> = schema
        .actions()
        .iter()
        .filter_map(|a| Some((a, store.actions.get(&a.api)?.get(&a.operation)?)))
        .collect();
    // Policy id -> the operations whose slice holds it.
    let mut holders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, slice)) in slices.iter().enumerate() {
        for policy in slice.sets.policies.policies() {
            holders.entry(policy.id().to_string()).or_default().push(i);
        }
    }
    let known: HashSet<&str> = identities.iter().map(|i| i.id.as_str()).collect();
    for policy in store.policies().policies() {
        let id = policy.id().to_string();
        let at = store
            .origin(&id)
            .map(|o| format!("{}:{}", o.file(), o.line()));
        let held = holders.get(&id).map_or(&[][..], Vec::as_slice);
        let finding = |severity, rule, message: String| Finding {
            severity,
            rule,
            subject: id.clone(),
            message,
            at: at.clone(),
            basis: Basis::Proven,
        };
        findings.extend(scope_findings(policy, held, &known, &finding));
        if policy.effect() == Effect::Forbid
            && !held.is_empty()
            && held.iter().all(|&i| {
                slices.get(i).is_none_or(|(_, s)| {
                    s.sets
                        .policies
                        .policies()
                        .all(|p| p.effect() == Effect::Forbid)
                })
            })
        {
            findings.push(finding(
                Severity::Info,
                "forbid-overrides-nothing",
                "no permit applies to any operation this forbid covers, so it changes no decision"
                    .into(),
            ));
        }
    }
    let mut cells = Vec::with_capacity(slices.len());
    for (action, slice) in &slices {
        let operation = contracts
            .iter()
            .find(|(api, _)| *api == action.api)
            .and_then(|(_, c)| c.operations().iter().find(|o| o.id == action.operation));
        let row: Vec<Cell> = identities
            .iter()
            .map(|identity| {
                if operation.is_some_and(|o| o.check_scopes(&identity.scopes).is_err()) {
                    Cell::NoScope
                } else {
                    let shapes = (slice.params.as_slice(), slice.query.as_slice());
                    matrix::cell(store, identity, &action.api, &action.operation, shapes)
                }
            })
            .collect();
        findings.extend(operation_findings(&action.id, slice, &row, identities));
        cells.push(row);
    }
    // Worst first, then by rule and subject, so output is stable.
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.rule.cmp(b.rule))
            .then(a.subject.cmp(&b.subject))
    });
    Analysis {
        findings,
        coverage: Coverage {
            identities: identities.iter().map(|i| i.id.clone()).collect(),
            operations: slices.iter().map(|(a, _)| a.id.clone()).collect(),
            cells,
        },
    }
}

/// What a policy's scope alone says about it.
fn scope_findings(
    policy: &Policy,
    held: &[usize],
    known: &HashSet<&str>,
    finding: &dyn Fn(Severity, &'static str, String) -> Finding,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if held.is_empty() {
        out.push(finding(
            Severity::Warning,
            "never-applies",
            "its action scope matches no operation of any contract".into(),
        ));
    }
    if let PrincipalConstraint::Eq(uid) | PrincipalConstraint::In(uid) =
        policy.principal_constraint()
    {
        let id = uid.id().unescaped();
        if !known.contains(id) {
            out.push(finding(
                Severity::Warning,
                "unknown-identity",
                format!("names identity `{id}`, which the inventory does not declare"),
            ));
        }
    }
    if policy.effect() == Effect::Permit {
        if matches!(policy.action_constraint(), ActionConstraint::Any) {
            out.push(finding(
                Severity::Warning,
                "wildcard-action",
                "permits every operation of every API (no action constraint)".into(),
            ));
        }
        if matches!(policy.principal_constraint(), PrincipalConstraint::Any)
            && !has_conditions(policy)
        {
            out.push(finding(
                Severity::Warning,
                "wildcard-principal",
                "permits every identity (no principal constraint and no condition)".into(),
            ));
        }
    }
    out
}

/// What the slice and the matrix say about one operation.
fn operation_findings(
    action: &str,
    slice: &crate::policies::ActionSlice,
    row: &[Cell],
    identities: &[Identity],
) -> Vec<Finding> {
    // With one identity, "every identity" is that one: say so, so a reader
    // can judge whether it is intended.
    let only = match identities {
        [one] => Some(one.id.as_str()),
        _ => None,
    };
    let finding = |severity, rule, message: String, basis| Finding {
        severity,
        rule,
        subject: action.to_owned(),
        message,
        at: None,
        basis,
    };
    let permits: Vec<&Policy> = slice
        .sets
        .policies
        .policies()
        .filter(|p| p.effect() == Effect::Permit)
        .collect();
    let forbids = slice
        .sets
        .policies
        .policies()
        .any(|p| p.effect() == Effect::Forbid);
    if permits.is_empty() {
        return vec![finding(
            Severity::Warning,
            "unreachable",
            "no policy permits it for anyone".into(),
            Basis::Proven,
        )];
    }
    let open = permits.iter().any(|p| {
        matches!(p.principal_constraint(), PrincipalConstraint::Any) && !has_conditions(p)
    });
    if open && !forbids {
        return vec![finding(
            Severity::Warning,
            "wide-open",
            match only {
                Some(id) => format!(
                    "the only identity, `{id}`, may call it whatever the request, and so may any identity added later"
                ),
                None => "every identity may call it, whatever the request".into(),
            },
            Basis::Proven,
        )];
    }
    if row.is_empty() {
        return Vec::new();
    }
    if row.iter().all(|c| matches!(c, Cell::Deny | Cell::NoScope)) {
        return vec![finding(
            Severity::Warning,
            "unreachable",
            "no declared identity may call it in any sampled request".into(),
            Basis::Sampled,
        )];
    }
    if row.iter().all(|c| *c == Cell::Allow) {
        return vec![finding(
            Severity::Warning,
            "wide-open",
            match only {
                Some(id) => {
                    format!("the only identity, `{id}`, may call it in every sampled request")
                }
                None => "every declared identity may call it in every sampled request".into(),
            },
            Basis::Sampled,
        )];
    }
    Vec::new()
}

/// Whether the policy has a `when` or `unless` clause.
fn has_conditions(policy: &Policy) -> bool {
    policy.to_json().ok().is_some_and(|json| {
        json.get("conditions")
            .and_then(|c| c.as_array())
            .is_some_and(|c| !c.is_empty())
    })
}

#[cfg(test)]
mod tests;
