//! An HTTP/1.1 response read from the bytes a connection gave until it
//! closed: status, headers and body (a chunked body joined). Both the
//! verifier's client and the test suite's raw client read answers with it.

/// One response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body was whole: a chunked body ended with its last
    /// chunk. A cut or malformed one keeps what was well formed, as
    /// evidence; a caller that needs a whole answer checks this.
    pub complete: bool,
}

impl Response {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads `buf`; `None` when its head is not a whole HTTP/1.1 response.
pub fn parse(buf: &[u8]) -> Option<Response> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head_len) = response.parse(buf).ok()? else {
        return None;
    };
    let status = response.code?;
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let raw = buf.get(head_len..).unwrap_or_default();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    let (body, complete) = if chunked {
        dechunk(raw)
    } else {
        (raw.to_vec(), true)
    };
    Some(Response {
        status,
        headers,
        body,
        complete,
    })
}

/// The data of a chunked body as far as it is well formed, and whether it
/// reached the last (empty) chunk.
fn dechunk(mut raw: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    while let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(raw.get(..line_end).unwrap_or_default())
            .ok()
            .and_then(|text| usize::from_str_radix(text.split(';').next()?.trim(), 16).ok());
        let Some(size) = size else { break };
        if size == 0 {
            return (out, true);
        }
        let start = line_end + 2;
        let Some(data) = raw.get(start..start + size) else {
            out.extend_from_slice(raw.get(start..).unwrap_or_default());
            break;
        };
        out.extend_from_slice(data);
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a missing value should fail the test"
    )]
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"),
            (b"abcde".to_vec(), true)
        );
        assert_eq!(dechunk(b"3\r\nabc\r\n5\r\nde"), (b"abcde".to_vec(), false));
        assert_eq!(dechunk(b"zz\r\n"), (Vec::new(), false));
    }

    #[test]
    fn a_response_is_read_with_its_headers() {
        let r = parse(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno",
        )
        .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.complete),
            (404, &b"no"[..], true)
        );
        assert_eq!(r.header("content-type"), Some("text/plain"));
        let chunked =
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!(chunked.body, b"ok");
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-").is_none());
        assert!(parse(b"not http").is_none());
    }
}
