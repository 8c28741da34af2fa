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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::discover::{Ids, collection_of, harvest_ids, thing};
use crate::request::{self, Probe};
use portcullis_config::{Api, Config, Storage, TestIdentity};
use portcullis_contract::secrets::SecretScanner;
use portcullis_contract::{Method, Operation, ParamIn};
use portcullis_core::SystemClock;
use portcullis_proxy::authority::Authority;
use portcullis_proxy::{ExplainRequest, Snapshot};

use crate::discovery::Finding;
use crate::progress::Progress;
use crate::wire::{self, Target};

mod judge;
mod negative;
mod report;
mod tokens;

pub use judge::Flaw;
pub use report::{Check, Report};
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
        let discovered: Vec<&Finding> = plan
            .discovered
            .iter()
            .filter(|(name, _)| *name == api.name)
            .map(|(_, f)| f)
            .collect();
        run.discovered(api, &callers, &discovered, progress).await;
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

    /// Every operation × caller (both sides of a tenant tag); returns, per
    /// operation, who sends its negatives. Operations without path
    /// parameters go first: the ids in their answers fill the others' path
    /// parameters, so those reach real records (and real answers for the
    /// response check) rather than generated ids the upstream does not know.
    async fn valid_requests<'c>(
        &mut self,
        api: &Api,
        callers: &'c [Caller],
        progress: &mut dyn Progress,
    ) -> Result<BTreeMap<String, Sender<'c>>, ConformError> {
        let mut ops: Vec<&Operation> = api.contract.operations().iter().collect();
        ops.sort_by_key(|op| op.params.iter().any(|p| p.location == ParamIn::Path));
        let mut work = Vec::new();
        for op in ops {
            if op.method.is_write() && !self.allow_writes {
                self.skip(
                    format!("{}:{}", api.name, op.id),
                    "a write operation (use --allow-writes)".into(),
                );
                continue;
            }
            for caller in callers {
                for tenant in tenant_values(&caller.identity.tags, op) {
                    work.push((caller, op, tenant));
                }
            }
        }
        progress.start("valid requests", work.len());
        let mut ids = Ids::new();
        let mut unsatisfiable = BTreeSet::new();
        let mut senders = BTreeMap::new();
        for (caller, op, tenant) in work {
            progress.tick();
            let given = with_ids(op, &tenant, &caller.identity.tags, &ids);
            let built = match request::valid(&api.mount, op, &given) {
                Ok(built) => built,
                Err(e) => {
                    if unsatisfiable.insert(op.id.clone()) {
                        self.skip(
                            format!("{}:{}", api.name, op.id),
                            format!("no valid request: {e}"),
                        );
                    }
                    continue;
                }
            };
            let expected = self.expect(caller, &built.probe).await?;
            let answer = match self.send(&built.probe, Some(&caller.token)).await {
                Ok(answer) => answer,
                Err(why) => {
                    self.skip(format!("{} {}", caller.identity.id, op.id), why);
                    continue;
                }
            };
            let (got, flaw) = self.judge(api, op, &built.probe, &expected, &answer);
            if got == "forwarded"
                && op.method == Method::Get
                && (200..300).contains(&answer.status)
                && let Ok(value) = serde_json::from_slice(&answer.body)
            {
                harvest_ids(&value, collection_of(&op.path), &mut ids);
            }
            let scoped = !matches!(
                expected.as_str(),
                "unauthenticated" | "insufficient-scope" | "identity-suspended"
            );
            if scoped && tenant.is_empty() && !senders.contains_key(&op.id) {
                senders.insert(
                    op.id.clone(),
                    Sender {
                        caller,
                        built: built.clone(),
                        valid_got: got.clone(),
                    },
                );
            }
            self.report.checks.push(Check {
                kind: "valid".into(),
                identity: caller.identity.id.clone(),
                api: api.name.clone(),
                operation: op.id.clone(),
                request: format!("{} {}", built.probe.method, built.probe.target),
                expected,
                got,
                status: answer.status,
                flaw,
            });
        }
        Ok(senders)
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

/// `tenant`'s values, and for each other path parameter an id seen in an
/// earlier answer for what it names (`orderId`: an order's id); for a
/// parameter a tenant tag names, one other than the identity's own, so the
/// variant without it is really the other side of the rule.
fn with_ids(
    op: &Operation,
    tenant: &BTreeMap<String, String>,
    tags: &[String],
    ids: &Ids,
) -> BTreeMap<String, String> {
    let mut given = tenant.clone();
    for p in op.params.iter().filter(|p| p.location == ParamIn::Path) {
        if given.contains_key(&p.name) {
            continue;
        }
        let own = tag_value(tags, &p.name);
        let mut seen = ids.get(&thing(&p.name)).into_iter().flatten();
        if let Some(id) = seen.find(|id| Some(id.as_str()) != own) {
            given.insert(p.name.clone(), id.clone());
        }
    }
    given
}

/// The parameter values to try for an identity: none given, and for each
/// parameter a `name:value` tag names (`customer:…` for `customerId`), the
/// identity's own value, so both sides of a tenant rule are exercised.
fn tenant_values(tags: &[String], op: &Operation) -> Vec<BTreeMap<String, String>> {
    let mut out = vec![BTreeMap::new()];
    let own: BTreeMap<String, String> = op
        .params
        .iter()
        .filter_map(|p| tag_value(tags, &p.name).map(|v| (p.name.clone(), v.to_owned())))
        .collect();
    if !own.is_empty() {
        out.push(own);
    }
    out
}

/// The value of the identity's `name:value` tag for what `param` names
/// (`customer:…` for `customerId`).
fn tag_value<'t>(tags: &'t [String], param: &str) -> Option<&'t str> {
    let what = thing(param);
    tags.iter()
        .filter_map(|t| t.split_once(':'))
        .find(|(name, _)| thing(name) == what)
        .map(|(_, value)| value)
}
