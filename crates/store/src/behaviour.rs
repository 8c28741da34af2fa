//! What every backend of the [`Store`] traits must do, written once against
//! `&dyn Store`: the SQLite store (`sqlite/tests.rs`) and the PostgreSQL
//! store (`postgres/tests.rs`) run the same checks, so the two cannot drift.
//! Each check starts from an empty store and says which trait promise it
//! holds the backend to.

use portcullis_core::{Identity, IdentityKind, IdentityState};

use crate::{
    ChangedBy, Credential, CredentialKind, SealedCredential, Store, StoreError, StoredKey,
};

fn identity(id: &str) -> Identity {
    Identity {
        id: id.into(),
        kind: IdentityKind::Agent,
        owner: "team-data".into(),
        environment: "prod".into(),
        tags: vec!["reporting".into(), "tenant:acme".into()],
        scopes: vec!["orders:read".into(), "orders:write".into()],
        state: IdentityState::Active,
        created: 100,
        expires: Some(10_000),
        last_used: None,
    }
}

fn secret(id: &str, identity: &str, kind: CredentialKind, hash: u8) -> Credential {
    Credential {
        id: id.into(),
        identity: identity.into(),
        kind,
        secret_hash: Some([hash; 32]),
        public_jwk: None,
        created: 100,
        expires: 1_000,
        revoked: None,
        label: Some("ci".into()),
    }
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound(_))),
        "expected not found: {r:?}"
    );
}

/// Every check, in turn.
pub(crate) fn all(make: impl Fn() -> Box<dyn Store>) {
    identities(make().as_ref());
    state_changes(make().as_ref());
    credentials(make().as_ref());
    keys(make().as_ref());
    revocations(make().as_ref());
    upstream(make().as_ref());
    nodes(make().as_ref());
}

/// The fleet register: a heartbeat registers and renews; a second instance
/// with a live node's id is refused, and takes the id once that node is
/// no longer heard; a clean stop leaves only its own row.
fn nodes(store: &dyn Store) {
    use std::time::Duration;

    use crate::NodeRecord;
    let node = |id: &str, instance: &str, digest: &str| NodeRecord {
        id: id.into(),
        instance: instance.into(),
        version: "0.1.0".into(),
        config_digest: digest.into(),
        address: "127.0.0.1:8080".into(),
    };
    let live = Duration::from_secs(60);
    assert!(store.list_nodes().unwrap().is_empty());
    store
        .heartbeat_node(&node("gw-a", "one", "d1"), live)
        .unwrap();
    store
        .heartbeat_node(&node("gw-b", "two", "d1"), live)
        .unwrap();
    // A renewal may change what the node says of itself (after a reload).
    store
        .heartbeat_node(&node("gw-a", "one", "d2"), live)
        .unwrap();
    let seen = store.list_nodes().unwrap();
    let ids: Vec<_> = seen
        .iter()
        .map(|s| (s.node.id.as_str(), s.node.config_digest.as_str()))
        .collect();
    assert_eq!(ids, [("gw-a", "d2"), ("gw-b", "d1")]);
    assert!(
        seen.iter().all(|s| (0..5_000).contains(&s.heard_ms_ago)),
        "{seen:?}"
    );

    // Another process claiming gw-a while it is alive: refused.
    let refused = store.heartbeat_node(&node("gw-a", "three", "d2"), live);
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // Once gw-a has not been heard for `live`, the id may be taken over.
    std::thread::sleep(Duration::from_millis(30));
    store
        .heartbeat_node(&node("gw-a", "three", "d2"), Duration::from_millis(10))
        .unwrap();
    // The old instance stopping does not remove the new one's row.
    store.remove_node("gw-a", "one").unwrap();
    store.remove_node("gw-b", "two").unwrap();
    let seen = store.list_nodes().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].node.id.as_str(), seen[0].node.instance.as_str()),
        ("gw-a", "three")
    );
}

/// Upsert keeps `created` and `last_used`; get, list sorted; touch never
/// goes back; delete takes the credentials with it.
fn identities(store: &dyn Store) {
    let mut bot = identity("bot");
    store.upsert_identity(&bot).unwrap();
    store
        .upsert_identities(&[identity("alpha"), identity("zulu")])
        .unwrap();
    assert_eq!(store.get_identity("bot").unwrap(), Some(bot.clone()));
    assert_eq!(store.get_identity("ghost").unwrap(), None);
    let ids: Vec<String> = store
        .list_identities()
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["alpha", "bot", "zulu"]);
    store.touch_identity("bot", 300).unwrap();
    store.touch_identity("bot", 200).unwrap();
    bot.owner = "team-ops".into();
    bot.created = 999;
    bot.last_used = None;
    store.upsert_identity(&bot).unwrap();
    let stored = store.get_identity("bot").unwrap().unwrap();
    assert_eq!(
        (stored.owner.as_str(), stored.created, stored.last_used),
        ("team-ops", 100, Some(300))
    );
    store
        .insert_credential(&secret("bot/k", "bot", CredentialKind::ApiKey, 1))
        .unwrap();
    store.delete_identity("bot").unwrap();
    assert_eq!(store.get_identity("bot").unwrap(), None);
    assert!(
        store.list_credentials("bot").unwrap().is_empty(),
        "credentials go with it"
    );
    not_found(store.delete_identity("bot"));
    not_found(store.touch_identity("ghost", 1));
}

/// Each change recorded with who and why until marked; a conditional
/// change on an old view changes and records nothing.
fn state_changes(store: &dyn Store) {
    store.upsert_identity(&identity("bot")).unwrap();
    let admin = ChangedBy {
        by: "admin-1",
        reason: Some("incident 7"),
    };
    store
        .set_identity_state("bot", IdentityState::Suspended, 50, &admin)
        .unwrap();
    assert!(
        !store
            .set_identity_state_if(
                "bot",
                IdentityState::Active,
                IdentityState::Quarantined,
                51,
                &ChangedBy::who("watch:probing")
            )
            .unwrap()
    );
    store
        .set_identity_state("bot", IdentityState::Active, 52, &ChangedBy::who("cli:ops"))
        .unwrap();
    assert!(
        store
            .set_identity_state_if(
                "bot",
                IdentityState::Active,
                IdentityState::Quarantined,
                53,
                &ChangedBy::who("watch:probing")
            )
            .unwrap()
    );
    assert_eq!(
        store.get_identity("bot").unwrap().unwrap().state,
        IdentityState::Quarantined
    );
    let pending = store.pending_state_changes(10).unwrap();
    let seen: Vec<_> = pending
        .iter()
        .map(|c| (c.from, c.to, c.by.as_str(), c.time))
        .collect();
    assert_eq!(
        seen,
        [
            (
                Some(IdentityState::Active),
                IdentityState::Suspended,
                "admin-1",
                50
            ),
            (
                Some(IdentityState::Suspended),
                IdentityState::Active,
                "cli:ops",
                52
            ),
            (
                Some(IdentityState::Active),
                IdentityState::Quarantined,
                "watch:probing",
                53
            ),
        ]
    );
    assert_eq!(pending[0].reason.as_deref(), Some("incident 7"));
    store.mark_state_changes_recorded(pending[1].seq).unwrap();
    let left: Vec<i64> = store
        .pending_state_changes(10)
        .unwrap()
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(left, [pending[2].seq]);
    not_found(store.set_identity_state("ghost", IdentityState::Active, 1, &admin));
    not_found(store.set_identity_state_if(
        "ghost",
        IdentityState::Active,
        IdentityState::Active,
        1,
        &admin,
    ));
}

/// Ids and hashes unique; lookups by hash include revoked ones; revoking
/// again keeps the first time; expiry settable; unknown ids not found.
fn credentials(store: &dyn Store) {
    not_found(store.insert_credential(&secret("ghost/k", "ghost", CredentialKind::ApiKey, 9)));
    store.upsert_identity(&identity("bot")).unwrap();
    let key = secret("bot/k", "bot", CredentialKind::ApiKey, 1);
    store.insert_credential(&key).unwrap();
    store
        .insert_credential(&secret("bot/s", "bot", CredentialKind::ClientSecret, 2))
        .unwrap();
    assert!(matches!(
        store.insert_credential(&key),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.insert_credential(&secret("bot/other", "bot", CredentialKind::ApiKey, 1)),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .find_credential_by_hash(CredentialKind::ApiKey, &[1; 32])
            .unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        store
            .find_credential_by_hash(CredentialKind::ClientSecret, &[1; 32])
            .unwrap(),
        None
    );
    store.revoke_credential("bot/k", 500).unwrap();
    store.revoke_credential("bot/k", 600).unwrap();
    store.set_credential_expiry("bot/s", 700).unwrap();
    let listed = store.list_credentials("bot").unwrap();
    assert_eq!(listed.len(), 2);
    let by_id = |id: &str| listed.iter().find(|c| c.id == id).unwrap().clone();
    assert_eq!(by_id("bot/k").revoked, Some(500));
    assert_eq!(by_id("bot/s").expires, 700);
    assert_eq!(by_id("bot/s").label.as_deref(), Some("ci"));
    assert!(
        store
            .find_credential_by_hash(CredentialKind::ApiKey, &[1; 32])
            .unwrap()
            .is_some(),
        "revoked ones too"
    );
    not_found(store.revoke_credential("ghost/k", 1));
    not_found(store.set_credential_expiry("ghost/k", 1));
}

/// Signing keys oldest first; retiring keeps the first time; the audit key
/// newest first; kids unique.
fn keys(store: &dyn Store) {
    let key = |kid: &str, created| StoredKey {
        kid: kid.into(),
        created,
        retired: None,
        pkcs8: vec![7, 7, 7],
    };
    store.insert_key(&key("k2", 200)).unwrap();
    store.insert_key(&key("k1", 100)).unwrap();
    assert!(matches!(
        store.insert_key(&key("k1", 300)),
        Err(StoreError::Conflict(_))
    ));
    store.retire_key("k1", 400).unwrap();
    store.retire_key("k1", 500).unwrap();
    let kids: Vec<(String, Option<i64>)> = store
        .list_keys()
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.retired))
        .collect();
    assert_eq!(
        kids,
        [("k1".to_owned(), Some(400)), ("k2".to_owned(), None)]
    );
    store.delete_key("k1").unwrap();
    not_found(store.delete_key("k1"));
    not_found(store.retire_key("ghost", 1));
    assert_eq!(store.audit_key().unwrap(), None);
    store.insert_audit_key("a1", 100, &[1, 2]).unwrap();
    store.insert_audit_key("a2", 200, &[3, 4]).unwrap();
    assert!(matches!(
        store.insert_audit_key("a2", 300, &[5]),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.audit_key().unwrap(),
        Some(("a2".to_owned(), vec![3, 4]))
    );
}

/// Revocations keep the later expiry and are pruned after it; a client
/// assertion's id is fresh once per client until it expires.
fn revocations(store: &dyn Store) {
    store.revoke_token("t1", 100).unwrap();
    store.revoke_token("t1", 300).unwrap();
    store.revoke_token("t1", 200).unwrap();
    store.revoke_token("t2", 150).unwrap();
    assert!(store.is_token_revoked("t1").unwrap());
    assert!(!store.is_token_revoked("t3").unwrap());
    assert_eq!(store.revoked_tokens(160).unwrap(), [("t1".to_owned(), 300)]);
    assert_eq!(store.prune_revocations(160).unwrap(), 1);
    assert!(!store.is_token_revoked("t2").unwrap());
    assert!(store.record_assertion("client", "j1", 100, 10).unwrap());
    assert!(
        !store.record_assertion("client", "j1", 100, 20).unwrap(),
        "a replay"
    );
    assert!(
        store.record_assertion("other", "j1", 100, 20).unwrap(),
        "per client"
    );
    assert!(
        store.record_assertion("client", "j1", 200, 150).unwrap(),
        "expired, then fresh"
    );
}

/// One sealed credential per identity and API, replaced on put.
fn upstream(store: &dyn Store) {
    store.upsert_identity(&identity("bot")).unwrap();
    let sealed = |api: &str, byte: u8| SealedCredential {
        identity: "bot".into(),
        api: api.into(),
        nonce: [byte; 12],
        sealed: vec![byte; 40],
        created: 100,
    };
    store.put_upstream_credential(&sealed("orders", 1)).unwrap();
    store.put_upstream_credential(&sealed("orders", 2)).unwrap();
    store
        .put_upstream_credential(&sealed("billing", 3))
        .unwrap();
    let mut listed = store.list_upstream_credentials().unwrap();
    listed.sort_by(|a, b| a.api.cmp(&b.api));
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[1].api.as_str(), listed[1].nonce),
        ("orders", [2; 12])
    );
    store.delete_upstream_credential("bot", "billing").unwrap();
    not_found(store.delete_upstream_credential("bot", "billing"));
    store.delete_identity("bot").unwrap();
    assert!(
        store.list_upstream_credentials().unwrap().is_empty(),
        "they go with the identity"
    );
}
