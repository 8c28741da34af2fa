//! Each operation's negative family through the gateway: sent as the
//! operation's sender (a caller whose token carries its scopes), with the
//! credential each variant calls for, and compared with the code it must be
//! refused with.

use std::collections::BTreeMap;

use crate::negatives::{self, Credential, Expect, Negative};
use portcullis_config::Api;
use portcullis_contract::{Method, Operation};

use super::tokens::Caller;
use super::{Check, Run, Sender};
use crate::progress::Progress;

impl Run<'_> {
    pub(super) async fn negatives(
        &mut self,
        api: &Api,
        senders: &BTreeMap<String, Sender<'_>>,
        progress: &mut dyn Progress,
    ) {
        let work = self.negative_work(api, senders);
        progress.start("negatives", work.len());
        for (op, sender, negative) in work {
            progress.tick();
            let Some(token) = self.credential(api, op, sender, &negative).await else {
                continue;
            };
            let what = || format!("{} {}", op.id, negative.detail);
            let answer = match self.send(&negative.probe, token.as_deref()).await {
                Ok(answer) => answer,
                Err(why) => {
                    self.skip(what(), why);
                    continue;
                }
            };
            let expected = match negative.expect {
                Expect::Refused(code) => code.to_owned(),
                Expect::SameAsValid => sender.valid_got.clone(),
            };
            let (got, flaw) = self.judge(api, op, &negative.probe, &expected, &answer);
            self.report.checks.push(Check {
                kind: negative.kind.to_owned(),
                identity: sender.caller.identity.id.clone(),
                api: api.name.clone(),
                operation: op.id.clone(),
                request: format!(
                    "{} {} ({})",
                    negative.probe.method,
                    crate::shorten(&negative.probe.target, 80),
                    negative.detail
                ),
                expected,
                got,
                status: answer.status,
                flaw,
            });
        }
    }

    /// Every operation's family with who sends it; an operation nobody can
    /// send skipped.
    fn negative_work<'a, 's, 'c>(
        &mut self,
        api: &'a Api,
        senders: &'s BTreeMap<String, Sender<'c>>,
    ) -> Vec<(&'a Operation, &'s Sender<'c>, Negative)> {
        let mut work = Vec::new();
        for op in api.contract.operations() {
            let Some(sender) = senders.get(&op.id) else {
                if !op.method.is_write() || self.allow_writes {
                    self.skip(
                        format!("{}:{} negatives", api.name, op.id),
                        "no identity's token carries its scopes".into(),
                    );
                }
                continue;
            };
            for negative in self.family(api, op, sender) {
                work.push((op, sender, negative));
            }
        }
        work
    }

    /// `op`'s family from `sender`'s valid request; writes to undeclared
    /// methods only when allowed.
    pub(super) fn family(&self, api: &Api, op: &Operation, sender: &Sender<'_>) -> Vec<Negative> {
        let declared: Vec<Method> = api
            .contract
            .operations()
            .iter()
            .filter(|o| o.path == op.path)
            .map(|o| o.method)
            .collect();
        let family = negatives::family(op, &sender.built, &declared, self.config.limits.body_bytes);
        family
            .into_iter()
            .filter(|negative| {
                let method = Method::from_wire(&negative.probe.method);
                let undeclared_write = negative.probe.method != op.method.as_str()
                    && method.is_some_and(Method::is_write);
                !undeclared_write || self.allow_writes
            })
            .collect()
    }

    /// The token a variant is sent with: `Some(None)` for none at all;
    /// `None` (and a skipped entry) when it cannot be made.
    async fn credential(
        &mut self,
        api: &Api,
        op: &Operation,
        sender: &Sender<'_>,
        negative: &Negative,
    ) -> Option<Option<String>> {
        match self
            .token_for(api, op, sender.caller, negative.credential)
            .await
        {
            Ok(token) => Some(token),
            Err(why) => {
                self.skip(format!("{} {}", op.id, negative.detail), why);
                None
            }
        }
    }

    /// The token `caller` sends `credential` with to `op`: `None` for no
    /// credential at all.
    ///
    /// # Errors
    /// Why that token cannot be made here.
    pub(super) async fn token_for(
        &self,
        api: &Api,
        op: &Operation,
        caller: &Caller,
        credential: Credential,
    ) -> Result<Option<String>, String> {
        match credential {
            Credential::Valid => Ok(Some(caller.token.clone())),
            Credential::None => Ok(None),
            Credential::Expired => self.issuer.expired(caller, &api.name).map(Some),
            Credential::WithoutScope => {
                let needed: Vec<&String> =
                    op.security.iter().flatten().flat_map(|(_, s)| s).collect();
                let other: Vec<String> = caller
                    .scopes
                    .iter()
                    .filter(|s| !needed.contains(s))
                    .cloned()
                    .collect();
                if other.is_empty() {
                    Err("the identity holds no other scope".into())
                } else {
                    self.issuer
                        .narrower(caller, &other, &api.name)
                        .await
                        .map(Some)
                }
            }
        }
    }
}
