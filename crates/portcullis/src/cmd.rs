//! One module per subcommand, plus what they share.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use portcullis_config::{Config, Diagnostic, Storage};
use portcullis_core::Clock;
use portcullis_proxy::authority::Authority;

pub mod audit;
pub mod check;
pub mod demo;
pub mod explain;
pub mod fleet;
pub mod identity;
pub mod logging;
pub mod posture;
pub mod schema;
pub mod serve;
pub mod token;
pub mod triggers;
pub mod upstream_credential;
pub mod verify;

/// Loads the configuration, printing its warnings; on errors prints every
/// diagnostic and `path: <why>`, and returns `None`.
pub fn load_reported(path: &std::path::Path, why: &str) -> Option<portcullis_config::Config> {
    load_reported_traced(path, &portcullis_config::Overrides::default(), why)
        .map(|(config, _)| config)
}

/// [`load_reported`], with every file and folder the load read.
pub fn load_reported_traced(
    path: &std::path::Path,
    overrides: &portcullis_config::Overrides,
    why: &str,
) -> Option<(portcullis_config::Config, portcullis_config::Inputs)> {
    let (loaded, inputs) = portcullis_config::load_traced(path, overrides);
    match loaded {
        Ok((config, warnings)) => {
            report(&warnings);
            Some((config, inputs))
        }
        Err(diagnostics) => {
            report(&diagnostics);
            eprintln!("{}: {why}", path.display());
            None
        }
    }
}

/// The identities and signing keys a command that must not change the
/// gateway's state decides with: the configuration's store as it is, when
/// it exists (opened read-only: nothing migrated, applied or made), else
/// the inventory the configuration declares, in this process's memory.
/// Never a store file made here: it would hold signing keys no gateway
/// publishes. Also returns the store's path when it was read.
///
/// # Errors
/// The store exists but cannot be read (another build's schema, say), or
/// the declared inventory does not apply.
pub fn read_only_authority(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Authority, Option<PathBuf>)> {
    let base_url = format!("http://{}", config.listen);
    match &config.storage {
        Storage::Sqlite(path) if path.exists() => {
            let authority = Authority::open_read_only(config, &base_url, clock)
                .with_context(|| format!("cannot read the store {}", path.display()))?;
            Ok((authority, Some(path.clone())))
        }
        Storage::Postgres(_) => {
            let authority = Authority::open_read_only(config, &base_url, clock)
                .context("cannot read the PostgreSQL store")?;
            Ok((authority, None))
        }
        Storage::Sqlite(_) | Storage::Memory => {
            let mut declared = config.clone();
            declared.storage = Storage::Memory;
            let authority = Authority::open(&declared, &base_url, clock)
                .context("cannot build the declared inventory")?;
            Ok((authority, None))
        }
    }
}

/// Prints diagnostics, one per line, to stderr.
pub fn report(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{d}");
    }
}

/// Completes on Ctrl-C or (on Unix) SIGTERM. SIGTERM is listened for from
/// this call, not from the first poll: a command that calls it before it
/// says it is ready stops cleanly on a SIGTERM sent the moment it says so,
/// instead of being ended by the signal's default action.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
    }
}
