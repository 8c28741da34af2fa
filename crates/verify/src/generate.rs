//! A value a contract schema accepts, for building the requests `verify`
//! sends: the schema's own `const`, `example`, `examples` or `default`
//! where it gives one, the first `enum` member, otherwise the smallest value
//! of the declared type that meets the bounds (required properties only,
//! the minimum number of items, formats written out, patterns read off the
//! regex). The whole result is checked with the contract's own compiled
//! validator: a schema no generated value satisfies is reported with the
//! reason, never papered over.

use portcullis_contract::Schema;
use serde_json::{Map, Number, Value};

use crate::pattern;

/// How deep generation follows nested schemas (recursive schemas stop).
const MAX_DEPTH: usize = 24;

/// Why no value could be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsatisfiable(pub String);

/// A value `schema` accepts.
///
/// # Errors
/// No generated value passes the schema's own validation; the reason names
/// the first violation.
pub fn value(schema: &Schema) -> Result<Value, Unsatisfiable> {
    let made = Gen { schema }.node(schema.bundled(), 0)?;
    match schema.validate(&made, "") {
        Ok(()) => Ok(made),
        Err(errors) => {
            let first = errors
                .first()
                .map(|e| format!("{}: {}", pointer_or_root(&e.pointer), e.message))
                .unwrap_or_default();
            Err(Unsatisfiable(format!(
                "the generated value does not pass the schema ({first})"
            )))
        }
    }
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

struct Gen<'s> {
    schema: &'s Schema,
}

impl Gen<'_> {
    fn node(&self, node: &Value, depth: usize) -> Result<Value, Unsatisfiable> {
        if depth > MAX_DEPTH {
            return Err(Unsatisfiable(
                "the schema nests deeper than 24 levels".into(),
            ));
        }
        let node = self.schema.resolve_local(node);
        let obj = match node {
            Value::Bool(true) => return Ok(Value::Null),
            Value::Bool(false) => {
                return Err(Unsatisfiable("a `false` schema admits nothing".into()));
            }
            Value::Object(obj) => obj,
            _ => return Err(Unsatisfiable("not a schema".into())),
        };
        for given in ["const", "example", "default"] {
            if let Some(v) = obj.get(given) {
                return Ok(v.clone());
            }
        }
        for listed in ["examples", "enum"] {
            if let Some(v) = obj
                .get(listed)
                .and_then(Value::as_array)
                .and_then(|l| l.first())
            {
                return Ok(v.clone());
            }
        }
        if let Some(Value::Array(all)) = obj.get("allOf") {
            return self.all_of(obj, all, depth);
        }
        for choice in ["oneOf", "anyOf"] {
            if let Some(first) = obj
                .get(choice)
                .and_then(Value::as_array)
                .and_then(|l| l.first())
            {
                return self.node(first, depth + 1);
            }
        }
        match kind(obj) {
            Kind::Object => self.object(obj, depth),
            Kind::Array => self.array(obj, depth),
            Kind::String => string(obj),
            Kind::Integer => integer(obj).map(Value::from),
            Kind::Number => number(obj),
            Kind::Boolean => Ok(Value::Bool(true)),
            Kind::Null => Ok(Value::Null),
        }
    }

    /// The branches' objects merged (with this schema's own properties).
    fn all_of(
        &self,
        obj: &Map<String, Value>,
        all: &[Value],
        depth: usize,
    ) -> Result<Value, Unsatisfiable> {
        let mut own = obj.clone();
        own.remove("allOf");
        let mut merged = Map::new();
        let own = Value::Object(own);
        let parts = all.iter().chain(std::iter::once(&own));
        let mut last = Value::Null;
        for part in parts {
            let v = self.node(part, depth + 1)?;
            match v {
                Value::Object(fields) => merged.extend(fields),
                other => last = other,
            }
        }
        Ok(if merged.is_empty() {
            last
        } else {
            Value::Object(merged)
        })
    }

    fn object(&self, obj: &Map<String, Value>, depth: usize) -> Result<Value, Unsatisfiable> {
        let properties = obj.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        for name in &required {
            let sub = properties
                .and_then(|p| p.get(*name))
                .cloned()
                .unwrap_or(Value::Bool(true));
            out.insert((*name).to_owned(), self.node(&sub, depth + 1)?);
        }
        let wanted = obj
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if let Some(properties) = properties {
            for (name, sub) in properties {
                if out.len() as u64 >= wanted {
                    break;
                }
                if !out.contains_key(name) {
                    out.insert(name.clone(), self.node(sub, depth + 1)?);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn array(&self, obj: &Map<String, Value>, depth: usize) -> Result<Value, Unsatisfiable> {
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let prefix = obj.get("prefixItems").and_then(Value::as_array);
        let items = obj.get("items");
        let mut out = Vec::new();
        for i in 0..min {
            let sub = prefix
                .and_then(|p| p.get(usize::try_from(i).unwrap_or(usize::MAX)))
                .or(items)
                .cloned()
                .unwrap_or(Value::Bool(true));
            out.push(self.node(&sub, depth + 1)?);
        }
        Ok(Value::Array(out))
    }
}

enum Kind {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    Null,
}

/// The declared type (the first that is not `null`), or one implied by the
/// keywords present.
fn kind(obj: &Map<String, Value>) -> Kind {
    let declared: Vec<&str> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let chosen = declared
        .iter()
        .find(|t| **t != "null")
        .or(declared.first())
        .copied();
    match chosen {
        Some("object") => Kind::Object,
        Some("array") => Kind::Array,
        Some("string") => Kind::String,
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        Some("null") => Kind::Null,
        _ if obj.contains_key("properties") || obj.contains_key("required") => Kind::Object,
        _ if obj.contains_key("items") || obj.contains_key("prefixItems") => Kind::Array,
        _ if obj.contains_key("minimum") || obj.contains_key("maximum") => Kind::Number,
        _ => Kind::String,
    }
}

fn string(obj: &Map<String, Value>) -> Result<Value, Unsatisfiable> {
    let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let max = obj
        .get("maxLength")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let (min, max) = (
        usize::try_from(min).unwrap_or(usize::MAX),
        usize::try_from(max).unwrap_or(usize::MAX),
    );
    if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
        return pattern::matching(p, min, max)
            .map(Value::String)
            .map_err(|e| Unsatisfiable(e.to_string()));
    }
    let formatted = obj.get("format").and_then(Value::as_str).and_then(|f| {
        Some(match f {
            "uuid" => "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "date-time" => "2026-01-06T10:00:00Z",
            "date" => "2026-01-06",
            "time" => "10:00:00Z",
            "email" => "agent@example.com",
            "uri" | "url" => "https://example.com/",
            "uri-reference" => "/example",
            "hostname" => "example.com",
            "ipv4" => "192.0.2.1",
            "ipv6" => "2001:db8::1",
            "byte" => "AAAA",
            "duration" => "PT1M",
            _ => return None,
        })
    });
    let text = match formatted {
        Some(t) => t.to_owned(),
        None => "a".repeat(min.max(1).min(max)),
    };
    Ok(Value::String(text))
}

fn integer(obj: &Map<String, Value>) -> Result<i64, Unsatisfiable> {
    let get = |k: &str| obj.get(k).and_then(Value::as_f64);
    let mut low = get("minimum").map(f64::ceil);
    if let Some(x) = get("exclusiveMinimum") {
        low = Some(low.map_or(x.floor() + 1.0, |l| l.max(x.floor() + 1.0)));
    }
    let mut high = get("maximum").map(f64::floor);
    if let Some(x) = get("exclusiveMaximum") {
        high = Some(high.map_or(x.ceil() - 1.0, |h| h.min(x.ceil() - 1.0)));
    }
    let mut v = match (low, high) {
        (Some(l), _) => l,
        (None, Some(h)) if h < 1.0 => h,
        _ => 1.0,
    };
    if let Some(step) = get("multipleOf").filter(|s| *s >= 1.0) {
        v = (v / step).ceil() * step;
    }
    if high.is_some_and(|h| v > h) {
        return Err(Unsatisfiable("no integer meets the bounds".into()));
    }
    // Bounds beyond i64 are reported rather than wrapped.
    if v.abs() > 9.0e15 {
        return Err(Unsatisfiable("the integer bounds are too large".into()));
    }
    #[allow(
        clippy::cast_possible_truncation,
        reason = "a whole number within ±9e15, checked above, is exact in i64"
    )]
    Ok(v as i64)
}

fn number(obj: &Map<String, Value>) -> Result<Value, Unsatisfiable> {
    let get = |k: &str| obj.get(k).and_then(Value::as_f64);
    let v = match (
        get("minimum"),
        get("exclusiveMinimum"),
        get("maximum"),
        get("exclusiveMaximum"),
    ) {
        (Some(l), ..) => l,
        (None, Some(x), ..) => x + 0.5,
        (None, None, Some(h), _) if h < 1.0 => h,
        (None, None, _, Some(h)) if h <= 1.0 => h - 0.5,
        _ => 1.0,
    };
    Number::from_f64(v)
        .map(Value::Number)
        .ok_or_else(|| Unsatisfiable("no finite number meets the bounds".into()))
}

#[cfg(test)]
mod tests;
