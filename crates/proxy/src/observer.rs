//! What the admin listener may see of a running gateway: the ledger's
//! location (to query decisions), the metrics, and readiness.

use std::sync::Arc;
use std::time::Duration;

use portcullis_store::ledger::Location;

use crate::live::Live;

/// How long an upstream's name may take to resolve before it counts as
/// unresolvable.
const RESOLVE: Duration = Duration::from_secs(2);

/// A read-only view of a gateway, for the admin listener.
#[derive(Debug, Clone)]
pub struct Observer {
    live: Arc<Live>,
}

impl Observer {
    pub(crate) fn new(live: Arc<Live>) -> Self {
        Self { live }
    }

    pub fn ledger(&self) -> &Location {
        &self.live.ledger
    }

    /// The snapshot requests arriving now run on.
    pub fn snapshot(&self) -> Arc<crate::Snapshot> {
        self.live.snapshot()
    }

    /// The metrics in the text exposition format.
    pub fn metrics(&self) -> String {
        self.live.metrics.render()
    }

    /// Ready to serve: a configuration is loaded, the identity store and the
    /// audit ledger accept writes, and every upstream's host resolves.
    ///
    /// # Errors
    /// What is not ready, one line each.
    pub async fn ready(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let snapshot = self.live.snapshot();
        let store = snapshot.authority.store();
        if snapshot.authority.refresh().is_err() || store.check_writable().is_err() {
            problems.push("the identity store does not accept writes".to_owned());
        }
        if !self.live.audit.stats().healthy() {
            problems.push("the audit ledger does not accept writes".to_owned());
        }
        for api in &snapshot.apis {
            let authority = api.config.upstream.authority.clone();
            let resolved =
                tokio::time::timeout(RESOLVE, tokio::net::lookup_host(authority.clone())).await;
            let found = match resolved {
                Ok(Ok(mut addrs)) => addrs.next().is_some(),
                _ => false,
            };
            if !found {
                problems.push(format!(
                    "the upstream of api `{}` ({authority}) does not resolve",
                    api.config.name
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}
