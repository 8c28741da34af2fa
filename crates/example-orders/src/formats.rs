//! String formats the service reads and writes by hand (no extra crates):
//! UUIDs, e-mail addresses, RFC 3339 date-times, and id generation.

use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

/// `8-4-4-4-12` hexadecimal digits (any version).
pub(crate) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A pragmatic e-mail check: `local@domain.tld`, no whitespace.
pub(crate) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub(crate) fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |range: Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    let date_ok = num(0..4).is_some()
        && at(4, b"-")
        && num(5..7).is_some_and(|m| (1..=12).contains(&m))
        && at(7, b"-")
        && num(8..10).is_some_and(|d| (1..=31).contains(&d))
        && at(10, b"Tt")
        && num(11..13).is_some_and(|h| h <= 23)
        && at(13, b":")
        && num(14..16).is_some_and(|m| m <= 59)
        && at(16, b":")
        && num(17..19).is_some_and(|s| s <= 60);
    if !date_ok {
        return false;
    }
    let mut rest = s.get(19..).unwrap_or_default();
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = frac.get(digits..).unwrap_or_default();
    }
    match rest {
        "Z" | "z" => true,
        offset => {
            let o = offset.as_bytes();
            o.len() == 6
                && matches!(o.first(), Some(b'+' | b'-'))
                && o.get(1..3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_digit))
                && o.get(3) == Some(&b':')
                && o.get(4..6)
                    .is_some_and(|m| m.iter().all(u8::is_ascii_digit))
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or_default();
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Generates random-looking version-4 UUIDs (not cryptographic).
#[derive(Debug)]
pub(crate) struct IdGen {
    state: u64,
}

impl IdGen {
    pub(crate) fn new() -> IdGen {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Truncation is fine: this is only a seed.
        IdGen {
            state: (nanos as u64) ^ 0x5DEE_CE66_D1CE_4E5B,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn next_uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0x0FFF,
            ((b >> 48) & 0x3FFF) | 0x8000,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_uuid("5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01"));
        assert!(!is_uuid("5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a0"));
        assert!(!is_uuid("5b8f1c2e+3a4d-4e6f-8a9b-0c1d2e3f4a01"));
        assert!(is_email("ops@acme.example"));
        assert!(!is_email("ops@acme"));
        assert!(!is_email("o ps@acme.example"));
        assert!(is_date_time("2025-03-01T12:00:00Z"));
        assert!(is_date_time("2025-03-01T12:00:00.123+02:00"));
        assert!(!is_date_time("2025-03-01"));
        assert!(!is_date_time("2025-13-01T12:00:00Z"));
        assert!(is_date_time(&now_rfc3339()));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
        let mut ids = IdGen::new();
        let (a, b) = (ids.next_uuid(), ids.next_uuid());
        assert!(is_uuid(&a) && is_uuid(&b) && a != b);
    }
}
