//! Stage 1, on the wire: each HTTP/1.1 request head is read and checked here
//! before hyper sees it, so a request hyper would answer with its own bare
//! `400` (an unparseable request line, a bad header name, conflicting
//! `Content-Length`s, a `Transfer-Encoding` other than `chunked`) gets the
//! gateway's problem+json answer instead.
//!
//! The check is pure: bytes in, the body's framing or the reason out. The
//! connection wrapper that applies it to every request on a connection is
//! [`guard`]. A malformed head is replaced by a fixed request carrying
//! [`MALFORMED_HEADER`], which the `limits` stage answers in the one problem
//! shape; the rest of the connection is dropped, because where the next
//! request would start can no longer be trusted.

use http::HeaderName;

pub mod guard;

/// The header of the fixed request that stands in for a malformed one. A
/// caller sending it only gets itself refused.
pub(crate) const MALFORMED_HEADER: HeaderName = HeaderName::from_static("x-portcullis-malformed");

/// Most header fields in one request head (hyper's own bound is set to the same).
pub(crate) const MAX_HEADERS: usize = 256;

/// How the body after a well-formed head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body, or a body of exactly this many bytes.
    Length(u64),
    Chunked,
}

/// Why a request head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    RequestLine,
    HeaderName,
    HeaderValue,
    TooManyHeaders,
    HeadTooLarge,
    ContentLength,
    TransferEncoding,
    LengthAndChunked,
}

impl Malformed {
    pub(crate) const ALL: [Malformed; 8] = [
        Malformed::RequestLine,
        Malformed::HeaderName,
        Malformed::HeaderValue,
        Malformed::TooManyHeaders,
        Malformed::HeadTooLarge,
        Malformed::ContentLength,
        Malformed::TransferEncoding,
        Malformed::LengthAndChunked,
    ];

    /// The token carried in [`MALFORMED_HEADER`].
    pub(crate) fn token(self) -> &'static str {
        match self {
            Malformed::RequestLine => "request-line",
            Malformed::HeaderName => "header-name",
            Malformed::HeaderValue => "header-value",
            Malformed::TooManyHeaders => "too-many-headers",
            Malformed::HeadTooLarge => "head-too-large",
            Malformed::ContentLength => "content-length",
            Malformed::TransferEncoding => "transfer-encoding",
            Malformed::LengthAndChunked => "length-and-chunked",
        }
    }

    pub(crate) fn from_token(token: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.token().as_bytes() == token)
    }

    /// The sentence the caller reads.
    pub(crate) fn detail(self) -> &'static str {
        match self {
            Malformed::RequestLine => {
                "the request line is not `METHOD target HTTP/1.1` (a space or control character in the target, or an unknown version)"
            }
            Malformed::HeaderName => "a header name is not a valid token",
            Malformed::HeaderValue => "a header value holds a control character",
            Malformed::TooManyHeaders => "the request has more than 256 header fields",
            Malformed::HeadTooLarge => "the request head exceeds the header limit",
            Malformed::ContentLength => {
                "`Content-Length` must be one decimal number, the same in every field"
            }
            Malformed::TransferEncoding => {
                "`Transfer-Encoding` must be exactly `chunked`, and only in HTTP/1.1"
            }
            Malformed::LengthAndChunked => {
                "a request may not carry both `Content-Length` and `Transfer-Encoding`"
            }
        }
    }

    /// Over-long heads are the header limit's refusal, not a syntax error.
    pub(crate) fn code(self) -> portcullis_core::ProblemCode {
        match self {
            Malformed::TooManyHeaders | Malformed::HeadTooLarge => {
                portcullis_core::ProblemCode::HeadersTooLarge
            }
            Malformed::RequestLine
            | Malformed::HeaderName
            | Malformed::HeaderValue
            | Malformed::ContentLength
            | Malformed::TransferEncoding
            | Malformed::LengthAndChunked => portcullis_core::ProblemCode::MalformedRequest,
        }
    }
}

/// What reading the start of `buf` as a request head found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// More bytes are needed.
    Partial,
    /// A well-formed head of `len` bytes, followed by a body framed so.
    Complete {
        len: usize,
        framing: Framing,
    },
    Malformed(Malformed),
}

/// Reads one request head from the start of `buf` (at most `max_head` bytes).
pub fn read_head(buf: &[u8], max_head: usize) -> Head {
    // Left uninitialised: filling 256 empty fields cost as much as the parse.
    let mut fields =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    let len = match request.parse_with_uninit_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete(len)) if len <= max_head => len,
        Ok(httparse::Status::Complete(_)) => return Head::Malformed(Malformed::HeadTooLarge),
        Ok(httparse::Status::Partial) if buf.len() > max_head => {
            return Head::Malformed(Malformed::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(e) => return Head::Malformed(parse_error(e)),
    };
    match framing(request.version, request.headers) {
        Ok(framing) => Head::Complete { len, framing },
        Err(m) => Head::Malformed(m),
    }
}

fn parse_error(e: httparse::Error) -> Malformed {
    match e {
        httparse::Error::HeaderName => Malformed::HeaderName,
        httparse::Error::HeaderValue => Malformed::HeaderValue,
        httparse::Error::TooManyHeaders => Malformed::TooManyHeaders,
        httparse::Error::Token
        | httparse::Error::NewLine
        | httparse::Error::Status
        | httparse::Error::Version => Malformed::RequestLine,
    }
}

/// The body's framing from `Content-Length` and `Transfer-Encoding`
/// (RFC 9112 section 6), refusing every combination two parsers could read
/// differently instead of picking one.
fn framing(version: Option<u8>, fields: &[httparse::Header<'_>]) -> Result<Framing, Malformed> {
    let mut length: Option<u64> = None;
    let mut codings: Vec<&[u8]> = Vec::new();
    for field in fields {
        if field.name.eq_ignore_ascii_case("content-length") {
            for item in field.value.split(|b| *b == b',') {
                let n = decimal(trim(item)).ok_or(Malformed::ContentLength)?;
                if length.is_some_and(|seen| seen != n) {
                    return Err(Malformed::ContentLength);
                }
                length = Some(n);
            }
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            codings.extend(field.value.split(|b| *b == b',').map(trim));
        }
    }
    if codings.is_empty() {
        return Ok(Framing::Length(length.unwrap_or(0)));
    }
    if version != Some(1) || codings.len() != 1 || !codings.iter().all(|c| is_chunked(c)) {
        return Err(Malformed::TransferEncoding);
    }
    if length.is_some() {
        return Err(Malformed::LengthAndChunked);
    }
    Ok(Framing::Chunked)
}

fn is_chunked(coding: &[u8]) -> bool {
    coding.eq_ignore_ascii_case(b"chunked")
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |p| p + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// A non-empty run of ASCII digits that fits in a u64.
fn decimal(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 19 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests;
