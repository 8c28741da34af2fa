use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use jsonwebtoken::EncodingKey;
use serde_json::json;

use super::*;
use crate::jws::b64;
use crate::testing::{hand_token, signed_token};

const NOW: UnixTime = 1_800_000_000;
const ISSUER: &str = "https://idp.example";
const AUDIENCE: &str = "portcullis-gateway";

/// A test IdP's key: how it signs, and its public JWK.
struct IdpKey {
    signing: EncodingKey,
    alg: Algorithm,
    jwk: Value,
}

fn rsa_key(kid: &str) -> IdpKey {
    let public: Value =
        serde_json::from_str(include_str!("../../testdata/rsa2048-public.json")).unwrap();
    IdpKey {
        signing: EncodingKey::from_rsa_der(include_bytes!("../../testdata/rsa2048-pkcs1.der")),
        alg: Algorithm::RS256,
        jwk: json!({ "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                     "n": public["n"], "e": public["e"] }),
    }
}

fn p256_key(kid: &str) -> IdpKey {
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    IdpKey {
        signing: EncodingKey::from_ec_der(doc.as_ref()),
        alg: Algorithm::ES256,
        jwk: json!({ "kty": "EC", "crv": "P-256", "kid": kid,
                     "x": b64(&point[1..33]), "y": b64(&point[33..65]) }),
    }
}

fn ed_key(kid: &str) -> IdpKey {
    let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    IdpKey {
        signing: EncodingKey::from_ed_der(doc.as_ref()),
        alg: Algorithm::EdDSA,
        jwk: json!({ "kty": "OKP", "crv": "Ed25519", "kid": kid,
                     "x": b64(pair.public_key().as_ref()) }),
    }
}

fn set(keys: &[&IdpKey]) -> IssuerKeys {
    let jwks = json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() });
    IssuerKeys::from_jwks(jwks.to_string().as_bytes()).unwrap()
}

fn claims() -> Value {
    json!({ "iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "exp": NOW + 600,
            "iat": NOW - 5, "jti": "p-1", "tenant": "acme" })
}

fn sign(key: &IdpKey, kid: Option<&str>, claims: &Value) -> String {
    let alg = match key.alg {
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        _ => "EdDSA",
    };
    let mut header = json!({ "alg": alg, "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    signed_token(&header, claims, &key.signing, key.alg)
}

const PINNED: &[SubjectAlgorithm] = &[
    SubjectAlgorithm::Rs256,
    SubjectAlgorithm::Es256,
    SubjectAlgorithm::EdDsa,
];

fn rules(algorithms: &[SubjectAlgorithm]) -> SubjectRules<'_> {
    SubjectRules {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms,
        leeway_secs: 30,
    }
}

fn verify(token: &str, keys: &IssuerKeys) -> Result<SubjectToken, TokenError> {
    verify_subject(token, rules(PINNED), keys, NOW)
}

#[test]
fn tokens_from_each_key_type_verify_and_say_who_and_what() {
    let (rsa, ec, ed) = (rsa_key("r1"), p256_key("e1"), ed_key("d1"));
    let keys = set(&[&rsa, &ec, &ed]);
    assert_eq!(keys.len(), 3);
    for (key, kid) in [(&rsa, "r1"), (&ec, "e1"), (&ed, "d1")] {
        let subject = verify(&sign(key, Some(kid), &claims()), &keys).unwrap();
        assert_eq!(subject.sub, "alice");
        assert_eq!(subject.issuer, ISSUER);
        assert_eq!(subject.jti.as_deref(), Some("p-1"));
        assert_eq!(subject.exp, NOW + 600);
        assert_eq!(subject.claims["tenant"], "acme");
    }
    let (iss, kid) = unverified_issuer(&sign(&ec, Some("e1"), &claims())).unwrap();
    assert_eq!((iss.as_str(), kid.as_deref()), (ISSUER, Some("e1")));
}

#[test]
fn the_algorithm_is_pinned_per_issuer_and_none_is_never_accepted() {
    let ec = p256_key("e1");
    let keys = set(&[&ec]);
    let token = sign(&ec, Some("e1"), &claims());
    let rsa_only = [SubjectAlgorithm::Rs256];
    assert_eq!(
        verify_subject(&token, rules(&rsa_only), &keys, NOW),
        Err(TokenError::UnsupportedAlgorithm)
    );
    for alg in ["none", "None", "HS256", "", "es256"] {
        let token = hand_token(&json!({ "alg": alg, "kid": "e1" }), &claims(), b"");
        assert_eq!(
            verify(&token, &keys),
            Err(TokenError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
    // An RS256 header over an EC key: the key's type fixes what it verifies.
    let confused = hand_token(&json!({ "alg": "RS256", "kid": "e1" }), &claims(), b"sig");
    assert_eq!(
        verify(&confused, &keys),
        Err(TokenError::UnsupportedAlgorithm)
    );
}

#[test]
fn keys_come_only_from_the_issuers_set() {
    let (ec, other) = (p256_key("e1"), p256_key("e2"));
    let keys = set(&[&ec]);
    // Signed by a key the issuer never published, under a known and an unknown kid.
    assert_eq!(
        verify(&sign(&other, Some("e1"), &claims()), &keys),
        Err(TokenError::BadSignature)
    );
    assert_eq!(
        verify(&sign(&other, Some("e2"), &claims()), &keys),
        Err(TokenError::UnknownKey)
    );
    // A key embedded in the header is never used.
    let mut header = json!({ "alg": "ES256", "kid": "e2", "jwk": other.jwk });
    header["jku"] = json!("https://attacker.example/jwks");
    let embedded = signed_token(&header, &claims(), &other.signing, Algorithm::ES256);
    assert_eq!(verify(&embedded, &keys), Err(TokenError::UnknownKey));
    // No kid: only when exactly one key fits the algorithm.
    assert!(verify(&sign(&ec, None, &claims()), &keys).is_ok());
    let two = set(&[&ec, &other]);
    assert_eq!(
        verify(&sign(&ec, None, &claims()), &two),
        Err(TokenError::UnknownKey)
    );
    assert!(two.has_kid("e2") && !keys.has_kid("e2"));
}

#[test]
fn claims_are_checked_after_the_signature() {
    let ed = ed_key("d1");
    let keys = set(&[&ed]);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims();
        change(&mut c);
        verify(&sign(&ed, Some("d1"), &c), &keys)
    };
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change, TokenError)> = vec![
        (
            "issuer",
            Box::new(|c| c["iss"] = json!("https://other.example")),
            TokenError::WrongIssuer,
        ),
        (
            "audience",
            Box::new(|c| c["aud"] = json!("someone-else")),
            TokenError::WrongAudience,
        ),
        (
            "no audience",
            Box::new(|c| drop(c.as_object_mut().unwrap().remove("aud"))),
            TokenError::MissingClaim(Claim::Aud),
        ),
        (
            "expired",
            Box::new(|c| c["exp"] = json!(NOW - 31)),
            TokenError::Expired,
        ),
        (
            "no expiry",
            Box::new(|c| drop(c.as_object_mut().unwrap().remove("exp"))),
            TokenError::MissingClaim(Claim::Exp),
        ),
        (
            "not yet valid",
            Box::new(|c| c["nbf"] = json!(NOW + 31)),
            TokenError::NotYetValid,
        ),
        (
            "issued in the future",
            Box::new(|c| c["iat"] = json!(NOW + 31)),
            TokenError::NotYetValid,
        ),
        (
            "no subject",
            Box::new(|c| c["sub"] = json!("")),
            TokenError::MissingClaim(Claim::Sub),
        ),
        (
            "control characters",
            Box::new(|c| c["sub"] = json!("al\nice")),
            TokenError::WrongSubject,
        ),
        (
            "exp as text",
            Box::new(|c| c["exp"] = json!("1900000000")),
            TokenError::Malformed,
        ),
        (
            "may_act not an object",
            Box::new(|c| c["may_act"] = json!("bot")),
            TokenError::Malformed,
        ),
    ];
    for (name, change, expected) in cases {
        assert_eq!(with(&*change), Err(expected), "{name}");
    }
    // Within the leeway, an audience list naming us, a fractional expiry.
    assert!(with(&|c| c["exp"] = json!(NOW - 30)).is_ok());
    assert!(with(&|c| c["aud"] = json!(["other", AUDIENCE])).is_ok());
    assert_eq!(
        with(&|c| c["exp"] = json!(NOW as f64 + 0.5)).unwrap().exp,
        NOW
    );
}

#[test]
fn other_kinds_of_jwt_are_not_subject_tokens() {
    let ed = ed_key("d1");
    let keys = set(&[&ed]);
    for (typ, ok) in [
        ("JWT", true),
        ("at+jwt", true),
        ("application/at+jwt", true),
        ("logout+jwt", false),
        ("secevent+jwt", false),
    ] {
        let header = json!({ "alg": "EdDSA", "kid": "d1", "typ": typ });
        let token = signed_token(&header, &claims(), &ed.signing, Algorithm::EdDSA);
        assert_eq!(verify(&token, &keys).is_ok(), ok, "{typ}");
    }
}

#[test]
fn a_key_set_skips_what_it_cannot_use_and_refuses_private_material() {
    let public: Value =
        serde_json::from_str(include_str!("../../testdata/rsa2048-public.json")).unwrap();
    let ec = p256_key("e1");
    let jwks = json!({ "keys": [
        { "kty": "RSA", "kid": "enc", "use": "enc", "n": public["n"], "e": public["e"] },
        { "kty": "RSA", "kid": "small", "n": public["n_1024"], "e": public["e_1024"] },
        { "kty": "oct", "kid": "mac" , "alg": "HS256"},
        { "kty": "EC", "crv": "P-256", "kid": "bad-point", "x": b64(&[1; 32]), "y": b64(&[2; 32]) },
        { "kty": "RSA", "kid": "wrong-alg", "alg": "ES256", "n": public["n"], "e": public["e"] },
        ec.jwk,
    ]});
    let keys = IssuerKeys::from_jwks(jwks.to_string().as_bytes()).unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys.has_kid("e1"));
    let private =
        json!({ "keys": [{ "kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "secret" }] });
    assert_eq!(
        IssuerKeys::from_jwks(private.to_string().as_bytes()).err(),
        Some(TokenError::PrivateKeyMaterial)
    );
    for bad in ["", "[]", "{}", r#"{"keys": 1}"#, r#"{"keys": [1]}"#] {
        assert_eq!(
            IssuerKeys::from_jwks(bad.as_bytes()).err(),
            Some(TokenError::Malformed),
            "{bad}"
        );
    }
}
