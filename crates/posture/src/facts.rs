//! What the assessment reads: plain data, gathered from the store, the
//! ledger and the configuration by `gather`, or built by hand in tests.

use std::collections::{BTreeMap, BTreeSet};

use portcullis_core::{Identity, UnixTime};

/// Everything one report is made from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Unix seconds.
    pub now: UnixTime,
    /// The ledger window the usage covers, in days.
    pub window_days: u32,
    /// Whether the ledger could be read at all (usage is empty otherwise,
    /// and the findings that need it are not made).
    pub ledger_read: bool,
    /// The gateway's own environment, when the configuration names one.
    pub environment: Option<String>,
    pub token_max_ttl_secs: u64,
    /// Scopes any contract names (a scope none names is for the admin API).
    pub scopes_known: BTreeSet<String>,
    pub apis: Vec<ApiFacts>,
    pub identities: Vec<IdentityFacts>,
}

/// One API's upstream as the configuration sends to it.
#[derive(Debug, Clone, Default)]
pub struct ApiFacts {
    pub name: String,
    /// The gateway adds its own credential (`upstream_auth`).
    pub shared_credential: bool,
    /// `http://` to a host that is not loopback.
    pub plain_http_remote: bool,
    pub upstream: String,
}

/// One credential, without its secret.
#[derive(Debug, Clone)]
pub struct CredentialFacts {
    pub id: String,
    /// `client-secret`, `api-key` or `private-key-jwt`.
    pub kind: String,
    pub created: UnixTime,
    pub expires: UnixTime,
    pub revoked: bool,
}

/// What the ledger shows one identity did within the window.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub requests: u64,
    /// `api:operationId` of each operation it was allowed to call.
    pub operations: BTreeSet<String>,
    /// Source addresses (without port), with how many requests each.
    pub sources: BTreeMap<String, u64>,
    /// Secrets the response check redacted from what it was sent.
    pub secrets_redacted: u64,
    /// Alerts not followed by a release (state back to active), by
    /// detector: how many, and the last one's action.
    pub open_alerts: BTreeMap<String, (u64, String)>,
}

/// One identity and what is known of it.
#[derive(Debug, Clone)]
pub struct IdentityFacts {
    pub identity: Identity,
    pub credentials: Vec<CredentialFacts>,
    /// APIs it has its own upstream credential for.
    pub own_upstream: BTreeSet<String>,
    pub usage: Usage,
    /// `api:operationId` the policies and its scopes could ever permit.
    pub permitted: BTreeSet<String>,
    /// Scopes the operations it used require (any of their requirements).
    pub scopes_used: BTreeSet<String>,
}
