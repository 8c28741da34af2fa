//! Canonical-path gate for request targets.
//!
//! Portcullis matches the API contract against the very bytes it forwards, while upstreams
//! decode leniently (`%2F` read as `/`, dot segments resolved, `;` taken as a parameter
//! separator, ...). Any path with more than one plausible reading could be checked as one
//! route and served as another, so only paths already in the single canonical spelling are
//! accepted, and anything else is refused with the offset and kind of its first flaw.
//!
//! This module must never rewrite, normalise or "repair" a path: a repaired path is not the
//! path the client sent, and forwarding it would hide the attempt instead of refusing it.
//! [`check_path`] is on the hot path, so it works in one pass and never allocates or panics.

use std::borrow::Cow;
use std::fmt;

#[cfg(test)]
mod tests;

/// Why a request path is not canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFlaw {
    /// Empty, or not starting with `/`.
    NotAbsolute,
    /// `//`: servers disagree on whether it collapses into one separator.
    EmptySegment,
    /// A segment that is exactly `.` or `..`, which upstreams resolve away.
    DotSegment,
    /// A raw byte outside the canonical path alphabet (space, `;`, `\`, `#`, `?`, controls,
    /// non-ASCII, `"<>^`{|}`...).
    DisallowedByte,
    /// `%` not followed by two hex digits.
    BadPercentEncoding,
    /// `%2f` rather than `%2F`.
    LowercaseHex,
    /// An unreserved character (`A-Z a-z 0-9 - . _ ~`) written as `%XX`.
    EncodedUnreserved,
    /// An encoded `/`, `\`, `;`, `?`, `#` or `%`: separator smuggling and double encoding.
    EncodedDelimiter,
    /// An encoded control byte (`%00`-`%1F`, `%7F`).
    EncodedControl,
    /// Percent-encoded bytes of 0x80 and above that are not well-formed UTF-8 (including
    /// overlong forms and surrogates).
    InvalidUtf8,
}

impl PathFlaw {
    /// Short lowercase description, suitable for logs and error bodies.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotAbsolute => "missing leading slash",
            Self::EmptySegment => "empty segment",
            Self::DotSegment => "dot segment",
            Self::DisallowedByte => "disallowed byte",
            Self::BadPercentEncoding => "malformed percent-encoding",
            Self::LowercaseHex => "lowercase hex in percent-encoding",
            Self::EncodedUnreserved => "percent-encoded unreserved character",
            Self::EncodedDelimiter => "percent-encoded delimiter",
            Self::EncodedControl => "percent-encoded control byte",
            Self::InvalidUtf8 => "percent-encoded bytes are not valid utf-8",
        }
    }
}

impl fmt::Display for PathFlaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request path: where its first flaw starts and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("path is not canonical at byte {offset}: {reason}")]
pub struct NonCanonicalPath {
    offset: usize,
    reason: PathFlaw,
}

impl NonCanonicalPath {
    /// Byte offset of the first flaw. For percent-encoding flaws this is the `%` of the
    /// offending triplet (for [`PathFlaw::InvalidUtf8`], of the character's first byte); for
    /// [`PathFlaw::DotSegment`] the segment's first byte; for [`PathFlaw::EmptySegment`] the
    /// second `/`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn reason(&self) -> PathFlaw {
        self.reason
    }
}

fn refuse(offset: usize, reason: PathFlaw) -> Result<(), NonCanonicalPath> {
    Err(NonCanonicalPath { offset, reason })
}

/// A multi-byte UTF-8 character whose percent-encoded bytes are still arriving.
struct PendingChar {
    start: usize,
    bytes: [u8; 4],
    len: usize,
    need: usize,
    /// A lowercase continuation byte is only the first flaw if the character turns out to be
    /// valid UTF-8; otherwise the character's own start, which is earlier, wins.
    lowercase_at: Option<usize>,
}

/// Checks the raw path of a request target (everything before the first `?`).
///
/// Accepts only the canonical spelling; on refusal reports the flaw with the smallest offset
/// (ties go to the flaw of the triplet itself, e.g. `%c0` is [`PathFlaw::LowercaseHex`]).
pub fn check_path(raw: &[u8]) -> Result<(), NonCanonicalPath> {
    if raw.first() != Some(&b'/') {
        return refuse(0, PathFlaw::NotAbsolute);
    }
    let mut segment_start = 1;
    let mut pending: Option<PendingChar> = None;
    let mut i = 1;
    while let Some(&byte) = raw.get(i) {
        if byte != b'%' {
            // Anything but another encoded byte cuts a multi-byte character short.
            if let Some(ch) = &pending {
                return refuse(ch.start, PathFlaw::InvalidUtf8);
            }
            if byte == b'/' {
                if i == segment_start {
                    return refuse(i, PathFlaw::EmptySegment);
                }
                check_dot_segment(raw, segment_start, i)?;
                segment_start = i + 1;
            } else if !is_allowed_raw(byte) {
                return refuse(i, PathFlaw::DisallowedByte);
            }
            i += 1;
            continue;
        }
        let triplet = hex_digit(raw.get(i + 1)).zip(hex_digit(raw.get(i + 2)));
        let Some(((hi, hi_lower), (lo, lo_lower))) = triplet else {
            return match pending {
                Some(ch) => refuse(ch.start, PathFlaw::InvalidUtf8),
                None => refuse(i, PathFlaw::BadPercentEncoding),
            };
        };
        let value = (hi << 4) | lo;
        let lowercase = hi_lower || lo_lower;
        match pending.as_mut() {
            Some(ch) if (0x80..=0xBF).contains(&value) => {
                if lowercase {
                    ch.lowercase_at.get_or_insert(i);
                }
                if let Some(slot) = ch.bytes.get_mut(ch.len) {
                    *slot = value;
                }
                ch.len += 1;
                if ch.len >= ch.need {
                    // from_utf8 is what rejects overlong forms, surrogates and > U+10FFFF.
                    match ch.bytes.get(..ch.len).map(std::str::from_utf8) {
                        Some(Ok(_)) => {
                            if let Some(at) = ch.lowercase_at {
                                return refuse(at, PathFlaw::LowercaseHex);
                            }
                        }
                        _ => return refuse(ch.start, PathFlaw::InvalidUtf8),
                    }
                    pending = None;
                }
            }
            Some(ch) => return refuse(ch.start, PathFlaw::InvalidUtf8),
            None if lowercase => return refuse(i, PathFlaw::LowercaseHex),
            None if value >= 0x80 => match utf8_len(value) {
                Some(need) => {
                    pending = Some(PendingChar {
                        start: i,
                        bytes: [value, 0, 0, 0],
                        len: 1,
                        need,
                        lowercase_at: None,
                    });
                }
                None => return refuse(i, PathFlaw::InvalidUtf8),
            },
            None => {
                if let Some(flaw) = encoded_ascii_flaw(value) {
                    return refuse(i, flaw);
                }
            }
        }
        i += 3;
    }
    if let Some(ch) = pending {
        return refuse(ch.start, PathFlaw::InvalidUtf8);
    }
    // A final empty segment is the root or a trailing slash, both of which are canonical.
    check_dot_segment(raw, segment_start, raw.len())
}

/// Percent-decodes one path segment or parameter value that [`check_path`] already accepted.
///
/// Returns `None` if the bytes are not valid percent-encoding of UTF-8; never panics. `+`
/// stays `+`: plus-as-space belongs to form encoding of queries, not to paths. Lowercase hex
/// is decoded too, but only [`check_path`] decides whether a path is acceptable.
pub fn decode_segment(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('%') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let (hi, _) = hex_digit(bytes.next().as_ref())?;
            let (lo, _) = hex_digit(bytes.next().as_ref())?;
            out.push((hi << 4) | lo);
        } else {
            out.push(byte);
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn check_dot_segment(raw: &[u8], start: usize, end: usize) -> Result<(), NonCanonicalPath> {
    match raw.get(start..end) {
        Some(b"." | b"..") => refuse(start, PathFlaw::DotSegment),
        _ => Ok(()),
    }
}

/// Hex value of a digit, and whether it was a lowercase letter.
fn hex_digit(byte: Option<&u8>) -> Option<(u8, bool)> {
    match *byte? {
        b @ b'0'..=b'9' => Some((b - b'0', false)),
        b @ b'A'..=b'F' => Some((b - b'A' + 10, false)),
        b @ b'a'..=b'f' => Some((b - b'a' + 10, true)),
        _ => None,
    }
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// `/` and `%` are structural and handled by the caller. `;` is left out on purpose: servers
/// disagree on whether `/admin;x=1` names `/admin`.
fn is_allowed_raw(byte: u8) -> bool {
    is_unreserved(byte)
        || matches!(
            byte,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
        )
}

fn encoded_ascii_flaw(value: u8) -> Option<PathFlaw> {
    if is_unreserved(value) {
        // Equivalent to the raw character, so two spellings would match one route.
        Some(PathFlaw::EncodedUnreserved)
    } else if matches!(value, b'/' | b'\\' | b'%' | b';' | b'?' | b'#') {
        // A lenient upstream would split, truncate or decode again where we did not.
        Some(PathFlaw::EncodedDelimiter)
    } else if value.is_ascii_control() {
        Some(PathFlaw::EncodedControl)
    } else {
        None
    }
}

/// Length of the UTF-8 sequence a lead byte announces; `None` for bytes that can never lead
/// (continuations, the overlong-only 0xC0/0xC1, and 0xF5 and above).
fn utf8_len(lead: u8) -> Option<usize> {
    match lead {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}
