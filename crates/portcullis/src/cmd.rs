//! One module per subcommand, plus what they share.

use std::io::IsTerminal;

use portcullis_config::Diagnostic;
use tracing_subscriber::EnvFilter;

pub mod audit;
pub mod check;
pub mod demo;
pub mod explain;
pub mod identity;
pub mod schema;
pub mod serve;
pub mod token;
pub mod triggers;
pub mod upstream_credential;
pub mod verify;

/// Logs go to stderr: JSON when it is not a terminal, human text when it is.
/// `PORTCULLIS_LOG` sets the filter (default `info`).
pub fn init_logging() {
    let filter =
        EnvFilter::try_from_env("PORTCULLIS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.compact().init();
    } else {
        builder.json().flatten_event(true).init();
    }
}

/// Loads the configuration, printing its warnings; on errors prints every
/// diagnostic and `path: <why>`, and returns `None`.
pub fn load_reported(path: &std::path::Path, why: &str) -> Option<portcullis_config::Config> {
    load_reported_traced(path, why).map(|(config, _)| config)
}

/// [`load_reported`], with every file and folder the load read.
pub fn load_reported_traced(
    path: &std::path::Path,
    why: &str,
) -> Option<(portcullis_config::Config, portcullis_config::Inputs)> {
    let (loaded, inputs) =
        portcullis_config::load_traced(path, &portcullis_config::Overrides::default());
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

/// Prints diagnostics, one per line, to stderr.
pub fn report(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{d}");
    }
}

/// Waits for Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
