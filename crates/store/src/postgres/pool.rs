//! Connections to PostgreSQL for the synchronous store traits. The traits
//! are called from anywhere (the request path on a tokio worker, the CLI,
//! blocking tasks), and a client that blocks on its own runtime would panic
//! inside another; so a few threads each own a current-thread runtime and
//! one connection, take jobs from one queue, and answer on a channel the
//! caller waits on, with a deadline. A lost connection is made again on the
//! next job; while PostgreSQL cannot be reached every call answers
//! `Unavailable`: the store fails closed and recovers without a restart.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::StoreError;

pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type Job = Box<dyn for<'c> FnOnce(&'c mut Client) -> BoxFuture<'c, ()> + Send>;

/// How long a call waits for its answer (a connection attempt included).
const DEADLINE: Duration = Duration::from_secs(5);

/// What one call was about, for its errors: the action, the kind of record
/// and its id (a constraint names the record, never a value).
#[derive(Debug, Clone, Copy)]
pub(super) struct About<'a> {
    pub action: &'static str,
    pub what: &'static str,
    pub id: &'a str,
}

#[derive(Debug)]
pub(super) struct Pool {
    jobs: Mutex<Sender<Job>>,
}

fn job<F>(f: F) -> Job
where
    F: for<'c> FnOnce(&'c mut Client) -> BoxFuture<'c, ()> + Send + 'static,
{
    Box::new(f)
}

impl Pool {
    /// Starts `size` connection threads to `url` (each connects on its
    /// first job).
    pub(super) fn start(url: &str, size: usize) -> Result<Self, StoreError> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..size.max(1) {
            let rx = Arc::clone(&rx);
            let url = url.to_owned();
            std::thread::Builder::new()
                .name(format!("portcullis-pg-{n}"))
                .spawn(move || worker(&url, &rx))
                .map_err(|e| {
                    StoreError::unavailable("starting the PostgreSQL store", e.to_string())
                })?;
        }
        Ok(Self {
            jobs: Mutex::new(tx),
        })
    }

    /// Runs `f` on a connection and waits for its answer. Constraint
    /// violations become `Conflict` (unique) or `NotFound` (a referenced
    /// row missing); everything else, and no answer by the deadline,
    /// `Unavailable`.
    pub(super) fn run<T, F>(&self, about: About<'_>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Client) -> BoxFuture<'c, Result<T, tokio_postgres::Error>>
            + Send
            + 'static,
    {
        let (tx, rx): (SyncSender<Result<T, tokio_postgres::Error>>, _) = sync_channel(1);
        let work = job(move |client| {
            Box::pin(async move {
                let _ = tx.send(f(client).await);
            })
        });
        self.jobs
            .lock()
            .map_err(|_| StoreError::unavailable(about.action, "the connection queue is poisoned"))?
            .send(work)
            .map_err(|_| {
                StoreError::unavailable(about.action, "the connection threads have stopped")
            })?;
        match rx.recv_timeout(DEADLINE) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(classify(&e, about)),
            Err(_) => Err(StoreError::unavailable(
                about.action,
                "PostgreSQL did not answer in time",
            )),
        }
    }
}

fn classify(e: &tokio_postgres::Error, about: About<'_>) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::conflict(about.what, about.id),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => {
            StoreError::not_found("identity", about.id)
        }
        // The server's message, not its detail (which may quote values).
        _ => StoreError::unavailable(
            about.action,
            e.as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_owned()),
        ),
    }
}

fn worker(url: &str, jobs: &Mutex<Receiver<Job>>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("a PostgreSQL connection thread could not start its runtime");
        return;
    };
    let mut client: Option<Client> = None;
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(work) = next else { return };
        runtime.block_on(async {
            if client.as_ref().is_none_or(Client::is_closed) {
                client = super::connect(url)
                    .await
                    .map_err(|e| tracing::warn!(error = %e, "PostgreSQL cannot be reached"))
                    .ok();
            }
            // No connection: the job is dropped unanswered, and its caller
            // answers `Unavailable`.
            if let Some(c) = client.as_mut() {
                work(c).await;
            }
            // Lets the connection send what a job left queued (the rollback
            // of a transaction an error dropped), so its locks go now, not
            // at this thread's next job.
            tokio::task::yield_now().await;
        });
    }
}
