use std::path::PathBuf;

use super::*;
use crate::ledger::{Filter, Location, Sync};

fn entry(n: u64) -> Entry {
    Entry {
        time_ms: 1_700_000_000_000,
        request_id: format!("req-{n}"),
        method: "GET".into(),
        path: "/x".into(),
        stage: "check_response".into(),
        decision: "allow".into(),
        status: 200,
        ..Entry::default()
    }
}

struct File(PathBuf);

impl File {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "portcullis-writer-{}-{name}.db",
            std::process::id()
        ));
        let file = Self(path);
        file.remove();
        file
    }

    fn location(&self) -> Location {
        Location::File(self.0.clone())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }

    fn sql(&self, sql: &str) {
        rusqlite::Connection::open(&self.0)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }
}

impl Drop for File {
    fn drop(&mut self) {
        self.remove();
    }
}

fn writer(file: &File, config: WriterConfig) -> AuditWriter {
    writer_with(file, config, AuditKey::generate("audit-1").unwrap())
}

fn writer_with(file: &File, config: WriterConfig, key: AuditKey) -> AuditWriter {
    let ledger = Ledger::open(&file.location(), Sync::Normal).unwrap();
    AuditWriter::start(ledger, key, config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_all_land_in_one_verifiable_chain() {
    let file = File::new("concurrent");
    // Batches of at most 50, so a checkpoint lands within 150 records of the
    // last whatever the scheduling: at least 6 for 1,000 records.
    let config = WriterConfig {
        checkpoint_every: 100,
        queue: 64,
        max_batch: 50,
        ..WriterConfig::default()
    };
    let writer = Arc::new(writer(&file, config));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let writer = Arc::clone(&writer);
        tasks.push(tokio::spawn(async move {
            for n in 0..125 {
                writer.record(entry(t * 1000 + n)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    writer.flush().await;
    let stats = Arc::clone(writer.stats());
    assert_eq!(stats.records(), 1_000);
    assert!(
        stats.commits() < 1_000,
        "grouped: {} commits",
        stats.commits()
    );
    Arc::into_inner(writer).unwrap().shutdown();
    let reader = Ledger::open_reader(&file.location()).unwrap();
    let report = reader.verify(&[]).unwrap();
    assert_eq!(
        (report.problem, report.records, report.signed_to),
        (None, 1_000, Some(1_000))
    );
    assert!(reader.checkpoints().unwrap().len() >= 5);
}

#[tokio::test]
async fn strict_records_return_their_sequence_and_survive_a_restart() {
    let file = File::new("strict");
    let config = WriterConfig {
        durability: Durability::Strict,
        ..WriterConfig::default()
    };
    let key = AuditKey::generate("audit-1").unwrap();
    let same = || AuditKey::from_pkcs8("audit-1", key.pkcs8_der()).unwrap();
    let first = writer_with(&file, config.clone(), same());
    assert_eq!(first.record(entry(1)).await, Ok(Some(1)));
    assert_eq!(first.record(entry(2)).await, Ok(Some(2)));
    first.shutdown();
    let second = writer_with(&file, config.clone(), same());
    assert_eq!(second.record(entry(3)).await, Ok(Some(3)));
    second.shutdown();
    // Another key under the same id is refused, not silently ignored.
    let ledger = Ledger::open(&file.location(), Sync::Normal).unwrap();
    assert!(AuditWriter::start(ledger, AuditKey::generate("audit-1").unwrap(), config).is_err());
    let reader = Ledger::open_reader(&file.location()).unwrap();
    assert_eq!(reader.verify(&[]).unwrap().problem, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_ledger_refuses_strict_records_and_loses_none() {
    let file = File::new("failing");
    let config = WriterConfig {
        durability: Durability::Strict,
        ..WriterConfig::default()
    };
    let writer = writer(&file, config);
    assert_eq!(writer.record(entry(1)).await, Ok(Some(1)));
    // Every insert now fails, as on a full disk.
    file.sql(
        "CREATE TRIGGER full BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    );
    assert_eq!(writer.record(entry(2)).await, Err(WriteError::Failed));
    assert!(!writer.stats().healthy());
    file.sql("DROP TRIGGER full;");
    // The refused record is retried and says what the caller was told.
    writer.flush().await;
    assert!(writer.stats().healthy());
    assert_eq!(writer.record(entry(3)).await, Ok(Some(3)));
    writer.shutdown();
    let reader = Ledger::open_reader(&file.location()).unwrap();
    assert_eq!(reader.verify(&[]).unwrap().problem, None);
    let page = reader
        .query(&Filter {
            code: Some("unavailable".into()),
            limit: 10,
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(page.records.len(), 1);
    let refused = &page.records[0]["entry"];
    assert_eq!(
        (
            &refused["request_id"],
            &refused["status"],
            &refused["stage"]
        ),
        (&"req-2".into(), &503.into(), &"record".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_records_wait_out_a_failure_and_all_land() {
    let file = File::new("batch-failing");
    let config = WriterConfig {
        queue: 8,
        ..WriterConfig::default()
    };
    let writer = Arc::new(writer(&file, config));
    file.sql(
        "CREATE TRIGGER full BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    );
    let sender = {
        let writer = Arc::clone(&writer);
        tokio::spawn(async move {
            for n in 0..100 {
                writer.record(entry(n)).await.unwrap();
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!sender.is_finished(), "a full queue makes the caller wait");
    file.sql("DROP TRIGGER full;");
    sender.await.unwrap();
    writer.flush().await;
    Arc::into_inner(writer).unwrap().shutdown();
    let reader = Ledger::open_reader(&file.location()).unwrap();
    let report = reader.verify(&[]).unwrap();
    assert_eq!((report.problem, report.records), (None, 100));
}

/// A writer asked to stop while its ledger refuses every commit stops after
/// one more try (logging what it could not write) instead of retrying for
/// ever: a gateway's shutdown is never held by its ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_stops_even_when_its_ledger_refuses() {
    let file = File::new("refusing-stop");
    let writer = writer(&file, WriterConfig::default());
    file.sql(
        "CREATE TRIGGER full BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    );
    writer.record(entry(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!writer.stats().healthy());
    let (done, stopped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        writer.shutdown();
        let _ = done.send(());
    });
    assert!(
        stopped.recv_timeout(Duration::from_secs(5)).is_ok(),
        "the writer did not stop"
    );
}
