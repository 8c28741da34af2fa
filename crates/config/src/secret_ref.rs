//! Secrets named by reference (`env:NAME`, `file:PATH`), never written in
//! a configuration file: upstream credentials, the sealing key, the client
//! secrets of `verify --identities`.

use crate::diagnostic::Diagnostic;
use crate::source::Files;

/// `env:NAME` or `file:PATH` (relative to the configuration's folder; one
/// trailing newline dropped). A literal is refused: secrets do not belong in
/// a file that is reviewed, copied and committed.
pub(crate) fn read_secret(
    files: &dyn Files,
    file: &str,
    line: u64,
    reference: &str,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<String> {
    let value = if let Some(var) = reference.strip_prefix("env:") {
        match std::env::var(var) {
            Ok(v) => v,
            Err(_) => {
                out.push(Diagnostic::error_at_line(
                    file,
                    line,
                    format!("environment variable `{var}` is not set"),
                ));
                return None;
            }
        }
    } else if let Some(path) = reference.strip_prefix("file:") {
        match files.read(path) {
            Ok(v) => v
                .strip_suffix('\n')
                .map(|v| v.strip_suffix('\r').unwrap_or(v))
                .unwrap_or(&v)
                .to_owned(),
            Err(e) => {
                out.push(Diagnostic::error_at_line(
                    file,
                    line,
                    format!("cannot read {what} from `{path}`: {e}"),
                ));
                return None;
            }
        }
    } else {
        out.push(Diagnostic::error_at_line(
            file,
            line,
            format!("{what} comes from `env:NAME` or `file:PATH`, never from the file itself"),
        ));
        return None;
    };
    if value.is_empty() {
        out.push(Diagnostic::error_at_line(
            file,
            line,
            format!("{what} is empty"),
        ));
        return None;
    }
    Some(value)
}
