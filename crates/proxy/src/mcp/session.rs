//! MCP sessions: made by `initialize`, named by `Mcp-Session-Id`, ended by
//! `DELETE` or by idling.
//!
//! A session belongs to the identity that made it: the same id presented
//! with another identity's credential is an unknown session. It holds the
//! protocol version negotiated and, per API, the contract digest the client
//! last saw tools from (at `initialize`, then at each `tools/list`): a call
//! to a tool whose contract changed since is refused (`contract-changed`)
//! until the client lists again. Sessions live in memory, per process, and
//! across reloads (a reload is what changes a contract).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// How long an unused session is kept.
const IDLE: Duration = Duration::from_secs(30 * 60);
/// Most sessions one identity holds; making one more ends its least recently used.
const PER_IDENTITY: usize = 64;
/// Most sessions in all; past it, new ones are refused until some idle out.
const TOTAL: usize = 16_384;

/// One session.
#[derive(Debug)]
pub(crate) struct Session {
    pub identity: String,
    pub version: &'static str,
    /// API name → the contract digest the client's tool list came from.
    pub pins: HashMap<String, String>,
    last_used: Instant,
    /// The open `GET` stream's sender, when one is open.
    pub stream: Option<mpsc::Sender<bytes::Bytes>>,
}

/// Why a session could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// No such session for this identity (never made, ended, or idled out).
    Unknown,
}

/// Every session of this process.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Makes a session and returns its id; `None` when the process holds
    /// as many as it will, or no random id could be drawn.
    pub(crate) fn open(
        &self,
        identity: &str,
        version: &'static str,
        pins: HashMap<String, String>,
    ) -> Option<String> {
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, s| now.duration_since(s.last_used) < IDLE);
        let mine: Vec<(&String, Instant)> = map
            .iter()
            .filter(|(_, s)| s.identity == identity)
            .map(|(id, s)| (id, s.last_used))
            .collect();
        if mine.len() >= PER_IDENTITY {
            let oldest = mine
                .iter()
                .min_by_key(|(_, t)| *t)
                .map(|(id, _)| (*id).clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        if map.len() >= TOTAL {
            return None;
        }
        // 128 bits from the system generator: the id bears the session. No
        // weaker fallback: a failure refuses the session.
        let id = portcullis_token::hex_id().ok()?;
        map.insert(
            id.clone(),
            Session {
                identity: identity.to_owned(),
                version,
                pins,
                last_used: now,
                stream: None,
            },
        );
        Some(id)
    }

    /// Runs `f` on the session `id` of `identity`, marking it used.
    pub(crate) fn with<T>(
        &self,
        id: &str,
        identity: &str,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Result<T, Lookup> {
        let mut map = self.lock();
        let now = Instant::now();
        match map.get_mut(id) {
            Some(s) if s.identity == identity && now.duration_since(s.last_used) < IDLE => {
                s.last_used = now;
                Ok(f(s))
            }
            _ => Err(Lookup::Unknown),
        }
    }

    /// Ends the session `id` of `identity` (its stream closes with it).
    pub(crate) fn end(&self, id: &str, identity: &str) -> Result<(), Lookup> {
        let mut map = self.lock();
        match map.get(id) {
            Some(s) if s.identity == identity => {
                map.remove(id);
                Ok(())
            }
            _ => Err(Lookup::Unknown),
        }
    }

    /// Sends `notifications/tools/list_changed` on every open stream, and
    /// forgets the streams whose reader is gone.
    pub(crate) fn tools_changed(&self) {
        let event = super::events::message(&portcullis_mcp::jsonrpc::notification(
            "notifications/tools/list_changed",
            None,
        ));
        for session in self.lock().values_mut() {
            let gone = session
                .stream
                .as_ref()
                .is_some_and(|tx| tx.try_send(event.clone()).is_err() && tx.is_closed());
            if gone {
                session.stream = None;
            }
        }
    }

    /// Sends a comment on every open stream, so no client or proxy between
    /// times it out while nothing happens, and forgets streams whose
    /// reader is gone.
    pub(crate) fn keep_alive(&self) {
        let ping = bytes::Bytes::from_static(b": keep-alive\n\n");
        for session in self.lock().values_mut() {
            if session
                .stream
                .as_ref()
                .is_some_and(|tx| tx.try_send(ping.clone()).is_err() && tx.is_closed())
            {
                session.stream = None;
            }
        }
    }

    /// Ends every open stream (the gateway is stopping), so no connection
    /// is held open by one.
    pub(crate) fn close_streams(&self) {
        for session in self.lock().values_mut() {
            session.stream = None;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves a map that is still whole
        // (every change is one insert or remove).
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_belongs_to_the_identity_that_made_it() {
        let sessions = Sessions::default();
        let id = sessions.open("bot", "2025-11-25", HashMap::new()).unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(sessions.with(&id, "bot", |s| s.version), Ok("2025-11-25"));
        assert_eq!(sessions.with(&id, "other", |_| ()), Err(Lookup::Unknown));
        assert_eq!(sessions.end(&id, "other"), Err(Lookup::Unknown));
        assert_eq!(sessions.end(&id, "bot"), Ok(()));
        assert_eq!(sessions.with(&id, "bot", |_| ()), Err(Lookup::Unknown));
    }

    #[test]
    fn open_streams_hear_of_changes_and_gone_ones_are_forgotten() {
        use http_body_util::BodyExt;
        let sessions = Sessions::default();
        let id = sessions.open("bot", "2025-11-25", HashMap::new()).unwrap();
        let (tx, mut events) = super::super::events::channel();
        sessions.with(&id, "bot", |s| s.stream = Some(tx)).unwrap();
        sessions.tools_changed();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut read = String::new();
        runtime.block_on(async {
            for _ in 0..2 {
                let frame = events.frame().await.unwrap().unwrap();
                read.push_str(&String::from_utf8_lossy(frame.data_ref().unwrap()));
            }
        });
        assert_eq!(
            read,
            ": portcullis\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n"
        );
        drop(events);
        sessions.keep_alive();
        assert_eq!(sessions.with(&id, "bot", |s| s.stream.is_some()), Ok(false));
    }

    #[test]
    fn an_identity_holds_a_bounded_number_of_sessions() {
        let sessions = Sessions::default();
        let first = sessions.open("bot", "2025-11-25", HashMap::new()).unwrap();
        for _ in 0..PER_IDENTITY {
            sessions.open("bot", "2025-11-25", HashMap::new()).unwrap();
        }
        assert_eq!(sessions.with(&first, "bot", |_| ()), Err(Lookup::Unknown));
        assert_eq!(sessions.lock().len(), PER_IDENTITY);
    }
}
