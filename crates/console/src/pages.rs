//! The console's pages, one askama template each. Templates escape every
//! value by default; the only markup passed through (`|safe`) is the SVG
//! the `chart` module draws, whose labels it escapes itself.

use askama::Template;
use portcullis_posture::Finding;

use crate::view::{AlertRow, ChainRow, DecisionRow, IdentityRow, MatrixRow, StateAction};

/// The sections of the console, in the order the navigation shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Inventory,
    Decisions,
    Alerts,
    Posture,
    Audit,
    Verify,
}

impl Tab {
    pub const ALL: [Self; 7] = [
        Self::Overview,
        Self::Inventory,
        Self::Decisions,
        Self::Alerts,
        Self::Posture,
        Self::Audit,
        Self::Verify,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Self::Overview => "/console",
            Self::Inventory => "/console/inventory",
            Self::Decisions => "/console/decisions",
            Self::Alerts => "/console/alerts",
            Self::Posture => "/console/posture",
            Self::Audit => "/console/audit",
            Self::Verify => "/console/verify",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Overview => "Overview",
            Self::Inventory => "Inventory",
            Self::Decisions => "Live decisions",
            Self::Alerts => "Alerts",
            Self::Posture => "Posture",
            Self::Audit => "Audit",
            Self::Verify => "Verify",
        }
    }
}

/// What every signed-in page carries: who is signed in, the token every
/// form posts back, the section, and a one-line notice after an action.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub admin: String,
    pub csrf: String,
    pub tab: Tab,
    pub notice: Option<String>,
}

impl Chrome {
    /// The navigation's sections.
    pub fn tabs(&self) -> [Tab; 7] {
        Tab::ALL
    }
}

#[derive(Debug, Template)]
#[template(path = "login.html")]
pub struct Login {
    pub csrf: String,
    pub client_id: String,
    pub error: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "overview.html")]
pub struct Overview {
    pub chrome: Chrome,
    pub minutes: usize,
    pub note: Option<String>,
    pub total: u64,
    pub allowed: u64,
    pub refused: u64,
    pub open_alerts: u64,
    pub requests_svg: String,
    pub latency_svg: String,
    pub identities_svg: String,
}

#[derive(Debug, Template)]
#[template(path = "inventory.html")]
pub struct Inventory {
    pub chrome: Chrome,
    pub rows: Vec<IdentityRow>,
    pub counts: Vec<(String, usize)>,
    pub actions: [StateAction; 4],
}

#[derive(Debug, Template)]
#[template(path = "identity.html")]
pub struct IdentityPage {
    pub chrome: Chrome,
    pub row: IdentityRow,
    pub actions: [StateAction; 4],
    pub matrix: Vec<MatrixRow>,
    pub minutes: usize,
    pub usage_svg: String,
    pub rows: Vec<DecisionRow>,
}

#[derive(Debug, Template)]
#[template(path = "confirm.html")]
pub struct Confirm {
    pub chrome: Chrome,
    pub heading: String,
    pub consequence: String,
    pub action_url: String,
    pub cancel_url: String,
    /// Asks for a rotation's overlap.
    pub overlap: bool,
    /// Asks for a reason (state changes).
    pub reason: bool,
    pub submit: String,
}

#[derive(Debug, Template)]
#[template(path = "secret.html")]
pub struct SecretShown {
    pub chrome: Chrome,
    pub identity: String,
    pub credential_id: String,
    pub replaces: String,
    pub expires: String,
    pub secret: String,
}

/// The filters of the live decisions, as typed (empty: any).
#[derive(Debug, Clone, Default)]
pub struct DecisionFilters {
    pub identity: String,
    pub api: String,
    pub operation: String,
    pub decision: String,
    pub code: String,
}

/// The decisions a filter may ask for; empty is any.
pub const DECISIONS: [&str; 8] = [
    "",
    "allow",
    "deny",
    "observe",
    "alert",
    "state",
    "ack",
    "credential",
];

#[derive(Debug, Template)]
#[template(path = "decisions.html")]
pub struct Decisions {
    pub chrome: Chrome,
    pub filters: DecisionFilters,
    pub decisions: [&'static str; 8],
    pub rows: Vec<DecisionRow>,
    pub page: u32,
    pub live: bool,
    pub rows_url: String,
    pub pause_url: String,
    pub resume_url: String,
}

/// The rows alone, for the live list's refresh.
#[derive(Debug, Template)]
#[template(path = "decision_fragment.html")]
pub struct DecisionFragment {
    pub rows: Vec<DecisionRow>,
}

/// The statuses an alerts filter may ask for; empty is any.
pub const ALERT_STATUSES: [&str; 4] = ["", "open", "acknowledged", "released"];

#[derive(Debug, Template)]
#[template(path = "alerts.html")]
pub struct Alerts {
    pub chrome: Chrome,
    pub identity: String,
    pub status: String,
    pub statuses: [&'static str; 4],
    pub rows: Vec<AlertRow>,
    pub open: usize,
    pub acknowledged: usize,
    pub released: usize,
}

/// One OWASP NHI risk and how its findings stand.
#[derive(Debug, Clone)]
pub struct RiskRow {
    pub id: &'static str,
    pub title: &'static str,
    pub count: usize,
    /// `high`, `medium`, `low`, or `none`.
    pub highest: &'static str,
}

#[derive(Debug, Template)]
#[template(path = "posture.html")]
pub struct Posture {
    pub chrome: Chrome,
    pub generated: String,
    pub window_days: u32,
    pub risks: Vec<RiskRow>,
    pub findings: Vec<Finding>,
    pub not_assessed: Vec<(&'static str, &'static str)>,
}

#[derive(Debug, Template)]
#[template(path = "audit.html")]
pub struct Audit {
    pub chrome: Chrome,
    pub location: String,
    pub chains: Vec<ChainRow>,
    pub verified_at: Option<String>,
}

/// Where the last verify report stands.
#[derive(Debug, Clone)]
pub enum ReportState {
    /// `admin.verify_report` is not set.
    NotConfigured,
    /// Set, but not written yet.
    Missing(String),
    /// There, but not a report.
    Unreadable(String),
    /// The report: its path, when it was written, and what it says.
    Shown(String, String, Box<crate::verify::VerifyReport>),
}

#[derive(Debug, Template)]
#[template(path = "verify.html")]
pub struct Verify {
    pub chrome: Chrome,
    pub state: ReportState,
}
