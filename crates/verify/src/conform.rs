//! `portcullis verify --gateway URL`: for every operation × identity, a
//! valid request built from the contract goes through the gateway, and its
//! answer is compared with what the configuration says it must be.
//!
//! The expected answer comes from the gateway's own deciding stages run
//! offline (`Snapshot::explain`) on the configuration given with `-c`: the
//! intended one. A gateway running anything else (a policy that permits too
//! much, an operation missing from a policy) or no gateway at all (the URL
//! is the upstream's) shows up as mismatches; a forwarded answer the
//! intended response check would still change (a response check turned off)
//! as a flaw (see `judge`).
//!
//! Then, per operation, the fixed family of negative requests
//! (`crate::negatives`), sent as an identity whose token carries
//! the operation's scopes, each of which must be refused with its code; the
//! routes discovery found on the upstream, each of which the gateway must
//! refuse; and every refusal seen must be the one problem+json shape.
//!
//! Then, for identities that may act for people, both sides of each
//! delegation rule (`delegated`). Last, per API, the MCP face (`mcp`): each
//! identity's `tools/list` against the tools the configuration permits, and
//! the negatives that have a `tools/call` form sent as calls, each refused
//! with the same code.

use std::sync::Arc;

use crate::request::{self, Probe};
use portcullis_config::{Api, Config, Storage, TestIdentity};
use portcullis_contract::Operation;
use portcullis_contract::secrets::SecretScanner;
use portcullis_core::SystemClock;
use portcullis_proxy::authority::Authority;
use portcullis_proxy::{ExplainRequest, Snapshot};

use crate::discovery::Finding;
use crate::progress::Progress;
use crate::wire::{self, Target};

mod delegated;
mod judge;
mod mcp;
mod negative;
mod report;
mod tokens;
mod valid;

pub use judge::Flaw;
pub use report::{Check, Listing, McpCall, McpFailure, McpReport, Report};
use tokens::{Caller, Issuer, NoCaller};

/// Why conformance could not run at all (a failed check is a finding, not
/// this).
#[derive(Debug, thiserror::Error)]
pub enum ConformError {
    #[error("the gateway cannot be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Store(#[from] portcullis_proxy::authority::AuthorityError),
    #[error(transparent)]
    Inventory(#[from] portcullis_proxy::authority::ManageError),
    #[error(transparent)]
    Snapshot(#[from] portcullis_proxy::SnapshotError),
    #[error(transparent)]
    Scanner(#[from] portcullis_contract::secrets::SecretPatternError),
    #[error("explaining {0}")]
    Explain(String),
}

/// What to check, and against what.
#[derive(Debug)]
pub struct Plan<'a> {
    /// What the gateway must enforce.
    pub config: &'a Config,
    pub gateway: &'a Target,
    pub allow_writes: bool,
    /// Who to check as (`--identities`, or the configuration's inventory).
    pub identities: Vec<TestIdentity>,
    /// Routes discovery found on the upstream of an API (by name), each of
    /// which must be refused through the gateway.
    pub discovered: Vec<(String, Finding)>,
}

/// Runs conformance.
///
/// # Errors
/// The store cannot be opened, or the gateway cannot be reached at all.
pub async fn run(plan: Plan<'_>, progress: &mut dyn Progress) -> Result<Report, ConformError> {
    let config = plan.config;
    // Reachable at all? Asked first, so an unreachable gateway is that, not
    // a run where every identity was skipped.
    // Its key set also tells whether the store here is the gateway's.
    let jwks = wire::send(plan.gateway, "GET", "/.well-known/jwks.json", &[], None)
        .await
        .map_err(ConformError::Unreachable)?;
    let base_url = format!("http://{}", config.listen);
    // The intended inventory, as the configuration declares it, in memory:
    // what the offline stages decide with. Identities the gateway's store
    // holds are copied in as it holds them (see `tokens`).
    let mut snapshot_config = config.clone();
    snapshot_config.storage = Storage::Memory;
    let declared = Arc::new(Authority::open(
        &snapshot_config,
        &base_url,
        Arc::new(SystemClock),
    )?);
    let metrics = Arc::new(portcullis_proxy::metrics::Metrics::new(
        None,
        portcullis_proxy::metrics::latency(),
    ));
    let snapshot = Snapshot::build(snapshot_config, Arc::clone(&declared), metrics, 1)?;
    let mut run = Run {
        config,
        gateway: plan.gateway,
        snapshot,
        issuer: Issuer::open(config, plan.gateway, &jwks.body)?,
        scanner: SecretScanner::builtin()?,
        tools: mcp::tool_set(config),
        allow_writes: plan.allow_writes,
        report: Report::default(),
    };
    for api in &config.apis {
        let mut callers = Vec::new();
        for wanted in &plan.identities {
            match run.issuer.caller(&declared, wanted, &api.name).await {
                Ok(caller) => {
                    declared.put_identity(&caller.identity)?;
                    callers.push(caller);
                }
                Err(NoCaller::Skipped(why)) => {
                    run.skip(format!("{} on {}", wanted.id, api.name), why)
                }
                Err(NoCaller::Unreachable(e)) => {
                    return Err(ConformError::Unreachable(e));
                }
            }
        }
        let senders = run.valid_requests(api, &callers, progress).await?;
        run.negatives(api, &senders, progress).await;
        run.delegated(api, &callers, progress).await?;
        let discovered: Vec<&Finding> = plan
            .discovered
            .iter()
            .filter(|(name, _)| *name == api.name)
            .map(|(_, f)| f)
            .collect();
        run.discovered(api, &callers, &discovered, progress).await;
        run.mcp(api, &callers, &senders, progress).await;
    }
    progress.finish();
    Ok(run.report)
}

/// The state of one conformance run.
struct Run<'a> {
    config: &'a Config,
    gateway: &'a Target,
    snapshot: Snapshot,
    issuer: Issuer<'a>,
    scanner: SecretScanner,
    /// The tools the configuration's contracts make, as the gateway makes them.
    tools: portcullis_mcp::ToolSet,
    allow_writes: bool,
    report: Report,
}

/// Who sends an operation's negatives: a caller whose token carries the
/// operation's scopes, its valid request, and what that request got.
pub(super) struct Sender<'c> {
    caller: &'c Caller,
    built: request::Built,
    valid_got: String,
}

impl Run<'_> {
    fn skip(&mut self, what: String, why: String) {
        self.report.skipped.push((what, why));
    }

    /// Each route discovery found on the upstream, sent through the
    /// gateway under the API's mount: what the configuration says (a
    /// refusal, for a route it does not declare) must come back.
    async fn discovered(
        &mut self,
        api: &Api,
        callers: &[Caller],
        found: &[&Finding],
        progress: &mut dyn Progress,
    ) {
        if found.is_empty() {
            return;
        }
        let Some(caller) = callers.iter().max_by_key(|c| c.scopes.len()) else {
            self.skip(
                format!("{}: {} discovered routes", api.name, found.len()),
                "no identity holds a token for the API".into(),
            );
            return;
        };
        progress.start("discovered routes", found.len());
        for finding in found {
            progress.tick();
            let probe = Probe {
                method: finding.method.as_str().to_owned(),
                target: format!("{}{}", api.mount.trim_end_matches('/'), finding.path),
                headers: Vec::new(),
                body: None,
            };
            let expected = match self.expect(caller, &probe).await {
                Ok(e) => e,
                Err(e) => {
                    self.skip(format!("{} {}", probe.method, probe.target), e.to_string());
                    continue;
                }
            };
            let answer = match self.send(&probe, Some(&caller.token)).await {
                Ok(answer) => answer,
                Err(why) => {
                    self.skip(format!("{} {}", probe.method, probe.target), why);
                    continue;
                }
            };
            let (got, flaw) = judge::judge(&answer);
            self.report.checks.push(Check {
                kind: "discovered-route".into(),
                identity: caller.identity.id.clone(),
                api: api.name.clone(),
                // The route as found upstream: what the report joins it on.
                operation: finding.path.clone(),
                request: format!("{} {}", probe.method, probe.target),
                expected,
                got,
                status: answer.status,
                flaw,
            });
        }
    }

    /// What the intended configuration answers `probe` from `caller`:
    /// `forwarded`, or the code it is refused with.
    async fn expect(&self, caller: &Caller, probe: &Probe) -> Result<String, ConformError> {
        self.expect_for(caller, probe, None).await
    }

    /// As [`Self::expect`], the caller's token acting for `delegation`'s person.
    async fn expect_for(
        &self,
        caller: &Caller,
        probe: &Probe,
        delegation: Option<portcullis_policy::Delegation>,
    ) -> Result<String, ConformError> {
        let mut headers = probe.headers.clone();
        if let Some((content_type, _)) = &probe.body {
            headers.push(("Content-Type".into(), content_type.clone()));
        }
        let explained = self
            .snapshot
            .explain(ExplainRequest {
                identity: caller.identity.id.clone(),
                method: probe.method.clone(),
                target: probe.target.clone(),
                headers,
                body: probe.body.as_ref().map(|(_, b)| b.clone()),
                scopes: Some(caller.scopes.clone()),
                delegation,
            })
            .await
            .map_err(|e| {
                ConformError::Explain(format!("{} {}: {e}", probe.method, probe.target))
            })?;
        Ok(explained.refusal.map_or_else(
            || "forwarded".to_owned(),
            |(_, code, _)| code.as_str().to_owned(),
        ))
    }

    /// Sends `probe` with `token`.
    ///
    /// # Errors
    /// This one request got no answer (the gateway answered before the run
    /// began, so that is a skipped check, with the reason).
    async fn send(&self, probe: &Probe, token: Option<&str>) -> Result<wire::Answer, String> {
        let mut headers = probe.headers.clone();
        if let Some(token) = token {
            headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        let body = probe
            .body
            .as_ref()
            .map(|(ct, b)| (ct.as_str(), b.as_slice()));
        wire::send(self.gateway, &probe.method, &probe.target, &headers, body)
            .await
            .map_err(|e| format!("no answer: {e}"))
    }

    /// The answer's code and flaw: its problem shape, and for an answer
    /// that should have been and was forwarded, what the response check
    /// would still change.
    fn judge(
        &self,
        api: &Api,
        op: &Operation,
        probe: &Probe,
        expected: &str,
        answer: &wire::Answer,
    ) -> (String, Option<Flaw>) {
        let (got, flaw) = judge::judge(answer);
        let unchecked = (expected == "forwarded" && got == "forwarded")
            .then(|| judge::unchecked(op, &probe.method, answer, api.responses, &self.scanner))
            .flatten();
        (got, flaw.or(unchecked))
    }
}
