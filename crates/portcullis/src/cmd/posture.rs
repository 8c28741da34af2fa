//! `portcullis posture`: the inventory and its findings, each mapped to the
//! OWASP Non-Human Identities Top 10 (2025), from the configuration's store
//! and ledger (read only). The engine is `portcullis-posture`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use portcullis_config::LedgerPlace;
use portcullis_posture::gather::{Gateway, gather};
use portcullis_posture::{Thresholds, assess, render};
use portcullis_store::ledger::{Ledger, Location};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Html,
    Sarif,
}

#[derive(Debug, Args)]
pub struct PostureArgs {
    /// The configuration file (YAML).
    #[arg(short, long)]
    config: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Unused this many days is stale; also how far back the ledger is read.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// API keys and client secrets older than this many days are due.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    rotation_days: u32,
    /// This gateway's environment (`prod`...): identities of another are findings.
    #[arg(long)]
    environment: Option<String>,
}

pub fn run(args: &PostureArgs) -> anyhow::Result<ExitCode> {
    let Some(config) = super::load_reported(&args.config, "cannot assess posture") else {
        return Ok(ExitCode::FAILURE);
    };
    let (authority, _) =
        super::read_only_authority(&config, Arc::new(portcullis_core::SystemClock))?;
    let ledger = match (&config.audit.ledger, &config.storage) {
        (LedgerPlace::File(path), _) if path.exists() => {
            Some(Ledger::open_reader(&Location::File(path.clone()))?)
        }
        // A fleet's ledger: every node's chain.
        (LedgerPlace::Postgres, portcullis_config::Storage::Postgres(url)) => {
            Some(Ledger::open_reader(&Location::Postgres {
                url: url.clone(),
                node: None,
                fence: None,
            })?)
        }
        _ => None,
    };
    let limits = Thresholds {
        unused_days: args.days,
        rotation_days: args.rotation_days,
        ..Thresholds::default()
    };
    let store = authority.store().as_ref();
    let facts = gather(
        &Gateway::of(&config),
        store,
        ledger.as_ref(),
        authority.now(),
        args.days,
        args.environment.clone(),
    )?;
    let report = assess(&facts, &limits);
    let text = match args.format {
        Format::Text => render::text(&report),
        Format::Json => render::json(&report),
        Format::Html => render::html(&report),
        Format::Sarif => render::sarif(&report),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
