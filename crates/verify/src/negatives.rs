//! The fixed family of requests every operation must refuse, each with the
//! code the gateway must answer: a required parameter missing, a value of
//! the wrong type, an undeclared body field, the wrong content type, a body
//! over the limit, the path-trick spellings of the operation's own path,
//! each method the path does not declare, and the credential cases (none,
//! expired, lacking the scope). Method and URL override headers are not
//! refused but dropped, so the request must be answered exactly as without
//! them. Each variant starts from the operation's valid request.

use portcullis_contract::{Method, Operation, ParamIn, ParamShape, Scalar};
use serde_json::Value;

use crate::request::{Built, Probe, encode_segment};

/// What the gateway must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Refused with this code.
    Refused(&'static str),
    /// Answered as the valid request is (allowed or refused alike).
    SameAsValid,
}

/// The credential a variant is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The identity's token for the operation.
    Valid,
    /// No credential at all.
    None,
    /// A token of the identity that has expired.
    Expired,
    /// A token of the identity without the operation's scopes.
    WithoutScope,
}

/// One negative request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negative {
    /// A stable name for the kind of variant (`missing-parameter`, ...).
    pub kind: &'static str,
    /// What was changed, for a reader.
    pub detail: String,
    pub probe: Probe,
    pub credential: Credential,
    pub expect: Expect,
}

/// Methods a path may be probed with; destructive ones are never forwarded
/// by the gateway when undeclared (the route stage refuses them first).
const METHODS: [Method; 5] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
];

/// The family for `op`, from its valid request `built`. `declared` lists the
/// methods the contract declares on the same path; `body_limit` is the
/// gateway's `limits.body_bytes`.
pub fn family(
    op: &Operation,
    built: &Built,
    declared: &[Method],
    body_limit: u64,
) -> Vec<Negative> {
    let mut out = Vec::new();
    let valid = &built.probe;
    let push = |out: &mut Vec<Negative>, kind, detail: String, probe, expect| {
        out.push(Negative {
            kind,
            detail,
            probe,
            credential: Credential::Valid,
            expect,
        });
    };
    for (name, _) in &built.query {
        let mut probe = valid.clone();
        probe.target = without_query_param(&probe.target, name);
        push(
            &mut out,
            "missing-parameter",
            format!("query parameter `{name}` left out"),
            probe,
            Expect::Refused("invalid-request"),
        );
    }
    for param in op
        .params
        .iter()
        .filter(|p| p.required && p.location == ParamIn::Header)
    {
        let mut probe = valid.clone();
        probe
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(&param.name));
        push(
            &mut out,
            "missing-parameter",
            format!("header `{}` left out", param.name),
            probe,
            Expect::Refused("invalid-request"),
        );
    }
    if op.body.as_ref().is_some_and(|b| b.required) && valid.body.is_some() {
        let mut probe = valid.clone();
        probe.body = None;
        push(
            &mut out,
            "missing-parameter",
            "the required body left out".into(),
            probe,
            Expect::Refused("invalid-request"),
        );
    }
    for param in op.params.iter().filter(|p| strictly_typed(&p.shape)) {
        let Some(probe) = wrong_type(valid, built, param) else {
            continue;
        };
        push(
            &mut out,
            "wrong-type",
            format!(
                "{} parameter `{}` given text",
                param.location.as_str(),
                param.name
            ),
            probe,
            Expect::Refused("invalid-request"),
        );
    }
    if let (Some(body), Some((content_type, _))) = (&built.body, &valid.body) {
        if let Some(extra) = with_unknown_field(op, body) {
            let mut probe = valid.clone();
            probe.body = Some((content_type.clone(), extra.to_string().into_bytes()));
            push(
                &mut out,
                "unknown-field",
                "body with an undeclared field `unexpectedField`".into(),
                probe,
                Expect::Refused("invalid-request"),
            );
        }
        let undeclared = ["text/plain", "application/x-www-form-urlencoded"]
            .into_iter()
            .find(|t| {
                op.body
                    .as_ref()
                    .is_none_or(|b| !b.media.iter().any(|m| m.media_type == *t))
            });
        if let Some(other) = undeclared {
            let mut probe = valid.clone();
            probe.body = valid
                .body
                .as_ref()
                .map(|(_, bytes)| (other.to_owned(), bytes.clone()));
            push(
                &mut out,
                "wrong-content-type",
                format!("body sent as `{other}`"),
                probe,
                Expect::Refused("unsupported-media-type"),
            );
        }
        let mut probe = valid.clone();
        let size = usize::try_from(body_limit)
            .unwrap_or(usize::MAX / 2)
            .saturating_add(1);
        probe.body = Some((content_type.clone(), oversized(size)));
        push(
            &mut out,
            "oversized-body",
            format!("a {size}-byte body, one over the limit"),
            probe,
            Expect::Refused("payload-too-large"),
        );
    }
    for (detail, target, code) in path_tricks(&valid.target) {
        let mut probe = valid.clone();
        probe.target = target;
        push(&mut out, "path-trick", detail, probe, Expect::Refused(code));
    }
    for method in METHODS.iter().filter(|m| !declared.contains(m)) {
        let mut probe = valid.clone();
        probe.method = method.as_str().to_owned();
        push(
            &mut out,
            "undeclared-method",
            format!("{} on a path that does not declare it", method.as_str()),
            probe,
            Expect::Refused("method-not-allowed"),
        );
    }
    for (name, value) in [
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-Original-URL", "/admin"),
        ("X-Rewrite-URL", "/admin"),
    ] {
        let mut probe = valid.clone();
        probe.headers.push((name.to_owned(), value.to_owned()));
        push(
            &mut out,
            "override-header",
            format!("`{name}: {value}` added"),
            probe,
            Expect::SameAsValid,
        );
    }
    for (credential, detail, code) in [
        (Credential::None, "no credential", "unauthenticated"),
        (Credential::Expired, "an expired token", "unauthenticated"),
        (
            Credential::WithoutScope,
            "a token without the operation's scopes",
            "insufficient-scope",
        ),
    ] {
        if credential == Credential::WithoutScope && !needs_scopes(op) {
            continue;
        }
        out.push(Negative {
            kind: "credential",
            detail: detail.to_owned(),
            probe: valid.clone(),
            credential,
            expect: Expect::Refused(code),
        });
    }
    out
}

/// Whether every security requirement of `op` names at least one scope
/// (else a token without scopes could be enough).
fn needs_scopes(op: &Operation) -> bool {
    !op.security.is_empty()
        && op
            .security
            .iter()
            .all(|requirement| requirement.iter().any(|(_, scopes)| !scopes.is_empty()))
}

/// A parameter whose every admitted type refuses arbitrary text.
fn strictly_typed(shape: &ParamShape) -> bool {
    let scalars = match shape {
        ParamShape::Scalar(s) => s,
        ParamShape::Array { items, .. } => items,
    };
    !scalars.is_empty() && !scalars.contains(&Scalar::String)
}

fn wrong_type(valid: &Probe, built: &Built, param: &portcullis_contract::Param) -> Option<Probe> {
    const TEXT: &str = "not-a-number";
    let mut probe = valid.clone();
    match param.location {
        ParamIn::Path => {
            let (_, value) = built.path_values.iter().find(|(n, _)| *n == param.name)?;
            let encoded = format!("/{}", encode_segment(value));
            let at = probe.target.rfind(&encoded)?;
            probe
                .target
                .replace_range(at..at + encoded.len(), &format!("/{TEXT}"));
        }
        ParamIn::Query => {
            let rest = without_query_param(&probe.target, &param.name);
            let sep = if rest.contains('?') { '&' } else { '?' };
            probe.target = format!("{rest}{sep}{}={TEXT}", param.name);
        }
        ParamIn::Header => {
            probe
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(&param.name));
            probe.headers.push((param.name.clone(), TEXT.to_owned()));
        }
    }
    Some(probe)
}

fn without_query_param(target: &str, name: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some(name))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// The body with one more property, when the operation's schema refuses it
/// (a body schema open to extra properties has no such negative).
fn with_unknown_field(op: &Operation, body: &Value) -> Option<Value> {
    let Value::Object(fields) = body else {
        return None;
    };
    let mut extra = fields.clone();
    extra.insert("unexpectedField".into(), Value::from(1));
    let extra = Value::Object(extra);
    let schema = op
        .body
        .as_ref()?
        .media
        .iter()
        .find(|m| m.json)?
        .schema
        .as_ref()?;
    schema.validate(&extra, "").is_err().then_some(extra)
}

/// A JSON document of exactly `size` bytes.
fn oversized(size: usize) -> Vec<u8> {
    let mut body = b"\"".to_vec();
    body.resize(size.saturating_sub(1).max(1), b'a');
    body.push(b'"');
    body
}

/// Spellings of the valid request's path that a lenient server might treat
/// as the same resource: each must be refused, before routing where the
/// spelling is not canonical.
fn path_tricks(target: &str) -> Vec<(String, String, &'static str)> {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (target, String::new()),
    };
    let Some(last) = path.rfind('/') else {
        return Vec::new();
    };
    let (head, tail) = path.split_at(last);
    let tail = tail.strip_prefix('/').unwrap_or(tail);
    // A trailing `/` is a canonical path, just not a declared one.
    let tricks = [
        (
            "a `.` segment",
            format!("{head}/./{tail}"),
            "ambiguous-path",
        ),
        (
            "a `..` segment",
            format!("{head}/x/../{tail}"),
            "ambiguous-path",
        ),
        (
            "an empty segment",
            format!("{head}//{tail}"),
            "ambiguous-path",
        ),
        (
            "an encoded `/`",
            format!("{head}%2F{tail}"),
            "ambiguous-path",
        ),
        (
            "an encoded `.` segment",
            format!("{head}/%2e/{tail}"),
            "ambiguous-path",
        ),
        (
            "a `;` parameter",
            format!("{path}%3Bjsessionid=1"),
            "ambiguous-path",
        ),
        (
            "an encoded backslash",
            format!("{head}%5C{tail}"),
            "ambiguous-path",
        ),
        ("a trailing `/`", format!("{path}/"), "undeclared-route"),
    ];
    tricks
        .into_iter()
        .map(|(what, p, code)| (format!("the path with {what}"), format!("{p}{query}"), code))
        .collect()
}

#[cfg(test)]
mod tests;
