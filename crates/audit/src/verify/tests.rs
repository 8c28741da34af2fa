use super::*;
use crate::key::AuditKey;
use crate::record::Entry;

struct Ledger {
    records: Vec<Sealed>,
    checkpoints: Vec<Checkpoint>,
    key: AuditKey,
}

fn entry(n: u64) -> Entry {
    Entry {
        time_ms: 1_700_000_000_000 + i64::try_from(n).unwrap(),
        request_id: format!("req-{n}"),
        method: "GET".into(),
        path: "/orders/v1/orders".into(),
        status: 200,
        ..Entry::default()
    }
}

/// Ten records, checkpoints at 5 and 10.
fn ledger() -> Ledger {
    let key = AuditKey::generate("audit-test").unwrap();
    let mut records = Vec::new();
    let mut checkpoints = Vec::new();
    let mut prev = Hash::GENESIS;
    for seq in 1..=10 {
        let record = Sealed::seal(seq, prev, entry(seq)).unwrap();
        prev = record.hash;
        records.push(record);
        if seq.is_multiple_of(5) {
            checkpoints.push(Checkpoint::sign(&key, seq, prev, 1));
        }
    }
    Ledger {
        records,
        checkpoints,
        key,
    }
}

impl Ledger {
    fn check(&self) -> Report {
        verify(
            Anchor::GENESIS,
            self.records.clone(),
            &self.checkpoints,
            &[self.key.public()],
        )
    }

    fn at(&mut self, seq: u64) -> &mut Sealed {
        self.records.iter_mut().find(|r| r.seq == seq).unwrap()
    }
}

#[test]
fn an_untouched_ledger_verifies() {
    let report = ledger().check();
    assert_eq!(report.problem, None);
    assert_eq!(
        (report.records, report.signed_to, report.unsigned_tail()),
        (10, Some(10), 0)
    );
}

#[test]
fn a_changed_byte_is_located() {
    let mut l = ledger();
    let r = l.at(4);
    r.body = r.body.replace("req-4", "req-X");
    assert_eq!(l.check().problem, Some(Problem::Modified { seq: 4 }));
}

#[test]
fn a_changed_record_with_its_hash_recomputed_is_located() {
    let mut l = ledger();
    let r = l.at(4);
    r.body = r.body.replace("\"status\":200", "\"status\":403");
    r.hash = Hash::of(r.body.as_bytes());
    assert_eq!(l.check().problem, Some(Problem::Modified { seq: 4 }));
}

#[test]
fn a_deleted_record_is_located() {
    let mut l = ledger();
    l.records.retain(|r| r.seq != 6);
    assert_eq!(l.check().problem, Some(Problem::Deleted { from: 6, to: 6 }));
}

#[test]
fn swapped_records_are_located() {
    let mut l = ledger();
    let (a, b) = (l.at(7).clone(), l.at(8).clone());
    let (ra, rb) = (l.at(7), Sealed { seq: 7, ..b });
    *ra = rb;
    *l.at(8) = Sealed { seq: 8, ..a };
    assert_eq!(
        l.check().problem,
        Some(Problem::Reordered { seq: 7, found: 8 })
    );
}

#[test]
fn a_truncated_tail_below_a_checkpoint_is_located() {
    let mut l = ledger();
    l.records.truncate(8);
    let report = l.check();
    assert_eq!(
        report.problem,
        Some(Problem::Truncated {
            last: 8,
            checkpoint: 10
        })
    );
    assert_eq!(report.problem.unwrap().seq(), 9);
}

#[test]
fn an_inserted_record_is_located() {
    let mut l = ledger();
    let forged = Sealed::seal(11, Hash::of(b"not the head"), entry(11)).unwrap();
    l.records.push(forged);
    assert_eq!(l.check().problem, Some(Problem::Inserted { seq: 11 }));
}

#[test]
fn a_history_rewritten_consistently_fails_at_its_checkpoint() {
    let mut l = ledger();
    let mut prev = Hash::GENESIS;
    for r in &mut l.records {
        let mut e = r.decode().unwrap().entry;
        if r.seq == 3 {
            e.status = 500;
        }
        *r = Sealed::seal(r.seq, prev, e).unwrap();
        prev = r.hash;
    }
    assert_eq!(l.check().problem, Some(Problem::Rewritten { seq: 5 }));
}

#[test]
fn a_checkpoint_from_another_key_is_refused() {
    let mut l = ledger();
    let other = AuditKey::generate("audit-test").unwrap();
    let last = l.records.last().unwrap().hash;
    l.checkpoints[1] = Checkpoint::sign(&other, 10, last, 1);
    assert_eq!(l.check().problem, Some(Problem::BadSignature { seq: 10 }));
}

#[test]
fn a_pruned_ledger_verifies_from_its_signed_anchor_only() {
    let mut l = ledger();
    let anchor_hash = l.at(5).hash;
    l.records.retain(|r| r.seq > 5);
    let anchor = Anchor {
        seq: 5,
        hash: anchor_hash,
    };
    let keys = [l.key.public()];
    assert_eq!(
        verify(anchor, l.records.clone(), &l.checkpoints, &keys).problem,
        None
    );
    let forged = Anchor {
        seq: 5,
        hash: Hash::of(b"x"),
    };
    assert_eq!(
        verify(forged, l.records.clone(), &l.checkpoints, &keys).problem,
        Some(Problem::Unanchored { seq: 6 })
    );
    l.records.retain(|r| r.seq != 6);
    assert_eq!(
        verify(anchor, l.records.clone(), &l.checkpoints, &keys).problem,
        Some(Problem::Deleted { from: 6, to: 6 })
    );
}

#[test]
fn a_tail_after_the_last_checkpoint_is_reported_unsigned() {
    let mut l = ledger();
    l.checkpoints.pop();
    let report = l.check();
    assert_eq!((report.problem.clone(), report.unsigned_tail()), (None, 5));
}
