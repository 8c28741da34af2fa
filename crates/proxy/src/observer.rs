//! What the admin listener may see of a running gateway: the ledger's
//! location (to query decisions), the metrics, and readiness.

use std::sync::Arc;
use std::time::Duration;

use portcullis_config::OnUnavailable;
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

    /// The fleet register, judged (`GET /admin/v1/fleet`).
    ///
    /// # Errors
    /// The store does not answer.
    pub async fn fleet(&self) -> Result<crate::fleet::FleetView, portcullis_store::StoreError> {
        let store = std::sync::Arc::clone(self.live.authority.store());
        let nodes = tokio::task::spawn_blocking(move || store.list_nodes())
            .await
            .unwrap_or_else(|_| {
                Err(portcullis_store::StoreError::unavailable(
                    "listing the fleet's nodes",
                    "the listing task failed",
                ))
            })?;
        Ok(crate::fleet::assess(nodes))
    }

    /// Records in the ledger that `admin` acknowledged alert `alert` (its
    /// record's key) about `identity`; answers once the record is committed,
    /// whatever the ledger's durability, so the admin is never told it was
    /// written when it was not.
    ///
    /// # Errors
    /// The ledger did not take the record.
    pub async fn acknowledge(
        &self,
        identity: &str,
        alert: &str,
        admin: &str,
    ) -> Result<(), portcullis_store::ledger::writer::WriteError> {
        let ack = portcullis_audit::event::Acknowledgement {
            alert: alert.to_owned(),
            by: admin.to_owned(),
        };
        self.record_event(identity, portcullis_audit::event::ACK, "console", |e| {
            e.ack = Some(ack);
        })
        .await
    }

    /// Records in the ledger that an admin rotated or revoked a credential
    /// of `identity` (after the store took the change); answers once the
    /// record is committed.
    ///
    /// # Errors
    /// The ledger did not take the record.
    pub async fn record_credential_change(
        &self,
        identity: &str,
        change: portcullis_audit::event::CredentialChange,
    ) -> Result<(), portcullis_store::ledger::writer::WriteError> {
        self.record_event(
            identity,
            portcullis_audit::event::CREDENTIAL,
            "admin",
            |e| {
                e.credential_change = Some(change);
            },
        )
        .await
    }

    /// An admin's record about `identity` (not a request), filled in by
    /// `fill`, committed before this answers.
    async fn record_event(
        &self,
        identity: &str,
        decision: &'static str,
        stage: &'static str,
        fill: impl FnOnce(&mut portcullis_audit::Entry),
    ) -> Result<(), portcullis_store::ledger::writer::WriteError> {
        let now_ms = portcullis_store::ledger::writer::now_ms();
        let mut entry =
            crate::watch::respond::event_entry(&self.live, now_ms, identity, decision, stage);
        fill(&mut entry);
        self.live.audit.record_committed(entry).await.map(|_| ())
    }

    /// The metrics in the text exposition format.
    pub fn metrics(&self) -> String {
        self.live.metrics.render()
    }

    /// Ready to serve: a configuration is loaded, the identity store and the
    /// audit ledger accept writes, every upstream's host resolves, and a
    /// shared rate-limit backend answers unless `on_unavailable: local`
    /// lets the node serve without it. Ready answers what works only in a
    /// degraded way (one line each), for the operator; a load balancer keeps
    /// sending traffic.
    ///
    /// # Errors
    /// What is not ready, one line each.
    pub async fn ready(&self) -> Result<Vec<String>, Vec<String>> {
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
        let mut degraded = Vec::new();
        match snapshot.rates.backend().await {
            Some((false, OnUnavailable::Deny)) => problems.push(
                "the shared rate-limit backend (Redis) does not answer, and on_unavailable is deny"
                    .to_owned(),
            ),
            Some((false, OnUnavailable::Local)) => degraded.push(
                "the shared rate-limit backend (Redis) does not answer: limits are counted on this node, at its share"
                    .to_owned(),
            ),
            Some((true, _)) | None => {}
        }
        if problems.is_empty() {
            Ok(degraded)
        } else {
            Err(problems)
        }
    }
}
