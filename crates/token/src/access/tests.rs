use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use super::*;
use crate::keys::SigningKey;
use crate::testing::{hand_token, signed_token};

const NOW: UnixTime = 1_800_000_000;
const LEEWAY: i64 = 30;

fn keys() -> KeySet {
    let mut keys = KeySet::default();
    keys.rotate("k1", NOW - 3600).unwrap();
    keys
}

fn verifier() -> Verifier {
    Verifier::new(
        "portcullis",
        vec!["orders".into(), "billing".into()],
        LEEWAY,
    )
}

fn claims() -> AccessClaims {
    AccessClaims {
        iss: "portcullis".into(),
        sub: "reporting-bot".into(),
        aud: "orders".into(),
        scope: "orders:read orders:write".into(),
        exp: NOW + 300,
        iat: NOW,
        nbf: None,
        jti: new_jti().unwrap(),
        act: None,
        person: None,
        exchanged_from: Vec::new(),
    }
}

fn header(kid: &str) -> Value {
    json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": kid })
}

/// Signs arbitrary header and claims JSON with the set's active key.
fn sign(keys: &KeySet, header: &Value, claims: &Value) -> String {
    let key = keys.active().unwrap().encoding_key();
    signed_token(header, claims, key, Algorithm::EdDSA)
}

fn claims_json() -> Value {
    serde_json::to_value(claims()).unwrap()
}

fn verify(token: &str, keys: &KeySet, now: UnixTime) -> Result<AccessClaims, TokenError> {
    verifier().verify(token, keys, now)
}

#[test]
fn issue_then_verify_round_trips() {
    let keys = keys();
    let mut claims = claims();
    claims.sub = "alice".into();
    claims.act = Actor::chain(&["planner-agent", "reporting-bot"]);
    claims.person = Some(Person {
        iss: "https://idp.example".into(),
        claims: serde_json::from_value(json!({ "tenant": "acme", "roles": ["support"] })).unwrap(),
    });
    claims.exchanged_from = vec!["jti-1".into(), "https://idp.example#p-9".into()];
    claims.nbf = Some(NOW);
    let token = issue(&keys, &claims).unwrap();
    assert_eq!(verify(&token, &keys, NOW), Ok(claims.clone()));
    assert_eq!(claims.acting(), "planner-agent");

    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some("k1"));
    let scopes: Vec<&str> = claims.scopes().collect();
    assert_eq!(scopes, ["orders:read", "orders:write"]);
}

#[test]
fn issue_needs_an_active_key_and_sound_claims() {
    assert_eq!(
        issue(&KeySet::default(), &claims()),
        Err(TokenError::NoActiveKey)
    );
    let keys = keys();
    let mut bad = claims();
    bad.scope = "orders:read \"x".into();
    assert_eq!(issue(&keys, &bad), Err(TokenError::InvalidScope));
    let mut bad = claims();
    bad.jti = String::new();
    assert_eq!(
        issue(&keys, &bad),
        Err(TokenError::MissingClaim(Claim::Jti))
    );
}

#[test]
fn malformed_truncated_and_non_jwt_values_are_refused() {
    let keys = keys();
    let token = issue(&keys, &claims()).unwrap();
    let first_dot = token.find('.').unwrap();
    let last_dot = token.rfind('.').unwrap();
    for bad in [
        "",
        "Bearer",
        "not-a-jwt",
        "pck_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
        "a.b.c",
        "...",
        &token[..first_dot],
        &token[..last_dot],
        &token[..first_dot + 5],
        &format!("{token}.x"),
        &format!(" {token}"),
        &format!("e30.{}", &token[first_dot + 1..]),
        // 4n+1 base64 characters cannot decode.
        &format!("{}.A", &token[..last_dot]),
        &format!("{}.{}=", &token[..last_dot], &token[last_dot + 1..]),
    ] {
        assert_eq!(verify(bad, &keys, NOW), Err(TokenError::Malformed), "{bad}");
    }
    // A cut signature is still base64 but no longer verifies.
    let cut = &token[..token.len() - 6];
    assert_eq!(verify(cut, &keys, NOW), Err(TokenError::BadSignature));
    let unsigned = format!("{}.", &token[..last_dot]);
    assert_eq!(verify(&unsigned, &keys, NOW), Err(TokenError::BadSignature));
}

#[test]
fn oversized_values_are_refused_before_parsing() {
    let keys = keys();
    let mut claims = claims();
    claims.scope = vec!["orders:read"; 1000].join(" ");
    let token = issue(&keys, &claims).unwrap();
    assert!(token.len() > crate::MAX_TOKEN_LEN);
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::TooLong));
    let junk = "x".repeat(1 << 20);
    assert_eq!(verify(&junk, &keys, NOW), Err(TokenError::TooLong));
}

#[test]
fn alg_none_is_refused() {
    let keys = keys();
    for alg in ["none", "None", "NONE", ""] {
        let token = hand_token(
            &json!({ "alg": alg, "typ": "at+jwt", "kid": "k1" }),
            &claims_json(),
            b"",
        );
        assert!(token.ends_with('.'));
        assert_eq!(
            verify(&token, &keys, NOW),
            Err(TokenError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
    let no_alg = hand_token(
        &json!({ "typ": "at+jwt", "kid": "k1" }),
        &claims_json(),
        b"",
    );
    assert_eq!(verify(&no_alg, &keys, NOW), Err(TokenError::Malformed));
}

#[test]
fn hmac_with_the_public_key_as_secret_is_refused() {
    let keys = keys();
    let active = keys.active().unwrap();
    let jwk_x = active.public_jwk()["x"].as_str().unwrap().to_owned();
    for secret in [active.public_key().to_vec(), jwk_x.into_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some("k1".into());
        let token =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(
            verify(&token, &keys, NOW),
            Err(TokenError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn other_asymmetric_algorithms_are_refused() {
    let keys = keys();
    for alg in ["RS256", "ES256", "PS256", "EdDSA ", "eddsa", "Ed25519"] {
        let token = hand_token(
            &json!({ "alg": alg, "typ": "at+jwt", "kid": "k1" }),
            &claims_json(),
            &[7u8; 64],
        );
        assert_eq!(
            verify(&token, &keys, NOW),
            Err(TokenError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let keys = keys();
    let stranger = KeySet::new(vec![SigningKey::generate("k9", NOW).unwrap()]).unwrap();
    let token = issue(&stranger, &claims()).unwrap();
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::UnknownKey));

    let no_kid = sign(
        &keys,
        &json!({ "alg": "EdDSA", "typ": "at+jwt" }),
        &claims_json(),
    );
    assert_eq!(verify(&no_kid, &keys, NOW), Err(TokenError::UnknownKey));
}

#[test]
fn a_different_key_with_the_same_kid_is_a_bad_signature() {
    let keys = keys();
    let impostor = KeySet::new(vec![SigningKey::generate("k1", NOW).unwrap()]).unwrap();
    let token = issue(&impostor, &claims()).unwrap();
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::BadSignature));
}

#[test]
fn changed_claims_break_the_signature() {
    let keys = keys();
    let token = issue(&keys, &claims()).unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut more = claims_json();
    more["scope"] = json!("orders:read orders:write admin");
    let forged = crate::jws::b64(more.to_string().as_bytes());
    parts[1] = &forged;
    assert_eq!(
        verify(&parts.join("."), &keys, NOW),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn issuer_and_audience_must_match() {
    let keys = keys();
    let mut c = claims();
    c.iss = "someone-else".into();
    let token = issue(&keys, &c).unwrap();
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::WrongIssuer));

    let mut c = claims();
    c.aud = "payroll".into();
    let token = issue(&keys, &c).unwrap();
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::WrongAudience));

    let mut c = claims();
    c.aud = "billing".into();
    let token = issue(&keys, &c).unwrap();
    assert!(verify(&token, &keys, NOW).is_ok());

    let mut c = claims_json();
    c["aud"] = json!(["orders"]);
    let token = sign(&keys, &header("k1"), &c);
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::Malformed));
}

#[test]
fn expiry_is_checked_with_the_leeway() {
    let keys = keys();
    let c = claims();
    let token = issue(&keys, &c).unwrap();
    assert!(verify(&token, &keys, c.exp).is_ok());
    assert!(verify(&token, &keys, c.exp + LEEWAY).is_ok());
    assert_eq!(
        verify(&token, &keys, c.exp + LEEWAY + 1),
        Err(TokenError::Expired)
    );
}

#[test]
fn not_yet_valid_tokens_are_refused() {
    let keys = keys();
    let mut c = claims();
    c.nbf = Some(NOW + 60);
    let token = issue(&keys, &c).unwrap();
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::NotYetValid));
    assert!(verify(&token, &keys, NOW + 60 - LEEWAY).is_ok());

    let mut c = claims();
    c.iat = NOW + LEEWAY + 1;
    let token = issue(&keys, &c).unwrap();
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::NotYetValid));
}

#[test]
fn required_claims_must_be_present() {
    let keys = keys();
    for (name, claim) in [
        ("jti", Claim::Jti),
        ("exp", Claim::Exp),
        ("iat", Claim::Iat),
        ("sub", Claim::Sub),
        ("iss", Claim::Iss),
        ("aud", Claim::Aud),
        ("scope", Claim::Scope),
    ] {
        let mut c = claims_json();
        c.as_object_mut().unwrap().remove(name);
        let token = sign(&keys, &header("k1"), &c);
        assert_eq!(
            verify(&token, &keys, NOW),
            Err(TokenError::MissingClaim(claim)),
            "{name}"
        );
    }
    let mut c = claims_json();
    c["jti"] = json!("");
    let token = sign(&keys, &header("k1"), &c);
    assert_eq!(
        verify(&token, &keys, NOW),
        Err(TokenError::MissingClaim(Claim::Jti))
    );
}

#[test]
fn claims_of_the_wrong_json_type_are_malformed() {
    let keys = keys();
    for (name, value) in [
        ("exp", json!("1800000300")),
        ("exp", json!(1_800_000_300.5)),
        ("scope", json!(["orders:read"])),
        ("sub", json!(null)),
    ] {
        let mut c = claims_json();
        c[name] = value;
        let token = sign(&keys, &header("k1"), &c);
        let got = verify(&token, &keys, NOW);
        assert!(
            matches!(
                got,
                Err(TokenError::Malformed | TokenError::MissingClaim(_))
            ),
            "{name}: {got:?}"
        );
    }
    let token = sign(
        &keys,
        &header("k1"),
        &json!(["portcullis", "reporting-bot"]),
    );
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::Malformed));
}

#[test]
fn typ_must_be_at_jwt() {
    let keys = keys();
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!(""),
        json!("at+jwt+x"),
        json!(null),
    ] {
        let h = json!({ "alg": "EdDSA", "typ": typ, "kid": "k1" });
        let token = sign(&keys, &h, &claims_json());
        assert_eq!(
            verify(&token, &keys, NOW),
            Err(TokenError::WrongType),
            "{typ}"
        );
    }
    let token = sign(
        &keys,
        &json!({ "alg": "EdDSA", "kid": "k1" }),
        &claims_json(),
    );
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::WrongType));
    for typ in ["application/at+jwt", "AT+JWT", "Application/AT+JWT"] {
        let h = json!({ "alg": "EdDSA", "typ": typ, "kid": "k1" });
        let token = sign(&keys, &h, &claims_json());
        assert!(verify(&token, &keys, NOW).is_ok(), "{typ}");
    }
}

#[test]
fn critical_headers_are_refused() {
    let keys = keys();
    let h = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": "k1", "crit": ["b64"], "b64": false });
    let token = sign(&keys, &h, &claims_json());
    assert_eq!(verify(&token, &keys, NOW), Err(TokenError::Malformed));
}

#[test]
fn scope_with_invalid_characters_is_refused() {
    let keys = keys();
    for scope in [
        "orders:read \"admin\"",
        "orders:read\\x",
        "a  b",
        " a",
        "a\tb",
        "ä",
    ] {
        let mut c = claims_json();
        c["scope"] = json!(scope);
        let token = sign(&keys, &header("k1"), &c);
        assert_eq!(
            verify(&token, &keys, NOW),
            Err(TokenError::InvalidScope),
            "{scope:?}"
        );
    }
    let mut c = claims();
    c.scope = String::new();
    let token = issue(&keys, &c).unwrap();
    assert_eq!(verify(&token, &keys, NOW).unwrap().scopes().count(), 0);
}

#[test]
fn a_retired_key_verifies_until_pruned() {
    let ttl = 900;
    let mut keys = keys();
    let old = issue(&keys, &claims()).unwrap();
    keys.rotate("k2", NOW + 10).unwrap();
    let new = issue(&keys, &claims()).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(),
        Some("k2")
    );
    assert!(verify(&old, &keys, NOW + 20).is_ok());
    assert!(verify(&new, &keys, NOW + 20).is_ok());

    assert!(keys.prune(NOW + 20, ttl).is_empty());
    assert!(verify(&old, &keys, NOW + 20).is_ok());
    assert_eq!(keys.prune(NOW + 11 + ttl, ttl), vec!["k1".to_owned()]);
    assert_eq!(verify(&old, &keys, NOW + 20), Err(TokenError::UnknownKey));
    assert!(verify(&new, &keys, NOW + 20).is_ok());
}

#[test]
fn a_retired_key_does_not_vouch_for_later_tokens() {
    let mut keys = keys();
    let k1 = keys.get("k1").unwrap().encoding_key().clone();
    keys.rotate("k2", NOW).unwrap();
    let mut c = claims_json();
    c["iat"] = json!(NOW + 1);
    let token = signed_token(&header("k1"), &c, &k1, Algorithm::EdDSA);
    assert_eq!(verify(&token, &keys, NOW + 1), Err(TokenError::RetiredKey));
}

#[test]
fn leeway_is_bounded() {
    assert_eq!(
        Verifier::new("i", vec![], 10_000).leeway_secs(),
        MAX_LEEWAY_SECS
    );
    assert_eq!(Verifier::new("i", vec![], -5).leeway_secs(), 0);
    assert_eq!(verifier().leeway_secs(), LEEWAY);
}

#[test]
fn jtis_are_128_random_bits() {
    let a = new_jti().unwrap();
    let b = new_jti().unwrap();
    assert_eq!(a.len(), 22);
    assert_ne!(a, b);
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
}
