//! Unix seconds written as RFC 3339, once for every report and page.

/// The first second of the year 10000, which RFC 3339 cannot write.
const YEAR_10000: u64 = 253_402_300_800;

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC); `None` for
/// a time RFC 3339 cannot write (before 1970, or past the year 9999: an
/// expiry set that far away), which each caller writes its own way.
pub fn rfc3339(secs: i64) -> Option<String> {
    let secs = u64::try_from(secs).ok().filter(|s| *s < YEAR_10000)?;
    let at = std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))?;
    Some(humantime::format_rfc3339_seconds(at).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_rfc3339_can_write_is_written() {
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            rfc3339(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(rfc3339(253_402_300_800), None);
        assert_eq!(rfc3339(i64::MAX), None);
        assert_eq!(rfc3339(-1), None);
    }
}
