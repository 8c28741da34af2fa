//! A plain HTTP/1.1 client for `verify`: the request line goes out exactly
//! as built, byte for byte (a path trick must reach the server unnormalised,
//! which a general-purpose client does not promise), one connection per
//! request, bounded in time and size.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest answer read; the rest is cut (it is evidence, not content).
const MAX_ANSWER: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// An `http://host:port[/base]` target.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: String,
    /// Path prefix every request goes under, without a trailing `/`.
    pub base: String,
}

impl Target {
    /// Parses `http://127.0.0.1:9000[/base]`.
    ///
    /// # Errors
    /// Not an `http://` URL with a literal address and port.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("`{url}`: only http:// URLs are supported"))?;
        let (authority, base) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
            .map_err(|e| format!("`{url}`: {e}"))?
            .next()
            .ok_or_else(|| format!("`{url}`: no address"))?;
        Ok(Self {
            addr,
            host: authority.to_owned(),
            base: base.trim_end_matches('/').to_owned(),
        })
    }
}

/// One answer (a cut or malformed chunked body keeps what was well formed:
/// it is evidence, not content).
pub use crate::http1::Response as Answer;

/// Sends one request and reads the answer.
///
/// # Errors
/// The connection failed, timed out, or the answer is not HTTP.
pub async fn send(
    target: &Target,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: Option<(&str, &[u8])>,
) -> Result<Answer, String> {
    let mut head = format!(
        "{method} {}{path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: portcullis-verify\r\n",
        target.base, target.host
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some((content_type, bytes)) = body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    head.push_str("\r\n");
    let exchange = async {
        let mut stream = TcpStream::connect(target.addr).await?;
        stream.write_all(head.as_bytes()).await?;
        if let Some((_, bytes)) = body {
            // A server may answer (413) before reading a large body and
            // close; what it answered still counts.
            let _ = stream.write_all(bytes).await;
        }
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = match stream.read(&mut chunk).await {
                Ok(n) => n,
                Err(e) if !buf.is_empty() => {
                    tracing::debug!(error = %e, "connection ended early");
                    0
                }
                Err(e) => return Err(e),
            };
            if n == 0 || buf.len() >= MAX_ANSWER {
                break;
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        Ok::<_, std::io::Error>(buf)
    };
    let buf = match tokio::time::timeout(TIMEOUT, exchange).await {
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return Err(format!("{}: {e}", target.addr)),
        Err(_) => return Err(format!("{}: no answer within {TIMEOUT:?}", target.addr)),
    };
    crate::http1::parse(&buf).ok_or_else(|| format!("{}: the answer is not HTTP/1.1", target.addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:9000/base/").ok();
        assert_eq!(
            t.map(|t| (t.addr.port(), t.base)),
            Some((9000, "/base".to_owned()))
        );
        assert!(Target::parse("https://127.0.0.1:9000").is_err());
    }
}
