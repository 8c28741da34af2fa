//! `portcullis verify`: prove enforcement on every reachable path.
//!
//! Three modes:
//! - with neither URL, **coverage**: what `check` knows, with the operation
//!   × identity matrix the policies imply;
//! - `--gateway URL`: **conformance**, every operation × identity through
//!   the gateway, compared with what the configuration says, then each
//!   operation's negative family (see `conform`);
//! - `--discover --upstream URL`: **discovery**, routes the upstream
//!   answers that the contract does not declare (see `discover`).

use std::path::PathBuf;
use std::process::ExitCode;

use portcullis_config::{Overrides, load};
use portcullis_contract::secrets::SecretScanner;
use portcullis_verify::discover::{Declared, Risk};

mod conform;
mod discover;
mod wire;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The configuration file (YAML): contracts, policies, identities.
    #[arg(short, long)]
    config: PathBuf,
    /// Probe the upstream (`--upstream`) for routes the contract does not declare.
    #[arg(long)]
    discover: bool,
    /// The upstream to probe, `http://host:port[/base]`.
    #[arg(long)]
    upstream: Option<String>,
    /// A gateway to check against the configuration, `http://host:port`.
    #[arg(long)]
    gateway: Option<String>,
    /// Which API of the configuration the upstream serves (needed when it has several).
    #[arg(long)]
    api: Option<String>,
    /// Also send write methods (POST, PUT, PATCH, DELETE): to undeclared
    /// routes with --discover, and write operations with --gateway.
    #[arg(long)]
    allow_writes: bool,
    /// At most this many requests to the upstream.
    #[arg(long, default_value_t = 500)]
    max_requests: usize,
    /// At most this many requests a second.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Exit 1 when a discovered route is at least this risky: answers,
    /// server-error, returns-data, accepts-writes, reveals-secret.
    #[arg(long, default_value = "returns-data")]
    fail_on: String,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Exit code for a wrong question or an unreachable target.
const USAGE: u8 = 2;

pub async fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    if let Some(gateway) = &args.gateway {
        return conformance(args, gateway).await;
    }
    if !args.discover {
        if args.upstream.is_some() {
            eprintln!("verify: --upstream is for --discover");
            return Ok(ExitCode::from(USAGE));
        }
        return super::check::run(&super::check::CheckArgs::new(
            args.config.clone(),
            args.json,
        ));
    }
    let Some(upstream) = &args.upstream else {
        eprintln!("verify: --discover needs --upstream URL (the API itself, not the gateway)");
        return Ok(ExitCode::from(USAGE));
    };
    let Some(fail_on) = Risk::parse(&args.fail_on) else {
        eprintln!(
            "verify: --fail-on must be answers, server-error, returns-data, accepts-writes or reveals-secret"
        );
        return Ok(ExitCode::from(USAGE));
    };
    let target = match wire::Target::parse(upstream) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("verify: {e}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let config = match load(&args.config, &Overrides::default()) {
        Ok((config, _)) => config,
        Err(diagnostics) => {
            super::report(&diagnostics);
            eprintln!("{}: the configuration has errors", args.config.display());
            return Ok(ExitCode::from(USAGE));
        }
    };
    let api = match (&args.api, config.apis.as_slice()) {
        (Some(name), apis) => apis.iter().find(|a| &a.name == name),
        (None, [only]) => Some(only),
        (None, _) => None,
    };
    let Some(api) = api else {
        let names: Vec<&str> = config.apis.iter().map(|a| a.name.as_str()).collect();
        eprintln!(
            "verify: name the API the upstream serves with --api ({})",
            names.join(", ")
        );
        return Ok(ExitCode::from(USAGE));
    };
    let mut by_path: std::collections::BTreeMap<String, Vec<_>> = Default::default();
    for op in api.contract.operations() {
        by_path.entry(op.path.clone()).or_default().push(op.method);
    }
    let declared: Vec<Declared> = by_path
        .into_iter()
        .map(|(template, methods)| Declared { template, methods })
        .collect();
    let limits = discover::Limits {
        max_requests: args.max_requests,
        rate: args.rate,
        allow_writes: args.allow_writes,
    };
    let scanner = SecretScanner::builtin()?;
    let report = match discover::run(&target, &declared, &limits, &scanner).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("verify: the upstream cannot be reached: {e}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        discover::print(&report, upstream);
    }
    Ok(if report.worst().is_some_and(|w| w >= fail_on) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn conformance(args: &VerifyArgs, gateway: &str) -> anyhow::Result<ExitCode> {
    if args.discover {
        eprintln!("verify: --discover probes an upstream; run it separately from --gateway");
        return Ok(ExitCode::from(USAGE));
    }
    let target = match wire::Target::parse(gateway) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("verify: {e}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let loaded = (
        load(&args.config, &Overrides::default()),
        load(&args.config, &Overrides::default()),
    );
    let (config, snapshot_config) = match loaded {
        (Ok((a, _)), Ok((b, _))) => (a, b),
        (Err(diagnostics), _) | (_, Err(diagnostics)) => {
            super::report(&diagnostics);
            eprintln!("{}: the configuration has errors", args.config.display());
            return Ok(ExitCode::from(USAGE));
        }
    };
    let report = match conform::run(&config, snapshot_config, &target, args.allow_writes).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("verify: {e:#}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        conform::print(&report, gateway);
    }
    Ok(if report.mismatches().next().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
