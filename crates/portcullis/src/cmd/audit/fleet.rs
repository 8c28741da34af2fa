//! `audit verify` and `audit tail` on a fleet's ledger: a report per node's
//! chain, and the newest records of every node in time order.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;

use portcullis_audit::Report;
use portcullis_audit::record::Body;
use portcullis_store::ledger::{Filter, Ledger, MAX_PAGE};
use serde_json::json;

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
/// each new one as it lands, each line led by its node. Following keeps a
/// cursor per chain (its last sequence number), so a node whose clock is
/// behind, or a batch committed late, is never skipped.
pub(super) async fn tail(
    ledger: &Ledger,
    lines: u32,
    follow: bool,
    only: Option<&str>,
) -> anyhow::Result<ExitCode> {
    // Heads first: what lands after them is followed, and what the newest
    // page also shows is printed once.
    let mut after: HashMap<String, u64> = HashMap::new();
    if follow {
        for node in ledger.nodes()?.into_iter().flatten() {
            if let Some(chain) = ledger.narrowed(&node) {
                after.insert(node, chain.head()?.0);
            }
        }
    }
    let mut printed: HashSet<(String, u64)> = HashSet::new();
    if lines > 0 {
        let newest = ledger.query(&Filter {
            decision: only.map(str::to_owned),
            limit: lines,
            ..Filter::default()
        })?;
        for record in newest.records.iter().rev() {
            let node = record.get("node").and_then(|n| n.as_str()).unwrap_or("-");
            if let Ok(body) = serde_json::from_value::<Body>(record.clone()) {
                println!("{node} {}", body.line());
                printed.insert((node.to_owned(), body.seq));
            }
        }
    }
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            () = super::super::shutdown_signal() => return Ok(ExitCode::SUCCESS),
        }
        let mut fresh: Vec<(i64, String, Body)> = Vec::new();
        // A node that appears later is new: all its chain is.
        for node in ledger.nodes()?.into_iter().flatten() {
            let Some(chain) = ledger.narrowed(&node) else {
                continue;
            };
            let cursor = after.entry(node.clone()).or_insert(0);
            loop {
                let page = chain.records_after(*cursor, MAX_PAGE)?;
                let full = page.len() == MAX_PAGE as usize;
                for record in page {
                    *cursor = record.seq;
                    let Ok(body) = record.decode() else { continue };
                    let wanted = only.is_none_or(|d| body.entry.decision == d);
                    if wanted && !printed.remove(&(node.clone(), body.seq)) {
                        fresh.push((body.entry.time_ms, node.clone(), body));
                    }
                }
                if !full {
                    break;
                }
            }
        }
        fresh.sort_by_key(|(time, _, _)| *time);
        for (_, node, body) in fresh {
            println!("{node} {}", body.line());
        }
    }
}
