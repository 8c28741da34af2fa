//! What the watch's tests share: a configuration with one detector on, a
//! client of one identity, and the alerts read back from the ledger.

#![allow(
    dead_code,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support: a missing alert fails the test that waited for it"
)]

use std::time::Duration;

use portcullis_store::ledger::{Filter, Ledger};
use portcullis_testkit::raw::{self, RawResponse};
use portcullis_testkit::{World, example_config, identity_with_key};
use serde_json::Value;

/// The example configuration with the watch on and only `detector` (a
/// `name: {settings}` line) running.
pub fn only(detector: &str, extra: &str) -> String {
    let name = detector.split(':').next().unwrap_or_default();
    let off: String = ["probing", "enumeration", "deny_spike", "novelty", "volume"]
        .into_iter()
        .filter(|d| *d != name)
        .map(|d| format!("    {d}: {{enabled: false}}\n"))
        .collect();
    format!(
        "{}\nwatch:\n  throttle: {{rate: 1/s, for: 10m}}\n{extra}  detectors:\n    {detector}\n{off}",
        example_config()
    )
}

/// One identity's client on a world.
pub struct Client<'a> {
    pub world: &'a World,
    pub key: String,
}

impl<'a> Client<'a> {
    pub fn new(world: &'a World, id: &str, scopes: Option<&[&str]>) -> Self {
        let key = identity_with_key(&world.gateway, id, scopes);
        Self { world, key }
    }

    pub async fn send(&self, request: &[u8]) -> RawResponse {
        raw::send(
            self.world.gateway_addr(),
            &raw::with_header(request, "X-Api-Key", &self.key),
        )
        .await
    }

    pub async fn get(&self, target: &str) -> RawResponse {
        self.send(&raw::get(target)).await
    }
}

/// The alert records of `identity`, oldest first, once there are at least
/// `n` (waits up to ten seconds: the responder records them off the
/// request path).
pub async fn alerts(world: &World, identity: &str, n: usize) -> Vec<Value> {
    let mut found = Vec::new();
    for _ in 0..200 {
        found = read_alerts(world, identity);
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{identity}: {} alerts, wanted {n}: {found:#?}", found.len())
}

/// The alert records of `identity` after the gateway had time to record
/// anything it decided: for a test that none was raised.
pub async fn settled_alerts(world: &World, identity: &str) -> Vec<Value> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    world.gateway.flush_audit().await;
    read_alerts(world, identity)
}

fn read_alerts(world: &World, identity: &str) -> Vec<Value> {
    let filter = Filter {
        identity: Some(identity.to_owned()),
        decision: Some("alert".to_owned()),
        limit: 500,
        ..Filter::default()
    };
    let mut records = Ledger::open_reader(world.gateway.ledger())
        .and_then(|l| l.query(&filter))
        .map(|p| p.records)
        .unwrap_or_default();
    records.reverse();
    records
        .into_iter()
        .map(|r| r["entry"]["alert"].clone())
        .collect()
}
