use portcullis_core::ProblemCode;
use serde::Deserialize;

use super::decode;
use crate::refusal::Refusal;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "only decoding is tested")]
struct Body {
    name: String,
    ttl_secs: i64,
    #[serde(default)]
    label: Option<String>,
}

fn pointers(r: &Refusal) -> Vec<(String, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(&r.clone().render("r").into_body_bytes()).unwrap();
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

trait BodyBytes {
    fn into_body_bytes(self) -> Vec<u8>;
}

impl BodyBytes for axum::response::Response {
    fn into_body_bytes(self) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(axum::body::to_bytes(self.into_body(), usize::MAX))
            .unwrap()
            .to_vec()
    }
}

#[test]
fn a_good_body_decodes() {
    assert!(decode::<Body>(br#"{"name": "a", "ttl_secs": 5}"#).is_ok());
}

#[test]
fn every_bad_member_is_located() {
    let r = decode::<Body>(br#"{"name": 5, "ttl_secs": "x", "extra": true, "label": "ok"}"#)
        .unwrap_err();
    assert_eq!(r.code(), ProblemCode::InvalidRequest);
    let found = pointers(&r);
    let mut at: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    at.sort_unstable();
    assert_eq!(at, ["/body/extra", "/body/name", "/body/ttl_secs"]);
    let ttl = &found.iter().find(|(p, _)| p == "/body/ttl_secs").unwrap().1;
    assert!(ttl.contains("expected an integer"), "{ttl}");
    assert!(!found.iter().any(|(_, m)| m.contains("i64")));
}

#[test]
fn a_missing_field_is_named() {
    let r = decode::<Body>(br#"{"name": "a"}"#).unwrap_err();
    assert_eq!(pointers(&r)[0].0, "/body/ttl_secs");
}

#[test]
fn not_json_or_not_an_object_is_the_whole_body() {
    for bad in [&b"{"[..], b"[1]", b"\"x\"", b"{\"a\":1,}"] {
        let r = decode::<Body>(bad).unwrap_err();
        assert_eq!(pointers(&r)[0].0, "/body", "{bad:?}");
    }
}

#[test]
fn pointer_tokens_are_escaped() {
    let r = decode::<Body>(br#"{"name": "a", "ttl_secs": 1, "a/b~c": 1}"#).unwrap_err();
    assert_eq!(pointers(&r)[0].0, "/body/a~1b~0c");
}
