//! The report as one self-contained HTML page: inline style, no script,
//! no external resource, every value escaped (an identity named
//! `<script>` is shown as text).

use std::fmt::Write as _;

use portcullis_core::escape_markup as esc;

use crate::Report;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}\
th{background:#f3f3f3}.high{color:#a00;font-weight:600}.medium{color:#a60}.low{color:#555}\
section{margin-top:1.5em}dl{margin:.3em 0 .8em 1.5em}dt{font-weight:600;float:left;clear:left;margin-right:.5em}";

pub fn html(report: &Report) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Portcullis posture</title>\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <style>{STYLE}</style></head><body><h1>Posture</h1><p id=\"summary\">{} identities, {} findings; usage over the last {} days, at {}.</p>",
        report.inventory.len(),
        report.findings.len(),
        report.window_days,
        super::rfc3339(report.generated)
    );
    o.push_str("<h2>Inventory</h2><table id=\"inventory\"><tr><th>Identity</th><th>Kind</th><th>Owner</th><th>Environment</th><th>State</th><th>Idle (days)</th><th>Credentials</th><th>Oldest secret (days)</th><th>Requests</th><th>Open alerts</th></tr>");
    for r in &report.inventory {
        let days = |d: Option<i64>| d.map_or("never".to_owned(), |d| d.to_string());
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.id),
            esc(&r.kind),
            esc(&r.owner),
            esc(&r.environment),
            esc(&r.state),
            days(r.idle_days),
            r.credentials,
            r.oldest_secret_days
                .map_or("-".to_owned(), |d| d.to_string()),
            r.requests,
            r.open_alerts
        );
    }
    o.push_str("</table><h2>Findings by OWASP NHI Top 10 (2025) risk</h2>");
    for (nhi, these) in report.by_risk() {
        let _ = write!(
            o,
            "<section class=\"risk\" id=\"{}\"><h3>{} {}</h3><ul>",
            esc(nhi.id()),
            esc(nhi.id()),
            esc(nhi.title())
        );
        for f in these {
            let _ = write!(
                o,
                "<li class=\"finding\" data-rule=\"{}\"><span class=\"{}\">{}</span> <code>{}</code> <b>{}</b>: {}<dl>",
                esc(f.rule),
                f.severity.as_str(),
                f.severity.as_str(),
                esc(f.rule),
                esc(&f.subject),
                esc(&f.message)
            );
            for (name, value) in &f.evidence {
                let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", esc(name), esc(value));
            }
            o.push_str("</dl></li>");
        }
        o.push_str("</ul></section>");
    }
    for (what, why) in &report.not_assessed {
        let _ = write!(
            o,
            "<p class=\"not-assessed\">Not assessed: {}: {}</p>",
            esc(what),
            esc(why)
        );
    }
    o.push_str("</body></html>\n");
    o
}
