//! Enumeration: on an operation that reads a single record, many distinct
//! values of its last path parameter within a window, or a run of values
//! each one more (or one less) than the last (`ord-1001`, `ord-1002`...).
//! At most [`OPERATIONS`] operations are followed per identity (the least
//! recently used goes), each remembering at most `distinct` values; a
//! firing clears that operation's memory.

use std::collections::VecDeque;
use std::hash::BuildHasher;

use super::{Evidence, millis};
use crate::Observation;
use crate::settings::Enumeration;

/// Operations followed per identity.
const OPERATIONS: usize = 16;
/// Values kept as text for the evidence.
const SAMPLES: usize = 5;

#[derive(Debug, Default)]
pub(super) struct State {
    operations: Vec<Operation>,
}

#[derive(Debug)]
struct Operation {
    key: u64,
    last_ms: i64,
    /// Each distinct value's hash and when it was first seen in the window.
    values: VecDeque<(u64, i64)>,
    samples: Vec<String>,
    run: Run,
}

/// The current run of consecutive numbers.
#[derive(Debug, Default)]
struct Run {
    prefix: u64,
    last: Option<u64>,
    /// +1 ascending, -1 descending, 0 not yet known.
    direction: i8,
    length: u32,
    since_ms: i64,
    first: String,
}

fn hash(parts: &[&str]) -> u64 {
    let state = foldhash::fast::FixedState::with_seed(0xe7e7);
    state.hash_one(parts)
}

impl State {
    #[cfg(test)]
    pub(super) fn footprint(&self) -> (usize, usize) {
        let values = self.operations.iter().map(|o| o.values.len()).sum();
        (self.operations.len(), values)
    }

    pub(super) fn observe(&mut self, p: &Enumeration, obs: &Observation<'_>) -> Option<Evidence> {
        let (Some(item), Some(api), Some(operation)) = (obs.item, obs.api, obs.operation) else {
            return None;
        };
        let key = hash(&[api, operation]);
        let at = match self.operations.iter().position(|o| o.key == key) {
            Some(at) => at,
            None => {
                if self.operations.len() >= OPERATIONS
                    && let Some((oldest, _)) = self
                        .operations
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, o)| o.last_ms)
                {
                    self.operations.swap_remove(oldest);
                }
                self.operations.push(Operation {
                    key,
                    last_ms: obs.time_ms,
                    values: VecDeque::new(),
                    samples: Vec::new(),
                    run: Run::default(),
                });
                self.operations.len() - 1
            }
        };
        let op = self.operations.get_mut(at)?;
        op.last_ms = obs.time_ms;
        let subject = || format!("{api}:{operation}");
        if let Some(evidence) = op.distinct(p, obs.time_ms, item, subject) {
            return Some(evidence);
        }
        op.sequence(p, obs.time_ms, item, subject)
    }
}

impl Operation {
    fn distinct(
        &mut self,
        p: &Enumeration,
        now: i64,
        item: &str,
        subject: impl Fn() -> String,
    ) -> Option<Evidence> {
        let window = millis(p.window);
        while self
            .values
            .front()
            .is_some_and(|&(_, t)| now.saturating_sub(t) >= window)
        {
            self.values.pop_front();
        }
        if self.values.is_empty() {
            self.samples.clear();
        }
        let h = hash(&[item]);
        if self.values.iter().any(|&(v, _)| v == h) {
            return None;
        }
        self.values.push_back((h, now));
        if self.samples.len() < SAMPLES {
            self.samples.push(item.to_owned());
        }
        let distinct = usize::try_from(p.distinct).unwrap_or(usize::MAX);
        if self.values.len() < distinct {
            return None;
        }
        let since = self.values.front().map(|&(_, t)| t);
        let count = self.values.len() as u64;
        self.values.clear();
        self.run = Run::default();
        Some(Evidence {
            since_ms: since,
            subject: Some(subject()),
            samples: std::mem::take(&mut self.samples),
            ..Evidence::counted(p.window, count, p.distinct)
        })
    }

    fn sequence(
        &mut self,
        p: &Enumeration,
        now: i64,
        item: &str,
        subject: impl Fn() -> String,
    ) -> Option<Evidence> {
        let digits = item.len() - item.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let split = item.len() - digits;
        let number = item.get(split..).and_then(|d| d.parse::<u64>().ok());
        let prefix = hash(&[item.get(..split).unwrap_or("")]);
        let run = &mut self.run;
        let Some(number) = number else {
            *run = Run::default();
            return None;
        };
        if run.prefix == prefix && run.last == Some(number) {
            // The same record again: neither continues nor breaks the run.
            return None;
        }
        let window = millis(p.window);
        let direction = match run.last {
            Some(last) if run.prefix == prefix && number == last.wrapping_add(1) => 1,
            Some(last) if run.prefix == prefix && number == last.wrapping_sub(1) => -1,
            _ => 0,
        };
        let continues = direction != 0
            && (run.direction == 0 || run.direction == direction)
            && now.saturating_sub(run.since_ms) < window;
        if continues {
            run.direction = direction;
            run.length = run.length.saturating_add(1);
        } else {
            // A new run, in place: the first value's buffer is kept, so the
            // reads that break runs (most of them) allocate nothing.
            run.prefix = prefix;
            run.direction = 0;
            run.length = 1;
            run.since_ms = now;
            run.first.clear();
            run.first.push_str(item);
        }
        run.last = Some(number);
        if run.length < p.sequence {
            return None;
        }
        let evidence = Evidence {
            since_ms: Some(run.since_ms),
            subject: Some(subject()),
            samples: vec![std::mem::take(&mut run.first), item.to_owned()],
            ..Evidence::counted(p.window, u64::from(run.length), p.sequence)
        };
        *run = Run::default();
        self.values.clear();
        self.samples.clear();
        Some(evidence)
    }
}
