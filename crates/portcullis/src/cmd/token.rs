//! `portcullis token issue`: an access token for an identity, signed with
//! the gateway's own keys, under the same least-scope rules as the token
//! endpoint (only granted scopes, lifetime capped at `max_ttl`).
//! `portcullis token exchange`: the same for an identity acting for the
//! person a subject token names, under every rule of the RFC 8693 grant.
//!
//! The token is the only thing printed on stdout; it is never logged.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use portcullis_config::Config;
use portcullis_proxy::authority::{Authority, TokenIssued};

use super::identity::{Target, existing, open, rfc3339, seconds, with_authority};

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

#[derive(Debug, Args)]
pub struct ExchangeArgs {
    #[command(flatten)]
    target: Target,
    /// The identity acting (it must be in `delegation.actors`).
    #[arg(long)]
    identity: String,
    /// The subject token: a person's, from an issuer in `delegation.issuers`,
    /// or one of this gateway's own (to delegate further).
    #[arg(long = "subject-token", value_name = "TOKEN")]
    subject_token: String,
    /// A scope the token carries (repeat for more): each must be granted to
    /// the identity and allowed by the subject token.
    #[arg(long = "scope", value_name = "SCOPE", required = true)]
    scopes: Vec<String>,
    /// Lifetime (capped as the grant caps it).
    #[arg(long)]
    ttl: Option<String>,
    /// The API the token is for (default: the subject token's, or the only one).
    #[arg(long)]
    api: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue an access token and print it.
    Issue(IssueArgs),
    /// Exchange a subject token for a token acting for its person (RFC 8693).
    Exchange(ExchangeArgs),
}

pub async fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Issue(args) => {
            with_authority(&args.target.config.clone(), |config, authority| {
                issue(config, authority, &args)
            })
        }
        TokenCommand::Exchange(args) => exchange(&args).await,
    }
}

async fn exchange(args: &ExchangeArgs) -> anyhow::Result<ExitCode> {
    let Some((_, authority)) = open(&args.target.config)? else {
        return Ok(ExitCode::FAILURE);
    };
    let ttl = args
        .ttl
        .as_deref()
        .map(|t| seconds("--ttl", t))
        .transpose()?;
    let (scopes, api) = (&args.scopes, args.api.as_deref());
    let exchanged = authority.exchange_for(&args.identity, &args.subject_token, scopes, api, ttl);
    match exchanged.await {
        Ok((token, claims)) => {
            println!("{token}");
            let chain: Vec<&str> = claims.act.as_ref().map(|a| a.ids()).unwrap_or_default();
            eprintln!(
                "token for `{}` acting for `{}` (chain {}; audience `{}`, scope `{}`), expires {}",
                args.identity,
                claims.sub,
                chain.join(" <- "),
                claims.aud,
                claims.scope,
                rfc3339(claims.exp)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(TokenIssued::Refused(e)) => bail!("{}", e.description()),
        Err(e) => bail!("{e}"),
    }
}

fn issue(config: &Config, authority: &Authority, args: &IssueArgs) -> anyhow::Result<()> {
    let identity = existing(authority, &args.identity)?;
    if let Err(e) = identity.check_usable(authority.now()) {
        bail!("cannot issue a token for `{}`: {e}", args.identity);
    }
    let api = authority
        .audience(args.api.as_deref())
        .map_err(|e| anyhow::anyhow!("`--api`: {}", e.description()))?;
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
