//! The one refusal shape: an RFC 9457 `application/problem+json` body.
//!
//! Built from a [`ProblemCode`] plus a detail and, for validation failures, a
//! list of JSON pointers. It must never carry upstream text or internal error
//! messages: callers pass details written for the caller.

use serde::Serialize;

use crate::ProblemCode;

/// One violation inside a request or response, located by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// A refusal, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    code: ProblemCode,
    detail: String,
    errors: Vec<FieldError>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: &'a str,
    instance: &'a str,
    code: &'static str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl Problem {
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// Adds pointer-located violations (validation failures).
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn code(&self) -> ProblemCode {
        self.code
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Renders the RFC 9457 body; `instance` is the request id.
    pub fn to_json(&self, instance: &str) -> Vec<u8> {
        let body = Body {
            kind: self.code.type_uri(),
            title: self.code.title(),
            status: self.code.status(),
            detail: &self.detail,
            instance,
            code: self.code.as_str(),
            errors: &self.errors,
        };
        // Serialising plain strings and integers cannot fail; the fallback keeps
        // the shape even so.
        serde_json::to_vec(&body).unwrap_or_else(|_| {
            format!(
                "{{\"type\":\"{}\",\"title\":\"{}\",\"status\":{},\"code\":\"{}\"}}",
                self.code.type_uri(),
                self.code.title(),
                self.code.status(),
                self.code.as_str()
            )
            .into_bytes()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc9457_fields_and_pointers() {
        let p = Problem::new(ProblemCode::InvalidRequest, "request body does not match")
            .with_errors(vec![FieldError::new(
                "/body/items/0/quantity",
                "must be at least 1",
            )]);
        let v: serde_json::Value = serde_json::from_slice(&p.to_json("req-1")).unwrap();
        assert_eq!(
            v["type"],
            "/.well-known/portcullis/problems#invalid-request"
        );
        assert_eq!(v["status"], 400);
        assert_eq!(v["code"], "invalid-request");
        assert_eq!(v["instance"], "req-1");
        assert_eq!(v["errors"][0]["pointer"], "/body/items/0/quantity");
    }

    #[test]
    fn omits_errors_when_there_are_none() {
        let p = Problem::new(ProblemCode::UndeclaredRoute, "no operation matches");
        let v: serde_json::Value = serde_json::from_slice(&p.to_json("r")).unwrap();
        assert!(v.get("errors").is_none());
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;

    /// The body of every code in the catalogue, as a caller receives it.
    #[test]
    fn every_code_renders_the_same_shape() {
        // Key order depends on serde_json's `preserve_order`, which another crate
        // in the build may switch on: snapshots compare sorted maps.
        let mut settings = insta::Settings::clone_current();
        settings.set_sort_maps(true);
        let _sorted = settings.bind_to_scope();
        let bodies: Vec<serde_json::Value> = ProblemCode::ALL
            .iter()
            .map(|code| {
                let p = Problem::new(*code, format!("example detail for {code}"));
                serde_json::from_slice(&p.to_json("req-0001")).unwrap()
            })
            .collect();
        insta::assert_json_snapshot!(bodies);
    }
}
