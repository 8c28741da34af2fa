//! Sealing one audit record (canonical JSON encoding plus SHA-256), against
//! the two halves alone as same-run baselines.
//!
//! Run: `cargo bench -p portcullis-audit --bench record`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_audit::{Entry, Hash, Sealed, StageTime};

/// A record as the gateway writes it for an allowed request.
fn entry() -> Entry {
    let stages = [
        "limits",
        "authenticate",
        "canonical",
        "route",
        "identity_state",
        "scopes",
        "validate",
        "authorize",
        "rate_limit",
        "forward",
        "check_response",
    ];
    Entry {
        time_ms: 1_795_514_400_123,
        request_id: "7f3a9c0e2b4d4e6f8a1b2c3d4e5f6a7b".into(),
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        identity: Some("reporting-agent".into()),
        credential: None,
        token: Some("d4dn7PkOUYqRECLcw3X7QA".into()),
        api: Some("orders".into()),
        operation: Some("getOrder".into()),
        method: "GET".into(),
        path: "/orders/v1/orders/9d2e4f60-7b1c-4a3d-b5e6-f70819a2b301".into(),
        stage: "check_response".into(),
        decision: "allow".into(),
        code: None,
        observed: None,
        policies: vec!["reporting-reads".into()],
        policy_errors: 0,
        snapshot: 3,
        contract: Some("80f21f381366a1f0c5b7e2d9f4a3c6b8e1d0f9a2b3c4d5e6f7a8b9c0d1e2f3a4".into()),
        upstream_status: Some(200),
        status: 200,
        bytes_in: 0,
        bytes_out: 1_024,
        latency_us: 412,
        stages: stages
            .iter()
            .map(|s| StageTime {
                stage: (*s).into(),
                us: 12,
            })
            .collect(),
        source: "127.0.0.1:53122".into(),
        fields_stripped: 2,
        secrets_redacted: 0,
        client_id: None,
        mcp: None,
        on_behalf_of: None,
        alert: None,
        state_change: None,
        ack: None,
        credential_change: None,
    }
}

fn bench(c: &mut Criterion) {
    let entry = entry();
    let prev = Hash::of(b"previous");
    let sealed = Sealed::seal(1, prev, entry.clone());
    assert!(sealed.is_ok());
    let body = sealed.map(|s| s.body).unwrap_or_default();
    c.bench_function("baseline: encode only", |b| {
        b.iter(|| serde_json::to_string(black_box(&entry)))
    });
    c.bench_function("baseline: sha-256 only", |b| {
        b.iter(|| Hash::of(black_box(body.as_bytes())))
    });
    c.bench_function("seal: encode + hash", |b| {
        b.iter(|| Sealed::seal(black_box(42), black_box(prev), black_box(entry.clone())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
