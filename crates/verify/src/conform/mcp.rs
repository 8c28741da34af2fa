//! The MCP face through the gateway (`/mcp`), checked as each identity with
//! the token the HTTP pass used for it:
//!
//! - **Listing.** `initialize`, then `tools/list` following cursors; the
//!   tools listed must be exactly those the configuration permits, computed
//!   by the gateway's own `portcullis_mcp::visible` over the configuration
//!   `verify` was given, each defined as the contract makes it; and every
//!   operation the HTTP pass saw allowed for the identity must be listed
//!   (a tool never listed must never be allowed).
//! - **Negatives.** Each negative of the operation's HTTP family that has
//!   a `tools/call` form (a parameter left out or of the wrong type, an
//!   undeclared body field, a body over the limit, the credential cases)
//!   is sent as the call its arguments stand for, by the same sender with
//!   the same credential, and must be refused with the code the HTTP
//!   negative must get: a tool result with `isError` and the problem
//!   document, or the `/mcp` request itself refused where the HTTP one is
//!   (no credential; a message holding a body over the limit is over the
//!   same limit). Kinds without such a form (the path's spelling, the
//!   method, the content type, added headers) are counted, with why
//!   (`expect::not_applicable`).
//!
//! What to expect is pure (`expect`); the only I/O is `session`'s.

use std::collections::BTreeMap;

use portcullis_config::Api;
use portcullis_contract::Operation;
use serde_json::{Map, Value};

use super::report::{Listing, McpCall, McpFailure};
use super::tokens::Caller;
use super::{Run, Sender};
use crate::negatives::{Expect, Negative};
use crate::progress::Progress;

mod expect;
mod session;
#[cfg(test)]
mod tests;

pub use expect::tool_set;
use session::{Session, SessionError};

/// One negative to send as a `tools/call`: the operation, who sends it,
/// the tool, the negative, the code it must get and the arguments.
type Work<'o, 's, 'c> = (
    &'o Operation,
    &'s Sender<'c>,
    String,
    Negative,
    &'static str,
    Map<String, Value>,
);

impl<'a> Run<'a> {
    /// The MCP pass for `api`: each caller's listing, then the negatives
    /// of each operation `senders` sends; every session ended after.
    pub(super) async fn mcp(
        &mut self,
        api: &Api,
        callers: &[Caller],
        senders: &BTreeMap<String, Sender<'_>>,
        progress: &mut dyn Progress,
    ) {
        for out in self.tools.excluded.iter().filter(|e| e.api == api.name) {
            self.report.mcp.skipped.push((
                format!("{}:{}", api.name, out.operation),
                format!("not offered as a tool: {}", out.reason),
            ));
        }
        progress.start("MCP listings", callers.len());
        let mut sessions = BTreeMap::new();
        for caller in callers {
            progress.tick();
            if let Some(session) = self.listing(api, caller).await {
                sessions.insert(caller.identity.id.clone(), session);
            }
        }
        self.mcp_negatives(api, senders, &mut sessions, progress)
            .await;
        for session in sessions.into_values() {
            session.end().await;
        }
    }

    /// Opens `caller`'s session and checks its listing; the session, for
    /// the negatives, unless it could not be opened.
    async fn listing(&mut self, api: &Api, caller: &Caller) -> Option<Session<'a>> {
        let mut session = match Session::open(self.gateway, &caller.token).await {
            Ok(session) => session,
            Err(e) => {
                self.session_failed(api, caller, &e);
                return None;
            }
        };
        let listed = match session.list().await {
            Ok(listed) => listed,
            Err(e) => {
                self.session_failed(api, caller, &e);
                return Some(session);
            }
        };
        let expected = expect::expected_tools(
            self.config,
            &self.tools,
            &caller.identity,
            &caller.scopes,
            &api.name,
        );
        let differing = expect::differing(&expected, &listed);
        let expected: Vec<String> = expected.iter().map(|t| t.name.clone()).collect();
        let listed: Vec<String> = listed
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let allowed_unlisted = expect::allowed_unlisted(
            &self.report.checks,
            &self.tools,
            &caller.identity.id,
            &api.name,
            &expected,
            &listed,
        );
        self.report.mcp.listings.push(Listing {
            identity: caller.identity.id.clone(),
            api: api.name.clone(),
            expected,
            listed,
            differing,
            allowed_unlisted,
        });
        Some(session)
    }

    fn session_failed(&mut self, api: &Api, caller: &Caller, e: &SessionError) {
        let identity = caller.identity.id.clone();
        match e {
            SessionError::NoAnswer { .. } => self
                .report
                .mcp
                .skipped
                .push((format!("{identity} on {}", api.name), e.to_string())),
            SessionError::Protocol { step, what } => {
                self.report.mcp.failures.push(McpFailure {
                    identity,
                    api: api.name.clone(),
                    step: (*step).to_owned(),
                    message: what.clone(),
                });
            }
        }
    }

    /// Each operation's negatives that have a `tools/call` form, through
    /// the sender's session with the variant's credential.
    async fn mcp_negatives(
        &mut self,
        api: &Api,
        senders: &BTreeMap<String, Sender<'_>>,
        sessions: &mut BTreeMap<String, Session<'a>>,
        progress: &mut dyn Progress,
    ) {
        let work = self.mcp_work(api, senders);
        progress.start("MCP negatives", work.len());
        for (op, sender, tool, negative, expected, arguments) in work {
            progress.tick();
            let identity = &sender.caller.identity.id;
            let what = || format!("{} tools/call {tool} ({})", identity, negative.detail);
            let Some(session) = sessions.get_mut(identity) else {
                let why = "no MCP session could be opened as the identity".to_owned();
                self.report.mcp.skipped.push((what(), why));
                continue;
            };
            let token = match self
                .token_for(api, op, sender.caller, negative.credential)
                .await
            {
                Ok(token) => token,
                Err(why) => {
                    self.report.mcp.skipped.push((what(), why));
                    continue;
                }
            };
            let answer = match session.call(token.as_deref(), &tool, &arguments).await {
                Ok(answer) => answer,
                Err(why) => {
                    self.report
                        .mcp
                        .skipped
                        .push((what(), format!("no answer: {why}")));
                    continue;
                }
            };
            let judged = expect::judge_call(&answer);
            let sent = crate::shorten(&Value::Object(arguments).to_string(), 80);
            self.report.mcp.calls.push(McpCall {
                kind: negative.kind.to_owned(),
                identity: identity.clone(),
                api: api.name.clone(),
                operation: op.id.clone(),
                request: format!("{tool} {sent} ({})", negative.detail),
                tool,
                expected: expected.to_owned(),
                got: judged.got,
                via: judged.via,
                flaw: judged.flaw,
            });
        }
    }

    /// The negatives to send as calls, each with its arguments; those
    /// without a `tools/call` form counted by kind and reason.
    fn mcp_work<'o, 's, 'c>(
        &mut self,
        api: &'o Api,
        senders: &'s BTreeMap<String, Sender<'c>>,
    ) -> Vec<Work<'o, 's, 'c>> {
        let mut work = Vec::new();
        for op in api.contract.operations() {
            // Without a sender the HTTP pass already said why.
            let Some(sender) = senders.get(&op.id) else {
                continue;
            };
            let tool = self
                .tools
                .tools
                .iter()
                .find(|t| t.api == api.name && t.operation == op.id);
            // Without a tool the listing's skipped entry says why.
            let Some(tool) = tool.map(|t| t.name.clone()) else {
                continue;
            };
            for negative in self.family(api, op, sender) {
                let mapped = match (expect::not_applicable(negative.kind), &negative.expect) {
                    (Some(why), _) => Err(why.to_owned()),
                    (None, Expect::SameAsValid) => Err(
                        "it must be answered as the valid request, which is not sent as a call"
                            .into(),
                    ),
                    (None, Expect::Refused(code)) => {
                        expect::arguments(&api.contract, &api.mount, op, &negative.probe)
                            .map(|arguments| (*code, arguments))
                    }
                };
                match mapped {
                    Ok((code, arguments)) => {
                        work.push((op, sender, tool.clone(), negative, code, arguments));
                    }
                    Err(why) => {
                        *self
                            .report
                            .mcp
                            .not_applicable
                            .entry((negative.kind.to_owned(), why))
                            .or_default() += 1;
                    }
                }
            }
        }
        work
    }
}
