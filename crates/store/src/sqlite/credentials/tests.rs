//! Credential tests: lookup by hash, conflicts, revocation, expiry, cascade.

use serde_json::json;

use crate::sqlite::tests::identity;
use crate::{Credential, CredentialKind, CredentialStore, IdentityStore, SqliteStore, StoreError};

fn credential(id: &str, identity: &str, kind: CredentialKind, hash: u8) -> Credential {
    Credential {
        id: id.into(),
        identity: identity.into(),
        kind,
        secret_hash: Some([hash; 32]),
        public_jwk: None,
        created: i64::from(hash),
        expires: 1_000,
        revoked: None,
        label: Some(format!("label {id}")),
    }
}

fn store_with(ids: &[&str]) -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    for id in ids {
        store.upsert_identity(&identity(id)).unwrap();
    }
    store
}

#[test]
fn lookup_by_hash_and_kind() {
    let store = store_with(&["bot"]);
    let secret = credential("c1", "bot", CredentialKind::ClientSecret, 1);
    let key = credential("k1", "bot", CredentialKind::ApiKey, 2);
    let jwt = Credential {
        secret_hash: None,
        public_jwk: Some(json!({"kty": "OKP", "crv": "Ed25519", "x": "abc"})),
        ..credential("j1", "bot", CredentialKind::PrivateKeyJwt, 3)
    };
    for c in [&secret, &key, &jwt] {
        store.insert_credential(c).unwrap();
    }

    let found = store.find_credential_by_hash(CredentialKind::ClientSecret, &[1; 32]);
    assert_eq!(found.unwrap(), Some(secret.clone()));
    let found = store.find_credential_by_hash(CredentialKind::ApiKey, &[2; 32]);
    assert_eq!(found.unwrap(), Some(key.clone()));
    // The hash must be presented as the kind it was registered as.
    let found = store.find_credential_by_hash(CredentialKind::ApiKey, &[1; 32]);
    assert_eq!(found.unwrap(), None);
    let found = store.find_credential_by_hash(CredentialKind::ApiKey, &[9; 32]);
    assert_eq!(found.unwrap(), None);

    assert_eq!(
        store.list_credentials("bot").unwrap(),
        vec![secret, key, jwt]
    );
    assert!(store.list_credentials("nobody").unwrap().is_empty());
}

#[test]
fn duplicates_conflict_and_missing_identity_is_not_found() {
    let store = store_with(&["bot", "other"]);
    store
        .insert_credential(&credential("c1", "bot", CredentialKind::ApiKey, 1))
        .unwrap();

    let same_hash = credential("c2", "other", CredentialKind::ClientSecret, 1);
    let err = store.insert_credential(&same_hash).unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(c) if c.what().contains("secret hash")));
    assert!(!err.to_string().contains("0101"), "{err}");

    let same_id = credential("c1", "other", CredentialKind::ApiKey, 5);
    let err = store.insert_credential(&same_id).unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(c) if c.what() == "credential"));

    let orphan = credential("c3", "ghost", CredentialKind::ApiKey, 6);
    match store.insert_credential(&orphan) {
        Err(StoreError::NotFound(e)) => assert_eq!((e.what(), e.id()), ("identity", "ghost")),
        other => panic!("expected not found, got {other:?}"),
    }
}

#[test]
fn revoke_and_change_expiry() {
    let store = store_with(&["bot"]);
    store
        .insert_credential(&credential("c1", "bot", CredentialKind::ClientSecret, 1))
        .unwrap();

    store.set_credential_expiry("c1", 300).unwrap();
    store.revoke_credential("c1", 200).unwrap();
    // Revoking again keeps the first time.
    store.revoke_credential("c1", 250).unwrap();
    let c = store
        .find_credential_by_hash(CredentialKind::ClientSecret, &[1; 32])
        .unwrap()
        .unwrap();
    assert_eq!((c.expires, c.revoked), (300, Some(200)));
    assert!(!c.is_usable(201));

    assert!(matches!(
        store.revoke_credential("nope", 1),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_credential_expiry("nope", 1),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn deleting_an_identity_deletes_its_credentials() {
    let store = store_with(&["bot", "other"]);
    store
        .insert_credential(&credential("c1", "bot", CredentialKind::ApiKey, 1))
        .unwrap();
    store
        .insert_credential(&credential("c2", "other", CredentialKind::ApiKey, 2))
        .unwrap();
    store.delete_identity("bot").unwrap();
    assert!(store.list_credentials("bot").unwrap().is_empty());
    let found = store.find_credential_by_hash(CredentialKind::ApiKey, &[1; 32]);
    assert_eq!(found.unwrap(), None);
    // The hash is free again.
    store
        .insert_credential(&credential("c3", "other", CredentialKind::ApiKey, 1))
        .unwrap();
    assert_eq!(store.list_credentials("other").unwrap().len(), 2);
}
