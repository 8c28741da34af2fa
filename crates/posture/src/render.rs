//! The report as people and tools read it: text for a terminal, JSON,
//! a self-contained HTML page (no script, no external resource) and SARIF
//! 2.1.0 (each rule with its OWASP NHI id, each finding a result).

mod html;
mod sarif;
mod text;

pub use html::html;
pub use sarif::sarif;
pub use text::text;

use crate::Report;

/// The report as pretty-printed JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_owned())
}

/// A Unix time as `YYYY-MM-DDTHH:MM:SSZ` (UTC); before 1970 as 1970, past
/// the year 9999 (a far expiry) as its seconds.
pub(crate) fn rfc3339(secs: i64) -> String {
    portcullis_core::rfc3339(secs.max(0)).unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_written_in_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_764_892_800), "2025-12-05T00:00:00Z");
    }
}
