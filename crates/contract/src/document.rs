//! Contract documents as JSON values, and `$ref` resolution across them.
//!
//! A contract is one root document plus any documents beside it that its
//! `$ref`s name. Reading those files is not this crate's job: a [`Source`]
//! supplied by the caller does it, so loading stays pure and testable.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::LoadError;

/// Reads the text of a document named relative to the root's folder.
pub trait Source {
    /// Returns the text of `path` (always a normalised relative path such as
    /// `orders.yaml` or `shared/common.yaml`).
    fn read(&self, path: &str) -> Result<String, String>;
}

/// The documents of one contract, parsed once.
#[derive(Debug)]
pub struct Documents {
    docs: HashMap<String, Value>,
    texts: Vec<(String, String)>,
}

/// A location inside the documents: file plus JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: String,
    pub pointer: String,
}

impl Loc {
    pub fn new(file: &str, pointer: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            pointer: pointer.into(),
        }
    }

    /// The location of a child of this one.
    pub fn child(&self, token: &str) -> Self {
        Self {
            file: self.file.clone(),
            pointer: format!("{}/{}", self.pointer, escape_token(token)),
        }
    }

    pub fn error(&self, message: impl Into<String>) -> LoadError {
        LoadError::at(&self.file, &self.pointer, message)
    }
}

/// Deepest chain of `$ref` to `$ref` followed before giving up.
const MAX_REF_HOPS: usize = 32;

impl Documents {
    /// Parses the root document; sibling documents are read on first reference.
    pub fn load(root: &str, source: &dyn Source) -> Result<Self, LoadError> {
        let mut docs = Self {
            docs: HashMap::new(),
            texts: Vec::new(),
        };
        docs.ensure(root, source)?;
        Ok(docs)
    }

    /// The raw texts read, in order, for hashing the contract's version.
    pub fn texts(&self) -> &[(String, String)] {
        &self.texts
    }

    pub fn get(&self, file: &str) -> Option<&Value> {
        self.docs.get(file)
    }

    fn ensure(&mut self, file: &str, source: &dyn Source) -> Result<(), LoadError> {
        if self.docs.contains_key(file) {
            return Ok(());
        }
        let text = source
            .read(file)
            .map_err(|e| LoadError::at(file, "", format!("cannot read: {e}")))?;
        let value = parse_text(file, &text)?;
        self.texts.push((file.to_owned(), text));
        self.docs.insert(file.to_owned(), value);
        Ok(())
    }

    /// Follows `$ref`s from `at` until a non-reference value, reading sibling
    /// documents as needed. Returns the final location and its value.
    pub fn deref(
        &mut self,
        at: &Loc,
        value: &Value,
        source: &dyn Source,
    ) -> Result<(Loc, Value), LoadError> {
        let mut loc = at.clone();
        let mut current = value.clone();
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = ref_of(&current) else {
                return Ok((loc, current));
            };
            let target = self.resolve(&loc, reference, source)?;
            current = self.value_at(&target)?.clone();
            loc = target;
        }
        Err(loc.error(format!("more than {MAX_REF_HOPS} chained `$ref`s")))
    }

    /// Resolves a `$ref` string written at `from` to the location it names,
    /// reading the target document if it is a sibling file.
    pub fn resolve(
        &mut self,
        from: &Loc,
        reference: &str,
        source: &dyn Source,
    ) -> Result<Loc, LoadError> {
        let (file_part, pointer) = match reference.split_once('#') {
            Some((f, p)) => (f, p),
            None => (reference, ""),
        };
        if file_part.contains("://") || file_part.starts_with('/') {
            return Err(from.error(format!(
                "`$ref` to `{reference}`: only references inside the contract or to files beside it are supported"
            )));
        }
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(from.error(format!(
                "`$ref` to `{reference}`: anchors are not supported, use a JSON pointer"
            )));
        }
        let file = if file_part.is_empty() {
            from.file.clone()
        } else {
            join_relative(&from.file, file_part).ok_or_else(|| {
                from.error(format!(
                    "`$ref` to `{reference}` leaves the contract's folder"
                ))
            })?
        };
        self.ensure(&file, source)
            .map_err(|e| from.error(format!("`$ref` to `{reference}`: {}", e.message())))?;
        let target = Loc::new(&file, decode_pointer_percent(pointer));
        self.value_at(&target)
            .map_err(|_| from.error(format!("`$ref` to `{reference}` points at nothing")))?;
        Ok(target)
    }

    /// The value at a location.
    pub fn value_at(&self, loc: &Loc) -> Result<&Value, LoadError> {
        self.docs
            .get(&loc.file)
            .and_then(|doc| doc.pointer(&loc.pointer))
            .ok_or_else(|| loc.error("nothing at this location"))
    }
}

/// The `$ref` string of a value, if it is a reference object.
pub fn ref_of(value: &Value) -> Option<&str> {
    value.as_object()?.get("$ref")?.as_str()
}

/// Parses YAML or JSON by file extension (anything not `.json` is read as YAML,
/// which also accepts JSON).
pub fn parse_text(file: &str, text: &str) -> Result<Value, LoadError> {
    if file.ends_with(".json") {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = crate::strict_json::parse_document(&mut de).map_err(|e| {
            LoadError::at(file, "", format!("invalid JSON: {e}"))
                .with_line(u64::try_from(e.line()).unwrap_or(0))
        })?;
        return Ok(value);
    }
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        let (line, message) = describe_yaml_error(&e);
        LoadError::at(file, "", format!("invalid YAML: {message}")).with_line(line)
    })
}

/// The line of a YAML error and its message without the renderer's prefixes.
pub fn describe_yaml_error(e: &serde_saphyr::Error) -> (u64, String) {
    let line = e.location().map(|l| l.line()).unwrap_or(0);
    let rendered = e.to_string();
    let first = rendered.lines().next().unwrap_or("invalid YAML");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 3 column 5: message": the line is reported separately.
    let message = match first.split_once(": ") {
        Some((position, rest)) if position.starts_with("line ") => rest,
        _ => first,
    };
    (line, message.to_owned())
}

/// Joins a relative reference onto the folder of `from`, refusing to climb out
/// of the contract's root folder.
fn join_relative(from: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Escapes one JSON pointer reference token (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `$ref` pointers inside a URI fragment may be percent-encoded (`%7B` for `{`).
fn decode_pointer_percent(pointer: &str) -> String {
    if !pointer.contains('%') {
        return pointer.to_owned();
    }
    let bytes = pointer.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| pointer.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Files(Vec<(&'static str, &'static str)>);
    impl Source for Files {
        fn read(&self, path: &str) -> Result<String, String> {
            self.0
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| t.to_string())
                .ok_or_else(|| "no such file".to_string())
        }
    }

    #[test]
    fn follows_refs_into_sibling_files() {
        let files = Files(vec![
            ("api/root.yaml", "a: {$ref: 'common/defs.yaml#/b'}\n"),
            ("api/common/defs.yaml", "b: {$ref: '#/c'}\nc: 42\n"),
        ]);
        let mut docs = Documents::load("api/root.yaml", &files).unwrap();
        let at = Loc::new("api/root.yaml", "/a");
        let v = docs.value_at(&at).unwrap().clone();
        let (loc, value) = docs.deref(&at, &v, &files).unwrap();
        assert_eq!(value, serde_json::json!(42));
        assert_eq!(loc, Loc::new("api/common/defs.yaml", "/c"));
    }

    #[test]
    fn refuses_remote_and_escaping_refs() {
        let files = Files(vec![("r.yaml", "a: 1\n")]);
        let mut docs = Documents::load("r.yaml", &files).unwrap();
        let at = Loc::new("r.yaml", "/a");
        assert!(
            docs.resolve(&at, "https://example.com/x.yaml", &files)
                .is_err()
        );
        assert!(docs.resolve(&at, "../x.yaml#/a", &files).is_err());
        assert!(docs.resolve(&at, "#/missing", &files).is_err());
    }

    #[test]
    fn reference_cycles_are_an_error_not_a_hang() {
        let files = Files(vec![("r.yaml", "a: {$ref: '#/b'}\nb: {$ref: '#/a'}\n")]);
        let mut docs = Documents::load("r.yaml", &files).unwrap();
        let at = Loc::new("r.yaml", "/a");
        let v = docs.value_at(&at).unwrap().clone();
        assert!(docs.deref(&at, &v, &files).is_err());
    }

    #[test]
    fn yaml_integer_keys_become_strings() {
        let v = parse_text("x.yaml", "responses:\n  200: {description: ok}\n").unwrap();
        assert!(v.pointer("/responses/200").is_some());
    }
}
