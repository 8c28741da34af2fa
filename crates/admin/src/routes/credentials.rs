//! Credentials: create one for an identity (a client secret or API key,
//! whose value is in this one response and nowhere else, or a registered
//! public key), rotate a secret with an overlap window, revoke.
//!
//! Secret values are never logged; the log names the credential id only.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use portcullis_audit::event::CredentialChange;
use portcullis_core::{FieldError, UnixTime};
use portcullis_proxy::Observer;
use portcullis_proxy::authority::{Authority, NewSecret};
use portcullis_store::CredentialKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Spelled, blocking};
use crate::authenticate::AdminCaller;
use crate::extract::{CredentialPath, IdentityPath, JsonBody, NoBody};
use crate::refusal::{Refusal, managed};

/// Longest label accepted.
const MAX_LABEL: usize = 200;

/// `POST /admin/v1/identities/{id}/credentials`: `ttl_secs` (and `label`)
/// for a secret kind, `jwk` and `expires` for `private-key-jwt`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewCredential {
    kind: Spelled<CredentialKind>,
    #[serde(default)]
    ttl_secs: Option<i64>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    jwk: Option<Value>,
    #[serde(default)]
    expires: Option<UnixTime>,
}

/// What to create, once the body's combination of fields is checked.
enum Wanted {
    Secret {
        kind: CredentialKind,
        ttl: i64,
        label: Option<String>,
    },
    Key {
        jwk: Value,
        expires: UnixTime,
    },
}

impl NewCredential {
    fn validate(self, now: UnixTime) -> Result<Wanted, Refusal> {
        let mut errors = Vec::new();
        let mut absent = |pointer: &str, present: bool, kind: CredentialKind| {
            if present {
                errors.push(FieldError::new(pointer, format!("is not used by `{kind}`")));
            }
        };
        let kind = self.kind.0;
        let wanted = match kind {
            CredentialKind::ClientSecret | CredentialKind::ApiKey => {
                absent("/body/jwk", self.jwk.is_some(), kind);
                absent("/body/expires", self.expires.is_some(), kind);
                let ttl = self.ttl_secs.filter(|t| *t > 0);
                if ttl.is_none() {
                    errors.push(FieldError::new(
                        "/body/ttl_secs",
                        "a credential must expire: give a positive lifetime in seconds",
                    ));
                }
                if let Some(label) = &self.label
                    && (label.len() > MAX_LABEL || label.chars().any(char::is_control))
                {
                    errors.push(FieldError::new(
                        "/body/label",
                        format!("must be at most {MAX_LABEL} bytes, without control characters"),
                    ));
                }
                ttl.map(|ttl| Wanted::Secret {
                    kind,
                    ttl,
                    label: self.label,
                })
            }
            CredentialKind::PrivateKeyJwt => {
                absent("/body/ttl_secs", self.ttl_secs.is_some(), kind);
                absent("/body/label", self.label.is_some(), kind);
                let jwk = self.jwk.filter(Value::is_object);
                if jwk.is_none() {
                    errors.push(FieldError::new(
                        "/body/jwk",
                        "a public JWK object is required",
                    ));
                }
                let expires = self.expires.filter(|at| *at > now);
                if expires.is_none() {
                    errors.push(FieldError::new(
                        "/body/expires",
                        "a key must expire: give a future Unix time",
                    ));
                }
                jwk.zip(expires)
                    .map(|(jwk, expires)| Wanted::Key { jwk, expires })
            }
        };
        match wanted {
            Some(wanted) if errors.is_empty() => Ok(wanted),
            _ => Err(Refusal::invalid("the new credential is not valid", errors)),
        }
    }
}

fn secret_created(new: &NewSecret, kind: CredentialKind, replaces: Option<&str>) -> Response {
    let mut body = json!({
        "credential_id": new.credential_id,
        "kind": kind.as_str(),
        "secret": new.secret,
        "expires": new.expires,
        "shown_once": true,
    });
    if let (Some(old), Some(map)) = (replaces, body.as_object_mut()) {
        map.insert("replaces".into(), json!(old));
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

pub(super) async fn create(
    State(authority): State<Arc<Authority>>,
    Extension(caller): Extension<AdminCaller>,
    IdentityPath(id): IdentityPath,
    JsonBody(body): JsonBody<NewCredential>,
) -> Result<Response, Refusal> {
    match body.validate(authority.now())? {
        Wanted::Secret { kind, ttl, label } => {
            let identity = id.clone();
            let new = blocking(&authority, move |a| {
                a.create_secret(&identity, kind, ttl, label)
                    .map_err(|e| managed(e, "/path/id"))
            })
            .await?;
            tracing::info!(admin = %caller.identity, identity = %id, credential = %new.credential_id, "credential created");
            Ok(secret_created(&new, kind, None))
        }
        Wanted::Key { jwk, expires } => {
            let identity = id.clone();
            let credential_id = blocking(&authority, move |a| {
                a.register_key(&identity, jwk, expires)
                    .map_err(|e| match e {
                        // The key itself is what the token crate refused.
                        portcullis_proxy::authority::ManageError::Token(t) => {
                            Refusal::invalid_at("/body/jwk", t.to_string())
                        }
                        other => managed(other, "/path/id"),
                    })
            })
            .await?;
            tracing::info!(admin = %caller.identity, identity = %id, credential = %credential_id, "key registered");
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "credential_id": credential_id,
                    "kind": CredentialKind::PrivateKeyJwt.as_str(),
                    "expires": expires,
                })),
            )
                .into_response())
        }
    }
}

/// `POST /admin/v1/credentials/{credential_id}/rotate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Rotation {
    overlap_secs: i64,
}

pub(super) async fn rotate(
    State(authority): State<Arc<Authority>>,
    State(observer): State<Option<Observer>>,
    Extension(caller): Extension<AdminCaller>,
    CredentialPath(old): CredentialPath,
    JsonBody(body): JsonBody<Rotation>,
) -> Result<Response, Refusal> {
    let (new, kind) = rotate_secret(
        &authority,
        observer.as_ref(),
        &caller.identity,
        old.clone(),
        body.overlap_secs,
    )
    .await?;
    Ok(secret_created(&new, kind, Some(&old)))
}

/// Rotates secret `old` for `admin`, the old one valid `overlap_secs`
/// more: the one way the admin API and the console rotate. Recorded in the
/// ledger (see [`ledgered`]).
pub(crate) async fn rotate_secret(
    authority: &Arc<Authority>,
    observer: Option<&Observer>,
    admin: &str,
    old: String,
    overlap_secs: i64,
) -> Result<(NewSecret, CredentialKind), Refusal> {
    if overlap_secs < 0 {
        return Err(Refusal::invalid_at(
            "/body/overlap_secs",
            "must be zero or more seconds",
        ));
    }
    let replaced = old.clone();
    let (new, kind) = blocking(authority, move |a| {
        let new = a
            .rotate_secret(&replaced, overlap_secs)
            .map_err(|e| managed(e, "/path/credential_id"))?;
        let kind = a
            .store()
            .list_credentials(replaced.split('/').next().unwrap_or_default())
            .map_err(|e| crate::refusal::store(e, "/path/credential_id"))?
            .into_iter()
            .find(|c| c.id == new.credential_id)
            .map(|c| c.kind)
            .ok_or_else(Refusal::unavailable)?;
        Ok((new, kind))
    })
    .await?;
    tracing::info!(admin = %admin, replaced = %old, credential = %new.credential_id, overlap_secs, "credential rotated");
    let change = CredentialChange {
        credential: old,
        action: "rotated".to_owned(),
        by: admin.to_owned(),
        replaced_by: Some(new.credential_id.clone()),
    };
    ledgered(observer, change).await;
    Ok((new, kind))
}

pub(super) async fn revoke(
    State(authority): State<Arc<Authority>>,
    State(observer): State<Option<Observer>>,
    Extension(caller): Extension<AdminCaller>,
    CredentialPath(id): CredentialPath,
    NoBody: NoBody,
) -> Result<Response, Refusal> {
    revoke_credential(&authority, observer.as_ref(), &caller.identity, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Revokes credential `id` for `admin`: the one way the admin API and the
/// console revoke. Recorded in the ledger (see [`ledgered`]).
pub(crate) async fn revoke_credential(
    authority: &Arc<Authority>,
    observer: Option<&Observer>,
    admin: &str,
    id: String,
) -> Result<(), Refusal> {
    let revoked = id.clone();
    blocking(authority, move |a| {
        a.revoke_credential(&revoked)
            .map_err(|e| managed(e, "/path/credential_id"))
    })
    .await?;
    tracing::info!(admin = %admin, credential = %id, "credential revoked");
    let change = CredentialChange {
        credential: id,
        action: "revoked".to_owned(),
        by: admin.to_owned(),
        replaced_by: None,
    };
    ledgered(observer, change).await;
    Ok(())
}

/// Records a credential change, already made in the store, in the ledger.
/// The change stands whatever the ledger does (a rotation's new secret must
/// still reach the admin, once); a record the ledger does not take is an
/// error in the log, naming the change.
async fn ledgered(observer: Option<&Observer>, change: CredentialChange) {
    let Some(observer) = observer else { return };
    let identity = change
        .credential
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    if let Err(e) = observer
        .record_credential_change(&identity, change.clone())
        .await
    {
        tracing::error!(error = %e, credential = %change.credential, action = %change.action, by = %change.by, "a credential change could not be recorded in the audit ledger; the change stands");
    }
}
