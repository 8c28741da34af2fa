//! `portcullis identity add|list|show|suspend|resume|quarantine|retire|rotate`:
//! the inventory of machine identities, managed against the same store the
//! gateway uses. A running gateway notices each change on its next request.
//!
//! Secrets are printed once, on stdout, and never logged, stored or shown
//! again: `show` lists credentials without any secret material.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use portcullis_config::{Config, parse_duration};
use portcullis_core::{Identity, IdentityKind, IdentityState, SystemClock, UnixTime};
use portcullis_proxy::authority::Authority;
use portcullis_store::{Credential, CredentialKind};

mod view;

use view::{list, show};

/// A credential expiring further out than this is reported as long-lived.
const LONG_LIVED: i64 = 90 * 86_400;

/// The configuration whose store a command works on.
#[derive(Debug, Args)]
pub struct Target {
    /// The configuration file (YAML).
    #[arg(short, long)]
    pub config: PathBuf,
}

/// An identity named on the command line.
#[derive(Debug, Args)]
pub struct Named {
    #[command(flatten)]
    target: Target,
    /// The identity's id.
    id: String,
}

impl Named {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn config(&self) -> &Path {
        &self.target.config
    }
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    target: Target,
    /// Stable id: lowercase letters, digits, `.`, `_` and `-`.
    id: String,
    /// agent, service, workload or ci-job.
    #[arg(long)]
    kind: String,
    /// The person or team answerable for it.
    #[arg(long)]
    owner: String,
    /// The environment it runs in (`prod`, `staging`, ...).
    #[arg(long = "env")]
    environment: String,
    /// A scope it may ever be granted (repeat for more).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// A free-form tag (repeat for more).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// When it stops working, in RFC 3339 UTC (`2030-01-31T00:00:00Z`).
    #[arg(long)]
    expires: Option<String>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    named: Named,
    /// client-secret or api-key.
    #[arg(long, default_value = "client-secret")]
    kind: String,
    /// Lifetime of the new secret.
    #[arg(long, default_value = "90d")]
    ttl: String,
    /// How long older secrets of that kind keep working (`0`: none).
    #[arg(long, default_value = "1h")]
    overlap: String,
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Add an identity to the inventory.
    Add(AddArgs),
    /// List every identity.
    List {
        #[command(flatten)]
        target: Target,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one identity and its credentials (never secret material).
    Show {
        #[command(flatten)]
        named: Named,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Suspend an identity: refused from its next request on.
    Suspend(Named),
    /// Make an identity active again.
    Resume(Named),
    /// Quarantine an identity (refused, kept for investigation).
    Quarantine(Named),
    /// Retire an identity: refused from its next request on.
    Retire(Named),
    /// Issue a new secret; older ones of that kind keep working for the overlap.
    Rotate(RotateArgs),
    /// Hold this identity's own credential for an upstream (sealed).
    UpstreamCredential(super::upstream_credential::UpstreamCredentialArgs),
}

pub fn run(command: IdentityCommand) -> anyhow::Result<ExitCode> {
    match command {
        IdentityCommand::Add(args) => {
            with_authority(&args.target.config.clone(), |_, a| add(a, args))
        }
        IdentityCommand::List { target, json } => {
            with_authority(&target.config, |_, a| list(a, json))
        }
        IdentityCommand::Show { named, json } => {
            with_authority(&named.target.config, |_, a| show(a, &named.id, json))
        }
        IdentityCommand::Suspend(n) => change_state(&n, IdentityState::Suspended),
        IdentityCommand::Resume(n) => change_state(&n, IdentityState::Active),
        IdentityCommand::Quarantine(n) => change_state(&n, IdentityState::Quarantined),
        IdentityCommand::Retire(n) => change_state(&n, IdentityState::Retired),
        IdentityCommand::UpstreamCredential(args) => super::upstream_credential::run(&args),
        IdentityCommand::Rotate(args) => {
            with_authority(&args.named.target.config.clone(), |_, a| rotate(a, &args))
        }
    }
}

/// Loads the configuration and opens its store, then runs `f`. A
/// configuration that does not load is reported as `check` reports it.
pub fn with_authority(
    path: &Path,
    f: impl FnOnce(&Config, &Authority) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    let Some((config, authority)) = open(path)? else {
        return Ok(ExitCode::FAILURE);
    };
    f(&config, &authority)?;
    Ok(ExitCode::SUCCESS)
}

/// The configuration and its authority (the store opened to write), or
/// `None` when the configuration has errors (they are reported).
pub fn open(path: &Path) -> anyhow::Result<Option<(Config, Authority)>> {
    let Some(config) = super::load_reported(path, "the configuration has errors") else {
        return Ok(None);
    };
    let base_url = format!("http://{}", config.listen);
    let authority = Authority::open(&config, &base_url, Arc::new(SystemClock))
        .context("cannot open the identity store")?;
    Ok(Some((config, authority)))
}

/// The identity, or a clear error naming it.
pub fn existing(authority: &Authority, id: &str) -> anyhow::Result<Identity> {
    (authority.store().get_identity(id)?).with_context(|| format!("identity `{id}` does not exist"))
}

/// Parses a lifetime flag (`5m`, `1h`, `90d`) into whole seconds.
pub fn seconds(flag: &str, text: &str) -> anyhow::Result<i64> {
    match parse_duration(text).map(|d| i64::try_from(d.as_secs())) {
        Some(Ok(secs)) if secs > 0 => Ok(secs),
        _ => bail!("`{flag}`: `{text}` is not a positive duration like 5m, 1h or 90d"),
    }
}

/// A Unix time as RFC 3339 (UTC, whole seconds); one it cannot write
/// (before 1970, past 9999) as its seconds.
pub fn rfc3339(t: UnixTime) -> String {
    portcullis_core::rfc3339(t).unwrap_or_else(|| t.to_string())
}

fn add(authority: &Authority, args: AddArgs) -> anyhow::Result<()> {
    let kind: IdentityKind = args.kind.parse().context("`--kind`")?;
    if authority.store().get_identity(&args.id)?.is_some() {
        bail!("identity `{}` already exists", args.id);
    }
    let now = authority.now();
    let expires = args.expires.as_deref().map(parse_time).transpose()?;
    authority.put_identity(&Identity {
        id: args.id.clone(),
        kind,
        owner: args.owner,
        environment: args.environment,
        tags: args.tags,
        scopes: args.scopes,
        state: IdentityState::Active,
        created: now,
        expires,
        last_used: None,
    })?;
    println!("identity `{}` added ({})", args.id, kind);
    Ok(())
}

/// An `--expires` time: RFC 3339 UTC, in the future.
fn parse_time(text: &str) -> anyhow::Result<UnixTime> {
    let at = humantime::parse_rfc3339(text).ok().with_context(|| {
        format!("`--expires`: `{text}` is not an RFC 3339 UTC time like 2030-01-31T00:00:00Z")
    })?;
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) if !ahead.is_zero() => {
            let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            Ok(i64::try_from(secs).unwrap_or(i64::MAX))
        }
        _ => bail!("`--expires`: `{text}` is not in the future"),
    }
}

fn change_state(named: &Named, state: IdentityState) -> anyhow::Result<ExitCode> {
    with_authority(&named.target.config, |_, authority| {
        let before = existing(authority, &named.id)?.state;
        let by = format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        );
        authority.set_state(&named.id, state, portcullis_store::ChangedBy::who(&by))?;
        println!("identity `{}`: {before} -> {state}", named.id);
        Ok(())
    })
}

/// A new secret now; every older usable one of that kind is cut to the
/// overlap window. (Not `rotate_secret`, which copies the old lifetime: the
/// new secret gets `--ttl`, and every older secret is cut, not just one.)
fn rotate(authority: &Authority, args: &RotateArgs) -> anyhow::Result<()> {
    let id = &args.named.id;
    let kind: CredentialKind = args.kind.parse().context("`--kind`")?;
    if kind == CredentialKind::PrivateKeyJwt {
        bail!("`--kind`: a private-key-jwt credential is a registered public key, not a secret");
    }
    existing(authority, id)?;
    let overlap = match args.overlap.as_str() {
        "0" => 0,
        text => seconds("--overlap", text)?,
    };
    let now = authority.now();
    let older: Vec<Credential> = authority
        .store()
        .list_credentials(id)?
        .into_iter()
        .filter(|c| c.kind == kind && c.is_usable(now))
        .collect();
    let new = authority.create_secret(id, kind, seconds("--ttl", &args.ttl)?, None)?;
    // Shown before anything else can fail, so a created secret is never lost.
    // It is the only thing on stdout, so `$(...)` captures just it.
    println!("{}", new.secret);
    eprintln!("warning: this secret is shown only now and cannot be shown again; store it safely");
    eprintln!(
        "credential `{}` ({kind}) for `{id}`, expires {}",
        new.credential_id,
        rfc3339(new.expires)
    );
    let cut = now.saturating_add(overlap);
    for old in older.iter().filter(|c| c.expires > cut) {
        authority.store().set_credential_expiry(&old.id, cut)?;
    }
    if !older.is_empty() {
        eprintln!(
            "{} older {kind} credential(s) stop working by {}",
            older.len(),
            rfc3339(cut)
        );
    }
    Ok(())
}
