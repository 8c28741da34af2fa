//! An API's upstream credential: its form (header, bearer, basic, query
//! parameter) and its value, read from the environment or a file, never
//! from the configuration text itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::raw::RawUpstreamAuth;
use crate::secret_ref::read_secret;
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
    let mut secret =
        |reference: &str| read_secret(files, file, line, reference, "the upstream credential", out);
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
