use serde_json::Value;

use super::without;

/// Splices `pointers` out of `text` and checks the result parses to the
/// same value as removing them from the parsed text.
fn same_as_removing(text: &str, pointers: &[&str]) -> String {
    let owned: Vec<String> = pointers.iter().map(|p| (*p).to_owned()).collect();
    let out = without(text.as_bytes(), &owned).expect("splices");
    let got: Value = serde_json::from_slice(&out).expect("still JSON");
    let mut want: Value = serde_json::from_str(text).unwrap();
    for p in pointers {
        let (parent, last) = p.rsplit_once('/').unwrap();
        let last = last.replace("~1", "/").replace("~0", "~");
        want.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove(&last);
    }
    assert_eq!(got, want, "{text} without {pointers:?}");
    String::from_utf8(out).unwrap()
}

#[test]
fn removes_first_middle_last_and_only_members() {
    assert_eq!(
        same_as_removing(r#"{"a":1,"b":2,"c":3}"#, &["/a"]),
        r#"{"b":2,"c":3}"#
    );
    assert_eq!(
        same_as_removing(r#"{"a":1,"b":2,"c":3}"#, &["/b"]),
        r#"{"a":1,"c":3}"#
    );
    assert_eq!(
        same_as_removing(r#"{"a":1,"b":2,"c":3}"#, &["/c"]),
        r#"{"a":1,"b":2}"#
    );
    assert_eq!(same_as_removing(r#"{"a":{"x":[1]}}"#, &["/a"]), "{}");
    assert_eq!(
        same_as_removing(r#"{"a":1,"b":2,"c":3}"#, &["/a", "/c"]),
        r#"{"b":2}"#
    );
}

#[test]
fn keeps_everything_else_byte_for_byte() {
    let text = "{ \"n\" : 1.50e3 , \"s\": \"a\\u0041\\\"}]\", \"gone\": {\"k\": [1, {\"}\": \"]\"}]},\n \"t\" : [ true , null ] }";
    assert_eq!(
        same_as_removing(text, &["/gone"]),
        "{\"n\" : 1.50e3,\"s\": \"a\\u0041\\\"}]\",\"t\" : [ true , null ]}"
    );
}

#[test]
fn follows_paths_through_arrays_and_escaped_keys() {
    let text = r#"[{"id":1,"x":0},{"id":2},{"id":3,"x":{"deep":[]},"y":""}]"#;
    assert_eq!(
        same_as_removing(text, &["/0/x", "/2/x", "/2/y"]),
        r#"[{"id":1},{"id":2},{"id":3}]"#
    );
    let text = r#"{"a/b":{"c~d":1,"e":2},"q\"":{"r":1,"s":2}}"#;
    same_as_removing(text, &["/a~1b/c~0d", "/q\"/s"]);
}

#[test]
fn refuses_pointers_that_do_not_name_a_member() {
    let text = br#"{"a":[1,2],"b":"x"}"#;
    for bad in ["", "/a/0", "/b/c", "/zz/q"] {
        let out = without(text, &[bad.to_owned()]);
        assert!(bad == "/zz/q" || out.is_none(), "{bad}: {out:?}");
    }
}
