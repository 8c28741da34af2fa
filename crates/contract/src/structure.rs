//! The root document against the OpenAPI Initiative's own JSON Schema for its
//! version, before the loader reads it: a field the specification does not
//! have (`components.requestBodiez`), a missing required one, a value of the
//! wrong shape is a load error, located and said plainly.
//!
//! The schemas ship in `schemas/` (see its README) and are compiled once per
//! process. They are the base schemas: Schema Objects are only checked to be
//! objects (or booleans in 3.1), because the bundler checks every schema
//! keyword itself. Format assertions are off: the official schemas mark
//! fields `uri`, `uri-reference`, `email`, `regex` and `media-range`, and a
//! valid real-world document must not be refused over a relative `tokenUrl`
//! or an ECMA-262 pattern this engine's regex dialect reads differently (the
//! bundler compiles every `pattern` it enforces). Nothing is resolved outside
//! the embedded schema: the crate's `jsonschema` has no file or HTTP retrieval.
//!
//! Sibling documents named by `$ref` are fragments, not OpenAPI documents;
//! the loader's own checks read them.

use std::collections::HashSet;
use std::sync::OnceLock;

use jsonschema::{Draft, PatternOptions, Validator};
use serde_json::Value;

use crate::error::LoadError;
use crate::schema::Dialect;

mod explain;
mod names;

/// OpenAPI 3.0.x, JSON Schema draft 4: `https://spec.openapis.org/oas/3.0/schema/2021-09-28`.
const OAS_30: &str = include_str!("../schemas/oas-3.0.json");
/// OpenAPI 3.1.x, JSON Schema 2020-12: `https://spec.openapis.org/oas/3.1/schema/2022-10-07`.
const OAS_31: &str = include_str!("../schemas/oas-3.1.json");

/// Most structural problems reported for one document; the rest are counted.
const MAX_REPORTED: usize = 20;

/// The structural problems of the root document `doc` of `file`, at most
/// [`MAX_REPORTED`] of them plus one line counting the rest. Empty when it
/// matches the schema.
pub(crate) fn check(file: &str, doc: &Value, dialect: Dialect) -> Vec<LoadError> {
    let validator = match validator(dialect) {
        Ok(v) => v,
        // A defect of this build, not of the document; reported, never a panic.
        Err(e) => {
            return vec![LoadError::at(
                file,
                "",
                format!("the built-in OpenAPI schema does not compile: {e}"),
            )];
        }
    };
    if validator.is_valid(doc) {
        return Vec::new();
    }
    let mut findings = Vec::new();
    // Alternatives can report one problem twice; a large document many.
    let mut seen = HashSet::new();
    for error in validator.iter_errors(doc) {
        for finding in explain::explain(&error) {
            if seen.insert((finding.pointer.clone(), finding.message.clone())) {
                findings.push(finding);
            }
        }
    }
    let findings = explain::without_echoes(findings);
    let more = findings.len().saturating_sub(MAX_REPORTED);
    let mut errors: Vec<LoadError> = findings
        .into_iter()
        .take(MAX_REPORTED)
        .map(|f| LoadError::at(file, &f.pointer, f.message))
        .collect();
    if more > 0 {
        errors.push(LoadError::at(
            file,
            "",
            format!(
                "{more} more problem(s) against the OpenAPI {} schema not shown",
                version(dialect)
            ),
        ));
    }
    errors
}

fn version(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::OpenApi30 => "3.0",
        Dialect::OpenApi31 => "3.1",
    }
}

/// The compiled schema for `dialect`, built on first use and kept.
fn validator(dialect: Dialect) -> Result<&'static Validator, &'static str> {
    static OAS_30_VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    static OAS_31_VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    let compiled = match dialect {
        Dialect::OpenApi30 => OAS_30_VALIDATOR.get_or_init(|| compile(OAS_30, Draft::Draft4)),
        Dialect::OpenApi31 => OAS_31_VALIDATOR.get_or_init(|| compile(OAS_31, Draft::Draft202012)),
    };
    compiled.as_ref().map_err(String::as_str)
}

fn compile(text: &str, draft: Draft) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    jsonschema::options()
        .with_draft(draft)
        // Annotations only: see the module documentation.
        .should_validate_formats(false)
        // The schemas' own patterns (`^x-`, `^\/`, status codes) in linear time.
        .with_pattern_options(PatternOptions::regex())
        .build(&schema)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
