//! `portcullis serve -c FILE`: refuse to start on any configuration problem;
//! otherwise serve until Ctrl-C or SIGTERM, then drain and stop. SIGHUP, a
//! change to a file the configuration was read from and `POST
//! /admin/v1/reload` reload it (see `triggers`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use portcullis_admin::AdminServer;
use portcullis_config::Overrides;
use portcullis_proxy::Gateway;

use super::{load_reported_traced, shutdown_signal, triggers};

/// The environment variable naming this node when `--node` does not.
const NODE_ENV: &str = "PORTCULLIS_NODE";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (YAML).
    #[arg(short, long)]
    config: PathBuf,
    /// This gateway's id in the fleet register (default: `PORTCULLIS_NODE`, else host name and port).
    #[arg(long)]
    node: Option<String>,
    /// Listen here instead of the file's `listen` (nodes of a fleet read one file).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The admin listener here instead of the file's `admin.listen`.
    #[arg(long)]
    admin: Option<SocketAddr>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Before "listening" is logged: a SIGTERM sent on seeing it must stop
    // the gateway cleanly.
    let stop = shutdown_signal();
    let node = args.node.or_else(|| std::env::var(NODE_ENV).ok());
    if let Some(node) = &node
        && !portcullis_proxy::fleet::valid_node_id(node)
    {
        eprintln!(
            "error: node id `{}` must be 1 to 63 letters, digits, `.`, `_` or `-`",
            node.escape_debug()
        );
        return Ok(ExitCode::FAILURE);
    }
    let overrides = Overrides {
        listen: args.listen,
        admin: args.admin,
        ..Overrides::default()
    };
    let path = args.config.as_path();
    let Some((mut config, inputs)) = load_reported_traced(
        path,
        &overrides,
        "not starting: the configuration has errors",
    ) else {
        return Ok(ExitCode::FAILURE);
    };
    config.node = node;

    let admin_addr = config.admin;
    let gateway = Gateway::start(config).await?;
    let reloader = gateway.reloader(path.to_owned(), overrides);
    reloader.set_inputs(inputs);
    let _triggers = triggers::start(reloader.clone());
    // Only once the reload triggers are in place: a change made on seeing
    // this line (a volume update, a SIGHUP) is never missed.
    tracing::info!(addr = %gateway.addr(), "portcullis listening");
    let bootstrap_secret = std::env::var(portcullis_admin::BOOTSTRAP_ENV).ok();
    if let Some(created) =
        portcullis_admin::bootstrap(gateway.authority(), bootstrap_secret.as_deref())?
    {
        tracing::warn!(identity = %created, "bootstrap admin identity created; exchange its secret for a token, then rotate it");
    }
    let admin = match admin_addr {
        Some(addr) => {
            let admin = AdminServer::start(
                addr,
                Arc::clone(gateway.authority()),
                Some(reloader),
                Some(gateway.observer()),
            )
            .await?;
            tracing::info!(addr = %admin.addr(), "admin listening");
            Some(admin)
        }
        None => None,
    };
    stop.await;
    tracing::info!("stopping");
    if let Some(admin) = admin {
        admin.stop().await;
    }
    gateway.stop().await;
    Ok(ExitCode::SUCCESS)
}
