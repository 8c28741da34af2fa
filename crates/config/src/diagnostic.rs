//! One finding about the configuration or a contract, located for a human.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing, never a failure (not even with `check --strict`).
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A finding with its file and a line, a JSON pointer, or both (a contract's
/// findings: `openapi.yaml:42#/components/requestBodiez`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: Option<u64>,
    pub pointer: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn error_at_line(file: &str, line: u64, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_owned(),
            line: (line > 0).then_some(line),
            pointer: None,
            message: message.into(),
        }
    }

    pub fn from_contract(severity: Severity, e: &portcullis_contract::LoadError) -> Self {
        Self {
            severity,
            file: e.file().to_owned(),
            line: e.line(),
            pointer: Some(e.pointer().to_owned()),
            message: e.message().to_owned(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }

    pub fn note_at_line(file: &str, line: u64, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            ..Self::error_at_line(file, line, message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(pointer) = &self.pointer {
            write!(f, "#{pointer}")?;
        }
        write!(f, ": {}: {}", self.severity.as_str(), self.message)
    }
}
