//! A JSON parser front that refuses what parsers disagree on.
//!
//! Duplicate object keys are refused (one parser keeps the first, another the
//! last, so the gateway and the upstream could validate different objects),
//! and nesting is bounded so a deeply nested body cannot exhaust the stack.
//! It must never silently pick a winner or truncate.

use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Nesting allowed in contract documents (requests use the configured limit).
const DOCUMENT_DEPTH: usize = 100;

/// Parses a whole request or response body.
pub fn parse_body(bytes: &[u8], max_depth: usize) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict {
        depth: 0,
        max_depth,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Parses a contract document given as JSON.
pub fn parse_document<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
) -> Result<Value, serde_json::Error> {
    let value = Strict {
        depth: 0,
        max_depth: DOCUMENT_DEPTH,
    }
    .deserialize(&mut *de)?;
    de.end()?;
    Ok(value)
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
    max_depth: usize,
}

impl Strict {
    fn nested<E: serde::de::Error>(self) -> Result<Self, E> {
        if self.depth >= self.max_depth {
            return Err(E::custom(format_args!(
                "nesting deeper than {} levels",
                self.max_depth
            )));
        }
        Ok(Self {
            depth: self.depth + 1,
            max_depth: self.max_depth,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(inner)?;
            // One hash per key: the entry both detects and fills.
            match object.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(taken) => {
                    return Err(A::Error::custom(format_args!(
                        "duplicate key `{}`",
                        taken.key().escape_debug()
                    )));
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ordinary_json() {
        let v = parse_body(br#"{"a":[1,2.5,"x",null,true],"b":{}}"#, 8).unwrap();
        assert_eq!(v["a"][1], 2.5);
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        let e = parse_body(br#"{"a":1,"a":2}"#, 8).unwrap_err();
        assert!(e.to_string().contains("duplicate key `a`"), "{e}");
        assert!(parse_body(br#"{"x":{"b":1,"b":1}}"#, 8).is_err());
    }

    #[test]
    fn bounds_nesting() {
        let deep = format!("{}{}", "[".repeat(9), "]".repeat(9));
        assert!(parse_body(deep.as_bytes(), 8).is_err());
        let ok = format!("{}{}", "[".repeat(8), "]".repeat(8));
        assert!(parse_body(ok.as_bytes(), 8).is_ok());
    }

    #[test]
    fn refuses_trailing_garbage() {
        assert!(parse_body(br#"{"a":1} x"#, 8).is_err());
        assert!(parse_body(b"", 8).is_err());
    }
}
