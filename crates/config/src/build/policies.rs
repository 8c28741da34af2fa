//! The `policies:` folder: every `*.cedar` file in it, validated in strict
//! mode against the Cedar schema generated from the loaded contracts.
//!
//! No folder, or a folder with no policy, loads: the gateway then denies every
//! request to an API, and says so as a warning here (so `check` and `serve`
//! both say it loudly). A policy naming an operation no contract declares is
//! an error naming the policy file and the contract. When an API's contract
//! did not load, the policies are not checked at all (a note says so): the
//! schema would lack that API's actions.

use std::sync::Arc;

use portcullis_policy::{PersonAttr, PolicyStore, generate_schema_with};
use serde_saphyr::Spanned;

use super::api::{Apis, Contracted};
use crate::diagnostic::{Diagnostic, Severity};
use crate::snapshot::Policies;
use crate::source::Files;

/// Loads the policies for `apis`; `None` when they do not validate (the
/// errors are in `out`).
pub(super) fn load(
    files: &dyn Files,
    config: &str,
    raw: Option<&Spanned<String>>,
    apis: &Apis,
    person: &[PersonAttr],
    out: &mut Vec<Diagnostic>,
) -> Option<Policies> {
    if let Some(broken) = apis.first_broken() {
        // Checked against a schema without that API's actions, every policy
        // naming one would be a second report of the same root cause.
        if let Some(dir) = raw {
            out.push(Diagnostic::note_at_line(
                config,
                dir.referenced.line(),
                format!("`policies`: skipped: api `{broken}` failed above"),
            ));
        }
        return None;
    }
    if apis.contracts.is_empty() {
        // No API at all: an error above already says so.
        return None;
    }
    let apis = apis.contracts.as_slice();
    let contracts: Vec<(&str, &portcullis_contract::Contract)> = apis
        .iter()
        .map(|a| (a.name.as_str(), &*a.contract))
        .collect();
    let schema = match generate_schema_with(&contracts, person) {
        Ok(schema) => schema,
        Err(e) => {
            out.push(Diagnostic::error_at_line(config, 0, e.to_string()));
            return None;
        }
    };
    let (dir, texts) = match raw {
        None => (None, Vec::new()),
        Some(dir) => {
            let texts = read_folder(files, config, dir, out)?;
            (Some(dir.value.clone()), texts)
        }
    };
    let store = match PolicyStore::load(&texts, &schema) {
        Ok(store) => store,
        Err(diagnostics) => {
            out.extend(
                diagnostics
                    .iter()
                    .map(|d| located(Severity::Error, d, apis)),
            );
            return None;
        }
    };
    out.extend(
        store
            .warnings()
            .iter()
            .map(|d| located(Severity::Warning, d, apis)),
    );
    if store.is_empty() && !apis.is_empty() {
        let (file, line) = raw.map_or((config, 0), |d| (config, d.referenced.line()));
        out.push(Diagnostic {
            severity: Severity::Warning,
            file: file.to_owned(),
            line: (line > 0).then_some(line),
            pointer: None,
            message: match &dir {
                None => "no `policies:` folder: every request to an API will be denied".to_owned(),
                Some(d) => format!("no policy in `{d}`: every request to an API will be denied"),
            },
        });
    }
    Some(Policies {
        dir,
        files: texts.into_iter().map(|(name, _)| name).collect(),
        store: Arc::new(store),
        schema: Arc::new(schema),
    })
}

/// Every `*.cedar` file of the folder, as (path, text).
fn read_folder(
    files: &dyn Files,
    config: &str,
    dir: &Spanned<String>,
    out: &mut Vec<Diagnostic>,
) -> Option<Vec<(String, String)>> {
    let line = dir.referenced.line();
    let names = match files.list(&dir.value, ".cedar") {
        Ok(names) => names,
        Err(e) => {
            out.push(Diagnostic::error_at_line(
                config,
                line,
                format!("`policies`: cannot read folder `{}`: {e}", dir.value),
            ));
            return None;
        }
    };
    let mut texts = Vec::with_capacity(names.len());
    let mut failed = false;
    for name in names {
        match files.read(&name) {
            Ok(text) => texts.push((name, text)),
            Err(e) => {
                failed = true;
                out.push(Diagnostic::error_at_line(
                    &name,
                    0,
                    format!("cannot read: {e}"),
                ));
            }
        }
    }
    (!failed).then_some(texts)
}

fn located(
    severity: Severity,
    d: &portcullis_policy::PolicyDiagnostic,
    apis: &[Contracted],
) -> Diagnostic {
    let mut message = match d.policy() {
        Some(id) if !d.message().contains(id) => format!("policy `{id}`: {}", d.message()),
        _ => d.message().to_owned(),
    };
    if let Some(note) = missing_operation(d.message(), apis) {
        // Cedar's own suggestion here is any action at the same edit
        // distance (it varies between runs); the contract note says more.
        if let Some(cut) = message.find(": did you mean") {
            message.truncate(cut);
        }
        message.push_str("; ");
        message.push_str(&note);
    }
    Diagnostic {
        severity,
        file: d.file().to_owned(),
        line: (d.line() > 0).then_some(u64::from(d.line())),
        pointer: None,
        message,
    }
}

/// When a message names an action `<api>:<operation>` of a known API whose
/// contract has no such operation, the contract that no longer declares it
/// (a contract change that removed an operation a policy still names).
fn missing_operation(message: &str, apis: &[Contracted]) -> Option<String> {
    let start = message.find("Action::\"")? + "Action::\"".len();
    let rest = &message[start..];
    let action = &rest[..rest.find('"')?];
    let (api, operation) = action.split_once(':')?;
    if matches!(operation, "read" | "write") {
        return None;
    }
    let api = apis.iter().find(|a| a.name == api)?;
    let declared = api.contract.operations().iter().any(|o| o.id == operation);
    (!declared).then(|| {
        format!(
            "the contract of api `{}` (`{}`) declares no operation `{operation}`",
            api.name, api.file
        )
    })
}
