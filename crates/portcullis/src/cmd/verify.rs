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
//! a self-contained HTML page besides. The engine is `portcullis_verify`
//! (`Verification::run`); this module holds the flags, the progress bar and
//! the exit code.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use portcullis_config::{Config, Overrides, load, load_test_identities};
use portcullis_verify::discover::Risk;
use portcullis_verify::report::{html, junit, sarif};
use portcullis_verify::{Options, Verification, discovery};

mod progress;

use progress::Bar;

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
    /// Also write the report as JSON (what `--format json` prints) to this
    /// file: name it in `admin.verify_report` and the console shows it.
    #[arg(long, value_name = "FILE.json")]
    report_json: Option<PathBuf>,
}

/// Exit code for a wrong question or an unreachable target.
const USAGE: u8 = 2;

fn usage(message: &str) -> ExitCode {
    eprintln!("verify: {message}");
    ExitCode::from(USAGE)
}

pub async fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if let Some(why) = misused(args) {
        return Ok(usage(why));
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
            Ok(ids) => Some(ids),
            Err(diagnostics) => {
                super::report(&diagnostics);
                return Ok(ExitCode::from(USAGE));
            }
        },
        None => None,
    };
    let options = Options {
        config_file: args.config.clone(),
        upstream: args.upstream.clone(),
        api: args.api.clone(),
        gateway: args.gateway.clone(),
        identities,
        allow_writes: args.allow_writes,
        max_requests: args.max_requests,
        rate: args.rate,
        fail_on,
    };
    let mut run = match Verification::run(&config, options, &mut Bar::for_terminal()).await {
        Ok(run) => run,
        Err(e) => return Ok(usage(&format!("{:#}", anyhow::Error::from(e)))),
    };
    // As before the engine moved: the run's time includes loading.
    run.elapsed = started.elapsed();
    print(&run, &config, args);
    if let Some(path) = &args.report {
        std::fs::write(path, html::render(&run))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        eprintln!("verify: report written to {}", path.display());
    }
    if let Some(path) = &args.report_json {
        write_whole(path, format!("{:#}\n", run.to_json()).as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        eprintln!("verify: JSON report written to {}", path.display());
    }
    Ok(if run.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Flags that do not go together, and why.
fn misused(args: &VerifyArgs) -> Option<&'static str> {
    if args.upstream.is_some() && !args.discover {
        return Some("--upstream is for --discover");
    }
    if args.discover && args.upstream.is_none() {
        return Some("--discover needs --upstream URL (the API itself, not the gateway)");
    }
    if args.identities.is_some() && args.gateway.is_none() {
        return Some("--identities is for --gateway");
    }
    None
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

/// Writes `bytes` to `path` through a file beside it renamed into place,
/// so a reader (the console) never sees half a report. The partial file is
/// made new (a stale one is removed first), so a link planted in its place
/// is never followed.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

fn print(run: &Verification, config: &Config, args: &VerifyArgs) {
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Json => println!("{:#}", run.to_json()),
        Format::Sarif => println!("{:#}", sarif::render(run)),
        Format::Junit => print!("{}", junit::render(run)),
        Format::Text => {
            print!(
                "{}",
                super::check::text(&run.config_file, config, &run.analysis, 0)
            );
            if let Some((upstream, report)) = &run.discovery {
                println!();
                print!("{}", discovery::text(report, upstream));
            }
            if let Some((gateway, report)) = &run.conformance {
                println!();
                print!("{}", report.text(gateway));
            }
            print!("{}", run.summary_text());
        }
    }
}
