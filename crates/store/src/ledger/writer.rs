//! The ledger's one writer: a dedicated thread that takes records from a
//! bounded queue, seals them in arrival order and commits them in batches
//! (group commit: whatever queued while the previous commit ran goes in the
//! next), signs a checkpoint every N records or T seconds, and prunes at
//! checkpoints when retention is set.
//!
//! Nothing is ever dropped silently. A full queue makes callers wait
//! (backpressure). A failed commit keeps its records and retries them, and
//! stops taking new ones meanwhile, so the queue fills and callers wait. In
//! strict durability a caller waits for its record's commit; if the commit
//! fails it is told at once (the gateway answers 503 `unavailable`), and the
//! record, still retried, says so: status 503, code `unavailable`, stage
//! `record`.

mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use portcullis_audit::{AuditKey, Checkpoint, Entry, Hash, Sealed};

use super::{Ledger, LedgerError};
pub use stats::WriterStats;

/// When a response may be sent relative to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The response does not wait; a crash may lose the records not yet
    /// committed (at most one commit's worth plus the queue).
    Batch,
    /// The response waits until its record is committed.
    Strict,
}

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    pub durability: Durability,
    /// Sign a checkpoint after this many records...
    pub checkpoint_every: u64,
    /// ...or this long after the first unsigned record.
    pub checkpoint_interval: Duration,
    /// Records waiting to be written before callers wait.
    pub queue: usize,
    /// The most records one commit takes.
    pub max_batch: usize,
    /// Batch durability: how long the writer gathers records after the
    /// first before committing them together (fewer, larger commits, and no
    /// wake-up per record). Adds at most this much to the crash window.
    /// Strict durability never waits.
    pub batch_window: Duration,
    /// Drop records older than this, at a checkpoint.
    pub retention: Option<Duration>,
    /// Keep at most this many records, pruning at a checkpoint.
    pub max_records: Option<u64>,
    /// Told how long each commit took (metrics).
    pub on_commit: Option<CommitHook>,
}

/// A function told each commit's duration.
#[derive(Clone)]
pub struct CommitHook(pub Arc<dyn Fn(Duration) + Send + Sync>);

impl std::fmt::Debug for CommitHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitHook")
    }
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            durability: Durability::Batch,
            checkpoint_every: 1_000,
            checkpoint_interval: Duration::from_secs(5),
            queue: 8_192,
            max_batch: 1_024,
            batch_window: Duration::from_millis(10),
            retention: None,
            max_records: None,
            on_commit: None,
        }
    }
}

/// Why a record was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("the audit ledger could not be written")]
    Failed,
    #[error("the audit writer has stopped")]
    Closed,
}

/// Told the record's sequence number once committed (strict durability).
type Done = oneshot::Sender<Result<u64, WriteError>>;

enum Job {
    // Boxed: a record is large next to a flush, and the queue holds many.
    Record {
        entry: Box<Entry>,
        done: Option<Done>,
    },
    Flush(oneshot::Sender<()>),
}

/// The handle the gateway holds.
#[derive(Debug)]
pub struct AuditWriter {
    tx: Option<mpsc::Sender<Job>>,
    stats: Arc<WriterStats>,
    durability: Durability,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Record { .. } => "Record",
            Job::Flush(_) => "Flush",
        })
    }
}

impl AuditWriter {
    /// Starts the writer thread on `ledger`, signing with `key` (whose public
    /// half is published in the ledger).
    ///
    /// # Errors
    /// The ledger cannot be read or the key not published.
    pub fn start(ledger: Ledger, key: AuditKey, config: WriterConfig) -> Result<Self, LedgerError> {
        ledger.put_key(&key.public())?;
        let head = ledger.head()?;
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let stats = Arc::new(WriterStats::new(config.queue.max(1)));
        stats.set_last_seq(head.0);
        let durability = config.durability;
        let state = State {
            ledger,
            key,
            config,
            head,
            pending: Vec::new(),
            unsigned: 0,
            first_unsigned: None,
            stats: Arc::clone(&stats),
        };
        let thread = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || state.run(rx))
            .map_err(|e| LedgerError::Corrupt(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            tx: Some(tx),
            stats,
            durability,
            thread: Some(thread),
        })
    }

    pub fn durability(&self) -> Durability {
        self.durability
    }

    pub fn stats(&self) -> &Arc<WriterStats> {
        &self.stats
    }

    /// Hands a record to the writer. Waits for queue space (backpressure);
    /// in strict durability also for the commit, returning its sequence
    /// number.
    ///
    /// # Errors
    /// Strict: the commit failed. Either: the writer has stopped.
    pub async fn record(&self, entry: Entry) -> Result<Option<u64>, WriteError> {
        let tx = self.tx.as_ref().ok_or(WriteError::Closed)?;
        match self.durability {
            Durability::Batch => {
                tx.send(Job::Record {
                    entry: Box::new(entry),
                    done: None,
                })
                .await
                .map_err(|_| WriteError::Closed)?;
                Ok(None)
            }
            Durability::Strict => self.record_committed(entry).await.map(Some),
        }
    }

    /// Hands a record to the writer and waits for its commit whatever the
    /// durability: for a record someone is told was written (an admin's
    /// acknowledgement of an alert).
    ///
    /// # Errors
    /// The commit failed, or the writer has stopped.
    pub async fn record_committed(&self, entry: Entry) -> Result<u64, WriteError> {
        let tx = self.tx.as_ref().ok_or(WriteError::Closed)?;
        let (done, committed) = oneshot::channel();
        tx.send(Job::Record {
            entry: Box::new(entry),
            done: Some(done),
        })
        .await
        .map_err(|_| WriteError::Closed)?;
        committed.await.map_err(|_| WriteError::Closed)?
    }

    /// Waits until everything handed over so far is committed.
    pub async fn flush(&self) {
        let Some(tx) = &self.tx else { return };
        let (done, flushed) = oneshot::channel();
        if tx.send(Job::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }

    /// Commits what is queued, signs a last checkpoint, and stops.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for AuditWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The writer thread's state.
struct State {
    ledger: Ledger,
    key: AuditKey,
    config: WriterConfig,
    head: (u64, Hash),
    /// Records taken but not yet committed (kept across a failed commit).
    pending: Vec<(Box<Entry>, Option<Done>)>,
    unsigned: u64,
    first_unsigned: Option<Instant>,
    stats: Arc<WriterStats>,
}

/// How long to wait before retrying a failed commit.
const RETRY: Duration = Duration::from_millis(100);

impl State {
    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        else {
            tracing::error!("the audit writer could not start its runtime");
            return;
        };
        runtime.block_on(async {
            let mut open = true;
            // Answered once everything taken before them is committed.
            let mut flushes = Vec::new();
            while open || !self.pending.is_empty() {
                // While a commit is failing, take nothing new: the queue
                // fills and callers wait, rather than records piling up here.
                if self.pending.is_empty() {
                    match tokio::time::timeout(self.until_checkpoint(), rx.recv()).await {
                        Ok(Some(job)) => {
                            let gather = self.config.durability == Durability::Batch
                                && !self.config.batch_window.is_zero()
                                && matches!(job, Job::Record { .. });
                            self.take(job, &mut flushes);
                            if gather {
                                tokio::time::sleep(self.config.batch_window).await;
                            }
                        }
                        Ok(None) => open = false,
                        Err(_) => {}
                    }
                    while self.pending.len() < self.config.max_batch {
                        match rx.try_recv() {
                            Ok(job) => self.take(job, &mut flushes),
                            Err(_) => break,
                        }
                    }
                } else {
                    tokio::time::sleep(RETRY).await;
                    // Stopping while a commit keeps failing (a full disk, a
                    // fenced chain): one more try below, then stop, saying
                    // what could not be written, rather than never stop.
                    if rx.is_closed() {
                        open = false;
                    }
                }
                self.stats.set_queued(rx.len());
                let committed = self.commit();
                if committed || self.pending.is_empty() {
                    for flush in flushes.drain(..) {
                        let _ = flush.send(());
                    }
                }
                self.checkpoint(!open);
                if !open && !committed && !self.pending.is_empty() {
                    tracing::error!(
                        records = self.pending.len(),
                        "the audit writer is stopping with records it could not commit"
                    );
                    break;
                }
            }
        });
    }

    fn take(&mut self, job: Job, flushes: &mut Vec<oneshot::Sender<()>>) {
        match job {
            Job::Record { entry, done } => self.pending.push((entry, done)),
            Job::Flush(done) => flushes.push(done),
        }
    }

    /// Seals and commits the pending records; true when they are written.
    fn commit(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let started = Instant::now();
        let (mut seq, mut prev) = self.head;
        let mut batch = Vec::with_capacity(self.pending.len());
        for (entry, _) in &self.pending {
            seq += 1;
            match Sealed::seal_ref(seq, prev, entry) {
                Ok(sealed) => {
                    prev = sealed.hash;
                    batch.push((sealed, &**entry));
                }
                Err(e) => {
                    tracing::error!(error = %e, "an audit record could not be encoded");
                    return false;
                }
            }
        }
        let appended = self.ledger.append(&batch);
        let written = batch.len() as u64;
        drop(batch);
        match appended {
            Ok(()) => {
                let first = self.head.0 + 1;
                for (offset, (_, done)) in self.pending.drain(..).enumerate() {
                    if let Some(done) = done {
                        let _ = done.send(Ok(first + offset as u64));
                    }
                }
                self.head = (seq, prev);
                self.unsigned += written;
                self.first_unsigned.get_or_insert(started);
                self.stats.committed(written, seq);
                if let Some(hook) = &self.config.on_commit {
                    (hook.0)(started.elapsed());
                }
                true
            }
            Err(e) => {
                self.stats.failed();
                tracing::error!(error = %e, records = written, "audit commit failed; retrying");
                for (entry, done) in &mut self.pending {
                    if let Some(done) = done.take() {
                        // The caller answers 503 now; the record says so.
                        let _ = done.send(Err(WriteError::Failed));
                        entry.status = 503;
                        entry.code = Some("unavailable".into());
                        entry.stage = "record".into();
                        entry.decision = "deny".into();
                    }
                }
                false
            }
        }
    }

    /// Time left before unsigned records must be checkpointed.
    fn until_checkpoint(&self) -> Duration {
        self.first_unsigned
            .map_or(self.config.checkpoint_interval, |t| {
                self.config
                    .checkpoint_interval
                    .saturating_sub(t.elapsed())
                    .max(Duration::from_millis(1))
            })
    }

    fn checkpoint(&mut self, closing: bool) {
        if self.unsigned == 0 {
            return;
        }
        let due = closing
            || self.unsigned >= self.config.checkpoint_every
            || self
                .first_unsigned
                .is_some_and(|t| t.elapsed() >= self.config.checkpoint_interval);
        if !due {
            return;
        }
        let (seq, hash) = self.head;
        let checkpoint = Checkpoint::sign(&self.key, seq, hash, now_ms());
        match self.ledger.add_checkpoint(&checkpoint) {
            Ok(()) => {
                self.unsigned = 0;
                self.first_unsigned = None;
                self.stats.checkpointed(seq);
            }
            Err(e) => tracing::error!(error = %e, "audit checkpoint failed; retrying"),
        }
        let by_age = self.config.retention.map(|retention| {
            let cutoff = now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
            self.ledger.prune(cutoff)
        });
        let by_size = self.config.max_records.map(|max| self.ledger.prune_to(max));
        for pruned in [by_age, by_size].into_iter().flatten() {
            match pruned {
                Ok(Some(anchor)) => tracing::info!(anchor, "audit ledger pruned"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "audit ledger pruning failed"),
            }
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
