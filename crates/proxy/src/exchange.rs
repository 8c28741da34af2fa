//! The per-request context every stage reads: ids, the caller's address,
//! where the request got to, and timing.

use std::net::SocketAddr;
use std::time::Instant;

use http::HeaderMap;

/// Which pipeline stage is running (or decided), for logs and later the audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Limits,
    Discovery,
    Authenticate,
    Canonical,
    Route,
    IdentityState,
    Scopes,
    Validate,
    Authorize,
    RateLimit,
    Forward,
    CheckResponse,
}

impl Stage {
    /// Every stage, in pipeline order (the variants' order).
    pub(crate) const ALL: [Stage; 12] = [
        Stage::Limits,
        Stage::Discovery,
        Stage::Authenticate,
        Stage::Canonical,
        Stage::Route,
        Stage::IdentityState,
        Stage::Scopes,
        Stage::Validate,
        Stage::Authorize,
        Stage::RateLimit,
        Stage::Forward,
        Stage::CheckResponse,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Stage::Limits => "limits",
            Stage::Discovery => "discovery",
            Stage::Authenticate => "authenticate",
            Stage::Canonical => "canonical",
            Stage::Route => "route",
            Stage::IdentityState => "identity_state",
            Stage::Scopes => "scopes",
            Stage::Validate => "validate",
            Stage::Authorize => "authorize",
            Stage::RateLimit => "rate_limit",
            Stage::Forward => "forward",
            Stage::CheckResponse => "check_response",
        }
    }
}

/// One request's context.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub request_id: String,
    /// W3C trace id (32 hex) and this hop's span id (16 hex), plus flags.
    pub trace_id: String,
    pub span_id: String,
    pub trace_flags: String,
    pub peer: SocketAddr,
    pub started: Instant,
    /// Wall-clock arrival, milliseconds since the Unix epoch (for the record).
    pub arrived_ms: i64,
    pub stage: Stage,
    pub api: Option<String>,
    pub operation: Option<String>,
    pub identity: Option<String>,
    /// The snapshot (configuration, contracts, policies) that decided.
    pub snapshot: u64,
    /// The policy decision, once the authorize stage ran.
    pub decision: Option<portcullis_policy::Decision>,
    /// `explain`: nothing is forwarded and nothing about the identity's use
    /// is recorded.
    pub offline: bool,
    /// `explain` only: the Cedar request the authorize stage built.
    pub cedar: Option<serde_json::Value>,
    /// Observe mode: the code this request would have been refused with.
    pub observed: Option<portcullis_core::ProblemCode>,
    /// The credential that authenticated: an API key's id, or a token's `jti`.
    pub credential: Option<String>,
    pub token: Option<String>,
    /// A token request's client id, whether or not it authenticated.
    pub client_id: Option<String>,
    /// A refusal answered in another shape than problem+json (the OAuth
    /// endpoints answer RFC 6749 errors): the catalogue code it is recorded as.
    pub refused_as: Option<portcullis_core::ProblemCode>,
    /// A request to `/mcp`: what it was, for the record.
    pub mcp: Option<portcullis_audit::McpCall>,
    /// Whom the caller's token acts for, or the token an exchange issued.
    pub delegation: Option<std::sync::Arc<portcullis_policy::Delegation>>,
    /// The matched API's contract (its digest goes in the record).
    pub contract: Option<std::sync::Arc<portcullis_contract::Contract>>,
    pub upstream_status: Option<u16>,
    /// On an operation that reads a single record, the value of its last
    /// path segment (what the watch's enumeration detector counts).
    pub item: Option<String>,
    /// Request body bytes read.
    pub bytes_in: u64,
    /// What the response check did.
    pub fields_stripped: u32,
    pub secrets_redacted: u32,
    /// Microseconds spent in each stage, indexed by the stage's place in
    /// [`Stage::ALL`]; `None` for a stage not reached. A fixed array: the
    /// request path allocates nothing for it.
    pub timings: [Option<u64>; Stage::ALL.len()],
    stage_started: Instant,
}

impl Exchange {
    pub(crate) fn begin(headers: &HeaderMap, peer: SocketAddr, snapshot: u64) -> Self {
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| valid_request_id(v))
            .map(str::to_owned)
            .unwrap_or_else(|| random_hex(16));
        let parent = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent);
        let (trace_id, trace_flags) = match parent {
            Some((trace, flags)) => (trace.to_owned(), flags.to_owned()),
            None => (random_hex(16), "01".to_owned()),
        };
        Self {
            request_id,
            trace_id,
            span_id: random_hex(8),
            trace_flags,
            peer,
            started: Instant::now(),
            arrived_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            stage: Stage::Limits,
            api: None,
            operation: None,
            identity: None,
            snapshot,
            decision: None,
            offline: false,
            cedar: None,
            observed: None,
            credential: None,
            token: None,
            client_id: None,
            refused_as: None,
            mcp: None,
            delegation: None,
            contract: None,
            upstream_status: None,
            item: None,
            bytes_in: 0,
            fields_stripped: 0,
            secrets_redacted: 0,
            timings: [None; Stage::ALL.len()],
            stage_started: Instant::now(),
        }
    }

    /// Moves to `stage`, timing the one it leaves.
    pub(crate) fn enter(&mut self, stage: Stage) {
        self.close_stage();
        self.stage = stage;
    }

    /// Times the current stage (at the end of the request).
    pub(crate) fn close_stage(&mut self) {
        let now = Instant::now();
        let us =
            u64::try_from(now.duration_since(self.stage_started).as_micros()).unwrap_or(u64::MAX);
        // A stage entered twice (observe mode re-enters `limits`) adds up.
        if let Some(slot) = self.timings.get_mut(self.stage as usize) {
            *slot = Some(slot.unwrap_or(0).saturating_add(us));
        }
        self.stage_started = now;
    }

    /// The stages reached and their microseconds, in pipeline order.
    pub(crate) fn stage_times(&self) -> impl Iterator<Item = (Stage, u64)> + '_ {
        Stage::ALL
            .iter()
            .zip(&self.timings)
            .filter_map(|(stage, us)| us.map(|us| (*stage, us)))
    }

    /// The `traceparent` this hop sends upstream.
    pub(crate) fn traceparent(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.trace_flags)
    }
}

/// A caller's request id is carried only if it is short, plain text, so it
/// cannot smuggle anything into logs or headers.
fn valid_request_id(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// `00-<32 hex trace>-<16 hex parent>-<2 hex flags>`; all-zero ids are invalid.
fn parse_traceparent(v: &str) -> Option<(&str, &str)> {
    let mut parts = v.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let ok = parts.next().is_none()
        && version == "00"
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    ok.then_some((trace, flags))
}

fn random_hex(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let b = fastrand::u8(..);
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timings and the metrics' stage histograms are indexed by a stage's
    /// discriminant and read back through `Stage::ALL`.
    #[test]
    fn every_stage_sits_at_its_own_index_in_all() {
        for (i, stage) in Stage::ALL.iter().enumerate() {
            assert_eq!(*stage as usize, i, "{stage:?}");
        }
    }

    #[test]
    fn traceparent_is_carried_only_when_valid() {
        let t = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(t),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736", "01"))
        );
        assert!(
            parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none()
        );
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none()
        );
        assert!(
            parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none()
        );
    }

    #[test]
    fn request_ids_are_plain() {
        assert!(valid_request_id("req-1.a_b:c"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }
}
