//! Reloading from the configuration file: what SIGHUP, the file watcher and
//! `POST /admin/v1/reload` all call.
//!
//! The file is read and validated off the request path; only a whole, valid
//! configuration is applied (see `live`). A failure leaves the last good
//! snapshot serving, is logged, and is kept in [`ReloadStatus`] for the admin
//! API.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use portcullis_config::{Inputs, Overrides};

use crate::live::Live;

mod watch;
pub use watch::FolderWatch;

/// The outcome of reloads so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadStatus {
    /// The snapshot version serving now.
    pub version: u64,
    pub applied: u64,
    pub failed: u64,
    /// Seconds since the Unix epoch of the last attempt.
    pub last_attempt: Option<i64>,
    /// What asked for it: `signal`, `file-change`, `admin-api`.
    pub last_trigger: Option<String>,
    /// Why the last attempt was refused; empty when it was applied.
    pub last_errors: Vec<String>,
    /// The last applied configuration's warnings.
    pub warnings: Vec<String>,
}

/// A reload that was refused; the running snapshot keeps serving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reload refused: {}", .errors.join("; "))]
pub struct ReloadFailure {
    pub errors: Vec<String>,
}

/// Reloads one gateway from one configuration file.
#[derive(Debug, Clone)]
pub struct Reloader {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    live: Arc<Live>,
    path: PathBuf,
    overrides: Overrides,
    status: Mutex<ReloadStatus>,
    /// What the configuration is read from: the last applied load's files
    /// and folders, plus whatever a refused one read since (fixing that
    /// file must trigger the next reload).
    inputs: Arc<RwLock<Inputs>>,
}

impl Reloader {
    pub(crate) fn new(live: Arc<Live>, path: PathBuf, overrides: Overrides) -> Self {
        let status = ReloadStatus {
            version: live.version(),
            ..ReloadStatus::default()
        };
        Self {
            inner: Arc::new(Inner {
                live,
                path,
                overrides,
                status: Mutex::new(status),
                inputs: Arc::new(RwLock::new(Inputs::default())),
            }),
        }
    }

    /// The configuration file reloads read.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Sets what the running configuration was read from (by the load that
    /// started the gateway).
    pub fn set_inputs(&self, inputs: Inputs) {
        if let Ok(mut current) = self.inner.inputs.write() {
            *current = inputs;
        }
    }

    /// What the configuration is read from now, kept current by each
    /// reload. Shared on its own so a file watcher can hold it without
    /// holding the gateway.
    pub fn inputs(&self) -> Arc<RwLock<Inputs>> {
        Arc::clone(&self.inner.inputs)
    }

    /// Reads, validates and applies the configuration file again.
    ///
    /// # Errors
    /// The file does not load or validate, or changes what only a restart
    /// can; nothing was applied.
    pub async fn reload(&self, trigger: &str) -> Result<u64, ReloadFailure> {
        let path = self.inner.path.clone();
        let overrides = self.inner.overrides.clone();
        let loaded =
            tokio::task::spawn_blocking(move || portcullis_config::load_traced(&path, &overrides))
                .await;
        let (loaded, read) = match loaded {
            Ok((loaded, read)) => (Ok(loaded), Some(read)),
            Err(e) => (Err(e), None),
        };
        if let (Some(read), Ok(mut inputs)) = (read, self.inner.inputs.write()) {
            if matches!(loaded, Ok(Ok(_))) {
                *inputs = read;
            } else {
                inputs.extend(read);
            }
        }
        let (outcome, warnings) = match loaded {
            Err(_) => (Err(vec!["the reload task failed".to_owned()]), Vec::new()),
            Ok(Err(diagnostics)) => (
                Err(diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect()),
                Vec::new(),
            ),
            Ok(Ok((config, warnings))) => (
                self.inner
                    .live
                    .apply(config)
                    .await
                    .map_err(|e| vec![e.to_string()]),
                warnings.iter().map(ToString::to_string).collect(),
            ),
        };
        self.inner.live.metrics.reload(outcome.is_ok());
        self.note(trigger, &outcome, warnings);
        outcome.map_err(|errors| ReloadFailure { errors })
    }

    /// Reloads so far.
    pub fn status(&self) -> ReloadStatus {
        self.inner
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    fn note(&self, trigger: &str, outcome: &Result<u64, Vec<String>>, warnings: Vec<String>) {
        let version = self.inner.live.version();
        match outcome {
            Ok(v) => {
                tracing::info!(version = v, trigger, "configuration reloaded");
                for warning in &warnings {
                    tracing::warn!(trigger, "{warning}");
                }
            }
            Err(errors) => tracing::error!(
                trigger,
                serving = version,
                errors = %errors.join("\n"),
                "configuration reload refused; the last good configuration keeps serving"
            ),
        }
        let Ok(mut status) = self.inner.status.lock() else {
            return;
        };
        status.version = version;
        status.last_attempt = Some(now());
        status.last_trigger = Some(trigger.to_owned());
        match outcome {
            Ok(_) => {
                status.applied += 1;
                status.last_errors.clear();
                status.warnings = warnings;
            }
            Err(errors) => {
                status.failed += 1;
                status.last_errors.clone_from(errors);
            }
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
