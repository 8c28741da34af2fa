//! What one request runs against: the validated configuration plus the
//! runtime pieces built from it (upstream clients, the secret scanner).
//!
//! Immutable once built; a request holds an `Arc` to the snapshot it started
//! with.

use std::sync::Arc;

use portcullis_config::{Api, Config, Limits, Policies};
use portcullis_contract::secrets::{SecretPatternError, SecretScanner};

use crate::authority::Authority;
use crate::upstream::{self, Injection, InvalidCredential, UpstreamClient};

/// One API with its upstream connection pool.
#[derive(Debug)]
pub(crate) struct MountedApi {
    pub config: Api,
    pub client: UpstreamClient,
    /// The API's own upstream credential, prepared once.
    pub injection: Option<Arc<Injection>>,
}

/// Why the runtime state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the built-in secret patterns do not compile: {0}")]
    Scanner(#[from] SecretPatternError),
    #[error(transparent)]
    Credential(#[from] InvalidCredential),
}

/// The gateway's state for a run of requests.
#[derive(Debug)]
pub struct Snapshot {
    /// Which snapshot this is: 1 at start, one more at each applied reload.
    /// Every decision names it.
    pub(crate) version: u64,
    pub(crate) apis: Vec<MountedApi>,
    pub(crate) policies: Policies,
    pub(crate) limits: Limits,
    pub(crate) scanner: SecretScanner,
    pub(crate) authority: Arc<Authority>,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// Rate-limit buckets; shared with the next snapshot when its
    /// `rate_limits` are the same.
    pub(crate) rates: Arc<crate::rate::Limiter>,
    /// The configuration files' digest, for the fleet register.
    pub(crate) config_digest: String,
    /// The MCP tools of these contracts.
    pub(crate) mcp: crate::mcp::Face,
    /// Browser origins allowed to call `/mcp` besides the gateway's own.
    pub(crate) mcp_origins: Vec<String>,
    /// Whether the watch is configured: the route stage keeps a read's
    /// record id for it only then.
    pub(crate) watching: bool,
    /// `admin.verify_report`: the report the console shows.
    pub(crate) verify_report: Option<std::path::PathBuf>,
}

impl Snapshot {
    /// Each API as configured (what a posture report reads).
    pub fn api_configs(&self) -> impl Iterator<Item = &portcullis_config::Api> {
        self.apis.iter().map(|a| &a.config)
    }

    pub fn policy_store(&self) -> &portcullis_policy::PolicyStore {
        &self.policies.store
    }

    pub fn authority(&self) -> &Arc<Authority> {
        &self.authority
    }

    /// Where the console finds the last `verify` report, when configured.
    pub fn verify_report(&self) -> Option<&std::path::Path> {
        self.verify_report.as_deref()
    }

    /// Builds the runtime state; must be called inside a tokio runtime.
    pub fn build(
        config: Config,
        authority: Arc<Authority>,
        metrics: Arc<crate::metrics::Metrics>,
        version: u64,
    ) -> Result<Self, SnapshotError> {
        let scanner = SecretScanner::builtin()?;
        let mut apis = Vec::with_capacity(config.apis.len());
        for api in config.apis {
            let injection = match &api.upstream_auth {
                Some(auth) => Some(Arc::new(Injection::prepare(auth, &api.name)?)),
                None => None,
            };
            apis.push(MountedApi {
                client: upstream::client(&api),
                config: api,
                injection,
            });
        }
        let mcp = crate::mcp::Face::build(&apis, &config.policies);
        Ok(Self {
            version,
            mcp,
            mcp_origins: config.mcp.allowed_origins,
            watching: config.watch.is_some(),
            verify_report: config.verify_report,
            config_digest: config.digest,
            apis,
            policies: config.policies,
            limits: config.limits,
            rates: Arc::new(crate::rate::Limiter::new(
                config.rate_limits,
                metrics.rate_backend(),
            )),
            scanner,
            authority,
            metrics,
        })
    }

    /// Keeps `previous`'s rate-limit buckets when the limits did not change.
    pub(crate) fn keep_rate_buckets(&mut self, previous: &Snapshot) {
        if let Some(carried) = previous.rates.carried_to(self.rates.settings()) {
            self.rates = carried;
        }
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// Operation `operation` of the API called `api`.
    pub(crate) fn operation(
        &self,
        api: &str,
        operation: &str,
    ) -> Option<&portcullis_contract::Operation> {
        self.apis
            .iter()
            .find(|a| a.config.name == api)?
            .config
            .contract
            .operations()
            .iter()
            .find(|o| o.id == operation)
    }

    /// Whether the API mounted over `path` is in observe mode.
    pub(crate) fn observes(&self, path: &str) -> bool {
        self.mounted(path)
            .is_some_and(|(api, _)| api.config.mode == portcullis_config::Mode::Observe)
    }

    /// The API mounted over `path`, and the path relative to the mount.
    /// The path exactly equal to a mount is relative path "" and matches no
    /// operation: `/orders` is not `/orders/`.
    pub(crate) fn mounted<'s, 'p>(&'s self, path: &'p str) -> Option<(&'s MountedApi, &'p str)> {
        self.apis.iter().find_map(|api| {
            let mount = api.config.mount.as_str();
            if mount == "/" {
                return Some((api, path));
            }
            let rest = path.strip_prefix(mount)?;
            (rest.is_empty() || rest.starts_with('/')).then_some((api, rest))
        })
    }
}
