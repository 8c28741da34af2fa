//! The `delegation:` section: trusted subject-token issuers, the identities
//! that may act for people, and the bounds on exchanged tokens. Every value
//! is checked here with its line; an issuer's JWK Set file is read and must
//! hold a key Portcullis can verify with.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use portcullis_core::{valid_identity_id, valid_scope};
use portcullis_policy::ClaimType;
use portcullis_token::MAX_CHAIN;
use portcullis_token::subject::SubjectAlgorithm;
use serde_saphyr::Spanned;

use crate::delegation::{
    DEFAULT_JWKS_MAX_AGE, DEFAULT_JWKS_REFRESH, DelegationSettings, JwksSource, MappedClaim,
    ScopeMapping, SubjectIssuer, jwks_from_bytes,
};
use crate::diagnostic::Diagnostic;
use crate::duration::parse_duration;
use crate::raw::{RawClaim, RawDelegation, RawIssuer, RawScopes};
use crate::snapshot::TokenSettings;
use crate::source::Files;

const DEFAULT_MAX_CHAIN: usize = 3;
const DEFAULT_MAX_TTL: Duration = Duration::from_secs(300);

pub(super) fn delegation(
    files: &dyn Files,
    file: &str,
    raw: Option<&Spanned<RawDelegation>>,
    tokens: &TokenSettings,
    out: &mut Vec<Diagnostic>,
) -> Option<DelegationSettings> {
    let raw = raw?;
    let line = raw.referenced.line();
    let raw = &raw.value;
    let mut error = |line: u64, message: String| {
        out.push(Diagnostic::error_at_line(file, line, message));
    };
    let mut issuers = Vec::new();
    match &raw.issuers {
        Some(list) if !list.value.is_empty() => {
            let mut types: HashMap<String, ClaimType> = HashMap::new();
            for entry in &list.value {
                let checked = issuer(files, &entry.value, tokens, &mut types, &mut error);
                if let Some(checked) = checked {
                    if issuers
                        .iter()
                        .any(|i: &SubjectIssuer| i.issuer == checked.issuer)
                    {
                        error(
                            entry.value.issuer.referenced.line(),
                            format!("`delegation.issuers`: `{}` is listed twice", checked.issuer),
                        );
                    } else {
                        issuers.push(checked);
                    }
                }
            }
        }
        Some(list) => error(
            list.referenced.line(),
            "`delegation.issuers` must list at least one issuer".into(),
        ),
        None => error(
            line,
            "`delegation.issuers`: name the issuers whose tokens may be exchanged".into(),
        ),
    }
    let mut actors = Vec::new();
    match &raw.actors {
        Some(list) if !list.value.is_empty() => {
            for actor in &list.value {
                if !valid_identity_id(&actor.value) {
                    error(
                        actor.referenced.line(),
                        format!(
                            "`delegation.actors`: `{}` is not an identity id",
                            actor.value
                        ),
                    );
                } else if !actors.contains(&actor.value) {
                    actors.push(actor.value.clone());
                }
            }
        }
        Some(list) => error(
            list.referenced.line(),
            "`delegation.actors` must name at least one identity".into(),
        ),
        None => error(
            line,
            "`delegation.actors`: name the identities that may act for people".into(),
        ),
    }
    let max_chain = match &raw.max_chain {
        None => DEFAULT_MAX_CHAIN,
        Some(n) => match usize::try_from(n.value) {
            Ok(n @ 1..=MAX_CHAIN) => n,
            _ => {
                error(
                    n.referenced.line(),
                    format!("`delegation.max_chain` must be 1 to {MAX_CHAIN}"),
                );
                DEFAULT_MAX_CHAIN
            }
        },
    };
    let max_ttl = match &raw.max_ttl {
        None => DEFAULT_MAX_TTL.min(tokens.max_ttl),
        Some(t) => match parse_duration(&t.value) {
            Some(d) if d >= Duration::from_secs(1) && d <= tokens.max_ttl => d,
            _ => {
                error(
                    t.referenced.line(),
                    format!(
                        "`delegation.max_ttl` must be a duration from 1s to `tokens.max_ttl` ({}s)",
                        tokens.max_ttl.as_secs()
                    ),
                );
                DEFAULT_MAX_TTL
            }
        },
    };
    Some(DelegationSettings {
        issuers,
        actors,
        max_chain,
        max_ttl,
    })
}

fn issuer(
    files: &dyn Files,
    raw: &RawIssuer,
    tokens: &TokenSettings,
    types: &mut HashMap<String, ClaimType>,
    error: &mut dyn FnMut(u64, String),
) -> Option<SubjectIssuer> {
    let name = &raw.issuer.value;
    let at = |s: &Spanned<String>| s.referenced.line();
    let mut ok = true;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        error(
            at(&raw.issuer),
            "`issuer` must be non-empty visible ASCII".into(),
        );
        ok = false;
    } else if *name == tokens.issuer {
        error(
            at(&raw.issuer),
            format!(
                "`{name}` is this gateway's own issuer (`tokens.issuer`); its tokens are \
                 exchanged without being listed here"
            ),
        );
        ok = false;
    }
    let audience = raw.audience.value.clone();
    if audience.is_empty() {
        error(at(&raw.audience), "`audience` must not be empty".into());
        ok = false;
    }
    let jwks = jwks(files, &raw.jwks, error);
    let mut duration = |raw: &Option<Spanned<String>>, name: &str, default: Duration| match raw {
        None => default,
        Some(t) => match parse_duration(&t.value) {
            Some(d) if d >= Duration::from_secs(1) && d <= Duration::from_secs(86_400) => d,
            _ => {
                error(at(t), format!("`{name}` must be a duration from 1s to 24h"));
                ok = false;
                default
            }
        },
    };
    let jwks_refresh = duration(&raw.jwks_refresh, "jwks_refresh", DEFAULT_JWKS_REFRESH);
    // Never shorter than the refresh bound, which caps how often it is read.
    let jwks_max_age =
        duration(&raw.jwks_max_age, "jwks_max_age", DEFAULT_JWKS_MAX_AGE).max(jwks_refresh);
    let mut algorithms = Vec::new();
    for alg in &raw.algorithms.value {
        match SubjectAlgorithm::parse(&alg.value) {
            Some(a) if !algorithms.contains(&a) => algorithms.push(a),
            Some(_) => {}
            None => {
                let why = if alg.value.eq_ignore_ascii_case("none") || alg.value.starts_with("HS") {
                    "unsigned and shared-secret algorithms are never accepted"
                } else {
                    "not a signature algorithm Portcullis verifies"
                };
                let names: Vec<&str> = SubjectAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
                error(
                    at(alg),
                    format!(
                        "`algorithms`: `{}`: {why} (one of {})",
                        alg.value,
                        names.join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    if raw.algorithms.value.is_empty() {
        error(
            raw.algorithms.referenced.line(),
            "`algorithms` must pin at least one algorithm".into(),
        );
        ok = false;
    }
    let claims = match &raw.claims {
        Some(map) => claims(&map.value, types, error),
        None => Some(Vec::new()),
    };
    let scopes = scopes(raw.scopes.as_ref(), error);
    Some(SubjectIssuer {
        issuer: name.clone(),
        jwks: jwks?,
        jwks_refresh,
        jwks_max_age,
        audience,
        algorithms,
        claims: claims?,
        scopes: scopes?,
    })
    .filter(|_| ok)
}

fn jwks(
    files: &dyn Files,
    raw: &Spanned<String>,
    error: &mut dyn FnMut(u64, String),
) -> Option<JwksSource> {
    let line = raw.referenced.line();
    let text = raw.value.as_str();
    if let Some(path) = text.strip_prefix("file:") {
        let Some(base) = files.base_dir() else {
            error(
                line,
                "`jwks: file:` needs a configuration file on disk".into(),
            );
            return None;
        };
        let read = files
            .read(path)
            .map_err(|e| format!("cannot be read: {e}"))
            .and_then(|text| jwks_from_bytes(text.as_bytes()));
        return match read {
            Ok(_) => Some(JwksSource::File(base.join(path))),
            Err(e) => {
                error(line, format!("`jwks`: `{path}`: {e}"));
                None
            }
        };
    }
    if let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    {
        let host = rest.split('/').next().unwrap_or("");
        if host.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
            error(line, format!("`jwks`: `{text}` is not a URL"));
            return None;
        }
        return Some(JwksSource::Url(text.to_owned()));
    }
    let why = "write `file:PATH` or an `https://` (or `http://`) URL";
    error(line, format!("`jwks`: `{text}`: {why}"));
    None
}

fn claims(
    raw: &BTreeMap<String, Spanned<RawClaim>>,
    types: &mut HashMap<String, ClaimType>,
    error: &mut dyn FnMut(u64, String),
) -> Option<Vec<MappedClaim>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (name, entry) in raw {
        let line = entry.referenced.line();
        let (claim, ty) = match &entry.value {
            RawClaim::Name(claim) => (claim.clone(), ClaimType::String),
            RawClaim::Typed { claim, ty } => {
                let ty = match ty.as_deref() {
                    None => Some(ClaimType::String),
                    Some(t) => ClaimType::parse(t),
                };
                let Some(ty) = ty else {
                    error(
                        line,
                        format!("`claims.{name}`: `type` is one of string, long, bool, set"),
                    );
                    ok = false;
                    continue;
                };
                (claim.clone(), ty)
            }
        };
        if !attribute_name(name) {
            error(
                line,
                format!(
                    "`claims.{name}`: a `Person` attribute is a plain name (letters, digits, \
                     `_`), not `id` or `issuer`"
                ),
            );
            ok = false;
            continue;
        }
        if claim.is_empty() {
            error(line, format!("`claims.{name}`: name the token's claim"));
            ok = false;
            continue;
        }
        match types.insert(name.clone(), ty) {
            Some(before) if before != ty => {
                error(
                    line,
                    format!("`claims.{name}`: another issuer maps it with another type"),
                );
                ok = false;
            }
            _ => out.push(MappedClaim {
                name: name.clone(),
                claim,
                ty,
            }),
        }
    }
    ok.then_some(out)
}

/// A Cedar attribute name that needs no quoting, and not one `Person` has.
fn attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            name,
            "id" | "issuer" | "in" | "has" | "like" | "is" | "if" | "then" | "else"
        )
}

fn scopes(
    raw: Option<&Spanned<RawScopes>>,
    error: &mut dyn FnMut(u64, String),
) -> Option<ScopeMapping> {
    let Some(raw) = raw else {
        return Some(ScopeMapping {
            claim: "scope".to_owned(),
            map: None,
        });
    };
    let line = raw.referenced.line();
    let claim = raw
        .value
        .claim
        .clone()
        .unwrap_or_else(|| "scope".to_owned());
    if claim.is_empty() {
        error(line, "`scopes.claim` must name a claim".into());
        return None;
    }
    if let Some(map) = &raw.value.map {
        let bad: Vec<&String> = map.values().flatten().filter(|s| !valid_scope(s)).collect();
        if let Some(bad) = bad.first() {
            error(line, format!("`scopes.map`: `{bad}` is not a scope token"));
            return None;
        }
    }
    Some(ScopeMapping {
        claim,
        map: raw.value.map.clone(),
    })
}
