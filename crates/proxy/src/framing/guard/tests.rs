use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

use super::*;

/// Hands its bytes over `step` at a time, as a slow peer would.
struct Trickle {
    bytes: Vec<u8>,
    at: usize,
    step: usize,
}

impl AsyncRead for Trickle {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let end = (this.at + this.step)
            .min(this.bytes.len())
            .min(this.at + buf.remaining());
        buf.put_slice(&this.bytes[this.at..end]);
        this.at = end;
        Poll::Ready(Ok(()))
    }
}

/// Everything hyper would read through the guard, fed `step` bytes at a time.
fn through(bytes: &[u8], step: usize) -> Vec<u8> {
    let mut guarded = Guarded::new(
        Trickle {
            bytes: bytes.to_vec(),
            at: 0,
            step,
        },
        16 * 1024,
    );
    let mut out = Vec::new();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        let mut space = [0u8; 7];
        let mut buf = ReadBuf::new(&mut space);
        match Pin::new(&mut guarded).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(())) if buf.filled().is_empty() => return out,
            Poll::Ready(Ok(())) => out.extend_from_slice(buf.filled()),
            // Only after a stand-in: the rest of the connection is never read.
            Poll::Pending => return out,
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn each_step(bytes: &[u8]) -> Vec<Vec<u8>> {
    [1, 2, 5, 64, 100_000]
        .into_iter()
        .map(|step| through(bytes, step))
        .collect()
}

#[test]
fn well_formed_requests_pass_unchanged_however_they_arrive() {
    let stream = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n\
GET /d HTTP/1.1\r\nHost: x\r\n\r\n";
    for out in each_step(stream) {
        assert_eq!(out, stream.to_vec());
    }
}

#[test]
fn a_malformed_head_after_a_body_is_replaced_and_the_rest_dropped() {
    let mut stream =
        b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nGE\r\n0\r\n\r\n"
            .to_vec();
    let first = stream.len();
    stream.extend_from_slice(
        b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\
GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let mut expected = stream[..first].to_vec();
    expected.extend_from_slice(&stand_in(Malformed::ContentLength));
    for out in each_step(&stream) {
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected)
        );
    }
}

#[test]
fn a_body_that_looks_like_a_head_is_not_judged_as_one() {
    // The body's bytes are a malformed head; they are body, so they pass.
    let stream = b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\nG T / H\r\n\r\n\
GET /d HTTP/1.1\r\nHost: x\r\n\r\n";
    for out in each_step(stream) {
        assert_eq!(out, stream.to_vec());
    }
}

#[test]
fn http2_prior_knowledge_passes_through() {
    let mut stream = H2_PREFACE.to_vec();
    stream.extend_from_slice(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00 not http/1");
    for out in each_step(&stream) {
        assert_eq!(out, stream);
    }
}

#[test]
fn an_unfinished_head_is_never_handed_over() {
    for out in each_step(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo") {
        assert_eq!(out, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
    }
}

#[test]
fn a_chunk_size_the_guard_cannot_read_is_left_to_hyper() {
    let stream =
        b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nG T / x\r\n\r\n";
    for out in each_step(stream) {
        assert_eq!(out, stream.to_vec());
    }
}
