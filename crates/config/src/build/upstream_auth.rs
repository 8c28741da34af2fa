//! An API's upstream credential: its form (header, bearer, basic, query
//! parameter) and its value, read from the environment or a file, never
//! from the configuration text itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::raw::RawUpstreamAuth;
use crate::snapshot::UpstreamAuth;
use crate::source::Files;

pub(super) fn resolve(
    files: &dyn Files,
    file: &str,
    raw: &Spanned<RawUpstreamAuth>,
    out: &mut Vec<Diagnostic>,
) -> Option<UpstreamAuth> {
    let line = raw.referenced.line();
    let a = &raw.value;
    let forms = [
        a.header.is_some() || a.value.is_some(),
        a.bearer.is_some(),
        a.basic.is_some(),
        a.query.is_some(),
    ];
    if forms.iter().filter(|f| **f).count() != 1 {
        out.push(Diagnostic::error_at_line(
            file,
            line,
            "`upstream_auth` takes exactly one of `{header, value}`, `bearer`, `basic` or `query`",
        ));
        return None;
    }
    let mut secret = |reference: &str| read_secret(files, file, line, reference, out);
    let auth = if let Some(bearer) = &a.bearer {
        UpstreamAuth::Header {
            name: "authorization".to_owned(),
            value: format!("Bearer {}", secret(bearer)?),
        }
    } else if let Some(basic) = &a.basic {
        let user = secret(&basic.username)?;
        let password = secret(&basic.password)?;
        UpstreamAuth::Header {
            name: "authorization".to_owned(),
            value: format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
        }
    } else if let Some(query) = &a.query {
        if query.name.is_empty()
            || !query
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("`{}` is not a plain query parameter name", query.name),
            ));
            return None;
        }
        UpstreamAuth::Query {
            name: query.name.clone(),
            value: secret(&query.value)?,
        }
    } else {
        let (Some(header), Some(value)) = (&a.header, &a.value) else {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                "`upstream_auth` needs both `header` and `value`",
            ));
            return None;
        };
        let name = header.to_ascii_lowercase();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("`{header}` is not a header name"),
            ));
            return None;
        }
        UpstreamAuth::Header {
            name,
            value: secret(value)?,
        }
    };
    if let UpstreamAuth::Header { value, .. } = &auth
        && http::HeaderValue::from_str(value).is_err()
    {
        out.push(Diagnostic::error_at_line(
            file,
            line,
            "the upstream credential is not a valid header value",
        ));
        return None;
    }
    Some(auth)
}

/// `env:NAME` or `file:PATH` (relative to the configuration's folder; one
/// trailing newline dropped). A literal is refused: secrets do not belong in
/// a file that is reviewed, copied and committed.
pub(super) fn read_secret(
    files: &dyn Files,
    file: &str,
    line: u64,
    reference: &str,
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
                    format!("cannot read the upstream credential file `{path}`: {e}"),
                ));
                return None;
            }
        }
    } else {
        out.push(Diagnostic::error_at_line(
            file,
            line,
            "upstream credentials come from `env:NAME` or `file:PATH`, never from the configuration itself",
        ));
        return None;
    };
    if value.is_empty() {
        out.push(Diagnostic::error_at_line(
            file,
            line,
            "the upstream credential is empty",
        ));
        return None;
    }
    Some(value)
}
