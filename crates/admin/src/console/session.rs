//! Console sessions: who signed in, with which credential, and the token
//! every form must post back. Held in this process's memory only (a
//! restart signs everyone out; in a fleet, a browser must stay on one node).
//!
//! The cookie carries only an unguessable id (128 bits from the system
//! generator): `HttpOnly` (no script reads it), `SameSite=Strict` (no other
//! site's page sends it), `Path=/console`, `Secure` when the console was
//! reached over HTTPS through a terminating proxy. A session ends when it
//! has been idle for [`IDLE`], at [`LIFETIME`] whatever its use, at sign
//! out, and on the first request after its admin stops being one (see
//! `gate`).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http::HeaderMap;

/// The session cookie's name.
pub(super) const COOKIE: &str = "portcullis_console";
/// The sign-in form's own token cookie (CSRF on the sign-in form itself).
pub(super) const LOGIN_COOKIE: &str = "portcullis_console_login";
/// A session unused this long ends.
pub(super) const IDLE: Duration = Duration::from_secs(15 * 60);
/// A session ends this long after sign-in, however it is used.
pub(super) const LIFETIME: Duration = Duration::from_secs(4 * 60 * 60);
/// Sessions one admin may hold; signing in again ends its oldest.
const PER_ADMIN: usize = 8;
/// Sessions the process holds; past it, sign-in is refused.
const MAX_SESSIONS: usize = 4_096;

/// One signed-in admin.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub admin: String,
    pub credential: String,
    pub csrf: String,
    started: Instant,
    last: Instant,
}

/// Every console session of this process.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    held: Mutex<HashMap<String, Session>>,
}

/// Why no session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// The process holds as many sessions as it may.
    Full,
    /// The system's random generator failed.
    Randomness,
}

impl Sessions {
    fn held(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a session; answers its id (the cookie's value).
    pub(crate) fn open(
        &self,
        admin: &str,
        credential: &str,
    ) -> Result<(String, Session), OpenError> {
        let id = portcullis_token::hex_id().map_err(|_| OpenError::Randomness)?;
        let csrf = portcullis_token::hex_id().map_err(|_| OpenError::Randomness)?;
        let now = Instant::now();
        let session = Session {
            admin: admin.to_owned(),
            credential: credential.to_owned(),
            csrf,
            started: now,
            last: now,
        };
        let mut held = self.held();
        held.retain(|_, s| live(s, now));
        let mut own: Vec<(String, Instant)> = held
            .iter()
            .filter(|(_, s)| s.admin == admin)
            .map(|(id, s)| (id.clone(), s.started))
            .collect();
        if own.len() >= PER_ADMIN {
            own.sort_by_key(|(_, started)| *started);
            for (old, _) in own.iter().take(own.len() + 1 - PER_ADMIN) {
                held.remove(old);
            }
        }
        if held.len() >= MAX_SESSIONS {
            return Err(OpenError::Full);
        }
        held.insert(id.clone(), session.clone());
        Ok((id, session))
    }

    /// The live session `id` names; an ended one is gone. `used`: a
    /// person did something (not the live page refreshing itself), which
    /// restarts the idle clock.
    pub(crate) fn touch(&self, id: &str, used: bool) -> Option<Session> {
        let now = Instant::now();
        let mut held = self.held();
        match held.get_mut(id) {
            Some(s) if live(s, now) => {
                if used {
                    s.last = now;
                }
                Some(s.clone())
            }
            Some(_) => {
                held.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends session `id`.
    pub(crate) fn end(&self, id: &str) {
        self.held().remove(id);
    }

    /// Ends every session of `admin` (it is no longer an admin).
    pub(crate) fn end_all_of(&self, admin: &str) {
        self.held().retain(|_, s| s.admin != admin);
    }

    #[cfg(test)]
    fn age(&self, id: &str, by: Duration) {
        if let Some(s) = self.held().get_mut(id) {
            s.last = s.last.checked_sub(by).unwrap_or(s.last);
            s.started = s.started.checked_sub(by).unwrap_or(s.started);
        }
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last) < IDLE && now.duration_since(s.started) < LIFETIME
}

/// The value of cookie `name` in the request, if sent once and plain.
pub(super) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut found = None;
    for value in headers.get_all(http::header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((n, v)) = pair.trim().split_once('=')
                && n == name
            {
                if found.is_some() {
                    // Two cookies of one name: one was planted; trust neither.
                    return None;
                }
                found = Some(v);
            }
        }
    }
    found.filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A `Set-Cookie` value for `name`, scoped to `path`, lasting `max_age`
/// (zero deletes it).
pub(super) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Duration,
    secure: bool,
) -> String {
    format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Strict{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the browser reached the console over HTTPS (through a proxy
/// that terminates TLS and says so). Only ever adds `Secure`: a caller who
/// sends it over plain HTTP only keeps its own cookie from coming back.
pub(super) fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use http::HeaderValue;

    use super::*;

    #[test]
    fn sessions_end_when_idle_at_their_lifetime_and_when_told() {
        let sessions = Sessions::default();
        let (id, s) = sessions.open("admin", "admin/api-key-1").unwrap();
        assert_eq!(s.csrf.len(), 32);
        assert_ne!(id, s.csrf);
        assert_eq!(sessions.touch(&id, true).unwrap().admin, "admin");
        sessions.age(&id, IDLE / 2);
        // The live page refreshing itself does not keep a session alive.
        assert!(sessions.touch(&id, false).is_some());
        sessions.age(&id, IDLE / 2);
        assert!(sessions.touch(&id, false).is_none(), "idle too long");
        let (id, _) = sessions.open("admin", "c").unwrap();
        sessions.end(&id);
        assert!(sessions.touch(&id, true).is_none());
        let (a, _) = sessions.open("admin", "c").unwrap();
        let (b, _) = sessions.open("other", "c").unwrap();
        sessions.end_all_of("admin");
        assert!(sessions.touch(&a, true).is_none());
        assert!(sessions.touch(&b, true).is_some());
    }

    #[test]
    fn one_admin_holds_a_bounded_number_of_sessions() {
        let sessions = Sessions::default();
        let first = sessions.open("admin", "c").unwrap().0;
        for _ in 0..PER_ADMIN {
            sessions.open("admin", "c").unwrap();
        }
        assert!(sessions.touch(&first, true).is_none(), "the oldest went");
        assert_eq!(sessions.held().len(), PER_ADMIN);
    }

    #[test]
    fn cookies_are_read_only_when_sent_once_and_plain() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            HeaderValue::from_static("a=1; portcullis_console=abc123"),
        );
        assert_eq!(cookie(&headers, COOKIE), Some("abc123"));
        headers.append(
            http::header::COOKIE,
            HeaderValue::from_static("portcullis_console=def456"),
        );
        assert_eq!(cookie(&headers, COOKIE), None, "two of one name");
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            HeaderValue::from_static("portcullis_console=<x>"),
        );
        assert_eq!(cookie(&headers, COOKIE), None);
        let set = set_cookie(COOKIE, "ab", "/console", IDLE, true);
        assert_eq!(
            set,
            "portcullis_console=ab; Path=/console; Max-Age=900; HttpOnly; SameSite=Strict; Secure"
        );
    }
}
