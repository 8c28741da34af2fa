//! `portcullis token issue`: an access token for an identity, signed with
//! the gateway's own keys, under the same least-scope rules as the token
//! endpoint (only granted scopes, lifetime capped at `max_ttl`).
//!
//! The token is the only thing printed on stdout; it is never logged.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use portcullis_config::Config;
use portcullis_proxy::authority::Authority;

use super::identity::{Target, existing, rfc3339, seconds, with_authority};

#[derive(Debug, Args)]
pub struct IssueArgs {
    #[command(flatten)]
    target: Target,
    /// The identity the token is for.
    #[arg(long)]
    identity: String,
    /// A scope the token carries (repeat for more); each must be granted.
    #[arg(long = "scope", value_name = "SCOPE", required = true)]
    scopes: Vec<String>,
    /// Lifetime (default: the configuration's `default_ttl`; capped at `max_ttl`).
    #[arg(long)]
    ttl: Option<String>,
    /// The API the token is for (default: the only one configured).
    #[arg(long)]
    api: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue an access token and print it.
    Issue(IssueArgs),
}

pub fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Issue(args) => {
            with_authority(&args.target.config.clone(), |config, authority| {
                issue(config, authority, &args)
            })
        }
    }
}

fn issue(config: &Config, authority: &Authority, args: &IssueArgs) -> anyhow::Result<()> {
    let identity = existing(authority, &args.identity)?;
    if let Err(e) = identity.check_usable(authority.now()) {
        bail!("cannot issue a token for `{}`: {e}", args.identity);
    }
    let api = match (&args.api, config.apis.as_slice()) {
        (Some(api), _) => api.clone(),
        (None, [only]) => only.name.clone(),
        (None, apis) => {
            let names: Vec<&str> = apis.iter().map(|a| a.name.as_str()).collect();
            bail!(
                "the configuration has {} APIs: name one with `--api` ({})",
                apis.len(),
                names.join(", ")
            );
        }
    };
    let max = i64::try_from(config.tokens.max_ttl.as_secs()).unwrap_or(i64::MAX);
    let ttl = match &args.ttl {
        Some(text) => seconds("--ttl", text)?,
        None => i64::try_from(config.tokens.default_ttl.as_secs()).unwrap_or(max),
    };
    let (token, claims) = authority.issue_for(&args.identity, &args.scopes, ttl, &api)?;
    println!("{token}");
    if ttl > max {
        eprintln!("note: lifetime capped at the configured `max_ttl` ({max}s)");
    }
    eprintln!(
        "token for `{}` (audience `{}`, scope `{}`), expires {}",
        claims.sub,
        claims.aud,
        claims.scope,
        rfc3339(claims.exp)
    );
    Ok(())
}
