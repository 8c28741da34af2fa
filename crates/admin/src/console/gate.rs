//! The door of every console page but sign-in and the static files: a live
//! session whose admin is still one, and, on every write, the session's
//! form token posted back from this origin.
//!
//! Without a session a page asks for sign-in (303 to `/console/login`), a
//! write or a live refresh is refused 401 (htmx is told to go to sign-in):
//! no data either way. The admin is judged again on every request: an
//! identity suspended, retired, expired or gone, one that lost the admin
//! scope, or whose sign-in credential was revoked or expired, loses every
//! session it holds there and then.
//!
//! Every write is `application/x-www-form-urlencoded`, bounded, and read
//! here whole: its `csrf` field must be the session's token (compared in
//! constant time) and its `Origin`, when the browser sends one, this
//! listener's. Handlers read the fields this leaves them ([`Fields`]), so
//! no write can be reached without the check.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use portcullis_core::ProblemCode;
use portcullis_proxy::authority::{Authority, Standing};

use portcullis_token::same_token;

use super::session::{COOKIE, Session, cookie};
use crate::authenticate::{ADMIN_SCOPE, AdminCaller};
use crate::extract::read_body;
use crate::refusal::Refusal;

/// The signed-in admin, for handlers.
#[derive(Debug, Clone)]
pub(crate) struct Console {
    pub session_id: String,
    pub session: Session,
}

/// A form's fields; the ones a handler sees have had their CSRF token
/// checked and removed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// An `application/x-www-form-urlencoded` body's fields.
    pub(super) fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The value of `name`, if sent exactly once.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some((_, v)), None) => Some(v.as_str()),
            _ => None,
        }
    }

    /// Whether the form carries `expected` as its one `csrf` field
    /// (compared in constant time); the field is removed either way.
    pub(super) fn take_token(&mut self, expected: Option<&str>) -> bool {
        let matches = match (self.get("csrf"), expected) {
            (Some(sent), Some(expected)) => same_token(sent, expected),
            _ => false,
        };
        self.0.retain(|(n, _)| n != "csrf");
        matches
    }

    /// Refuses a field not in `known`, or one sent twice.
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), Refusal> {
        for (i, (name, _)) in self.0.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                return Err(Refusal::invalid_at(
                    "/body",
                    format!("unknown field `{}`", shown(name)),
                ));
            }
            if self.0.iter().skip(i + 1).any(|(n, _)| n == name) {
                return Err(Refusal::invalid_at(
                    "/body",
                    format!("field `{}` sent twice", shown(name)),
                ));
            }
        }
        Ok(())
    }
}

fn shown(v: &str) -> String {
    v.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect()
}

pub(crate) async fn gate(
    State(state): State<super::ConsoleState>,
    request: Request,
    next: Next,
) -> Response {
    // htmx's refresh of live decisions is not a person using the console.
    let used = !request.headers().contains_key("hx-request");
    let found = cookie(request.headers(), COOKIE)
        .and_then(|id| state.sessions.touch(id, used).map(|s| (id.to_owned(), s)));
    let Some((session_id, session)) = found else {
        return sign_in_first(&request);
    };
    match still_admin(&state.authority, &session).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(admin = %session.admin, credential = %session.credential, "console sessions of this admin ended: it is no longer a usable admin, or the credential it signed in with no longer stands");
            state.sessions.end_all_of(&session.admin);
            return sign_in_first(&request);
        }
        Err(refusal) => return refusal.into_response(),
    }
    let caller = AdminCaller {
        identity: session.admin.clone(),
    };
    let console = Console {
        session_id,
        session,
    };
    let mut request = if is_read(request.method()) {
        request
    } else {
        match checked_write(request, &console.session).await {
            Ok(request) => request,
            Err(refusal) => {
                let mut response = refusal.into_response();
                response.extensions_mut().insert(caller);
                return response;
            }
        }
    };
    request.extensions_mut().insert(console);
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(caller);
    response
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// No session: a page goes to sign-in, anything else is 401.
fn sign_in_first(request: &Request) -> Response {
    let htmx = request.headers().contains_key("hx-request");
    if is_read(request.method()) && !htmx {
        return (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, "/console/login")],
        )
            .into_response();
    }
    Refusal::new(
        ProblemCode::Unauthenticated,
        "sign in to the console first: the session is missing, ended, or its admin is no longer one",
    )
    .with_redirect("/console/login")
    .into_response()
}

/// The session's admin: usable now, holding the admin scope, its sign-in
/// credential still standing. A store fault is 503, never a pass.
async fn still_admin(authority: &Arc<Authority>, session: &Session) -> Result<bool, Refusal> {
    let authority = Arc::clone(authority);
    let admin = session.admin.clone();
    let credential = session.credential.clone();
    crate::routes::off_thread(move || {
        let now = authority.now();
        let standing = authority
            .standing(&admin, now)
            .map_err(|_| Refusal::unavailable())?;
        if standing != Standing::Usable {
            return Ok(false);
        }
        let scoped = authority
            .identity(&admin)
            .map_err(|_| Refusal::unavailable())?
            .is_some_and(|i| i.scopes.iter().any(|s| s == ADMIN_SCOPE));
        if !scoped {
            return Ok(false);
        }
        authority
            .credential_usable(&admin, &credential)
            .map_err(|_| Refusal::unavailable())
    })
    .await
}

/// A write from this origin, as a form, carrying the session's token; its
/// fields (the token removed) are left for the handler.
async fn checked_write(request: Request, session: &Session) -> Result<Request, Refusal> {
    let forged = || {
        Refusal::new(
            ProblemCode::Forbidden,
            "the form's CSRF token is missing or is not this session's: reload the page and try again",
        )
    };
    if !same_origin(request.headers()) {
        return Err(forged());
    }
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let (parts, body) = request.into_parts();
    let bytes = read_body(Request::from_parts(parts.clone(), body)).await?;
    if !form && !bytes.is_empty() {
        return Err(Refusal::new(
            ProblemCode::UnsupportedMediaType,
            "console forms are `application/x-www-form-urlencoded`",
        ));
    }
    let mut fields = Fields::parse(&bytes);
    if !fields.take_token(Some(&session.csrf)) {
        return Err(forged());
    }
    let mut request = Request::from_parts(parts, axum::body::Body::empty());
    request.extensions_mut().insert(fields);
    Ok(request)
}

/// The browser's `Origin`, when sent, names this listener (its `Host`).
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = origin.to_str().ok();
    match (origin, host) {
        (Some(origin), Some(host)) => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|rest| rest.eq_ignore_ascii_case(host)),
        _ => false,
    }
}
