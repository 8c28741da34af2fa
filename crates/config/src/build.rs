//! Raw configuration to a validated [`Config`]: every value checked, every
//! contract loaded, every problem reported at once.

use std::net::SocketAddr;
use std::path::Path;

use serde_saphyr::Spanned;

use crate::delegation::DelegationSettings;
use crate::diagnostic::Diagnostic;
use crate::duration::parse_duration;
use crate::raw::{RawConfig, RawLimits};
use crate::secret_ref::Secrets;
use crate::snapshot::{Config, Limits, Mode};
use crate::source::{Disk, Files};

mod api;
mod audit;
mod delegation;
mod identities;
mod policies;
mod rate_limits;
mod responses;
mod service;
mod upstream_auth;
mod watch;

/// Values that replace the file's, for the demo and tests.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    /// Replaces `storage` (the demo keeps everything in memory).
    pub storage: Option<crate::snapshot::Storage>,
    /// Replaces `admin.listen` when the file has an admin section.
    pub admin: Option<SocketAddr>,
    /// Replaces `sealing_key` (the demo makes one per run).
    pub sealing_key: Option<crate::snapshot::SecretText>,
    /// (api name, upstream URL)
    pub upstreams: Vec<(String, String)>,
}

/// A loaded configuration and its warnings, or every problem found.
pub type Loaded = Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>>;

/// Loads the configuration file at `path`; relative paths in it are read from
/// its folder. On success also returns the warnings found.
pub fn load(path: &Path, overrides: &Overrides) -> Loaded {
    load_traced(path, overrides).0
}

/// [`load`], and every file and folder the load read, whether it succeeded
/// or not, by absolute path: what a reload watches.
pub fn load_traced(path: &Path, overrides: &Overrides) -> (Loaded, crate::Inputs) {
    // Resolved against the working directory once, here: every path the
    // configuration leads to (contracts, policies, the store, the ledger) is
    // then absolute, as a file watcher reports the paths it sees. The folder
    // of a bare `-c portcullis.yaml` is otherwise `""`, which names nothing a
    // watcher can report.
    let (disk, name) = folder_and_name(path);
    let recording = crate::inputs::Recording::new(&disk);
    let loaded = load_from(&recording, &name, overrides);
    (loaded, recording.into_inputs())
}

/// Loads the configuration named `name` from `files`, every secret resolved.
pub fn load_from(
    files: &dyn Files,
    name: &str,
    overrides: &Overrides,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_with(files, name, overrides, Secrets::Resolve)
}

/// Loads the configuration file at `path` as `check` does: secrets are
/// resolved as `secrets` says, so a configuration can be checked away from
/// the host that holds them. Never the way to start a gateway: a
/// [`Secrets::IfPresent`] load may leave a credential out.
pub fn load_for_check(path: &Path, secrets: Secrets) -> Loaded {
    let (disk, name) = folder_and_name(path);
    load_with(&disk, &name, &Overrides::default(), secrets)
}

/// The configuration file's folder (absolute) to read from, and its name.
fn folder_and_name(path: &Path) -> (Disk, String) {
    let path = crate::inputs::absolute(path);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (Disk::new(dir), name)
}

/// The configuration file's text as written, or why it cannot be read.
fn read_raw(files: &dyn Files, name: &str) -> Result<RawConfig, Vec<Diagnostic>> {
    let text = files.read(name).map_err(|e| {
        vec![Diagnostic::error_at_line(
            name,
            0,
            format!("cannot read: {e}"),
        )]
    })?;
    serde_saphyr::from_str(&text).map_err(|e| {
        let (line, message) = portcullis_contract::describe_yaml_error(&e);
        vec![Diagnostic::error_at_line(name, line, message)]
    })
}

fn load_with(files: &dyn Files, name: &str, overrides: &Overrides, secrets: Secrets) -> Loaded {
    let digesting = crate::digest::Digesting::new(files);
    let files: &dyn Files = &digesting;
    let raw = read_raw(files, name)?;
    let mut out = Vec::new();
    let listen = match overrides.listen {
        Some(addr) => addr,
        None => listen(name, raw.listen.as_ref(), &mut out),
    };
    let mode = mode(name, raw.mode.as_ref(), Mode::Enforce, &mut out);
    let limits = limits(name, raw.limits.as_ref(), &mut out);
    // One root cause, one error: what depends on an API (policies, rate
    // limits) is checked against every contract that loaded, failed APIs'
    // included, and skipped where it names an API without one.
    let apis = api::apis(
        files,
        secrets,
        name,
        raw.apis.as_ref(),
        mode,
        overrides,
        &mut out,
    );
    let tokens = service::tokens(name, raw.tokens.as_ref(), &mut out);
    let delegation =
        delegation::delegation(files, name, raw.delegation.as_ref(), &tokens, &mut out);
    let person = delegation
        .as_ref()
        .map(DelegationSettings::person_attrs)
        .unwrap_or_default();
    let policies = policies::load(files, name, raw.policies.as_ref(), &apis, &person, &mut out);
    let storage = match &overrides.storage {
        Some(s) => s.clone(),
        None => service::storage(files, secrets, name, raw.storage.as_ref(), &mut out),
    };
    let identities = identities::inventory(files, name, raw.identities.as_ref(), &mut out);
    let audit = audit::audit(files, name, raw.audit.as_ref(), &storage, &mut out);
    let rate_limits = rate_limits::rate_limits(
        files,
        secrets,
        name,
        raw.rate_limits.as_ref(),
        &apis,
        &mut out,
    );
    let admin = service::admin(name, raw.admin.as_ref(), listen, &mut out)
        .map(|a| overrides.admin.unwrap_or(a));
    let verify_report = service::verify_report(files, name, raw.admin.as_ref(), &mut out);
    let sealing_key = match &overrides.sealing_key {
        Some(key) => Some(key.clone()),
        None => service::sealing_key(files, secrets, name, raw.sealing_key.as_ref(), &mut out),
    };
    let accept = crate::accept::acceptances(name, raw.accept.as_ref(), &mut out);
    let mcp = service::mcp(name, raw.mcp.as_ref(), &mut out);
    let watch = watch::watch(name, raw.watch.as_ref(), &mut out);
    let fleet = service::fleet(name, raw.fleet.as_ref(), &mut out);
    let Some(policies) = policies.filter(|_| !out.iter().any(Diagnostic::is_error)) else {
        return Err(out);
    };
    Ok((
        Config {
            listen,
            mode,
            apis: apis.built,
            policies,
            audit,
            limits,
            rate_limits,
            storage,
            identities,
            tokens,
            delegation,
            admin,
            verify_report,
            sealing_key,
            accept,
            mcp,
            watch,
            fleet,
            node: None,
            digest: digesting.finish(),
        },
        out,
    ))
}

fn listen(file: &str, value: Option<&Spanned<String>>, out: &mut Vec<Diagnostic>) -> SocketAddr {
    let default = SocketAddr::from(([127, 0, 0, 1], 8080));
    let Some(v) = value else { return default };
    v.value.parse().unwrap_or_else(|_| {
        out.push(Diagnostic::error_at_line(
            file,
            v.referenced.line(),
            format!(
                "`listen`: `{}` is not an address like 127.0.0.1:8080",
                v.value
            ),
        ));
        default
    })
}

/// `mode` as written, or `default` when absent.
pub(crate) fn mode(
    file: &str,
    value: Option<&Spanned<String>>,
    default: Mode,
    out: &mut Vec<Diagnostic>,
) -> Mode {
    match value.map(|v| (v.value.as_str(), v.referenced.line())) {
        None => default,
        Some(("enforce", _)) => Mode::Enforce,
        Some(("observe", line)) => {
            out.push(Diagnostic {
                severity: crate::diagnostic::Severity::Warning,
                file: file.to_owned(),
                line: (line > 0).then_some(line),
                pointer: None,
                message: "`mode: observe`: nothing is refused; requests that would be are \
                          recorded and forwarded with the upstream credential (for rollouts only)"
                    .to_owned(),
            });
            Mode::Observe
        }
        Some((other, line)) => {
            out.push(Diagnostic::error_at_line(
                file,
                line,
                format!("`mode` must be `enforce` or `observe`, not `{other}`"),
            ));
            Mode::Enforce
        }
    }
}

fn limits(file: &str, raw: Option<&RawLimits>, out: &mut Vec<Diagnostic>) -> Limits {
    let mut limits = Limits::default();
    let Some(raw) = raw else { return limits };
    let mut bounded = |name: &str, v: &Option<Spanned<u64>>, min: u64, max: u64, slot: &mut u64| {
        if let Some(v) = v {
            if (min..=max).contains(&v.value) {
                *slot = v.value;
            } else {
                out.push(Diagnostic::error_at_line(
                    file,
                    v.referenced.line(),
                    format!("`limits.{name}` must be between {min} and {max}"),
                ));
            }
        }
    };
    bounded(
        "body_bytes",
        &raw.body_bytes,
        0,
        1 << 30,
        &mut limits.body_bytes,
    );
    bounded(
        "header_bytes",
        &raw.header_bytes,
        1024,
        1 << 20,
        &mut limits.header_bytes,
    );
    bounded(
        "response_bytes",
        &raw.response_bytes,
        1024,
        1 << 30,
        &mut limits.response_bytes,
    );
    let mut depth = limits.json_depth as u64;
    // serde_json stops at 128 levels on its own; the limit must bite first.
    bounded("json_depth", &raw.json_depth, 1, 120, &mut depth);
    limits.json_depth = usize::try_from(depth).unwrap_or(32);
    if let Some(t) = &raw.request_timeout {
        match parse_duration(&t.value) {
            Some(d) if !d.is_zero() => limits.request_timeout = d,
            _ => out.push(Diagnostic::error_at_line(
                file,
                t.referenced.line(),
                "`limits.request_timeout` must be a duration like `30s`",
            )),
        }
    }
    limits
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod watch_tests;
