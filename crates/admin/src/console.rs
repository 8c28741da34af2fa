//! The web console on the admin listener (`/console`): pages drawn by
//! `portcullis-console` from what this listener already serves, behind a
//! session an admin opens by signing in.
//!
//! | path | what |
//! |---|---|
//! | `GET /console/login`, `POST /console/login` | sign in (open) |
//! | `GET /console/assets/{name}` | the stylesheet and htmx (open: no data) |
//! | `GET /console` | overview: requests and refusals per minute by code, p50/p99, per identity |
//! | `GET /console/inventory` | identities, credentials and their age, last seen, open alerts |
//! | `GET /console/identities/{id}` | one identity: facts, credentials, usage, its operation matrix, recent decisions |
//! | `GET`/`POST /console/identities/{id}/{suspend,resume,quarantine,retire}` | confirm, then change its state |
//! | `GET`/`POST /console/credentials/{credential_id}/{rotate,revoke}` | confirm, then rotate (the secret shown once) or revoke |
//! | `GET /console/decisions`, `GET /console/decisions/rows` | live decisions with filters; the rows alone, refreshed every second |
//! | `GET /console/alerts` | the watch's alerts: open, acknowledged, released |
//! | `POST /console/alerts/{key}/acknowledge` | acknowledge an alert (a ledger record) |
//! | `GET /console/posture` | the OWASP NHI Top 10 findings |
//! | `GET /console/posture/report?format=sarif\|json\|html` | the posture report, as a download |
//! | `GET /console/audit`, `POST /console/audit/verify` | the ledger's chains; verify them now |
//! | `GET /console/verify` | the last `portcullis verify` report (`admin.verify_report`) |
//! | `POST /console/logout` | sign out |
//!
//! Everything but sign-in and the assets passes `gate` (a session whose
//! admin is still one; on writes the session's CSRF token from this
//! origin). Actions call the same functions as the admin API, so they
//! leave the same records. Every console answer carries a strict
//! Content-Security-Policy: script and style from this listener's files
//! only, nothing inline, no frames, forms posting only here.

use axum::Router;
use axum::extract::{Path, Request};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderValue, header};
use portcullis_console::view::StateAction;

use crate::envelope;
use crate::refusal::Refusal;

mod actions;
mod gate;
mod gather;
mod live;
mod login;
mod pages;
mod reports;
pub(crate) mod session;

pub(crate) use session::Sessions;

/// Every console page's policy: nothing but this listener's own files.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What console handlers reach.
pub(crate) type ConsoleState = crate::routes::AdminState;

/// The console's routes, in their own envelope.
pub(crate) fn router(state: ConsoleState) -> Router<ConsoleState> {
    let mut signed_in = Router::new()
        .route("/console", get(pages::overview))
        .route("/console/inventory", get(pages::inventory))
        .route("/console/identities/{id}", get(pages::identity))
        .route("/console/decisions", get(live::decisions))
        .route("/console/decisions/rows", get(live::decision_rows))
        .route("/console/alerts", get(live::alerts))
        .route(
            "/console/alerts/{key}/acknowledge",
            post(actions::acknowledge),
        )
        .route("/console/posture", get(reports::posture))
        .route("/console/posture/report", get(reports::posture_report))
        .route("/console/audit", get(reports::audit))
        .route("/console/audit/verify", post(actions::verify))
        .route("/console/verify", get(reports::verify_report))
        .route("/console/logout", post(login::logout));
    for action in StateAction::ALL {
        signed_in = signed_in.route(
            &format!("/console/identities/{{id}}/{}", action.name()),
            get(move |console, id| actions::confirm_state(action, console, id)).post(
                move |state, console, id, fields| {
                    actions::change_state(action, state, console, id, fields)
                },
            ),
        );
    }
    for action in actions::CredentialAction::ALL {
        signed_in = signed_in.route(
            &format!("/console/credentials/{{credential_id}}/{}", action.name()),
            get(move |console, id| actions::confirm_credential(action, console, id)).post(
                move |state, console, id, fields| {
                    actions::credential(action, state, console, id, fields)
                },
            ),
        );
    }
    let signed_in = signed_in.layer(from_fn_with_state(state, gate::gate));
    Router::new()
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/assets/{name}", get(asset))
        .merge(signed_in)
        // ORDER: the headers wrap the envelope, so the refusals it renders
        // carry them too.
        .layer(from_fn(envelope::envelope))
        .layer(from_fn(secure_headers))
}

/// The headers every console answer carries.
async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: with it Chromium sends `Origin: null` on the
        // console's own form posts, which the CSRF check must refuse.
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    match portcullis_console::assets::asset(&name) {
        Some(a) => ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response(),
        None => envelope::undeclared().into_response(),
    }
}

/// An HTML page's body with its type.
pub(super) fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// A template that did not render: a fault, answered like any other.
pub(super) fn page_failed() -> Response {
    tracing::error!("a console page did not render");
    Refusal::unavailable().into_response()
}
