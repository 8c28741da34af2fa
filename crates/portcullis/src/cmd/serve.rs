//! `portcullis serve -c FILE`: refuse to start on any configuration problem;
//! otherwise serve until Ctrl-C or SIGTERM, then drain and stop. SIGHUP, a
//! change to a file the configuration was read from and `POST
//! /admin/v1/reload` reload it (see `triggers`).

use std::path::Path;
use std::process::ExitCode;

use std::sync::Arc;

use portcullis_admin::AdminServer;
use portcullis_config::Overrides;
use portcullis_proxy::Gateway;

use super::{load_reported_traced, shutdown_signal, triggers};

pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    // Before "listening" is logged: a SIGTERM sent on seeing it must stop
    // the gateway cleanly.
    let stop = shutdown_signal();
    let Some((config, inputs)) =
        load_reported_traced(path, "not starting: the configuration has errors")
    else {
        return Ok(ExitCode::FAILURE);
    };

    let admin_addr = config.admin;
    let gateway = Gateway::start(config).await?;
    let reloader = gateway.reloader(path.to_owned(), Overrides::default());
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
