//! How risky a discovered route looks, with the evidence a reader needs:
//! status, size, content type, and the body's first line with any secret
//! redacted. Most severe first: it reveals a secret, it accepted a write,
//! it returns data, it fails with a server error, it merely answers.

use portcullis_contract::Method;
use portcullis_contract::secrets::SecretScanner;

/// Longest first line shown, in characters.
const FIRST_LINE: usize = 120;

/// How risky an undeclared route looks (ordered, most severe last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    Answers,
    ServerError,
    ReturnsData,
    AcceptsWrites,
    RevealsSecret,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Answers => "answers",
            Risk::ServerError => "server-error",
            Risk::ReturnsData => "returns-data",
            Risk::AcceptsWrites => "accepts-writes",
            Risk::RevealsSecret => "reveals-secret",
        }
    }

    /// From a `--fail-on` value.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Risk::Answers,
            Risk::ServerError,
            Risk::ReturnsData,
            Risk::AcceptsWrites,
            Risk::RevealsSecret,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// What was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub status: u16,
    pub size: usize,
    pub content_type: String,
    /// The body's first line, secrets redacted, shortened.
    pub first_line: String,
    /// The kinds of secret found, if any.
    pub secrets: Vec<&'static str>,
}

pub fn classify(
    method: Method,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    scanner: &SecretScanner,
) -> (Risk, Evidence) {
    let text = String::from_utf8_lossy(body);
    let mut secrets: Vec<&'static str> =
        scanner.find(&text).iter().map(|m| m.kind.name()).collect();
    secrets.sort_unstable();
    secrets.dedup();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let redacted = scanner
        .redact(first)
        .map_or_else(|| first.to_owned(), |(r, _)| r);
    let first_line = crate::shorten(&redacted, FIRST_LINE);
    let success = (200..300).contains(&status);
    let risk = if !secrets.is_empty() {
        Risk::RevealsSecret
    } else if success && method.is_write() {
        Risk::AcceptsWrites
    } else if success && !text.trim().is_empty() {
        Risk::ReturnsData
    } else if status >= 500 {
        Risk::ServerError
    } else {
        Risk::Answers
    };
    let evidence = Evidence {
        status,
        size: body.len(),
        content_type: content_type.unwrap_or_default().to_owned(),
        first_line,
        secrets,
    };
    (risk, evidence)
}
