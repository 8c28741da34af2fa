//! The `accept:` list: findings of `check` that were reviewed and are
//! intended, as a linter's suppressions. Each entry names the finding's rule
//! (`wide-open`), its subject (an operation `api:operationId` or a policy
//! id) and a required `reason`.
//!
//! An accepted finding is still shown, marked accepted with its reason; it
//! only stops counting against `check --strict`. An entry that matches no
//! finding is a warning, so the list cannot silently outlive what it was
//! written for. This module never hides a finding.

use portcullis_policy::Finding;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Severity};
use crate::raw::RawAccept;

/// Every accepted finding of the configuration, and where it is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acceptances {
    /// The configuration file the entries are in.
    file: String,
    entries: Vec<Acceptance>,
}

/// One entry of `accept:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// The finding's rule: `wide-open`, `wildcard-principal`, …
    pub rule: String,
    /// The operation (`api:operationId`) or policy id it is about.
    pub subject: String,
    /// Why it is intended; never empty.
    pub reason: String,
    /// Its line in the configuration file.
    pub line: u64,
}

impl Acceptances {
    /// Entries written elsewhere than a configuration file (tests, tools).
    pub fn from_entries(file: &str, entries: Vec<Acceptance>) -> Self {
        Self {
            file: file.to_owned(),
            entries,
        }
    }

    /// The entry accepting the finding `rule` about `subject`, if any.
    fn entry(&self, rule: &str, subject: &str) -> Option<&Acceptance> {
        self.entries
            .iter()
            .find(|a| a.rule == rule && a.subject == subject)
    }

    /// Why the finding `rule` about `subject` was accepted, if it was.
    pub fn reason(&self, rule: &str, subject: &str) -> Option<&str> {
        self.entry(rule, subject).map(|a| a.reason.as_str())
    }

    /// The entry accepting `finding`, if any.
    pub fn find(&self, finding: &Finding) -> Option<&Acceptance> {
        self.entry(finding.rule, &finding.subject)
    }

    /// A warning for each entry that matches none of `findings`, at its line.
    pub fn unmatched(&self, findings: &[Finding]) -> Vec<Diagnostic> {
        self.entries
            .iter()
            .filter(|a| {
                !findings
                    .iter()
                    .any(|f| a.rule == f.rule && a.subject == f.subject)
            })
            .map(|a| Diagnostic {
                severity: Severity::Warning,
                file: self.file.clone(),
                line: (a.line > 0).then_some(a.line),
                pointer: None,
                message: format!(
                    "`accept`: no `{}` finding about `{}`; remove the entry",
                    a.rule, a.subject
                ),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Reads `accept:`; an entry without a reason is an error at its line.
pub(crate) fn acceptances(
    file: &str,
    raw: Option<&Spanned<Vec<Spanned<RawAccept>>>>,
    out: &mut Vec<Diagnostic>,
) -> Acceptances {
    let mut entries: Vec<Acceptance> = Vec::new();
    for entry in raw.map_or(&[][..], |r| r.value.as_slice()) {
        let line = entry.referenced.line();
        let RawAccept {
            rule,
            subject,
            reason,
        } = &entry.value;
        let Some(reason) = reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("`accept`: `{rule}` on `{subject}` needs a `reason`: why it is intended"),
            ));
            continue;
        };
        if entries
            .iter()
            .any(|a| a.rule == *rule && a.subject == *subject)
        {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("`accept`: `{rule}` on `{subject}` is accepted twice"),
            ));
            continue;
        }
        entries.push(Acceptance {
            rule: rule.clone(),
            subject: subject.clone(),
            reason: reason.to_owned(),
            line,
        });
    }
    Acceptances {
        file: file.to_owned(),
        entries,
    }
}
