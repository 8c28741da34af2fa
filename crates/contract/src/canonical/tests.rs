#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use super::*;
use PathFlaw::*;
use proptest::prelude::*;

fn flaw(path: &[u8]) -> Option<(PathFlaw, usize)> {
    check_path(path).err().map(|e| (e.reason(), e.offset()))
}

#[test]
fn refuses_each_flaw_at_its_offset() {
    let cases: &[(&[u8], PathFlaw, usize)] = &[
        (b"", NotAbsolute, 0),
        (b"a/b", NotAbsolute, 0),
        (b"\0/", NotAbsolute, 0),
        (b"%2F", NotAbsolute, 0),
        (b"//a", EmptySegment, 1),
        (b"//", EmptySegment, 1),
        (b"/a//b", EmptySegment, 3),
        (b"/a/b//", EmptySegment, 5),
        (b"/./a", DotSegment, 1),
        (b"/.", DotSegment, 1),
        (b"/..", DotSegment, 1),
        (b"/a/../b", DotSegment, 3),
        (b"/a/..", DotSegment, 3),
        (b"/a/.", DotSegment, 3),
        (b"/a/./", DotSegment, 3),
        (b"/..//", DotSegment, 1),
        (b"/a\\b", DisallowedByte, 2),
        (b"/a;x=1", DisallowedByte, 2),
        (b"/caf\xC3\xA9", DisallowedByte, 4),
        (b"/a b", DisallowedByte, 2),
        (b"/a#b", DisallowedByte, 2),
        (b"/a?b", DisallowedByte, 2),
        (b"/a\0", DisallowedByte, 2),
        (b"/a\x7F", DisallowedByte, 2),
        (b"/a\tb", DisallowedByte, 2),
        (b"/a\"b", DisallowedByte, 2),
        (b"/a<b>", DisallowedByte, 2),
        (b"/a^b", DisallowedByte, 2),
        (b"/a`b", DisallowedByte, 2),
        (b"/a{b", DisallowedByte, 2),
        (b"/a|b", DisallowedByte, 2),
        (b"/a}b", DisallowedByte, 2),
        (b"/a[0]", DisallowedByte, 2),
        (b"/a%", BadPercentEncoding, 2),
        (b"/a%2", BadPercentEncoding, 2),
        (b"/a%G1", BadPercentEncoding, 2),
        (b"/a%1G", BadPercentEncoding, 2),
        (b"/a%/b", BadPercentEncoding, 2),
        (b"/%2e%2e/x", LowercaseHex, 1),
        (b"/a%2fb", LowercaseHex, 2),
        (b"/%5f", LowercaseHex, 1),
        (b"/a%c3%a9", LowercaseHex, 2),
        (b"/a%C3%a9", LowercaseHex, 5),
        (b"/a%E2%82%ac", LowercaseHex, 8),
        (b"/a%c0%AF", LowercaseHex, 2),
        (b"/%2E/", EncodedUnreserved, 1),
        (b"/%2E%2E/x", EncodedUnreserved, 1),
        (b"/%5F", EncodedUnreserved, 1),
        (b"/%64ebug", EncodedUnreserved, 1),
        (b"/%41", EncodedUnreserved, 1),
        (b"/%7E", EncodedUnreserved, 1),
        (b"/%2D", EncodedUnreserved, 1),
        (b"/a%2Fb", EncodedDelimiter, 2),
        (b"/a%5Cb", EncodedDelimiter, 2),
        (b"/a%3Bb", EncodedDelimiter, 2),
        (b"/a%252F", EncodedDelimiter, 2),
        (b"/a%3F", EncodedDelimiter, 2),
        (b"/a%23", EncodedDelimiter, 2),
        (b"/a%00", EncodedControl, 2),
        (b"/a%0A", EncodedControl, 2),
        (b"/a%1F", EncodedControl, 2),
        (b"/a%7F", EncodedControl, 2),
        (b"/a%C0%AF", InvalidUtf8, 2),
        (b"/a%ED%A0%80", InvalidUtf8, 2),
        (b"/a%E0%80%AF", InvalidUtf8, 2),
        (b"/a%F0%80%80%AF", InvalidUtf8, 2),
        (b"/a%F4%90%80%80", InvalidUtf8, 2),
        (b"/a%F8%88%80%80%80", InvalidUtf8, 2),
        (b"/a%80", InvalidUtf8, 2),
        (b"/a%FF", InvalidUtf8, 2),
        (b"/a%C3", InvalidUtf8, 2),
        (b"/a%C3/b", InvalidUtf8, 2),
        (b"/a%C3b", InvalidUtf8, 2),
        (b"/a%C3%41", InvalidUtf8, 2),
        (b"/a%C3%G1", InvalidUtf8, 2),
        (b"/a%E2%8a%41", InvalidUtf8, 2),
        (b"/a%C3%A9%80", InvalidUtf8, 8),
        (b"/a%C3%A9%A9", InvalidUtf8, 8),
        (b"/a%E2%82", InvalidUtf8, 2),
    ];
    for &(path, reason, offset) in cases {
        assert_eq!(
            flaw(path),
            Some((reason, offset)),
            "{:?}",
            String::from_utf8_lossy(path)
        );
    }
}

#[test]
fn accepts_canonical_paths() {
    let cases: &[&str] = &[
        "/",
        "/orders",
        "/orders/",
        "/v1/orders/123e4567-e89b-12d3-a456-426614174000",
        "/a/b.c/...",
        "/.hidden/a.b/.../..a/a..",
        "/caf%C3%A9",
        "/a%20b",
        "/a:b@c!$&'()*+,=",
        "/%E2%82%AC",
        "/%F0%9F%A6%80",
        "/%3A%40%2B%21%22%3C%3E%5E%60%7B%7C%7D%5B%5D%26",
        "/~user/_x-y",
    ];
    for path in cases {
        assert_eq!(flaw(path.as_bytes()), None, "{path:?}");
    }
}

#[test]
fn error_message_is_lowercase_without_final_period() {
    let err = check_path(b"/a%2Fb").unwrap_err();
    assert_eq!(
        err.to_string(),
        "path is not canonical at byte 2: percent-encoded delimiter"
    );
    for reason in [
        NotAbsolute,
        EmptySegment,
        DotSegment,
        DisallowedByte,
        BadPercentEncoding,
        LowercaseHex,
        EncodedUnreserved,
        EncodedDelimiter,
        EncodedControl,
        InvalidUtf8,
    ] {
        let text = reason.as_str();
        assert_eq!(text, text.to_lowercase());
        assert!(!text.ends_with('.'));
        assert_eq!(reason.to_string(), text);
    }
}

#[test]
fn decode_segment_cases() {
    assert!(matches!(
        decode_segment("orders"),
        Some(Cow::Borrowed("orders"))
    ));
    assert!(matches!(decode_segment(""), Some(Cow::Borrowed(""))));
    assert_eq!(decode_segment("caf%C3%A9").as_deref(), Some("café"));
    assert_eq!(decode_segment("a%20b").as_deref(), Some("a b"));
    assert_eq!(decode_segment("a+b").as_deref(), Some("a+b"));
    assert_eq!(decode_segment("%E2%82%AC%3A").as_deref(), Some("€:"));
    assert_eq!(decode_segment("%2f").as_deref(), Some("/"));
    for bad in [
        "%",
        "a%2",
        "%G1",
        "%1G",
        "%C0%AF",
        "%ED%A0%80",
        "%80",
        "%C3",
        "%%41",
    ] {
        assert_eq!(decode_segment(bad), None, "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Reference normaliser, written from RFC 3986 independently of the code under test.

fn is_unreserved_ref(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~".contains(&c)
}

/// RFC 3986 section 6.2.2: uppercase percent-encoding hex, decode encoded unreserved
/// characters, merge `//`, then section 5.2.4 remove_dot_segments.
fn normalise(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
        if b[i] == b'%' && hex(i + 1) && hex(i + 2) {
            let text = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            let v = u8::from_str_radix(text, 16).unwrap();
            if is_unreserved_ref(v) {
                out.push(v);
            } else {
                out.extend(format!("%{v:02X}").bytes());
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let mut s = String::from_utf8_lossy(&out).into_owned();
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    remove_dot_segments(&s)
}

fn remove_dot_segments(path: &str) -> String {
    let mut input = path.to_string();
    let mut output = String::new();
    let pop = |output: &mut String| {
        let cut = output.rfind('/').unwrap_or(0);
        output.truncate(cut);
    };
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../") {
            input = rest.to_string();
        } else if let Some(rest) = input.strip_prefix("./") {
            input = rest.to_string();
        } else if input.starts_with("/./") {
            input = input[2..].to_string();
        } else if input == "/." {
            input = "/".to_string();
        } else if input.starts_with("/../") {
            input = input[3..].to_string();
            pop(&mut output);
        } else if input == "/.." {
            input = "/".to_string();
            pop(&mut output);
        } else if input == "." || input == ".." {
            input.clear();
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |n| n + start);
            output.push_str(&input[..end]);
            input = input[end..].to_string();
        }
    }
    output
}

#[test]
fn reference_normaliser_sanity() {
    assert_eq!(normalise("/a/b/../c/./d"), "/a/c/d");
    assert_eq!(normalise("/a//b"), "/a/b");
    assert_eq!(normalise("/%7e%41%2f"), "/~A%2F");
    assert_eq!(normalise("/a/.."), "/");
    assert_eq!(normalise("/orders/"), "/orders/");
    assert_eq!(normalise("/caf%c3%a9"), "/caf%C3%A9");
}

// ---------------------------------------------------------------------------------------
// Reference first-flaw oracle: allocates freely and collects every flaw, then picks the
// smallest (offset, rule number), rules numbered as in the acceptance criteria.

fn oracle(p: &[u8]) -> Option<(PathFlaw, usize)> {
    if p.first() != Some(&b'/') {
        return Some((NotAbsolute, 0));
    }
    let mut flaws: Vec<(usize, u8, PathFlaw)> = Vec::new();
    // (offset, decoded byte) of consecutive encoded bytes >= 0x80.
    let mut run: Vec<(usize, u8)> = Vec::new();
    let close_run = |run: &mut Vec<(usize, u8)>, flaws: &mut Vec<(usize, u8, PathFlaw)>| {
        let bytes: Vec<u8> = run.iter().map(|&(_, v)| v).collect();
        if let Err(e) = std::str::from_utf8(&bytes) {
            flaws.push((run[e.valid_up_to()].0, 5, InvalidUtf8));
        }
        run.clear();
    };
    let allowed = |c: u8| is_unreserved_ref(c) || b"!$&'()*+,=:@".contains(&c);
    let mut i = 1;
    while i < p.len() {
        let hex = |j: usize| p.get(j).is_some_and(u8::is_ascii_hexdigit);
        if p[i] == b'%' && hex(i + 1) && hex(i + 2) {
            let digits = &p[i + 1..i + 3];
            let v = u8::from_str_radix(std::str::from_utf8(digits).unwrap(), 16).unwrap();
            if digits.iter().any(u8::is_ascii_lowercase) {
                flaws.push((i, 3, LowercaseHex));
            }
            if v >= 0x80 {
                run.push((i, v));
            } else {
                close_run(&mut run, &mut flaws);
                if is_unreserved_ref(v) {
                    flaws.push((i, 4, EncodedUnreserved));
                } else if b"/\\%;?#".contains(&v) {
                    flaws.push((i, 4, EncodedDelimiter));
                } else if v < 0x20 || v == 0x7F {
                    flaws.push((i, 4, EncodedControl));
                }
            }
            i += 3;
        } else {
            close_run(&mut run, &mut flaws);
            if p[i] == b'%' {
                flaws.push((i, 3, BadPercentEncoding));
            } else if p[i] != b'/' && !allowed(p[i]) {
                flaws.push((i, 2, DisallowedByte));
            }
            i += 1;
        }
    }
    close_run(&mut run, &mut flaws);
    let mut start = 1;
    for segment in p[1..].split(|&c| c == b'/') {
        let last = start + segment.len() == p.len();
        if segment.is_empty() && !last {
            flaws.push((start, 6, EmptySegment));
        }
        if segment == b"." || segment == b".." {
            flaws.push((start, 7, DotSegment));
        }
        start += segment.len() + 1;
    }
    flaws
        .into_iter()
        .min_by_key(|&(offset, rule, _)| (offset, rule))
        .map(|(offset, _, reason)| (reason, offset))
}

// ---------------------------------------------------------------------------------------
// Generators.

const RAW_ALPHABET: &[u8] = b"abcxyzABCXYZ0189-._~!$&'()*+,=:@";
const VALID_ENCODINGS: &[&str] = &[
    "%20",
    "%3A",
    "%40",
    "%2B",
    "%21",
    "%22",
    "%3C",
    "%3E",
    "%5B",
    "%5D",
    "%60",
    "%7B",
    "%7C",
    "%7D",
    "%C3%A9",
    "%E2%82%AC",
    "%F0%9F%A6%80",
    "%C2%80",
    "%EF%BF%BF",
    "%F4%8F%BF%BF",
];

fn segment() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        3 => prop::sample::select(RAW_ALPHABET).prop_map(|c| char::from(c).to_string()),
        1 => prop::sample::select(VALID_ENCODINGS).prop_map(str::to_string),
    ];
    prop::collection::vec(token, 1..6)
        .prop_map(|tokens| tokens.concat())
        .prop_filter("dot segment", |s| s != "." && s != "..")
}

fn canonical_path() -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(), 0..5), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = format!("/{}", segments.join("/"));
        if trailing && !segments.is_empty() {
            path.push('/');
        }
        path
    })
}

/// Tokens chosen to hit every state of the checker: partial and broken UTF-8, lowercase
/// hex in leads and continuations, malformed escapes, dots and slashes.
fn adversarial_path() -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&[u8]] = &[
        b"/",
        b"/",
        b"/",
        b".",
        b"..",
        b"a",
        b"Z",
        b"~",
        b"+",
        b"%2F",
        b"%2f",
        b"%2E",
        b"%2e",
        b"%41",
        b"%20",
        b"%3A",
        b"%00",
        b"%7F",
        b"%25",
        b"%C3",
        b"%c3",
        b"%A9",
        b"%a9",
        b"%E2",
        b"%82",
        b"%AC",
        b"%ac",
        b"%80",
        b"%BF",
        b"%C0",
        b"%AF",
        b"%ED",
        b"%A0",
        b"%F0",
        b"%9F",
        b"%F4",
        b"%90",
        b"%F5",
        b"%",
        b"%2",
        b"%G1",
        b"%g",
        b";",
        b"\\",
        b" ",
        b"?",
        b"#",
        b"\xC3\xA9",
        b"\0",
    ];
    (
        prop::bool::weighted(0.9),
        prop::collection::vec(prop::sample::select(TOKENS), 0..12),
    )
        .prop_map(|(slash, tokens)| {
            let mut path = if slash { b"/".to_vec() } else { Vec::new() };
            tokens.iter().for_each(|t| path.extend_from_slice(t));
            path
        })
}

/// Insertion points at segment boundaries: just after and just before each separator.
fn boundaries(path: &str) -> Vec<usize> {
    let mut points: Vec<usize> = path
        .match_indices('/')
        .flat_map(|(i, _)| [i, i + 1])
        .collect();
    points.push(path.len());
    points.retain(|&i| i > 0);
    points.dedup();
    points
}

const TRICKS: &[(&str, &[PathFlaw])] = &[
    ("/..", &[DotSegment, EmptySegment]),
    ("/.", &[DotSegment, EmptySegment]),
    ("//", &[EmptySegment]),
    ("%2F", &[EncodedDelimiter]),
    ("%2f", &[LowercaseHex]),
    ("%5C", &[EncodedDelimiter]),
    ("%00", &[EncodedControl]),
    (";x", &[DisallowedByte]),
    ("\\", &[DisallowedByte]),
    ("%2E", &[EncodedUnreserved]),
    ("%5f", &[LowercaseHex]),
    ("%C0%AF", &[InvalidUtf8]),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Err(e) = check_path(&bytes) {
            prop_assert!(e.offset() < bytes.len().max(1));
        }
        let _ = decode_segment(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn generated_canonical_paths_are_accepted(path in canonical_path()) {
        prop_assert_eq!(flaw(path.as_bytes()), None, "{:?}", path);
    }

    #[test]
    fn accepted_paths_are_fixed_points_of_rfc_normalisation(path in canonical_path()) {
        check_path(path.as_bytes()).unwrap();
        prop_assert_eq!(normalise(&path), path);
    }

    #[test]
    fn accepted_adversarial_paths_are_fixed_points(path in adversarial_path()) {
        if check_path(&path).is_ok() {
            let text = std::str::from_utf8(&path).unwrap();
            prop_assert_eq!(normalise(text), text);
        }
    }

    #[test]
    fn any_trick_at_a_boundary_is_refused(
        path in canonical_path(),
        trick in prop::sample::select(TRICKS),
        pick in any::<prop::sample::Index>(),
    ) {
        let points = boundaries(&path);
        let at = points[pick.index(points.len())];
        let (text, reasons) = trick;
        let tricked = format!("{}{}{}", &path[..at], text, &path[at..]);
        let err = check_path(tricked.as_bytes());
        prop_assert!(err.is_err(), "{:?} accepted", tricked);
        let err = err.unwrap_err();
        prop_assert!(reasons.contains(&err.reason()), "{:?}: {:?}", tricked, err);
        prop_assert!(err.offset() >= at, "{:?}: {:?}", tricked, err);
        if !text.starts_with('/') {
            prop_assert_eq!(err.offset(), at);
        }
    }

    #[test]
    fn first_flaw_matches_reference_oracle(path in adversarial_path()) {
        prop_assert_eq!(flaw(&path), oracle(&path), "{:?}", String::from_utf8_lossy(&path));
    }

    #[test]
    fn accepted_segments_decode_without_delimiters(path in canonical_path()) {
        for seg in path.split('/') {
            let decoded = decode_segment(seg);
            prop_assert!(decoded.is_some(), "{:?}", seg);
            let decoded = decoded.unwrap();
            prop_assert!(!decoded.contains(['/', '\\', '%', ';', '?', '#']), "{:?}", seg);
        }
    }

    #[test]
    fn decode_inverts_full_percent_encoding(s in any::<String>()) {
        let encoded: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
        let decoded = decode_segment(&encoded);
        prop_assert_eq!(decoded.as_deref(), Some(s.as_str()));
    }
}
