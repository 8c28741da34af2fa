//! A schema violation said the way a contract's author thinks of it.
//!
//! The official schemas express "a Parameter Object or a Reference Object"
//! and "one of four kinds of Security Scheme" as `oneOf`, so a raw report is
//! "not valid under any of the schemas listed in 'oneOf'". Here each
//! alternative's own problems are worked out, the alternatives that plainly
//! do not apply are set aside (a `$ref` the author did not write, a
//! discriminating `type` or `in` with another value, a value of another
//! JSON type), and the problems of the alternative that came closest are
//! reported at their own, deepest, pointers.

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
use serde_json::Value;

use super::names;
use crate::document::escape_token;

/// One problem, located in the document.
#[derive(Debug, Clone)]
pub(super) struct Finding {
    pub(super) pointer: String,
    pub(super) message: String,
    what: What,
    /// Depth of the pointer, less for a sign that an alternative does not
    /// apply: the deepest problem tells the most.
    weight: i64,
}

/// What a finding says, for telling alternatives apart and merging them.
#[derive(Debug, Clone, PartialEq)]
enum What {
    /// The value must be one of these (`enum`, `const`).
    OneOf(Vec<Value>),
    /// The named field is missing.
    Missing(String),
    /// The value has another JSON type.
    Type,
    /// More than one alternative matched: usually the echo of a problem
    /// reported beside it (a missing `scheme` matches both HTTP forms).
    Ambiguous,
    Other,
}

impl Finding {
    fn new(pointer: String, message: String, what: What) -> Self {
        let depth = i64::try_from(pointer.matches('/').count()).unwrap_or(i64::MAX);
        let penalty = match &what {
            What::Missing(field) if field == "$ref" => 2,
            What::OneOf(_) | What::Type => 1,
            What::Missing(_) | What::Ambiguous | What::Other => 0,
        };
        Self {
            pointer,
            message,
            what,
            weight: depth - penalty,
        }
    }

    /// Two findings that say the same thing at the same place.
    pub(super) fn same(&self, other: &Finding) -> bool {
        self.pointer == other.pointer && self.message == other.message
    }

    /// A sign that the alternative checked at `at` is not the one meant:
    /// it wants a `$ref`, or a value of another JSON type.
    fn rules_out(&self, at: &str) -> bool {
        match &self.what {
            What::Missing(field) => field == "$ref" && self.pointer == at,
            What::Type => self.pointer == at,
            What::OneOf(_) | What::Ambiguous | What::Other => false,
        }
    }

    /// A refused `enum`/`const` value at `pointer`.
    fn refuses_value_at(&self, pointer: &str) -> bool {
        matches!(self.what, What::OneOf(_)) && self.pointer == pointer
    }
}

/// The findings one violation stands for.
pub(super) fn explain(error: &ValidationError<'_>) -> Vec<Finding> {
    let at = error.instance_path().as_str();
    let object = names::object_at(error.schema_path().as_str());
    match error.kind() {
        Kind::AdditionalProperties { unexpected } | Kind::UnevaluatedProperties { unexpected } => {
            unexpected
                .iter()
                .map(|key| {
                    Finding::new(child(at, key), names::unknown_key(key, object), What::Other)
                })
                .collect()
        }
        Kind::OneOfNotValid { context } | Kind::AnyOf { context } => alternatives(at, context),
        Kind::PropertyNames { error: inner } => vec![bad_name(at, inner)],
        kind => {
            let (message, what) =
                said(kind, object).unwrap_or_else(|| (error.masked().to_string(), What::Other));
            vec![Finding::new(at.to_owned(), message, what)]
        }
    }
}

/// What a single-place violation says; `None` for the engine's own wording.
fn said(kind: &Kind, object: &str) -> Option<(String, What)> {
    let other = |message: String| Some((message, What::Other));
    match kind {
        Kind::Required { property } => {
            let field = property.as_str().unwrap_or_default().to_owned();
            let message = match object {
                "object" => format!("missing required field `{field}`"),
                _ => format!("missing required field `{field}` of the {object}"),
            };
            Some((message, What::Missing(field)))
        }
        Kind::Type { kind } => Some((format!("must be {}", types(kind)), What::Type)),
        Kind::Enum { options } => {
            let allowed = options.as_array().cloned().unwrap_or_default();
            Some((
                format!("must be {}", listed(&allowed)),
                What::OneOf(allowed),
            ))
        }
        Kind::Constant { expected_value } => {
            let allowed = vec![Value::clone(expected_value)];
            Some((
                format!("must be {}", listed(&allowed)),
                What::OneOf(allowed),
            ))
        }
        Kind::OneOfMultipleValid { .. } => Some((
            format!("matches more than one of the forms the {object} allows"),
            What::Ambiguous,
        )),
        Kind::Not { schema } => other(excluded(schema)),
        Kind::FalseSchema => other("is not allowed here".to_owned()),
        Kind::Pattern { pattern } => other(format!("must match `{pattern}`")),
        Kind::MinProperties { limit } => other(format!(
            "must have at least {limit} {}",
            if *limit == 1 { "entry" } else { "entries" }
        )),
        Kind::MinItems { limit } => other(format!(
            "must have at least {limit} {}",
            if *limit == 1 { "item" } else { "items" }
        )),
        _ => None,
    }
}

/// A key refused by `propertyNames`: the key itself is what failed.
fn bad_name(at: &str, inner: &ValidationError<'_>) -> Finding {
    let name = inner.instance().as_str().unwrap_or_default();
    let why = explain(inner)
        .into_iter()
        .next()
        .map_or_else(|| "is not allowed".to_owned(), |f| f.message);
    Finding::new(
        child(at, name),
        format!("`{name}` is not a valid name: it {why}"),
        What::Other,
    )
}

/// Drops a "more than one form matched" finding when another problem is
/// reported at or under its pointer: that problem is what to fix.
pub(super) fn without_echoes(findings: Vec<Finding>) -> Vec<Finding> {
    let explained = |a: &Finding| {
        findings.iter().any(|f| {
            f.what != What::Ambiguous
                && (f.pointer == a.pointer || f.pointer.starts_with(&format!("{}/", a.pointer)))
        })
    };
    let keep: Vec<bool> = findings
        .iter()
        .map(|f| f.what != What::Ambiguous || !explained(f))
        .collect();
    findings
        .into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect()
}

/// The problems of the alternative (of a `oneOf` or `anyOf` at `at`) that
/// came closest to matching.
fn alternatives(at: &str, context: &[Vec<ValidationError<'static>>]) -> Vec<Finding> {
    let branches: Vec<Vec<Finding>> = context
        .iter()
        .map(|errors| errors.iter().flat_map(explain).collect())
        .collect();
    let mut open: Vec<&Vec<Finding>> = branches
        .iter()
        .filter(|b| !b.iter().any(|f| f.rules_out(at)))
        .collect();
    if open.is_empty() {
        open = branches.iter().collect();
    }
    if open.len() > 1
        && let Some(field) = discriminator(at, &open)
    {
        let accepted: Vec<&Vec<Finding>> = open
            .iter()
            .copied()
            .filter(|b| !b.iter().any(|f| f.refuses_value_at(&field)))
            .collect();
        if accepted.is_empty() {
            return vec![merged_values(&field, &open)];
        }
        open = accepted;
    }
    closest(&open)
}

/// The field (`type`, `in`, or the value itself) whose value most
/// alternatives refuse: what tells them apart.
fn discriminator(at: &str, branches: &[&Vec<Finding>]) -> Option<String> {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for branch in branches {
        let mut seen: Vec<&str> = Vec::new();
        for f in branch.iter().filter(|f| matches!(f.what, What::OneOf(_))) {
            let place = f.pointer.as_str();
            if (place == at || is_child(place, at)) && !seen.contains(&place) {
                seen.push(place);
                match counted.iter_mut().find(|(p, _)| *p == place) {
                    Some((_, n)) => *n += 1,
                    None => counted.push((place, 1)),
                }
            }
        }
    }
    let most = counted.iter().map(|(_, n)| *n).max()?;
    counted
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(p, _)| p.to_owned())
}

/// Every alternative refuses the value at `field`: it must be one of what
/// they accept together.
fn merged_values(field: &str, branches: &[&Vec<Finding>]) -> Finding {
    let mut allowed: Vec<Value> = Vec::new();
    for f in branches.iter().flat_map(|b| b.iter()) {
        if let (true, What::OneOf(values)) = (f.pointer == field, &f.what) {
            for v in values {
                if !allowed.contains(v) {
                    allowed.push(v.clone());
                }
            }
        }
    }
    let message = format!("must be {}", listed(&allowed));
    Finding::new(field.to_owned(), message, What::OneOf(allowed))
}

/// The findings of the branch with the deepest problem, then the fewest;
/// branches still tied are reported together, their missing fields as one.
fn closest(branches: &[&Vec<Finding>]) -> Vec<Finding> {
    let score = |b: &Vec<Finding>| b.iter().map(|f| f.weight).max().unwrap_or(i64::MIN);
    let Some(best) = branches.iter().map(|b| score(b)).max() else {
        return Vec::new();
    };
    let deepest: Vec<&&Vec<Finding>> = branches.iter().filter(|b| score(b) == best).collect();
    let fewest = deepest.iter().map(|b| b.len()).min().unwrap_or(0);
    let tied: Vec<&&Vec<Finding>> = deepest.into_iter().filter(|b| b.len() == fewest).collect();
    if let [only] = tied.as_slice() {
        return (**only).clone();
    }
    let mut top: Vec<Finding> = Vec::new();
    for f in tied
        .iter()
        .flat_map(|b| b.iter())
        .filter(|f| f.weight == best)
    {
        if !top.iter().any(|t| t.same(f)) {
            top.push(f.clone());
        }
    }
    merge_missing(top)
}

/// Alternatives each missing a different field (`schema` or `content`)
/// become one finding naming them all.
fn merge_missing(findings: Vec<Finding>) -> Vec<Finding> {
    let Some(first) = findings.first() else {
        return findings;
    };
    let fields: Option<Vec<String>> = findings
        .iter()
        .map(|f| match &f.what {
            What::Missing(field) if f.pointer == first.pointer => Some(format!("`{field}`")),
            _ => None,
        })
        .collect();
    match fields {
        Some(fields) if fields.len() > 1 => {
            let message = format!("needs one of {}", fields.join(", "));
            vec![Finding::new(first.pointer.clone(), message, What::Other)]
        }
        _ => findings,
    }
}

/// `not: {required: [a, b]}` is how the schemas say two fields exclude each other.
fn excluded(schema: &Value) -> String {
    let fields: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(|f| format!("`{f}`"))
                .collect()
        })
        .unwrap_or_default();
    if fields.len() > 1 {
        format!("{} cannot be given together", fields.join(" and "))
    } else {
        "is not allowed here".to_owned()
    }
}

fn types(kind: &TypeKind) -> String {
    let names: Vec<&str> = match kind {
        TypeKind::Single(t) => vec![t.as_str()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.as_str()).collect(),
    };
    let with_article: Vec<String> = names
        .iter()
        .map(|n| match n.chars().next() {
            Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {n}"),
            _ => format!("a {n}"),
        })
        .collect();
    with_article.join(" or ")
}

/// `` `a` ``, or `` one of `a`, `b` ``.
fn listed(values: &[Value]) -> String {
    let shown: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::String(s) => format!("`{s}`"),
            other => format!("`{other}`"),
        })
        .collect();
    match shown.as_slice() {
        [one] => one.clone(),
        _ => format!("one of {}", shown.join(", ")),
    }
}

/// The pointer of member `key` of the object at `at`.
fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", escape_token(key))
}

fn is_child(pointer: &str, parent: &str) -> bool {
    pointer
        .strip_prefix(parent)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|token| !token.contains('/'))
}
