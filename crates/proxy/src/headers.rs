//! Header hygiene: what never crosses the gateway in either direction.

use http::HeaderMap;
use http::header::{self, HeaderName};

/// Hop-by-hop headers (RFC 9110 section 7.6.1), plus framing headers the
/// gateway recomputes because it buffers bodies.
const HOP_BY_HOP: &[HeaderName] = &[
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::CONTENT_LENGTH,
    header::EXPECT,
];

/// Headers only the caller would send, which must not reach the upstream:
/// method and URL overrides that make the upstream act on something other
/// than what was checked, forwarding claims the caller could forge, and the
/// caller's own credential.
const CALLER_ONLY: &[&str] = &[
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "authorization",
    "x-api-key",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-original-url",
    "x-rewrite-url",
    "x-original-method",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-server",
    "x-real-ip",
    "forwarded",
    "via",
    "x-request-id",
    "traceparent",
    "tracestate",
];

/// Upstream response headers that pass under the strict header policy
/// whatever the contract declares: what describes the body, caching, rate
/// limits and tracing. Everything else that is not declared (`Server`,
/// `X-Powered-By`, `X-AspNet-Version`, `Via`, cookies, internal ids) is
/// dropped: it tells a caller what runs behind the gateway.
pub(crate) const SAFE_RESPONSE: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "content-disposition",
    "content-range",
    "accept-ranges",
    "cache-control",
    "expires",
    "etag",
    "last-modified",
    "vary",
    "age",
    "pragma",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "traceparent",
    "tracestate",
    "x-request-id",
];

/// Keeps only the headers in [`SAFE_RESPONSE`] and those `declared` (lower
/// case names, as the contract declares them for this response).
pub(crate) fn keep_declared(headers: &mut HeaderMap, declared: &[String]) {
    let kept = |name: &HeaderName| {
        let name = name.as_str();
        SAFE_RESPONSE.contains(&name) || declared.iter().any(|d| d == name)
    };
    // One name at a time rather than a list of them: an upstream almost
    // always sends something to drop (`Date`, `Server`), and this runs on
    // every response, so it allocates nothing.
    while let Some(name) = headers.keys().find(|n| !kept(n)).cloned() {
        headers.remove(name);
    }
}

/// Removes hop-by-hop headers and any header the `Connection` header names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP) {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

/// Removes everything a caller must not be able to say to the upstream.
pub(crate) fn strip_caller_only(headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    for name in CALLER_ONLY {
        headers.remove(*name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn strips_named_and_listed_headers() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "x-secret, keep-alive"),
            ("x-secret", "1"),
            ("keep-alive", "timeout=5"),
            ("x-http-method-override", "DELETE"),
            ("x-forwarded-for", "10.0.0.1"),
            ("authorization", "Bearer caller"),
            ("accept", "application/json"),
        ] {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        strip_caller_only(&mut h);
        let left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["accept"]);
    }

    #[test]
    fn strict_responses_keep_the_safe_set_and_what_is_declared() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("server", "Werkzeug/2.2.3 Python/3.11.7"),
            ("x-powered-by", "Express"),
            ("x-aspnet-version", "4.0.30319"),
            ("via", "1.1 internal-lb"),
            ("set-cookie", "session=abc"),
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
            ("retry-after", "3"),
            ("x-ratelimit-remaining", "9"),
            ("x-next-page", "2"),
        ] {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        keep_declared(&mut h, &["x-next-page".to_owned()]);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(
            left,
            [
                "cache-control",
                "content-type",
                "retry-after",
                "x-next-page",
                "x-ratelimit-remaining"
            ]
        );
    }
}
