//! A raw HTTP/1.1 client: writes the given bytes, reads one response.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One parsed response.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The problem `code`, if this is a problem+json refusal.
    pub fn code(&self) -> Option<String> {
        if self.header("content-type") != Some("application/problem+json") {
            return None;
        }
        self.json()
            .get("code")
            .and_then(|c| c.as_str())
            .map(str::to_owned)
    }
}

/// Builds a request: `Connection: close` and `Host` are added; a body gets a
/// `Content-Length`.
pub fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// The same request with one more header after the request line.
pub fn with_header(request: &[u8], name: &str, value: &str) -> Vec<u8> {
    let split = request
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(request.len(), |p| p + 2);
    let (line, rest) = request.split_at(split);
    let mut out = line.to_vec();
    out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    out.extend_from_slice(rest);
    out
}

/// A GET with no extra headers.
pub fn get(target: &str) -> Vec<u8> {
    request("GET", target, &[], b"")
}

/// A JSON body request.
pub fn json(method: &str, target: &str, body: &str) -> Vec<u8> {
    request(
        method,
        target,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// Sends `bytes` and reads the response until the server closes (bounded to 10 s).
pub async fn send(addr: SocketAddr, bytes: &[u8]) -> RawResponse {
    try_send(addr, bytes)
        .await
        .unwrap_or_else(|e| panic!("request to {addr}: {e}"))
}

/// As [`send`], but a failed exchange (refused, reset, cut short, timed
/// out) is an error instead of a panic: for tests that kill the server.
pub async fn try_send(addr: SocketAddr, bytes: &[u8]) -> Result<RawResponse, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(bytes).await?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    let buf = match tokio::time::timeout(Duration::from_secs(10), exchange).await {
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return Err(format!("failed: {e}")),
        Err(_) => return Err("timed out".into()),
    };
    parse(&buf).ok_or_else(|| format!("unparseable response: {:?}", String::from_utf8_lossy(&buf)))
}

/// A whole response: a chunked body cut short is a failure here, where
/// the gateway's own answers are under test.
fn parse(buf: &[u8]) -> Option<RawResponse> {
    let r = portcullis_verify::http1::parse(buf).filter(|r| r.complete)?;
    Some(RawResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// `Basic base64(id:secret)`, the `Authorization` value of a client
/// authenticating with its secret (RFC 6749 section 2.3.1).
pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    let pair = format!("{id}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}
