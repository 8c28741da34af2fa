//! Tokens and the keys that sign them: revoke one token by its `jti` (until
//! it would have expired anyway), a person's subject token by its issuer and
//! `jti` (which ends every token exchanged from it), and rotate the signing
//! key (the old one stays published until its tokens have expired).

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use portcullis_core::{FieldError, UnixTime};
use portcullis_proxy::authority::Authority;
use portcullis_token::MAX_JTI_LEN;
use serde::Deserialize;
use serde_json::json;

use super::blocking;
use crate::authenticate::AdminCaller;
use crate::extract::{JsonBody, NoBody};
use crate::refusal::{Refusal, managed};

/// `POST /admin/v1/tokens/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Revocation {
    jti: String,
    /// The token's `exp`: the revocation is kept until then.
    expires: UnixTime,
    /// A trusted issuer (`delegation.issuers`) when the token is a person's
    /// subject token from it; absent for this gateway's own tokens.
    #[serde(default)]
    issuer: Option<String>,
}

pub(super) async fn revoke(
    State(authority): State<Arc<Authority>>,
    Extension(caller): Extension<AdminCaller>,
    JsonBody(body): JsonBody<Revocation>,
) -> Result<Response, Refusal> {
    let mut errors = Vec::new();
    let plain = body.jti.bytes().all(|b| b.is_ascii_graphic());
    if body.jti.is_empty() || body.jti.len() > MAX_JTI_LEN || !plain {
        errors.push(FieldError::new(
            "/body/jti",
            format!("must be 1 to {MAX_JTI_LEN} printable ASCII characters"),
        ));
    }
    if body.expires <= 0 {
        errors.push(FieldError::new(
            "/body/expires",
            "must be the token's `exp`, a Unix time",
        ));
    }
    if let Some(issuer) = &body.issuer {
        let trusted = authority
            .delegation()
            .is_some_and(|d| d.issuer(issuer).is_some());
        if !trusted {
            errors.push(FieldError::new(
                "/body/issuer",
                "must be one of `delegation.issuers`",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Refusal::invalid("the revocation is not valid", errors));
    }
    let jti = match &body.issuer {
        Some(issuer) => portcullis_proxy::authority::person_token_id(issuer, &body.jti),
        None => body.jti.clone(),
    };
    let logged = jti.clone();
    blocking(&authority, move |a| {
        a.revoke_token(&jti, body.expires)
            .map_err(|e| managed(e, "/body/jti"))
    })
    .await?;
    tracing::info!(admin = %caller.identity, jti = %logged, "token revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn rotate_keys(
    State(authority): State<Arc<Authority>>,
    Extension(caller): Extension<AdminCaller>,
    NoBody: NoBody,
) -> Result<Response, Refusal> {
    let kid = blocking(&authority, |a| {
        a.rotate_signing_key().map_err(|e| managed(e, "/path"))
    })
    .await?;
    tracing::info!(admin = %caller.identity, kid = %kid, "signing key rotated");
    Ok(Json(json!({ "kid": kid })).into_response())
}
