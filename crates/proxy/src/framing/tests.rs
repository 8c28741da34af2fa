use super::*;

const MAX: usize = 16 * 1024;

fn head(text: &str) -> Head {
    read_head(text.as_bytes(), MAX)
}

fn refused(text: &str) -> Malformed {
    match head(text) {
        Head::Malformed(m) => m,
        other => panic!("{text:?} was not refused: {other:?}"),
    }
}

#[test]
fn a_plain_request_has_no_body() {
    assert_eq!(
        head("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"),
        Head::Complete {
            len: 27,
            framing: Framing::Length(0)
        }
    );
}

#[test]
fn a_head_still_arriving_is_partial() {
    assert_eq!(head("GET / HTTP/1.1\r\nHost: a\r\n"), Head::Partial);
    assert_eq!(head("GE"), Head::Partial);
}

#[test]
fn content_length_and_chunked_framing_are_read() {
    let Head::Complete { framing, .. } = head("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n")
    else {
        panic!("not complete")
    };
    assert_eq!(framing, Framing::Length(12));
    let Head::Complete { framing, .. } =
        head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n")
    else {
        panic!("not complete")
    };
    assert_eq!(framing, Framing::Chunked);
    // The same length repeated says one thing (RFC 9110 section 8.6).
    let Head::Complete { framing, .. } =
        head("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\n")
    else {
        panic!("not complete")
    };
    assert_eq!(framing, Framing::Length(3));
}

#[test]
fn framing_two_parsers_could_read_differently_is_refused() {
    for (text, why) in [
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            Malformed::TransferEncoding,
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            Malformed::TransferEncoding,
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            Malformed::TransferEncoding,
        ),
        (
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            Malformed::TransferEncoding,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            Malformed::ContentLength,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n",
            Malformed::ContentLength,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
            Malformed::ContentLength,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
            Malformed::ContentLength,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            Malformed::ContentLength,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            Malformed::LengthAndChunked,
        ),
    ] {
        assert_eq!(refused(text), why, "{text:?}");
    }
}

#[test]
fn syntax_hyper_would_answer_itself_is_named() {
    assert_eq!(
        refused("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
        Malformed::RequestLine
    );
    assert_eq!(
        refused("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"),
        Malformed::HeaderName
    );
    assert_eq!(
        refused("GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n"),
        Malformed::HeaderValue
    );
    assert_eq!(refused("G(T / HTTP/1.1\r\n\r\n"), Malformed::RequestLine);
    assert_eq!(refused("GET / HTTP/3.0\r\n\r\n"), Malformed::RequestLine);
}

#[test]
fn oversized_heads_are_the_header_limit() {
    let many: String = (0..300).map(|i| format!("X-{i}: v\r\n")).collect();
    let m = refused(&format!("GET / HTTP/1.1\r\n{many}\r\n"));
    assert_eq!(m, Malformed::TooManyHeaders);
    assert_eq!(m.code(), portcullis_core::ProblemCode::HeadersTooLarge);
    let long = format!("GET / HTTP/1.1\r\nX-Long: {}", "a".repeat(MAX + 1));
    assert_eq!(refused(&long), Malformed::HeadTooLarge);
}

#[test]
fn every_reason_round_trips_through_its_token() {
    for m in Malformed::ALL {
        assert_eq!(Malformed::from_token(m.token().as_bytes()), Some(m));
    }
    assert_eq!(Malformed::from_token(b"nonsense"), None);
}
