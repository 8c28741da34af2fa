//! A session's event stream (`GET /mcp`, `text/event-stream`): the body
//! reads whatever the gateway queues for the session. Nothing is kept for a
//! session with no stream open: `list_changed` only says "list again", and
//! a client that reconnects lists anyway.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::sync::mpsc;

/// Events queued per stream before a slow reader misses some.
const BACKLOG: usize = 16;

/// The body of an open stream.
#[derive(Debug)]
pub(crate) struct Events {
    rx: mpsc::Receiver<Bytes>,
}

/// A stream's sender (kept in its session) and body.
pub(crate) fn channel() -> (mpsc::Sender<Bytes>, Events) {
    let (tx, rx) = mpsc::channel(BACKLOG);
    // The first bytes tell the client the stream is open.
    let _ = tx.try_send(Bytes::from_static(b": portcullis\n\n"));
    (tx, Events { rx })
}

/// One JSON-RPC message as a server-sent event.
pub(crate) fn message(json: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: message\ndata: {json}\n\n"))
}

impl Body for Events {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx
            .poll_recv(cx)
            .map(|event| event.map(|b| Ok(Frame::data(b))))
    }
}
