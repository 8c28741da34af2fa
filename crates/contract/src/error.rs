//! Errors of loading and of checking requests and responses.

use portcullis_core::FieldError;

/// One problem found while loading a contract, located by file and JSON
/// pointer, and by line once the loader has looked it up in the file's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}#{pointer}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct LoadError {
    file: String,
    line: Option<u64>,
    pointer: String,
    message: String,
}

impl LoadError {
    pub fn at(file: &str, pointer: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// The same error at a known line (1-based; 0 means unknown).
    pub fn with_line(mut self, line: u64) -> Self {
        self.line = (line > 0).then_some(line);
        self
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line in [`Self::file`] the pointer names, when it could be found.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Why a request does not match its operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Parameters or body violate the contract.
    #[error("request does not match the contract")]
    Invalid(Violations),
    /// The body's content type is missing or undeclared.
    #[error("unsupported content type")]
    MediaType(Detail),
    /// The body exceeds the limit.
    #[error("request body too large")]
    TooLarge(Detail),
}

/// Why a response does not match its operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Undeclared status, content type, field or invalid body.
    #[error("response does not match the contract")]
    Contract(Violations),
    /// A secret was found and the API blocks such responses.
    #[error("secret in response")]
    Secret(Detail),
}

/// A list of pointer-located violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations {
    detail: String,
    errors: Vec<FieldError>,
}

impl Violations {
    pub fn new(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self {
            detail: detail.into(),
            errors,
        }
    }

    pub fn one(detail: &str, pointer: &str, message: impl Into<String>) -> Self {
        Self::new(detail, vec![FieldError::new(pointer, message)])
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }
}

/// A plain sentence for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail(String);

impl Detail {
    pub fn new(detail: impl Into<String>) -> Self {
        Self(detail.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
