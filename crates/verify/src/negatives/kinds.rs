//! One function per kind of negative request, each starting from the
//! operation's valid request; [`super::family`] puts them in order.

use portcullis_contract::{Method, Operation, Param, ParamIn, ParamShape, Scalar};
use serde_json::Value;

use super::{Credential, Expect, Negative};
use crate::request::{Built, Probe, encode_segment};

/// Methods a path may be probed with; destructive ones are never forwarded
/// by the gateway when undeclared (the route stage refuses them first).
const METHODS: [Method; 5] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
];

/// Each query parameter sent, each required header, and a required body,
/// left out.
pub(super) fn missing_parameters(op: &Operation, built: &Built) -> Vec<Negative> {
    let valid = &built.probe;
    let missing = |detail: String, probe| {
        Negative::with_token(
            "missing-parameter",
            detail,
            probe,
            Expect::Refused("invalid-request"),
        )
    };
    let mut out = Vec::new();
    for (name, _) in &built.query {
        let mut probe = valid.clone();
        probe.target = without_query_param(&probe.target, name);
        out.push(missing(format!("query parameter `{name}` left out"), probe));
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
        out.push(missing(format!("header `{}` left out", param.name), probe));
    }
    if op.body.as_ref().is_some_and(|b| b.required) && valid.body.is_some() {
        let mut probe = valid.clone();
        probe.body = None;
        out.push(missing("the required body left out".into(), probe));
    }
    out
}

/// Each parameter that refuses arbitrary text, given text.
pub(super) fn wrong_types(op: &Operation, built: &Built) -> Vec<Negative> {
    op.params
        .iter()
        .filter(|p| strictly_typed(&p.shape))
        .filter_map(|param| {
            let probe = wrong_type(&built.probe, built, param)?;
            Some(Negative::with_token(
                "wrong-type",
                format!(
                    "{} parameter `{}` given text",
                    param.location.as_str(),
                    param.name
                ),
                probe,
                Expect::Refused("invalid-request"),
            ))
        })
        .collect()
}

/// The JSON body with a field its schema does not admit.
pub(super) fn unknown_field(op: &Operation, built: &Built) -> Vec<Negative> {
    let (Some(body), Some((content_type, _))) = (&built.body, &built.probe.body) else {
        return Vec::new();
    };
    let Some(extra) = with_unknown_field(op, body) else {
        return Vec::new();
    };
    let mut probe = built.probe.clone();
    probe.body = Some((content_type.clone(), extra.to_string().into_bytes()));
    vec![Negative::with_token(
        "unknown-field",
        "body with an undeclared field `unexpectedField`".into(),
        probe,
        Expect::Refused("invalid-request"),
    )]
}

/// The body under a content type the operation does not declare.
pub(super) fn wrong_content_type(op: &Operation, built: &Built) -> Vec<Negative> {
    let (Some(_), Some((_, bytes))) = (&built.body, &built.probe.body) else {
        return Vec::new();
    };
    let undeclared = ["text/plain", "application/x-www-form-urlencoded"]
        .into_iter()
        .find(|t| {
            op.body
                .as_ref()
                .is_none_or(|b| !b.media.iter().any(|m| m.media_type == *t))
        });
    let Some(other) = undeclared else {
        return Vec::new();
    };
    let mut probe = built.probe.clone();
    probe.body = Some((other.to_owned(), bytes.clone()));
    vec![Negative::with_token(
        "wrong-content-type",
        format!("body sent as `{other}`"),
        probe,
        Expect::Refused("unsupported-media-type"),
    )]
}

/// A body one byte over the gateway's limit.
pub(super) fn oversized_body(built: &Built, body_limit: u64) -> Vec<Negative> {
    let (Some(_), Some((content_type, _))) = (&built.body, &built.probe.body) else {
        return Vec::new();
    };
    let mut probe = built.probe.clone();
    let size = usize::try_from(body_limit)
        .unwrap_or(usize::MAX / 2)
        .saturating_add(1);
    probe.body = Some((content_type.clone(), oversized(size)));
    vec![Negative::with_token(
        "oversized-body",
        format!("a {size}-byte body, one over the limit"),
        probe,
        Expect::Refused("payload-too-large"),
    )]
}

/// The operation's own path, spelt as a lenient server might read it.
pub(super) fn path_tricks(valid: &Probe) -> Vec<Negative> {
    tricks(&valid.target)
        .into_iter()
        .map(|(detail, target, code)| {
            let mut probe = valid.clone();
            probe.target = target;
            Negative::with_token("path-trick", detail, probe, Expect::Refused(code))
        })
        .collect()
}

/// Each method the path does not declare.
pub(super) fn undeclared_methods(valid: &Probe, declared: &[Method]) -> Vec<Negative> {
    METHODS
        .iter()
        .filter(|m| !declared.contains(m))
        .map(|method| {
            let mut probe = valid.clone();
            probe.method = method.as_str().to_owned();
            Negative::with_token(
                "undeclared-method",
                format!("{} on a path that does not declare it", method.as_str()),
                probe,
                Expect::Refused("method-not-allowed"),
            )
        })
        .collect()
}

/// Method and URL override headers, which the gateway drops: the answer
/// must be the valid request's.
pub(super) fn override_headers(valid: &Probe) -> Vec<Negative> {
    [
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-Original-URL", "/admin"),
        ("X-Rewrite-URL", "/admin"),
    ]
    .into_iter()
    .map(|(name, value)| {
        let mut probe = valid.clone();
        probe.headers.push((name.to_owned(), value.to_owned()));
        Negative::with_token(
            "override-header",
            format!("`{name}: {value}` added"),
            probe,
            Expect::SameAsValid,
        )
    })
    .collect()
}

/// The valid request with no credential, an expired token, and (when the
/// operation needs scopes) a token without them.
pub(super) fn credentials(op: &Operation, valid: &Probe) -> Vec<Negative> {
    [
        (Credential::None, "no credential", "unauthenticated"),
        (Credential::Expired, "an expired token", "unauthenticated"),
        (
            Credential::WithoutScope,
            "a token without the operation's scopes",
            "insufficient-scope",
        ),
    ]
    .into_iter()
    .filter(|(credential, _, _)| *credential != Credential::WithoutScope || needs_scopes(op))
    .map(|(credential, detail, code)| Negative {
        kind: "credential",
        detail: detail.to_owned(),
        probe: valid.clone(),
        credential,
        expect: Expect::Refused(code),
    })
    .collect()
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

fn wrong_type(valid: &Probe, built: &Built, param: &Param) -> Option<Probe> {
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

pub(super) fn without_query_param(target: &str, name: &str) -> String {
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
pub(super) fn oversized(size: usize) -> Vec<u8> {
    let mut body = b"\"".to_vec();
    body.resize(size.saturating_sub(1).max(1), b'a');
    body.push(b'"');
    body
}

/// Spellings of the valid request's path that a lenient server might treat
/// as the same resource: each must be refused, before routing where the
/// spelling is not canonical.
fn tricks(target: &str) -> Vec<(String, String, &'static str)> {
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
