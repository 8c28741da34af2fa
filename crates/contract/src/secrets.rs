//! Secret detection for upstream API responses.
//!
//! The gateway runs every response body through one [`SecretScanner`] so it
//! can redact or block credentials that an upstream leaked: cloud keys, VCS
//! and SaaS tokens, private keys, JWTs, payment card numbers and generic
//! `password=`-style assignments.
//!
//! This module must never log, store or hand back a secret's value. A
//! [`SecretMatch`] carries only the kind and the byte range, and `Debug`
//! output never includes scanned text, so findings are safe to log.
//!
//! All patterns are compiled once into a single multi-pattern
//! `regex_automata::meta::Regex`, so scanning is one linear-time pass
//! regardless of how many kinds are defined. The prefilter a whole body
//! goes through first (`may_match`) is cheaper still: the patterns that
//! start with a literal as a second regex (its literal search skips most
//! bytes), and byte-level necessary conditions for the two that do not.

use regex_automata::meta::{BuildError, Regex};
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{Anchored, Input};

#[cfg(test)]
mod tests;

/// What a finding is, as reported to policy and audit logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretKind {
    AwsAccessKey,
    AwsSecretKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    SlackWebhook,
    StripeKey,
    GoogleApiKey,
    PrivateKey,
    Jwt,
    PaymentCard,
    /// The password in a URL's user info: `postgres://user:PASSWORD@host`.
    UrlPassword,
    GenericSecret,
}

impl SecretKind {
    /// Stable identifier: it appears in redaction markers and audit logs, so
    /// it must never change once shipped.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AwsAccessKey => "aws-access-key",
            Self::AwsSecretKey => "aws-secret-key",
            Self::GithubToken => "github-token",
            Self::GitlabToken => "gitlab-token",
            Self::SlackToken => "slack-token",
            Self::SlackWebhook => "slack-webhook",
            Self::StripeKey => "stripe-key",
            Self::GoogleApiKey => "google-api-key",
            Self::PrivateKey => "private-key",
            Self::Jwt => "jwt",
            Self::PaymentCard => "payment-card",
            Self::UrlPassword => "url-password",
            Self::GenericSecret => "generic-secret",
        }
    }
}

/// One finding: `text[start..end]` is the secret. Deliberately holds no copy
/// of the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretMatch {
    pub kind: SecretKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretPatternError {
    #[error("built-in secret patterns failed to compile")]
    Compile(#[source] Box<BuildError>),
    #[error("built-in secret patterns need {0} capture slots, more than the {MAX_SLOTS} reserved")]
    TooManySlots(usize),
}

/// Separator between a key name and its value: `=`, `:`, optionally with the
/// key's closing quote and the value's opening quote (also JSON-in-a-string
/// `\"`), so `password=x`, `"db_password": "x"` and `password: x` all match.
/// Padding is bounded so a value always starts within `CAPTURE_WINDOW`.
macro_rules! key_sep {
    () => {
        r#"(?:\\?["'])?[ \t]{0,16}[:=][ \t]{0,16}(?:\\?["'])?"#
    };
}

/// Characters of a generic value. Quotes, backslashes, brackets and list or
/// query punctuation end it, so JSON stays well-formed after redaction and a
/// `[REDACTED:..]` marker is never itself rescanned as a value.
macro_rules! value_char {
    () => {
        r#"[^\t\n\x0B\x0C\r "'`\\,;&<>(){}\[\]"#
    };
}

/// The response check's prefilter ([`SecretScanner::may_match`] over a whole
/// JSON body) relies on every pattern treating a `"`, `,`, `:` or bracket
/// just after or before a value like the end or start of the text: no `^`,
/// no `$` except as the alternative to a class that admits those, and only
/// ASCII word boundaries.
///
/// Pattern order is priority: where two patterns match at the same offset the
/// earlier one wins, so specific token formats precede the generic one.
/// Where a pattern has capture group 1, only that group is reported; the
/// rest of the match is context (a key name, or a trailing delimiter that
/// stands in for the look-ahead regex-automata lacks).
#[rustfmt::skip]
const PATTERNS: &[(SecretKind, &str)] = &[
    (SecretKind::AwsAccessKey, r"(?-u:\b)(?:AKIA|ASIA)[A-Z0-9]{16}(?-u:\b)"),
    (SecretKind::AwsSecretKey, concat!(
        r"(?i-u:aws[_-]?secret(?:[_-]?access)?[_-]?key)", key_sep!(),
        r"([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
    )),
    (SecretKind::GithubToken, r"gh[pousr]_[A-Za-z0-9]{36}(?-u:\b)"),
    (SecretKind::GithubToken, r"github_pat_[A-Za-z0-9_]{82}(?-u:\b)"),
    (SecretKind::GitlabToken, r"(glpat-[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)"),
    // A numeric first group keeps prose like "xoxb-style-token" out.
    (SecretKind::SlackToken, r"xox[bpars]-[0-9]+(?:-[0-9A-Za-z]+)*-[0-9A-Za-z]{8,}(?-u:\b)"),
    (SecretKind::SlackWebhook,
        r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}"),
    (SecretKind::StripeKey, r"(?:sk_live|rk_live|sk_test)_[0-9A-Za-z]{24,}"),
    (SecretKind::GoogleApiKey, r"(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)"),
    // The body is PEM (plus JSON's `\n` escapes) and cannot contain `--`, so
    // the hunt for END stops at the next armour line and many headers
    // without END lines cannot make scanning quadratic. Without END the
    // header alone is reported.
    (SecretKind::PrivateKey, concat!(
        r"-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----(?:",
        r"(?:[A-Za-z0-9+/=:,.\\\t\r\n ]|-[A-Za-z0-9])*",
        r"-----END (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----)?",
    )),
    (SecretKind::Jwt, r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
    // Only plausible layouts: one digit run, or a 4-digit lead group then
    // groups of 3-6 with one consistent separator. Length and Luhn are
    // checked afterwards in `is_card_number`.
    (SecretKind::PaymentCard, concat!(
        r"(?-u:\b)(?:[0-9]{13,19}|[0-9]{4}(?: [0-9]{3,6}){2,4}",
        r"|[0-9]{4}(?:-[0-9]{3,6}){2,4})(?-u:\b)",
    )),
    // Database and broker URLs in configuration dumps: only the password
    // (group 1) is reported; the scheme and user stay readable.
    (SecretKind::UrlPassword,
        r#"(?i-u:[a-z][a-z0-9+.-]{1,20})://[^\s:/@"'<>]{1,64}:([^\s:/@"'<>]{3,128})@"#),
    // The last value character may not be sentence punctuation, which
    // belongs to the surrounding prose.
    (SecretKind::GenericSecret, concat!(
        r"(?i-u:passwd|password|secret|api[_-]?key|token)", key_sep!(),
        "(", value_char!(), "]{7,}", value_char!(), ".!?:])",
    )),
];

/// The kinds whose patterns start without a literal, left out of
/// `may_match`'s regex and stood in for by cheaper necessary conditions
/// (`url_shaped`, `card_shaped`).
const UNPREFIXED: [SecretKind; 2] = [SecretKind::PaymentCard, SecretKind::UrlPassword];

/// What every text the URL-password pattern matches holds: `://` followed
/// by an `@` before any whitespace, `/`, quote or angle bracket (the user
/// and the password may hold none of them). A link without user info, the
/// common case in API responses, is not one.
fn url_shaped(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"://").any(|at| {
        let after = bytes.get(at + 3..).unwrap_or_default();
        // The pattern counts characters, up to four bytes each.
        after.iter().take(4 * 64 + 1 + 4 * 128 + 1).find(|b| {
            b.is_ascii_whitespace() || matches!(b, b'/' | b'"' | b'\'' | b'<' | b'>' | b'@')
        }) == Some(&b'@')
    })
}

/// What every text the card pattern matches holds: a run of 13 digits, or a
/// run of at least 4 digits, a space or hyphen, at least 3 digits, the same
/// separator and a digit. (The pattern's lead group is exactly 4 digits and
/// its groups 3 to 6; looser is let through, which only costs a closer
/// look. An ISO date is not card-shaped.)
///
/// Either is a stretch of at least `SHORTEST` digits, spaces and hyphens, so
/// one byte in every `SHORTEST` falls inside it: only those are looked at,
/// and only around one that is such a byte is the stretch read whole.
fn card_shaped(bytes: &[u8]) -> bool {
    const SHORTEST: usize = 10;
    let cardish = |b: &u8| b.is_ascii_digit() || matches!(b, b' ' | b'-');
    let mut at = SHORTEST - 1;
    while let Some(byte) = bytes.get(at) {
        if !cardish(byte) {
            at += SHORTEST;
            continue;
        }
        let (before, from) = bytes.split_at(at);
        let start = before
            .iter()
            .rposition(|b| !cardish(b))
            .map_or(0, |p| p + 1);
        let end = from
            .iter()
            .position(|b| !cardish(b))
            .map_or(bytes.len(), |p| at + p);
        let stretch = bytes.get(start..end).unwrap_or_default();
        if stretch.len() >= SHORTEST && card_in(stretch) {
            return true;
        }
        at = end + SHORTEST;
    }
    false
}

/// `card_shaped`'s condition, read over one stretch of digits, spaces and
/// hyphens.
fn card_in(stretch: &[u8]) -> bool {
    let digits = |from: usize| {
        stretch.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        })
    };
    let mut run = 0usize;
    for (i, byte) in stretch.iter().enumerate() {
        if byte.is_ascii_digit() {
            run += 1;
            if run >= 13 {
                return true;
            }
            continue;
        }
        let group = digits(i + 1);
        if run >= 4
            && group >= 3
            && stretch.get(i + 1 + group) == Some(byte)
            && digits(i + 2 + group) >= 1
        {
            return true;
        }
        run = 0;
    }
    false
}

/// Upper bound on capture slots, so a search can keep them on the stack and
/// the clean path never allocates.
const MAX_SLOTS: usize = 64;

/// Captures run on at most this many bytes from a match's start. Every
/// pattern with a group has a bounded prefix before its value, and only the
/// generic value is unbounded: it always runs to the match end, so a huge
/// value never costs a slow capture pass over its whole length.
const CAPTURE_WINDOW: usize = 256;

/// Compiled built-in pattern set. Build once and share: it is `Send + Sync`
/// and search scratch space is pooled per thread inside the regex.
pub struct SecretScanner {
    regex: Regex,
    /// [`SecretScanner::may_match`]'s first pass: every pattern that starts
    /// with a literal (all but the card and URL-password ones), so the
    /// regex engine's literal search skips the text between candidates
    /// instead of walking every byte through the automaton.
    prefixed: Regex,
}

impl std::fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretScanner")
            .field("patterns", &self.regex.pattern_len())
            .finish_non_exhaustive()
    }
}

impl SecretScanner {
    pub fn builtin() -> Result<Self, SecretPatternError> {
        let compile = |sources: &[&str]| {
            Regex::new_many(sources).map_err(|e| SecretPatternError::Compile(Box::new(e)))
        };
        let sources: Vec<&str> = PATTERNS.iter().map(|(_, source)| *source).collect();
        let regex = compile(&sources)?;
        let prefixed: Vec<&str> = PATTERNS
            .iter()
            .filter(|(kind, _)| !UNPREFIXED.contains(kind))
            .map(|(_, source)| *source)
            .collect();
        let prefixed = compile(&prefixed)?;
        let slots = regex.group_info().slot_len();
        if slots > MAX_SLOTS {
            return Err(SecretPatternError::TooManySlots(slots));
        }
        Ok(Self { regex, prefixed })
    }

    pub fn find(&self, text: &str) -> Vec<SecretMatch> {
        self.matches(text).collect()
    }

    /// Whether any pattern matches anywhere in `bytes`, before the checks a
    /// regex cannot express: a cheap, conservative prefilter. False means no
    /// part of `bytes` can hold a finding.
    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.prefixed.is_match(Input::new(bytes)) || url_shaped(bytes) || card_shaped(bytes)
    }

    pub fn is_clean(&self, text: &str) -> bool {
        self.matches(text).next().is_none()
    }

    /// Replaces each match with `[REDACTED:<kind name>]`; returns None when
    /// nothing matched (no allocation then), else the new text and the count.
    pub fn redact(&self, text: &str) -> Option<(String, usize)> {
        let mut matches = self.matches(text).peekable();
        matches.peek()?;
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut count = 0;
        for found in matches {
            // Ranges always fall on char boundaries; if that ever broke we
            // would drop text rather than risk copying a secret through.
            if let Some(between) = text.get(copied..found.start) {
                out.push_str(between);
            }
            out.push_str("[REDACTED:");
            out.push_str(found.kind.name());
            out.push(']');
            copied = found.end;
            count += 1;
        }
        if let Some(rest) = text.get(copied..) {
            out.push_str(rest);
        }
        Some((out, count))
    }

    fn matches<'s, 't>(&'s self, text: &'t str) -> Matches<'s, 't> {
        Matches {
            scanner: self,
            text,
            at: 0,
        }
    }

    /// Leftmost pattern match at or after `input`'s start, before any
    /// post-filtering; the range is group 1 when the pattern has one.
    fn candidate(&self, input: &Input<'_>) -> Option<(SecretKind, usize, usize)> {
        let found = self.regex.search(input)?;
        let pid = found.pattern();
        let kind = PATTERNS.get(pid.as_usize())?.0;
        let info = self.regex.group_info();
        if info.group_len(pid) < 2 {
            return Some((kind, found.start(), found.end()));
        }
        let window = found
            .end()
            .min(found.start().saturating_add(CAPTURE_WINDOW));
        let narrowed = Input::new(input.haystack())
            .range(found.start()..window)
            .anchored(Anchored::Pattern(pid));
        let mut storage = [None::<NonMaxUsize>; MAX_SLOTS];
        let slots = storage.get_mut(..info.slot_len())?;
        let value = match self.regex.search_slots(&narrowed, slots) {
            Some(_) => info.slots(pid, 1).and_then(|(s, e)| {
                Some((slots.get(s).copied()??.get(), slots.get(e).copied()??.get()))
            }),
            None => None,
        };
        // Failing to locate the value must not hide the secret: report the
        // whole match instead.
        let (start, end) = value.unwrap_or((found.start(), found.end()));
        let end = if kind == SecretKind::GenericSecret {
            found.end()
        } else {
            end
        };
        Some((kind, start, end))
    }

    /// Applies the checks a regex cannot express; None rejects the candidate.
    fn confirm(
        &self,
        text: &str,
        kind: SecretKind,
        start: usize,
        end: usize,
    ) -> Option<SecretMatch> {
        let value = text.get(start..end)?;
        let accepted = match kind {
            SecretKind::PaymentCard => is_card_number(value),
            SecretKind::GenericSecret => {
                // A known token format under a generic key keeps its specific
                // kind (so policy can tell a JWT from a password) and skips
                // the plausibility filter, which a letters-only token fails.
                let input = Input::new(text).range(start..).anchored(Anchored::Yes);
                if let Some((inner, s, e)) = self.candidate(&input)
                    && inner != SecretKind::GenericSecret
                    && let Some(found) = self.confirm(text, inner, s, e)
                {
                    let end = found.end.max(end);
                    return Some(SecretMatch { end, ..found });
                }
                is_plausible_value(value)
            }
            _ => true,
        };
        accepted.then_some(SecretMatch { kind, start, end })
    }
}

/// Lazy left-to-right iteration, so `is_clean` and a clean `redact` never
/// allocate.
struct Matches<'s, 't> {
    scanner: &'s SecretScanner,
    text: &'t str,
    at: usize,
}

impl Iterator for Matches<'_, '_> {
    type Item = SecretMatch;

    fn next(&mut self) -> Option<SecretMatch> {
        while self.at < self.text.len() {
            let input = Input::new(self.text).range(self.at..);
            let (kind, start, end) = self.scanner.candidate(&input)?;
            // Every range is non-empty and starts at or after `at`, so this
            // always advances. Resuming past a rejected candidate keeps a
            // failed card number from being re-read as a shorter one and
            // never rescans a rejected value, so scanning stays linear.
            self.at = end;
            if let Some(found) = self.scanner.confirm(self.text, kind, start, end) {
                self.at = found.end;
                return Some(found);
            }
        }
        None
    }
}

/// Digit count and Luhn checksum for a card candidate (separators ignored).
/// A run of one repeated digit is a placeholder, not a card.
fn is_card_number(candidate: &str) -> bool {
    let digits = || candidate.chars().rev().filter_map(|c| c.to_digit(10));
    let count = digits().count();
    let mut first = digits();
    let repeated = first.next().is_some_and(|d| first.all(|other| other == d));
    let sum: u32 = digits()
        .enumerate()
        .map(|(i, d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    (13..=19).contains(&count) && sum.is_multiple_of(10) && !repeated
}

/// Keeps prose ("password: required"), placeholders ("YOUR_API_KEY",
/// "********") and links ("token: https://..") from counting as secrets.
fn is_plausible_value(value: &str) -> bool {
    let wordish = value
        .bytes()
        .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-');
    let mut chars = value.chars();
    let repeated = chars.next().is_some_and(|c| chars.all(|other| other == c));
    !wordish && !repeated && !value.contains("://")
}
