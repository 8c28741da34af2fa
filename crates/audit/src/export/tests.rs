use std::io::Cursor;

use super::*;
use crate::key::AuditKey;
use crate::ledger::LedgerWrite;
use crate::record::Entry;
use crate::testing::MemoryLedger;
use crate::verify::Problem;

struct Fixture {
    ledger: MemoryLedger,
    key: AuditKey,
}

/// Twenty records a second apart, checkpoints at 10 and 20.
fn fixture() -> Fixture {
    let mut ledger = MemoryLedger::new();
    let key = AuditKey::generate("audit-x").unwrap();
    ledger.publish_key(&key.public()).unwrap();
    let mut prev = Hash::GENESIS;
    for seq in 1..=20u64 {
        let entry = Entry {
            time_ms: 1_000 * i64::try_from(seq).unwrap(),
            request_id: format!("req-{seq}"),
            decision: "allow".into(),
            ..Entry::default()
        };
        let sealed = Sealed::seal(seq, prev, entry.clone()).unwrap();
        prev = sealed.hash;
        ledger.append_batch(&[(sealed, &entry)]).unwrap();
        if seq.is_multiple_of(10) {
            ledger
                .add_checkpoint(&Checkpoint::sign(&key, seq, prev, 1))
                .unwrap();
        }
    }
    Fixture { ledger, key }
}

fn exported(f: &Fixture, since: Option<i64>) -> String {
    let mut out = Vec::new();
    export(&f.ledger, since, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn check(text: &str, keys: &[PublicKey]) -> Report {
    verify_export(&mut Cursor::new(text.as_bytes()), keys).unwrap()
}

#[test]
fn a_whole_export_verifies_offline_with_the_public_key() {
    let f = fixture();
    let text = exported(&f, None);
    assert_eq!(text.lines().count(), 1 + 20 + 2);
    let report = check(&text, &[f.key.public()]);
    assert_eq!(
        (report.problem, report.records, report.signed_to),
        (None, 20, Some(20))
    );
}

#[test]
fn an_export_since_a_time_starts_at_a_signed_checkpoint() {
    let f = fixture();
    let text = exported(&f, Some(15_000));
    let report = check(&text, &[f.key.public()]);
    assert_eq!((report.problem, report.records), (None, 10));
    assert!(text.lines().nth(1).unwrap().contains("\"seq\":11"));
}

#[test]
fn a_tampered_export_is_located() {
    let f = fixture();
    let text = exported(&f, None);
    let edited = text.replace("req-7", "req-X");
    assert_eq!(
        check(&edited, &[f.key.public()]).problem,
        Some(Problem::Modified { seq: 7 })
    );
    let dropped: String = text
        .lines()
        .filter(|l| !l.contains("\"seq\":12,\"hash\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        check(&dropped, &[f.key.public()]).problem,
        Some(Problem::Deleted { from: 12, to: 12 })
    );
    let other = AuditKey::generate("audit-x").unwrap();
    assert_eq!(
        check(&text, &[other.public()]).problem,
        Some(Problem::BadSignature { seq: 10 })
    );
    let since = exported(&f, Some(15_000));
    let unanchored = since.replace("\"anchor_seq\":10", "\"anchor_seq\":9");
    assert_eq!(
        check(&unanchored, &[f.key.public()]).problem,
        Some(Problem::Unanchored { seq: 10 })
    );
}

#[test]
fn an_export_that_is_not_one_is_an_error_naming_the_line() {
    let err = verify_export(&mut Cursor::new(b"{\"type\":\"record\"}\n".as_slice()), &[]);
    assert!(
        matches!(err, Err(ExportError::Format { line: 1, .. })),
        "{err:?}"
    );
}

/// A chain of `count` records whose times are `offset` plus a second per
/// record, checkpoints every 10.
fn chain(key: &AuditKey, count: u64, offset: i64) -> MemoryLedger {
    let mut ledger = MemoryLedger::new();
    ledger.publish_key(&key.public()).unwrap();
    let mut prev = Hash::GENESIS;
    for seq in 1..=count {
        let entry = Entry {
            time_ms: 1_000 * i64::try_from(seq).unwrap() + offset,
            request_id: format!("req-{offset}-{seq}"),
            decision: "allow".into(),
            ..Entry::default()
        };
        let sealed = Sealed::seal(seq, prev, entry.clone()).unwrap();
        prev = sealed.hash;
        ledger.append_batch(&[(sealed, &entry)]).unwrap();
        if seq.is_multiple_of(10) {
            ledger
                .add_checkpoint(&Checkpoint::sign(key, seq, prev, 1))
                .unwrap();
        }
    }
    ledger
}

#[test]
fn a_fleet_export_merges_its_chains_in_time_order_and_verifies_each() {
    let key = AuditKey::generate("audit-fleet").unwrap();
    let (a, b) = (chain(&key, 20, 0), chain(&key, 10, 500));
    let chains = [(Some("gw-a".to_owned()), &a), (Some("gw-b".to_owned()), &b)];
    let mut out = Vec::new();
    assert_eq!(export_chains(&chains, None, &mut out).unwrap(), 30);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2 + 30 + 2 + 1);
    assert_eq!(
        (lines[0]["node"].as_str(), lines[1]["node"].as_str()),
        (Some("gw-a"), Some("gw-b"))
    );
    // Records oldest first across both chains: a1, b1, a2, b2, ...
    let order: Vec<&str> = lines[2..8]
        .iter()
        .map(|l| l["node"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["gw-a", "gw-b", "gw-a", "gw-b", "gw-a", "gw-b"]);
    let reports = verify_export_each(&mut Cursor::new(text.as_bytes()), &[key.public()]).unwrap();
    let summary: Vec<_> = reports
        .iter()
        .map(|(n, r)| (n.clone().unwrap(), r.records, r.problem.clone()))
        .collect();
    assert_eq!(
        summary,
        [("gw-a".into(), 20, None), ("gw-b".into(), 10, None)]
    );
    // One chain of several: verify_export says to verify each.
    assert!(verify_export(&mut Cursor::new(text.as_bytes()), &[key.public()]).is_err());

    // A record of gw-b dropped: named in gw-b only.
    let cut: String = text
        .lines()
        .filter(|l| !(l.contains("\"node\":\"gw-b\"") && l.contains("\"seq\":4,")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(cut.lines().count(), text.lines().count() - 1);
    let reports = verify_export_each(&mut Cursor::new(cut.as_bytes()), &[key.public()]).unwrap();
    assert_eq!(reports[0].1.problem, None);
    assert!(reports[1].1.problem.is_some());

    // A record of a chain with no header is no export.
    let orphan = text.replacen("\"node\":\"gw-b\"", "\"node\":\"gw-z\"", 2);
    let err = verify_export_each(&mut Cursor::new(orphan.as_bytes()), &[]).unwrap_err();
    assert!(matches!(err, ExportError::Format { .. }), "{err:?}");
}
