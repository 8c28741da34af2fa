//! An API's response settings: what its checks do with undeclared fields,
//! secrets and headers, and the operations whose failure answers are made
//! uniform (each checked against what the contract declares).

use std::collections::{BTreeMap, HashMap};

use portcullis_contract::response::{FieldsMode, ResponsePolicy, SecretsMode};
use portcullis_contract::{Contract, Operation};
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::raw::{
    RawFields, RawHeaders, RawOperation, RawResponses, RawSecrets, RawUniformFailure,
};
use crate::snapshot::{FailureMatch, HeaderPolicy, UniformFailure};

/// The body and header policies; strict unless the configuration relaxes them.
pub(super) fn policy(raw: Option<&RawResponses>) -> (ResponsePolicy, HeaderPolicy) {
    let policy = ResponsePolicy {
        undeclared_fields: match raw.and_then(|r| r.undeclared_fields) {
            None | Some(RawFields::Strip) => FieldsMode::Strip,
            Some(RawFields::Reject) => FieldsMode::Reject,
            Some(RawFields::Allow) => FieldsMode::Allow,
        },
        secrets: match raw.and_then(|r| r.secrets) {
            None | Some(RawSecrets::Redact) => SecretsMode::Redact,
            Some(RawSecrets::Block) => SecretsMode::Block,
            Some(RawSecrets::Allow) => SecretsMode::Allow,
        },
    };
    let headers = match raw.and_then(|r| r.headers) {
        None | Some(RawHeaders::Strict) => HeaderPolicy::Strict,
        Some(RawHeaders::Allow) => HeaderPolicy::Allow,
    };
    (policy, headers)
}

/// The `operations:` entries' uniform failures, each naming an operation of
/// `contract` and an answer it declares.
pub(super) fn uniform_failures(
    file: &str,
    api: &str,
    raw: Option<&BTreeMap<String, Spanned<RawOperation>>>,
    contract: &Contract,
    out: &mut Vec<Diagnostic>,
) -> HashMap<String, UniformFailure> {
    let mut found = HashMap::new();
    for (id, entry) in raw.into_iter().flatten() {
        let line = entry.referenced.line();
        let Some(op) = contract.operations().iter().find(|o| o.id == *id) else {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("`operations`: `{id}` is not an operation of API `{api}`"),
            ));
            continue;
        };
        let Some(uniform) = &entry.value.uniform_failure else {
            continue;
        };
        if let Some(checked) = one(file, op, uniform, out) {
            found.insert(id.clone(), checked);
        }
    }
    found
}

fn one(
    file: &str,
    op: &Operation,
    raw: &Spanned<RawUniformFailure>,
    out: &mut Vec<Diagnostic>,
) -> Option<UniformFailure> {
    let line = raw.referenced.line();
    let error = |out: &mut Vec<Diagnostic>, line: u64, message: String| {
        out.push(Diagnostic::error_at_line(file, line, message));
    };
    let mut ok = true;
    if raw.value.when.is_empty() {
        error(
            out,
            line,
            format!(
                "`uniform_failure` of `{}`: `when` must list at least one failure answer",
                op.id
            ),
        );
        ok = false;
    }
    let mut when = Vec::new();
    for m in &raw.value.when {
        let at = match (&m.value.pointer, &m.value.equals) {
            (Some(p), Some(v)) if p.is_empty() || p.starts_with('/') => {
                Some((p.clone(), v.clone()))
            }
            (None, None) if m.value.status.is_some() => None,
            _ => {
                error(out, m.referenced.line(), "a failure answer is matched by `status`, by `pointer` (a JSON pointer such as `/status`) with `equals`, or both".into());
                ok = false;
                continue;
            }
        };
        when.push(FailureMatch {
            status: m.value.status,
            at,
        });
    }
    let status = raw.value.status;
    if let Err(why) = declared_answer(op, status, &raw.value.body) {
        error(
            out,
            line,
            format!("`uniform_failure` of `{}`: {why}", op.id),
        );
        ok = false;
    }
    let body = serde_json::to_vec(&raw.value.body).ok()?;
    ok.then_some(UniformFailure { when, status, body })
}

/// The fixed answer must be one the contract declares, so replacing a
/// failure with it never breaks the contract the caller was promised.
fn declared_answer(op: &Operation, status: u16, body: &serde_json::Value) -> Result<(), String> {
    if !(100..=599).contains(&status) {
        return Err(format!("`status` {status} is not an HTTP status"));
    }
    let spec = op
        .response_for(status)
        .ok_or_else(|| format!("the contract declares no response {status} for it"))?;
    let media = portcullis_contract::media_for(&spec.media, "application/json")
        .filter(|m| m.json)
        .ok_or_else(|| format!("the contract declares no JSON body for its response {status}"))?;
    match &media.schema {
        Some(schema) => schema.validate(body, "/body").map_err(|errors| {
            let first = errors
                .first()
                .map(|e| format!("{}: {}", e.pointer, e.message))
                .unwrap_or_default();
            format!("`body` does not match the contract's schema for response {status} ({first})")
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
