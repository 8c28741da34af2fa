//! `--report FILE.html`: one self-contained page (no external file, font or
//! script) a reviewer opens in any browser: the verdict and summary, the
//! identity × operation matrix with coloured cells (what the policies imply,
//! and what the gateway was seen to do), the findings with their evidence,
//! the undeclared routes, every check, and the MCP face's listings and
//! calls.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Verification, escape};
use crate::conform::Check;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 2rem 3rem;color:#1d1d1f}
h1{margin:1.2rem 0 .2rem;font-size:1.6rem} h2{margin-top:2rem;font-size:1.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0} th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f4f4f6;position:sticky;top:0}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;font-weight:600;color:#fff}
.verdict.passed{background:#1a7f37} .verdict.failed{background:#cf222e}
.cell{text-align:center;min-width:6rem} .allow{background:#dafbe1} .deny{background:#ffebe9}
.cond{background:#fff8c5} .scope{background:#eaeef2;color:#57606a}
.mismatch{outline:3px solid #cf222e;outline-offset:-3px} .seen{display:block;font-size:12px}
.level{font-weight:600} tr.error .level{color:#cf222e} tr.warning .level{color:#9a6700} tr.note .level{color:#57606a}
.risk-reveals-secret,.risk-accepts-writes{color:#cf222e;font-weight:600} .risk-returns-data{color:#9a6700;font-weight:600}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
dl{margin:.3rem 0;display:grid;grid-template-columns:max-content 1fr;gap:0 .8rem} dt{color:#57606a}
.filters button{margin-right:.3rem} .hidden{display:none}
"#;

/// Counts the findings by level and lets the reader filter them.
const SCRIPT: &str = r#"
const rows=[...document.querySelectorAll('#findings tbody tr')];
const n={error:0,warning:0,note:0};
rows.forEach(r=>{n[r.dataset.level]=(n[r.dataset.level]||0)+1});
document.getElementById('counts').textContent=`${n.error} errors · ${n.warning} warnings · ${n.note} notes`;
document.querySelectorAll('.filters button').forEach(b=>b.addEventListener('click',()=>{
  rows.forEach(r=>r.classList.toggle('hidden',b.dataset.level!=='all'&&r.dataset.level!==b.dataset.level));
}));
"#;

pub fn render(run: &Verification) -> String {
    let mut out = String::new();
    let verdict = if run.failed() { "failed" } else { "passed" };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>portcullis verify: {config}</title><style>{STYLE}</style></head><body>\n\
         <header><h1>portcullis verify</h1>\
         <p><span class=\"verdict {verdict}\" id=\"verdict\">{VERDICT}</span> \
         <span class=\"mono\">{config}</span> · {secs:.1} s · <span id=\"counts\"></span></p></header>\n",
        config = escape(&run.config_file),
        VERDICT = if run.failed() { "FAILED" } else { "passed" },
        secs = run.elapsed.as_secs_f64(),
    );
    summary(&mut out, run);
    matrix(&mut out, run);
    findings(&mut out, run);
    routes(&mut out, run);
    checks(&mut out, run);
    mcp(&mut out, run);
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn summary(out: &mut String, run: &Verification) {
    out.push_str("<section id=\"summary\"><h2>Summary</h2><table><tbody>\n");
    for (part, done, found) in run.summary() {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            escape(part),
            escape(&done),
            escape(&found)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn matrix(out: &mut String, run: &Verification) {
    let coverage = &run.analysis.coverage;
    out.push_str(
        "<section><h2>Who can do what</h2><p>Each cell: what the policies imply \
         (<span class=\"allow\">allow</span>, <span class=\"deny\">deny</span>, \
         <span class=\"cond\">cond</span>: depends on the request, \
         <span class=\"scope\">scope</span>: the operation's scope is not granted)",
    );
    if run.conformance.is_some() {
        out.push_str(
            ", and what the gateway did with each valid request (✓ as configured, ✗ not).",
        );
    }
    out.push_str("</p>\n<table id=\"matrix\"><thead><tr><th>operation</th>");
    for id in &coverage.identities {
        let _ = write!(out, "<th>{}</th>", escape(id));
    }
    out.push_str("</tr></thead><tbody>\n");
    let mut seen: BTreeMap<(&str, String), Vec<&Check>> = BTreeMap::new();
    if let Some((_, report)) = &run.conformance {
        for c in report.checks.iter().filter(|c| c.kind == "valid") {
            seen.entry((c.identity.as_str(), format!("{}:{}", c.api, c.operation)))
                .or_default()
                .push(c);
        }
    }
    for (op, row) in coverage.operations.iter().zip(&coverage.cells) {
        let _ = write!(out, "<tr><th class=\"mono\">{}</th>", escape(op));
        for (id, cell) in coverage.identities.iter().zip(row) {
            let checks = seen.get(&(id.as_str(), op.clone()));
            let bad = checks.is_some_and(|c| c.iter().any(|c| !c.matches()));
            let _ = write!(
                out,
                "<td class=\"cell {}{}\">{}",
                cell.as_str(),
                if bad { " mismatch" } else { "" },
                cell.as_str()
            );
            for c in checks.into_iter().flatten() {
                let mark = if c.matches() {
                    format!("✓ {}", c.got)
                } else {
                    format!("✗ {} (expected {})", c.got, c.expected)
                };
                let _ = write!(
                    out,
                    "<span class=\"seen\" title=\"{}\">{}</span>",
                    escape(&c.request),
                    escape(&mark)
                );
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></section>\n");
}

fn findings(out: &mut String, run: &Verification) {
    let findings = run.findings();
    let _ = write!(
        out,
        "<section><h2>Findings ({})</h2><p class=\"filters\">Show: \
         <button data-level=\"all\">all</button><button data-level=\"error\">errors</button>\
         <button data-level=\"warning\">warnings</button><button data-level=\"note\">notes</button></p>\n\
         <table id=\"findings\"><thead><tr><th>level</th><th>rule</th><th>subject</th><th>finding</th></tr></thead><tbody>\n",
        findings.len()
    );
    for f in &findings {
        let level = f.level.as_str();
        let _ = write!(
            out,
            "<tr class=\"finding {level}\" data-level=\"{level}\"><td class=\"level\">{level}</td>\
             <td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}",
            escape(&f.rule.id),
            escape(&f.subject),
            escape(&f.message)
        );
        if !f.evidence.is_empty() {
            out.push_str("<details><summary>evidence</summary><dl>");
            for (k, v) in &f.evidence {
                let _ = write!(
                    out,
                    "<dt>{}</dt><dd class=\"mono\">{}</dd>",
                    escape(k),
                    escape(v)
                );
            }
            out.push_str("</dl></details>");
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></section>\n");
}

fn routes(out: &mut String, run: &Verification) {
    let Some((upstream, report)) = &run.discovery else {
        return;
    };
    // Each discovered route's check through the gateway, by method and path.
    let through: BTreeMap<(&str, &str), &Check> = run
        .conformance
        .iter()
        .flat_map(|(_, r)| &r.checks)
        .filter(|c| c.kind == "discovered-route")
        .map(|c| {
            let method = c.request.split(' ').next().unwrap_or_default();
            ((method, c.operation.as_str()), c)
        })
        .collect();
    let _ = writeln!(
        out,
        "<section><h2>Undeclared routes on <span class=\"mono\">{}</span> ({})</h2>\
         <table id=\"routes\"><thead><tr><th>risk</th><th>method</th><th>path</th><th>status</th>\
         <th>size</th><th>type</th><th>first line (secrets redacted)</th><th>through the gateway</th></tr></thead><tbody>",
        escape(upstream),
        report.findings.len()
    );
    for f in &report.findings {
        let gateway = through
            .get(&(f.method.as_str(), f.path.as_str()))
            .map_or_else(
                || "not sent".to_owned(),
                |c| {
                    let mark = if c.matches() { "✓" } else { "✗" };
                    format!("{mark} {} ({})", c.got, c.status)
                },
            );
        let _ = writeln!(
            out,
            "<tr><td class=\"risk-{risk}\">{risk}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td>\
             <td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            f.method.as_str(),
            escape(&f.path),
            f.evidence.status,
            f.evidence.size,
            escape(&f.evidence.content_type),
            escape(&f.evidence.first_line),
            escape(&gateway),
            risk = f.risk.as_str(),
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn checks(out: &mut String, run: &Verification) {
    let Some((gateway, report)) = &run.conformance else {
        return;
    };
    let _ = writeln!(
        out,
        "<section><h2>Every check through <span class=\"mono\">{}</span></h2><details><summary>{} requests</summary>\
         <table id=\"checks\"><thead><tr><th></th><th>kind</th><th>identity</th><th>operation</th>\
         <th>request</th><th>expected</th><th>got</th></tr></thead><tbody>",
        escape(gateway),
        report.checks.len()
    );
    for c in &report.checks {
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td>\
             <td class=\"mono\">{}</td><td>{}</td><td>{} ({})</td></tr>",
            if c.matches() { "ok" } else { "error" },
            if c.matches() { "✓" } else { "✗" },
            escape(&c.kind),
            escape(&c.identity),
            escape(&c.operation),
            escape(&c.request),
            escape(&c.expected),
            escape(&c.got),
            c.status
        );
    }
    out.push_str("</tbody></table></details></section>\n");
}

/// Each identity's MCP listing, what had no `tools/call` form, and every
/// call, when the MCP face was checked.
fn mcp(out: &mut String, run: &Verification) {
    let Some((gateway, report)) = &run.conformance else {
        return;
    };
    let report = &report.mcp;
    if report.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"mcp\"><h2>The MCP face of <span class=\"mono\">{}/mcp</span></h2>\
         <table id=\"mcp-listings\"><thead><tr><th></th><th>identity</th><th>API</th>\
         <th>tools listed</th><th>what is wrong</th></tr></thead><tbody>",
        escape(gateway)
    );
    for l in &report.listings {
        let ok = l.matches() && l.consistent();
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            if ok { "ok" } else { "error" },
            if ok { "✓" } else { "✗" },
            escape(&l.identity),
            escape(&l.api),
            escape(&l.listed.join(", ")),
            escape(&l.problems())
        );
    }
    out.push_str("</tbody></table>\n");
    if !report.not_applicable.is_empty() {
        let _ = writeln!(
            out,
            "<p>{} negatives have no <code>tools/call</code> form ({}).</p>",
            report.not_applicable_count(),
            escape(&report.not_applicable_kinds())
        );
    }
    let _ = writeln!(
        out,
        "<details><summary>{} negatives as <code>tools/call</code></summary>\
         <table id=\"mcp-calls\"><thead><tr><th></th><th>kind</th><th>identity</th><th>call</th>\
         <th>expected</th><th>got</th></tr></thead><tbody>",
        report.calls.len()
    );
    for c in &report.calls {
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td>\
             <td>{}</td><td>{} ({})</td></tr>",
            if c.matches() { "ok" } else { "error" },
            if c.matches() { "✓" } else { "✗" },
            escape(&c.kind),
            escape(&c.identity),
            escape(&c.request),
            escape(&c.expected),
            escape(&c.got),
            escape(&c.via)
        );
    }
    out.push_str("</tbody></table></details></section>\n");
}
