//! One `apis` entry: name, mount, upstream, credentials, response policy,
//! timeouts, and its contract loaded and compiled.

use std::sync::Arc;
use std::time::Duration;

use portcullis_contract::canonical::check_path;
use portcullis_contract::{Contract, ParamIn};
use serde_saphyr::Spanned;

use super::Overrides;
use crate::diagnostic::{Diagnostic, Severity};
use crate::duration::parse_duration;
use crate::raw::{RawApi, RawQueryAuth, RawTimeouts};
use crate::secret_ref::{SecretAt, Secrets};
use crate::snapshot::{Api, Mode, Timeouts, Upstream};
use crate::source::Files;

/// Paths the gateway itself answers; no API may be mounted over them.
const RESERVED: &[&str] = &["/.well-known", "/oauth", "/mcp", "/admin"];

/// What the `apis` section gave. An API that failed for a reason of its own
/// (its upstream URL, its credential) keeps its contract here, so checks
/// that only need its operations (policies, rate limits) still run and do
/// not report the same root cause again.
pub(super) struct Apis {
    /// The APIs that built, for the [`crate::Config`].
    pub built: Vec<Api>,
    /// Every API's contract that loaded, failed APIs' included.
    pub contracts: Vec<Contracted>,
    /// APIs without a contract (it did not load, or the API has no usable
    /// name): what names them is skipped, not reported again.
    pub broken: Vec<String>,
}

/// An API's name and its loaded contract.
pub(super) struct Contracted {
    pub name: String,
    pub file: String,
    pub contract: Arc<Contract>,
}

impl Apis {
    /// The first API whose contract did not load, if any.
    pub fn first_broken(&self) -> Option<&str> {
        self.broken.first().map(String::as_str)
    }
}

pub(super) fn apis(
    files: &dyn Files,
    secrets: Secrets,
    file: &str,
    raw: Option<&Spanned<Vec<RawApi>>>,
    mode: Mode,
    overrides: &Overrides,
    out: &mut Vec<Diagnostic>,
) -> Apis {
    let mut apis = Apis {
        built: Vec::new(),
        contracts: Vec::new(),
        broken: Vec::new(),
    };
    let Some(raw) = raw.filter(|r| !r.value.is_empty()) else {
        out.push(Diagnostic::error_at_line(
            file,
            1,
            "`apis` must list at least one API",
        ));
        return apis;
    };
    for entry in &raw.value {
        let name = entry.name.value.as_str();
        if apis.contracts.iter().any(|c| c.name == name) || apis.broken.iter().any(|b| b == name) {
            out.push(Diagnostic::error_at_line(
                file,
                entry.name.referenced.line(),
                format!("API name `{name}` is used twice"),
            ));
            continue;
        }
        let (api, contract) = one(files, secrets, file, entry, mode, overrides, out);
        match contract {
            Some(contract) => apis.contracts.push(Contracted {
                name: name.to_owned(),
                file: entry.contract.value.clone(),
                contract,
            }),
            None => apis.broken.push(name.to_owned()),
        }
        let Some(api) = api else { continue };
        if let Some(clash) = apis.built.iter().find(|a| overlaps(&a.mount, &api.mount)) {
            out.push(Diagnostic::error_at_line(
                file,
                entry.mount.referenced.line(),
                format!(
                    "mount `{}` overlaps `{}` of API `{}`",
                    api.mount, clash.mount, clash.name
                ),
            ));
        } else {
            apis.built.push(api);
        }
    }
    apis
}

/// Two mounts overlap when one is a segment-wise prefix of the other.
fn overlaps(a: &str, b: &str) -> bool {
    let under = |long: &str, short: &str| {
        short == "/"
            || long == short
            || long
                .strip_prefix(short)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    under(a, b) || under(b, a)
}

/// One API, or `None` when it has errors (in `out`); and its contract when
/// that loaded and the API's name is usable.
fn one(
    files: &dyn Files,
    secrets: Secrets,
    file: &str,
    raw: &RawApi,
    mode: Mode,
    overrides: &Overrides,
    out: &mut Vec<Diagnostic>,
) -> (Option<Api>, Option<Arc<Contract>>) {
    let errors_before = out.iter().filter(|d| d.is_error()).count();
    let mode = super::mode(file, raw.mode.as_ref(), mode, out);
    let name = raw.name.value.clone();
    let named = valid_name(&name);
    if !named {
        out.push(Diagnostic::error_at_line(
            file,
            raw.name.referenced.line(),
            format!("API name `{name}` must be lower-case letters, digits, `-` or `_`"),
        ));
    }
    let mount = mount(file, &raw.mount, out);
    let upstream_text = overrides
        .upstreams
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, u)| u.as_str())
        .unwrap_or(&raw.upstream.value);
    let upstream = upstream(file, raw.upstream.referenced.line(), upstream_text, out);
    let upstream_auth = raw.upstream_auth.as_ref().and_then(|a| {
        let at = SecretAt {
            files,
            secrets,
            file,
            line: a.referenced.line(),
            what: "the upstream credential",
        };
        super::upstream_auth::resolve(&at, &a.value, out)
    });
    let (responses, response_headers) = super::responses::policy(raw.responses.as_ref());
    let timeouts = timeouts(file, raw.timeouts.as_ref(), out);
    let contract = contract(files, &raw.contract.value, out).map(Arc::new);
    let uniform_failures = contract
        .as_ref()
        .map(|c| {
            query_clash(file, raw, c, out);
            super::responses::uniform_failures(file, &name, raw.operations.as_ref(), c, out)
        })
        .unwrap_or_default();
    let contract = contract.filter(|_| named);
    let (Some(mount), Some(upstream), Some(loaded)) = (mount, upstream, &contract) else {
        return (None, contract);
    };
    if out.iter().filter(|d| d.is_error()).count() > errors_before {
        return (None, contract);
    }
    let api = Api {
        name,
        mode,
        mount,
        upstream,
        upstream_auth,
        forward_caller_credential: raw.forward_caller_credential,
        responses,
        response_headers,
        uniform_failures,
        timeouts,
        contract_file: raw.contract.value.clone(),
        contract: Arc::clone(loaded),
    };
    (Some(api), contract)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The contract, its warnings and errors in `out`.
fn contract(files: &dyn Files, path: &str, out: &mut Vec<Diagnostic>) -> Option<Contract> {
    match Contract::load(path, files) {
        Ok(c) => {
            out.extend(
                c.warnings()
                    .iter()
                    .map(|w| Diagnostic::from_contract(Severity::Warning, w)),
            );
            Some(c)
        }
        Err(errors) => {
            out.extend(
                errors
                    .iter()
                    .map(|e| Diagnostic::from_contract(Severity::Error, e)),
            );
            None
        }
    }
}

/// A query-parameter credential must not be a parameter of the contract:
/// the caller could otherwise send the parameter the gateway injects.
/// Judged on the configuration as written: the credential's value may be
/// unresolved here (`check` away from the gateway host).
fn query_clash(file: &str, raw: &RawApi, contract: &Contract, out: &mut Vec<Diagnostic>) {
    let query_auth = raw
        .upstream_auth
        .as_ref()
        .and_then(|a| a.value.query.as_ref());
    if let Some(RawQueryAuth { name, .. }) = query_auth
        && contract
            .operations()
            .iter()
            .any(|o| o.params_in(ParamIn::Query).any(|p| p.name == *name))
    {
        out.push(Diagnostic::error_at_line(
            file,
            raw.upstream.referenced.line(),
            format!("the upstream credential's query parameter `{name}` is also a parameter of the contract"),
        ));
    }
}

fn mount(file: &str, raw: &Spanned<String>, out: &mut Vec<Diagnostic>) -> Option<String> {
    let m = raw.value.as_str();
    let line = raw.referenced.line();
    let problem = if check_path(m.as_bytes()).is_err() {
        Some("must be a canonical path starting with `/`")
    } else if m.len() > 1 && m.ends_with('/') {
        Some("must not end with `/`")
    } else if RESERVED.iter().any(|r| overlaps(m, r)) {
        Some("overlaps a path the gateway answers itself (/.well-known, /oauth, /mcp, /admin)")
    } else {
        None
    };
    match problem {
        Some(p) => {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("mount `{m}` {p}"),
            ));
            None
        }
        None => Some(m.to_owned()),
    }
}

fn upstream(file: &str, line: u64, text: &str, out: &mut Vec<Diagnostic>) -> Option<Upstream> {
    let mut fail = |why: &str| {
        out.push(Diagnostic::error_at_line(
            file,
            line,
            format!("upstream `{text}`: {why}"),
        ));
        None
    };
    let Ok(uri) = text.parse::<http::Uri>() else {
        return fail("not a URL");
    };
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => return fail("https upstreams are not supported by this build yet"),
        _ => return fail("must start with http://"),
    }
    let Some(authority) = uri.authority() else {
        return fail("has no host");
    };
    if uri.query().is_some() {
        return fail("must not have a query string");
    }
    let base_path = uri.path().trim_end_matches('/').to_owned();
    let authority = if authority.port().is_some() {
        authority.as_str().to_owned()
    } else {
        format!("{}:80", authority.host())
    };
    Some(Upstream {
        authority,
        base_path,
    })
}

fn timeouts(file: &str, raw: Option<&RawTimeouts>, out: &mut Vec<Diagnostic>) -> Timeouts {
    let mut t = Timeouts::default();
    let Some(raw) = raw else { return t };
    for (name, value, slot) in [
        ("connect", &raw.connect, &mut t.connect),
        ("response", &raw.response, &mut t.response),
    ] {
        if let Some(v) = value {
            match parse_duration(&v.value) {
                Some(d) if d > Duration::ZERO => *slot = d,
                _ => out.push(Diagnostic::error_at_line(
                    file,
                    v.referenced.line(),
                    format!("`timeouts.{name}` must be a duration like `5s`"),
                )),
            }
        }
    }
    t
}
