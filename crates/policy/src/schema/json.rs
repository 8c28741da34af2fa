//! Writes the generated schema as Cedar's JSON schema, which is what Cedar
//! is given: parsing the human text back costs about 0.2 ms per action
//! (LALRPOP), the JSON form a few microseconds. The text (`text.rs`) is what
//! `portcullis schema` prints; a test checks that both say the same.
//!
//! Names from contracts are JSON strings here, so they need no escaping
//! beyond what serde_json does.

use serde_json::{Map, Value, json};

use super::{ActionDef, AttrDef, Elem, PersonAttr, person_attrs};

/// The schema for `apis` with the actions `actions` (all of them, or the
/// subset a policy validation needs; see `validation.rs`).
pub(super) fn render<'a>(
    apis: &[String],
    person: &[PersonAttr],
    actions: impl IntoIterator<Item = &'a ActionDef>,
) -> Value {
    let mut entries = Map::new();
    for api in apis {
        entries.insert(super::action_id(api, "read"), json!({}));
        entries.insert(super::action_id(api, "write"), json!({}));
    }
    for action in actions {
        entries.insert(action.id.clone(), render_action(action));
    }
    json!({
        "": {
            "entityTypes": {
                "Identity": {
                    "shape": {
                        "type": "Record",
                        "attributes": {
                            "kind": {"type": "String"},
                            "owner": {"type": "String"},
                            "environment": {"type": "String"},
                            "tags": {"type": "Set", "element": {"type": "String"}},
                        },
                    },
                    "tags": {"type": "String"},
                },
                "Person": { "shape": record(&person_attrs(person)) },
                "Api": {},
            },
            "actions": entries,
        }
    })
}

fn render_action(action: &ActionDef) -> Value {
    let mut context = Map::new();
    context.insert("params".to_owned(), record(&action.params));
    context.insert("query".to_owned(), record(&action.query));
    for (name, elem, set, required) in super::CONTEXT {
        context.insert(name.to_owned(), attr_type(elem, set, required));
    }
    context.insert(
        "on_behalf_of".to_owned(),
        json!({"type": "Entity", "name": "Person", "required": false}),
    );
    context.insert(
        "chain".to_owned(),
        json!({"type": "Record", "attributes": {
            "ids": {"type": "Set", "element": {"type": "String"}},
            "length": {"type": "Long"},
        }}),
    );
    json!({
        "memberOf": [{"id": action.group}],
        "appliesTo": {
            "principalTypes": ["Identity"],
            "resourceTypes": ["Api"],
            "context": {"type": "Record", "attributes": context},
        },
    })
}

fn record(attrs: &[AttrDef]) -> Value {
    let attributes: Map<String, Value> = attrs
        .iter()
        .map(|a| (a.name.clone(), attr_type(a.elem, a.set, a.required)))
        .collect();
    json!({"type": "Record", "attributes": attributes})
}

/// `elem`, or a `Set` of it, as a record attribute's type.
fn attr_type(elem: Elem, set: bool, required: bool) -> Value {
    let elem = json!({"type": elem.cedar_json()});
    let mut ty = if set {
        json!({"type": "Set", "element": elem})
    } else {
        elem
    };
    if let (false, Value::Object(map)) = (required, &mut ty) {
        map.insert("required".to_owned(), Value::Bool(false));
    }
    ty
}
