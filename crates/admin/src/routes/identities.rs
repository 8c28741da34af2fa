//! `/admin/v1/identities`: list, create, show (with credentials, no secret
//! material), and change state. A state change bites on the identity's very
//! next request at the gateway, tokens it already holds included.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use portcullis_core::{
    FieldError, Identity, IdentityKind, IdentityState, UnixTime, valid_identity_id, valid_scope,
};
use portcullis_proxy::authority::Authority;
use serde::Deserialize;
use serde_json::json;

use super::{Spelled, blocking};
use crate::authenticate::AdminCaller;
use crate::extract::{IdentityPath, JsonBody};
use crate::refusal::{Refusal, managed, store};
use crate::view;

/// Longest owner, environment or tag accepted.
const MAX_TEXT: usize = 200;

pub(super) async fn list(State(authority): State<Arc<Authority>>) -> Result<Response, Refusal> {
    let mut identities = blocking(&authority, |a| {
        a.store().list_identities().map_err(|e| store(e, "/path"))
    })
    .await?;
    identities.sort_by(|a, b| a.id.cmp(&b.id));
    let body: Vec<_> = identities.iter().map(view::identity).collect();
    Ok(Json(json!({ "identities": body })).into_response())
}

/// `POST /admin/v1/identities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewIdentity {
    id: String,
    kind: Spelled<IdentityKind>,
    owner: String,
    environment: String,
    #[serde(default)]
    tags: Vec<String>,
    scopes: Vec<String>,
    #[serde(default)]
    expires: Option<UnixTime>,
}

impl NewIdentity {
    /// Checks every field (all violations at once) and builds the identity.
    fn validate(self, now: UnixTime) -> Result<Identity, Refusal> {
        let mut errors = Vec::new();
        if !valid_identity_id(&self.id) {
            errors.push(FieldError::new(
                "/body/id",
                "must match `[a-z0-9][a-z0-9._-]{0,62}`",
            ));
        }
        for (pointer, text) in [
            ("/body/owner", &self.owner),
            ("/body/environment", &self.environment),
        ] {
            if !plain_text(text) {
                errors.push(FieldError::new(pointer, text_rule()));
            }
        }
        for (i, tag) in self.tags.iter().enumerate() {
            if !plain_text(tag) {
                errors.push(FieldError::new(format!("/body/tags/{i}"), text_rule()));
            }
        }
        for (i, scope) in self.scopes.iter().enumerate() {
            if !valid_scope(scope) {
                errors.push(FieldError::new(
                    format!("/body/scopes/{i}"),
                    "is not a valid OAuth scope",
                ));
            }
        }
        if self.expires.is_some_and(|at| at <= now) {
            errors.push(FieldError::new("/body/expires", "must be in the future"));
        }
        if !errors.is_empty() {
            return Err(Refusal::invalid("the new identity is not valid", errors));
        }
        Ok(Identity {
            id: self.id,
            kind: self.kind.0,
            owner: self.owner,
            environment: self.environment,
            tags: self.tags,
            scopes: self.scopes,
            state: IdentityState::Active,
            created: now,
            expires: self.expires,
            last_used: None,
        })
    }
}

fn plain_text(text: &str) -> bool {
    !text.trim().is_empty() && text.len() <= MAX_TEXT && !text.chars().any(char::is_control)
}

fn text_rule() -> String {
    format!("must be non-empty text of at most {MAX_TEXT} bytes, without control characters")
}

pub(super) async fn create(
    State(authority): State<Arc<Authority>>,
    Extension(caller): Extension<AdminCaller>,
    JsonBody(body): JsonBody<NewIdentity>,
) -> Result<Response, Refusal> {
    let identity = body.validate(authority.now())?;
    let created = blocking(&authority, move |a| {
        // Creating never overwrites: re-activating or re-scoping an existing
        // identity must be a deliberate, separate act.
        if a.store()
            .get_identity(&identity.id)
            .map_err(|e| store(e, "/body/id"))?
            .is_some()
        {
            return Err(Refusal::invalid_at(
                "/body/id",
                format!("identity `{}` already exists", identity.id),
            ));
        }
        a.put_identity(&identity)
            .map_err(|e| managed(e, "/body/id"))?;
        a.store()
            .get_identity(&identity.id)
            .map_err(|e| store(e, "/body/id"))?
            .ok_or_else(Refusal::unavailable)
    })
    .await?;
    tracing::info!(admin = %caller.identity, identity = %created.id, "identity created");
    let location = format!("/admin/v1/identities/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view::identity(&created)),
    )
        .into_response())
}

pub(super) async fn show(
    State(authority): State<Arc<Authority>>,
    IdentityPath(id): IdentityPath,
) -> Result<Response, Refusal> {
    let (identity, credentials, now) = blocking(&authority, move |a| {
        let identity = a
            .store()
            .get_identity(&id)
            .map_err(|e| store(e, "/path/id"))?
            .ok_or_else(|| {
                Refusal::invalid_at("/path/id", format!("identity `{id}` does not exist"))
            })?;
        let credentials = a
            .store()
            .list_credentials(&id)
            .map_err(|e| store(e, "/path/id"))?;
        Ok((identity, credentials, a.now()))
    })
    .await?;
    let credentials: Vec<_> = credentials
        .iter()
        .map(|c| view::credential(c, now))
        .collect();
    Ok(Json(json!({
        "identity": view::identity(&identity),
        "credentials": credentials,
    }))
    .into_response())
}

/// `POST /admin/v1/identities/{id}/state`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewState {
    state: Spelled<IdentityState>,
    /// Why, for the audit ledger (a release's reason, say).
    reason: Option<String>,
}

pub(super) async fn state(
    State(authority): State<Arc<Authority>>,
    Extension(caller): Extension<AdminCaller>,
    IdentityPath(id): IdentityPath,
    JsonBody(body): JsonBody<NewState>,
) -> Result<Response, Refusal> {
    let changed = change_state(&authority, &caller.identity, id, body.state.0, body.reason).await?;
    Ok(Json(view::identity(&changed)).into_response())
}

/// Sets identity `id`'s state for `admin`, recorded with the reason: the
/// one way the admin API and the console change a state.
pub(crate) async fn change_state(
    authority: &Arc<Authority>,
    admin: &str,
    id: String,
    state: IdentityState,
    reason: Option<String>,
) -> Result<Identity, Refusal> {
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(Refusal::invalid_at("/reason", "at most 500 characters"));
    }
    let by = admin.to_owned();
    let changed = blocking(authority, move |a| {
        let by = portcullis_store::ChangedBy {
            by: &by,
            reason: reason.as_deref(),
        };
        a.set_state(&id, state, by)
            .map_err(|e| managed(e, "/path/id"))?;
        a.store()
            .get_identity(&id)
            .map_err(|e| store(e, "/path/id"))?
            .ok_or_else(Refusal::unavailable)
    })
    .await?;
    tracing::info!(admin = %admin, identity = %changed.id, state = state.as_str(), "identity state set");
    Ok(changed)
}
