//! The watch's webhook: each alert, once in the ledger, POSTed as JSON to
//! the configured URL, retried with doubling back-off, from its own bounded
//! queue. A webhook that hangs or fails costs only its own queue (alerts
//! past it are counted as dropped); requests never wait on it, and the
//! ledger has every alert whatever the webhook does.

use std::sync::Weak;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, header};
use http_body_util::Full;
use portcullis_audit::Entry;
use portcullis_watch::Webhook;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::live::Live;

/// Alerts waiting for the webhook.
pub(super) const QUEUE: usize = 1_024;
/// The first retry's wait; each next one doubles, up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the webhook receives for one alert record.
pub(super) fn payload(entry: &Entry) -> Value {
    json!({
        "type": "portcullis.alert",
        "id": entry.request_id,
        "time_ms": entry.time_ms,
        "identity": entry.identity,
        "alert": entry.alert,
    })
}

pub(super) async fn run(live: Weak<Live>, mut queue: mpsc::Receiver<Value>) {
    let mut client = None;
    while let Some(payload) = queue.recv().await {
        let Some(live) = live.upgrade() else { return };
        let hook = live.watch.settings().and_then(|s| s.webhook.clone());
        let metrics = std::sync::Arc::clone(&live.metrics);
        // The live state is not kept alive while a webhook is slow.
        drop(live);
        let Some(hook) = hook else { continue };
        // Built again when a reload changes the timeout it connects with.
        if client
            .as_ref()
            .is_none_or(|(timeout, _)| *timeout != hook.timeout)
        {
            client = crate::jwks::client(hook.timeout)
                .map_err(|e| tracing::error!(error = %e, "the webhook client could not be built"))
                .ok()
                .map(|c| (hook.timeout, c));
        }
        let Some((_, c)) = &client else {
            metrics.webhook("failed");
            continue;
        };
        let delivered = deliver(c, &hook, &payload).await;
        metrics.webhook(if delivered { "delivered" } else { "failed" });
    }
}

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

async fn deliver(client: &Client, hook: &Webhook, payload: &Value) -> bool {
    let body = Bytes::from(payload.to_string());
    let mut wait = BACKOFF;
    for attempt in 1..=hook.attempts {
        let request = Request::post(hook.url.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, "portcullis-watch")
            .body(Full::new(body.clone()));
        let Ok(request) = request else { return false };
        match tokio::time::timeout(hook.timeout, client.request(request)).await {
            Ok(Ok(response)) if response.status().is_success() => return true,
            Ok(Ok(response)) => {
                tracing::warn!(
                    attempt,
                    status = response.status().as_u16(),
                    "the webhook refused an alert"
                );
            }
            Ok(Err(e)) => tracing::warn!(attempt, error = %e, "the webhook could not be reached"),
            Err(_) => tracing::warn!(attempt, "the webhook did not answer in time"),
        }
        if attempt < hook.attempts {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_BACKOFF);
        }
    }
    tracing::error!("an alert was not delivered to the webhook (it is in the ledger)");
    false
}
