//! The fleet's ledger on the machine's PostgreSQL: two nodes' chains side
//! by side, each verified on its own; queries across both in time order,
//! paged without a record lost or repeated; a row edited in one chain named
//! there and nowhere else; pruning one chain leaves it verifiable.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_audit::{AuditKey, Checkpoint, Entry, Problem, Sealed};

use crate::ledger::{Filter, Ledger, LedgerError, Location, Sync};
use crate::postgres::testing::TestDatabase;
use crate::{PostgresUrl, StorageLocation};

fn url(db: &TestDatabase) -> PostgresUrl {
    match StorageLocation::parse(&db.url()).unwrap() {
        StorageLocation::Postgres(url) => url,
        StorageLocation::Sqlite(_) => unreachable!(),
    }
}

fn entry(node: &str, n: u64) -> Entry {
    Entry {
        // The two nodes' records interleave in time.
        time_ms: 1_700_000_000_000 + i64::try_from(n).unwrap() * 10 + i64::from(node == "gw-b"),
        request_id: format!("{node}-{n}"),
        identity: Some(if n.is_multiple_of(2) { "even" } else { "odd" }.into()),
        api: Some("orders".into()),
        operation: Some("listOrders".into()),
        method: "GET".into(),
        path: "/orders/v1/orders".into(),
        stage: "check_response".into(),
        decision: "allow".into(),
        status: 200,
        ..Entry::default()
    }
}

/// `count` records in `node`'s chain, a checkpoint every 10.
fn write(location: &Location, node: &str, key: &AuditKey, count: u64) {
    let mut ledger = Ledger::open(location, Sync::Full).unwrap();
    ledger.put_key(&key.public()).unwrap();
    let mut head = ledger.head().unwrap();
    // Each chain starts from its own node's genesis, not another's.
    assert_eq!(head, (0, super::genesis(node)));
    assert_ne!(super::genesis("gw-a"), super::genesis("gw-b"));
    let mut batch = Vec::new();
    for _ in 0..count {
        head.0 += 1;
        let e = entry(node, head.0);
        let sealed = Sealed::seal(head.0, head.1, e.clone()).unwrap();
        head.1 = sealed.hash;
        batch.push((sealed, e));
        if head.0.is_multiple_of(10) {
            ledger.append(&batch).unwrap();
            batch.clear();
            ledger
                .add_checkpoint(&Checkpoint::sign(key, head.0, head.1, 1))
                .unwrap();
        }
    }
    ledger.append(&batch).unwrap();
    assert_eq!(ledger.head().unwrap(), head);
}

#[test]
fn each_node_keeps_its_own_chain_and_readers_see_the_fleet() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::create("ledger"));
    // The store's migrations make the ledger's tables.
    drop(crate::postgres::PostgresStore::open(&db.url()).unwrap());
    let (url, key) = (url(&db), AuditKey::generate("audit-fleet").unwrap());
    let at = |node: Option<&str>| Location::Postgres {
        url: url.clone(),
        node: node.map(str::to_owned),
        fence: None,
    };
    write(&at(Some("gw-a")), "gw-a", &key, 25);
    write(&at(Some("gw-b")), "gw-b", &key, 20);

    let fleet = Ledger::open_reader(&at(None)).unwrap();
    assert_eq!(
        fleet.nodes().unwrap(),
        [Some("gw-a".into()), Some("gw-b".into())]
    );
    let reports = fleet.verify_each(&[]).unwrap();
    assert_eq!(reports.len(), 2);
    for (node, report) in &reports {
        assert!(report.is_ok(), "{node:?}: {:?}", report.problem);
    }
    // One chain's work is not the fleet's: it must be named.
    assert!(matches!(fleet.head(), Err(LedgerError::Unsupported(_))));
    assert!(Ledger::open(&at(None), Sync::Full).is_err());

    // Newest first by time across both chains, paged to the end.
    let mut seen = Vec::new();
    let mut filter = Filter {
        limit: 7,
        ..Filter::default()
    };
    loop {
        let page = fleet.query(&filter).unwrap();
        seen.extend(
            page.records
                .iter()
                .map(|r| r["entry"]["request_id"].as_str().unwrap().to_owned()),
        );
        match page.next {
            Some(next) => filter.before_seq = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 45);
    assert_eq!(&seen[..4], ["gw-a-25", "gw-a-24", "gw-a-23", "gw-a-22"]);
    assert!(seen.contains(&"gw-b-20".to_owned()) && seen.ends_with(&["gw-a-1".to_owned()]));
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 45);
    let odd = Filter {
        identity: Some("odd".into()),
        limit: 100,
        ..Filter::default()
    };
    assert_eq!(fleet.query(&odd).unwrap().records.len(), 13 + 10);
    // A node's own reader sees its chain only.
    let own = Ledger::open_reader(&at(Some("gw-b"))).unwrap();
    assert_eq!(own.query(&odd).unwrap().records.len(), 10);
    assert_eq!(own.first_since(1_700_000_000_000 + 101).unwrap(), Some(10));

    // Edited by hand in gw-b: named there, gw-a still verifies.
    runtime.block_on(async {
        let admin = crate::postgres::connect(&db.url()).await.unwrap();
        admin
            .batch_execute("UPDATE ledger_records SET body = replace(body, '\"status\":200', '\"status\":500') WHERE node = 'gw-b' AND seq = 7")
            .await
            .unwrap();
    });
    let reports = fleet.verify_each(&[]).unwrap();
    assert!(reports[0].1.is_ok());
    assert!(
        matches!(reports[1].1.problem, Some(Problem::Modified { seq: 7 })),
        "{:?}",
        reports[1].1.problem
    );

    // Pruned to its last 5: gw-a's chain starts at checkpoint 20 and holds.
    let mut a = Ledger::open(&at(Some("gw-a")), Sync::Full).unwrap();
    assert_eq!(a.prune_to(5).unwrap(), Some(20));
    assert_eq!(a.anchor().unwrap().seq, 20);
    let reports = fleet.verify_each(&[]).unwrap();
    assert!(reports[0].1.is_ok(), "{:?}", reports[0].1.problem);
}

/// Two chains' names swapped by hand: neither verifies (each chain starts
/// from its own node's genesis).
#[test]
fn chains_renamed_by_hand_no_longer_verify() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::create("swap"));
    drop(crate::postgres::PostgresStore::open(&db.url()).unwrap());
    let (url, key) = (url(&db), AuditKey::generate("audit-swap").unwrap());
    let at = |node: Option<&str>| Location::Postgres {
        url: url.clone(),
        node: node.map(str::to_owned),
        fence: None,
    };
    write(&at(Some("gw-a")), "gw-a", &key, 5);
    write(&at(Some("gw-b")), "gw-b", &key, 5);
    runtime.block_on(async {
        let admin = crate::postgres::connect(&db.url()).await.unwrap();
        admin
            .batch_execute(
                "UPDATE ledger_records SET node = 'tmp' WHERE node = 'gw-a'; \
                 UPDATE ledger_records SET node = 'gw-a' WHERE node = 'gw-b'; \
                 UPDATE ledger_records SET node = 'gw-b' WHERE node = 'tmp'",
            )
            .await
            .unwrap();
    });
    let reports = Ledger::open_reader(&at(None))
        .unwrap()
        .verify_each(&[])
        .unwrap();
    assert_eq!(reports.len(), 2);
    for (node, report) in &reports {
        assert!(report.problem.is_some(), "{node:?} still verifies");
    }
}

/// A writer fenced by its register instance: its batches land while the
/// instance holds the node id, and are refused once another process has
/// taken it; a batch that already landed (its commit seen late) is no
/// conflict when appended again, a different one under the same numbers is.
#[test]
fn a_fenced_writer_stops_when_its_node_id_is_taken() {
    use crate::{NodeRecord, NodeStore};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::create("fence"));
    let store = crate::postgres::PostgresStore::open(&db.url()).unwrap();
    let node = |instance: &str| NodeRecord {
        id: "gw-f".into(),
        instance: instance.into(),
        version: "0".into(),
        config_digest: "d".into(),
        address: "a".into(),
    };
    store
        .heartbeat_node(&node("one"), std::time::Duration::from_secs(60))
        .unwrap();
    let mut ledger = Ledger::open(
        &Location::Postgres {
            url: url(&db),
            node: Some("gw-f".into()),
            fence: Some("one".into()),
        },
        Sync::Full,
    )
    .unwrap();
    let head = ledger.head().unwrap();
    let first = entry("gw-f", 1);
    let sealed = Sealed::seal(1, head.1, first.clone()).unwrap();
    ledger.append(&[(sealed.clone(), first.clone())]).unwrap();
    // Seen again (a commit that landed after the writer gave up): fine.
    ledger.append(&[(sealed.clone(), first)]).unwrap();
    // Other records under the same number: refused.
    let other = entry("gw-f", 9);
    let forged = Sealed::seal(1, head.1, other.clone()).unwrap();
    assert!(ledger.append(&[(forged, other)]).is_err());

    // Another process takes the id once the first is no longer heard.
    std::thread::sleep(std::time::Duration::from_millis(20));
    store
        .heartbeat_node(&node("two"), std::time::Duration::from_millis(10))
        .unwrap();
    let second = entry("gw-f", 2);
    let next = Sealed::seal(2, sealed.hash, second.clone()).unwrap();
    assert!(
        matches!(
            ledger.append(&[(next, second)]),
            Err(LedgerError::Fenced(_))
        ),
        "a fenced writer appended"
    );
    assert_eq!(ledger.head().unwrap().0, 1);
}
