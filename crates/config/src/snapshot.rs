//! The validated configuration the gateway runs on. Immutable; a reload
//! builds a new one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use portcullis_contract::Contract;
use portcullis_contract::response::ResponsePolicy;
use portcullis_policy::{PolicySchema, PolicyStore};

/// Enforce refuses; observe records what it would have refused and
/// forwards the request anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Observe,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Observe => "observe",
        }
    }
}

/// The Cedar policies, validated against the schema generated from the
/// contracts of this same configuration.
#[derive(Debug, Clone)]
pub struct Policies {
    /// The `policies:` folder as written; `None` when the file names none.
    pub dir: Option<String>,
    /// The policy files read, relative to the configuration's folder.
    pub files: Vec<String>,
    pub store: Arc<PolicyStore>,
    pub schema: Arc<PolicySchema>,
}

/// The whole gateway configuration. Cloning it is cheap: contracts and
/// policies are shared.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The default for APIs that do not set their own.
    pub mode: Mode,
    pub apis: Vec<Api>,
    pub policies: Policies,
    pub audit: AuditSettings,
    pub limits: Limits,
    pub rate_limits: RateLimits,
    pub storage: Storage,
    /// The declarative inventory (`identities.yaml`), applied at start.
    pub identities: Vec<SeedIdentity>,
    pub tokens: TokenSettings,
    /// Token exchange (agents acting for people); `None` when not configured.
    pub delegation: Option<crate::DelegationSettings>,
    /// The admin listener, if any. Never the gateway's own address.
    pub admin: Option<SocketAddr>,
    /// `admin.verify_report`: where `portcullis verify --report-json` writes
    /// the report the console shows (absolute; read when the page is asked
    /// for, so a reload or a new report needs no restart).
    pub verify_report: Option<std::path::PathBuf>,
    /// Seals per-identity upstream credentials at rest (base64 of 32 bytes).
    pub sealing_key: Option<SecretText>,
    /// `check`'s findings reviewed and accepted (`accept:`).
    pub accept: crate::Acceptances,
    pub mcp: McpSettings,
    /// The anomaly watch (`watch:`); `None` when not configured (nothing watched).
    pub watch: Option<portcullis_watch::WatchSettings>,
    pub fleet: FleetSettings,
    /// This node's id in the fleet register: never from the file (every
    /// node reads the same one), but from `serve --node` or
    /// `PORTCULLIS_NODE`; `None` makes it the host name and port.
    pub node: Option<String>,
    /// A digest of the files this configuration was read from: equal on
    /// nodes that read the same files (see `fleet status`).
    pub digest: String,
}

/// `fleet:`, how a node behaves among others on one PostgreSQL store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// How long a node may go without hearing from the store's change feed
    /// before it refuses every request with `unavailable` rather than serve
    /// state that may be stale.
    pub stale_after: Duration,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            stale_after: Duration::from_secs(3),
        }
    }
}

/// The MCP face (`/mcp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpSettings {
    /// Origins, lower-case `scheme://host[:port]`, whose browser pages may
    /// call `/mcp` besides the gateway's own (DNS-rebinding protection: a
    /// request with any other `Origin` is refused).
    pub allowed_origins: Vec<String>,
}

/// A secret read from the environment or a file; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

/// The audit ledger's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    pub ledger: LedgerPlace,
    pub durability: AuditDurability,
    /// Sign the chain head after this many records...
    pub checkpoint_every: u64,
    /// ...or this long after the first unsigned one.
    pub checkpoint_interval: Duration,
    /// Records older than this are pruned (at a checkpoint).
    pub retention: Option<Duration>,
    /// At most this many records are kept (pruned at a checkpoint).
    pub max_records: Option<u64>,
}

/// Where the ledger lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerPlace {
    File(std::path::PathBuf),
    Memory,
    /// In the store's PostgreSQL (`storage: postgres://`): this node's chain
    /// beside every other node's.
    Postgres,
}

/// Whether a response waits for its record to be durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditDurability {
    Batch,
    Strict,
}

/// Where identities, credentials and keys are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database a fleet of gateways shares.
    Postgres(portcullis_store::PostgresUrl),
    /// Nothing survives a restart: the demo and tests.
    Memory,
}

/// The token service's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    pub issuer: String,
    pub default_ttl: Duration,
    pub max_ttl: Duration,
    /// Clock skew tolerated when checking token times.
    pub leeway: Duration,
    /// Failed client authentications allowed before the endpoint answers 429.
    pub failed_auth: FailedAuthLimits,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: "portcullis".to_owned(),
            default_ttl: Duration::from_secs(300),
            max_ttl: Duration::from_secs(900),
            leeway: Duration::from_secs(30),
            failed_auth: FailedAuthLimits::default(),
        }
    }
}

/// GCRA rates of failed client authentication at the token endpoint; each
/// allows its count at once (the burst), then its average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedAuthLimits {
    /// Per client id tried, from any address.
    pub per_client: Rate,
    /// Per source address, whatever client ids it tries.
    pub per_address: Rate,
}

impl Default for FailedAuthLimits {
    fn default() -> Self {
        let rate = |n: u32| {
            let n = std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN);
            Rate {
                count: n,
                per: Duration::from_secs(60),
                burst: n,
            }
        };
        Self {
            per_client: rate(10),
            per_address: rate(30),
        }
    }
}

/// One identity as `identities.yaml` declares it.
#[derive(Debug, Clone)]
pub struct SeedIdentity {
    /// `created` and `last_used` are the store's; they are not read from here.
    pub identity: portcullis_core::Identity,
    /// Public keys for `private_key_jwt` client authentication.
    pub keys: Vec<SeedKey>,
}

/// A public key declared for an identity.
#[derive(Debug, Clone)]
pub struct SeedKey {
    pub id: String,
    pub jwk: serde_json::Value,
    pub expires: portcullis_core::UnixTime,
}

/// Request and response bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub body_bytes: u64,
    pub header_bytes: u64,
    pub response_bytes: u64,
    pub json_depth: usize,
    /// Time allowed to receive a request body.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            header_bytes: 16 * 1024,
            response_bytes: 8 * 1024 * 1024,
            json_depth: 32,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A GCRA rate: `count` requests per `per` on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: std::num::NonZeroU32,
    pub per: Duration,
    pub burst: std::num::NonZeroU32,
}

/// `rate_limits:`, checked per identity (stage 9). Empty means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Each identity across every operation of every API.
    pub per_identity: Option<Rate>,
    /// Each identity on one operation: api name, then operation id.
    pub per_operation: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Rate>>,
    /// `backend: redis://…`: the buckets live in Redis, one limit for the
    /// whole fleet; `None`: in this node's memory.
    pub shared: Option<SharedRates>,
}

/// Rate-limit buckets held in Redis (`rate_limits.backend`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRates {
    pub url: RedisUrl,
    pub on_unavailable: OnUnavailable,
}

/// What a node does while Redis does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnavailable {
    /// Enforce this node's share of each limit in memory until Redis is back.
    Local,
    /// Refuse every limited request with `unavailable`.
    Deny,
}

impl OnUnavailable {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Deny => "deny",
        }
    }
}

/// A Redis URL: it may hold a password, so `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// A `redis://` URL; anything else is refused with the reason.
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err("`backend` must be a `redis://host:port` URL".to_owned());
        };
        if scheme.eq_ignore_ascii_case("rediss") {
            return Err("`rediss://` (TLS to Redis) is not supported by this build; reach Redis over a private network or a TLS sidecar".to_owned());
        }
        if !scheme.eq_ignore_ascii_case("redis") {
            return Err("`backend` must be a `redis://host:port` URL".to_owned());
        }
        if rest.is_empty() || rest.starts_with('/') {
            return Err("`backend` names no Redis host".to_owned());
        }
        Ok(Self(text.to_owned()))
    }

    /// The URL itself, to connect with; never for logs or errors.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisUrl(..)")
    }
}

/// Where an API's upstream lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `host:port`.
    pub authority: String,
    /// Path prefix on the upstream, without a trailing slash (often empty).
    pub base_path: String,
}

/// Upstream timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub response: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(30),
        }
    }
}

/// How the gateway authenticates to an upstream. The value is secret: it is
/// never logged, and `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub enum UpstreamAuth {
    /// A header (lower-case name) and its value; bearer and basic become this.
    Header { name: String, value: String },
    /// A query parameter appended to the upstream request.
    Query { name: String, value: String },
}

impl UpstreamAuth {
    /// Every string of this credential that must never leave the gateway:
    /// the value as sent and the secret inside it.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Self::Header { value, .. } => {
                out.push(value.clone());
                if let Some(token) = value.strip_prefix("Bearer ") {
                    out.push(token.to_owned());
                }
                if let Some(b64) = value.strip_prefix("Basic ") {
                    out.push(b64.to_owned());
                    let decoded =
                        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                            .unwrap_or_default();
                    if let Some((_, password)) = String::from_utf8_lossy(&decoded).split_once(':') {
                        out.push(password.to_owned());
                    }
                }
            }
            Self::Query { value, .. } => out.push(value.clone()),
        }
        // Very short values would match ordinary text; they are still never
        // logged, but scrubbing them from bodies would corrupt responses.
        out.retain(|s| s.len() >= 8);
        out.sort();
        out.dedup();
        out
    }
}

impl std::fmt::Debug for UpstreamAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Header { name, .. } => write!(f, "Header({name}: <secret>)"),
            Self::Query { name, .. } => write!(f, "Query({name}=<secret>)"),
        }
    }
}

/// Which upstream response headers reach the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderPolicy {
    /// Only those the contract declares for the response, and a fixed safe
    /// set (representation, caching, rate limits, tracing).
    #[default]
    Strict,
    /// All but hop-by-hop headers and the gateway's own credential.
    Allow,
}

/// One fixed answer in place of every failure answer of an operation, so
/// differing failure messages ("no such user" / "wrong password") cannot be
/// told apart. Checked at load against the status and schema the contract
/// declares for it.
#[derive(Debug, Clone, PartialEq)]
pub struct UniformFailure {
    pub when: Vec<FailureMatch>,
    pub status: u16,
    /// The fixed JSON body, serialised once.
    pub body: Vec<u8>,
}

/// One kind of failure answer: all the conditions given must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureMatch {
    pub status: Option<u16>,
    /// A JSON pointer into the answer's body, and the value it must hold there.
    pub at: Option<(String, serde_json::Value)>,
}

impl UniformFailure {
    /// Whether an upstream answer is one of the failures (the body is
    /// parsed only when a condition looks into it, at most once).
    pub fn matches(&self, status: u16, body: &[u8]) -> bool {
        let mut parsed: Option<Option<serde_json::Value>> = None;
        self.when.iter().any(|m| {
            if m.status.is_some_and(|s| s != status) {
                return false;
            }
            let Some((pointer, expected)) = &m.at else {
                return true;
            };
            parsed
                .get_or_insert_with(|| serde_json::from_slice(body).ok())
                .as_ref()
                .and_then(|doc| doc.pointer(pointer))
                == Some(expected)
        })
    }
}

/// One mounted API.
#[derive(Debug, Clone)]
pub struct Api {
    pub name: String,
    /// This API's mode: its own `mode`, else the configuration's.
    pub mode: Mode,
    /// Path prefix on the gateway, canonical, no trailing slash.
    pub mount: String,
    pub upstream: Upstream,
    /// The upstream's own credential, injected on the way out (resolved at load).
    pub upstream_auth: Option<UpstreamAuth>,
    /// Forward the caller's `Authorization` header instead of dropping it.
    /// Off unless the configuration says so for this API.
    pub forward_caller_credential: bool,
    pub responses: ResponsePolicy,
    /// Which upstream response headers reach the caller.
    pub response_headers: HeaderPolicy,
    /// Operations whose failure answers are replaced by one fixed answer, by `operationId`.
    pub uniform_failures: HashMap<String, UniformFailure>,
    pub timeouts: Timeouts,
    /// The contract file, as named in the configuration.
    pub contract_file: String,
    pub contract: Arc<Contract>,
}
