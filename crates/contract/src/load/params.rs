//! Parameter declarations: path-level and operation-level lists merged, each
//! parameter's location, style and schema turned into a [`Param`].

use serde_json::{Map, Value};

use super::check_fields;
use crate::document::Loc;
use crate::error::LoadError;
use crate::model::{Param, ParamIn, ParamShape, Scalar};
use crate::schema::{Compiler, Schema};

const PARAM_FIELDS: &[&str] = &[
    "name",
    "in",
    "description",
    "required",
    "deprecated",
    "allowEmptyValue",
    "allowReserved",
    "style",
    "explode",
    "schema",
    "example",
    "examples",
];

/// Parameters of one operation: the path item's, overridden by the operation's
/// own of the same name and location.
pub(super) fn collect(
    compiler: &mut Compiler<'_>,
    op_at: &Loc,
    item_at: &Loc,
    own: Option<&Value>,
    shared: Option<&Value>,
    path: &str,
    errors: &mut Vec<LoadError>,
) -> Vec<Param> {
    let mut params: Vec<Param> = Vec::new();
    for (list, at) in [(shared, item_at), (own, op_at)] {
        let Some(list) = list else { continue };
        let at = at.child("parameters");
        let Some(list) = list.as_array() else {
            errors.push(at.error("`parameters` must be an array"));
            continue;
        };
        for (i, p) in list.iter().enumerate() {
            if let Some(param) = one(compiler, &at.child(&i.to_string()), p, errors) {
                params.retain(|q| !(q.name == param.name && q.location == param.location));
                params.push(param);
            }
        }
    }
    check_template(op_at, path, &params, errors);
    params
}

fn one(
    compiler: &mut Compiler<'_>,
    at: &Loc,
    value: &Value,
    errors: &mut Vec<LoadError>,
) -> Option<Param> {
    let (at, value) = match compiler.deref(at, value) {
        Ok(found) => found,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let Some(object) = value.as_object() else {
        errors.push(at.error("a parameter must be an object"));
        return None;
    };
    if object.contains_key("content") {
        errors.push(
            at.child("content")
                .error("parameters described by `content` are not supported; use `schema`"),
        );
        return None;
    }
    check_fields(object, PARAM_FIELDS, &at, errors);
    let name = object.get("name").and_then(Value::as_str);
    let location = match object.get("in").and_then(Value::as_str) {
        Some("path") => ParamIn::Path,
        Some("query") => ParamIn::Query,
        Some("header") => ParamIn::Header,
        Some("cookie") => {
            errors.push(at.child("in").error("cookie parameters are not supported"));
            return None;
        }
        _ => {
            errors.push(
                at.child("in")
                    .error("`in` must be `path`, `query` or `header`"),
            );
            return None;
        }
    };
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        errors.push(at.child("name").error("a parameter needs a `name`"));
        return None;
    };
    let required = object
        .get("required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if location == ParamIn::Path && !required {
        errors.push(
            at.child("required")
                .error("path parameters must be `required: true`"),
        );
    }
    let schema = match object.get("schema") {
        Some(s) => compiler.compile(&at.child("schema"), s, errors),
        None => None,
    };
    let explode = style_explode(&at, object, location, errors)?;
    let shape = shape_of(&at, schema.as_ref(), explode, errors)?;
    Some(Param {
        name: if location == ParamIn::Header {
            name.to_ascii_lowercase()
        } else {
            name.to_owned()
        },
        location,
        required,
        shape,
        schema,
    })
}

/// Checks the serialisation style and returns whether arrays explode.
fn style_explode(
    at: &Loc,
    object: &Map<String, Value>,
    location: ParamIn,
    errors: &mut Vec<LoadError>,
) -> Option<bool> {
    let default_style = if location == ParamIn::Query {
        "form"
    } else {
        "simple"
    };
    let style = object
        .get("style")
        .and_then(Value::as_str)
        .unwrap_or(default_style);
    if style != default_style {
        errors.push(at.child("style").error(format!(
            "style `{style}` is not supported for {} parameters (only `{default_style}`)",
            location.as_str()
        )));
        return None;
    }
    let explode = object
        .get("explode")
        .and_then(Value::as_bool)
        .unwrap_or(style == "form");
    Some(explode)
}

fn shape_of(
    at: &Loc,
    schema: Option<&Schema>,
    explode: bool,
    errors: &mut Vec<LoadError>,
) -> Option<ParamShape> {
    let Some(schema) = schema else {
        return Some(ParamShape::Scalar(vec![Scalar::String]));
    };
    let types = schema.root_types();
    if types.contains(&"object") {
        errors.push(
            at.child("schema")
                .error("object-valued parameters are not supported"),
        );
        return None;
    }
    if types.contains(&"array") {
        let items = scalars(&schema.item_types());
        return Some(ParamShape::Array { items, explode });
    }
    Some(ParamShape::Scalar(scalars(&types)))
}

/// The scalar types to try, most specific first; no type means any string.
fn scalars(types: &[&str]) -> Vec<Scalar> {
    let order = [
        ("integer", Scalar::Integer),
        ("number", Scalar::Number),
        ("boolean", Scalar::Boolean),
        ("string", Scalar::String),
    ];
    let found: Vec<Scalar> = order
        .iter()
        .filter(|(name, _)| types.contains(name))
        .map(|(_, s)| *s)
        .collect();
    if found.is_empty() {
        vec![Scalar::String]
    } else {
        found
    }
}

/// Every `{name}` in the template is a declared path parameter and the other way round.
fn check_template(op_at: &Loc, path: &str, params: &[Param], errors: &mut Vec<LoadError>) {
    let in_template: Vec<&str> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect();
    for name in &in_template {
        if !params
            .iter()
            .any(|p| p.location == ParamIn::Path && p.name == *name)
        {
            errors.push(op_at.error(format!("path parameter `{name}` is not declared")));
        }
    }
    for p in params.iter().filter(|p| p.location == ParamIn::Path) {
        if !in_template.contains(&p.name.as_str()) {
            errors.push(op_at.error(format!(
                "path parameter `{}` does not appear in the path template",
                p.name
            )));
        }
    }
}
