//! The configuration file, from YAML text to a validated snapshot.
//!
//! Two steps, as in ripgrep's flags: [`raw`] reads the text into plain structs
//! with no side effects; [`build`] checks every value, loads every contract and
//! produces the runtime [`Config`] or the full list of [`Diagnostic`]s (file
//! and line, or file and JSON pointer). A configuration that does not validate
//! is never partly applied. This is the only crate that reads config files.

mod accept;
mod build;
mod delegation;
mod diagnostic;
mod digest;
mod duration;
mod inputs;
mod raw;
mod secret_ref;
mod snapshot;
mod source;
mod verify_identities;

pub use accept::{Acceptance, Acceptances};
pub use build::{Loaded, Overrides, load, load_for_check, load_from, load_traced};
pub use delegation::{
    DEFAULT_JWKS_MAX_AGE, DEFAULT_JWKS_REFRESH, DelegationSettings, JwksSource, MAX_JWKS_BYTES,
    MappedClaim, ScopeMapping, SubjectIssuer, jwks_from_bytes, read_jwks_file,
};
pub use diagnostic::{Diagnostic, Severity};
pub use duration::parse_duration;
pub use inputs::Inputs;
pub use secret_ref::Secrets;
pub use snapshot::{
    Api, AuditDurability, AuditSettings, Config, FailedAuthLimits, FailureMatch, FleetSettings,
    HeaderPolicy, LedgerPlace, Limits, McpSettings, Mode, OnUnavailable, Policies, Rate,
    RateLimits, RedisUrl, SecretText, SeedIdentity, SeedKey, SharedRates, Storage, Timeouts,
    TokenSettings, UniformFailure, Upstream, UpstreamAuth,
};
pub use source::{Disk, Embedded, Files};
pub use verify_identities::{TestIdentity, load_test_identities};
