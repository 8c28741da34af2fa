//! `identities.yaml`: the declarative inventory, read and checked. Applying
//! it to the store is the gateway's job at start; this only says whether it
//! is valid and what it declares.

use std::collections::HashSet;

use portcullis_core::{
    Identity, IdentityKind, IdentityState, UnixTime, valid_identity_id, valid_scope,
};
use portcullis_token::ClientKey;
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::raw::{RawIdentity, RawInventory};
use crate::snapshot::{SeedIdentity, SeedKey};
use crate::source::Files;

pub(super) fn inventory(
    files: &dyn Files,
    config_file: &str,
    raw: Option<&Spanned<String>>,
    out: &mut Vec<Diagnostic>,
) -> Vec<SeedIdentity> {
    let Some(name) = raw else { return Vec::new() };
    let file = name.value.as_str();
    let text = match files.read(file) {
        Ok(t) => t,
        Err(e) => {
            out.push(Diagnostic::error_at_line(
                config_file,
                name.referenced.line(),
                format!("`identities`: cannot read `{file}`: {e}"),
            ));
            return Vec::new();
        }
    };
    let parsed: RawInventory = match serde_saphyr::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            let (line, message) = portcullis_contract::describe_yaml_error(&e);
            out.push(Diagnostic::error_at_line(file, line, message));
            return Vec::new();
        }
    };
    let mut seen = HashSet::new();
    let mut seeds = Vec::new();
    for entry in &parsed.identities {
        let before = out.iter().filter(|d| d.is_error()).count();
        let seed = identity(file, &entry.value, out);
        if !seen.insert(entry.value.id.value.clone()) {
            out.push(Diagnostic::error_at_line(
                file,
                entry.value.id.referenced.line(),
                format!("identity `{}` is declared twice", entry.value.id.value),
            ));
        }
        if out.iter().filter(|d| d.is_error()).count() == before {
            seeds.push(seed);
        }
    }
    seeds
}

fn identity(file: &str, raw: &RawIdentity, out: &mut Vec<Diagnostic>) -> SeedIdentity {
    let mut err =
        |line: u64, message: String| out.push(Diagnostic::error_at_line(file, line, message));
    if !valid_identity_id(&raw.id.value) {
        err(
            raw.id.referenced.line(),
            format!(
                "identity id `{}` must be lower-case letters, digits, `.`, `_` or `-`",
                raw.id.value
            ),
        );
    }
    let kind = raw.kind.value.parse::<IdentityKind>().unwrap_or_else(|e| {
        err(raw.kind.referenced.line(), format!("`kind`: {e}"));
        IdentityKind::Agent
    });
    let state = match &raw.state {
        Some(s) => s.value.parse::<IdentityState>().unwrap_or_else(|e| {
            err(s.referenced.line(), format!("`state`: {e}"));
            IdentityState::Suspended
        }),
        None => IdentityState::Active,
    };
    for (field, value) in [("owner", &raw.owner), ("environment", &raw.environment)] {
        if value.value.trim().is_empty() {
            err(
                value.referenced.line(),
                format!("`{field}` must not be empty"),
            );
        }
    }
    for scope in &raw.scopes {
        if !valid_scope(&scope.value) {
            err(
                scope.referenced.line(),
                format!("`{}` is not a valid scope", scope.value),
            );
        }
    }
    let expires = raw
        .expires
        .as_ref()
        .and_then(|e| match timestamp(&e.value) {
            Some(t) => Some(t),
            None => {
                err(
                    e.referenced.line(),
                    format!(
                        "`expires`: `{}` is not an RFC 3339 time like 2027-01-31T00:00:00Z",
                        e.value
                    ),
                );
                None
            }
        });
    let mut keys = Vec::new();
    for key in &raw.keys {
        let line = key.referenced.line();
        if let Err(e) = ClientKey::from_jwk(&key.value.jwk) {
            err(line, format!("key `{}`: {e}", key.value.id));
        }
        match timestamp(&key.value.expires) {
            Some(expires) => keys.push(SeedKey {
                id: key.value.id.clone(),
                jwk: key.value.jwk.clone(),
                expires,
            }),
            None => err(
                line,
                format!("key `{}`: `expires` is not an RFC 3339 time", key.value.id),
            ),
        }
    }
    SeedIdentity {
        identity: Identity {
            id: raw.id.value.clone(),
            kind,
            owner: raw.owner.value.clone(),
            environment: raw.environment.value.clone(),
            tags: raw.tags.clone(),
            scopes: raw.scopes.iter().map(|s| s.value.clone()).collect(),
            state,
            created: 0,
            expires,
            last_used: None,
        },
        keys,
    }
}

/// RFC 3339 to Unix seconds.
fn timestamp(text: &str) -> Option<UnixTime> {
    let t = humantime::parse_rfc3339(text).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}
