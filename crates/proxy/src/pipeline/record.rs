//! Stage 12: record. A guard created when the request arrives and finished
//! with its outcome, so a refusal at any stage is recorded like a success,
//! and a request the client abandoned is recorded when it is dropped.
//!
//! In this build the record is one structured log line; the audit ledger
//! issue adds the tamper-evident record and metrics behind this same guard.

use portcullis_core::ProblemCode;

use crate::exchange::Exchange;

/// The open record of one request.
#[derive(Debug)]
pub(crate) struct Record {
    method: String,
    path: String,
    finished: bool,
}

impl Record {
    pub(crate) fn start(method: &http::Method, path: &str) -> Self {
        Self {
            method: method.as_str().to_owned(),
            path: path.to_owned(),
            finished: false,
        }
    }

    /// Records the outcome: the status sent and, for a refusal, its code.
    pub(crate) fn finish(mut self, ex: &Exchange, status: u16, code: Option<ProblemCode>) {
        self.finished = true;
        let (policies, policy_errors) = ex.decision.as_ref().map_or((String::new(), 0), |d| {
            (d.determining.join(","), d.errors.len())
        });
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
            latency_us = u64::try_from(ex.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if !self.finished {
            tracing::info!(method = %self.method, path = %self.path, "request abandoned by the client");
        }
    }
}
