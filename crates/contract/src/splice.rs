//! Removes object members from a JSON text by copying the rest of it, so a
//! response that only lost undeclared fields is not re-encoded as a whole.
//!
//! Only for a text the strict parser has already accepted (valid, no
//! duplicate keys, bounded nesting) and pointers the strip walk reported
//! for it: the forwarded bytes then parse to exactly the validated value.
//! Anything unexpected returns `None` and the caller re-encodes instead; it
//! must never guess.

use std::borrow::Cow;
use std::collections::HashMap;

/// `body` without the members at `pointers` (JSON pointers to object
/// members), or `None` if a pointer does not lead to one.
pub fn without(body: &[u8], pointers: &[String]) -> Option<Vec<u8>> {
    let mut root = Trie::default();
    for pointer in pointers {
        let mut at = &mut root;
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            at = at.children.entry(token).or_default();
        }
        at.remove = true;
    }
    let mut text = Text { bytes: body, at: 0 };
    let mut out = Vec::with_capacity(body.len());
    text.space();
    let start = text.at;
    out.extend_from_slice(body.get(..start)?);
    text.value_along(&root, &mut out)?;
    out.extend_from_slice(body.get(text.at..)?);
    Some(out)
}

/// The removals below one position, keyed by pointer token.
#[derive(Default)]
struct Trie {
    children: HashMap<String, Trie, foldhash::fast::RandomState>,
    remove: bool,
}

struct Text<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Text<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Copies the value here to `out`, without the members `trie` removes.
    fn value_along(&mut self, trie: &Trie, out: &mut Vec<u8>) -> Option<()> {
        match self.peek()? {
            b'{' => self.object_along(trie, out),
            b'[' => self.array_along(trie, out),
            _ => None,
        }
    }

    fn object_along(&mut self, trie: &Trie, out: &mut Vec<u8>) -> Option<()> {
        self.eat(b'{')?;
        out.push(b'{');
        self.space();
        if self.peek()? == b'}' {
            self.at += 1;
            out.push(b'}');
            return Some(());
        }
        let mut first = true;
        loop {
            self.space();
            let key_start = self.at;
            self.string()?;
            let key = decode_key(self.bytes.get(key_start..self.at)?)?;
            self.eat(b':')?;
            self.space();
            let value_start = self.at;
            let entry = trie.children.get(key.as_ref());
            if entry.is_some_and(|e| e.remove) {
                self.skip()?;
            } else {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(self.bytes.get(key_start..value_start)?);
                match entry {
                    Some(e) => self.value_along(e, out)?,
                    None => {
                        self.skip()?;
                        out.extend_from_slice(self.bytes.get(value_start..self.at)?);
                    }
                }
            }
            if self.close(b'}')? {
                break;
            }
        }
        out.push(b'}');
        Some(())
    }

    fn array_along(&mut self, trie: &Trie, out: &mut Vec<u8>) -> Option<()> {
        let start = self.at;
        self.eat(b'[')?;
        self.space();
        if self.peek()? == b']' {
            self.at += 1;
            out.extend_from_slice(self.bytes.get(start..self.at)?);
            return Some(());
        }
        out.push(b'[');
        let mut index = 0usize;
        loop {
            self.space();
            let item_start = self.at;
            match trie.children.get(index.to_string().as_str()) {
                Some(e) if e.remove => return None,
                Some(e) => self.value_along(e, out)?,
                None => {
                    self.skip()?;
                    out.extend_from_slice(self.bytes.get(item_start..self.at)?);
                }
            }
            if self.close(b']')? {
                break;
            }
            out.push(b',');
            index += 1;
        }
        out.push(b']');
        Some(())
    }

    /// After a member or item: true at the container's `close`, false after
    /// a comma.
    fn close(&mut self, close: u8) -> Option<bool> {
        self.space();
        let next = self.peek()?;
        self.at += 1;
        match next {
            b',' => Some(false),
            _ if next == close => Some(true),
            _ => None,
        }
    }

    /// Steps over a string (at its opening quote).
    fn string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
    }

    /// Steps over any value.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string(),
            b'{' | b'[' => self.skip_nested(),
            // A number, `true`, `false` or `null`.
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.at += 1;
                }
                Some(())
            }
        }
    }

    /// Steps over an object or array, counting brackets outside strings.
    fn skip_nested(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.at += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }
}

/// A key's text as a pointer token names it (escapes decoded).
fn decode_key(quoted: &[u8]) -> Option<Cow<'_, str>> {
    let inner = quoted.get(1..quoted.len().checked_sub(1)?)?;
    if inner.contains(&b'\\') {
        serde_json::from_slice::<String>(quoted)
            .ok()
            .map(Cow::Owned)
    } else {
        std::str::from_utf8(inner).ok().map(Cow::Borrowed)
    }
}

#[cfg(test)]
mod tests;
