//! A tool's `inputSchema`: one closed object holding the operation's path,
//! query and header parameters and its JSON body, each as the contract types
//! it.
//!
//! Each compiled contract schema is self-contained (its `$ref`s point into
//! its own `$defs`), but the input schema is one document, and `#/$defs/..`
//! means its root. So each part's definitions are hoisted to the root under
//! a prefix naming the part, and the part's references renamed to match.

use portcullis_contract::{Operation, ParamIn};
use serde_json::{Map, Value, json};

/// The argument groups, in the order they appear.
const GROUPS: [(&str, ParamIn); 3] = [
    ("path", ParamIn::Path),
    ("query", ParamIn::Query),
    ("header", ParamIn::Header),
];

/// One thing an input schema is made from: a parameter (its group's place
/// in [`GROUPS`], name, required, its compiled schema's address) or the
/// body (group 3, whether it is required, JSON at all, its schema's
/// address). Two operations with the same parts have the same input schema.
pub(super) type Part<'o> = (usize, &'o str, bool, usize);

/// Which compiled schema this is: the contract shares one per distinct
/// bundle, so equal addresses are equal schemas.
pub(super) fn address(schema: &portcullis_contract::Schema) -> usize {
    std::ptr::from_ref::<Value>(schema.bundled()) as usize
}

/// What [`input`] builds `op`'s schema from.
pub(super) fn parts(op: &Operation) -> Vec<Part<'_>> {
    let address = |s: &Option<portcullis_contract::Schema>| s.as_ref().map_or(0, address);
    let mut parts = Vec::new();
    for (group, (_, location)) in GROUPS.iter().enumerate() {
        for p in op.params_in(*location) {
            parts.push((group, p.name.as_str(), p.required, address(&p.schema)));
        }
    }
    if let Some(body) = &op.body {
        let json = body.media.iter().find(|m| m.json);
        parts.push((
            GROUPS.len(),
            if json.is_some() { "json" } else { "" },
            body.required,
            json.map_or(0, |m| address(&m.schema)),
        ));
    }
    parts
}

/// The input schema of `op`, or why it cannot be a tool's.
pub(super) fn input(op: &Operation) -> Result<Value, String> {
    let mut defs = Map::new();
    let mut properties = Map::new();
    let mut required: Vec<&str> = Vec::new();
    for (group, location) in GROUPS {
        let mut members = Map::new();
        let mut needed: Vec<&str> = Vec::new();
        for p in op.params_in(location) {
            let schema = match &p.schema {
                Some(s) => hoist(s.bundled(), &format!("{group}-{}-", p.name), &mut defs)?,
                None => json!({}),
            };
            members.insert(p.name.clone(), schema);
            if p.required {
                needed.push(&p.name);
            }
        }
        if members.is_empty() {
            continue;
        }
        if !needed.is_empty() {
            required.push(group);
        }
        properties.insert(group.to_owned(), closed(members, &needed));
    }
    if let Some(body) = &op.body {
        let Some(media) = body.media.iter().find(|m| m.json) else {
            return Err("its request body is not JSON, and a tool's arguments are JSON".to_owned());
        };
        let schema = match &media.schema {
            Some(s) => hoist(s.bundled(), "body-", &mut defs)?,
            None => json!({}),
        };
        properties.insert("body".to_owned(), schema);
        if body.required {
            required.push("body");
        }
    }
    let mut root = closed(properties, &required);
    if let (false, Value::Object(map)) = (defs.is_empty(), &mut root) {
        map.insert("$defs".to_owned(), Value::Object(defs));
    }
    Ok(root)
}

/// An object with exactly these properties.
fn closed(properties: Map<String, Value>, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// `schema` with its `$defs` moved into `defs` under `prefix`, and its
/// references renamed to them.
fn hoist(schema: &Value, prefix: &str, defs: &mut Map<String, Value>) -> Result<Value, String> {
    let mut schema = schema.clone();
    let own = match &mut schema {
        Value::Object(map) => map.remove("$defs"),
        _ => None,
    };
    if let Some(Value::Object(own)) = own {
        for (key, mut def) in own {
            rename_refs(&mut def, prefix);
            let key = format!("{prefix}{key}");
            if defs.get(&key).is_some_and(|seen| *seen != def) {
                return Err(format!(
                    "two of its arguments' schemas define `{key}` differently"
                ));
            }
            defs.insert(key, def);
        }
    }
    rename_refs(&mut schema, prefix);
    Ok(schema)
}

fn rename_refs(value: &mut Value, prefix: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            *target = format!("#/$defs/{prefix}{name}");
                        }
                    }
                    other => rename_refs(other, prefix),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, prefix)),
        _ => {}
    }
}
