//! `portcullis audit verify|export|tail|public-key`: the ledger from the
//! command line, on a running gateway's file (readers never block its
//! writer) or on an export.
//!
//! Which keys `verify` trusts, strongest first: `--public-key FILE` (pinned
//! from elsewhere); with `-c`, the key in the gateway's store (not the
//! ledger's own copy); otherwise the keys the ledger or export carries,
//! which proves only that it is consistent with itself, and says so.
//!
//! A fleet's ledger in PostgreSQL holds one chain per node: `verify` checks
//! each and reports each (a fleet's export too), `tail` and `export` span
//! every node in time order (see [`fleet`]); `--node` narrows any of them
//! to one node's chain.
//!
//! Exit codes: 0 intact, 1 a problem found (located), 2 could not be read.

mod fleet;

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use portcullis_audit::export::{export_chains, verify_export_each};
use portcullis_audit::{AuditKey, PublicKey, Report};
use portcullis_config::LedgerPlace;
use portcullis_store::KeyStore;
use portcullis_store::ledger::{Ledger, Location};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every record and checkpoint; report the first record modified,
    /// deleted, inserted or reordered, or a cut tail.
    Verify(VerifyArgs),
    /// Write records (and their checkpoints and keys) as JSON Lines that
    /// verify on their own.
    Export(ExportArgs),
    /// Print the newest decisions, and follow new ones.
    Tail(TailArgs),
    /// Print the ledger's public key (JWK), to pin it elsewhere.
    PublicKey(Source),
}

/// Which ledger: the configuration's, or a file.
#[derive(Debug, Args)]
pub struct Source {
    /// The configuration file (YAML): its `audit.ledger` and store.
    #[arg(short, long, conflicts_with = "ledger")]
    config: Option<PathBuf>,
    /// A ledger file.
    #[arg(long)]
    ledger: Option<PathBuf>,
    /// A fleet's ledger (PostgreSQL): this node's chain only.
    #[arg(long, conflicts_with = "ledger")]
    node: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    source: Source,
    /// An export (JSON Lines) instead of a ledger.
    #[arg(long, conflicts_with_all = ["config", "ledger"])]
    export: Option<PathBuf>,
    /// A file holding the public key (JWK) to trust.
    #[arg(long)]
    public_key: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    source: Source,
    /// Start after the last checkpoint before this time (RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// Only `jsonl`.
    #[arg(long, default_value = "jsonl")]
    format: String,
    /// Write here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// `portcullis alerts`: the watch's alerts in the ledger.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Print the newest alerts, and follow new ones.
    Tail(TailArgs),
}

#[derive(Debug, Args)]
pub struct TailArgs {
    #[command(flatten)]
    source: Source,
    /// How many of the newest decisions to print first.
    #[arg(short = 'n', long, default_value_t = 20)]
    lines: u32,
    /// Keep printing new decisions as they are written.
    #[arg(short, long)]
    follow: bool,
}

pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    let outcome = match command {
        AuditCommand::Verify(args) => verify(&args),
        AuditCommand::Export(args) => run_export(&args),
        AuditCommand::Tail(args) => tail(&args, None).await,
        AuditCommand::PublicKey(source) => public_key(&source),
    };
    outcome.or_else(|e| {
        eprintln!("error: {e:#}");
        Ok(ExitCode::from(2))
    })
}

/// The ledger's location, and the key the store holds (with `-c`).
fn locate(source: &Source) -> anyhow::Result<(Location, Option<PublicKey>)> {
    if let Some(path) = &source.ledger {
        anyhow::ensure!(path.exists(), "no ledger at {}", path.display());
        return Ok((Location::File(path.clone()), None));
    }
    let config = source
        .config
        .as_ref()
        .context("name the ledger: -c FILE or --ledger PATH")?;
    let (config, _) = portcullis_config::load(config, &portcullis_config::Overrides::default())
        .map_err(|d| {
            anyhow::anyhow!(
                "the configuration has errors: {}",
                d.first().map(ToString::to_string).unwrap_or_default()
            )
        })?;
    let location = match (&config.audit.ledger, &config.storage) {
        (LedgerPlace::File(path), _) => {
            anyhow::ensure!(path.exists(), "no ledger at {} yet", path.display());
            Location::File(path.clone())
        }
        (LedgerPlace::Postgres, portcullis_config::Storage::Postgres(url)) => Location::Postgres {
            url: url.clone(),
            node: source.node.clone(),
            fence: None,
        },
        _ => anyhow::bail!("this configuration keeps its ledger in memory: nothing to read"),
    };
    // A node that has no chain is a mistake, not an empty ledger.
    if let Location::Postgres {
        url,
        node: Some(node),
        ..
    } = &location
    {
        let every = Location::Postgres {
            url: url.clone(),
            node: None,
            fence: None,
        };
        let nodes: Vec<String> = Ledger::open_reader(&every)?
            .nodes()?
            .into_iter()
            .flatten()
            .collect();
        anyhow::ensure!(
            nodes.iter().any(|n| n == node),
            "the ledger holds no chain for node `{node}` (chains: {})",
            nodes.join(", ")
        );
    } else if source.node.is_some() {
        anyhow::bail!("--node names a chain of a fleet's ledger; this one is a file, one chain");
    }
    // Read as it is: verifying the ledger changes nothing.
    let store: Option<Box<dyn KeyStore>> = match &config.storage {
        portcullis_config::Storage::Sqlite(store) if store.exists() => Some(Box::new(
            portcullis_store::SqliteStore::open_read_only(store)?,
        )),
        portcullis_config::Storage::Postgres(url) => Some(Box::new(
            portcullis_store::postgres::PostgresStore::attach(url.expose())?,
        )),
        _ => None,
    };
    let key = match store.map(|s| s.audit_key()).transpose()?.flatten() {
        Some((kid, der)) => Some(AuditKey::from_pkcs8(kid, &der)?.public()),
        None => None,
    };
    Ok((location, key))
}

fn pinned(path: &Path) -> anyhow::Result<PublicKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let jwk: serde_json::Value =
        serde_json::from_str(&text).context("the public key is not JSON")?;
    Ok(PublicKey::from_jwk(&jwk)?)
}

fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut keys = Vec::new();
    let mut trust =
        "the keys the ledger itself carries (consistency only: pin one with --public-key)";
    if let Some(path) = &args.public_key {
        keys.push(pinned(path)?);
        trust = "the pinned public key";
    }
    let reports = if let Some(path) = &args.export {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        verify_export_each(&mut BufReader::new(file), &keys)?
    } else {
        let (location, stored) = locate(&args.source)?;
        if keys.is_empty()
            && let Some(key) = stored
        {
            keys.push(key);
            trust = "the key in the gateway's store";
        }
        Ledger::open_reader(&location)?.verify_each(&keys)?
    };
    if reports.iter().any(|(node, _)| node.is_some()) {
        return Ok(fleet::print_reports(&reports, trust, args.json));
    }
    let report = reports
        .into_iter()
        .next()
        .map(|(_, report)| report)
        .context("the ledger holds no chain")?;
    print_report(&report, trust, args.json);
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(report: &Report, trust: &str, as_json: bool) {
    if as_json {
        println!("{:#}", report_json(report, trust));
        return;
    }
    println!("{}", report_line(report, trust));
}

fn report_json(report: &Report, trust: &str) -> serde_json::Value {
    json!({
            "ok": report.is_ok(),
            "records": report.records,
            "checkpoints": report.checkpoints,
            "last_seq": report.last_seq,
            "signed_to": report.signed_to,
            "unsigned_tail": report.unsigned_tail(),
            "trusted": trust,
            "problem": report.problem.as_ref().map(|p| json!({
                "kind": p.kind(), "seq": p.seq(), "message": p.to_string(),
            })),
    })
}

fn report_line(report: &Report, trust: &str) -> String {
    match &report.problem {
        None => format!(
            "ok: {} records, {} checkpoints, signed up to record {} ({} after it not yet signed); trusted {trust}",
            report.records,
            report.checkpoints,
            report.signed_to.unwrap_or(0),
            report.unsigned_tail()
        ),
        Some(problem) => format!("FAILED at record {}: {problem}", problem.seq()),
    }
}

fn run_export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.format == "jsonl", "`--format` must be `jsonl`");
    let since = match &args.since {
        None => None,
        Some(text) => {
            let time = humantime::parse_rfc3339(text)
                .with_context(|| format!("`--since {text}` is not an RFC 3339 time"))?;
            Some(
                time.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            )
        }
    };
    let (location, _) = locate(&args.source)?;
    let ledger = Ledger::open_reader(&location)?;
    // Every chain the ledger holds: one for a file, each node's for a
    // fleet's (narrowed to one with --node).
    let mut chains = Vec::new();
    for node in ledger.nodes()? {
        let chain = node.as_deref().and_then(|n| ledger.narrowed(n));
        chains.push((node, chain));
    }
    let chains: Vec<(Option<String>, &Ledger)> = chains
        .iter()
        .map(|(node, chain)| (node.clone(), chain.as_ref().unwrap_or(&ledger)))
        .collect();
    let written = match &args.output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            );
            let n = export_chains(&chains, since, &mut file)?;
            file.flush()?;
            n
        }
        None => export_chains(&chains, since, &mut std::io::stdout().lock())?,
    };
    eprintln!("exported {written} records");
    Ok(ExitCode::SUCCESS)
}

/// Prints the newest records (of one `decision` kind, when given: `alert`
/// for `alerts tail`) and, with `--follow`, each new one as it is written.
pub async fn tail(args: &TailArgs, only: Option<&str>) -> anyhow::Result<ExitCode> {
    let (location, _) = locate(&args.source)?;
    let ledger = Ledger::open_reader(&location)?;
    if matches!(location, Location::Postgres { node: None, .. }) {
        return fleet::tail(&ledger, args.lines, args.follow, only).await;
    }
    let (last, _) = ledger.head()?;
    let mut after = last.saturating_sub(u64::from(args.lines));
    if let Some(decision) = only {
        // Up to the head read above: what is written after it, --follow prints.
        let filter = portcullis_store::ledger::Filter {
            decision: Some(decision.to_owned()),
            limit: args.lines,
            before_seq: Some(last.saturating_add(1)),
            ..Default::default()
        };
        for record in ledger.query(&filter)?.records.iter().rev() {
            if let Ok(body) =
                serde_json::from_value::<portcullis_audit::record::Body>(record.clone())
            {
                println!("{}", body.line());
            }
        }
        after = last;
    }
    loop {
        for record in ledger.records_after(after, 500)? {
            after = record.seq;
            match record.decode() {
                Ok(body) if only.is_none_or(|d| body.entry.decision == d) => {
                    println!("{}", body.line());
                }
                _ => {}
            }
        }
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            () = super::shutdown_signal() => return Ok(ExitCode::SUCCESS),
        }
    }
}

fn public_key(source: &Source) -> anyhow::Result<ExitCode> {
    let (location, stored) = locate(source)?;
    let key = match stored {
        Some(key) => key,
        None => Ledger::open_reader(&location)?
            .keys()?
            .into_iter()
            .next()
            .context("the ledger names no key")?,
    };
    println!("{:#}", key.to_jwk());
    Ok(ExitCode::SUCCESS)
}
