//! Errors of generating the schema, and the located diagnostics of loading
//! policies.
//!
//! Messages follow the house style (lowercase, user input in backticks); a
//! policy diagnostic carries Cedar's own explanation, because that is the text
//! that tells an author what to fix.

/// Why a Cedar schema could not be generated from the contracts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Two APIs share one name, so their actions would collide.
    #[error("api `{0}` is named twice")]
    DuplicateApi(String),
    /// Two operations map to one Cedar action.
    #[error("action `{0}` is generated twice")]
    DuplicateAction(String),
    /// Cedar refused the generated schema: a defect of the generator, never
    /// something a contract author can cause on purpose.
    #[error("the generated cedar schema does not parse: {0}")]
    Schema(String),
}

/// One problem found while loading policies, located by file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct PolicyDiagnostic {
    file: String,
    line: u32,
    policy: Option<String>,
    message: String,
}

impl PolicyDiagnostic {
    pub(crate) fn new(
        file: &str,
        line: u32,
        policy: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line,
            policy: policy.map(str::to_owned),
            message: message.into(),
        }
    }

    /// The policy file, as named by the caller; empty (and line 0) for a
    /// fault not tied to one file.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// One-based line in that file.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The policy's id, when the problem belongs to one parsed policy.
    pub fn policy(&self) -> Option<&str> {
        self.policy.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}
