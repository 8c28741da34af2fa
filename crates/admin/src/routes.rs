//! The `/admin/v1` operations, one module per kind of thing managed, and
//! the router that names them. Handlers check their input, then hand the
//! change to the authority on a blocking thread (the store is synchronous)
//! and say what happened; they decide nothing about identities themselves.

use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use portcullis_proxy::authority::Authority;
use portcullis_proxy::{Observer, Reloader};
use serde::{Deserialize, Deserializer};

use crate::refusal::Refusal;
use crate::{authenticate, envelope, extract};

mod credentials;
mod fleet;
mod identities;
mod observe;
mod posture;

pub(crate) use credentials::{revoke_credential, rotate_secret};
pub(crate) use identities::change_state;
pub(crate) use observe::no_gateway;
pub(crate) use posture::report as posture_report;
mod reload;
mod tokens;

/// What handlers reach: the authority, and the reloader when the gateway
/// was started from a configuration file.
#[derive(Debug, Clone)]
pub(crate) struct AdminState {
    pub(crate) authority: Arc<Authority>,
    reloader: Option<Reloader>,
    pub(crate) observer: Option<Observer>,
    /// The console's last verification of the ledger: when, and per chain
    /// (node, status, detail).
    pub(crate) verified: Arc<std::sync::Mutex<Option<Verified>>>,
    /// The console's signed-in admins.
    pub(crate) sessions: Arc<crate::console::Sessions>,
    /// One acknowledgement at a time: checking an alert is open and
    /// recording its acknowledgement are one step.
    pub(crate) acknowledging: Arc<tokio::sync::Mutex<()>>,
    /// Whether a verification of the ledger runs now (one at a time).
    pub(crate) verifying: Arc<std::sync::atomic::AtomicBool>,
}

/// When the console last verified the ledger, and each chain's outcome.
pub(crate) type Verified = (String, Vec<(Option<String>, String, String)>);

impl FromRef<AdminState> for Option<Observer> {
    fn from_ref(state: &AdminState) -> Self {
        state.observer.clone()
    }
}

impl FromRef<AdminState> for Arc<Authority> {
    fn from_ref(state: &AdminState) -> Self {
        Arc::clone(&state.authority)
    }
}

impl FromRef<AdminState> for Option<Reloader> {
    fn from_ref(state: &AdminState) -> Self {
        state.reloader.clone()
    }
}

/// Every admin route: the probes and metrics open, the rest behind
/// authentication; all inside the envelope.
pub(crate) fn router(
    authority: Arc<Authority>,
    reloader: Option<Reloader>,
    observer: Option<Observer>,
) -> Router {
    // Decisions take a query (filters, paging); no other operation does.
    let queried = Router::new()
        .route("/admin/v1/decisions", get(observe::decisions))
        .route("/admin/v1/alerts", get(observe::alerts))
        .route("/admin/v1/posture", get(posture::posture));
    let managed = Router::new()
        .route("/admin/v1/fleet", get(fleet::fleet))
        .route("/admin/v1/reload", get(reload::status).post(reload::reload))
        .route(
            "/admin/v1/identities",
            get(identities::list).post(identities::create),
        )
        .route("/admin/v1/identities/{id}", get(identities::show))
        .route("/admin/v1/identities/{id}/state", post(identities::state))
        .route(
            "/admin/v1/identities/{id}/credentials",
            post(credentials::create),
        )
        .route(
            "/admin/v1/credentials/{credential_id}/rotate",
            post(credentials::rotate),
        )
        .route(
            "/admin/v1/credentials/{credential_id}/revoke",
            post(credentials::revoke),
        )
        .route("/admin/v1/tokens/revoke", post(tokens::revoke))
        .route("/admin/v1/keys/rotate", post(tokens::rotate_keys))
        // Only matched routes: an unknown path stays a 404 whatever its query.
        .route_layer(from_fn(extract::no_query))
        .merge(queried)
        .fallback(envelope::fallback)
        // ORDER: authentication wraps routing and the fallback, so nothing
        // about the path is answered to a caller who is not an admin; the
        // envelope wraps everything, so every refusal gets the same shape.
        .layer(from_fn_with_state(
            Arc::clone(&authority),
            authenticate::authenticate,
        ))
        .layer(from_fn(envelope::envelope));
    let open = Router::new()
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz))
        .route("/metrics", get(observe::metrics))
        .route_layer(from_fn(extract::no_query))
        .layer(from_fn(envelope::envelope));
    let state = AdminState {
        authority,
        reloader,
        observer,
        verified: Arc::default(),
        sessions: Arc::default(),
        acknowledging: Arc::default(),
        verifying: Arc::default(),
    };
    let console = crate::console::router(state.clone());
    open.merge(console).merge(managed).with_state(state)
}

/// Runs a store-touching action off the async threads. A panic or a lost
/// task is 503, never a success.
async fn blocking<T: Send + 'static>(
    authority: &Arc<Authority>,
    action: impl FnOnce(&Authority) -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    let authority = Arc::clone(authority);
    off_thread(move || action(&authority)).await
}

/// Runs `work` (the store and the ledger are synchronous) on a blocking
/// thread. A panic or a lost task is 503, never a success.
pub(crate) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "admin work did not finish");
        Err(Refusal::unavailable())
    })
}

/// A value spelled as text in a body (`"suspended"`, `"api-key"`), decoded
/// with the type's own `FromStr` so its error names the accepted spellings.
#[derive(Debug, Clone, Copy)]
struct Spelled<T>(T);

impl<'de, T> Deserialize<'de> for Spelled<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map(Spelled).map_err(serde::de::Error::custom)
    }
}
