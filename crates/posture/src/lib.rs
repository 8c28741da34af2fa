//! The posture report: every identity in the inventory, and what is wrong
//! with how it is kept, each finding mapped to the OWASP Non-Human
//! Identities Top 10 (2025) risk it belongs to, with its evidence.
//!
//! Three parts, like `verify`: [`gather`] reads the store (identities,
//! credentials, per-identity upstream credentials), the ledger (what each
//! identity did in the window, its alerts and releases) and the
//! configuration (token lifetimes, upstream credentials, what the policies
//! permit) into [`Facts`]; [`assess`] turns facts into a [`Report`] and is
//! pure (no clock: `now` is a fact); [`render`] writes the report as text,
//! JSON, a self-contained HTML page or SARIF.

mod assess;
mod facts;
pub mod gather;
pub mod render;

pub use assess::{Finding, InventoryRow, Report, Severity, assess};
pub use facts::{ApiFacts, CredentialFacts, Facts, IdentityFacts, Usage};

/// The OWASP Non-Human Identities Top 10 (2025).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Nhi {
    ImproperOffboarding,
    SecretLeakage,
    VulnerableThirdParty,
    InsecureAuthentication,
    Overprivileged,
    InsecureCloudDeployment,
    LongLivedSecrets,
    EnvironmentIsolation,
    Reuse,
    HumanUse,
}

impl Nhi {
    pub const ALL: [Self; 10] = [
        Self::ImproperOffboarding,
        Self::SecretLeakage,
        Self::VulnerableThirdParty,
        Self::InsecureAuthentication,
        Self::Overprivileged,
        Self::InsecureCloudDeployment,
        Self::LongLivedSecrets,
        Self::EnvironmentIsolation,
        Self::Reuse,
        Self::HumanUse,
    ];

    /// `NHI1:2025` ... `NHI10:2025`.
    pub fn id(self) -> &'static str {
        match self {
            Self::ImproperOffboarding => "NHI1:2025",
            Self::SecretLeakage => "NHI2:2025",
            Self::VulnerableThirdParty => "NHI3:2025",
            Self::InsecureAuthentication => "NHI4:2025",
            Self::Overprivileged => "NHI5:2025",
            Self::InsecureCloudDeployment => "NHI6:2025",
            Self::LongLivedSecrets => "NHI7:2025",
            Self::EnvironmentIsolation => "NHI8:2025",
            Self::Reuse => "NHI9:2025",
            Self::HumanUse => "NHI10:2025",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ImproperOffboarding => "Improper Offboarding",
            Self::SecretLeakage => "Secret Leakage",
            Self::VulnerableThirdParty => "Vulnerable Third-Party NHI",
            Self::InsecureAuthentication => "Insecure Authentication",
            Self::Overprivileged => "Overprivileged NHI",
            Self::InsecureCloudDeployment => "Insecure Cloud Deployment Configurations",
            Self::LongLivedSecrets => "Long-Lived Secrets",
            Self::EnvironmentIsolation => "Environment Isolation",
            Self::Reuse => "NHI Reuse",
            Self::HumanUse => "Human Use of NHI",
        }
    }
}

/// What counts as stale, old or many; each has a documented default and a
/// flag (`portcullis posture`) or query parameter (`/admin/v1/posture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Unused this many days: offboard it. Also the ledger window read.
    pub unused_days: u32,
    /// API keys and client secrets older than this many days.
    pub rotation_days: u32,
    /// Access tokens may live longer than this many seconds.
    pub max_token_ttl_secs: u64,
    /// Seen from more distinct source addresses than this.
    pub max_sources: usize,
    /// An upstream credential shared by more identities than this.
    pub max_sharing: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            unused_days: 30,
            rotation_days: 90,
            max_token_ttl_secs: 3_600,
            max_sources: 5,
            max_sharing: 3,
        }
    }
}
