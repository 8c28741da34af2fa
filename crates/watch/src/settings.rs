//! What the `watch:` section configures, already checked: each detector's
//! parameters and graded response, the overrides per identity and per kind,
//! and what a throttle is. The configuration crate builds these (with line
//! numbers for every problem); the engine only reads them.

use std::num::NonZeroU32;
use std::time::Duration;

use portcullis_core::IdentityKind;

/// Enforce the graded response, or only record what it would have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Enforce,
    Observe,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Observe => "observe",
        }
    }
}

/// One rung of a detector's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// An alert only (a ledger event, metrics, the webhook).
    Alert,
    /// The alert, and a lower rate limit for the identity for a while.
    Throttle,
    /// The alert, and the identity quarantined until an admin resumes it.
    Quarantine,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alert => "alert",
            Self::Throttle => "throttle",
            Self::Quarantine => "quarantine",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "alert" => Some(Self::Alert),
            "throttle" => Some(Self::Throttle),
            "quarantine" => Some(Self::Quarantine),
            _ => None,
        }
    }
}

/// The detectors, by their configuration names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Detector {
    Probing,
    Enumeration,
    DenySpike,
    Novelty,
    Volume,
}

impl Detector {
    pub const ALL: [Self; 5] = [
        Self::Probing,
        Self::Enumeration,
        Self::DenySpike,
        Self::Novelty,
        Self::Volume,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Probing => "probing",
            Self::Enumeration => "enumeration",
            Self::DenySpike => "deny_spike",
            Self::Novelty => "novelty",
            Self::Volume => "volume",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Refusals of the contract kinds above `threshold` within `window`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probing {
    pub window: Duration,
    pub threshold: u32,
}

/// On one operation that reads a single record: `distinct` different values
/// of its last path parameter within `window`, or `sequence` values each one
/// above (or below) the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumeration {
    pub window: Duration,
    pub distinct: u32,
    pub sequence: u32,
}

/// A count per `window` (denials, or all requests) judged against the
/// identity's own exponentially weighted average of earlier windows: at
/// least `min`, at least `factor` times the average, and only once the
/// identity has `warmup` whole windows behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spike {
    pub window: Duration,
    pub min: u32,
    pub factor: u32,
    pub warmup: u32,
}

/// What the identity has never done before, once it has a history: at
/// least `warmup` since it was first seen and `warmup_records` requests.
/// At most one alert per `cooldown`; what is new is learnt either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Novelty {
    pub warmup: Duration,
    pub warmup_records: u32,
    pub cooldown: Duration,
    pub operation: bool,
    pub address: bool,
    pub hour: bool,
}

/// A detector's parameters and its response, rung by rung: the first firing
/// takes the first step, the next firing within the escalation window the
/// next, and the last step repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuned<T> {
    pub params: T,
    pub respond: Vec<Step>,
}

impl<T> Tuned<T> {
    /// The step for the `level`th firing (1-based).
    pub fn step(&self, level: u32) -> Step {
        let at = usize::try_from(level.saturating_sub(1)).unwrap_or(usize::MAX);
        self.respond
            .get(at)
            .or(self.respond.last())
            .copied()
            .unwrap_or(Step::Alert)
    }
}

/// Every detector for one identity; `None` is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// This identity's mode, when an override sets one (a scanner the
    /// operator runs on purpose, say: recorded, not answered).
    pub mode: Option<Mode>,
    pub probing: Option<Tuned<Probing>>,
    pub enumeration: Option<Tuned<Enumeration>>,
    pub deny_spike: Option<Tuned<Spike>>,
    pub novelty: Option<Tuned<Novelty>>,
    pub volume: Option<Tuned<Spike>>,
}

impl Tuning {
    /// Every detector on, with the documented defaults (README, "Watching
    /// agents").
    pub fn defaults() -> Self {
        let minute = Duration::from_secs(60);
        Self {
            mode: None,
            probing: Some(Tuned {
                params: Probing {
                    window: minute,
                    threshold: 10,
                },
                respond: vec![Step::Alert, Step::Throttle, Step::Quarantine],
            }),
            enumeration: Some(Tuned {
                params: Enumeration {
                    window: minute,
                    distinct: 30,
                    sequence: 10,
                },
                respond: vec![Step::Alert, Step::Throttle, Step::Quarantine],
            }),
            deny_spike: Some(Tuned {
                params: Spike {
                    window: minute,
                    min: 10,
                    factor: 5,
                    warmup: 0,
                },
                respond: vec![Step::Alert, Step::Throttle],
            }),
            novelty: Some(Tuned {
                params: Novelty {
                    warmup: Duration::from_secs(7 * 24 * 3600),
                    warmup_records: 1000,
                    cooldown: Duration::from_secs(3600),
                    operation: true,
                    address: true,
                    hour: true,
                },
                respond: vec![Step::Alert],
            }),
            volume: Some(Tuned {
                params: Spike {
                    window: minute,
                    min: 600,
                    factor: 5,
                    warmup: 10,
                },
                respond: vec![Step::Alert, Step::Throttle],
            }),
        }
    }
}

/// The lower rate a throttled identity gets, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub count: NonZeroU32,
    pub per: Duration,
    pub lasts: Duration,
}

/// Where alerts are also sent, as JSON, off the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// `http://` or `https://`.
    pub url: String,
    /// Each attempt's limit.
    pub timeout: Duration,
    /// Attempts before an alert is given up on (it stays in the ledger).
    pub attempts: u32,
}

/// The whole `watch:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSettings {
    pub mode: Mode,
    pub defaults: Tuning,
    /// Per identity kind; an identity's own override wins over its kind's.
    pub by_kind: Vec<(IdentityKind, Tuning)>,
    pub by_identity: Vec<(String, Tuning)>,
    /// How long after a firing the next one climbs a step.
    pub escalation: Duration,
    pub throttle: Throttle,
    pub webhook: Option<Webhook>,
    /// How far back a restart reads the ledger to rebuild what the
    /// detectors knew (novelty's history is the longest part).
    pub history: Duration,
    /// The most identities followed at once (the least recently seen are
    /// forgotten first).
    pub max_identities: usize,
}

impl WatchSettings {
    /// The defaults, everything on, enforced.
    pub fn new() -> Self {
        Self {
            mode: Mode::Enforce,
            defaults: Tuning::defaults(),
            by_kind: Vec::new(),
            by_identity: Vec::new(),
            escalation: Duration::from_secs(3600),
            throttle: Throttle {
                count: NonZeroU32::MIN,
                per: Duration::from_secs(1),
                lasts: Duration::from_secs(600),
            },
            webhook: None,
            history: Duration::from_secs(7 * 24 * 3600),
            max_identities: 100_000,
        }
    }

    /// The tuning an identity is watched with.
    pub fn tuning(&self, identity: &str, kind: Option<IdentityKind>) -> &Tuning {
        if let Some((_, t)) = self.by_identity.iter().find(|(id, _)| id == identity) {
            return t;
        }
        if let Some(kind) = kind
            && let Some((_, t)) = self.by_kind.iter().find(|(k, _)| *k == kind)
        {
            return t;
        }
        &self.defaults
    }

    /// Whether choosing a tuning needs the identity's kind.
    pub fn needs_kind(&self) -> bool {
        !self.by_kind.is_empty()
    }
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self::new()
    }
}
