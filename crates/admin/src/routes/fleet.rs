//! `GET /admin/v1/fleet`: every node in the fleet register, which are
//! alive, and which run a configuration other than the one most do
//! (drift). On SQLite it lists the gateways sharing that file: usually one.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use portcullis_proxy::Observer;

use crate::refusal::{Refusal, store};

pub(super) async fn fleet(State(observer): State<Option<Observer>>) -> Result<Response, Refusal> {
    let observer = observer.ok_or_else(super::observe::no_gateway)?;
    let view = observer.fleet().await.map_err(|e| store(e, ""))?;
    Ok(Json(view).into_response())
}
