//! What the MCP face must do, computed without a socket: the tools an
//! identity must be listed (by the gateway's own `portcullis_mcp::visible`,
//! over the configuration `verify` was given), whether a listing agrees with
//! what the HTTP pass saw allowed, which kinds of HTTP negative have a
//! `tools/call` form and the arguments that stand for one, and what an
//! answer through `/mcp` says (code, where it came from, and its shape).

use portcullis_config::Config;
use portcullis_contract::{Contract, Operation, Param, ParamIn, ParamShape, RouteMatch, Scalar};
use portcullis_core::{Identity, ProblemCode};
use portcullis_mcp::{Tool, ToolSet, Viewer, visible};
use serde_json::{Map, Number, Value};

use super::super::{Check, Flaw, judge};
use crate::request::Probe;
use crate::wire::Answer;

/// Every tool of the configuration's contracts, as the gateway makes them.
pub fn tool_set(config: &Config) -> ToolSet {
    ToolSet::from_contracts(
        config
            .apis
            .iter()
            .map(|a| (a.name.as_str(), a.contract.as_ref())),
    )
}

/// The tools of `api` the configuration lets `identity` be listed when its
/// token carries `scopes` and is for `api`: what `tools/list` must answer.
pub fn expected_tools<'t>(
    config: &Config,
    tools: &'t ToolSet,
    identity: &Identity,
    scopes: &[String],
    api: &str,
) -> Vec<&'t Tool> {
    let operation = |api: &str, op: &str| {
        config
            .apis
            .iter()
            .find(|a| a.name == api)?
            .contract
            .operations()
            .iter()
            .find(|o| o.id == op)
    };
    let viewer = Viewer {
        identity,
        scopes,
        audience: Some(api),
    };
    visible(tools, operation, &config.policies.store, &viewer)
        .into_iter()
        .map(|l| l.tool)
        .collect()
}

/// Each listed tool whose definition is not `expected`'s, with the members
/// that differ (a gateway running another contract lists other schemas).
pub fn differing(expected: &[&Tool], listed: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for tool in expected {
        let Some(seen) = listed
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(tool.name.as_str()))
        else {
            continue;
        };
        let made = tool.to_json();
        let (Some(made), Some(seen)) = (made.as_object(), seen.as_object()) else {
            out.push(format!("{}: not a JSON object", tool.name));
            continue;
        };
        let mut keys: Vec<&String> = made.keys().chain(seen.keys()).collect();
        keys.sort();
        keys.dedup();
        let differ: Vec<&str> = keys
            .into_iter()
            .filter(|k| made.get(*k) != seen.get(*k))
            .map(String::as_str)
            .collect();
        if !differ.is_empty() {
            out.push(format!("{}: {}", tool.name, differ.join(", ")));
        }
    }
    out
}

/// Operations of `api` whose valid request was allowed over HTTP for
/// `identity` (`checks`: the HTTP pass's) but whose tool is not in `listed`
/// (what the gateway listed) or `expected` (what the configuration lists).
/// A tool that is never listed must never be allowed.
pub fn allowed_unlisted(
    checks: &[Check],
    tools: &ToolSet,
    identity: &str,
    api: &str,
    expected: &[String],
    listed: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    let valid = checks
        .iter()
        .filter(|c| c.kind == "valid" && c.identity == identity && c.api == api);
    for c in valid {
        let Some(tool) = tools
            .tools
            .iter()
            .find(|t| t.api == api && t.operation == c.operation)
        else {
            continue;
        };
        let mut note = |why: &str| {
            let line = format!("{} ({why})", tool.name);
            if !out.contains(&line) {
                out.push(line);
            }
        };
        if c.got == "forwarded" && !listed.contains(&tool.name) {
            note("the gateway forwarded its valid request but does not list it");
        }
        if c.expected == "forwarded" && !expected.contains(&tool.name) {
            note("the configuration forwards its valid request but does not list it");
        }
    }
    out
}

/// Why negatives of `kind` have no `tools/call` form; `None` when they
/// have one. A call's arguments fill the operation's parameters and body;
/// the gateway writes the request line, path and content type itself.
pub fn not_applicable(kind: &str) -> Option<&'static str> {
    match kind {
        "missing-parameter" | "wrong-type" | "unknown-field" | "oversized-body" | "credential" => {
            None
        }
        "path-trick" => Some(
            "a tool call's path is written from the operation's template, each argument percent-encoded: its spelling cannot be chosen",
        ),
        "undeclared-method" => Some("a tool is one operation: its method is the operation's"),
        "wrong-content-type" => {
            Some("a tool call's body is always sent as the operation's JSON media type")
        }
        "override-header" => Some(
            "only the operation's declared header parameters are arguments: another header cannot be added",
        ),
        _ => Some("no tools/call form is known for this kind of negative"),
    }
}

/// The arguments of the `tools/call` that stands for `probe`, a request to
/// `op` of the API mounted at `mount` whose contract is `contract`: path
/// parameters as the contract's router reads them, query and header
/// parameters, the JSON body, each value typed as the parameter admits.
///
/// # Errors
/// Why `probe` has no such form: another method, a path that is not
/// canonical or not the operation's, an undeclared parameter, a parameter
/// given twice, a body that is not the operation's JSON.
pub fn arguments(
    contract: &Contract,
    mount: &str,
    op: &Operation,
    probe: &Probe,
) -> Result<Map<String, Value>, String> {
    if probe.method != op.method.as_str() {
        return Err(format!(
            "sent with {}, not the operation's method",
            probe.method
        ));
    }
    let (path, query) = probe
        .target
        .split_once('?')
        .unwrap_or((probe.target.as_str(), ""));
    portcullis_contract::canonical::check_path(path.as_bytes())
        .map_err(|_| "its path is not canonical".to_owned())?;
    let rest = path
        .strip_prefix(mount.trim_end_matches('/'))
        .ok_or("its path is not under the API's mount")?;
    let RouteMatch::Found { operation, params } = contract.route(&probe.method, rest) else {
        return Err("its path is not a route of the contract".into());
    };
    if contract.operation(operation).is_none_or(|o| o.id != op.id) {
        return Err("its path is another operation's".into());
    }
    let mut out = Map::new();
    let mut group = Map::new();
    for (name, raw) in params {
        let text = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| format!("path parameter `{name}` is not UTF-8"))?;
        let param = declared(op, ParamIn::Path, name)?;
        group.insert(
            name.to_owned(),
            typed_param(param, vec![text.into_owned()])?,
        );
    }
    put(&mut out, "path", group);
    let mut given: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match given.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.into_owned()),
            None => given.push((name.into_owned(), vec![value.into_owned()])),
        }
    }
    let mut group = Map::new();
    for (name, values) in given {
        let param = declared(op, ParamIn::Query, &name)?;
        group.insert(name, typed_param(param, values)?);
    }
    put(&mut out, "query", group);
    let mut group = Map::new();
    for (name, value) in &probe.headers {
        let param = op
            .params_in(ParamIn::Header)
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("header `{name}` is not a parameter of the operation"))?;
        if group.contains_key(&param.name) {
            return Err(format!("header `{name}` is given twice"));
        }
        group.insert(param.name.clone(), typed_param(param, vec![value.clone()])?);
    }
    put(&mut out, "header", group);
    if let Some((content_type, bytes)) = &probe.body {
        let json_media = op.body.iter().flat_map(|b| &b.media).any(|m| {
            m.json
                && (m.media_type == *content_type
                    || (m.media_type.contains('*') && content_type == "application/json"))
        });
        if !json_media {
            return Err(format!("its body is sent as `{content_type}`"));
        }
        let body = serde_json::from_slice(bytes).map_err(|_| "its body is not JSON".to_owned())?;
        out.insert("body".into(), body);
    }
    Ok(out)
}

fn put(out: &mut Map<String, Value>, name: &str, group: Map<String, Value>) {
    if !group.is_empty() {
        out.insert(name.to_owned(), Value::Object(group));
    }
}

fn declared<'o>(op: &'o Operation, location: ParamIn, name: &str) -> Result<&'o Param, String> {
    op.params_in(location)
        .find(|p| p.name == name)
        .ok_or_else(|| format!("{} parameter `{name}` is not declared", location.as_str()))
}

/// A parameter's texts as the JSON value an argument holds: one scalar,
/// or an array (one text per item when exploded in the query, else
/// comma-separated).
fn typed_param(param: &Param, texts: Vec<String>) -> Result<Value, String> {
    match &param.shape {
        ParamShape::Scalar(kinds) => match texts.as_slice() {
            [one] => Ok(typed(one, kinds)),
            _ => Err(format!("`{}` is given {} times", param.name, texts.len())),
        },
        ParamShape::Array { items, explode } => {
            let each: Vec<String> = if *explode && param.location == ParamIn::Query {
                texts
            } else {
                texts
                    .iter()
                    .flat_map(|t| t.split(','))
                    .map(str::to_owned)
                    .collect()
            };
            Ok(Value::Array(each.iter().map(|t| typed(t, items)).collect()))
        }
    }
}

/// `text` as the first JSON type of `kinds` it reads as; a string when it
/// reads as none (a wrong-type negative's text stays text).
fn typed(text: &str, kinds: &[Scalar]) -> Value {
    for kind in kinds {
        match kind {
            Scalar::Integer => {
                if let Ok(n) = text.parse::<i64>() {
                    return Value::from(n);
                }
                if let Ok(n) = text.parse::<u64>() {
                    return Value::from(n);
                }
            }
            Scalar::Number => {
                if let Ok(n) = serde_json::from_str::<Number>(text) {
                    return Value::Number(n);
                }
            }
            Scalar::Boolean if text == "true" || text == "false" => {
                return Value::Bool(text == "true");
            }
            Scalar::Boolean | Scalar::String => {}
        }
    }
    Value::String(text.to_owned())
}

/// What an answer to a `tools/call` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// The refusal's code, `forwarded`, or `json-rpc-error <n>`.
    pub got: String,
    /// `tool result`, `JSON-RPC error` or `HTTP <status>`.
    pub via: String,
    pub flaw: Option<Flaw>,
}

/// Judges a `tools/call`'s answer. The `/mcp` request itself refused (no
/// credential, a message over the limit) is the gateway's problem+json, as
/// anywhere. Otherwise a refusal is a tool result with `isError: true`
/// whose structured content is the problem document, judged as the HTTP
/// path's: the same members, a catalogued code, the status it was answered
/// with (`_meta.portcullis/status`).
pub fn judge_call(answer: &Answer) -> Judged {
    let content_type = answer.header("content-type").unwrap_or_default();
    let http = || format!("HTTP {}", answer.status);
    if content_type.starts_with("application/problem+json") {
        let (got, flaw) = judge::judge(answer);
        return Judged {
            got,
            via: http(),
            flaw,
        };
    }
    let shape = |what: &str| Judged {
        got: "no-result".into(),
        via: http(),
        flaw: Some(Flaw::Shape(what.to_owned())),
    };
    let doc = content_type
        .starts_with("application/json")
        .then(|| serde_json::from_slice::<Value>(&answer.body).ok())
        .flatten();
    let Some(doc) = doc else {
        return shape("neither a problem nor a JSON-RPC answer");
    };
    if let Some(error) = doc.get("error") {
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        return Judged {
            got: format!("json-rpc-error {code}"),
            via: "JSON-RPC error".into(),
            flaw: None,
        };
    }
    let Some(result) = doc.get("result") else {
        return shape("a JSON-RPC answer with neither `result` nor `error`");
    };
    let structured = result.get("structuredContent");
    let code = structured
        .and_then(|s| s.get("code"))
        .and_then(Value::as_str)
        .and_then(ProblemCode::from_code);
    let Some(structured) = structured.filter(|_| code.is_some()) else {
        return Judged {
            got: "forwarded".into(),
            via: "tool result".into(),
            flaw: None,
        };
    };
    let status = result
        .get("_meta")
        .and_then(|m| m.get("portcullis/status"))
        .or_else(|| structured.get("status"))
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    let problem = Answer {
        status,
        headers: vec![("Content-Type".into(), "application/problem+json".into())],
        body: structured.to_string().into_bytes(),
        complete: true,
    };
    let (got, mut flaw) = judge::judge(&problem);
    if got != "forwarded" && result.get("isError") != Some(&Value::Bool(true)) {
        flaw = Some(Flaw::Shape(
            "a refusal whose tool result does not say `isError: true`".into(),
        ));
    }
    Judged {
        got,
        via: "tool result".into(),
        flaw,
    }
}
