//! The configuration file as written: plain structs, no checks beyond syntax
//! and field names. Locations are kept so later checks can name the line.

use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub listen: Option<Spanned<String>>,
    pub mode: Option<Spanned<String>>,
    pub apis: Option<Spanned<Vec<RawApi>>>,
    pub limits: Option<RawLimits>,
    pub admin: Option<Spanned<RawAdmin>>,
    pub storage: Option<Spanned<String>>,
    pub identities: Option<Spanned<String>>,
    pub tokens: Option<Spanned<RawTokens>>,
    /// `env:NAME` or `file:PATH` of the key that seals per-identity upstream credentials.
    pub sealing_key: Option<Spanned<String>>,
    /// The folder of `*.cedar` policy files.
    pub policies: Option<Spanned<String>>,
    pub audit: Option<Spanned<RawAudit>>,
    pub rate_limits: Option<Spanned<RawRateLimits>>,
    pub fleet: Option<Spanned<RawFleet>>,
    /// Findings of `check` reviewed and accepted, each with its reason.
    pub accept: Option<Spanned<Vec<Spanned<RawAccept>>>>,
    /// The MCP face's settings.
    pub mcp: Option<Spanned<RawMcp>>,
    /// Token exchange: agents acting for people.
    pub delegation: Option<Spanned<RawDelegation>>,
    /// The anomaly watch and its graded response.
    pub watch: Option<Spanned<RawWatch>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWatch {
    pub mode: Option<Spanned<String>>,
    pub escalation: Option<Spanned<String>>,
    pub history: Option<Spanned<String>>,
    pub max_identities: Option<Spanned<i64>>,
    pub throttle: Option<Spanned<RawThrottle>>,
    pub webhook: Option<Spanned<RawWebhook>>,
    pub detectors: Option<Spanned<RawDetectors>>,
    pub overrides: Option<Spanned<Vec<Spanned<RawWatchOverride>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThrottle {
    pub rate: Spanned<String>,
    #[serde(rename = "for")]
    pub lasts: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub url: Spanned<String>,
    pub timeout: Option<Spanned<String>>,
    pub attempts: Option<Spanned<i64>>,
}

/// The detectors by name: a misspelt one is a load error at its line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDetectors {
    pub probing: Option<Spanned<RawDetector>>,
    pub enumeration: Option<Spanned<RawDetector>>,
    pub deny_spike: Option<Spanned<RawDetector>>,
    pub novelty: Option<Spanned<RawDetector>>,
    pub volume: Option<Spanned<RawDetector>>,
}

/// Every detector's settings in one shape; which belong to which detector
/// is checked when building.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDetector {
    pub enabled: Option<Spanned<bool>>,
    pub window: Option<Spanned<String>>,
    pub threshold: Option<Spanned<i64>>,
    pub distinct: Option<Spanned<i64>>,
    pub sequence: Option<Spanned<i64>>,
    pub min: Option<Spanned<i64>>,
    pub factor: Option<Spanned<i64>>,
    pub warmup_windows: Option<Spanned<i64>>,
    pub warmup: Option<Spanned<String>>,
    pub warmup_records: Option<Spanned<i64>>,
    pub cooldown: Option<Spanned<String>>,
    pub kinds: Option<Spanned<Vec<Spanned<String>>>>,
    pub respond: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWatchOverride {
    pub identity: Option<Spanned<String>>,
    pub mode: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub detectors: Option<Spanned<RawDetectors>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDelegation {
    pub issuers: Option<Spanned<Vec<Spanned<RawIssuer>>>>,
    pub actors: Option<Spanned<Vec<Spanned<String>>>>,
    pub max_chain: Option<Spanned<u32>>,
    pub max_ttl: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIssuer {
    pub issuer: Spanned<String>,
    pub jwks: Spanned<String>,
    /// The least time between two reads of the key set.
    pub jwks_refresh: Option<Spanned<String>>,
    /// The longest a read key set is trusted before it is read again.
    pub jwks_max_age: Option<Spanned<String>>,
    pub audience: Spanned<String>,
    pub algorithms: Spanned<Vec<Spanned<String>>>,
    pub claims: Option<Spanned<std::collections::BTreeMap<String, Spanned<RawClaim>>>>,
    pub scopes: Option<Spanned<RawScopes>>,
}

/// A claim mapped onto `Person`: its name in the token, or that and a type.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawClaim {
    Name(String),
    Typed {
        claim: String,
        #[serde(rename = "type")]
        ty: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScopes {
    pub claim: Option<String>,
    pub map: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMcp {
    /// Browser origins (`scheme://host[:port]`) allowed to call `/mcp`.
    pub allowed_origins: Option<Vec<Spanned<String>>>,
}

/// One accepted finding: its rule, what it is about, and why it is fine.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccept {
    pub rule: String,
    pub subject: String,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFleet {
    pub stale_after: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateLimits {
    pub per_identity: Option<Spanned<String>>,
    pub burst: Option<Spanned<u32>>,
    /// `api:operationId` to a rate for each identity on that operation.
    pub operations: Option<Spanned<std::collections::BTreeMap<String, RawOperationRate>>>,
    /// `redis://host:port`: the buckets shared by every node of a fleet.
    pub backend: Option<Spanned<String>>,
    /// `local` or `deny`: what a node does while the backend is unreachable.
    pub on_unavailable: Option<Spanned<String>>,
}

/// `5/s`, or `{ rate: 5/s, burst: 10 }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawOperationRate {
    Rate(String),
    WithBurst { rate: String, burst: Option<u32> },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAudit {
    pub ledger: Option<Spanned<String>>,
    pub durability: Option<Spanned<String>>,
    pub checkpoint_every: Option<Spanned<u64>>,
    pub checkpoint_interval: Option<Spanned<String>>,
    pub retention: Option<Spanned<String>>,
    pub max_records: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    pub listen: Spanned<String>,
    /// The JSON report `portcullis verify --report-json` writes, which the
    /// console's Verify page shows.
    pub verify_report: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTokens {
    pub issuer: Option<Spanned<String>>,
    pub default_ttl: Option<Spanned<String>>,
    pub max_ttl: Option<Spanned<String>>,
    pub leeway: Option<Spanned<String>>,
    pub failed_auth: Option<RawFailedAuth>,
}

/// How many failed client authentications the token endpoint takes before
/// it answers 429: per client id, and per source address.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFailedAuth {
    pub per_client: Option<Spanned<String>>,
    pub per_address: Option<Spanned<String>>,
}

/// `identities.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInventory {
    pub identities: Vec<Spanned<RawIdentity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIdentity {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub owner: Spanned<String>,
    pub environment: Spanned<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<Spanned<String>>,
    pub state: Option<Spanned<String>>,
    pub expires: Option<Spanned<String>>,
    #[serde(default)]
    pub keys: Vec<Spanned<RawKey>>,
}

/// A public key an identity signs client assertions with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKey {
    pub id: String,
    pub jwk: serde_json::Value,
    pub expires: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApi {
    pub name: Spanned<String>,
    pub mode: Option<Spanned<String>>,
    pub contract: Spanned<String>,
    pub mount: Spanned<String>,
    pub upstream: Spanned<String>,
    pub upstream_auth: Option<Spanned<RawUpstreamAuth>>,
    #[serde(default)]
    pub forward_caller_credential: bool,
    pub responses: Option<RawResponses>,
    pub timeouts: Option<RawTimeouts>,
    /// Settings of single operations, by `operationId`.
    pub operations: Option<std::collections::BTreeMap<String, Spanned<RawOperation>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOperation {
    pub uniform_failure: Option<Spanned<RawUniformFailure>>,
}

/// Failure answers of an operation that must all look the same.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUniformFailure {
    pub when: Vec<Spanned<RawFailureMatch>>,
    pub status: u16,
    pub body: serde_json::Value,
}

/// One kind of failure answer: its status, and/or a value at a JSON pointer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFailureMatch {
    pub status: Option<u16>,
    pub pointer: Option<String>,
    pub equals: Option<serde_json::Value>,
}

/// One of: `{header, value}`, `{bearer}`, `{basic: {username, password}}`,
/// `{query: {name, value}}`. Values are `env:NAME` or `file:PATH`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUpstreamAuth {
    pub header: Option<String>,
    pub value: Option<String>,
    pub bearer: Option<String>,
    pub basic: Option<RawBasic>,
    pub query: Option<RawQueryAuth>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasic {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQueryAuth {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawFields {
    Strip,
    Reject,
    Allow,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawSecrets {
    Redact,
    Block,
    Allow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawResponses {
    pub undeclared_fields: Option<RawFields>,
    pub secrets: Option<RawSecrets>,
    pub headers: Option<RawHeaders>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawHeaders {
    Strict,
    Allow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTimeouts {
    pub connect: Option<Spanned<String>>,
    pub response: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub body_bytes: Option<Spanned<u64>>,
    pub header_bytes: Option<Spanned<u64>>,
    pub response_bytes: Option<Spanned<u64>>,
    pub json_depth: Option<Spanned<u64>>,
    pub request_timeout: Option<Spanned<String>>,
}
