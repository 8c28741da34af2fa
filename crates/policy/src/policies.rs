//! Policy files to a validated, per-action sliced [`PolicyStore`].
//!
//! Each policy gets a stable id: its `@id("...")` annotation, else
//! `<file>:<line>`. The whole set is validated against the generated schema
//! in strict mode, so a misspelt action, entity type or attribute is a load
//! error with file and line. Then every action gets its own slice of the set
//! (the policies whose action scope can match it, forbids included), because
//! Cedar's authorizer evaluates every policy it is given.
//!
//! Pure: policy texts arrive as (file name, text) pairs.

mod slice;
mod split;

use std::collections::{BTreeMap, HashMap, HashSet};

use cedar_policy::{Authorizer, Policy, PolicyId, PolicySet};
use miette::Diagnostic;

use crate::error::PolicyDiagnostic;
use crate::schema::{PolicySchema, named_actions};
pub(crate) use slice::ActionSlice;
use split::{Piece, line_of, split};

/// Where a policy was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOrigin {
    file: String,
    line: u32,
}

impl PolicyOrigin {
    pub fn file(&self) -> &str {
        &self.file
    }

    /// One-based line of the policy's first annotation or effect.
    pub fn line(&self) -> u32 {
        self.line
    }
}

/// Validated policies, sliced per action. Immutable once loaded; shared by
/// every request.
pub struct PolicyStore {
    pub(crate) authorizer: Authorizer,
    pub(crate) identity_type: cedar_policy::EntityTypeName,
    pub(crate) person_type: cedar_policy::EntityTypeName,
    /// The claims delegation maps onto `Person`, with their types.
    pub(crate) person: Vec<crate::schema::PersonAttr>,
    /// API name → operation id → that action's slice.
    pub(crate) actions: HashMap<String, HashMap<String, ActionSlice>>,
    policies: PolicySet,
    origins: BTreeMap<String, PolicyOrigin>,
    warnings: Vec<PolicyDiagnostic>,
}

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore")
            .field("policies", &self.origins.len())
            .field("apis", &self.actions.len())
            .finish_non_exhaustive()
    }
}

/// One parsed policy and where its text sits.
struct Parsed<'a> {
    policy: Policy,
    /// Cedar's JSON form, read once (it re-parses the text): what the
    /// policy reads of `context` and which actions it names come from it.
    /// `None` if Cedar could not write it.
    json: Option<serde_json::Value>,
    file: &'a str,
    text: &'a str,
    piece: Piece<'a>,
}

impl Parsed<'_> {
    fn line(&self) -> u32 {
        line_of(self.text, self.piece.first_token)
    }

    /// The line of an offset Cedar reports within this policy's text.
    fn line_at(&self, diagnostic: &dyn Diagnostic) -> u32 {
        first_offset(diagnostic).map_or_else(
            || self.line(),
            |offset| line_of(self.text, self.piece.start + offset),
        )
    }
}

impl PolicyStore {
    /// Whether a policy of the operation's slice reads `on_behalf_of` or
    /// `chain` (so a delegated request may be decided differently).
    pub fn reads_delegation(&self, api: &str, operation: &str) -> bool {
        self.actions
            .get(api)
            .and_then(|ops| ops.get(operation))
            .is_some_and(|slice| slice.sets.reads.delegation())
    }

    /// Parses, validates and slices the policy files against `schema`.
    /// No files, or files holding no policy, is a store that denies
    /// everything (see [`PolicyStore::is_empty`]).
    ///
    /// # Errors
    /// Every syntax error, duplicate id and schema violation, located.
    pub fn load(
        files: &[(String, String)],
        schema: &PolicySchema,
    ) -> Result<Self, Vec<PolicyDiagnostic>> {
        let mut files: Vec<&(String, String)> = files.iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut diagnostics = Vec::new();
        let parsed: Vec<Parsed<'_>> = files
            .iter()
            .flat_map(|(file, text)| parse_file(file, text, &mut diagnostics))
            .collect();
        check_unique(&parsed, &mut diagnostics);
        if !diagnostics.is_empty() {
            // The policies that did parse are still validated, so one run
            // reports every problem, not the syntax errors alone.
            if let Ok(set) = PolicySet::from_policies(parsed.iter().map(|p| p.policy.clone()))
                && let Err(more) = validate(&parsed, &set, schema)
            {
                diagnostics.extend(more);
            }
            return Err(sorted(diagnostics));
        }
        let policies = PolicySet::from_policies(parsed.iter().map(|p| p.policy.clone()))
            .map_err(|e| vec![PolicyDiagnostic::new("", 0, None, e.to_string())])?;
        let warnings = validate(&parsed, &policies, schema)?;
        let actions = slice::slice(schema, parsed.iter().map(|p| (&p.policy, p.json.as_ref())))
            .map_err(|message| vec![PolicyDiagnostic::new("", 0, None, message)])?;
        let origins = parsed
            .iter()
            .map(|p| {
                let origin = PolicyOrigin {
                    file: p.file.to_owned(),
                    line: p.line(),
                };
                (p.policy.id().to_string(), origin)
            })
            .collect();
        Ok(Self {
            authorizer: Authorizer::new(),
            identity_type: schema.types().identity.clone(),
            person_type: schema.types().person.clone(),
            person: schema.person().to_vec(),
            actions,
            policies,
            origins,
            warnings,
        })
    }

    /// No policy at all: every request is denied. Callers should say so loudly.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    /// How many policies were loaded.
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    /// Policy ids, sorted.
    pub fn policy_ids(&self) -> impl Iterator<Item = &str> {
        self.origins.keys().map(String::as_str)
    }

    /// Where the policy `id` was written.
    pub fn origin(&self, id: &str) -> Option<&PolicyOrigin> {
        self.origins.get(id)
    }

    /// The whole validated set (for analysis; requests use their slice).
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// Validator warnings (policies that can never apply, confusable text):
    /// loading succeeded, `portcullis check` should still show them.
    pub fn warnings(&self) -> &[PolicyDiagnostic] {
        &self.warnings
    }

    /// How many policies a request for `api`/`operation` evaluates.
    pub fn slice_len(&self, api: &str, operation: &str) -> Option<usize> {
        let slice = self.actions.get(api)?.get(operation)?;
        Some(slice.sets.policies.num_of_policies())
    }
}

/// Parses every policy of one file, each under its final id.
fn parse_file<'a>(
    file: &'a str,
    text: &'a str,
    diagnostics: &mut Vec<PolicyDiagnostic>,
) -> Vec<Parsed<'a>> {
    let mut parsed = Vec::new();
    for piece in split(text) {
        let line = line_of(text, piece.first_token);
        let fallback = PolicyId::new(format!("{file}:{line}"));
        let policy = match Policy::parse(Some(fallback), piece.text) {
            Ok(policy) => policy,
            Err(errors) => {
                for error in errors.iter() {
                    let at = first_offset(error).map_or(line, |o| line_of(text, piece.start + o));
                    diagnostics.push(PolicyDiagnostic::new(file, at, None, message(error)));
                }
                continue;
            }
        };
        let policy = match policy.annotation("id") {
            Some("") => {
                diagnostics.push(PolicyDiagnostic::new(
                    file,
                    line,
                    None,
                    "`@id` must not be empty",
                ));
                continue;
            }
            Some(id) => policy.new_id(PolicyId::new(id)),
            None => policy,
        };
        parsed.push(Parsed {
            json: policy.to_json().ok(),
            policy,
            file,
            text,
            piece,
        });
    }
    parsed
}

/// Ids are what audit records and `explain` name: each must be unique.
fn check_unique(parsed: &[Parsed<'_>], diagnostics: &mut Vec<PolicyDiagnostic>) {
    let mut seen: HashMap<&str, &Parsed<'_>> = HashMap::new();
    for p in parsed {
        let id = id_str(p.policy.id());
        if let Some(first) = seen.get(id) {
            diagnostics.push(PolicyDiagnostic::new(
                p.file,
                p.line(),
                Some(id),
                format!(
                    "policy id `{id}` is already used at {}:{}",
                    first.file,
                    first.line()
                ),
            ));
        } else {
            seen.insert(id, p);
        }
    }
}

/// Strict validation; errors fail the load, warnings are returned.
fn validate(
    parsed: &[Parsed<'_>],
    policies: &PolicySet,
    schema: &PolicySchema,
) -> Result<Vec<PolicyDiagnostic>, Vec<PolicyDiagnostic>> {
    let by_id: HashMap<&str, &Parsed<'_>> =
        parsed.iter().map(|p| (id_str(p.policy.id()), p)).collect();
    let locate = |id: &PolicyId, diagnostic: &dyn Diagnostic| {
        let message = message(diagnostic);
        match by_id.get(id_str(id)) {
            Some(p) => {
                PolicyDiagnostic::new(p.file, p.line_at(diagnostic), Some(id_str(id)), message)
            }
            None => PolicyDiagnostic::new("", 0, Some(id_str(id)), message),
        }
    };
    let named = parsed.iter().try_fold(HashSet::new(), |mut named, p| {
        named_actions(p.json.as_ref()?, &mut named);
        Some(named)
    });
    let result = schema
        .validate(policies, named.as_ref())
        .map_err(|e| vec![PolicyDiagnostic::new("", 0, None, e.to_string())])?;
    let errors: Vec<PolicyDiagnostic> = result
        .validation_errors()
        .map(|e| locate(e.policy_id(), e))
        .collect();
    if !errors.is_empty() {
        return Err(sorted(errors));
    }
    Ok(sorted(
        result
            .validation_warnings()
            .map(|w| locate(w.policy_id(), w))
            .collect(),
    ))
}

fn id_str(id: &PolicyId) -> &str {
    id.as_ref()
}

/// Cedar's message and, when it has one, its suggestion.
fn message(diagnostic: &dyn Diagnostic) -> String {
    match diagnostic.help() {
        Some(help) => format!("{diagnostic}: {help}"),
        None => diagnostic.to_string(),
    }
}

fn first_offset(diagnostic: &dyn Diagnostic) -> Option<usize> {
    diagnostic.labels()?.next().map(|label| label.offset())
}

/// Diagnostics in file and line order, so output is the same on every run.
fn sorted(mut diagnostics: Vec<PolicyDiagnostic>) -> Vec<PolicyDiagnostic> {
    diagnostics
        .sort_by(|a, b| (a.file(), a.line(), a.message()).cmp(&(b.file(), b.line(), b.message())));
    diagnostics
}

#[cfg(test)]
mod tests;
