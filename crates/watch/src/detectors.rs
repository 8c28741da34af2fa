//! One identity's detectors, and what a firing says. Each detector is its
//! own module with its own bounded state; this one feeds them in turn and
//! climbs the escalation ladder when one fires.

use crate::settings::{Detector, Mode, Step, Tuning, WatchSettings};
use crate::{DENY_CODES, Observation, PROBING_CODES};

mod enumeration;
mod novelty;
mod probing;
mod spike;

/// Why a detector fired: enough to judge the alert without the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The window the count is over, milliseconds.
    pub window_ms: u64,
    /// What was counted in it (refusals, distinct values, requests...).
    pub count: u64,
    /// What the count had to reach.
    pub threshold: u64,
    /// The identity's own average per window, rounded, for the detectors
    /// that judge against one.
    pub baseline: Option<u64>,
    /// The first counted observation's time.
    pub since_ms: Option<i64>,
    /// What it is about: the operation, or what was new.
    pub subject: Option<String>,
    /// A few of the values seen (at most five), for the reader.
    pub samples: Vec<String>,
}

impl Evidence {
    /// `count` against `threshold` within `window`; the rest empty.
    fn counted(window: std::time::Duration, count: u64, threshold: u32) -> Self {
        Self {
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            count,
            threshold: u64::from(threshold),
            baseline: None,
            since_ms: None,
            subject: None,
            samples: Vec::new(),
        }
    }
}

/// One detector firing for one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub identity: String,
    pub detector: Detector,
    /// The response reached: the first step on a first firing, one more for
    /// each firing within the escalation window.
    pub step: Step,
    /// How many times this detector fired for the identity within the
    /// escalation window, this one included.
    pub level: u32,
    /// `false` in observe mode: recorded, not acted on.
    pub enforced: bool,
    pub time_ms: i64,
    pub evidence: Evidence,
}

/// The escalation ladder of one detector for one identity.
#[derive(Debug, Clone, Copy, Default)]
struct Ladder {
    level: u32,
    last_ms: i64,
}

/// One identity's detector state.
#[derive(Debug)]
pub(crate) struct IdentityWatch {
    last_seen: i64,
    probing: probing::State,
    enumeration: enumeration::State,
    deny: spike::State,
    volume: spike::State,
    novelty: novelty::State,
    ladders: [Ladder; 5],
}

impl IdentityWatch {
    pub(crate) fn new(now_ms: i64) -> Self {
        Self {
            last_seen: now_ms,
            probing: probing::State::default(),
            enumeration: enumeration::State::default(),
            deny: spike::State::default(),
            volume: spike::State::default(),
            novelty: novelty::State::new(now_ms),
            ladders: [Ladder::default(); 5],
        }
    }

    pub(crate) fn last_seen(&self) -> i64 {
        self.last_seen
    }

    #[cfg(test)]
    pub(crate) fn enumeration_footprint(&self) -> (usize, usize) {
        self.enumeration.footprint()
    }

    pub(crate) fn observe(
        &mut self,
        tuning: &Tuning,
        settings: &WatchSettings,
        obs: &Observation<'_>,
    ) -> Vec<Firing> {
        self.last_seen = self.last_seen.max(obs.time_ms);
        let mut fired: Vec<(Detector, Evidence)> = Vec::new();
        if let Some(t) = &tuning.probing {
            let counts = obs.code.is_some_and(|c| PROBING_CODES.contains(&c));
            if let Some(e) = self.probing.observe(&t.params, obs.time_ms, counts) {
                fired.push((Detector::Probing, e));
            }
        }
        if let Some(t) = &tuning.enumeration
            && let Some(e) = self.enumeration.observe(&t.params, obs)
        {
            fired.push((Detector::Enumeration, e));
        }
        if let Some(t) = &tuning.deny_spike {
            let counts = obs.code.is_some_and(|c| DENY_CODES.contains(&c));
            if let Some(e) = self.deny.observe(&t.params, obs.time_ms, counts) {
                fired.push((Detector::DenySpike, e));
            }
        }
        if let Some(t) = &tuning.volume
            && let Some(e) = self.volume.observe(&t.params, obs.time_ms, true)
        {
            fired.push((Detector::Volume, e));
        }
        if let Some(t) = &tuning.novelty
            && let Some(e) = self.novelty.observe(&t.params, obs)
        {
            fired.push((Detector::Novelty, e));
        }
        fired
            .into_iter()
            .map(|(detector, evidence)| self.climb(tuning, settings, obs, detector, evidence))
            .collect()
    }

    fn climb(
        &mut self,
        tuning: &Tuning,
        settings: &WatchSettings,
        obs: &Observation<'_>,
        detector: Detector,
        evidence: Evidence,
    ) -> Firing {
        let escalation = i64::try_from(settings.escalation.as_millis()).unwrap_or(i64::MAX);
        let level = match self.ladders.get_mut(detector.index()) {
            Some(ladder) => {
                if ladder.level == 0 || obs.time_ms.saturating_sub(ladder.last_ms) > escalation {
                    ladder.level = 1;
                } else {
                    ladder.level = ladder.level.saturating_add(1);
                }
                ladder.last_ms = obs.time_ms;
                ladder.level
            }
            None => 1,
        };
        let step = match detector {
            Detector::Probing => tuning.probing.as_ref().map(|t| t.step(level)),
            Detector::Enumeration => tuning.enumeration.as_ref().map(|t| t.step(level)),
            Detector::DenySpike => tuning.deny_spike.as_ref().map(|t| t.step(level)),
            Detector::Novelty => tuning.novelty.as_ref().map(|t| t.step(level)),
            Detector::Volume => tuning.volume.as_ref().map(|t| t.step(level)),
        };
        Firing {
            identity: obs.identity.to_owned(),
            detector,
            step: step.unwrap_or(Step::Alert),
            level,
            enforced: tuning.mode.unwrap_or(settings.mode) == Mode::Enforce,
            time_ms: obs.time_ms,
            evidence,
        }
    }
}

/// Milliseconds in a duration, saturating.
pub(crate) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

#[cfg(test)]
mod tests;
