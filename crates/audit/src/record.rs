//! What one audit record holds, and its canonical encoding.
//!
//! The gateway fills an [`Entry`] (ids, counts, codes: never a secret, a
//! token, a credential or body content). The writer seals it: it assigns the
//! sequence number and the time-ordered id, names the previous record's
//! hash, and encodes the whole as canonical JSON: the fields in declaration
//! order, no whitespace, integers only. The hash is over exactly those bytes,
//! and those bytes are what is stored, so verification never depends on
//! re-encoding.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::chain::Hash;

/// Time spent in one pipeline stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTime {
    /// A stage's name: the gateway's are static, so a record costs no
    /// allocation per stage.
    pub stage: Cow<'static, str>,
    pub us: u64,
}

/// One decided request, as the gateway reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When the request arrived, milliseconds since the Unix epoch (the
    /// wall clock: it may step backwards; order is the sequence number's).
    pub time_ms: i64,
    pub request_id: String,
    pub trace_id: String,
    pub identity: Option<String>,
    /// The API key or other credential id, when one was used.
    pub credential: Option<String>,
    /// The access token's `jti`, when a token was used.
    pub token: Option<String>,
    pub api: Option<String>,
    pub operation: Option<String>,
    pub method: String,
    /// The path as received, query values that look secret redacted.
    pub path: String,
    /// The stage that decided: the refusing one, or `check_response`.
    pub stage: Cow<'static, str>,
    /// `allow`, `deny`, or `observe` (would have been denied, was forwarded).
    pub decision: Cow<'static, str>,
    /// The problem code sent, when refused.
    pub code: Option<Cow<'static, str>>,
    /// Observe mode: the code it would have been refused with.
    pub observed: Option<Cow<'static, str>>,
    /// Determining policy ids.
    pub policies: Vec<String>,
    /// How many policy evaluation errors there were (their text is logged).
    pub policy_errors: u32,
    /// The configuration snapshot version that decided.
    pub snapshot: u64,
    /// SHA-256 of the matched API's contract.
    pub contract: Option<String>,
    pub upstream_status: Option<u16>,
    pub status: u16,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency_us: u64,
    pub stages: Vec<StageTime>,
    /// The caller's address.
    pub source: String,
    /// What the response check did (counts, never the values).
    pub fields_stripped: u32,
    pub secrets_redacted: u32,
    /// The client id a token request tried, authenticated or not (absent
    /// from other records, so records written before it hash as they did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A request to the MCP endpoint: the JSON-RPC method, the tool and the
    /// session (absent from every other record, for the same reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpCall>,
    /// Whom the request acted for, when its token was exchanged (RFC 8693),
    /// or, at the token endpoint, whom the token it issued acts for (absent
    /// from every other record, for the same reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<OnBehalfOf>,
    /// An alert record's detector, evidence and action (absent from every
    /// other record, for the same reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<crate::event::Alert>,
    /// A state-change record's states, who changed it and why (likewise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_change: Option<crate::event::StateChange>,
    /// An acknowledgement record's alert and admin (likewise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<crate::event::Acknowledgement>,
    /// A credential change's credential, action and admin (likewise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_change: Option<crate::event::CredentialChange>,
}

impl Entry {
    /// Whether this records a request (`allow`, `deny` or `observe`), not
    /// an event beside them (an alert, a state change, an acknowledgement,
    /// a credential change): what counts as an identity's traffic.
    pub fn is_request(&self) -> bool {
        matches!(self.decision.as_ref(), "allow" | "deny" | "observe")
    }
}

/// The delegation behind a request: the person, where they come from, and
/// every identity acting, outermost (the caller) first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnBehalfOf {
    pub person: String,
    pub issuer: String,
    pub chain: Vec<String>,
}

/// What an MCP request was, beside the HTTP request that carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpCall {
    /// The JSON-RPC method (`tools/call`), or the HTTP method's meaning for
    /// a request without one (`open-stream`, `end-session`).
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The JSON-RPC error code sent, when the message was refused as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_error: Option<i64>,
}

/// A record as stored: sequence, id, predecessor, entry; its canonical
/// bytes, and their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub seq: u64,
    pub body: String,
    pub hash: Hash,
}

/// The canonical form: what is hashed and stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct Body {
    pub seq: u64,
    /// Time-ordered: `<time_ms as 13 digits>-<seq as 12 digits>`, so ids sort
    /// by time for humans and stay unique.
    pub id: String,
    /// The previous record's hash, hex.
    pub prev: String,
    pub entry: Entry,
}

impl Body {
    /// The record on one line, for people (`audit tail`, `alerts tail`).
    pub fn line(&self) -> String {
        let e = &self.entry;
        let head = format!("{} {} {:<7}", self.seq, self.id, e.decision);
        let who = e.identity.as_deref().unwrap_or("-");
        if let Some(a) = &e.alert {
            return format!(
                "{head} {who} {} -> {} (level {}, {}): {} of {} in {}s{}{}",
                a.detector,
                a.action,
                a.level,
                a.mode,
                a.count,
                a.threshold,
                a.window_ms / 1000,
                a.baseline
                    .map_or(String::new(), |b| format!(", baseline {b}")),
                a.subject
                    .as_ref()
                    .map_or(String::new(), |s| format!(", {s}")),
            );
        }
        if let Some(c) = &e.state_change {
            return format!(
                "{head} {who} {} -> {} by {}{}",
                c.from.as_deref().unwrap_or("-"),
                c.to,
                c.by,
                c.reason
                    .as_ref()
                    .map_or(String::new(), |r| format!(": {r}")),
            );
        }
        format!(
            "{head} {} {:<24} {:<20} {} {} {}{}",
            e.status,
            e.code.as_deref().unwrap_or("-"),
            who,
            e.method,
            e.path,
            e.policies.join(","),
            e.observed
                .as_ref()
                .map_or(String::new(), |o| format!(" (would be {o})")),
        )
    }
}

/// The canonical form, borrowing its entry (what sealing encodes).
#[derive(Serialize)]
struct BodyRef<'a> {
    seq: u64,
    id: String,
    prev: String,
    entry: &'a Entry,
}

/// The id of record `seq` written at `time_ms`.
pub fn record_id(time_ms: i64, seq: u64) -> String {
    format!("{:013}-{seq:012}", time_ms.max(0))
}

impl Sealed {
    /// Seals `entry` as record `seq` after the record hashed `prev`.
    ///
    /// # Errors
    /// The entry cannot be encoded (never for the gateway's own entries).
    pub fn seal(seq: u64, prev: Hash, entry: Entry) -> Result<Self, serde_json::Error> {
        Self::seal_ref(seq, prev, &entry)
    }

    /// As [`Sealed::seal`], without taking the entry (the writer keeps it
    /// until the commit succeeds).
    ///
    /// # Errors
    /// The entry cannot be encoded.
    pub fn seal_ref(seq: u64, prev: Hash, entry: &Entry) -> Result<Self, serde_json::Error> {
        // Same field order as `Body`: the two must encode identically.
        let body = BodyRef {
            seq,
            id: record_id(entry.time_ms, seq),
            prev: prev.to_hex(),
            entry,
        };
        let body = serde_json::to_string(&body)?;
        let hash = Hash::of(body.as_bytes());
        Ok(Self { seq, body, hash })
    }

    /// The decoded body.
    ///
    /// # Errors
    /// The stored text is not a record (it was edited).
    pub fn decode(&self) -> Result<Body, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_count_as_traffic() {
        for (decision, request) in [
            ("allow", true),
            ("deny", true),
            ("observe", true),
            ("alert", false),
            ("state", false),
            ("ack", false),
            ("credential", false),
        ] {
            let e = Entry {
                decision: decision.into(),
                ..Entry::default()
            };
            assert_eq!(e.is_request(), request, "{decision}");
        }
    }

    #[test]
    fn sealing_is_deterministic_and_chains() {
        let entry = Entry {
            time_ms: 1_700_000_000_123,
            request_id: "r1".into(),
            method: "GET".into(),
            path: "/orders/v1/orders".into(),
            status: 200,
            ..Entry::default()
        };
        let a = Sealed::seal(1, Hash::GENESIS, entry.clone()).unwrap();
        let b = Sealed::seal(1, Hash::GENESIS, entry.clone()).unwrap();
        assert_eq!(a, b);
        assert!(
            a.body
                .starts_with("{\"seq\":1,\"id\":\"1700000000123-000000000001\",\"prev\":\"0000")
        );
        let next = Sealed::seal(2, a.hash, entry).unwrap();
        assert_eq!(next.decode().unwrap().prev, a.hash.to_hex());
        assert_ne!(next.hash, a.hash);
    }
}
