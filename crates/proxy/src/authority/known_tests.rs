use std::cell::Cell;

use portcullis_core::{IdentityKind, IdentityState};

use super::*;

fn identity(id: &str) -> Identity {
    Identity {
        id: id.to_owned(),
        kind: IdentityKind::Agent,
        owner: "team".to_owned(),
        environment: "test".to_owned(),
        tags: Vec::new(),
        scopes: Vec::new(),
        state: IdentityState::Active,
        created: 0,
        expires: None,
        last_used: None,
    }
}

#[test]
fn the_store_is_read_once_then_again_only_after_a_change() {
    let known = Known::new();
    let reads = Cell::new(0);
    let read = |id: &str| {
        reads.set(reads.get() + 1);
        Ok::<_, ()>(Some(identity(id)))
    };
    for _ in 0..3 {
        let found = known.identity("a", || read("a")).unwrap().unwrap();
        assert_eq!(found.id, "a");
    }
    assert_eq!(reads.get(), 1);
    known.clear().unwrap();
    known.identity("a", || read("a")).unwrap();
    assert_eq!(reads.get(), 2);
}

#[test]
fn an_absent_identity_is_remembered_as_absent_until_a_change() {
    let known = Known::new();
    let reads = Cell::new(0);
    let read = || {
        reads.set(reads.get() + 1);
        Ok::<_, ()>(None)
    };
    assert!(known.identity("gone", read).unwrap().is_none());
    assert!(known.identity("gone", read).unwrap().is_none());
    assert_eq!(reads.get(), 1);
    known.clear().unwrap();
    // Created since: the next lookup sees it.
    let found = known.identity("gone", || Ok::<_, ()>(Some(identity("gone"))));
    assert!(found.unwrap().is_some());
}

/// A row read while the store changes is the caller's, never kept: the
/// next lookup reads the store again and sees the change.
#[test]
fn a_row_read_across_a_change_is_not_kept() {
    let known = Known::new();
    let stale = known.identity("a", || {
        known.clear().unwrap();
        Ok::<_, ()>(Some(identity("a")))
    });
    assert_eq!(stale.unwrap().unwrap().state, IdentityState::Active);
    let mut suspended = identity("a");
    suspended.state = IdentityState::Suspended;
    let now = known.identity("a", || Ok::<_, ()>(Some(suspended)));
    assert_eq!(now.unwrap().unwrap().state, IdentityState::Suspended);
}

#[test]
fn a_store_that_cannot_answer_is_unavailable_never_absent() {
    let known = Known::new();
    assert!(known.identity("a", || Err("disk")).is_err());
    let hash = portcullis_token::hash_secret("k");
    assert!(known.api_key(&hash, || Err("disk")).is_err());
}

#[test]
fn unknown_api_keys_are_not_remembered_and_known_ones_are() {
    let known = Known::new();
    let reads = Cell::new(0);
    for i in 0..100 {
        let hash = portcullis_token::hash_secret(&format!("guess-{i}"));
        let found = known.api_key(&hash, || {
            reads.set(reads.get() + 1);
            Ok::<_, ()>(None)
        });
        assert!(found.unwrap().is_none());
    }
    assert_eq!((reads.get(), known.len()), (100, 0));
    let hash = portcullis_token::hash_secret("real");
    let entry = ApiKeyEntry {
        credential: "c1".to_owned(),
        identity: "a".to_owned(),
        expires: 10,
    };
    for _ in 0..2 {
        let found = known.api_key(&hash, || {
            reads.set(reads.get() + 1);
            Ok::<_, ()>(Some(entry.clone()))
        });
        assert_eq!(found.unwrap().unwrap().credential, "c1");
    }
    assert_eq!((reads.get(), known.len()), (101, 1));
}

/// Memory stays within two generations however many identities call, and
/// one in steady use is never read again.
#[test]
fn memory_is_bounded_and_a_busy_identity_stays() {
    let known = Known::new();
    let busy_reads = Cell::new(0);
    for i in 0..(3 * GENERATION) {
        let id = format!("id-{i}");
        known
            .identity(&id, || Ok::<_, ()>(Some(identity(&id))))
            .unwrap();
        if i % 1000 == 0 {
            known
                .identity("busy", || {
                    busy_reads.set(busy_reads.get() + 1);
                    Ok::<_, ()>(Some(identity("busy")))
                })
                .unwrap();
        }
        assert!(known.len() <= 2 * GENERATION);
    }
    assert_eq!(busy_reads.get(), 1);
    assert!(known.len() > GENERATION);
}
