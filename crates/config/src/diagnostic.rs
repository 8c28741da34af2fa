//! One finding about the configuration or a contract, located for a human.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
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
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, ": {level}: {}", self.message)
    }
}
