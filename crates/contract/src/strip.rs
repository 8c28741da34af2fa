//! Finds, and optionally removes, object properties a response schema does
//! not declare, recursively.
//!
//! At each position the schema's branches (`$ref`, `allOf`, `anyOf`, `oneOf`,
//! `if`/`then`/`else`) are gathered; a property is declared if any branch
//! names it, matches it by `patternProperties`, or admits extra properties
//! (`additionalProperties` not false). An object position no branch says
//! anything about is left alone: there is nothing declared to compare with.

use serde_json::Value;

use crate::document::escape_token;
use crate::schema::Schema;

/// How deep the walk follows composition at one position (cycle guard).
const MAX_EXPANSION: usize = 64;

/// Walks `value` against `schema`; with `remove`, deletes undeclared
/// properties. Returns the pointers of the undeclared properties found.
pub fn undeclared(schema: &Schema, value: &mut Value, remove: bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut pointer = String::new();
    walk(
        schema,
        vec![schema.bundled()],
        value,
        remove,
        &mut pointer,
        &mut found,
    );
    found
}

fn walk<'s>(
    schema: &'s Schema,
    at: Vec<&'s Value>,
    value: &mut Value,
    remove: bool,
    pointer: &mut String,
    found: &mut Vec<String>,
) {
    let branches = expand(schema, at);
    match value {
        Value::Object(map) => {
            if !branches.iter().any(|b| declares_keys(b)) {
                return;
            }
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let children = children_for(schema, &branches, &key);
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_token(&key));
                match children {
                    None => {
                        found.push(pointer.clone());
                        if remove {
                            map.remove(&key);
                        }
                    }
                    Some(children) => {
                        if let Some(child) = map.get_mut(&key) {
                            walk(schema, children, child, remove, pointer, found);
                        }
                    }
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let children: Vec<&Value> = branches
                    .iter()
                    .filter_map(|b| {
                        b.get("prefixItems")
                            .and_then(|p| p.get(i))
                            .or_else(|| b.get("items"))
                    })
                    .collect();
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk(schema, children, item, remove, pointer, found);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Flattens references and composition into the plain branches at a position.
fn expand<'s>(schema: &'s Schema, mut pending: Vec<&'s Value>) -> Vec<&'s Value> {
    let mut out: Vec<&Value> = Vec::new();
    let mut steps = 0;
    while let Some(s) = pending.pop() {
        steps += 1;
        if steps > MAX_EXPANSION {
            break;
        }
        if out.iter().any(|o| std::ptr::eq(*o, s)) {
            continue;
        }
        if let Some(target) = s.get("$ref").map(|_| schema.resolve_local(s))
            && !std::ptr::eq(target, s)
        {
            pending.push(target);
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(list)) = s.get(key) {
                pending.extend(list.iter());
            }
        }
        for key in ["then", "else"] {
            if let Some(branch) = s.get(key) {
                pending.push(branch);
            }
        }
        out.push(s);
    }
    out
}

fn declares_keys(branch: &Value) -> bool {
    branch.get("properties").is_some()
        || branch.get("patternProperties").is_some()
        || branch.get("additionalProperties").is_some()
        || branch.get("unevaluatedProperties").is_some()
}

/// The schemas a property's value must follow, or `None` if it is undeclared.
fn children_for<'s>(schema: &Schema, branches: &[&'s Value], key: &str) -> Option<Vec<&'s Value>> {
    let mut children = Vec::new();
    let mut declared = false;
    for b in branches {
        if let Some(p) = b.get("properties").and_then(|p| p.get(key)) {
            children.push(p);
            declared = true;
            continue;
        }
        if let Some(Value::Object(patterns)) = b.get("patternProperties") {
            for (pattern, s) in patterns {
                if schema.pattern(pattern).is_some_and(|re| re.is_match(key)) {
                    children.push(s);
                    declared = true;
                }
            }
        }
        for extra in ["additionalProperties", "unevaluatedProperties"] {
            match b.get(extra) {
                Some(Value::Bool(true)) => declared = true,
                Some(s @ Value::Object(_)) => {
                    children.push(s);
                    declared = true;
                }
                _ => {}
            }
        }
        if !declares_keys(b) && b.get("type").and_then(Value::as_str) == Some("object") {
            // A free-form object branch (no property list at all) admits anything.
            declared = true;
        }
    }
    declared.then_some(children)
}

#[cfg(test)]
mod tests;
