//! The report for a terminal: the inventory as a table, then the findings
//! grouped by OWASP NHI risk, each with its evidence.

use std::fmt::Write as _;

use crate::Report;

pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Posture at {} (usage over the last {} days)\n",
        super::rfc3339(report.generated),
        report.window_days
    );
    let _ = writeln!(
        out,
        "{:<24} {:<9} {:<16} {:<10} {:<12} {:>6} {:>5} {:>8} {:>9} {:>6}",
        "IDENTITY",
        "KIND",
        "OWNER",
        "ENV",
        "STATE",
        "IDLE",
        "CREDS",
        "SECRET",
        "REQUESTS",
        "ALERTS"
    );
    for r in &report.inventory {
        let days = |d: Option<i64>| d.map_or("-".to_owned(), |d| format!("{d}d"));
        let _ = writeln!(
            out,
            "{:<24} {:<9} {:<16} {:<10} {:<12} {:>6} {:>5} {:>8} {:>9} {:>6}",
            r.id,
            r.kind,
            r.owner,
            r.environment,
            r.state,
            r.idle_days.map_or("never".to_owned(), |d| format!("{d}d")),
            r.credentials,
            days(r.oldest_secret_days),
            r.requests,
            r.open_alerts
        );
    }
    let _ = writeln!(out, "\n{} finding(s)", report.findings.len());
    for (nhi, these) in report.by_risk() {
        let _ = writeln!(out, "\n{} {}", nhi.id(), nhi.title());
        for f in these {
            let _ = writeln!(
                out,
                "  [{}] {} {}: {}",
                f.severity.as_str(),
                f.rule,
                f.subject,
                f.message
            );
            for (name, value) in &f.evidence {
                let _ = writeln!(out, "      {name}: {value}");
            }
        }
    }
    for (what, why) in &report.not_assessed {
        let _ = writeln!(out, "\nnot assessed: {what}: {why}");
    }
    out
}
