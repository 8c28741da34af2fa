//! A short string that a schema's `pattern` matches, read off the regex's
//! syntax tree: the first branch of each alternation, each repetition's
//! minimum, a readable character from each class. JSON Schema patterns are
//! unanchored, so the result may be padded at the end to reach `minLength`
//! as long as the pattern still matches; every candidate is checked with the
//! compiled regex, and a pattern this cannot satisfy is said to be so.

use regex_automata::meta::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};

/// Why no string could be made for a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("pattern `{0}` does not compile: {1}")]
    Compile(String, String),
    #[error("no string of length {min}..={max} found for pattern `{pattern}`")]
    NoCandidate {
        pattern: String,
        min: usize,
        max: usize,
    },
}

/// A string matching `pattern`, with a length (in characters) in
/// `min..=max`.
///
/// # Errors
/// The pattern does not compile, or no candidate fits.
pub fn matching(pattern: &str, min: usize, max: usize) -> Result<String, PatternError> {
    let compile = |e: String| PatternError::Compile(pattern.to_owned(), e);
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| compile(e.to_string()))?;
    let regex = Regex::new(pattern).map_err(|e| compile(e.to_string()))?;
    let mut base = String::new();
    shortest(&hir, &mut base);
    let fits = |s: &str| {
        let n = s.chars().count();
        n >= min && n <= max && regex.is_match(s)
    };
    if fits(&base) {
        return Ok(base);
    }
    // Too short: pad at the end, then at the start (a `$` anchor refuses
    // the first, a `^` the second).
    let need = min.saturating_sub(base.chars().count());
    let pad = "a".repeat(need);
    for candidate in [format!("{base}{pad}"), format!("{pad}{base}")] {
        if fits(&candidate) {
            return Ok(candidate);
        }
    }
    Err(PatternError::NoCandidate {
        pattern: pattern.to_owned(),
        min,
        max,
    })
}

fn shortest(hir: &Hir, out: &mut String) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.push_str(&String::from_utf8_lossy(&literal.0)),
        HirKind::Class(class) => {
            if let Some(c) = readable(class) {
                out.push(c);
            }
        }
        HirKind::Repetition(repetition) => {
            for _ in 0..repetition.min {
                shortest(&repetition.sub, out);
            }
        }
        HirKind::Capture(capture) => shortest(&capture.sub, out),
        HirKind::Concat(parts) => parts.iter().for_each(|p| shortest(p, out)),
        HirKind::Alternation(branches) => {
            if let Some(first) = branches.first() {
                shortest(first, out);
            }
        }
    }
}

/// A character of the class, a letter or digit when it has one, so the
/// generated value reads well in a report and survives a URL path.
fn readable(class: &Class) -> Option<char> {
    let preferred = ('a'..='z')
        .chain('0'..='9')
        .chain('A'..='Z')
        .chain(['-', '_', '.']);
    match class {
        Class::Unicode(set) => {
            let contains = |c: char| set.ranges().iter().any(|r| r.start() <= c && c <= r.end());
            let mut preferred = preferred;
            preferred.find(|c| contains(*c)).or_else(|| {
                set.ranges()
                    .iter()
                    .map(|r| r.start())
                    .find(|c| !c.is_control())
            })
        }
        Class::Bytes(set) => {
            let contains = |c: char| {
                u8::try_from(u32::from(c))
                    .is_ok_and(|b| set.ranges().iter().any(|r| r.start() <= b && b <= r.end()))
            };
            let mut preferred = preferred;
            preferred.find(|c| contains(*c))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a missing value should fail the test"
    )]
    use super::*;

    #[test]
    fn common_patterns() {
        let cases = [
            ("^WID-[0-9]{4}$", "WID-0000"),
            ("^[a-z][a-z0-9-]{2,30}$", "aaa"),
            ("^(EUR|USD)$", "EUR"),
            ("^\\d+$", "0"),
            ("[A-Z]{2}", "AA"),
        ];
        for (pattern, expected) in cases {
            assert_eq!(matching(pattern, 0, 100).unwrap(), expected, "{pattern}");
        }
    }

    #[test]
    fn lengths_are_met_by_padding_where_the_pattern_allows() {
        assert_eq!(matching("^ab", 5, 10).unwrap(), "abaaa");
        assert_eq!(matching("b$", 3, 10).unwrap(), "aab");
        assert!(matches!(
            matching("^ab$", 5, 10),
            Err(PatternError::NoCandidate { .. })
        ));
        assert!(matches!(
            matching("(", 0, 10),
            Err(PatternError::Compile(..))
        ));
    }

    proptest::proptest! {
        #[test]
        fn whatever_is_returned_matches(pattern in "[a-c0-9\\[\\]^$|()*+?{}.-]{0,12}") {
            if let Ok(s) = matching(&pattern, 0, 64) {
                let regex = Regex::new(&pattern).unwrap();
                proptest::prop_assert!(regex.is_match(&s));
            }
        }
    }
}
