//! Stage 7: parameters, content type and body against the operation.

use http::{HeaderMap, Uri};
use portcullis_contract::request::{
    self, HeaderLookup, HeaderSource, RequestInput, ValidatedRequest,
};

use super::route::Matched;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

struct Headers<'a>(&'a HeaderMap);

impl HeaderSource for Headers<'_> {
    fn lookup(&self, name: &str) -> HeaderLookup<'_> {
        let mut values = self.0.get_all(name).iter();
        match (values.next(), values.next()) {
            (None, _) => HeaderLookup::Absent,
            (Some(_), Some(_)) => HeaderLookup::Many,
            (Some(v), None) => v.to_str().map_or(HeaderLookup::Opaque, HeaderLookup::One),
        }
    }
}

pub(crate) fn check(
    snapshot: &Snapshot,
    matched: &Matched<'_, '_>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<ValidatedRequest, Refusal> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let input = RequestInput {
        query: uri.query(),
        headers: &Headers(headers),
        content_type,
        body,
        max_depth: snapshot.limits.json_depth,
    };
    Ok(request::validate(
        matched.operation,
        &matched.params,
        &input,
    )?)
}
