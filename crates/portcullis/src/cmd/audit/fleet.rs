//! `audit verify` and `audit tail` on a fleet's ledger: a report per node's
//! chain, and the newest records of every node in time order.

use std::collections::HashMap;
use std::process::ExitCode;

use portcullis_audit::Report;
use portcullis_audit::record::Body;
use portcullis_store::ledger::{Filter, Ledger, MAX_PAGE};
use serde_json::json;

/// How far back each poll of `--follow` looks again: a node commits a
/// batch up to its batch window after its first record's time, so a record
/// can land a little after a newer one of another node.
const LATE_MS: i64 = 2_000;

/// One line (or JSON object) per node; fails when any chain does.
pub(super) fn print_reports(
    reports: &[(Option<String>, Report)],
    trust: &str,
    as_json: bool,
) -> ExitCode {
    let ok = reports.iter().all(|(_, r)| r.is_ok());
    if as_json {
        let nodes: Vec<_> = reports
            .iter()
            .map(|(node, report)| {
                let mut doc = super::report_json(report, trust);
                if let Some(fields) = doc.as_object_mut() {
                    fields.insert("node".into(), json!(node));
                }
                doc
            })
            .collect();
        println!("{:#}", json!({ "ok": ok, "nodes": nodes }));
    } else {
        for (node, report) in reports {
            println!(
                "node {}: {}",
                node.as_deref().unwrap_or("-"),
                super::report_line(report, trust)
            );
        }
        println!(
            "{} of {} chains intact",
            reports.iter().filter(|(_, r)| r.is_ok()).count(),
            reports.len()
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The newest `lines` records of every node, oldest first; with `follow`,
/// each new one as it lands, in time order, each line led by its node (a
/// record is printed once however often a poll sees it: known by its node
/// and id).
pub(super) async fn tail(
    ledger: &Ledger,
    lines: u32,
    follow: bool,
    only: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let decision = only.map(str::to_owned);
    let newest = ledger.query(&Filter {
        decision: decision.clone(),
        limit: lines.max(1),
        ..Filter::default()
    })?;
    let mut printed: HashMap<String, i64> = HashMap::new();
    let mut since = i64::MIN;
    let take = if lines == 0 { 0 } else { newest.records.len() };
    for record in newest.records.iter().take(take).rev() {
        print_once(record, &mut printed, &mut since);
    }
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            () = super::super::shutdown_signal() => return Ok(ExitCode::SUCCESS),
        }
        let from = since.saturating_sub(LATE_MS);
        let mut filter = Filter {
            decision: decision.clone(),
            since_ms: (since != i64::MIN).then_some(from),
            limit: MAX_PAGE,
            ..Filter::default()
        };
        let mut fresh = Vec::new();
        // At most a few pages a poll: a flood is printed over the next polls.
        for _ in 0..8 {
            let page = ledger.query(&filter)?;
            fresh.extend(page.records);
            match page.next {
                Some(next) => filter.before_seq = Some(next),
                None => break,
            }
        }
        for record in fresh.iter().rev() {
            print_once(record, &mut printed, &mut since);
        }
        printed.retain(|_, at| *at >= from);
    }
}

fn print_once(record: &serde_json::Value, printed: &mut HashMap<String, i64>, since: &mut i64) {
    let Ok(body) = serde_json::from_value::<Body>(record.clone()) else {
        return;
    };
    let e = &body.entry;
    let node = record.get("node").and_then(|n| n.as_str()).unwrap_or("-");
    let key = format!("{node} {} {}", body.id, e.decision);
    if printed.insert(key, e.time_ms).is_none() {
        println!("{node} {}", body.line());
        *since = (*since).max(e.time_ms);
    }
}
