//! `portcullis check -c FILE`: load everything (configuration, contracts,
//! inventory, policies), report every problem with its file and line or
//! JSON pointer, then analyse the policies: findings with severities, the
//! identity × operation coverage matrix, and each identity's MCP tools.
//!
//! Secrets are the gateway host's: a reference that names nothing here is a
//! note, unless `--secrets` requires them as `serve` does. Findings listed
//! under `accept:` are shown as accepted, with their reason.
//!
//! Exit code 1 on any error, and on any warning with `--strict`; accepted
//! findings count as neither.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use portcullis_config::{Config, Diagnostic, Secrets, load_for_check};
use portcullis_policy::{Analysis, Severity};
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file (YAML).
    #[arg(short, long)]
    config: PathBuf,
    /// Fail (exit code 1) on warnings too; findings listed under `accept:`
    /// in the configuration do not count.
    #[arg(long)]
    strict: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Require every secret reference (`env:NAME`, `file:PATH`) to resolve,
    /// as `serve` does. Without it, a secret that is absent here is a note.
    #[arg(long)]
    secrets: bool,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let name = args.config.display().to_string();
    let secrets = if args.secrets {
        Secrets::Resolve
    } else {
        Secrets::IfPresent
    };
    let (config, mut diagnostics) = match load_for_check(&args.config, secrets) {
        Ok((config, warnings)) => (Some(config), warnings),
        Err(diagnostics) => (None, diagnostics),
    };
    let analysis = config.as_ref().map(portcullis_verify::analysis);
    if let (Some(config), Some(analysis)) = (&config, &analysis) {
        diagnostics.extend(config.accept.unmatched(&analysis.findings));
    }
    let tally = Tally::of(&diagnostics, config.as_ref(), analysis.as_ref());
    if args.json {
        let doc = document(config.as_ref(), &diagnostics, analysis.as_ref(), &tally);
        println!("{doc:#}");
    } else {
        super::report(&diagnostics);
        match (&config, &analysis) {
            (Some(config), Some(analysis)) => {
                print!("{}", text(&name, config, analysis, tally.warnings));
            }
            _ => eprintln!("{name}: {} error(s)", tally.errors),
        }
    }
    // Accepted findings never fail: they were reviewed, and are shown.
    let failed = tally.errors > 0 || (args.strict && tally.warnings > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Counts of what `check` found, accepted findings apart.
struct Tally {
    errors: usize,
    warnings: usize,
    accepted: usize,
}

impl Tally {
    fn of(
        diagnostics: &[Diagnostic],
        config: Option<&Config>,
        analysis: Option<&Analysis>,
    ) -> Self {
        let mut tally = Self {
            errors: diagnostics.iter().filter(|d| d.is_error()).count(),
            warnings: diagnostics.iter().filter(|d| d.is_warning()).count(),
            accepted: 0,
        };
        let (Some(config), Some(analysis)) = (config, analysis) else {
            return tally;
        };
        for f in &analysis.findings {
            match (config.accept.find(f), f.severity) {
                (Some(_), _) => tally.accepted += 1,
                (None, Severity::Error) => tally.errors += 1,
                (None, Severity::Warning) => tally.warnings += 1,
                (None, Severity::Info) => {}
            }
        }
        tally
    }
}

pub(crate) fn text(name: &str, config: &Config, analysis: &Analysis, warnings: usize) -> String {
    let mut out = String::new();
    let operations: usize = config
        .apis
        .iter()
        .map(|a| a.contract.operations().len())
        .sum();
    let accepted = analysis
        .findings
        .iter()
        .filter(|f| config.accept.find(f).is_some())
        .count();
    let _ = write!(
        out,
        "{name}: ok: {} API(s), {operations} operation(s), {} policies in {} file(s), {} identities, {warnings} warning(s)",
        config.apis.len(),
        config.policies.store.len(),
        config.policies.files.len(),
        config.identities.len(),
    );
    if accepted > 0 {
        let _ = write!(out, ", {accepted} accepted finding(s)");
    }
    out.push('\n');
    for api in &config.apis {
        let _ = writeln!(
            out,
            "  {} at {} -> http://{}{} (contract {} v{}, sha256 {}, mode {})",
            api.name,
            api.mount,
            api.upstream.authority,
            api.upstream.base_path,
            api.contract_file,
            api.contract.version(),
            api.contract.digest().get(..12).unwrap_or(""),
            api.mode.as_str(),
        );
    }
    findings_text(config, analysis, &mut out);
    out.push_str(&matrix(analysis));
    out.push_str(&portcullis_verify::tools(config).text());
    out
}

/// Each policy finding on a line, with where it is and, if accepted, why.
fn findings_text(config: &Config, analysis: &Analysis, out: &mut String) {
    if !analysis.findings.is_empty() {
        out.push_str("\npolicy findings:\n");
    }
    for f in &analysis.findings {
        let _ = write!(
            out,
            "  {}[{}] {}: {} ({})",
            f.severity.as_str(),
            f.rule,
            f.subject,
            f.message,
            f.basis.as_str()
        );
        if let Some(at) = &f.at {
            let _ = write!(out, " at {at}");
        }
        if let Some(accepted) = config.accept.find(f) {
            let _ = write!(out, ", accepted: {}", accepted.reason);
        }
        out.push('\n');
    }
}

/// The coverage matrix as a table: one row per operation, one column per identity.
fn matrix(analysis: &Analysis) -> String {
    let coverage = &analysis.coverage;
    let mut out = String::new();
    if coverage.identities.is_empty() {
        out.push_str("\ncoverage: no identities declared in the inventory\n");
        return out;
    }
    out.push_str(
        "\ncoverage (allow | deny | cond: depends on the request | scope: not granted the operation's scope;\n          sampled on a weekday morning and a weekend night, UTC):\n",
    );
    let first = coverage
        .operations
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max("operation".len());
    let widths: Vec<usize> = coverage.identities.iter().map(|i| i.len().max(5)).collect();
    let mut line = format!("  {:<first$}", "operation");
    for (id, w) in coverage.identities.iter().zip(&widths) {
        let _ = write!(line, "  {id:<w$}");
    }
    let _ = writeln!(out, "{}", line.trim_end());
    for (op, row) in coverage.operations.iter().zip(&coverage.cells) {
        let mut line = format!("  {op:<first$}");
        for (cell, w) in row.iter().zip(&widths) {
            let _ = write!(line, "  {:<w$}", cell.as_str());
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

fn document(
    config: Option<&Config>,
    diagnostics: &[Diagnostic],
    analysis: Option<&Analysis>,
    tally: &Tally,
) -> Value {
    let accepted = |f: &portcullis_policy::Finding| config.and_then(|c| c.accept.find(f));
    json!({
        "ok": tally.errors == 0,
        "errors": tally.errors,
        "warnings": tally.warnings,
        "accepted": tally.accepted,
        "diagnostics": diagnostics.iter().map(|d| json!({
            "severity": d.severity.as_str(),
            "file": d.file,
            "line": d.line,
            "pointer": d.pointer,
            "message": d.message,
        })).collect::<Vec<_>>(),
        "apis": config.map(|c| c.apis.iter().map(|a| json!({
            "name": a.name,
            "mount": a.mount,
            "contract": a.contract_file,
            "operations": a.contract.operations().len(),
            "sha256": a.contract.digest(),
            "mode": a.mode.as_str(),
        })).collect::<Vec<_>>()),
        "policies": config.map(|c| json!({
            "files": c.policies.files,
            "count": c.policies.store.len(),
        })),
        "findings": analysis.map(|a| a.findings.iter().map(|f| json!({
            "severity": f.severity.as_str(),
            "rule": f.rule,
            "subject": f.subject,
            "message": f.message,
            "at": f.at,
            "basis": f.basis.as_str(),
            "accepted": accepted(f).is_some(),
            "reason": accepted(f).map(|a| a.reason.as_str()),
        })).collect::<Vec<_>>()),
        "tools": config.map(|c| portcullis_verify::tools(c).to_json()),
        "coverage": analysis.map(|a| json!({
            "identities": a.coverage.identities,
            "operations": a.coverage.operations,
            "cells": a.coverage.cells.iter()
                .map(|row| row.iter().map(|c| c.as_str()).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
        })),
    })
}
