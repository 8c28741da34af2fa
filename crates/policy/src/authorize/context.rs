//! The request's Cedar context, typed by the generated schema's mapping of
//! the operation's parameters: `params`, `query`, `scopes`, `ip`, `time`,
//! `hour`, `weekday`, `on_behalf_of` (the `Person` a delegated request acts
//! for; its entity goes in the entity store, `authorize::person_entity`)
//! and `chain`.
//!
//! `hour` (0–23) and `weekday` (ISO: 1 is Monday, 7 Sunday) are derived from
//! `time` in UTC, because Cedar has no arithmetic to derive them itself and a
//! business-hours rule needs them.
//!
//! Built directly as Cedar values (Cedar's schema-directed JSON parser costs
//! ≈20 µs per request here, the direct build ≈3 µs); the JSON form is the
//! same context for display. A value that does not fit its declared type, an
//! undeclared parameter and a missing required one are errors, so the caller
//! denies: the context is built by the schema's own mapping, so it is not
//! checked against the schema again. A request whose slice has no policy
//! that reads the context builds none, but its parameters are still checked
//! the same way (`check_parameters`).

use cedar_policy::{Context, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use serde_json::{Map, Value};

use super::AuthzRequest;
use crate::policies::ActionSlice;
use crate::schema::{AttrDef, Elem};

/// The context attributes a set of policies reads: a bit per attribute the
/// schema declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reads(u16);

impl Reads {
    pub(crate) const NONE: Reads = Reads(0);
    pub(crate) const ALL: Reads = Reads(u16::MAX);
    const PARAMS: u16 = 1;
    const QUERY: u16 = 1 << 1;
    const SCOPES: u16 = 1 << 2;
    const IP: u16 = 1 << 3;
    const TIME: u16 = 1 << 4;
    const HOUR: u16 = 1 << 5;
    const WEEKDAY: u16 = 1 << 6;
    const ON_BEHALF_OF: u16 = 1 << 7;
    const CHAIN: u16 = 1 << 8;

    /// `name` added; a name the schema does not declare means everything.
    pub(crate) fn with(self, name: &str) -> Reads {
        let bit = match name {
            "params" => Self::PARAMS,
            "query" => Self::QUERY,
            "scopes" => Self::SCOPES,
            "ip" => Self::IP,
            "time" => Self::TIME,
            "hour" => Self::HOUR,
            "weekday" => Self::WEEKDAY,
            "on_behalf_of" => Self::ON_BEHALF_OF,
            "chain" => Self::CHAIN,
            _ => return Reads::ALL,
        };
        Reads(self.0 | bit)
    }

    pub(crate) fn union(self, other: Reads) -> Reads {
        Reads(self.0 | other.0)
    }

    /// Whether `on_behalf_of` or `chain` is read: delegation can change the answer.
    pub(crate) fn delegation(self) -> bool {
        self.has(Self::ON_BEHALF_OF | Self::CHAIN)
    }

    /// Whether `on_behalf_of` is read, so the `Person` entity is needed.
    pub(super) fn person(self) -> bool {
        self.has(Self::ON_BEHALF_OF)
    }

    fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
}

/// The context Cedar evaluates, holding only the attributes in `reads`
/// (what the policies to evaluate can look at: an attribute none of them
/// names cannot change their answer). Path and query parameters are checked
/// whether or not they are built.
pub(super) fn cedar_context(
    slice: &ActionSlice,
    request: &AuthzRequest<'_>,
    reads: Reads,
    person_type: &EntityTypeName,
) -> Result<Context, String> {
    let text = |s: &str| RestrictedExpression::new_string(s.to_owned());
    let mut pairs = Vec::with_capacity(8);
    for (bit, name, defs, values, location) in [
        (
            Reads::PARAMS,
            "params",
            &slice.params,
            request.params,
            "path",
        ),
        (Reads::QUERY, "query", &slice.query, request.query, "query"),
    ] {
        if reads.has(bit) {
            pairs.push((name.to_owned(), record(defs, values, location)?));
        } else {
            check_record(defs, values, location)?;
        }
    }
    if reads.has(Reads::SCOPES) {
        let scopes = RestrictedExpression::new_set(request.scopes.iter().map(|s| text(s)));
        pairs.push(("scopes".to_owned(), scopes));
    }
    if reads.has(Reads::IP) {
        pairs.push(("ip".to_owned(), text(request.ip)));
    }
    if reads.has(Reads::TIME) {
        let time = RestrictedExpression::new_long(request.time);
        pairs.push(("time".to_owned(), time));
    }
    let (hour, weekday) = clock_face(request.time);
    if reads.has(Reads::HOUR) {
        pairs.push(("hour".to_owned(), RestrictedExpression::new_long(hour)));
    }
    if reads.has(Reads::WEEKDAY) {
        let weekday = RestrictedExpression::new_long(weekday);
        pairs.push(("weekday".to_owned(), weekday));
    }
    if let Some(delegation) = request.delegation
        && reads.has(Reads::ON_BEHALF_OF)
    {
        let person = RestrictedExpression::new_entity_uid(person_uid(person_type, delegation)?);
        pairs.push(("on_behalf_of".to_owned(), person));
    }
    if reads.has(Reads::CHAIN) {
        let ids = request.delegation.map_or(&[][..], |d| d.chain.as_slice());
        let chain = RestrictedExpression::new_record([
            (
                "ids".to_owned(),
                RestrictedExpression::new_set(ids.iter().map(|id| text(id))),
            ),
            (
                "length".to_owned(),
                RestrictedExpression::new_long(chain_length(ids)),
            ),
        ])
        .map_err(|e| format!("context: {e}"))?;
        pairs.push(("chain".to_owned(), chain));
    }
    Context::from_pairs(pairs).map_err(|e| format!("context: {e}"))
}

/// What building the context would refuse, without building it: for a
/// request none of whose policies reads the context.
pub(super) fn check_parameters(
    slice: &ActionSlice,
    request: &AuthzRequest<'_>,
) -> Result<(), String> {
    check_record(&slice.params, request.params, "path")?;
    check_record(&slice.query, request.query, "query")
}

/// What `record` refuses, without building it.
fn check_record(
    defs: &[AttrDef],
    values: &Map<String, Value>,
    location: &str,
) -> Result<(), String> {
    for (name, value) in values {
        let def = declared(defs, name, location)?;
        let fits = if def.set {
            value
                .as_array()
                .is_some_and(|items| items.iter().all(|v| fits(def.elem, v)))
        } else {
            fits(def.elem, value)
        };
        if !fits {
            return Err(mismatch(def, location));
        }
    }
    complete(defs, values, location)
}

/// The same context as JSON.
pub(super) fn context_json(
    slice: &ActionSlice,
    request: &AuthzRequest<'_>,
) -> Result<Value, String> {
    let mut context = Map::with_capacity(8);
    context.insert(
        "params".into(),
        json_record(&slice.params, request.params, "path")?,
    );
    context.insert(
        "query".into(),
        json_record(&slice.query, request.query, "query")?,
    );
    let scopes = request.scopes.iter().cloned().map(Value::String).collect();
    context.insert("scopes".into(), Value::Array(scopes));
    context.insert("ip".into(), Value::String(request.ip.to_owned()));
    context.insert("time".into(), Value::from(request.time));
    let (hour, weekday) = clock_face(request.time);
    context.insert("hour".into(), Value::from(hour));
    context.insert("weekday".into(), Value::from(weekday));
    let ids = request.delegation.map_or(&[][..], |d| d.chain.as_slice());
    if let Some(delegation) = request.delegation {
        // An entity reference, as Cedar's JSON writes one; its attributes
        // are the `Person` entity's (`request_json` shows them).
        let person =
            serde_json::json!({ "__entity": { "type": "Person", "id": delegation.person } });
        context.insert("on_behalf_of".into(), person);
    }
    context.insert(
        "chain".into(),
        serde_json::json!({ "ids": ids, "length": chain_length(ids) }),
    );
    Ok(Value::Object(context))
}

/// `Person::"<id>"` for the person a delegated request acts for.
pub(super) fn person_uid(
    person_type: &EntityTypeName,
    delegation: &super::Delegation,
) -> Result<EntityUid, String> {
    if delegation.person.is_empty() {
        return Err("delegation: the person has no id".to_owned());
    }
    Ok(EntityUid::from_type_name_and_id(
        person_type.clone(),
        EntityId::new(&delegation.person),
    ))
}

fn chain_length(ids: &[String]) -> i64 {
    i64::try_from(ids.len()).unwrap_or(i64::MAX)
}

/// The UTC hour of day and ISO weekday of a Unix time.
pub(crate) fn clock_face(time: i64) -> (i64, i64) {
    const DAY: i64 = 86_400;
    let hour = time.rem_euclid(DAY) / 3_600;
    // 1970-01-01 was a Thursday (ISO 4).
    let weekday = (time.div_euclid(DAY) + 3).rem_euclid(7) + 1;
    (hour, weekday)
}

fn record(
    defs: &[AttrDef],
    values: &Map<String, Value>,
    location: &str,
) -> Result<RestrictedExpression, String> {
    let mut fields = Vec::with_capacity(values.len());
    for (name, value) in values {
        let def = declared(defs, name, location)?;
        let typed = if def.set {
            value.as_array().and_then(|items| {
                let items: Option<Vec<_>> =
                    items.iter().map(|v| cedar_scalar(def.elem, v)).collect();
                items.map(RestrictedExpression::new_set)
            })
        } else {
            cedar_scalar(def.elem, value)
        };
        fields.push((name.clone(), typed.ok_or_else(|| mismatch(def, location))?));
    }
    complete(defs, values, location)?;
    RestrictedExpression::new_record(fields).map_err(|e| format!("context: {e}"))
}

fn json_record(
    defs: &[AttrDef],
    values: &Map<String, Value>,
    location: &str,
) -> Result<Value, String> {
    let mut fields = Map::with_capacity(values.len());
    for (name, value) in values {
        let def = declared(defs, name, location)?;
        let typed = if def.set {
            value.as_array().and_then(|items| {
                let items: Option<Vec<_>> =
                    items.iter().map(|v| json_scalar(def.elem, v)).collect();
                items.map(Value::Array)
            })
        } else {
            json_scalar(def.elem, value)
        };
        fields.insert(name.clone(), typed.ok_or_else(|| mismatch(def, location))?);
    }
    complete(defs, values, location)?;
    Ok(Value::Object(fields))
}

fn declared<'d>(defs: &'d [AttrDef], name: &str, location: &str) -> Result<&'d AttrDef, String> {
    defs.iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("{location} parameter `{name}` is not declared by the operation"))
}

/// Every required parameter present (the contract guarantees it; this is
/// the check the schema would make).
fn complete(defs: &[AttrDef], values: &Map<String, Value>, location: &str) -> Result<(), String> {
    match defs
        .iter()
        .find(|d| d.required && !values.contains_key(&d.name))
    {
        Some(def) => Err(format!(
            "{location} parameter `{}` is required but missing",
            def.name
        )),
        None => Ok(()),
    }
}

fn mismatch(def: &AttrDef, location: &str) -> String {
    format!(
        "{location} parameter `{}` does not fit its cedar type `{}`",
        def.name,
        def.cedar_type()
    )
}

/// A parameter's value as its Cedar type reads it: the one place that
/// decides what fits, so the Cedar context, its JSON form and the check
/// without building accept exactly the same values.
enum Scalar<'v> {
    Long(i64),
    Bool(bool),
    Text(&'v str),
    /// A number or boolean where the type is `String`: its JSON text.
    Rendered(&'v Value),
}

fn scalar(elem: Elem, value: &Value) -> Option<Scalar<'_>> {
    match (elem, value) {
        (Elem::Long, Value::Number(n)) => n.as_i64().map(Scalar::Long),
        (Elem::Bool, Value::Bool(b)) => Some(Scalar::Bool(*b)),
        (Elem::String, Value::String(s)) => Some(Scalar::Text(s)),
        (Elem::String, Value::Number(_) | Value::Bool(_)) => Some(Scalar::Rendered(value)),
        _ => None,
    }
}

fn fits(elem: Elem, value: &Value) -> bool {
    scalar(elem, value).is_some()
}

fn cedar_scalar(elem: Elem, value: &Value) -> Option<RestrictedExpression> {
    Some(match scalar(elem, value)? {
        Scalar::Long(n) => RestrictedExpression::new_long(n),
        Scalar::Bool(b) => RestrictedExpression::new_bool(b),
        Scalar::Text(s) => RestrictedExpression::new_string(s.to_owned()),
        Scalar::Rendered(v) => RestrictedExpression::new_string(v.to_string()),
    })
}

fn json_scalar(elem: Elem, value: &Value) -> Option<Value> {
    Some(match scalar(elem, value)? {
        Scalar::Long(n) => Value::from(n),
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Text(s) => Value::String(s.to_owned()),
        Scalar::Rendered(v) => Value::String(v.to_string()),
    })
}
