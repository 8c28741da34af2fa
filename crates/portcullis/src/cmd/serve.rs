//! `portcullis serve -c FILE`: refuse to start on any configuration problem;
//! otherwise serve until Ctrl-C or SIGTERM, then drain and stop.

use std::path::Path;
use std::process::ExitCode;

use portcullis_config::{Overrides, load};
use portcullis_proxy::Gateway;

use super::{report, shutdown_signal};

pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = match load(path, &Overrides::default()) {
        Ok((config, warnings)) => {
            report(&warnings);
            config
        }
        Err(diagnostics) => {
            report(&diagnostics);
            eprintln!(
                "{}: not starting: the configuration has errors",
                path.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let gateway = Gateway::start(config).await?;
    tracing::info!(addr = %gateway.addr(), "portcullis listening");
    shutdown_signal().await;
    tracing::info!("stopping");
    gateway.stop().await;
    Ok(ExitCode::SUCCESS)
}
