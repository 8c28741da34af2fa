//! `portcullis verify`: prove enforcement on every reachable path.
//!
//! Three parts, each asked for by a flag, all reported together:
//! - always, **coverage**: what `check` knows, with the operation ×
//!   identity matrix the policies imply;
//! - `--discover --upstream URL`: **discovery**, routes the upstream
//!   answers that the contract does not declare (see `discover`);
//! - `--gateway URL`: **conformance**, every operation × identity through
//!   the gateway, compared with what the configuration says, then each
//!   operation's negative family, then (with discovery) each undeclared
//!   route the upstream answers, which the gateway must refuse (see
//!   `conform`).
//!
//! Output is text, JSON, SARIF or JUnit (`--format`), and `--report` writes
//! a self-contained HTML page besides (see `report`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use portcullis_config::{Config, Overrides, TestIdentity, load, load_test_identities};
use portcullis_contract::secrets::SecretScanner;
use portcullis_verify::discover::{Declared, Risk};

mod conform;
mod discover;
mod progress;
mod report;
mod wire;

use progress::Progress;
use report::Verification;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
}

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
    /// The identities to check the gateway as (YAML: `identities: [{id,
    /// client_secret, scopes}]`); default: the configuration's inventory.
    #[arg(long)]
    identities: Option<PathBuf>,
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
    /// server-error, returns-data, accepts-writes, reveals-secret; or never.
    #[arg(long, default_value = "returns-data")]
    fail_on: String,
    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Also write a self-contained HTML report to this file.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

/// Exit code for a wrong question or an unreachable target.
const USAGE: u8 = 2;

fn usage(message: &str) -> ExitCode {
    eprintln!("verify: {message}");
    ExitCode::from(USAGE)
}

pub async fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if args.upstream.is_some() && !args.discover {
        return Ok(usage("--upstream is for --discover"));
    }
    if args.discover && args.upstream.is_none() {
        return Ok(usage(
            "--discover needs --upstream URL (the API itself, not the gateway)",
        ));
    }
    if args.identities.is_some() && args.gateway.is_none() {
        return Ok(usage("--identities is for --gateway"));
    }
    let fail_on = match args.fail_on.as_str() {
        "never" => None,
        other => match Risk::parse(other) {
            Some(risk) => Some(risk),
            None => {
                return Ok(usage(
                    "--fail-on must be answers, server-error, returns-data, accepts-writes, reveals-secret or never",
                ));
            }
        },
    };
    let Some(config) = load_config(args) else {
        return Ok(ExitCode::from(USAGE));
    };
    let identities = match &args.identities {
        Some(path) => match load_test_identities(path) {
            Ok(ids) => ids,
            Err(diagnostics) => {
                super::report(&diagnostics);
                return Ok(ExitCode::from(USAGE));
            }
        },
        None => config
            .identities
            .iter()
            .map(|s| TestIdentity {
                id: s.identity.id.clone(),
                client_secret: None,
                scopes: None,
            })
            .collect(),
    };
    let mut progress = Progress::for_terminal();
    let mut discovered = Vec::new();
    let discovery = match &args.upstream {
        Some(upstream) => match discovery(args, &config, upstream, &mut progress).await {
            Ok((api, report)) => {
                discovered = report
                    .findings
                    .iter()
                    .map(|f| (api.clone(), f.clone()))
                    .collect();
                Some((upstream.clone(), report))
            }
            Err(code) => return Ok(code),
        },
        None => None,
    };
    let conformance = match &args.gateway {
        Some(gateway) => {
            let target = match wire::Target::parse(gateway) {
                Ok(t) => t,
                Err(e) => return Ok(usage(&e)),
            };
            let plan = conform::Plan {
                config: &config,
                gateway: &target,
                allow_writes: args.allow_writes,
                identities,
                discovered,
            };
            match conform::run(plan, &mut progress).await {
                Ok(r) => Some((gateway.clone(), r)),
                Err(e) => return Ok(usage(&format!("{e:#}"))),
            }
        }
        None => None,
    };
    let run = Verification {
        config_file: args.config.display().to_string(),
        contracts: contracts(args, &config),
        analysis: super::check::analysis(&config),
        discovery,
        conformance,
        fail_on,
        elapsed: started.elapsed(),
    };
    print(&run, &config, args);
    if let Some(path) = &args.report {
        std::fs::write(path, report::html::render(&run))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        eprintln!("verify: report written to {}", path.display());
    }
    Ok(if run.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn load_config(args: &VerifyArgs) -> Option<Config> {
    match load(&args.config, &Overrides::default()) {
        Ok((config, _)) => Some(config),
        Err(diagnostics) => {
            super::report(&diagnostics);
            eprintln!("{}: the configuration has errors", args.config.display());
            None
        }
    }
}

/// Each API's contract file, as a path from where `verify` runs.
fn contracts(args: &VerifyArgs, config: &Config) -> Vec<(String, String)> {
    let dir = args.config.parent().unwrap_or(std::path::Path::new(""));
    config
        .apis
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                dir.join(&a.contract_file).display().to_string(),
            )
        })
        .collect()
}

fn print(run: &Verification, config: &Config, args: &VerifyArgs) {
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Json => println!("{:#}", run.to_json()),
        Format::Sarif => println!("{:#}", report::sarif::render(run)),
        Format::Junit => print!("{}", report::junit::render(run)),
        Format::Text => {
            print!(
                "{}",
                super::check::text(&run.config_file, config, &run.analysis, 0)
            );
            if let Some((upstream, report)) = &run.discovery {
                println!();
                discover::print(report, upstream);
            }
            if let Some((gateway, report)) = &run.conformance {
                println!();
                report.print(gateway);
            }
            print!("{}", run.summary_text());
        }
    }
}

/// Discovery on `upstream` for the API it serves: that API's name and what
/// was found; or the exit code of a wrong question or an unreachable
/// upstream.
async fn discovery(
    args: &VerifyArgs,
    config: &Config,
    upstream: &str,
    progress: &mut Progress,
) -> Result<(String, discover::Report), ExitCode> {
    let target = wire::Target::parse(upstream).map_err(|e| usage(&e))?;
    let api = match (&args.api, config.apis.as_slice()) {
        (Some(name), apis) => apis.iter().find(|a| &a.name == name),
        (None, [only]) => Some(only),
        (None, _) => None,
    };
    let Some(api) = api else {
        let names: Vec<&str> = config.apis.iter().map(|a| a.name.as_str()).collect();
        return Err(usage(&format!(
            "name the API the upstream serves with --api ({})",
            names.join(", ")
        )));
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
    let scanner = SecretScanner::builtin().map_err(|e| usage(&e.to_string()))?;
    match discover::run(&target, &declared, &limits, &scanner, progress).await {
        Ok(report) => Ok((api.name.clone(), report)),
        Err(e) => Err(usage(&format!("the upstream cannot be reached: {e}"))),
    }
}
