//! The detectors' per-record cost: one `Watch::observe` with every detector
//! on, for a mix of 1,000 identities, against a baseline measured in the
//! same run (one lock and one map lookup, the least any per-identity state
//! costs), so the ratio survives a noisy machine.

#![allow(clippy::indexing_slicing)] // indices are taken modulo each table's length

use std::collections::HashMap;
use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Mutex;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_watch::{Observation, Watch, WatchSettings};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_764_892_800_000;

fn bench(c: &mut Criterion) {
    let settings = WatchSettings::new();
    let ids: Vec<String> = (0..1_000).map(|i| format!("agent-{i}")).collect();
    let items: Vec<String> = (0..64).map(|i| format!("ord-{}", i * 37)).collect();
    let ops = ["listOrders", "getOrder", "createOrder"];
    let codes = [
        None,
        None,
        None,
        None,
        None,
        None,
        Some("forbidden"),
        Some("undeclared-route"),
    ];
    let watch = Watch::new(settings.max_identities);
    let mut n: usize = 0;
    let mut group = c.benchmark_group("watch");
    group.bench_function("observe", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            let op = ops[n % 3];
            let obs = Observation {
                time_ms: T0 + (n as i64) * 3,
                identity: &ids[n % ids.len()],
                kind: None,
                api: Some("orders"),
                operation: Some(op),
                code: codes[n % codes.len()],
                address: Some(IpAddr::from([10, 0, (n % 4) as u8, 1])),
                item: (op == "getOrder").then(|| items[n % items.len()].as_str()),
            };
            black_box(watch.observe(&settings, &obs))
        });
    });
    let baseline: Mutex<HashMap<String, u64>> =
        Mutex::new(ids.iter().map(|i| (i.clone(), 0)).collect());
    group.bench_function("baseline_lock_and_lookup", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            let id = &ids[n % ids.len()];
            if let Ok(mut m) = baseline.lock()
                && let Some(v) = m.get_mut(id.as_str())
            {
                *v += 1;
            }
            black_box(&baseline);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
