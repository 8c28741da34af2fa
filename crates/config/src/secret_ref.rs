//! Secrets named by reference (`env:NAME`, `file:PATH`), never written in
//! a configuration file: upstream credentials, the sealing key, the client
//! secrets of `verify --identities`.
//!
//! A secret is the gateway host's, not the configuration's: `check` in CI
//! checks that each reference is well formed and resolves only what is
//! there ([`Secrets::IfPresent`]); `serve` and every other command resolve
//! them all and fail closed ([`Secrets::Resolve`]).

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::Files;

/// How secret references are treated by a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Secrets {
    /// Every reference must resolve to a non-empty value; else an error.
    #[default]
    Resolve,
    /// References must be well formed; one that names nothing here (an
    /// unset variable, a missing file) is a note, one that is present is
    /// resolved and checked like [`Secrets::Resolve`] does.
    IfPresent,
}

/// Where a secret is read from, and what for: the diagnostics' location.
pub(crate) struct SecretAt<'a> {
    pub files: &'a dyn Files,
    pub secrets: Secrets,
    pub file: &'a str,
    pub line: u64,
    /// What the secret is, for messages: "the upstream credential".
    pub what: &'a str,
}

/// `env:NAME` or `file:PATH` (relative to the configuration's folder; one
/// trailing newline dropped). A literal is refused: secrets do not belong in
/// a file that is reviewed, copied and committed. `None` when there is no
/// value to use, with the reason in `out` (an error, or a note when
/// [`Secrets::IfPresent`] and the reference names nothing here).
pub(crate) fn read_secret(
    at: &SecretAt<'_>,
    reference: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<String> {
    match lookup(at, reference) {
        Ok(value) if value.is_empty() => {
            out.push(at.error(format!("{} is empty", at.what)));
            None
        }
        Ok(value) => Some(value),
        Err(diagnostic) => {
            out.push(diagnostic);
            None
        }
    }
}

/// The value `reference` names, or why there is none.
fn lookup(at: &SecretAt<'_>, reference: &str) -> Result<String, Diagnostic> {
    let what = at.what;
    if let Some(var) = reference.strip_prefix("env:") {
        if !env_name(var) {
            return Err(at.error(format!(
                "{what}: `{var}` is not an environment variable name (letters, digits, `_`)"
            )));
        }
        match std::env::var(var) {
            Ok(v) => Ok(v),
            Err(std::env::VarError::NotPresent) => Err(at.absent(
                reference,
                format!("environment variable `{var}` is not set"),
            )),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(at.error(format!("{what}: environment variable `{var}` is not UTF-8")))
            }
        }
    } else if let Some(path) = reference.strip_prefix("file:") {
        if path.trim().is_empty() {
            return Err(at.error(format!("{what}: `file:` names no file")));
        }
        if at.secrets == Secrets::IfPresent && !at.files.exists(path) {
            return Err(at.absent(reference, format!("no file `{path}`")));
        }
        at.files
            .secret(path)
            .map(|v| without_newline(&v).to_owned())
            .map_err(|e| at.error(format!("cannot read {what} from `{path}`: {e}")))
    } else {
        Err(at.error(format!(
            "{what} comes from `env:NAME` or `file:PATH`, never from the file itself"
        )))
    }
}

impl SecretAt<'_> {
    fn error(&self, message: String) -> Diagnostic {
        Diagnostic::error_at_line(self.file, self.line, message)
    }

    /// A reference that names nothing here: an error when resolving, a note
    /// when checking.
    fn absent(&self, reference: &str, why: String) -> Diagnostic {
        match self.secrets {
            Secrets::Resolve => self.error(why),
            Secrets::IfPresent => Diagnostic {
                severity: Severity::Note,
                ..self.error(format!(
                    "{} `{reference}` is not resolved here: {why}; `serve` refuses to start \
                     without it (`check --secrets` requires it)",
                    self.what
                ))
            },
        }
    }
}

/// One trailing `\n` or `\r\n` dropped, as editors add it.
fn without_newline(v: &str) -> &str {
    v.strip_suffix('\n')
        .map(|v| v.strip_suffix('\r').unwrap_or(v))
        .unwrap_or(v)
}

/// A POSIX environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn env_name(name: &str) -> bool {
    name.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a missing value should fail the test"
    )]
    use super::*;
    use crate::Embedded;

    fn read(secrets: Secrets, reference: &str) -> (Option<String>, Vec<Diagnostic>) {
        let files = Embedded(&[("token", "s3cret\n"), ("empty", "\n")]);
        let at = SecretAt {
            files: &files,
            secrets,
            file: "c.yaml",
            line: 3,
            what: "the upstream credential",
        };
        let mut out = Vec::new();
        (read_secret(&at, reference, &mut out), out)
    }

    #[test]
    fn an_absent_secret_is_a_note_when_checking_and_an_error_when_resolving() {
        for reference in ["file:missing.token", "env:PORTCULLIS_TEST_NEVER_SET_4711"] {
            let (value, out) = read(Secrets::IfPresent, reference);
            assert_eq!(value, None);
            assert_eq!(out.len(), 1, "{out:?}");
            assert_eq!(out[0].severity, Severity::Note, "{out:?}");
            assert!(out[0].message.contains(reference), "{out:?}");
            let (value, out) = read(Secrets::Resolve, reference);
            assert_eq!(value, None);
            assert!(out[0].is_error(), "{out:?}");
        }
    }

    #[test]
    fn a_present_secret_is_resolved_and_checked_in_both_modes() {
        for secrets in [Secrets::IfPresent, Secrets::Resolve] {
            assert_eq!(read(secrets, "file:token").0.as_deref(), Some("s3cret"));
            let (value, out) = read(secrets, "file:empty");
            assert_eq!(value, None);
            assert!(out[0].is_error() && out[0].message.contains("empty"));
        }
    }

    #[test]
    fn a_malformed_reference_is_an_error_in_both_modes() {
        for secrets in [Secrets::IfPresent, Secrets::Resolve] {
            for reference in ["s3cret", "env:", "env:9LIVES", "env:A-B", "file:", "file: "] {
                let (value, out) = read(secrets, reference);
                assert_eq!(value, None);
                assert_eq!(out.len(), 1, "{reference}: {out:?}");
                assert!(out[0].is_error(), "{reference}: {out:?}");
            }
        }
    }
}
