//! Lenient request interpretation, as many frameworks do it: the whole path
//! is percent-decoded before routing (`%2F` becomes `/`, `%2E` becomes `.`),
//! dot segments are resolved, empty segments (`//`, trailing `/`) dropped,
//! `;params` stripped from every segment; `X-HTTP-Method-Override` (and
//! `X-HTTP-Method`) on a POST replaces the method. Also query-string parsing.

use http::{HeaderMap, Method};

/// Headers whose value replaces the method of a POST.
const OVERRIDE_HEADERS: [&str; 2] = ["x-http-method-override", "x-http-method"];

/// The method the service acts on: a POST may carry an override header.
pub(crate) fn effective_method(method: &Method, headers: &HeaderMap) -> Method {
    if method != Method::POST {
        return method.clone();
    }
    OVERRIDE_HEADERS
        .iter()
        .filter_map(|name| headers.get(*name))
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.trim().to_ascii_uppercase())
        .find_map(|value| Method::from_bytes(value.as_bytes()).ok())
        .unwrap_or(Method::POST)
}

/// Decodes `%XX` escapes; invalid escapes are kept as written. With
/// `plus_as_space`, `+` decodes to a space (query strings).
pub(crate) fn percent_decode(input: &str, plus_as_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| hex_value(*c));
                let lo = bytes.get(i + 2).and_then(|c| hex_value(*c));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                out.push(b);
            }
            b'+' if plus_as_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The segments the router sees for a raw path: decoded, `;params`
/// stripped, dot segments resolved, empty segments dropped.
pub(crate) fn normalize_path(raw: &str) -> Vec<String> {
    let decoded = percent_decode(raw, false);
    let mut segments: Vec<String> = Vec::new();
    for segment in decoded.split('/') {
        let segment = segment.split(';').next().unwrap_or_default();
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other.to_owned()),
        }
    }
    segments
}

/// Parsed query string: decoded `(name, value)` pairs in order.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(name, true), percent_decode(value, true))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> String {
        format!("/{}", normalize_path(raw).join("/"))
    }

    #[test]
    fn normalizes_like_a_lenient_framework() {
        assert_eq!(norm("/v1/orders/"), "/v1/orders");
        assert_eq!(norm("/v1//orders"), "/v1/orders");
        assert_eq!(norm("/v1/orders/..%2F..%2Fdebug/config"), "/debug/config");
        assert_eq!(
            norm("/v1/customers/%2E%2E/%2E%2E/debug/config"),
            "/debug/config"
        );
        assert_eq!(
            norm("/v1;jsessionid=1/orders;x=y/summary"),
            "/v1/orders/summary"
        );
        assert_eq!(norm("/a/./b/../../.."), "/");
    }

    #[test]
    fn method_override_only_on_post() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-http-method-override",
            http::HeaderValue::from_static("delete"),
        );
        assert_eq!(effective_method(&Method::POST, &headers), Method::DELETE);
        assert_eq!(effective_method(&Method::GET, &headers), Method::GET);
        let mut other = HeaderMap::new();
        other.insert("x-http-method", http::HeaderValue::from_static("PATCH"));
        assert_eq!(effective_method(&Method::POST, &other), Method::PATCH);
    }

    #[test]
    fn query_decodes() {
        let q = Query::parse(Some("status=paid&note=a+b%21&empty"));
        assert_eq!(q.get("status"), Some("paid"));
        assert_eq!(q.get("note"), Some("a b!"));
        assert_eq!(q.get("empty"), Some(""));
        assert_eq!(q.get("missing"), None);
    }
}
