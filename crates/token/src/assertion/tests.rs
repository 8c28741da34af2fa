use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::*;
use crate::jws::b64;
use crate::testing::{hand_token, signed_token};

const NOW: UnixTime = 1_800_000_000;
const CLIENT: &str = "ci-deployer";
const ENDPOINT: &str = "https://gw.example/oauth/token";
const MAX_LIFETIME: i64 = 300;

/// A client's private key (for signing in tests) and its public JWK.
struct Client {
    signing: EncodingKey,
    alg: Algorithm,
    jwk: Value,
}

fn ed25519(kid: &str) -> Client {
    let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    Client {
        signing: EncodingKey::from_ed_der(doc.as_ref()),
        alg: Algorithm::EdDSA,
        jwk: json!({
            "kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
            "x": b64(pair.public_key().as_ref()),
        }),
    }
}

fn p256(kid: &str) -> Client {
    let rng = SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    assert_eq!(point.len(), 65);
    Client {
        signing: EncodingKey::from_ec_der(doc.as_ref()),
        alg: Algorithm::ES256,
        jwk: json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }),
    }
}

impl Client {
    fn key(&self) -> ClientKey {
        ClientKey::from_jwk(&self.jwk).unwrap()
    }

    fn kid(&self) -> &str {
        self.jwk["kid"].as_str().unwrap()
    }

    fn assertion(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, claims, &self.signing).unwrap()
    }
}

fn claims() -> Value {
    json!({
        "iss": CLIENT, "sub": CLIENT, "aud": ENDPOINT,
        "exp": NOW + 60, "iat": NOW, "jti": "a4f1c2e3-0001",
    })
}

fn with(change: &[(&str, Value)]) -> Value {
    let mut c = claims();
    for (name, value) in change {
        if value.is_null() {
            c.as_object_mut().unwrap().remove(*name);
        } else {
            c[*name] = value.clone();
        }
    }
    c
}

fn check(assertion: &str, keys: &[ClientKey]) -> Result<AssertionClaims, TokenError> {
    verify_assertion(assertion, CLIENT, keys, ENDPOINT, NOW, MAX_LIFETIME)
}

#[test]
fn eddsa_and_es256_assertions_verify() {
    for client in [ed25519("c1"), p256("c2")] {
        let ok = check(&client.assertion(&claims()), &[client.key()]).unwrap();
        assert_eq!(ok.jti(), "a4f1c2e3-0001");
        assert_eq!(ok.exp(), NOW + 60);
    }
}

#[test]
fn the_right_key_is_found_among_several() {
    let ed = ed25519("c1");
    let ec = p256("c2");
    let keys = [ec.key(), ed.key()];
    assert!(check(&ed.assertion(&claims()), &keys).is_ok());
    assert!(check(&ec.assertion(&claims()), &keys).is_ok());
    // Without a kid, every key of the header's algorithm is tried.
    let no_kid = signed_token(&json!({ "alg": "EdDSA" }), &claims(), &ed.signing, ed.alg);
    assert!(check(&no_kid, &keys).is_ok());
}

#[test]
fn issuer_and_subject_must_be_the_client() {
    let c = ed25519("c1");
    let keys = [c.key()];
    let wrong_iss = c.assertion(&with(&[("iss", json!("someone-else"))]));
    assert_eq!(check(&wrong_iss, &keys), Err(TokenError::WrongIssuer));
    let wrong_sub = c.assertion(&with(&[("sub", json!("someone-else"))]));
    assert_eq!(check(&wrong_sub, &keys), Err(TokenError::WrongSubject));
    let no_sub = c.assertion(&with(&[("sub", Value::Null)]));
    assert_eq!(
        check(&no_sub, &keys),
        Err(TokenError::MissingClaim(Claim::Sub))
    );
}

#[test]
fn audience_must_name_the_token_endpoint() {
    let c = p256("c2");
    let keys = [c.key()];
    let wrong = c.assertion(&with(&[("aud", json!("https://other.example/token"))]));
    assert_eq!(check(&wrong, &keys), Err(TokenError::WrongAudience));
    let list = c.assertion(&with(&[(
        "aud",
        json!(["https://issuer.example", ENDPOINT]),
    )]));
    assert!(check(&list, &keys).is_ok());
    let list = c.assertion(&with(&[("aud", json!(["https://issuer.example"]))]));
    assert_eq!(check(&list, &keys), Err(TokenError::WrongAudience));
    let missing = c.assertion(&with(&[("aud", Value::Null)]));
    assert_eq!(
        check(&missing, &keys),
        Err(TokenError::MissingClaim(Claim::Aud))
    );
}

#[test]
fn expired_and_not_yet_valid_assertions_are_refused() {
    let c = ed25519("c1");
    let keys = [c.key()];
    let a = c.assertion(&claims());
    let at = |now| verify_assertion(&a, CLIENT, &keys, ENDPOINT, now, MAX_LIFETIME);
    assert!(at(NOW + 60 + ASSERTION_LEEWAY_SECS).is_ok());
    assert_eq!(
        at(NOW + 61 + ASSERTION_LEEWAY_SECS),
        Err(TokenError::Expired)
    );

    let early = c.assertion(&with(&[("nbf", json!(NOW + 45))]));
    assert_eq!(check(&early, &keys), Err(TokenError::NotYetValid));
    let future = c.assertion(&with(&[("iat", json!(NOW + 45))]));
    assert_eq!(check(&future, &keys), Err(TokenError::NotYetValid));
}

#[test]
fn long_lived_assertions_are_refused() {
    let c = p256("c2");
    let keys = [c.key()];
    let max = c.assertion(&with(&[("exp", json!(NOW + MAX_LIFETIME))]));
    assert!(check(&max, &keys).is_ok());
    let long = c.assertion(&with(&[("exp", json!(NOW + MAX_LIFETIME + 1))]));
    assert_eq!(check(&long, &keys), Err(TokenError::LifetimeTooLong));
    let forever = c.assertion(&with(&[("exp", json!(i64::MAX))]));
    assert_eq!(check(&forever, &keys), Err(TokenError::LifetimeTooLong));
}

#[test]
fn jti_and_exp_are_required() {
    let c = ed25519("c1");
    let keys = [c.key()];
    let no_jti = c.assertion(&with(&[("jti", Value::Null)]));
    assert_eq!(
        check(&no_jti, &keys),
        Err(TokenError::MissingClaim(Claim::Jti))
    );
    let empty_jti = c.assertion(&with(&[("jti", json!(""))]));
    assert_eq!(
        check(&empty_jti, &keys),
        Err(TokenError::MissingClaim(Claim::Jti))
    );
    let no_exp = c.assertion(&with(&[("exp", Value::Null)]));
    assert_eq!(
        check(&no_exp, &keys),
        Err(TokenError::MissingClaim(Claim::Exp))
    );
    let huge_jti = c.assertion(&with(&[("jti", json!("j".repeat(MAX_JTI_LEN + 1)))]));
    assert_eq!(check(&huge_jti, &keys), Err(TokenError::Malformed));
}

#[test]
fn the_algorithm_comes_from_the_key_not_the_header() {
    let ed = ed25519("c1");
    let keys = [ed.key()];
    // Key confusion: HMAC keyed with the registered public key.
    let x = ed.jwk["x"].as_str().unwrap();
    for secret in [x.as_bytes().to_vec(), crate::jws::unb64(x).unwrap()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("c1".into());
        let hs =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(check(&hs, &keys), Err(TokenError::UnsupportedAlgorithm));
    }
    let none = hand_token(&json!({ "alg": "none", "kid": "c1" }), &claims(), b"");
    assert_eq!(check(&none, &keys), Err(TokenError::UnsupportedAlgorithm));
    // An ES256 header against an Ed25519 key, even with a real ES256 signature.
    let ec = p256("c1");
    assert_eq!(
        check(&ec.assertion(&claims()), &keys),
        Err(TokenError::UnsupportedAlgorithm)
    );
}

#[test]
fn unknown_keys_and_wrong_signatures_are_refused() {
    let c = ed25519("c1");
    assert_eq!(
        check(&c.assertion(&claims()), &[]),
        Err(TokenError::UnknownKey)
    );
    let other = ed25519("c9");
    assert_eq!(
        check(&other.assertion(&claims()), &[c.key()]),
        Err(TokenError::UnknownKey)
    );
    let impostor = ed25519("c1");
    assert_eq!(
        check(&impostor.assertion(&claims()), &[c.key()]),
        Err(TokenError::BadSignature)
    );
    let long = "a".repeat(crate::MAX_TOKEN_LEN + 1);
    assert_eq!(check(&long, &[c.key()]), Err(TokenError::TooLong));
    assert_eq!(check("x.y", &[c.key()]), Err(TokenError::Malformed));
}

#[test]
fn jwks_with_private_parts_are_refused() {
    for mut jwk in [ed25519("c1").jwk, p256("c2").jwk] {
        jwk["d"] = json!(b64(&[1u8; 32]));
        assert_eq!(
            ClientKey::from_jwk(&jwk).err(),
            Some(TokenError::PrivateKeyMaterial)
        );
    }
    let oct = json!({ "kty": "oct", "k": b64(b"shared"), "alg": "HS256" });
    assert_eq!(
        ClientKey::from_jwk(&oct).err(),
        Some(TokenError::PrivateKeyMaterial)
    );
}

#[test]
fn only_ed25519_and_p256_public_keys_are_accepted() {
    let ed = ed25519("c1").jwk;
    let ec = p256("c2").jwk;
    let changed = |base: &Value, name: &str, value: Value| {
        let mut jwk = base.clone();
        if value.is_null() {
            jwk.as_object_mut().unwrap().remove(name);
        } else {
            jwk[name] = value;
        }
        jwk
    };
    let rsa = json!({ "kty": "RSA", "n": b64(&[1u8; 256]), "e": "AQAB" });
    let off_curve = changed(&ec, "y", json!(b64(&[1u8; 32])));
    for bad in [
        json!("not an object"),
        rsa,
        changed(&ed, "crv", json!("X25519")),
        changed(&ed, "alg", json!("ES256")),
        changed(&ed, "x", json!(b64(&[1u8; 31]))),
        changed(&ed, "x", json!(1)),
        changed(&ed, "use", json!("enc")),
        changed(&ed, "kid", json!("")),
        changed(&ed, "kty", Value::Null),
        changed(&ec, "crv", json!("P-384")),
        changed(&ec, "alg", json!("EdDSA")),
        changed(&ec, "y", Value::Null),
        off_curve,
    ] {
        assert_eq!(
            ClientKey::from_jwk(&bad).err(),
            Some(TokenError::UnsupportedKey),
            "{bad}"
        );
    }
    let bare = changed(&changed(&ed, "alg", Value::Null), "kid", Value::Null);
    let key = ClientKey::from_jwk(&bare).unwrap();
    assert_eq!(key.algorithm(), ClientKeyAlgorithm::EdDsa);
    assert_eq!(key.kid(), None);
    assert_eq!(p256("c2").key().algorithm(), ClientKeyAlgorithm::Es256);
}

#[test]
fn the_unverified_client_id_is_only_a_lookup_hint() {
    let c = ed25519("c1");
    let a = c.assertion(&claims());
    assert_eq!(unverified_client_id(&a).as_deref(), Ok(CLIENT));
    let none = hand_token(
        &json!({ "alg": "none" }),
        &with(&[("sub", Value::Null)]),
        b"",
    );
    assert_eq!(
        unverified_client_id(&none),
        Err(TokenError::MissingClaim(Claim::Sub))
    );
}
