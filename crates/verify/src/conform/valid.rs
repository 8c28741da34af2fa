//! Conformance's first part: every operation × caller (both sides of a
//! tenant tag) with a valid request, compared with what the configuration
//! decides; and who then sends each operation's negatives.

use std::collections::{BTreeMap, BTreeSet};

use portcullis_config::Api;
use portcullis_contract::{Method, Operation, ParamIn};

use super::tokens::Caller;
use super::{Check, ConformError, Run, Sender};
use crate::discover::{Ids, collection_of, harvest_ids, thing};
use crate::progress::Progress;
use crate::request::{self, Built};

/// One valid request to send: who, which operation, and the tenant
/// parameter values it is tried with.
type Work<'c, 'o> = (&'c Caller, &'o Operation, BTreeMap<String, String>);

impl Run<'_> {
    /// Every operation × caller (both sides of a tenant tag); returns, per
    /// operation, who sends its negatives. Operations without path
    /// parameters go first: the ids in their answers fill the others' path
    /// parameters, so those reach real records (and real answers for the
    /// response check) rather than generated ids the upstream does not know.
    pub(super) async fn valid_requests<'c>(
        &mut self,
        api: &Api,
        callers: &'c [Caller],
        progress: &mut dyn Progress,
    ) -> Result<BTreeMap<String, Sender<'c>>, ConformError> {
        let work = self.valid_work(api, callers);
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
            let Some(check) = self.valid(api, op, caller, &built, &mut ids).await? else {
                continue;
            };
            let scoped = !matches!(
                check.expected.as_str(),
                "unauthenticated" | "insufficient-scope" | "identity-suspended"
            );
            if scoped && tenant.is_empty() && !senders.contains_key(&op.id) {
                let valid_got = check.got.clone();
                senders.insert(
                    op.id.clone(),
                    Sender {
                        caller,
                        built,
                        valid_got,
                    },
                );
            }
            self.report.checks.push(check);
        }
        Ok(senders)
    }

    /// What to send, in order; write operations skipped unless allowed.
    fn valid_work<'c, 'o>(&mut self, api: &'o Api, callers: &'c [Caller]) -> Vec<Work<'c, 'o>> {
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
        work
    }

    /// Sends `built` as `caller` and judges the answer; harvests ids from a
    /// forwarded read. `None` (recorded as skipped) when nothing came back.
    async fn valid(
        &mut self,
        api: &Api,
        op: &Operation,
        caller: &Caller,
        built: &Built,
        ids: &mut Ids,
    ) -> Result<Option<Check>, ConformError> {
        let expected = self.expect(caller, &built.probe).await?;
        let answer = match self.send(&built.probe, Some(&caller.token)).await {
            Ok(answer) => answer,
            Err(why) => {
                self.skip(format!("{} {}", caller.identity.id, op.id), why);
                return Ok(None);
            }
        };
        let (got, flaw) = self.judge(api, op, &built.probe, &expected, &answer);
        if got == "forwarded"
            && op.method == Method::Get
            && (200..300).contains(&answer.status)
            && let Ok(value) = serde_json::from_slice(&answer.body)
        {
            harvest_ids(&value, collection_of(&op.path), ids);
        }
        Ok(Some(Check {
            kind: "valid".into(),
            identity: caller.identity.id.clone(),
            api: api.name.clone(),
            operation: op.id.clone(),
            request: format!("{} {}", built.probe.method, built.probe.target),
            expected,
            got,
            status: answer.status,
            flaw,
        }))
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
