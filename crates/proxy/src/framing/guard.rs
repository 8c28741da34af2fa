//! The connection wrapper that applies [`read_head`] to every HTTP/1.1
//! request on a connection, not only the first.
//!
//! It sits between the socket and hyper. Request heads are held back until
//! they are whole and checked; bodies pass through while their framing
//! (a length, or chunks) is followed, so the next head is found where hyper
//! will look for it. A malformed head is replaced by [`stand_in`] and the
//! connection reads as closed after it. HTTP/2 (prior knowledge) is
//! recognised by its preface and passed through untouched: its framing is
//! binary and hyper's h2 answers its own errors at the protocol level.
//! Writes go straight to the socket.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::io::poll_read_buf;

use super::{Framing, Head, MALFORMED_HEADER, Malformed, read_head};

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Longest chunk-size or trailer line followed; past it the body is hyper's
/// to refuse (it is inside a request hyper is already reading).
const MAX_LINE: usize = 4096;
const READ_CHUNK: usize = 16 * 1024;

/// Where in the byte stream the guard is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing read yet: HTTP/1.1 or the HTTP/2 preface.
    Start,
    Head,
    Body(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    /// HTTP/2, or a body the guard cannot follow: bytes go as they come.
    Through,
    /// A stand-in was handed over: nothing more is read, ever.
    Closed,
}

/// A connection whose request heads are checked before hyper reads them.
#[derive(Debug)]
pub struct Guarded<T> {
    inner: T,
    state: State,
    /// Read from the socket, not yet judged.
    pending: BytesMut,
    /// Judged, ready for hyper.
    ready: Bytes,
    max_head: usize,
    /// `pending` holds bytes not yet judged.
    fresh: bool,
    eof: bool,
}

impl<T> Guarded<T> {
    pub fn new(inner: T, max_head: usize) -> Self {
        Self {
            inner,
            state: State::Start,
            pending: BytesMut::new(),
            ready: Bytes::new(),
            max_head,
            fresh: false,
            eof: false,
        }
    }

    /// Moves all that can be judged from `pending` to `ready`. What is
    /// released is always a run from the front of `pending`, so it is handed
    /// over without a copy; only a stand-in is appended.
    fn advance(&mut self) {
        let mut released = 0;
        let mut replaced = None;
        while released < self.pending.len() {
            let rest = self.pending.get(released..).unwrap_or_default();
            match step(&mut self.state, self.max_head, rest) {
                Step::Release(n) => released += n,
                Step::Replace(malformed) => {
                    replaced = Some(malformed);
                    break;
                }
                Step::NeedMore => break,
            }
        }
        let judged = self.pending.split_to(released);
        self.ready = match replaced {
            None => judged.freeze(),
            Some(malformed) => {
                self.pending.clear();
                self.state = State::Closed;
                let mut out = judged;
                out.extend_from_slice(&stand_in(malformed));
                out.freeze()
            }
        };
    }
}

/// One move of the state machine over `buf`, the bytes not yet judged.
fn step(state: &mut State, max_head: usize, buf: &[u8]) -> Step {
    match *state {
        State::Start => {
            let n = buf.len().min(H2_PREFACE.len());
            if buf.get(..n) != H2_PREFACE.get(..n) {
                *state = State::Head;
            } else if n == H2_PREFACE.len() {
                *state = State::Through;
            } else {
                return Step::NeedMore;
            }
            Step::Release(0)
        }
        State::Head => match read_head(buf, max_head) {
            Head::Partial => Step::NeedMore,
            Head::Malformed(m) => Step::Replace(m),
            Head::Complete { len, framing } => {
                *state = match framing {
                    Framing::Length(0) => State::Head,
                    Framing::Length(n) => State::Body(n),
                    Framing::Chunked => State::ChunkSize,
                };
                Step::Release(len)
            }
        },
        State::Body(left) => {
            let n = left.min(buf.len() as u64);
            *state = if n == left {
                State::Head
            } else {
                State::Body(left - n)
            };
            Step::Release(usize::try_from(n).unwrap_or(usize::MAX))
        }
        State::ChunkSize => match line(buf) {
            Line::Partial => Step::NeedMore,
            Line::TooLong => through(state),
            Line::Complete(len) => match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete((_, 0))) => {
                    *state = State::Trailers;
                    Step::Release(len)
                }
                Ok(httparse::Status::Complete((_, size))) => {
                    *state = State::ChunkData(size);
                    Step::Release(len)
                }
                _ => through(state),
            },
        },
        State::ChunkData(left) => {
            let n = left.min(buf.len() as u64);
            *state = if n == left {
                State::ChunkEnd
            } else {
                State::ChunkData(left - n)
            };
            Step::Release(usize::try_from(n).unwrap_or(usize::MAX))
        }
        State::ChunkEnd => match line(buf) {
            Line::Partial => Step::NeedMore,
            Line::Complete(len) if len <= 2 => {
                *state = State::ChunkSize;
                Step::Release(len)
            }
            Line::Complete(_) | Line::TooLong => through(state),
        },
        State::Trailers => match line(buf) {
            Line::Partial => Step::NeedMore,
            Line::TooLong => through(state),
            Line::Complete(len) => {
                if len <= 2 {
                    *state = State::Head;
                }
                Step::Release(len)
            }
        },
        State::Through => Step::Release(buf.len()),
        State::Closed => Step::NeedMore,
    }
}

/// A body the guard cannot follow is inside a request hyper is reading:
/// hyper refuses it (the pipeline answers an unreadable body), and the
/// guard stops judging the rest of the connection.
fn through(state: &mut State) -> Step {
    *state = State::Through;
    Step::Release(0)
}

enum Step {
    Release(usize),
    Replace(Malformed),
    NeedMore,
}

enum Line {
    Partial,
    TooLong,
    /// The line's length, its `\n` included.
    Complete(usize),
}

fn line(buf: &[u8]) -> Line {
    match memchr::memchr(b'\n', buf) {
        Some(i) if i < MAX_LINE => Line::Complete(i + 1),
        Some(_) => Line::TooLong,
        None if buf.len() >= MAX_LINE => Line::TooLong,
        None => Line::Partial,
    }
}

/// The request hyper reads in place of a malformed one: the `limits` stage
/// answers it with the problem for `why`, and hyper closes the connection.
pub(crate) fn stand_in(why: Malformed) -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nhost: portcullis.invalid\r\nconnection: close\r\n{}: {}\r\n\r\n",
        MALFORMED_HEADER.as_str(),
        why.token()
    )
    .into_bytes()
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match this.state {
                // Not an end of stream: hyper drops a request whose
                // connection reads as closed before it is answered. The
                // stand-in says `connection: close`, so hyper closes after
                // answering it and never waits on this.
                State::Closed => return Poll::Pending,
                // Nothing is held back any more: read straight into hyper's buffer.
                State::Through if this.pending.is_empty() => {
                    return Pin::new(&mut this.inner).poll_read(cx, buf);
                }
                _ => {}
            }
            if this.fresh {
                this.fresh = false;
                this.advance();
                continue;
            }
            if this.eof {
                // The peer went away: an unfinished head is never handed
                // over; an unfinished body goes as it is, for hyper to refuse.
                if matches!(this.state, State::Head | State::Start) || this.pending.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                this.ready = this.pending.split().freeze();
                continue;
            }
            ready!(this.fill(cx))?;
        }
    }
}

impl<T: AsyncRead + Unpin> Guarded<T> {
    /// Reads more from the socket into `pending` (its spare room, never
    /// zeroed first).
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pending.reserve(READ_CHUNK);
        let filled = ready!(poll_read_buf(
            Pin::new(&mut self.inner),
            cx,
            &mut self.pending
        ))?;
        if filled == 0 {
            self.eof = true;
        } else {
            self.fresh = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
