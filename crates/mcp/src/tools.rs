//! Contract operations as MCP tools, made once per snapshot at load.
//!
//! **Names.** A tool is `<api>_<operationId>`: the API's name (lower-case
//! letters, digits, `-`, `_`), one underscore, the operation id as the
//! contract writes it. The result must fit the character set every MCP
//! client accepts, `^[A-Za-z0-9_-]{1,64}$` (SEP-986 also allows `.` and `/`,
//! which some clients still refuse). An operation whose name would not fit,
//! or would be the same as another's, is left out with the reason, never
//! renamed: a name an agent learned must mean one operation.
//!
//! **Arguments.** `inputSchema` is one closed object: `path`, `query` and
//! `header` (each an object of the operation's parameters of that kind,
//! closed as the gateway refuses undeclared ones) and `body` (the JSON
//! request body's schema, closed where the contract closes it). Groups are
//! required when something in them is.
//!
//! **Results.** `outputSchema` is the first declared 2xx JSON response
//! schema when it describes an object (MCP's structured content is one);
//! otherwise the tool has none and answers in text.

use std::collections::HashMap;
use std::sync::Arc;

use portcullis_contract::{Contract, Method, Operation, StatusKey};
use serde_json::{Map, Value, json};

mod schema;

/// Longest tool name every client accepts.
const MAX_NAME: usize = 64;

/// One operation offered as a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub api: String,
    pub operation: String,
    /// The operation's place in its contract (`Contract::operation`).
    pub index: usize,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Shared by the tools whose arguments are typed alike (see [`Shared`]).
    pub input_schema: Arc<Value>,
    pub output_schema: Option<Arc<Value>>,
    pub annotations: Annotations,
    /// SHA-256 of the contract it came from: a session is pinned to it.
    pub contract_digest: String,
}

/// The behaviour hints MCP defines, from the operation's method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

/// An operation that is not offered as a tool, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub api: String,
    pub operation: String,
    pub reason: String,
}

/// Every tool of a set of contracts, and the operations left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolSet {
    pub tools: Vec<Tool>,
    pub excluded: Vec<Excluded>,
    /// Tool name → place in `tools`.
    by_name: HashMap<String, usize>,
}

/// The tool name of `operation` of `api`, or why there is none.
///
/// # Errors
/// The name would be empty, longer than 64 characters, or hold a character
/// outside `A-Z a-z 0-9 _ -`.
pub fn tool_name(api: &str, operation: &str) -> Result<String, String> {
    let name = format!("{api}_{operation}");
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "its tool name `{name}` would hold `{c}`; tool names are A-Z, a-z, 0-9, `_` and `-`"
        ));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "its tool name `{name}` would be {} characters; tool names are at most {MAX_NAME}",
            name.len()
        ));
    }
    Ok(name)
}

impl ToolSet {
    /// The tools of each `(api, contract)`.
    pub fn from_contracts<'a>(apis: impl IntoIterator<Item = (&'a str, &'a Contract)>) -> Self {
        let mut set = ToolSet::default();
        let mut shared = Shared::default();
        for (api, contract) in apis {
            for (index, op) in contract.operations().iter().enumerate() {
                let out = |reason: String| Excluded {
                    api: api.to_owned(),
                    operation: op.id.clone(),
                    reason,
                };
                match tool(api, contract, index, op, &mut shared) {
                    Err(reason) => set.excluded.push(out(reason)),
                    Ok(t) if set.by_name.contains_key(&t.name) => set.excluded.push(out(format!(
                        "its tool name `{}` is another operation's",
                        t.name
                    ))),
                    Ok(t) => {
                        set.by_name.insert(t.name.clone(), set.tools.len());
                        set.tools.push(t);
                    }
                }
            }
        }
        set
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.get(*self.by_name.get(name)?)
    }
}

/// One copy of each distinct input and output schema: a large API's
/// operations mostly take and return the same shapes, and a JSON value per
/// tool was the larger part of the gateway's memory at 10,000 operations.
/// Keyed by what each schema is made from: parameter names and flags, and
/// the identity of the contract's compiled schemas (which the contract
/// already shares when their text is the same).
#[derive(Default)]
struct Shared<'c> {
    inputs: HashMap<Vec<schema::Part<'c>>, Arc<Value>>,
    outputs: HashMap<usize, Arc<Value>>,
}

fn tool<'c>(
    api: &str,
    contract: &Contract,
    index: usize,
    op: &'c Operation,
    shared: &mut Shared<'c>,
) -> Result<Tool, String> {
    let name = tool_name(api, &op.id)?;
    let key = schema::parts(op);
    let input_schema = match shared.inputs.get(&key) {
        Some(input) => Arc::clone(input),
        None => {
            let input = Arc::new(schema::input(op)?);
            shared.inputs.insert(key, Arc::clone(&input));
            input
        }
    };
    let output_schema = output(op).map(|schema| {
        Arc::clone(
            shared
                .outputs
                .entry(schema::address(schema))
                .or_insert_with(|| Arc::new(with_object_type(schema.bundled()))),
        )
    });
    Ok(Tool {
        name,
        api: api.to_owned(),
        operation: op.id.clone(),
        index,
        title: op.summary.clone(),
        description: op.description.clone().or_else(|| op.summary.clone()),
        input_schema,
        output_schema,
        annotations: annotations(op.method),
        contract_digest: contract.digest().to_owned(),
    })
}

/// The first declared 2xx JSON schema, when it describes an object.
fn output(op: &Operation) -> Option<&portcullis_contract::Schema> {
    let success = op.responses.iter().find(|r| match r.status {
        StatusKey::Exact(s) => (200..300).contains(&s),
        StatusKey::Range(h) => h == 2,
        StatusKey::Default => false,
    })?;
    let schema = success.media.iter().find(|m| m.json)?.schema.as_ref()?;
    if schema.root_types() != ["object"] {
        return None;
    }
    Some(schema)
}

/// MCP wants `type: object` at an output schema's root; a root `$ref`
/// keeps it beside.
fn with_object_type(bundled: &Value) -> Value {
    let mut out = bundled.clone();
    if let Value::Object(map) = &mut out {
        map.entry("type").or_insert_with(|| json!("object"));
    }
    out
}

fn annotations(method: Method) -> Annotations {
    Annotations {
        read_only: !method.is_write(),
        destructive: method == Method::Delete,
        idempotent: matches!(method, Method::Put | Method::Delete) || !method.is_write(),
    }
}

impl Tool {
    /// The tool as `tools/list` describes it.
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("name".into(), json!(self.name));
        if let Some(title) = &self.title {
            doc.insert("title".into(), json!(title));
        }
        if let Some(description) = &self.description {
            doc.insert("description".into(), json!(description));
        }
        doc.insert("inputSchema".into(), Value::clone(&self.input_schema));
        if let Some(output) = &self.output_schema {
            doc.insert("outputSchema".into(), Value::clone(output));
        }
        doc.insert(
            "annotations".into(),
            json!({
                "readOnlyHint": self.annotations.read_only,
                "destructiveHint": self.annotations.destructive,
                "idempotentHint": self.annotations.idempotent,
                "openWorldHint": false,
            }),
        );
        doc.insert(
            "_meta".into(),
            json!({
                "portcullis/operation": format!("{}:{}", self.api, self.operation),
                "portcullis/contract": self.contract_digest,
            }),
        );
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests;
