//! `portcullis fleet status`: the gateways registered in the
//! configuration's store, which are alive, and which run a configuration
//! other than the one most live nodes run (drift). Exits 1 on drift, so a
//! deploy script can stop a rollout that left nodes disagreeing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use portcullis_proxy::fleet::{FleetView, assess};

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// List the nodes, alive or not, and flag configuration drift.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The configuration file (YAML).
    #[arg(short, long)]
    config: PathBuf,
    /// Print JSON, as `GET /admin/v1/fleet` answers.
    #[arg(long)]
    json: bool,
}

pub fn run(command: FleetCommand) -> anyhow::Result<ExitCode> {
    let FleetCommand::Status(args) = command;
    let Some(config) = super::load_reported(&args.config, "cannot read the fleet") else {
        return Ok(ExitCode::FAILURE);
    };
    let (authority, _) =
        super::read_only_authority(&config, Arc::new(portcullis_core::SystemClock))?;
    let nodes = authority
        .store()
        .list_nodes()
        .context("cannot list the fleet's nodes")?;
    let view = assess(nodes);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", text(&view));
    }
    Ok(if view.drift {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn text(view: &FleetView) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "{:<24} {:<8} {:<12} {:<22} {:>10}  STATE\n",
        "NODE", "VERSION", "CONFIG", "ADDRESS", "HEARD"
    );
    for n in &view.nodes {
        let state = match (n.live, n.drift) {
            (true, true) => "live, configuration drift",
            (true, false) => "live",
            (false, _) => "gone",
        };
        let digest = n.config_digest.get(..12).unwrap_or(&n.config_digest);
        let heard = format!("{:.1}s ago", n.heard_ms_ago as f64 / 1000.0);
        let _ = writeln!(
            out,
            "{:<24} {:<8} {:<12} {:<22} {:>10}  {state}",
            n.id, n.version, digest, n.address, heard
        );
    }
    let _ = writeln!(
        out,
        "{} live of {} registered; {}",
        view.live,
        view.nodes.len(),
        if view.drift {
            "configuration drift: the nodes marked run other files than most"
        } else {
            "every live node runs the same configuration"
        }
    );
    out
}
