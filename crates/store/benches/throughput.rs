//! Sustained durable records per second on this machine: a ledger file in
//! the temp folder, 64 concurrent submitters, batch and strict durability,
//! against the same records sealed without any storage as the same-run
//! baseline. Bounded: 20,000 records a mode.
//!
//! Run: `cargo bench -p portcullis-store --bench throughput`

use std::sync::Arc;
use std::time::Instant;

use portcullis_audit::{AuditKey, Entry, Hash, Sealed};
use portcullis_store::ledger::writer::{AuditWriter, Durability, WriterConfig};
use portcullis_store::ledger::{Ledger, Location, Sync};

const SUBMITTERS: u64 = 64;

fn entry(n: u64) -> Entry {
    Entry {
        time_ms: 1_795_514_400_000,
        request_id: format!("{n:032x}"),
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        identity: Some("reporting-agent".into()),
        api: Some("orders".into()),
        operation: Some("getOrder".into()),
        method: "GET".into(),
        path: "/orders/v1/orders/9d2e4f60-7b1c-4a3d-b5e6-f70819a2b301".into(),
        stage: "check_response".into(),
        decision: "allow".into(),
        policies: vec!["reporting-reads".into()],
        status: 200,
        bytes_out: 1_024,
        source: "127.0.0.1:53122".into(),
        ..Entry::default()
    }
}

fn run(durability: Durability, sync: Sync, records: u64) -> Result<f64, String> {
    let path = std::env::temp_dir().join(format!(
        "portcullis-throughput-{}-{durability:?}.db",
        std::process::id()
    ));
    let remove = || {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    };
    remove();
    let ledger = Ledger::open(&Location::File(path.clone()), sync).map_err(|e| e.to_string())?;
    let key = AuditKey::generate("bench").map_err(|e| e.to_string())?;
    let config = WriterConfig {
        durability,
        ..WriterConfig::default()
    };
    let writer = Arc::new(AuditWriter::start(ledger, key, config).map_err(|e| e.to_string())?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for s in 0..SUBMITTERS {
            let writer = Arc::clone(&writer);
            tasks.push(tokio::spawn(async move {
                let mut n = s;
                while n < records {
                    let _ = writer.record(entry(n)).await;
                    n += SUBMITTERS;
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        writer.flush().await;
    });
    let elapsed = started.elapsed().as_secs_f64();
    let commits = writer.stats().commits();
    drop(writer);
    remove();
    let rate = records as f64 / elapsed;
    println!(
        "{durability:?} ({sync:?} sync): {records} records in {elapsed:.2} s = {rate:.0} records/s, {commits} commits (≈{:.0} records a commit)",
        records as f64 / commits.max(1) as f64
    );
    Ok(rate)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
    // once as a smoke test, so keep that short.
    let records: u64 = if std::env::args().any(|a| a == "--bench") {
        20_000
    } else {
        500
    };
    let started = Instant::now();
    let mut prev = Hash::GENESIS;
    for n in 0..records {
        if let Ok(sealed) = Sealed::seal(n + 1, prev, entry(n)) {
            prev = sealed.hash;
        }
    }
    let baseline = records as f64 / started.elapsed().as_secs_f64();
    println!("baseline, sealing only (no storage): {baseline:.0} records/s");
    for (durability, sync) in [
        (Durability::Batch, Sync::Normal),
        (Durability::Strict, Sync::Normal),
        (Durability::Strict, Sync::Full),
    ] {
        match run(durability, sync, records) {
            Ok(rate) => println!("  = {:.2}× the baseline", rate / baseline),
            Err(e) => println!("{durability:?}: failed: {e}"),
        }
    }
}
