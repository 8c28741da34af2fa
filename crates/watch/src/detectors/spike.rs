//! Deny spikes and volume: a count per window judged against the
//! identity's own baseline, an exponentially weighted moving average of its
//! earlier windows. The current rate is estimated over a sliding window
//! (this window's count plus the previous one's, weighted by how much of it
//! the sliding window still covers), so a burst straddling two windows is
//! seen whole. At most one firing per window.
//!
//! The average starts from the first *whole* window the identity was seen
//! for (not blended up from zero, which would make any steady rate look
//! like a spike while it catches up); until then the count is judged
//! against `min` and `factor` alone.

use super::{Evidence, millis};
use crate::settings::Spike;

/// How much the newest window weighs in the average.
const ALPHA: f64 = 0.2;

#[derive(Debug, Default)]
pub(super) struct State {
    started: bool,
    /// When the identity was first seen.
    first_ms: i64,
    /// Whether the average holds a whole window yet.
    seeded: bool,
    bucket: i64,
    current: u32,
    previous: u32,
    average: f64,
    /// Whole windows behind the identity since first seen.
    windows: u32,
    fired_ms: Option<i64>,
    first_in_window: Option<i64>,
}

impl State {
    pub(super) fn observe(&mut self, p: &Spike, now: i64, counts: bool) -> Option<Evidence> {
        let window = millis(p.window);
        let bucket = now.div_euclid(window);
        if !self.started {
            self.started = true;
            self.first_ms = now;
            self.bucket = bucket;
        } else if bucket > self.bucket {
            let gap = bucket - self.bucket;
            let whole = self.first_ms <= self.bucket.saturating_mul(window);
            if self.seeded {
                self.average = ALPHA * f64::from(self.current) + (1.0 - ALPHA) * self.average;
            } else if whole || gap > 1 {
                // The windows after a partial first one were whole (and
                // empty, if `gap` skipped them).
                self.average = if whole { f64::from(self.current) } else { 0.0 };
                self.seeded = true;
            }
            if gap > 1 {
                let quiet = i32::try_from(gap - 1).unwrap_or(i32::MAX);
                self.average *= (1.0 - ALPHA).powi(quiet);
                self.previous = 0;
            } else {
                self.previous = self.current;
            }
            self.current = 0;
            self.first_in_window = None;
            self.windows = self
                .windows
                .saturating_add(u32::try_from(gap).unwrap_or(u32::MAX));
            self.bucket = bucket;
        }
        if !counts {
            return None;
        }
        self.current = self.current.saturating_add(1);
        self.first_in_window.get_or_insert(now);
        if self.windows < p.warmup {
            return None;
        }
        if self
            .fired_ms
            .is_some_and(|t| now.saturating_sub(t) < window)
        {
            return None;
        }
        // Integer arithmetic for the sliding estimate, so replaying the same
        // records gives the same answer.
        let into = now.rem_euclid(window);
        let carried = i64::from(self.previous).saturating_mul(window - into) / window;
        let estimate = i64::from(self.current).saturating_add(carried);
        let baseline = self.average.max(1.0);
        let needed = (f64::from(p.factor) * baseline)
            .ceil()
            .max(f64::from(p.min));
        if (estimate as f64) < needed {
            return None;
        }
        self.fired_ms = Some(now);
        Some(Evidence {
            threshold: needed as u64,
            baseline: Some(self.average.round() as u64),
            since_ms: self.first_in_window,
            ..Evidence::counted(p.window, u64::try_from(estimate).unwrap_or(0), 0)
        })
    }
}
