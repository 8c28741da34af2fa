//! Both sides of each delegation rule: for every identity that may act for
//! people (`delegation.actors`) and every operation whose policies read
//! `on_behalf_of` or `chain`, the operation's valid request sent with a
//! token acting for a person *inside* the rule's reach (each mapped string
//! claim the request's first path parameter value, as a tenant rule ties
//! them) and one *outside* it (a value no request carries), each compared
//! with what the intended configuration decides for that person.
//!
//! The tokens are issued from the gateway's store, as `portcullis token
//! exchange` would issue them: a person's token from an identity provider is
//! not verify's to make. Without the store, these checks are skipped with
//! the reason.

use std::collections::BTreeMap;

use portcullis_config::Api;
use portcullis_contract::ParamIn;
use portcullis_policy::Delegation;

use super::tokens::Caller;
use super::{Check, ConformError, Run};
use crate::progress::Progress;
use crate::request;

/// A claim value no request carries: the outside of a rule tying a claim to
/// a parameter.
const OUTSIDER: &str = "portcullis-verify-outsider";

impl Run<'_> {
    pub(super) async fn delegated(
        &mut self,
        api: &Api,
        callers: &[Caller],
        progress: &mut dyn Progress,
    ) -> Result<(), ConformError> {
        let Some(settings) = &self.config.delegation else {
            return Ok(());
        };
        let store = &self.config.policies.store;
        let ops: Vec<_> = api
            .contract
            .operations()
            .iter()
            .filter(|op| store.reads_delegation(&api.name, &op.id))
            .filter(|op| self.allow_writes || !op.method.is_write())
            .collect();
        let actors: Vec<&Caller> = callers
            .iter()
            .filter(|c| settings.actors.contains(&c.identity.id))
            .collect();
        if ops.is_empty() || actors.is_empty() {
            return Ok(());
        }
        let issuer = settings.issuers.first().map_or("", |i| i.issuer.as_str());
        let attrs = settings.person_attrs();
        progress.start("delegation rules", ops.len() * actors.len() * 2);
        for op in ops {
            let built = match request::valid(&api.mount, op, &BTreeMap::new()) {
                Ok(built) => built,
                Err(e) => {
                    self.skip(
                        format!("{}:{} delegated", api.name, op.id),
                        format!("no valid request: {e}"),
                    );
                    continue;
                }
            };
            let inside = built
                .path_values
                .first()
                .filter(|_| op.params.iter().any(|p| p.location == ParamIn::Path))
                .map_or(OUTSIDER, |(_, v)| v.as_str());
            for caller in &actors {
                for (side, value) in [("inside", inside), ("outside", OUTSIDER)] {
                    progress.tick();
                    let person = Delegation {
                        person: format!("verify-person-{side}"),
                        issuer: issuer.to_owned(),
                        claims: attrs
                            .iter()
                            .map(|a| (a.name.clone(), a.ty.sample(value)))
                            .collect(),
                        chain: vec![caller.identity.id.clone()],
                    };
                    let what = format!(
                        "{} for {} on {}:{}",
                        caller.identity.id, person.person, api.name, op.id
                    );
                    let token = match self.issuer.delegated(caller, &person, &api.name) {
                        Ok(token) => token,
                        Err(why) => {
                            self.skip(what, why);
                            continue;
                        }
                    };
                    let probe = &built.probe;
                    let expected = self.expect_for(caller, probe, Some(person.clone())).await?;
                    let answer = match self.send(probe, Some(&token)).await {
                        Ok(answer) => answer,
                        Err(why) => {
                            self.skip(what, why);
                            continue;
                        }
                    };
                    let (got, flaw) = self.judge(api, op, probe, &expected, &answer);
                    self.report.checks.push(Check {
                        kind: "delegated".into(),
                        identity: format!("{} for {}", caller.identity.id, person.person),
                        api: api.name.clone(),
                        operation: op.id.clone(),
                        request: format!("{} {}", probe.method, probe.target),
                        expected,
                        got,
                        status: answer.status,
                        flaw,
                    });
                }
            }
        }
        Ok(())
    }
}
