//! The line a JSON pointer names in a document's text, so a load error can
//! say `openapi.yaml:42` as well as `#/components/requestBodiez`.
//!
//! Cold path only: a document is re-read here, with positions, when there is
//! something to report, never on a load that succeeds without findings. The
//! positions are serde-saphyr's own (the parser that read the document), so
//! anchors, aliases and merge keys are followed the same way; JSON documents
//! are read the same way, JSON being YAML. A pointer that leads nowhere (a
//! missing field) is given the line of the deepest part that exists.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::error::LoadError;

/// A document's shape with the line of every key and item; scalars are not kept.
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

/// A mapping key as the loader reads it (`200` and `'200'` are both `200`).
struct Key(String);

/// Gives each error without a line the line its pointer names in its file.
pub(crate) fn lines(texts: &[(String, String)], mut errors: Vec<LoadError>) -> Vec<LoadError> {
    let mut parsed: HashMap<&str, Option<Spanned<Node>>> = HashMap::new();
    for e in &mut errors {
        if e.line().is_some() {
            continue;
        }
        let Some((file, text)) = texts.iter().find(|(f, _)| f == e.file()) else {
            continue;
        };
        let root = parsed
            .entry(file.as_str())
            .or_insert_with(|| serde_saphyr::from_str::<Spanned<Node>>(text).ok());
        if let Some(line) = root.as_ref().and_then(|r| line_of(r, e.pointer())) {
            *e = e.clone().with_line(line);
        }
    }
    errors
}

/// The line of the value at `pointer`: for an object member, the line of its
/// key; for a missing part, the line of the deepest part that exists.
fn line_of(root: &Spanned<Node>, pointer: &str) -> Option<u64> {
    let mut node = root;
    let mut line = root.referenced.line();
    let tokens = pointer.split('/').skip(1).map(unescape);
    for token in tokens {
        let next = match &node.value {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value.0 == token)
                .map(|(k, v)| {
                    // A key written on its own line names the place best.
                    (k.referenced.line(), v)
                }),
            Node::Seq(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|v| (v.referenced.line(), v)),
            Node::Leaf => None,
        };
        match next {
            Some((at, child)) => {
                line = at;
                node = child;
            }
            None => break,
        }
    }
    (line > 0).then_some(line)
}

/// Undoes RFC 6901 escaping of one reference token.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Spanned<Key>, Spanned<Node>>()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, pointer: &str) -> Option<u64> {
        let root = serde_saphyr::from_str::<Spanned<Node>>(text).unwrap();
        line_of(&root, pointer)
    }

    const DOC: &str = "openapi: 3.0.3\ninfo:\n  title: t\n  version: '1'\npaths:\n  /a/{id}:\n    get:\n      parameters:\n        - name: id\n          in: path\n        - {name: q, in: query}\n      responses:\n        200:\n          description: ok\n";

    #[test]
    fn pointers_name_the_line_of_their_key_or_item() {
        assert_eq!(line(DOC, ""), Some(1));
        assert_eq!(line(DOC, "/info"), Some(2));
        assert_eq!(line(DOC, "/info/version"), Some(4));
        assert_eq!(line(DOC, "/paths/~1a~1{id}/get"), Some(7));
        assert_eq!(line(DOC, "/paths/~1a~1{id}/get/parameters/0/in"), Some(10));
        assert_eq!(line(DOC, "/paths/~1a~1{id}/get/parameters/1"), Some(11));
        assert_eq!(
            line(DOC, "/paths/~1a~1{id}/get/responses/200/description"),
            Some(14)
        );
    }

    #[test]
    fn a_missing_part_is_located_at_the_deepest_existing_one() {
        assert_eq!(line(DOC, "/info/contact/email"), Some(2));
        assert_eq!(line(DOC, "/paths/~1a~1{id}/get/parameters/7"), Some(8));
    }

    #[test]
    fn json_documents_are_located_too() {
        let json = "{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {\n    \"/x\": {}\n  }\n}\n";
        assert_eq!(line(json, "/paths/~1x"), Some(4));
    }

    #[test]
    fn aliases_are_located_where_they_are_used() {
        let doc = "a: &x\n  k: 1\nb: *x\n";
        assert_eq!(line(doc, "/b/k"), Some(3));
    }
}
