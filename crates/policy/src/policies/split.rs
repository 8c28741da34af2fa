//! Splits a policy file into one text per policy, keeping each one's offset,
//! so every policy gets its own id and line and one syntax error does not
//! hide the policies around it.
//!
//! A Cedar policy ends at a `;` outside string literals and `//` comments;
//! nothing else in the grammar contains a `;`, so this scan finds exactly
//! Cedar's policy boundaries. Text it cannot split (an unterminated string)
//! stays in one piece and Cedar reports it.

/// One policy's text within its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece<'a> {
    /// From just after the previous policy's `;` through this one's `;`.
    pub(crate) text: &'a str,
    /// Byte offset of `text` in the file.
    pub(crate) start: usize,
    /// Byte offset in the file of the policy's first token (its first
    /// annotation or its effect), past blank space and comments.
    pub(crate) first_token: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Str,
    Escape,
    Comment,
}

/// The pieces of `file`, in order; blank space and comments after the last
/// `;` are not a piece, any other trailing text is.
pub(crate) fn split(file: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut state = State::Code;
    let mut start = 0;
    let mut first_token = None;
    let bytes = file.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (state, b) {
            (State::Code, b'/') if bytes.get(i + 1) == Some(&b'/') => state = State::Comment,
            (State::Code, b';') => {
                let token = first_token.take().unwrap_or(i);
                pieces.push(piece(file, start, i + 1, token));
                start = i + 1;
            }
            (State::Code, b) => {
                if !b.is_ascii_whitespace() && first_token.is_none() {
                    first_token = Some(i);
                }
                if b == b'"' {
                    state = State::Str;
                }
            }
            (State::Str, b'\\') => state = State::Escape,
            (State::Str, b'"') | (State::Escape, _) => {
                state = if state == State::Escape {
                    State::Str
                } else {
                    State::Code
                };
            }
            (State::Comment, b'\n') => state = State::Code,
            (State::Str | State::Comment, _) => {}
        }
        i += 1;
    }
    if let Some(token) = first_token {
        pieces.push(piece(file, start, file.len(), token));
    }
    pieces
}

fn piece(file: &str, start: usize, end: usize, first_token: usize) -> Piece<'_> {
    Piece {
        // Offsets are at ASCII bytes (`;`) or the ends, so always boundaries.
        text: file.get(start..end).unwrap_or(""),
        start,
        first_token,
    }
}

/// One-based line of a byte offset in `file`.
pub(crate) fn line_of(file: &str, offset: usize) -> u32 {
    let before = file.get(..offset.min(file.len())).unwrap_or(file);
    let newlines = before.bytes().filter(|b| *b == b'\n').count();
    u32::try_from(newlines).map_or(u32::MAX, |n| n.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(file: &str) -> Vec<(&str, u32)> {
        split(file)
            .into_iter()
            .map(|p| (p.text.trim(), line_of(file, p.first_token)))
            .collect()
    }

    #[test]
    fn splits_at_semicolons_outside_strings_and_comments() {
        let file = "// a; comment\npermit(principal, action, resource)\n  when { context.ip == \"a;\\\"b\" };\n\n@id(\"x;y\")\nforbid(principal, action, resource);\n// trailing;\n";
        assert_eq!(
            texts(file),
            vec![
                (
                    "// a; comment\npermit(principal, action, resource)\n  when { context.ip == \"a;\\\"b\" };",
                    2
                ),
                ("@id(\"x;y\")\nforbid(principal, action, resource);", 5),
            ]
        );
    }

    #[test]
    fn keeps_unterminated_text_as_a_piece() {
        assert_eq!(
            texts("permit(principal, action, resource);\npermit(principal"),
            vec![
                ("permit(principal, action, resource);", 1),
                ("permit(principal", 2)
            ]
        );
        assert_eq!(texts("  \n// only a comment\n"), vec![]);
    }
}
