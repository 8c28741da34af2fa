//! What the writer reports for metrics and readiness: queue depth, commits,
//! failures, the last sequence numbers. Plain atomics, read without locking.
//! (Commit latency goes to the caller's [`super::CommitHook`].)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The writer's counters.
#[derive(Debug)]
pub struct WriterStats {
    capacity: u64,
    queued: AtomicU64,
    records: AtomicU64,
    commits: AtomicU64,
    failures: AtomicU64,
    healthy: AtomicBool,
    last_seq: AtomicU64,
    last_checkpoint: AtomicU64,
}

impl WriterStats {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity as u64,
            queued: AtomicU64::new(0),
            records: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            healthy: AtomicBool::new(true),
            last_seq: AtomicU64::new(0),
            last_checkpoint: AtomicU64::new(0),
        }
    }

    pub(super) fn set_queued(&self, n: usize) {
        self.queued.store(n as u64, Ordering::Relaxed);
    }

    pub(super) fn set_last_seq(&self, seq: u64) {
        self.last_seq.store(seq, Ordering::Relaxed);
    }

    pub(super) fn committed(&self, records: u64, last_seq: u64) {
        self.records.fetch_add(records, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.healthy.store(true, Ordering::Relaxed);
        self.last_seq.store(last_seq, Ordering::Relaxed);
    }

    pub(super) fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        self.healthy.store(false, Ordering::Relaxed);
    }

    pub(super) fn checkpointed(&self, seq: u64) {
        self.last_checkpoint.store(seq, Ordering::Relaxed);
    }

    /// Records waiting in the queue at the last look.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// False from a failed commit until the next one succeeds.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Relaxed)
    }

    pub fn last_checkpoint(&self) -> u64 {
        self.last_checkpoint.load(Ordering::Relaxed)
    }
}
