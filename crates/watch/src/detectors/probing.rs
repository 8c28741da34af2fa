//! Probing: refusals of the contract kinds (undeclared route, ambiguous
//! path, method not allowed, invalid request) at or above a threshold
//! within a sliding window. The state is the times of the last `threshold`
//! such refusals; a firing clears it, so the next needs as many again.

use std::collections::VecDeque;

use super::{Evidence, millis};
use crate::settings::Probing;

#[derive(Debug, Default)]
pub(super) struct State {
    times: VecDeque<i64>,
}

impl State {
    pub(super) fn observe(&mut self, p: &Probing, now: i64, counts: bool) -> Option<Evidence> {
        if !counts {
            return None;
        }
        let window = millis(p.window);
        while self
            .times
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= window)
        {
            self.times.pop_front();
        }
        self.times.push_back(now);
        let threshold = usize::try_from(p.threshold).unwrap_or(usize::MAX);
        while self.times.len() > threshold {
            self.times.pop_front();
        }
        if self.times.len() < threshold {
            return None;
        }
        let since = self.times.front().copied();
        let count = self.times.len() as u64;
        self.times.clear();
        Some(Evidence {
            since_ms: since,
            ..Evidence::counted(p.window, count, p.threshold)
        })
    }
}
