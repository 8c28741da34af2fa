//! Identity inventory tests: idempotent seeding, state, use, missing ids.

use portcullis_core::{IdentityKind, IdentityState};

use crate::sqlite::tests::identity;
use crate::{ChangedBy, IdentityStore, SqliteStore, StoreError};

#[test]
fn upsert_is_idempotent_and_keeps_created_and_last_used() {
    let store = SqliteStore::open_in_memory().unwrap();
    let seeded = identity("reporting-bot");
    store.upsert_identity(&seeded).unwrap();
    store.upsert_identity(&seeded).unwrap();
    assert_eq!(
        store.get_identity("reporting-bot").unwrap(),
        Some(seeded.clone())
    );

    store.touch_identity("reporting-bot", 500).unwrap();
    let mut reseeded = seeded.clone();
    reseeded.created = 999;
    reseeded.last_used = None;
    reseeded.kind = IdentityKind::Service;
    reseeded.owner = "team-platform".into();
    reseeded.environment = "staging".into();
    reseeded.tags = vec!["pci".into(), "batch".into()];
    reseeded.scopes = vec![];
    reseeded.state = IdentityState::Suspended;
    reseeded.expires = Some(2_000);
    store.upsert_identity(&reseeded).unwrap();

    let stored = store.get_identity("reporting-bot").unwrap().unwrap();
    assert_eq!(stored.created, seeded.created);
    assert_eq!(stored.last_used, Some(500));
    assert_eq!(
        stored,
        portcullis_core::Identity {
            created: seeded.created,
            last_used: Some(500),
            ..reseeded
        }
    );
}

#[test]
fn list_is_sorted_by_id() {
    let store = SqliteStore::open_in_memory().unwrap();
    for id in ["zeta", "alpha", "mid"] {
        store.upsert_identity(&identity(id)).unwrap();
    }
    let ids: Vec<_> = store
        .list_identities()
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["alpha", "mid", "zeta"]);
}

#[test]
fn state_changes_and_touch() {
    let store = SqliteStore::open_in_memory().unwrap();
    store.upsert_identity(&identity("bot")).unwrap();
    for state in [
        IdentityState::Suspended,
        IdentityState::Quarantined,
        IdentityState::Retired,
        IdentityState::Active,
    ] {
        let by = ChangedBy {
            by: "admin-1",
            reason: Some("incident 7"),
        };
        store.set_identity_state("bot", state, 42, &by).unwrap();
        assert_eq!(store.get_identity("bot").unwrap().unwrap().state, state);
    }
    // Each change waits, with who made it, until the ledger has it.
    let pending = store.pending_state_changes(10).unwrap();
    let seen: Vec<_> = pending.iter().map(|c| (c.from, c.to)).collect();
    assert_eq!(
        seen,
        [
            (Some(IdentityState::Active), IdentityState::Suspended),
            (Some(IdentityState::Suspended), IdentityState::Quarantined),
            (Some(IdentityState::Quarantined), IdentityState::Retired),
            (Some(IdentityState::Retired), IdentityState::Active),
        ]
    );
    let first = &pending[0];
    assert_eq!(
        (
            first.identity.as_str(),
            first.by.as_str(),
            first.reason.as_deref(),
            first.time
        ),
        ("bot", "admin-1", Some("incident 7"), 42)
    );
    // A change decided on an old view does not overwrite a newer one.
    let watch = ChangedBy::who("watch:probing");
    assert!(
        !store
            .set_identity_state_if(
                "bot",
                IdentityState::Suspended,
                IdentityState::Quarantined,
                43,
                &watch
            )
            .unwrap()
    );
    assert_eq!(
        store.get_identity("bot").unwrap().unwrap().state,
        IdentityState::Active
    );
    assert_eq!(
        store.pending_state_changes(10).unwrap().len(),
        4,
        "nothing recorded"
    );
    store.mark_state_changes_recorded(pending[1].seq).unwrap();
    let left: Vec<i64> = store
        .pending_state_changes(10)
        .unwrap()
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(left, [pending[2].seq, pending[3].seq]);
    store.touch_identity("bot", 300).unwrap();
    // A clock stepping backwards never moves last_used back.
    store.touch_identity("bot", 200).unwrap();
    assert_eq!(
        store.get_identity("bot").unwrap().unwrap().last_used,
        Some(300)
    );
}

#[test]
fn missing_identities() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(store.get_identity("ghost").unwrap(), None);
    let not_found = |r: Result<(), StoreError>| match r {
        Err(StoreError::NotFound(e)) => {
            assert_eq!((e.what(), e.id()), ("identity", "ghost"));
        }
        other => panic!("expected not found, got {other:?}"),
    };
    not_found(store.set_identity_state(
        "ghost",
        IdentityState::Suspended,
        1,
        &ChangedBy::who("test"),
    ));
    assert!(store.pending_state_changes(10).unwrap().is_empty());
    not_found(store.touch_identity("ghost", 1));
    not_found(store.delete_identity("ghost"));

    store.upsert_identity(&identity("bot")).unwrap();
    store.delete_identity("bot").unwrap();
    assert_eq!(store.get_identity("bot").unwrap(), None);
    assert!(store.list_identities().unwrap().is_empty());
}

#[test]
fn many_identities_are_saved_in_one_call() {
    let store = SqliteStore::open_in_memory().unwrap();
    let many: Vec<_> = (0..1_000)
        .map(|i| identity(&format!("bot-{i:04}")))
        .collect();
    store.upsert_identities(&many).unwrap();
    assert_eq!(store.list_identities().unwrap(), many);
    // Saving again changes nothing: the same upsert as one at a time.
    store.upsert_identities(&many).unwrap();
    assert_eq!(store.list_identities().unwrap().len(), 1_000);
}
