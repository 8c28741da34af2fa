//! Telling a route that answers from the upstream's own not-found: the
//! answers to a few random paths are the baseline, and a candidate whose
//! answer looks like one of them (same status, content type and body shape,
//! with digits and hex runs folded so ids and timestamps do not count) is
//! a plain not-found. An upstream whose random paths all succeed answers
//! every path: it is reported once as a catch-all, not route by route.

use std::hash::{DefaultHasher, Hash, Hasher};

/// What an answer looks like, its ids and numbers aside.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub status: u16,
    /// The media type without parameters, lower-case.
    pub content_type: String,
    shape: u64,
}

impl Fingerprint {
    pub fn of(status: u16, content_type: Option<&str>, body: &[u8]) -> Self {
        let content_type = content_type
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let mut hasher = DefaultHasher::new();
        let mut in_run = false;
        for &b in body {
            // Digits and hex letters in runs become one mark, so `/orders/17`
            // and `/orders/18` answering "order 17 not found" look the same.
            let folded = b.is_ascii_hexdigit();
            if folded {
                if !in_run {
                    b'#'.hash(&mut hasher);
                }
            } else {
                b.hash(&mut hasher);
            }
            in_run = folded;
        }
        Self {
            status,
            content_type,
            shape: hasher.finish(),
        }
    }
}

/// The answers to paths that do not exist.
#[derive(Debug, Clone)]
pub struct Baseline {
    prints: Vec<Fingerprint>,
}

impl Baseline {
    pub fn new(prints: Vec<Fingerprint>) -> Self {
        Self { prints }
    }

    /// Every random path succeeded: the upstream answers anything.
    pub fn catch_all(&self) -> bool {
        !self.prints.is_empty() && self.prints.iter().all(|p| (200..300).contains(&p.status))
    }

    /// Whether `print` is something other than the plain not-found.
    pub fn answers(&self, print: &Fingerprint) -> bool {
        if self.prints.contains(print) {
            return false;
        }
        // A 404 or 410 is a not-found even when its body differs, unless
        // the baseline's not-found is something else entirely.
        let not_found = matches!(print.status, 404 | 410);
        !(not_found && self.prints.iter().any(|p| matches!(p.status, 404 | 410)))
    }
}
