//! What every node knows of the store's version without asking on each
//! request: a thread with its own runtime and connection that LISTENs on
//! `portcullis_store` (migration 3 announces every change there at commit)
//! and reads the version at once when told, and every [`POLL`] anyway (the
//! safety net for a lost notification). `data_version` answers from here;
//! a feed that has not heard from PostgreSQL for its staleness bound
//! (`fleet.stale_after`, [`STALE`] unless set) answers
//! `Unavailable`, so a node cut off from the store refuses rather than
//! serve state that may be old.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use crate::StoreError;

/// How often the version is read even without a notification.
const POLL: Duration = Duration::from_millis(500);
/// How long without a successful read before the feed is stale, unless
/// `fleet.stale_after` says otherwise.
pub(super) const STALE: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub(super) struct Feed {
    version: AtomicI64,
    /// Milliseconds since `started` of the last successful read.
    heard_ms: AtomicI64,
    stale_ms: i64,
    started: Instant,
    stop: AtomicBool,
}

impl Feed {
    /// Starts the listener thread on `url`.
    pub(super) fn start(url: &str, stale_after: Duration) -> Result<Arc<Self>, StoreError> {
        let feed = Arc::new(Self {
            version: AtomicI64::new(0),
            heard_ms: AtomicI64::new(i64::MIN),
            stale_ms: i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX),
            started: Instant::now(),
            stop: AtomicBool::new(false),
        });
        let (url, f) = (url.to_owned(), Arc::clone(&feed));
        std::thread::Builder::new()
            .name("portcullis-pg-feed".into())
            .spawn(move || listen(&url, &f))
            .map_err(|e| StoreError::unavailable("starting the change feed", e.to_string()))?;
        Ok(feed)
    }

    /// The store's version as last read, if read within the staleness bound.
    pub(super) fn version(&self) -> Result<i64, StoreError> {
        let now = self.elapsed_ms();
        let heard = self.heard_ms.load(Ordering::Acquire);
        if heard == i64::MIN || now.saturating_sub(heard) > self.stale_ms {
            return Err(StoreError::unavailable(
                "reading the data version",
                "the store's change feed has not heard from PostgreSQL recently",
            ));
        }
        Ok(self.version.load(Ordering::Acquire))
    }

    /// Waits (a little) until the feed has heard once: a new node does not
    /// refuse its first requests for want of a first read.
    pub(super) fn wait_first(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.heard_ms.load(Ordering::Acquire) == i64::MIN && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    fn heard(&self, version: i64) {
        self.version.store(version, Ordering::Release);
        self.heard_ms.store(self.elapsed_ms(), Ordering::Release);
    }
}

async fn read(client: &Client) -> Result<i64, tokio_postgres::Error> {
    client
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM store_version",
            &[],
        )
        .await?
        .try_get(0)
}

fn listen(url: &str, feed: &Feed) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("the change feed could not start its runtime");
        return;
    };
    runtime.block_on(async {
        let mut backoff = Duration::from_millis(100);
        while !feed.stop.load(Ordering::Acquire) {
            match session(url, feed).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "the store's change feed lost PostgreSQL; reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    });
}

/// One connection's life: LISTEN, then read on each notification and each
/// poll, until the connection fails (`Err`) or the store is dropped.
async fn session(url: &str, feed: &Feed) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    let (told, mut news) = tokio::sync::mpsc::unbounded_channel::<()>();
    // The connection is driven here, notifications passed on.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    let _ = told.send(());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client.batch_execute("LISTEN portcullis_store").await?;
    feed.heard(read(&client).await?);
    let mut tick = tokio::time::interval(POLL);
    loop {
        if feed.stop.load(Ordering::Acquire) {
            driver.abort();
            return Ok(());
        }
        tokio::select! {
            _ = news.recv() => {}
            _ = tick.tick() => {}
        }
        match read(&client).await {
            Ok(version) => feed.heard(version),
            Err(e) => {
                driver.abort();
                return Err(e);
            }
        }
    }
}
