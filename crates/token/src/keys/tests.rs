use super::*;

const NOW: UnixTime = 1_800_000_000;

#[test]
fn pkcs8_round_trips_to_the_same_key() {
    let key = SigningKey::generate("k1", NOW).unwrap();
    let again = SigningKey::from_pkcs8("k1", NOW, Some(NOW + 5), key.pkcs8_der()).unwrap();
    assert_eq!(again.public_key(), key.public_key());
    assert_eq!(again.kid(), "k1");
    assert_eq!(again.created(), NOW);
    assert_eq!(again.retired(), Some(NOW + 5));
}

#[test]
fn bad_key_bytes_and_key_ids_are_refused() {
    assert_eq!(
        SigningKey::from_pkcs8("k1", NOW, None, b"not a key").err(),
        Some(TokenError::InvalidKey)
    );
    let der = SigningKey::generate("k1", NOW)
        .unwrap()
        .pkcs8_der()
        .to_vec();
    let long = "k".repeat(MAX_KID_LEN + 1);
    for kid in ["", "a b", "k\"1", "ключ", long.as_str()] {
        assert_eq!(
            SigningKey::from_pkcs8(kid, NOW, None, &der).err(),
            Some(TokenError::InvalidKeyId),
            "{kid}"
        );
    }
    assert!(SigningKey::from_pkcs8("2026-11.key_A", NOW, None, &der).is_ok());
}

#[test]
fn debug_never_shows_the_private_key() {
    let key = SigningKey::generate("k1", NOW).unwrap();
    let shown = format!("{key:?} {:?}", KeySet::new(vec![key.clone()]).unwrap());
    assert!(shown.contains("k1"));
    assert!(!shown.contains(&jws::b64(key.pkcs8_der())));
    assert!(!shown.contains(&format!("{:?}", key.pkcs8_der())));
}

#[test]
fn duplicate_kids_are_refused() {
    let a = SigningKey::generate("k1", NOW).unwrap();
    let b = SigningKey::generate("k1", NOW + 1).unwrap();
    assert_eq!(
        KeySet::new(vec![a.clone(), b]).err(),
        Some(TokenError::DuplicateKeyId)
    );
    let mut set = KeySet::new(vec![a]).unwrap();
    assert_eq!(
        set.rotate("k1", NOW + 2).err(),
        Some(TokenError::DuplicateKeyId)
    );
    assert_eq!(set.keys().len(), 1);
    assert_eq!(set.active().map(SigningKey::kid), Some("k1"));
}

#[test]
fn active_is_the_newest_unretired_key() {
    let mut set = KeySet::default();
    assert!(set.active().is_none());
    set.rotate("k1", NOW).unwrap();
    assert_eq!(set.active().map(SigningKey::kid), Some("k1"));

    let new = set.rotate("k2", NOW + 60).unwrap();
    assert_eq!(new.kid(), "k2");
    assert_eq!(set.active().map(SigningKey::kid), Some("k2"));
    assert_eq!(set.get("k1").and_then(SigningKey::retired), Some(NOW + 60));
    assert_eq!(set.get("k2").and_then(SigningKey::retired), None);

    let older = SigningKey::generate("old", NOW - 10).unwrap();
    let newer = SigningKey::generate("new", NOW).unwrap();
    let set = KeySet::new(vec![newer, older]).unwrap();
    assert_eq!(set.active().map(SigningKey::kid), Some("new"));
}

#[test]
fn prune_drops_retired_keys_once_their_tokens_have_expired() {
    let ttl = 900;
    let mut set = KeySet::default();
    set.rotate("k1", NOW).unwrap();
    set.rotate("k2", NOW + 100).unwrap();

    // k1 retired at NOW + 100: its last tokens expire at NOW + 100 + ttl.
    assert!(set.prune(NOW + 100 + ttl, ttl).is_empty());
    assert!(set.get("k1").is_some());
    assert_eq!(set.prune(NOW + 101 + ttl, ttl), vec!["k1".to_owned()]);
    assert!(set.get("k1").is_none());

    // The active key is never pruned, however old.
    assert!(set.prune(i64::MAX, ttl).is_empty());
    assert_eq!(set.active().map(SigningKey::kid), Some("k2"));
}

#[test]
fn jwks_lists_every_held_key_with_public_parts_only() {
    let mut set = KeySet::default();
    set.rotate("k1", NOW).unwrap();
    set.rotate("k2", NOW + 60).unwrap();
    let jwks = set.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for (jwk, key) in keys.iter().zip(set.keys()) {
        let fields: Vec<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields.len(), 6, "{fields:?}");
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["x"], jws::b64(key.public_key()));
        assert!(jwk.get("d").is_none());
    }
    let text = jwks.to_string();
    for key in set.keys() {
        // The PKCS#8 seed never appears, whatever encoding.
        assert!(!text.contains(&jws::b64(key.pkcs8_der())));
    }
    set.prune(NOW + 60 + 901, 900);
    assert_eq!(set.jwks()["keys"].as_array().unwrap().len(), 1);
}
