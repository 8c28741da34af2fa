//! The ledger file tampered with by hand, as an attacker with write access
//! to it would: every change is detected and located.

use super::*;
use portcullis_audit::{AuditKey, Problem};
use rusqlite::Connection;

struct Fixture {
    path: PathBuf,
    key: AuditKey,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        remove(&self.path);
    }
}

/// The database file and its WAL companions.
fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn entry(n: u64) -> Entry {
    Entry {
        time_ms: 1_700_000_000_000 + i64::try_from(n).unwrap() * 1_000,
        request_id: format!("req-{n}"),
        identity: Some(if n.is_multiple_of(2) { "even" } else { "odd" }.into()),
        api: Some("orders".into()),
        operation: Some("listOrders".into()),
        method: "GET".into(),
        path: "/orders/v1/orders".into(),
        stage: "check_response".into(),
        decision: if n.is_multiple_of(3) { "deny" } else { "allow" }.into(),
        code: (n.is_multiple_of(3)).then(|| "forbidden".into()),
        status: if n.is_multiple_of(3) { 403 } else { 200 },
        ..Entry::default()
    }
}

/// The record after `head` (its entry made for its sequence number),
/// sealed; it becomes the head.
fn seal_next(head: &mut (u64, Hash), make: impl FnOnce(u64) -> Entry) -> (Sealed, Entry) {
    head.0 += 1;
    let entry = make(head.0);
    let sealed = Sealed::seal(head.0, head.1, entry.clone()).unwrap();
    head.1 = sealed.hash;
    (sealed, entry)
}

/// Twenty records in a file, checkpoints at 10 and 20.
fn fixture(name: &str) -> Fixture {
    let path = std::env::temp_dir().join(format!(
        "portcullis-ledger-{}-{name}.db",
        std::process::id()
    ));
    let fixture = Fixture {
        path,
        key: AuditKey::generate("audit-test").unwrap(),
    };
    remove(&fixture.path);
    let mut ledger = Ledger::open(&Location::File(fixture.path.clone()), Sync::Normal).unwrap();
    ledger.put_key(&fixture.key.public()).unwrap();
    let mut head = (0, Hash::GENESIS);
    for _ in 0..20 {
        let record = seal_next(&mut head, entry);
        ledger.append(&[record]).unwrap();
        if head.0 % 10 == 0 {
            ledger
                .add_checkpoint(&Checkpoint::sign(&fixture.key, head.0, head.1, 1))
                .unwrap();
        }
    }
    fixture
}

impl Fixture {
    fn sql(&self, sql: &str) {
        let conn = Connection::open(&self.path).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    fn problem(&self) -> Option<Problem> {
        let ledger = Ledger::open_reader(&Location::File(self.path.clone())).unwrap();
        ledger.verify(&[self.key.public()]).unwrap().problem
    }
}

#[test]
fn an_untouched_ledger_verifies_with_its_own_key_too() {
    let f = fixture("clean");
    assert_eq!(f.problem(), None);
    let ledger = Ledger::open_reader(&Location::File(f.path.clone())).unwrap();
    let report = ledger.verify(&[]).unwrap();
    assert_eq!(
        (report.problem, report.records, report.signed_to),
        (None, 20, Some(20))
    );
}

#[test]
fn a_changed_byte_in_a_record() {
    let f = fixture("byte");
    f.sql(
        "UPDATE records SET body = replace(body, '\"status\":200', '\"status\":201') WHERE seq = 4",
    );
    assert_eq!(f.problem(), Some(Problem::Modified { seq: 4 }));
}

#[test]
fn a_changed_indexed_column() {
    let f = fixture("column");
    f.sql("UPDATE records SET identity = 'someone-else' WHERE seq = 5");
    assert_eq!(f.problem(), Some(Problem::Modified { seq: 5 }));
}

#[test]
fn a_deleted_row() {
    let f = fixture("delete");
    f.sql("DELETE FROM records WHERE seq = 12");
    assert_eq!(f.problem(), Some(Problem::Deleted { from: 12, to: 12 }));
}

#[test]
fn two_swapped_rows() {
    let f = fixture("swap");
    f.sql(
        "UPDATE records SET seq = -1 WHERE seq = 7;
         UPDATE records SET seq = 7 WHERE seq = 8;
         UPDATE records SET seq = 8 WHERE seq = -1;",
    );
    assert_eq!(f.problem(), Some(Problem::Reordered { seq: 7, found: 8 }));
}

#[test]
fn a_truncated_tail() {
    let f = fixture("truncate");
    f.sql("DELETE FROM records WHERE seq > 15");
    assert_eq!(
        f.problem(),
        Some(Problem::Truncated {
            last: 15,
            checkpoint: 20
        })
    );
}

#[test]
fn an_inserted_row() {
    let f = fixture("insert");
    let forged = Sealed::seal(21, Hash::of(b"guess"), entry(21)).unwrap();
    let mut ledger = Ledger::open(&Location::File(f.path.clone()), Sync::Normal).unwrap();
    ledger.append(&[(forged, entry(21))]).unwrap();
    assert_eq!(f.problem(), Some(Problem::Inserted { seq: 21 }));
}

#[test]
fn queries_bind_every_value_and_page() {
    let f = fixture("query");
    let ledger = Ledger::open_reader(&Location::File(f.path.clone())).unwrap();
    let all = |filter: Filter| ledger.query(&filter).unwrap();
    let page = all(Filter {
        identity: Some("even".into()),
        decision: Some("deny".into()),
        limit: 2,
        ..Filter::default()
    });
    let seqs: Vec<u64> = page
        .records
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!((seqs, page.next), (vec![18, 12], Some(12)));
    let older = all(Filter {
        identity: Some("even".into()),
        decision: Some("deny".into()),
        before_seq: page.next,
        limit: 2,
        ..Filter::default()
    });
    assert_eq!(older.records.len(), 1);
    assert_eq!(older.records[0]["entry"]["request_id"], "req-6");
    let injected = all(Filter {
        identity: Some("even' OR '1'='1".into()),
        limit: 50,
        ..Filter::default()
    });
    assert!(injected.records.is_empty());
    let huge = all(Filter {
        limit: u32::MAX,
        ..Filter::default()
    });
    assert_eq!(huge.records.len(), 20);
    let window = all(Filter {
        since_ms: Some(1_700_000_005_000),
        until_ms: Some(1_700_000_008_000),
        limit: 50,
        ..Filter::default()
    });
    assert_eq!(window.records.len(), 3);
}

#[test]
fn pruning_at_a_checkpoint_keeps_the_chain_verifiable() {
    let f = fixture("prune");
    let mut ledger = Ledger::open(&Location::File(f.path.clone()), Sync::Normal).unwrap();
    assert_eq!(
        ledger.prune(1_700_000_000_000).unwrap(),
        None,
        "nothing old enough"
    );
    assert_eq!(ledger.prune(1_700_000_015_000).unwrap(), Some(10));
    assert_eq!(f.problem(), None);
    let reader = Ledger::open_reader(&Location::File(f.path.clone())).unwrap();
    assert_eq!(reader.verify(&[]).unwrap().records, 10);
    f.sql("DELETE FROM records WHERE seq = 11");
    assert_eq!(f.problem(), Some(Problem::Deleted { from: 11, to: 11 }));
    f.sql("UPDATE meta SET value = '9' WHERE key = 'anchor_seq'");
    assert_eq!(f.problem(), Some(Problem::Unanchored { seq: 10 }));
}

#[test]
fn pruning_by_size_keeps_at_most_that_many() {
    let f = fixture("prune-size");
    let mut ledger = Ledger::open(&Location::File(f.path.clone()), Sync::Normal).unwrap();
    assert_eq!(
        ledger.prune_to(25).unwrap(),
        None,
        "fewer than that already"
    );
    assert_eq!(ledger.prune_to(15).unwrap(), Some(10));
    assert_eq!(f.problem(), None);
    assert_eq!(ledger.prune_to(15).unwrap(), None, "already pruned there");
}

#[test]
fn a_clock_stepping_backwards_changes_no_order_and_breaks_nothing() {
    let f = fixture("clock");
    let mut ledger = Ledger::open(&Location::File(f.path.clone()), Sync::Normal).unwrap();
    let mut head = ledger.head().unwrap();
    // Three records written after the clock stepped back an hour.
    for n in 0..3 {
        let record = seal_next(&mut head, |seq| Entry {
            time_ms: 1_700_000_000_000 - 3_600_000 + n,
            ..entry(seq)
        });
        ledger.append(&[record]).unwrap();
    }
    ledger
        .add_checkpoint(&Checkpoint::sign(&f.key, head.0, head.1, 1))
        .unwrap();
    assert_eq!(f.problem(), None, "order is the sequence, not the clock");
    let newest = ledger
        .query(&Filter {
            limit: 1,
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(newest.records[0]["seq"], 23, "newest by sequence");
    let stepped_back = ledger
        .query(&Filter {
            until_ms: Some(1_700_000_000_000),
            limit: 50,
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(
        stepped_back.records.len(),
        3,
        "time filters read the recorded times"
    );
}

/// The log is copied into the database file in small steps: a few thousand
/// records leave a log of a few hundred KB, not SQLite's default 4 MB
/// reached in one burst (which showed as the gateway's tail latency).
#[test]
fn the_write_ahead_log_is_copied_back_in_small_steps() {
    let fixture = fixture("wal-size");
    let mut ledger = Ledger::open(&Location::File(fixture.path.clone()), Sync::Normal).unwrap();
    let mut head = ledger.head().unwrap();
    for _ in 0..60 {
        let batch: Vec<(Sealed, Entry)> = (0..50).map(|_| seal_next(&mut head, entry)).collect();
        ledger.append(&batch).unwrap();
    }
    let database = std::fs::metadata(&fixture.path).unwrap().len();
    let log = std::fs::metadata(format!("{}-wal", fixture.path.display()))
        .unwrap()
        .len();
    assert!(
        database > 1_000_000,
        "3,000 records in the file: {database}"
    );
    assert!(log < 1_000_000, "the log holds {log} bytes");
    drop(ledger);
    assert_eq!(fixture.problem(), None);
}

#[test]
fn delegated_records_are_found_by_person_and_their_column_is_checked() {
    let f = fixture("person");
    let mut ledger = Ledger::open(&Location::File(f.path.clone()), Sync::Normal).unwrap();
    let mut head = ledger.head().unwrap();
    for person in ["alice", "bob", "alice"] {
        let record = seal_next(&mut head, |n| Entry {
            on_behalf_of: Some(portcullis_audit::OnBehalfOf {
                person: person.into(),
                issuer: "https://idp.example".into(),
                chain: vec!["support-bot".into()],
            }),
            ..entry(n)
        });
        ledger.append(&[record]).unwrap();
    }
    let reader = Ledger::open_reader(&Location::File(f.path.clone())).unwrap();
    let alice = reader
        .query(&Filter {
            person: Some("alice".into()),
            limit: 10,
            ..Filter::default()
        })
        .unwrap();
    let seqs: Vec<u64> = alice
        .records
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [23, 21]);
    assert_eq!(
        alice.records[0]["entry"]["on_behalf_of"]["chain"][0],
        "support-bot"
    );
    assert_eq!(f.problem(), None);
    // The indexed copy is checked against the record like the others.
    f.sql("UPDATE records SET person = 'mallory' WHERE seq = 22");
    assert_eq!(f.problem(), Some(Problem::Modified { seq: 22 }));
}

#[test]
fn a_ledger_from_before_delegation_reads_and_gains_the_person_column() {
    let f = fixture("before-person");
    f.sql("DROP INDEX records_person; ALTER TABLE records DROP COLUMN person;");
    // Read as it is: verifies, and no record in it acted for anyone.
    assert_eq!(f.problem(), None);
    let old = Ledger::open_reader(&Location::File(f.path.clone())).unwrap();
    let filter = Filter {
        person: Some("alice".into()),
        limit: 10,
        ..Filter::default()
    };
    assert!(old.query(&filter).unwrap().records.is_empty());
    // A gateway opening it to write adds the column; the chain carries on.
    drop(Ledger::open(&Location::File(f.path.clone()), Sync::Normal).unwrap());
    let reader = sqlite::SqliteLedger::open_reader(&Location::File(f.path.clone())).unwrap();
    assert!(reader.has_person());
    assert_eq!(f.problem(), None);
}
