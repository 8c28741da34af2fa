//! The one entry point: [`Verification::run`] takes a loaded configuration
//! and what to check, runs coverage (always), discovery (with an upstream)
//! and conformance (with a gateway), and returns the report every output is
//! drawn from. The only module that starts the networked parts.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use portcullis_config::{Config, TestIdentity};
use portcullis_contract::secrets::{SecretPatternError, SecretScanner};
use portcullis_policy::{Analysis, analyze};

use crate::conform::{self, ConformError};
use crate::discover::{Declared, Risk};
use crate::discovery::{self, Limits};
use crate::progress::Progress;
use crate::report::Verification;
use crate::wire::Target;

/// What to check beyond coverage, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file, as given (the report names it, and contract
    /// paths are shown from its folder).
    pub config_file: std::path::PathBuf,
    /// Probe this upstream, `http://host:port[/base]`, for undeclared routes.
    pub upstream: Option<String>,
    /// Which API the upstream serves; needed when there are several.
    pub api: Option<String>,
    /// Check this gateway, `http://host:port`, against the configuration.
    pub gateway: Option<String>,
    /// Who to check the gateway as; `None`: the configuration's inventory.
    pub identities: Option<Vec<TestIdentity>>,
    /// Also send write methods (discovery and conformance).
    pub allow_writes: bool,
    /// At most this many requests to the upstream.
    pub max_requests: usize,
    /// At most this many requests a second to the upstream.
    pub rate: u32,
    /// Discovered routes at least this risky fail the run; `None`: never.
    pub fail_on: Option<Risk>,
}

/// Why a verification could not run (what it finds is in the report).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A URL that is not `http://host:port[/base]`.
    #[error("{0}")]
    Target(String),
    /// Several APIs, and the upstream's not named.
    #[error("name the API the upstream serves with --api ({0})")]
    WhichApi(String),
    #[error(transparent)]
    Scanner(#[from] SecretPatternError),
    #[error("the upstream cannot be reached: {0}")]
    Upstream(String),
    #[error(transparent)]
    Conformance(#[from] ConformError),
}

impl Options {
    /// Coverage only, for the configuration read from `config_file`: no
    /// upstream, no gateway, the command line's defaults for the rest.
    pub fn coverage(config_file: impl Into<std::path::PathBuf>) -> Self {
        Self {
            config_file: config_file.into(),
            upstream: None,
            api: None,
            gateway: None,
            identities: None,
            allow_writes: false,
            max_requests: 500,
            rate: 50,
            fail_on: Some(Risk::ReturnsData),
        }
    }
}

impl Verification {
    /// Verifies `config` as `options` ask, telling `progress` as it goes.
    ///
    /// # Errors
    /// A target URL does not parse, the upstream's API is not named, or the
    /// upstream or gateway cannot be reached at all.
    pub async fn run(
        config: &Config,
        options: Options,
        progress: &mut impl Progress,
    ) -> Result<Self, RunError> {
        let started = Instant::now();
        let mut discovered = Vec::new();
        let discovery = match &options.upstream {
            Some(upstream) => {
                let (api, report) = discovery(config, &options, upstream, progress).await?;
                discovered = report
                    .findings
                    .iter()
                    .map(|f| (api.clone(), f.clone()))
                    .collect();
                Some((upstream.clone(), report))
            }
            None => None,
        };
        let conformance = match &options.gateway {
            Some(gateway) => {
                let target = Target::parse(gateway).map_err(RunError::Target)?;
                let plan = conform::Plan {
                    config,
                    gateway: &target,
                    allow_writes: options.allow_writes,
                    identities: identities(config, options.identities.clone()),
                    discovered,
                };
                Some((gateway.clone(), conform::run(plan, progress).await?))
            }
            None => None,
        };
        Ok(Self {
            config_file: options.config_file.display().to_string(),
            contracts: contracts(&options.config_file, config),
            analysis: analysis(config),
            accept: config.accept.clone(),
            discovery,
            conformance,
            fail_on: options.fail_on,
            elapsed: started.elapsed(),
        })
    }
}

/// The policy analysis and coverage matrix of `config`, as `check` shows it.
pub fn analysis(config: &Config) -> Analysis {
    let contracts: Vec<(&str, &portcullis_contract::Contract)> = config
        .apis
        .iter()
        .map(|a| (a.name.as_str(), a.contract.as_ref()))
        .collect();
    let identities: Vec<portcullis_core::Identity> = config
        .identities
        .iter()
        .map(|s| s.identity.clone())
        .collect();
    analyze(
        &config.policies.store,
        &config.policies.schema,
        &contracts,
        &identities,
    )
}

/// `given`, or else every identity the configuration declares.
fn identities(config: &Config, given: Option<Vec<TestIdentity>>) -> Vec<TestIdentity> {
    given.unwrap_or_else(|| {
        config
            .identities
            .iter()
            .map(|s| TestIdentity {
                id: s.identity.id.clone(),
                client_secret: None,
                scopes: None,
            })
            .collect()
    })
}

/// Each API's contract file, as a path from where `verify` runs.
fn contracts(config_file: &Path, config: &Config) -> Vec<(String, String)> {
    let dir = config_file.parent().unwrap_or(Path::new(""));
    config
        .apis
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                dir.join(&a.contract_file).display().to_string(),
            )
        })
        .collect()
}

/// Discovery on `upstream` for the API it serves: that API's name and what
/// was found.
async fn discovery(
    config: &Config,
    options: &Options,
    upstream: &str,
    progress: &mut dyn Progress,
) -> Result<(String, discovery::Report), RunError> {
    let target = Target::parse(upstream).map_err(RunError::Target)?;
    let api = match (&options.api, config.apis.as_slice()) {
        (Some(name), apis) => apis.iter().find(|a| &a.name == name),
        (None, [only]) => Some(only),
        (None, _) => None,
    };
    let Some(api) = api else {
        let names: Vec<&str> = config.apis.iter().map(|a| a.name.as_str()).collect();
        return Err(RunError::WhichApi(names.join(", ")));
    };
    let mut by_path: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for op in api.contract.operations() {
        by_path.entry(op.path.clone()).or_default().push(op.method);
    }
    let declared: Vec<Declared> = by_path
        .into_iter()
        .map(|(template, methods)| Declared { template, methods })
        .collect();
    let limits = Limits {
        max_requests: options.max_requests,
        rate: options.rate,
        allow_writes: options.allow_writes,
    };
    let scanner = SecretScanner::builtin()?;
    let report = discovery::run(&target, &declared, &limits, &scanner, progress)
        .await
        .map_err(RunError::Upstream)?;
    Ok((api.name.clone(), report))
}

/// What `tools/list` would show each identity the configuration declares
/// (the same function `/mcp` uses), and the operations that are no tool.
pub fn tools(config: &Config) -> portcullis_mcp::Catalogue {
    let contracts = config
        .apis
        .iter()
        .map(|a| (a.name.as_str(), a.contract.as_ref()));
    let set = portcullis_mcp::ToolSet::from_contracts(contracts);
    let identities: Vec<portcullis_core::Identity> = config
        .identities
        .iter()
        .map(|s| s.identity.clone())
        .collect();
    let operation = |api: &str, id: &str| {
        let api = config.apis.iter().find(|a| a.name == api)?;
        api.contract.operations().iter().find(|o| o.id == id)
    };
    portcullis_mcp::catalogue(&set, operation, &config.policies.store, &identities)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::panic,
        reason = "test code: a missing value should fail the test"
    )]

    use super::*;
    use crate::progress::Silent;

    #[tokio::test]
    async fn coverage_alone_needs_no_socket_and_passes_on_the_example() {
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders/portcullis.yaml");
        let (config, _) = portcullis_config::load(&file, &portcullis_config::Overrides::default())
            .unwrap_or_else(|d| panic!("{d:?}"));
        let run = Verification::run(&config, Options::coverage(&file), &mut Silent)
            .await
            .unwrap();
        assert!(run.discovery.is_none() && run.conformance.is_none());
        assert_eq!(run.analysis.coverage.operations.len(), 12);
        assert_eq!(run.contracts.len(), 1);
        assert!(
            run.contracts[0].1.ends_with("openapi.yaml"),
            "{:?}",
            run.contracts
        );
        assert!(!run.failed());
    }
}
