//! What an admin does from the console: each action first shows what it
//! will do (a page with a form), then, posted back with the session's
//! token (checked by `gate`), calls the same function the admin API does,
//! so the store, the ledger and the log see the same change, made by the
//! same admin.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use portcullis_console::pages::{self as page, Tab};
use portcullis_console::view::{StateAction, when};

use super::ConsoleState;
use super::gate::{Console, Fields};
use super::gather::open_ledger;
use super::pages::{blocking, chrome, observer, show};
use crate::extract::{CredentialPath, IdentityPath};
use crate::refusal::Refusal;
use crate::routes::{change_state as set_state, revoke_credential, rotate_secret};

/// What a path segment carries encoded: everything but RFC 3986's
/// unreserved characters (a credential id's `/` included).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Longest reason the form takes: the admin API's 500, less what the
/// console adds to say where the change was made.
const MAX_REASON: usize = 480;

/// Where the browser goes after an action.
fn after(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

pub(super) async fn confirm_state(
    action: StateAction,
    Extension(console): Extension<Console>,
    IdentityPath(id): IdentityPath,
) -> Response {
    let verb = action.name();
    show(&page::Confirm {
        chrome: chrome(&console, Tab::Inventory, None),
        heading: format!("{} {id}?", capital(verb)),
        consequence: action.consequence().to_owned(),
        action_url: format!("/console/identities/{id}/{verb}"),
        cancel_url: format!("/console/identities/{id}"),
        overlap: false,
        reason: true,
        submit: capital(verb),
    })
}

pub(super) async fn change_state(
    action: StateAction,
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    IdentityPath(id): IdentityPath,
    Extension(fields): Extension<Fields>,
) -> Result<Response, Refusal> {
    fields.only(&["reason"])?;
    let given = fields
        .get("reason")
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if given.is_some_and(|r| r.chars().count() > MAX_REASON) {
        return Err(Refusal::invalid_at(
            "/body/reason",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    let reason = Some(given.map_or_else(
        || "from the console".to_owned(),
        |r| format!("{r} (from the console)"),
    ));
    set_state(
        &state.authority,
        &console.session.admin,
        id.clone(),
        action.target(),
        reason,
    )
    .await?;
    Ok(after(format!(
        "/console/identities/{id}?done={}",
        action.name()
    )))
}

/// What can be done to a credential from the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CredentialAction {
    Rotate,
    Revoke,
}

impl CredentialAction {
    pub(super) const ALL: [Self; 2] = [Self::Rotate, Self::Revoke];

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Rotate => "rotate",
            Self::Revoke => "revoke",
        }
    }
}

/// `suspend` → `Suspend`.
fn capital(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The identity a credential id names, percent-encoded for a URL (a
/// credential path is any printable text until the store says otherwise).
fn owner(credential: &str) -> String {
    let id = credential.split('/').next().unwrap_or_default();
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

pub(super) async fn confirm_credential(
    action: CredentialAction,
    Extension(console): Extension<Console>,
    CredentialPath(id): CredentialPath,
) -> Response {
    let encoded = percent_encoding::utf8_percent_encode(&id, SEGMENT);
    let (heading, consequence, submit) = match action {
        CredentialAction::Rotate => (
            format!("Rotate {id}?"),
            "A new secret is made and shown once; the old one keeps working for the overlap you choose, then stops.",
            "Rotate",
        ),
        CredentialAction::Revoke => (
            format!("Revoke {id}?"),
            "It stops authenticating at once. Tokens already issued with it stay valid until they expire; revoke those by their id if needed.",
            "Revoke",
        ),
    };
    show(&page::Confirm {
        chrome: chrome(&console, Tab::Inventory, None),
        heading,
        consequence: consequence.to_owned(),
        action_url: format!("/console/credentials/{encoded}/{}", action.name()),
        cancel_url: format!("/console/identities/{}", owner(&id)),
        overlap: action == CredentialAction::Rotate,
        reason: false,
        submit: submit.to_owned(),
    })
}

/// Longest overlap the console offers: a day.
const MAX_OVERLAP: i64 = 86_400;

pub(super) async fn credential(
    action: CredentialAction,
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    CredentialPath(id): CredentialPath,
    Extension(fields): Extension<Fields>,
) -> Result<Response, Refusal> {
    let admin = console.session.admin.clone();
    match action {
        CredentialAction::Revoke => {
            fields.only(&[])?;
            revoke_credential(
                &state.authority,
                state.observer.as_ref(),
                &admin,
                id.clone(),
            )
            .await?;
            Ok(after(format!(
                "/console/identities/{}?done=revoke",
                owner(&id)
            )))
        }
        CredentialAction::Rotate => {
            fields.only(&["overlap_secs"])?;
            let overlap = fields
                .get("overlap_secs")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| (0..=MAX_OVERLAP).contains(v))
                .ok_or_else(|| {
                    Refusal::invalid_at("/body/overlap_secs", "must be 0 to 86400 seconds")
                })?;
            let (new, _) = rotate_secret(
                &state.authority,
                state.observer.as_ref(),
                &admin,
                id.clone(),
                overlap,
            )
            .await?;
            Ok(show(&page::SecretShown {
                chrome: chrome(&console, Tab::Inventory, None),
                identity: id.split('/').next().unwrap_or_default().to_owned(),
                credential_id: new.credential_id,
                replaces: id,
                expires: when(Some(new.expires)),
                secret: new.secret,
            }))
        }
    }
}

pub(super) async fn acknowledge(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    Path(key): Path<String>,
    Extension(fields): Extension<Fields>,
) -> Result<Response, Refusal> {
    fields.only(&["identity"])?;
    let identity = fields
        .get("identity")
        .filter(|i| portcullis_core::valid_identity_id(i))
        .ok_or_else(|| Refusal::invalid_at("/body/identity", "must name the alert's identity"))?
        .to_owned();
    let observer = observer(&state)?;
    // Checking it is open and recording the acknowledgement are one step,
    // so two admins acknowledging at once leave one record.
    let _one = state.acknowledging.lock().await;
    let reader = observer.clone();
    let wanted = key.clone();
    let about = identity.clone();
    // Only an alert the ledger holds (among this identity's latest) may be
    // acknowledged, so the ledger never names an alert it does not hold.
    let alert = blocking(move || {
        let ledger = open_ledger(&reader)?;
        Ok(super::gather::alerts(&ledger, Some(&about))?
            .into_iter()
            .find(|a| a.key == wanted))
    })
    .await?
    .ok_or_else(|| Refusal::invalid_at("/path/key", "no such alert among the identity's latest"))?;
    if alert.status != "open" {
        return Ok(after("/console/alerts?done=settled".to_owned()));
    }
    observer
        .acknowledge(&alert.identity, &alert.key, &console.session.admin)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "an acknowledgement could not be recorded");
            Refusal::unavailable()
        })?;
    tracing::info!(admin = %console.session.admin, alert = %alert.key, identity = %alert.identity, "alert acknowledged");
    Ok(after("/console/alerts?done=acknowledge".to_owned()))
}

/// Verifies every chain of the ledger now, against the key in the store,
/// and keeps the outcome for the audit page.
pub(super) async fn verify(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    Extension(fields): Extension<Fields>,
) -> Result<Response, Refusal> {
    fields.only(&[])?;
    let observer = observer(&state)?;
    let authority = Arc::clone(&state.authority);
    // One verification at a time: each reads the whole ledger.
    if state
        .verifying
        .swap(true, std::sync::atomic::Ordering::AcqRel)
    {
        return Ok(after("/console/audit?done=verifying".to_owned()));
    }
    let running = Running(Arc::clone(&state.verifying));
    let outcome = blocking(move || {
        let key = authority.audit_key().map_err(|e| {
            tracing::error!(error = %e, "the audit key could not be read");
            Refusal::unavailable()
        })?;
        let ledger = open_ledger(&observer)?;
        let reports = ledger.verify_each(&[key.public()]).map_err(|e| {
            tracing::error!(error = %e, "the ledger could not be read to verify it");
            Refusal::unavailable()
        })?;
        Ok(reports
            .into_iter()
            .map(|(node, report)| {
                let (status, detail) = match &report.problem {
                    None => (
                        "intact".to_owned(),
                        format!(
                            "{} records, {} checkpoints, signed to record {}",
                            report.records,
                            report.checkpoints,
                            report
                                .signed_to
                                .map_or_else(|| "none".to_owned(), |s| s.to_string())
                        ),
                    ),
                    Some(problem) => ("broken".to_owned(), problem.to_string()),
                };
                (node, status, detail)
            })
            .collect::<Vec<_>>())
    })
    .await;
    drop(running);
    let outcome = outcome?;
    tracing::info!(admin = %console.session.admin, chains = outcome.len(), broken = outcome.iter().filter(|(_, s, _)| s == "broken").count(), "ledger verified from the console");
    if let Ok(mut held) = state.verified.lock() {
        *held = Some((
            when(Some(portcullis_store::ledger::writer::now_ms() / 1000)),
            outcome,
        ));
    }
    Ok(after("/console/audit?done=verify".to_owned()))
}

/// Marks the ledger's verification finished when dropped, however it ends.
struct Running(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}
