//! `portcullis explain -c FILE --identity ID --request "METHOD PATH"`: the
//! gateway's decision for one request, offline, stage by stage: the matched
//! operation, the Cedar request built for it and the policies that decided,
//! or the stage that refused and why. Nothing is sent upstream.
//!
//! The identities are the store's as it is when the configuration's store
//! exists (read, never written: explaining changes nothing), else the ones
//! the configuration declares.
//!
//! Exit code 0 when the gateway would forward the request, 1 when it would
//! refuse it, 2 when the question cannot be answered (a configuration or
//! store that cannot be read, a request line that does not parse).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use portcullis_core::{Clock, FixedClock, SystemClock};
use portcullis_proxy::{ExplainRequest, Explanation, Snapshot};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The configuration file (YAML).
    #[arg(short, long)]
    config: PathBuf,
    /// The calling identity, from the inventory.
    #[arg(long)]
    identity: String,
    /// The request line: "METHOD PATH", the path as the gateway receives it.
    #[arg(long)]
    request: String,
    /// A file holding the request body (sent as application/json unless a
    /// --header gives the content type).
    #[arg(long)]
    body: Option<PathBuf>,
    /// A request header, "Name: value"; repeatable.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// The scopes the caller's token carries (default: all it is granted); repeatable.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Decide as if the token acted for this person (a token exchanged
    /// under `delegation:`); the chain is `--identity` alone.
    #[arg(long = "on-behalf-of", value_name = "ID")]
    on_behalf_of: Option<String>,
    /// That person's mapped claims as JSON, e.g. '{"tenant":"acme"}'.
    #[arg(long, requires = "on_behalf_of")]
    claims: Option<String>,
    /// That person's issuer (default: the only one configured).
    #[arg(long, requires = "on_behalf_of")]
    issuer: Option<String>,
    /// Decide as of this time (RFC 3339, e.g. 2026-11-24T10:00:00Z) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let mut request = match request(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let clock: Arc<dyn Clock> = match &args.at {
        None => Arc::new(SystemClock),
        Some(at) => {
            let Ok(time) = humantime::parse_rfc3339(at) else {
                eprintln!("error: `--at {at}` is not an RFC 3339 time like 2026-11-24T10:00:00Z");
                return Ok(ExitCode::from(2));
            };
            let secs = time
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            Arc::new(FixedClock(secs))
        }
    };
    let Some(config) = super::load_reported(&args.config, "the configuration has errors") else {
        return Ok(ExitCode::from(2));
    };
    if let Some(person) = &args.on_behalf_of {
        let (issuer, claims) = (args.issuer.as_deref(), args.claims.as_deref());
        match portcullis_proxy::explained_delegation(
            &config,
            &args.identity,
            person,
            issuer,
            claims,
        ) {
            Ok(d) => request.delegation = Some(d),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    if config.policies.store.is_empty() {
        eprintln!("warning: no policies are loaded: every request is denied");
    }
    let authority = match super::read_only_authority(&config, clock) {
        Ok((authority, _)) => Arc::new(authority),
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let metrics = Arc::new(portcullis_proxy::metrics::Metrics::new(
        None,
        portcullis_proxy::metrics::latency(),
    ));
    let snapshot = Snapshot::build(config, authority, metrics, 1)?;
    let explanation = match snapshot.explain(request).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if args.json {
        println!("{:#}", explanation.to_json());
    } else {
        print!("{}", text(&explanation));
    }
    Ok(if explanation.refusal.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn request(args: &ExplainArgs) -> anyhow::Result<ExplainRequest> {
    let (method, target) = args
        .request
        .trim()
        .split_once(' ')
        .context("`--request` must be \"METHOD PATH\", like \"GET /orders/v1/orders\"")?;
    let mut headers = Vec::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .with_context(|| format!("`--header {h}` must be \"Name: value\""))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let body = match &args.body {
        Some(path) => Some(read(path)?),
        None => None,
    };
    if body.is_some()
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Ok(ExplainRequest {
        identity: args.identity.clone(),
        method: method.trim().to_owned(),
        target: target.trim().to_owned(),
        headers,
        body,
        scopes: (!args.scopes.is_empty()).then(|| args.scopes.clone()),
        delegation: None,
    })
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the body file {}", path.display()))
}

/// The terminal form.
fn text(e: &Explanation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} as {} (snapshot {}, time {})",
        e.request.method, e.request.target, e.request.identity, e.snapshot, e.time
    );
    for s in &e.stages {
        let _ = write!(out, "  {:<15} {}", s.stage, s.verdict);
        if !s.detail.is_empty() {
            let _ = write!(out, "  ({})", s.detail);
        }
        out.push('\n');
    }
    if let Some((api, id, route)) = &e.operation {
        let _ = writeln!(out, "operation: {api}:{id}  ({route})");
    }
    if let Some(cedar) = &e.cedar {
        let _ = writeln!(out, "cedar request:");
        for line in format!("{cedar:#}").lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !e.determining.is_empty() {
        let _ = writeln!(out, "determining policies:");
        for (id, at) in &e.determining {
            let _ = writeln!(out, "  {id}  {at}");
        }
    } else if e.cedar.is_some() {
        let _ = writeln!(
            out,
            "determining policies: none (no permit applies: denied by default)"
        );
    }
    for error in &e.policy_errors {
        let _ = writeln!(out, "policy error: {error}");
    }
    let _ = writeln!(out, "mcp tools shown to it: {}", e.tools.join(", "));
    match &e.refusal {
        None => out.push_str("decision: ALLOW (the gateway would forward it upstream)\n"),
        Some((status, code, detail)) => {
            let _ = writeln!(out, "decision: DENY {status} {}: {detail}", code.as_str());
        }
    }
    out
}
