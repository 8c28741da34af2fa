//! The gateway's own services: storage, the token service, the admin
//! listener, the sealing key.

use std::net::SocketAddr;
use std::time::Duration;

use portcullis_store::StorageLocation;
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::duration::parse_duration;
use crate::raw::{RawAdmin, RawFleet, RawTokens};
use crate::secret_ref::{SecretAt, Secrets, read_secret};
use crate::snapshot::{FleetSettings, SecretText, Storage, TokenSettings};
use crate::source::Files;

/// Default storage, relative to the configuration file.
const DEFAULT_STORAGE: &str = "sqlite://portcullis.db";

/// `storage:`, written as a URL or, since a PostgreSQL URL may hold a
/// password, as `env:NAME` or `file:PATH` naming one.
pub(super) fn storage(
    files: &dyn Files,
    secrets: Secrets,
    file: &str,
    raw: Option<&Spanned<String>>,
    out: &mut Vec<Diagnostic>,
) -> Storage {
    let (text, line) = raw.map_or((DEFAULT_STORAGE, 0), |s| {
        (s.value.as_str(), s.referenced.line())
    });
    let resolved;
    let text = if is_reference(text) {
        let at = SecretAt {
            files,
            secrets,
            file,
            line,
            what: "the storage URL",
        };
        let Some(value) = read_secret(&at, text, out) else {
            // Not here (a `check` away from the host): nothing to open.
            return Storage::Memory;
        };
        resolved = value;
        resolved.as_str()
    } else {
        text
    };
    match StorageLocation::parse(text) {
        Ok(location) => match (files.base_dir(), location) {
            (Some(base), location) => match location.resolve(base) {
                StorageLocation::Sqlite(path) => Storage::Sqlite(path),
                StorageLocation::Postgres(url) => Storage::Postgres(url),
                _ => {
                    out.push(Diagnostic::error_at_line(
                        file,
                        line,
                        "`storage`: not available in this build",
                    ));
                    Storage::Memory
                }
            },
            (None, _) => {
                out.push(Diagnostic::error_at_line(
                    file,
                    line,
                    "storage needs a configuration file on disk",
                ));
                Storage::Memory
            }
        },
        Err(e) => {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("`storage`: {e}"),
            ));
            Storage::Memory
        }
    }
}

pub(super) fn tokens(
    file: &str,
    raw: Option<&Spanned<RawTokens>>,
    out: &mut Vec<Diagnostic>,
) -> TokenSettings {
    let mut t = TokenSettings::default();
    let Some(raw) = raw else { return t };
    if let Some(issuer) = &raw.value.issuer {
        if issuer.value.is_empty() || !issuer.value.bytes().all(|b| b.is_ascii_graphic()) {
            out.push(Diagnostic::error_at_line(
                file,
                issuer.referenced.line(),
                "`tokens.issuer` must be non-empty visible ASCII",
            ));
        } else {
            t.issuer = issuer.value.clone();
        }
    }
    let mut duration = |name: &str,
                        v: &Option<Spanned<String>>,
                        min: Duration,
                        max: Duration,
                        slot: &mut Duration| {
        if let Some(v) = v {
            match parse_duration(&v.value) {
                Some(d) if d >= min && d <= max => *slot = d,
                _ => out.push(Diagnostic::error_at_line(
                    file,
                    v.referenced.line(),
                    format!(
                        "`tokens.{name}` must be a duration between {}s and {}s",
                        min.as_secs(),
                        max.as_secs()
                    ),
                )),
            }
        }
    };
    duration(
        "default_ttl",
        &raw.value.default_ttl,
        Duration::from_secs(1),
        Duration::from_secs(86_400),
        &mut t.default_ttl,
    );
    duration(
        "max_ttl",
        &raw.value.max_ttl,
        Duration::from_secs(1),
        Duration::from_secs(86_400),
        &mut t.max_ttl,
    );
    duration(
        "leeway",
        &raw.value.leeway,
        Duration::ZERO,
        Duration::from_secs(120),
        &mut t.leeway,
    );
    if let Some(failed) = &raw.value.failed_auth {
        let mut rate = |name: &str, v: &Option<Spanned<String>>, slot: &mut crate::Rate| {
            let Some(v) = v else { return };
            // The count is also the burst: that many failures at once, then the average.
            match super::rate_limits::parse_rate(&v.value, None) {
                Ok(r) => {
                    *slot = crate::Rate {
                        burst: r.count,
                        ..r
                    }
                }
                Err(why) => out.push(Diagnostic::error_at_line(
                    file,
                    v.referenced.line(),
                    format!("`tokens.failed_auth.{name}`: {why}"),
                )),
            }
        };
        rate(
            "per_client",
            &failed.per_client,
            &mut t.failed_auth.per_client,
        );
        rate(
            "per_address",
            &failed.per_address,
            &mut t.failed_auth.per_address,
        );
    }
    if t.default_ttl > t.max_ttl {
        out.push(Diagnostic::error_at_line(
            file,
            raw.referenced.line(),
            "`tokens.default_ttl` is longer than `tokens.max_ttl`",
        ));
    }
    t
}

pub(super) fn admin(
    file: &str,
    raw: Option<&Spanned<RawAdmin>>,
    gateway: SocketAddr,
    out: &mut Vec<Diagnostic>,
) -> Option<SocketAddr> {
    let raw = raw?;
    let listen = &raw.value.listen;
    match listen.value.parse::<SocketAddr>() {
        Ok(addr) if addr == gateway && addr.port() != 0 => {
            out.push(Diagnostic::error_at_line(
                file,
                listen.referenced.line(),
                "the admin listener must not share the gateway's address",
            ));
            None
        }
        Ok(addr) => Some(addr),
        Err(_) => {
            out.push(Diagnostic::error_at_line(
                file,
                listen.referenced.line(),
                format!(
                    "`admin.listen`: `{}` is not an address like 127.0.0.1:8081",
                    listen.value
                ),
            ));
            None
        }
    }
}

/// `admin.verify_report`: a path, relative to the configuration's folder;
/// nothing is read here (verify may not have written it yet).
pub(super) fn verify_report(
    files: &dyn Files,
    file: &str,
    raw: Option<&Spanned<RawAdmin>>,
    out: &mut Vec<Diagnostic>,
) -> Option<std::path::PathBuf> {
    let given = raw?.value.verify_report.as_ref()?;
    let path = std::path::Path::new(&given.value);
    if given.value.trim().is_empty() {
        out.push(Diagnostic::error_at_line(
            file,
            given.referenced.line(),
            "`admin.verify_report` is empty: name the file `portcullis verify --report-json` writes",
        ));
        return None;
    }
    if path.is_absolute() {
        return Some(path.to_path_buf());
    }
    match files.base_dir() {
        Some(base) => Some(base.join(path)),
        None => {
            out.push(Diagnostic::error_at_line(
                file,
                given.referenced.line(),
                "`admin.verify_report` must be an absolute path in a configuration that is not read from a folder",
            ));
            None
        }
    }
}

/// `sealing_key`: base64 of 32 bytes, read through its secret reference.
pub(super) fn sealing_key(
    files: &dyn Files,
    secrets: Secrets,
    file: &str,
    raw: Option<&Spanned<String>>,
    out: &mut Vec<Diagnostic>,
) -> Option<SecretText> {
    let raw = raw?;
    let at = SecretAt {
        files,
        secrets,
        file,
        line: raw.referenced.line(),
        what: "the sealing key",
    };
    let value = read_secret(&at, &raw.value, out)?;
    if portcullis_token::SealingKey::from_base64(&value).is_err() {
        out.push(Diagnostic::error_at_line(
            at.file,
            at.line,
            "`sealing_key` must be base64 of 32 random bytes",
        ));
        return None;
    }
    Some(SecretText::new(value))
}

/// `mcp:`: each allowed origin must be `http(s)://host[:port]`, nothing more
/// (a path or a trailing slash would never equal a browser's `Origin`).
pub(super) fn mcp(
    file: &str,
    raw: Option<&Spanned<crate::raw::RawMcp>>,
    out: &mut Vec<Diagnostic>,
) -> crate::McpSettings {
    let origins = raw.and_then(|r| r.value.allowed_origins.as_ref());
    let mut allowed_origins = Vec::new();
    for origin in origins.into_iter().flatten() {
        let text = origin.value.trim().to_ascii_lowercase();
        let host = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"));
        let well_formed = host.is_some_and(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        });
        if well_formed {
            allowed_origins.push(text);
        } else {
            out.push(Diagnostic::error_at_line(
                file,
                origin.referenced.line(),
                format!(
                    "`mcp.allowed_origins`: `{}` is not an origin like https://agent.example.com or http://localhost:6274",
                    origin.value
                ),
            ));
        }
    }
    crate::McpSettings { allowed_origins }
}

/// `fleet:`. `stale_after` between 1 s (the change feed polls every
/// 500 ms, so less would refuse on a healthy store) and 5 minutes.
pub(super) fn fleet(
    file: &str,
    raw: Option<&Spanned<RawFleet>>,
    out: &mut Vec<Diagnostic>,
) -> FleetSettings {
    let mut fleet = FleetSettings::default();
    if let Some(v) = raw.and_then(|r| r.value.stale_after.as_ref()) {
        match parse_duration(&v.value) {
            Some(d) if d >= Duration::from_secs(1) && d <= Duration::from_secs(300) => {
                fleet.stale_after = d;
            }
            _ => out.push(Diagnostic::error_at_line(
                file,
                v.referenced.line(),
                "`fleet.stale_after` must be a duration between 1s and 300s",
            )),
        }
    }
    fleet
}

/// Whether a value names where it is (`env:NAME`, `file:PATH`) rather than
/// being it.
pub(super) fn is_reference(text: &str) -> bool {
    text.starts_with("env:") || text.starts_with("file:")
}
