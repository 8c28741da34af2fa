//! Stage 12: record. A guard made when the request arrives and finished
//! with its outcome, so a refusal at any stage is recorded like a success,
//! and a request the client abandoned is logged when it is dropped.
//!
//! Finishing writes one structured log line and hands one audit entry to
//! the ledger's writer: ids, counts and codes, never a secret, a credential
//! or body content; query values whose names look secret are redacted. In
//! strict durability the response waits for the entry's commit, and a
//! ledger that cannot be written turns the response into 503 `unavailable`.

use http::Response;
use http_body_util::Either;
use hyper::body::Body as _;
use portcullis_audit::{Entry, OnBehalfOf, StageTime};
use portcullis_core::ProblemCode;

use crate::exchange::Exchange;
use crate::refusal::Refusal;
use crate::server::Body;

/// Query parameter names (or parts of them) whose values are never written.
const SECRET_NAMES: [&str; 10] = [
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "signature",
    "sig",
    "auth",
    "credential",
    "session",
];

/// The open record of one request.
#[derive(Debug)]
pub(crate) struct Record {
    method: String,
    path: String,
    finished: bool,
}

impl Record {
    pub(crate) fn start(method: &http::Method, uri: &http::Uri) -> Self {
        Self {
            method: method.as_str().to_owned(),
            path: redacted(uri),
            finished: false,
        }
    }

    /// Records the outcome (the response sent and, for a refusal, its code)
    /// and returns the response to send: the same one, or 503 when strict
    /// durability could not make the record durable.
    pub(crate) async fn finish(
        mut self,
        live: &crate::live::Live,
        ex: &mut Exchange,
        response: Response<Body>,
        code: Option<ProblemCode>,
    ) -> (Response<Body>, Option<ProblemCode>) {
        self.finished = true;
        ex.close_stage();
        let status = response.status().as_u16();
        let latency_us = u64::try_from(ex.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.log(ex, status, code, latency_us);
        let entry = self.entry(
            ex,
            status,
            code,
            response.body().size_hint().exact(),
            latency_us,
        );
        // In the record's wake, before awaiting it: the detectors see the
        // decision even if the client goes away while the record commits,
        // and what they hold bites from the identity's next request.
        live.watch.observe(ex, code);
        match live.audit.record(entry).await {
            Ok(_) => (response, code),
            Err(e) => {
                tracing::error!(request_id = %ex.request_id, error = %e, "the decision could not be recorded; refusing");
                let refusal = Refusal::new(
                    ProblemCode::Unavailable,
                    "the gateway could not record the decision",
                );
                (
                    refusal.into_response(ex).map(Either::Left),
                    Some(ProblemCode::Unavailable),
                )
            }
        }
    }

    fn log(&self, ex: &Exchange, status: u16, code: Option<ProblemCode>, latency_us: u64) {
        let (policies, policy_errors) = ex
            .decision
            .as_ref()
            .map_or((&[][..], 0), |d| (d.determining.as_slice(), d.errors.len()));
        // Formatted only if the line is written: nothing is built when
        // info-level logging is off.
        let policies = Joined(policies);
        tracing::info!(
            request_id = %ex.request_id,
            trace_id = %ex.trace_id,
            method = %self.method,
            path = %self.path,
            api = ex.api.as_deref().unwrap_or("-"),
            operation = ex.operation.as_deref().unwrap_or("-"),
            identity = ex.identity.as_deref().unwrap_or("-"),
            stage = ex.stage.as_str(),
            status,
            code = code.map_or("-", ProblemCode::as_str),
            snapshot = ex.snapshot,
            observed = ex.observed.map_or("-", ProblemCode::as_str),
            policies = %policies,
            policy_errors,
            peer = %ex.peer,
            latency_us,
            "request"
        );
    }

    /// The audit entry. What nothing reads after the record is moved into
    /// it rather than copied.
    fn entry(
        &mut self,
        ex: &mut Exchange,
        status: u16,
        code: Option<ProblemCode>,
        bytes_out: Option<u64>,
        latency_us: u64,
    ) -> Entry {
        Entry {
            time_ms: ex.arrived_ms,
            request_id: ex.request_id.clone(),
            trace_id: std::mem::take(&mut ex.trace_id),
            identity: ex.identity.clone(),
            credential: ex.credential.take(),
            token: ex.token.take(),
            client_id: ex.client_id.take(),
            api: ex.api.clone(),
            operation: ex.operation.clone(),
            method: std::mem::take(&mut self.method),
            path: std::mem::take(&mut self.path),
            stage: ex.stage.as_str().into(),
            decision: decision(code, ex.observed).into(),
            code: code.map(|c| c.as_str().into()),
            observed: ex.observed.map(|c| c.as_str().into()),
            policies: ex
                .decision
                .as_ref()
                .map(|d| d.determining.clone())
                .unwrap_or_default(),
            policy_errors: ex
                .decision
                .as_ref()
                .map_or(0, |d| u32::try_from(d.errors.len()).unwrap_or(u32::MAX)),
            snapshot: ex.snapshot,
            contract: ex.contract.as_ref().map(|c| c.digest().to_owned()),
            upstream_status: ex.upstream_status,
            status,
            bytes_in: ex.bytes_in,
            bytes_out: bytes_out.unwrap_or(0),
            latency_us,
            stages: ex
                .stage_times()
                .map(|(stage, us)| StageTime {
                    stage: stage.as_str().into(),
                    us,
                })
                .collect(),
            source: ex.peer.to_string(),
            fields_stripped: ex.fields_stripped,
            secrets_redacted: ex.secrets_redacted,
            mcp: ex.mcp.take(),
            alert: None,
            state_change: None,
            ack: None,
            credential_change: None,
            on_behalf_of: ex.delegation.as_deref().map(|d| OnBehalfOf {
                person: d.person.clone(),
                issuer: d.issuer.clone(),
                chain: d.chain.clone(),
            }),
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if !self.finished {
            tracing::info!(method = %self.method, path = %self.path, "request abandoned by the client");
        }
    }
}

/// Ids written comma-separated, without building the string first.
struct Joined<'a>(&'a [String]);

impl std::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(id)?;
        }
        Ok(())
    }
}

/// `allow`, `deny`, or `observe` (forwarded, though enforce would refuse).
pub(crate) fn decision(code: Option<ProblemCode>, observed: Option<ProblemCode>) -> &'static str {
    match (code, observed) {
        (Some(_), _) => "deny",
        (None, Some(_)) => "observe",
        (None, None) => "allow",
    }
}

/// The path and query as received, with the values of query parameters
/// whose names look secret replaced by `[REDACTED]`.
pub(crate) fn redacted(uri: &http::Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.to_owned();
    };
    let mut out = String::with_capacity(path.len() + 1 + query.len());
    out.push_str(path);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let lower = name.to_ascii_lowercase();
        if !value.is_empty() && (lower == "code" || SECRET_NAMES.iter().any(|s| lower.contains(s)))
        {
            out.push_str(name);
            out.push_str("=[REDACTED]");
        } else {
            out.push_str(pair);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn secret_looking_query_values_are_redacted() {
        let uri: http::Uri = "/a/b?limit=5&api_key=abc&Access_Token=x&code=123&status=paid&sig="
            .parse()
            .unwrap();
        assert_eq!(
            redacted(&uri),
            "/a/b?limit=5&api_key=[REDACTED]&Access_Token=[REDACTED]&code=[REDACTED]&status=paid&sig="
        );
        let plain: http::Uri = "/a?x=1".parse().unwrap();
        assert_eq!(redacted(&plain), "/a?x=1");
    }
}
