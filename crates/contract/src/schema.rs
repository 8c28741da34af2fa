//! Contract schemas: bundled into self-contained JSON Schema 2020-12 and
//! compiled once at load.
//!
//! Bundling follows every `$ref` (inside the document or into files beside it)
//! into the schema's own `$defs`, rewrites OpenAPI 3.0 idioms (`nullable`,
//! boolean exclusive bounds) into 2020-12, admits a boolean schema only where
//! the document's version does, and refuses any keyword it does not
//! know, so a misspelt `requried` is a load error rather than an open door.
//! Nothing here runs per request except [`Schema::validate`].

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{PatternOptions, Validator};
use portcullis_core::FieldError;
use regex_automata::meta::Regex;
use serde_json::{Map, Value, json};

use crate::document::{Documents, Loc, Source, escape_token, ref_of};
use crate::error::LoadError;
use crate::strip::Plan;

mod keywords;

use keywords::{KeywordKind, keyword_kind};

/// Which OpenAPI version's schema dialect a document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenApi30,
    OpenApi31,
}

impl Dialect {
    /// Whether a boolean may stand for a schema under `keyword` (`None`: a
    /// schema in its own right, such as a media type's or a `properties`
    /// entry). 3.1 schemas are JSON Schema 2020-12, where `true` and `false`
    /// are schemas everywhere; 3.0's Schema Object allows a boolean only as
    /// `additionalProperties` (its most common way to close an object).
    pub fn admits_boolean(self, keyword: Option<&str>) -> bool {
        match self {
            Dialect::OpenApi31 => true,
            Dialect::OpenApi30 => keyword == Some("additionalProperties"),
        }
    }
}

/// A compiled schema and the bundled form it was compiled from. Shared:
/// every place of a contract whose bundled schema is the same (operations
/// answering with one component, say) holds the one compiled at its first
/// use, so start time and memory follow the distinct schemas, not the
/// operations.
#[derive(Debug, Clone)]
pub struct Schema(Arc<Compiled>);

#[derive(Debug)]
struct Compiled {
    validator: Validator,
    bundled: Value,
    /// `patternProperties` patterns, compiled once for stripping.
    patterns: HashMap<String, Regex>,
    /// Where undeclared properties are, compiled from `bundled` at load.
    plan: Plan,
}

/// Most violations reported for one value; the rest are summarised.
const MAX_REPORTED: usize = 20;

impl Schema {
    /// Validates `instance`, reporting violations under `prefix` (e.g. `/body`).
    pub fn validate(&self, instance: &Value, prefix: &str) -> Result<(), Vec<FieldError>> {
        if self.0.validator.is_valid(instance) {
            return Ok(());
        }
        let mut errors = Vec::new();
        for e in self.0.validator.iter_errors(instance).take(MAX_REPORTED) {
            let at = format!("{prefix}{}", e.instance_path().as_str());
            match e.kind() {
                // One pointer per unknown property, so the caller sees which.
                ValidationErrorKind::AdditionalProperties { unexpected }
                | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                    for name in unexpected {
                        errors.push(FieldError::new(
                            format!("{at}/{}", escape_token(name)),
                            "is not a declared property",
                        ));
                    }
                }
                // Masked: the caller's own value is not echoed back in the message.
                _ => errors.push(FieldError::new(at, e.masked().to_string())),
            }
        }
        Err(errors)
    }

    /// A `patternProperties` pattern of this schema, compiled at load.
    pub fn pattern(&self, pattern: &str) -> Option<&Regex> {
        self.0.patterns.get(pattern)
    }

    /// The strip plan compiled from this schema at load.
    pub(crate) fn plan(&self) -> &Plan {
        &self.0.plan
    }

    /// The bundled schema (root plus `$defs`), for walking its shape.
    pub fn bundled(&self) -> &Value {
        &self.0.bundled
    }

    /// The JSON type(s) the schema's root admits, looking through a root `$ref`.
    pub fn root_types(&self) -> Vec<&str> {
        let root = self.resolve_local(&self.0.bundled);
        match root.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The item types of an array schema's root.
    pub fn item_types(&self) -> Vec<&str> {
        let root = self.resolve_local(&self.0.bundled);
        let Some(items) = root.get("items") else {
            return Vec::new();
        };
        match self.resolve_local(items).get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Follows a bundled `#/$defs/...` reference (bounded, cycles stop).
    pub fn resolve_local<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match ref_of(schema).and_then(|r| r.strip_prefix('#')) {
                Some(pointer) => match self.0.bundled.pointer(pointer) {
                    Some(target) => schema = target,
                    None => return schema,
                },
                None => return schema,
            }
        }
        schema
    }
}

/// Bundles and compiles schemas of one contract, collecting load errors.
pub struct Compiler<'a> {
    docs: &'a mut Documents,
    source: &'a dyn Source,
    dialect: Dialect,
    /// Every schema compiled so far, by its bundled text.
    compiled: HashMap<String, Schema>,
}

impl std::fmt::Debug for Compiler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

struct Bundle<'b> {
    defs: Map<String, Value>,
    keys: HashMap<Loc, String>,
    errors: &'b mut Vec<LoadError>,
}

impl<'a> Compiler<'a> {
    pub fn new(docs: &'a mut Documents, source: &'a dyn Source, dialect: Dialect) -> Self {
        Self {
            docs,
            source,
            dialect,
            compiled: HashMap::new(),
        }
    }

    /// Follows `$ref`s from `at` to the value they name (reading sibling files).
    pub fn deref(&mut self, at: &Loc, value: &Value) -> Result<(Loc, Value), LoadError> {
        let source = self.source;
        self.docs.deref(at, value, source)
    }

    /// Bundles the schema at `loc` and compiles it; problems go to `errors`.
    pub fn compile(
        &mut self,
        loc: &Loc,
        value: &Value,
        errors: &mut Vec<LoadError>,
    ) -> Option<Schema> {
        let before = errors.len();
        let mut bundle = Bundle {
            defs: Map::new(),
            keys: HashMap::new(),
            errors,
        };
        let root_boolean = self.dialect.admits_boolean(None);
        let mut root = self.walk(loc, value, root_boolean, &mut bundle);
        let defs = std::mem::take(&mut bundle.defs);
        if bundle.errors.len() > before {
            return None;
        }
        if !defs.is_empty() {
            match &mut root {
                Value::Object(map) => {
                    map.insert("$defs".to_owned(), Value::Object(defs));
                }
                other => {
                    *other = json!({ "allOf": [other.clone()], "$defs": defs });
                }
            }
        }
        let text = root.to_string();
        if let Some(schema) = self.compiled.get(&text) {
            return Some(schema.clone());
        }
        match build_validator(&root) {
            Ok(validator) => {
                let mut patterns = HashMap::new();
                collect_patterns(&root, &mut patterns);
                let mut schema = Schema(Arc::new(Compiled {
                    validator,
                    bundled: root,
                    patterns,
                    plan: Plan::empty(),
                }));
                let plan = Plan::compile(&schema);
                if let Some(compiled) = Arc::get_mut(&mut schema.0) {
                    compiled.plan = plan;
                }
                self.compiled.insert(text, schema.clone());
                Some(schema)
            }
            Err(message) => {
                errors.push(loc.error(format!("schema does not compile: {message}")));
                None
            }
        }
    }

    /// Bundles one schema; `boolean` says whether `true`/`false` may stand
    /// here (see [`Dialect::admits_boolean`]).
    fn walk(&mut self, loc: &Loc, value: &Value, boolean: bool, b: &mut Bundle<'_>) -> Value {
        let object = match value {
            Value::Bool(_) if boolean => return value.clone(),
            Value::Object(o) => o,
            _ => {
                b.errors.push(loc.error("a schema must be an object"));
                return Value::Bool(false);
            }
        };
        let mut out = Map::new();
        if let Some(reference) = object.get("$ref") {
            let Some(reference) = reference.as_str() else {
                b.errors
                    .push(loc.child("$ref").error("`$ref` must be a string"));
                return Value::Bool(false);
            };
            out.insert(
                "$ref".to_owned(),
                Value::String(self.def_for(loc, reference, b)),
            );
            // OpenAPI 3.0 ignores a reference object's siblings; 3.1 applies them.
            if self.dialect == Dialect::OpenApi30 {
                return Value::Object(out);
            }
        }
        for (key, child) in object {
            if key == "$ref" {
                continue;
            }
            let at = loc.child(key);
            match keyword_kind(key, self.dialect) {
                KeywordKind::Schema => {
                    let boolean = self.dialect.admits_boolean(Some(key));
                    out.insert(key.clone(), self.walk(&at, child, boolean, b));
                }
                KeywordKind::SchemaMap => {
                    out.insert(key.clone(), self.walk_map(&at, child, b));
                }
                KeywordKind::SchemaList => {
                    out.insert(key.clone(), self.walk_list(&at, child, b));
                }
                KeywordKind::Value => {
                    out.insert(key.clone(), child.clone());
                }
                // Kept for tools that need a sample value (`verify`);
                // validation ignores them.
                KeywordKind::Annotation
                    if matches!(key.as_str(), "default" | "example" | "examples") =>
                {
                    out.insert(key.clone(), child.clone());
                }
                KeywordKind::Annotation => {}
                KeywordKind::Unsupported(why) => {
                    b.errors
                        .push(at.error(format!("`{key}` is not supported: {why}")));
                }
                KeywordKind::Unknown => {
                    b.errors
                        .push(at.error(format!("unknown schema keyword `{key}`")));
                }
            }
        }
        if self.dialect == Dialect::OpenApi30 {
            keywords::normalise_30(loc, &mut out, b.errors);
        }
        keywords::bound_integer_formats(&mut out);
        Value::Object(out)
    }

    fn walk_map(&mut self, loc: &Loc, value: &Value, b: &mut Bundle<'_>) -> Value {
        let Some(map) = value.as_object() else {
            b.errors.push(loc.error("must be an object of schemas"));
            return Value::Object(Map::new());
        };
        let boolean = self.dialect.admits_boolean(None);
        let mut out = Map::new();
        for (k, v) in map {
            out.insert(k.clone(), self.walk(&loc.child(k), v, boolean, b));
        }
        Value::Object(out)
    }

    fn walk_list(&mut self, loc: &Loc, value: &Value, b: &mut Bundle<'_>) -> Value {
        let Some(list) = value.as_array() else {
            b.errors.push(loc.error("must be an array of schemas"));
            return Value::Array(Vec::new());
        };
        let boolean = self.dialect.admits_boolean(None);
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            out.push(self.walk(&loc.child(&i.to_string()), v, boolean, b));
        }
        Value::Array(out)
    }

    /// The bundled `$defs` reference standing for `reference` written at `loc`.
    fn def_for(&mut self, loc: &Loc, reference: &str, b: &mut Bundle<'_>) -> String {
        let target = match self.docs.resolve(loc, reference, self.source) {
            Ok(t) => t,
            Err(e) => {
                b.errors.push(e);
                return "#".to_owned();
            }
        };
        if let Some(key) = b.keys.get(&target) {
            return format!("#/$defs/{key}");
        }
        let key = format!("portcullis-{}", b.keys.len());
        // Registered before walking so a recursive schema refers to itself.
        b.keys.insert(target.clone(), key.clone());
        let value = match self.docs.value_at(&target) {
            Ok(v) => v.clone(),
            Err(e) => {
                b.errors.push(e);
                return "#".to_owned();
            }
        };
        // A `$ref` names a Schema Object: in 3.0 never a boolean.
        let walked = self.walk(&target, &value, self.dialect.admits_boolean(None), b);
        b.defs.insert(key.clone(), walked);
        format!("#/$defs/{key}")
    }
}

/// Compiles every `patternProperties` key found anywhere in `schema`. A
/// pattern this engine cannot compile is left out, so stripping treats its
/// properties as undeclared: it removes more, never less.
fn collect_patterns(schema: &Value, out: &mut HashMap<String, Regex>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(patterns)) = map.get("patternProperties") {
                for pattern in patterns.keys() {
                    if let Ok(re) = Regex::new(pattern) {
                        out.insert(pattern.clone(), re);
                    }
                }
            }
            map.values().for_each(|v| collect_patterns(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_patterns(v, out)),
        _ => {}
    }
}

/// Compiles a bundled schema with the engine settings every contract uses.
fn build_validator(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        // Linear-time matching: a contract's pattern cannot become a ReDoS.
        .with_pattern_options(PatternOptions::regex())
        .with_format("int32", |_: &str| true)
        .with_format("int64", |_: &str| true)
        .with_format("float", |_: &str| true)
        .with_format("double", |_: &str| true)
        .with_format("password", |_: &str| true)
        .with_format("binary", |_: &str| true)
        .with_format("byte", keywords::is_base64)
        .build(schema)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
