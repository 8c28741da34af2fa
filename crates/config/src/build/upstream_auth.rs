//! An API's upstream credential: its form (header, bearer, basic, query
//! parameter) and its value, read from the environment or a file, never
//! from the configuration text itself.
//!
//! The form is always checked; the value only when it can be read here
//! (see [`Secrets`](crate::Secrets)).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::diagnostic::Diagnostic;
use crate::raw::RawUpstreamAuth;
use crate::secret_ref::{SecretAt, read_secret};
use crate::snapshot::UpstreamAuth;

/// The credential, or `None` when it is wrong (errors in `out`) or its value
/// is not available here (a note in `out`).
pub(super) fn resolve(
    at: &SecretAt<'_>,
    a: &RawUpstreamAuth,
    out: &mut Vec<Diagnostic>,
) -> Option<UpstreamAuth> {
    let forms = [
        a.header.is_some() || a.value.is_some(),
        a.bearer.is_some(),
        a.basic.is_some(),
        a.query.is_some(),
    ];
    if forms.iter().filter(|f| **f).count() != 1 {
        out.push(error(
            at,
            "`upstream_auth` takes exactly one of `{header, value}`, `bearer`, `basic` or `query`",
        ));
        return None;
    }
    let mut secret = |reference: &str| read_secret(at, reference, out);
    let auth = if let Some(bearer) = &a.bearer {
        UpstreamAuth::Header {
            name: "authorization".to_owned(),
            value: format!("Bearer {}", secret(bearer)?),
        }
    } else if let Some(basic) = &a.basic {
        // Both read, so each unresolved one is reported.
        let user = secret(&basic.username);
        let password = secret(&basic.password);
        UpstreamAuth::Header {
            name: "authorization".to_owned(),
            value: format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", user?, password?))
            ),
        }
    } else if let Some(query) = &a.query {
        if !query_name(&query.name) {
            out.push(error(
                at,
                &format!("`{}` is not a plain query parameter name", query.name),
            ));
            return None;
        }
        UpstreamAuth::Query {
            name: query.name.clone(),
            value: read_secret(at, &query.value, out)?,
        }
    } else {
        header(at, a, out)?
    };
    if let UpstreamAuth::Header { value, .. } = &auth
        && http::HeaderValue::from_str(value).is_err()
    {
        out.push(error(
            at,
            "the upstream credential is not a valid header value",
        ));
        return None;
    }
    Some(auth)
}

/// `{header, value}`: any header name, its value a secret.
fn header(
    at: &SecretAt<'_>,
    a: &RawUpstreamAuth,
    out: &mut Vec<Diagnostic>,
) -> Option<UpstreamAuth> {
    let (Some(header), Some(value)) = (&a.header, &a.value) else {
        out.push(error(at, "`upstream_auth` needs both `header` and `value`"));
        return None;
    };
    let name = header.to_ascii_lowercase();
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        out.push(error(at, &format!("`{header}` is not a header name")));
        return None;
    }
    Some(UpstreamAuth::Header {
        name,
        value: read_secret(at, value, out)?,
    })
}

fn query_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn error(at: &SecretAt<'_>, message: &str) -> Diagnostic {
    Diagnostic::error_at_line(at.file, at.line, message)
}
