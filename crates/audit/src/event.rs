//! Records that are not requests: what the watch detected (`decision:
//! alert`) and an identity's state changed by someone (`decision: state`).
//! They sit in the same chain as the decisions they follow from, so the
//! ledger proves when an identity was quarantined, on what evidence, and
//! who released it.

use serde::{Deserialize, Serialize};

/// `Entry::decision` of an alert record.
pub const ALERT: &str = "alert";
/// `Entry::decision` of a state-change record.
pub const STATE: &str = "state";
/// `Entry::decision` of an alert's acknowledgement.
pub const ACK: &str = "ack";
/// `Entry::decision` of a credential rotated or revoked by an admin.
pub const CREDENTIAL: &str = "credential";

/// An admin rotated or revoked a credential on the admin listener (the
/// admin API or the console). Never its secret: ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialChange {
    pub credential: String,
    /// `rotated` or `revoked`.
    pub action: String,
    /// The admin identity.
    pub by: String,
    /// A rotation's new credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
}

/// An admin saw an alert and took it in hand (the console's Acknowledge):
/// the alert stays in the ledger as it was, this record says who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The alert record's id, with its node in a fleet (`node-id`).
    pub alert: String,
    /// The admin identity.
    pub by: String,
}

/// One detector firing for one identity, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// `probing`, `enumeration`, `deny_spike`, `novelty` or `volume`.
    pub detector: String,
    /// The response reached: `alert`, `throttle` or `quarantine`.
    pub action: String,
    /// How many times the detector fired for the identity within the
    /// escalation window, this one included.
    pub level: u32,
    /// `enforce`, or `observe` (the action was recorded, not taken).
    pub mode: String,
    pub window_ms: u64,
    pub count: u64,
    pub threshold: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<u64>,
    /// When the first counted request arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
    /// The operation, or what was new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<String>,
    /// A throttle's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
}

/// An identity's state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
    /// The admin identity, `cli:<user>`, or `watch:<detector>`.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
