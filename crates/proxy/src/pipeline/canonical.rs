//! Stage 3: refuse a path that is not already canonical. Never rewrite it:
//! the bytes that are matched are the bytes that are forwarded.

use portcullis_contract::canonical::check_path;
use portcullis_core::ProblemCode;

use crate::refusal::Refusal;

/// Returns the raw path, proven canonical.
pub(crate) fn check(uri: &http::Uri) -> Result<&str, Refusal> {
    let path = uri.path();
    check_path(path.as_bytes()).map_err(|e| {
        Refusal::new(
            ProblemCode::AmbiguousPath,
            format!(
                "the request path is not in canonical form ({} at byte {}); it is refused, not rewritten",
                e.reason().as_str(),
                e.offset()
            ),
        )
    })?;
    Ok(path)
}
