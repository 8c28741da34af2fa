//! Signing in and out. The sign-in form carries its own token, set in a
//! cookie scoped to the form (a page elsewhere cannot sign a browser in to
//! an attacker's account); a successful sign-in replaces any session the
//! browser had (a fixed id is never reused) and goes to the overview.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use portcullis_console::pages::Login;
use portcullis_core::ProblemCode;
use portcullis_proxy::authority::SignInFailure;

use super::gate::{Console, Fields, same_origin};
use super::session::{COOKIE, LIFETIME, LOGIN_COOKIE, OpenError, cookie, over_https, set_cookie};
use super::{html, page_failed};
use crate::authenticate::ADMIN_SCOPE;
use crate::extract::read_body;
use crate::refusal::Refusal;

/// How long a sign-in form may wait for its answer.
const FORM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// Longest client id or secret read.
const MAX_FIELD: usize = 512;

pub(super) async fn form(headers: HeaderMap) -> Response {
    login_page(&headers, String::new(), None)
}

/// The sign-in page with a fresh form token. A sign-in that failed shows
/// it again, with why, as a page (200): the listener's refusals are
/// problem+json, and a person at a browser needs the form back.
fn login_page(headers: &HeaderMap, client_id: String, error: Option<&str>) -> Response {
    let Ok(token) = portcullis_token::hex_id() else {
        return Refusal::unavailable().into_response();
    };
    let page = Login {
        csrf: token.clone(),
        client_id,
        error: error.map(str::to_owned),
    };
    let Ok(body) = askama::Template::render(&page) else {
        return page_failed();
    };
    let cookie = set_cookie(
        LOGIN_COOKIE,
        &token,
        "/console/login",
        FORM_LIFETIME,
        over_https(headers),
    );
    ([(header::SET_COOKIE, cookie)], html(body)).into_response()
}

pub(super) async fn submit(
    State(state): State<super::ConsoleState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Response, Refusal> {
    let headers = request.headers().clone();
    let expected = cookie(&headers, LOGIN_COOKIE).map(str::to_owned);
    let bytes = read_body(request).await?;
    let mut fields = Fields::parse(&bytes);
    if !fields.take_token(expected.as_deref()) || !same_origin(&headers) {
        return Err(Refusal::new(
            ProblemCode::Forbidden,
            "the sign-in form's token is missing or does not match: open the sign-in page again",
        ));
    }
    let client_id = fields
        .get("client_id")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let secret = fields.get("secret").unwrap_or_default().to_owned();
    if secret.is_empty() || secret.len() > MAX_FIELD || client_id.len() > MAX_FIELD {
        return Ok(login_page(
            &headers,
            String::new(),
            Some("Give an API key, or a client id and its client secret."),
        ));
    }
    let shown_id = client_id.clone();
    let signed = {
        let authority = Arc::clone(&state.authority);
        tokio::task::spawn_blocking(move || {
            let client = (!client_id.is_empty()).then_some(client_id.as_str());
            let signed = authority.sign_in(client, &secret, peer.ip())?;
            let admin = authority
                .identity(&signed.identity)
                .map_err(|_| SignInFailure::Unavailable)?
                .filter(|i| i.check_usable(authority.now()).is_ok())
                .is_some_and(|i| i.scopes.iter().any(|s| s == ADMIN_SCOPE));
            Ok::<_, SignInFailure>((signed, admin))
        })
        .await
        .unwrap_or(Err(SignInFailure::Unavailable))
    };
    let refused = "That credential does not sign in an active admin identity (one holding the portcullis:admin scope).";
    let signed = match signed {
        Ok((signed, true)) => signed,
        Ok((signed, false)) => {
            tracing::info!(identity = %signed.identity, "console sign-in refused: not a usable admin");
            return Ok(login_page(&headers, shown_id, Some(refused)));
        }
        Err(SignInFailure::Refused) => {
            return Ok(login_page(&headers, shown_id, Some(refused)));
        }
        Err(SignInFailure::Throttled(wait)) => {
            return Err(Refusal::new(
                ProblemCode::RateLimited,
                format!(
                    "too many failed sign-ins: try again in {} s",
                    wait.as_secs().max(1)
                ),
            )
            .with_retry_after(wait));
        }
        Err(SignInFailure::Unavailable) => return Err(Refusal::unavailable()),
    };
    if let Some(old) = cookie(&headers, COOKIE) {
        state.sessions.end(old);
    }
    let (id, _) = state
        .sessions
        .open(&signed.identity, &signed.credential_id)
        .map_err(|e| match e {
            OpenError::Full => Refusal::new(
                ProblemCode::Unavailable,
                "the console holds too many sessions; try again later",
            ),
            OpenError::Randomness => Refusal::unavailable(),
        })?;
    tracing::info!(admin = %signed.identity, credential = %signed.credential_id, "console sign-in");
    let secure = over_https(&headers);
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/console")]).into_response();
    let cookies = response.headers_mut();
    for value in [
        set_cookie(COOKIE, &id, "/console", LIFETIME, secure),
        set_cookie(
            LOGIN_COOKIE,
            "",
            "/console/login",
            std::time::Duration::ZERO,
            secure,
        ),
    ] {
        if let Ok(v) = value.parse() {
            cookies.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

pub(super) async fn logout(
    State(state): State<super::ConsoleState>,
    axum::Extension(console): axum::Extension<Console>,
    headers: HeaderMap,
) -> Response {
    state.sessions.end(&console.session_id);
    tracing::info!(admin = %console.session.admin, "console sign-out");
    let gone = set_cookie(
        COOKIE,
        "",
        "/console",
        std::time::Duration::ZERO,
        over_https(&headers),
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/console/login".to_owned()),
            (header::SET_COOKIE, gone),
        ],
    )
        .into_response()
}
