//! Watching agents: per-identity detectors over the decisions the gateway
//! records, and the graded response each one asks for.
//!
//! The gateway hands every recorded decision of an identity to
//! [`Watch::observe`] as an [`Observation`]; the detectors update that
//! identity's state and return what fired, each [`Firing`] with its
//! evidence and the [`Step`] its escalation reached. Acting on a firing
//! (recording the alert, throttling, quarantining) is the caller's job:
//! this crate has no clock, no I/O and no tokio, so a restart can rebuild
//! the same state by replaying the ledger through the same function.
//!
//! Memory is bounded: at most [`WatchSettings::max_identities`] identities
//! are followed (the least recently seen are forgotten first), and each
//! identity's state is bounded by its detectors' thresholds and fixed caps
//! (operations followed for enumeration, values remembered for novelty).

mod detectors;
mod settings;
mod table;

pub use detectors::{Evidence, Firing};
pub use settings::{
    Detector, Enumeration, Mode, Novelty, Probing, Spike, Step, Throttle, Tuned, Tuning,
    WatchSettings, Webhook,
};
pub use table::Watch;

/// Refusal codes that say a caller is trying the contract's edges: what
/// the probing detector counts.
pub const PROBING_CODES: [&str; 4] = [
    "undeclared-route",
    "ambiguous-path",
    "method-not-allowed",
    "invalid-request",
];

/// Refusal codes that say a caller asked for what it may not have: what
/// the deny-spike detector counts.
pub const DENY_CODES: [&str; 2] = ["forbidden", "insufficient-scope"];

/// Codes that say nothing new about a caller's behaviour (it is already
/// held): the detectors skip these records entirely. A throttled request
/// (`rate-limited`) still counts towards volume: it is still a request.
pub const IGNORED_CODES: [&str; 1] = ["identity-suspended"];

/// One recorded decision of an identity, as the detectors read it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// When the request arrived, milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub identity: &'a str,
    /// Only needed when the settings tune by kind.
    pub kind: Option<portcullis_core::IdentityKind>,
    pub api: Option<&'a str>,
    pub operation: Option<&'a str>,
    /// The refusal code, when refused.
    pub code: Option<&'a str>,
    /// The caller's address, without its port.
    pub address: Option<std::net::IpAddr>,
    /// On an operation that reads a single record, the value of its last
    /// path parameter (what enumeration counts).
    pub item: Option<&'a str>,
}

/// Hour of the week, Monday 00:00 UTC = 0 (the Unix epoch was a Thursday).
pub fn hour_of_week(time_ms: i64) -> u32 {
    let hours = time_ms.div_euclid(3_600_000) + 72;
    u32::try_from(hours.rem_euclid(168)).unwrap_or(0)
}
