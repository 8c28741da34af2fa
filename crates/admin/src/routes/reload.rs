//! Configuration reload: `POST /admin/v1/reload` reads and validates the
//! configuration file again and swaps it in whole, or refuses and keeps the
//! last good one serving; `GET /admin/v1/reload` says how reloads went.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use portcullis_core::{FieldError, ProblemCode};
use portcullis_proxy::{ReloadStatus, Reloader};
use serde_json::{Value, json};

use crate::authenticate::AdminCaller;
use crate::extract::NoBody;
use crate::refusal::Refusal;

pub(super) async fn reload(
    State(reloader): State<Option<Reloader>>,
    Extension(caller): Extension<AdminCaller>,
    NoBody: NoBody,
) -> Result<Response, Refusal> {
    let reloader = reloader.ok_or_else(no_file)?;
    tracing::info!(admin = %caller.identity, "reload requested");
    match reloader.reload("admin-api").await {
        Ok(_) => Ok(Json(status_json(&reloader.status())).into_response()),
        // The configuration, not this request, is at fault; each problem is
        // one entry, located in the file it names.
        Err(failure) => Err(Refusal::invalid(
            "the configuration does not validate; the last good one keeps serving",
            failure
                .errors
                .into_iter()
                .map(|e| FieldError::new("/config", e))
                .collect(),
        )),
    }
}

pub(super) async fn status(State(reloader): State<Option<Reloader>>) -> Result<Response, Refusal> {
    let reloader = reloader.ok_or_else(no_file)?;
    Ok(Json(status_json(&reloader.status())).into_response())
}

fn no_file() -> Refusal {
    Refusal::new(
        ProblemCode::Unavailable,
        "this gateway was not started from a configuration file, so it has none to reload",
    )
}

fn status_json(status: &ReloadStatus) -> Value {
    json!({
        "version": status.version,
        "applied": status.applied,
        "failed": status.failed,
        "last_attempt": status.last_attempt,
        "last_trigger": status.last_trigger,
        "last_errors": status.last_errors,
        "warnings": status.warnings,
    })
}
