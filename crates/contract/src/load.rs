//! OpenAPI document to compiled [`Contract`]: checks the root document
//! against the official schema for its version (`structure`), then walks
//! `paths`, resolves each operation's parameters, body and responses, and
//! compiles their schemas.
//!
//! Every problem is collected with its file, JSON pointer and line; anything
//! the loader does not understand is an error, never silently skipped.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::contract::Contract;
use crate::document::{Documents, Loc, Source};
use crate::error::LoadError;
use crate::model::{Method, Operation, SecurityRequirement};
use crate::router::Router;
use crate::schema::{Compiler, Dialect};
use crate::{locate, structure};

mod bodies;
mod params;
mod security;

use security::security;

/// Fields of the root document, and what is done with each.
const ROOT_FIELDS: &[&str] = &[
    "openapi",
    "info",
    "servers",
    "paths",
    "components",
    "security",
    "tags",
    "externalDocs",
    "webhooks",
    "jsonSchemaDialect",
];

const PATH_ITEM_FIELDS: &[&str] = &["summary", "description", "servers", "parameters"];

const OPERATION_FIELDS: &[&str] = &[
    "tags",
    "summary",
    "description",
    "externalDocs",
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "callbacks",
    "deprecated",
    "security",
    "servers",
];

/// Loads a contract from `root`, reading sibling files through `source`.
/// Every error is located by file, JSON pointer and, where the text shows
/// it, line.
pub fn load(root: &str, source: &dyn Source) -> Result<Contract, Vec<LoadError>> {
    let mut docs = Documents::load(root, source).map_err(|e| vec![e])?;
    compile(root, &mut docs, source).map_err(|errors| locate::lines(docs.texts(), errors))
}

fn compile(
    root: &str,
    docs: &mut Documents,
    source: &dyn Source,
) -> Result<Contract, Vec<LoadError>> {
    let doc = docs.get(root).cloned().unwrap_or(Value::Null);
    let top = Loc::new(root, "");
    let Some(object) = doc.as_object() else {
        return Err(vec![top.error("a contract must be an object")]);
    };
    let mut errors = Vec::new();
    let dialect = dialect_of(object, &top, &mut errors);
    if let Some(dialect) = dialect {
        // The official schema first: a misplaced or misspelt field is
        // reported as what it is, before the loader's own reading of it.
        let found = structure::check(root, &doc, dialect);
        if !found.is_empty() {
            // In the order of the text, as the author reads it.
            let mut found = locate::lines(docs.texts(), found);
            found.sort_by(|a, b| (a.line(), a.pointer()).cmp(&(b.line(), b.pointer())));
            return Err(found);
        }
    }
    check_fields(object, ROOT_FIELDS, &top, &mut errors);
    check_dialect(object, &top, &mut errors);
    let default_security = match object.get("security") {
        Some(s) => security(&top.child("security"), s, &mut errors),
        None => Vec::new(),
    };
    let mut compiler = Compiler::new(docs, source, dialect.unwrap_or(Dialect::OpenApi31));
    let operations = match object.get("paths") {
        Some(Value::Object(paths)) => {
            let ctx = OpCtx {
                default_security: &default_security,
            };
            operations(&mut compiler, &ctx, &top, paths, &mut errors)
        }
        Some(_) => {
            errors.push(top.child("paths").error("`paths` must be an object"));
            Vec::new()
        }
        None => {
            errors.push(top.error("the contract declares no `paths`"));
            Vec::new()
        }
    };
    let router = Router::build(&operations, &top.child("paths"), &mut errors);
    check_unique_ids(&operations, &top, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let version = object
        .get("info")
        .and_then(|i| i.get("version"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let digest = digest(docs.texts());
    // Located like errors; the text is read again only if there is one.
    let warnings = locate::lines(docs.texts(), warnings(root, &operations));
    Ok(Contract::new(
        version, digest, operations, router, doc, warnings,
    ))
}

/// Findings that do not stop loading: operations without an `operationId`.
fn warnings(root: &str, operations: &[Operation]) -> Vec<LoadError> {
    operations
        .iter()
        .filter(|o| o.generated_id)
        .map(|o| {
            Loc::new(root, "/paths")
                .child(&o.path)
                .child(o.method.openapi_key())
                .error(format!(
                    "no `operationId`; using the generated id `{}`, which changes if the path does",
                    o.id
                ))
        })
        .collect()
}

/// The operations of every path item.
fn operations(
    compiler: &mut Compiler<'_>,
    ctx: &OpCtx<'_>,
    top: &Loc,
    paths: &Map<String, Value>,
    errors: &mut Vec<LoadError>,
) -> Vec<Operation> {
    let mut operations = Vec::new();
    // `x-` members of the Paths Object are extensions, not routes.
    for (path, item) in paths.iter().filter(|(p, _)| !p.starts_with("x-")) {
        let at = top.child("paths").child(path);
        path_item(compiler, ctx, &at, path, item, &mut operations, errors);
    }
    operations
}

/// Schemas are read as 2020-12 (the 3.1 base dialect is the same vocabulary).
fn check_dialect(object: &Map<String, Value>, top: &Loc, errors: &mut Vec<LoadError>) {
    if let Some(d) = object.get("jsonSchemaDialect").and_then(Value::as_str)
        && d != "https://json-schema.org/draft/2020-12/schema"
        && d != "https://spec.openapis.org/oas/3.1/dialect/base"
    {
        errors.push(
            top.child("jsonSchemaDialect")
                .error(format!("dialect `{d}` is not supported")),
        );
    }
}

struct OpCtx<'a> {
    default_security: &'a [SecurityRequirement],
}

fn dialect_of(
    object: &Map<String, Value>,
    top: &Loc,
    errors: &mut Vec<LoadError>,
) -> Option<Dialect> {
    let version = object.get("openapi").and_then(Value::as_str);
    match version {
        Some(v) if v.starts_with("3.0.") => Some(Dialect::OpenApi30),
        Some(v) if v.starts_with("3.1.") => Some(Dialect::OpenApi31),
        Some(v) => {
            errors.push(top.child("openapi").error(format!(
                "OpenAPI `{v}` is not supported (3.0.x and 3.1.x are)"
            )));
            None
        }
        None => {
            errors.push(
                top.error(
                    "missing `openapi` version field (this loader reads OpenAPI 3.0 and 3.1)",
                ),
            );
            None
        }
    }
}

/// Reports fields that are neither known nor `x-` extensions.
pub(crate) fn check_fields(
    object: &Map<String, Value>,
    known: &[&str],
    at: &Loc,
    errors: &mut Vec<LoadError>,
) {
    for key in object.keys() {
        if !key.starts_with("x-") && !known.contains(&key.as_str()) {
            errors.push(
                at.child(key)
                    .error(format!("unknown or unsupported field `{key}`")),
            );
        }
    }
}

fn path_item(
    compiler: &mut Compiler<'_>,
    ctx: &OpCtx<'_>,
    at: &Loc,
    path: &str,
    item: &Value,
    operations: &mut Vec<Operation>,
    errors: &mut Vec<LoadError>,
) {
    let (at, item) = match compiler.deref(at, item) {
        Ok(found) => found,
        Err(e) => return errors.push(e),
    };
    let Some(object) = item.as_object() else {
        return errors.push(at.error("a path item must be an object"));
    };
    let mut known: Vec<&str> = PATH_ITEM_FIELDS.to_vec();
    known.extend(Method::ALL.iter().map(|m| m.openapi_key()));
    if object.contains_key("trace") {
        errors.push(
            at.child("trace")
                .error("TRACE operations are never forwarded by the gateway"),
        );
        known.push("trace");
    }
    check_fields(object, &known, &at, errors);
    let shared = object.get("parameters");
    for method in Method::ALL {
        let Some(op) = object.get(method.openapi_key()) else {
            continue;
        };
        let op_at = at.child(method.openapi_key());
        if let Some(op) = operation(compiler, ctx, &op_at, &at, method, path, op, shared, errors) {
            operations.push(op);
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
fn operation(
    compiler: &mut Compiler<'_>,
    ctx: &OpCtx<'_>,
    at: &Loc,
    item_at: &Loc,
    method: Method,
    path: &str,
    op: &Value,
    shared: Option<&Value>,
    errors: &mut Vec<LoadError>,
) -> Option<Operation> {
    let Some(object) = op.as_object() else {
        errors.push(at.error("an operation must be an object"));
        return None;
    };
    check_fields(object, OPERATION_FIELDS, at, errors);
    let (id, generated_id) = match object.get("operationId") {
        Some(Value::String(id)) if !id.is_empty() => (id.clone(), false),
        Some(_) => {
            errors.push(
                at.child("operationId")
                    .error("`operationId` must be a non-empty string"),
            );
            (String::new(), false)
        }
        None => (generated_id(method, path), true),
    };
    let params = params::collect(
        compiler,
        at,
        item_at,
        object.get("parameters"),
        shared,
        path,
        errors,
    );
    let body = object
        .get("requestBody")
        .and_then(|b| bodies::request_body(compiler, &at.child("requestBody"), b, errors));
    let responses = match object.get("responses") {
        Some(r) => bodies::responses(compiler, &at.child("responses"), r, errors),
        None => {
            errors.push(at.error("operation declares no `responses`"));
            Vec::new()
        }
    };
    let security = match object.get("security") {
        Some(s) => security(&at.child("security"), s, errors),
        None => ctx.default_security.to_vec(),
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(Operation {
        id,
        generated_id,
        summary: text("summary"),
        description: text("description"),
        method,
        path: path.to_owned(),
        params,
        body,
        responses,
        security,
    })
}

/// A stable id for an operation without `operationId`: `get_v1_orders_orderId`.
fn generated_id(method: Method, path: &str) -> String {
    let mut id = method.openapi_key().to_owned();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.extend(
            segment
                .chars()
                .filter(|c| *c != '{' && *c != '}')
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

fn check_unique_ids(operations: &[Operation], top: &Loc, errors: &mut Vec<LoadError>) {
    let mut seen = std::collections::HashMap::new();
    for op in operations {
        if let Some(first) = seen.insert(op.id.as_str(), op) {
            errors.push(
                top.child("paths")
                    .child(&op.path)
                    .child(op.method.openapi_key())
                    .child("operationId")
                    .error(format!(
                        "operationId `{}` is also used by {} {}",
                        op.id,
                        first.method.as_str(),
                        first.path
                    )),
            );
        }
    }
}

/// SHA-256 over every document text read, in read order: the contract version
/// the audit log and `/.well-known/portcullis/contracts` report.
fn digest(texts: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in texts {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    let bytes = hasher.finalize();
    let mut hex = String::with_capacity(64);
    for b in bytes.iter() {
        hex.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    hex
}
