//! `portcullis verify --gateway URL`: for every operation × identity, a
//! valid request built from the contract goes through the gateway, and its
//! answer is compared with what the configuration says it must be.
//!
//! The expected answer comes from the gateway's own deciding stages run
//! offline (`Snapshot::explain`) on the configuration given with `-c`: the
//! intended one. A gateway running anything else (a policy that permits too
//! much, a check turned off) or no gateway at all (the URL is the
//! upstream's) shows up as mismatches. Tokens come from the store that
//! configuration names, as `portcullis token issue` makes them.
//!
//! Then, per operation, the fixed family of negative requests
//! (`portcullis_verify::negatives`), sent as an identity whose token carries
//! the operation's scopes, each of which must be refused with its code; and
//! every refusal seen must be the one problem+json shape with a catalogued
//! code and its status.

use std::collections::BTreeMap;
use std::sync::Arc;

use portcullis_config::Config;
use portcullis_contract::Operation;
use portcullis_core::{FixedClock, IdentityState, ProblemCode, SystemClock};
use portcullis_proxy::authority::Authority;
use portcullis_proxy::{ExplainRequest, Snapshot};
use portcullis_verify::discover::thing;
use portcullis_verify::negatives::{self, Credential, Expect};
use portcullis_verify::request;
use serde_json::{Value, json};

use super::wire::{self, Target};

/// One checked request.
#[derive(Debug, Clone)]
pub struct Check {
    /// `valid`, or the negative's kind (`path-trick`, ...).
    pub kind: String,
    pub identity: String,
    pub operation: String,
    pub request: String,
    /// `forwarded`, or the code it must be refused with.
    pub expected: String,
    /// `forwarded` (the answer is not a deciding stage's), or the code seen.
    pub got: String,
    pub status: u16,
    /// What is wrong with the refusal's shape, if anything.
    pub shape: Option<String>,
}

impl Check {
    pub fn matches(&self) -> bool {
        self.expected == self.got && self.shape.is_none()
    }
}

/// What a conformance run found.
#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Check>,
    /// (identity or operation, why it was not checked)
    pub skipped: Vec<(String, String)>,
}

impl Report {
    pub fn mismatches(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.matches())
    }

    pub fn to_json(&self) -> Value {
        let check = |c: &Check| {
            json!({"kind": c.kind, "identity": c.identity, "operation": c.operation, "request": c.request,
                   "expected": c.expected, "got": c.got, "status": c.status, "shape": c.shape,
                   "ok": c.matches()})
        };
        json!({
            "checked": self.checks.len(),
            "mismatches": self.mismatches().map(check).collect::<Vec<_>>(),
            "checks": self.checks.iter().map(check).collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|(what, why)| json!({"what": what, "why": why})).collect::<Vec<_>>(),
        })
    }
}

/// Runs conformance: `config` is what the gateway must enforce (the
/// snapshot is built from a second load of the same file).
///
/// # Errors
/// The store cannot be opened, or the gateway cannot be reached at all.
pub async fn run(
    config: &Config,
    snapshot_config: Config,
    target: &Target,
    allow_writes: bool,
) -> anyhow::Result<Report> {
    let base_url = format!("http://{}", config.listen);
    let authority = Arc::new(Authority::open(config, &base_url, Arc::new(SystemClock))?);
    let metrics = Arc::new(portcullis_proxy::metrics::Metrics::new(
        None,
        portcullis_proxy::metrics::latency(),
    ));
    let snapshot = Snapshot::build(snapshot_config, Arc::clone(&authority), metrics, 1)?;
    let mut report = Report::default();
    let mut reached = false;
    // An authority whose clock is well past: its tokens have expired by now.
    let past =
        authority.now() - 2 * i64::try_from(config.tokens.max_ttl.as_secs()).unwrap_or(900) - 60;
    let expired_authority = Authority::open(config, &base_url, Arc::new(FixedClock(past)))?;
    // Per (api, operation): an identity, its token and the valid request's
    // answer, to send the negatives with.
    let mut senders: BTreeMap<(String, String), Sender> = BTreeMap::new();
    for seed in &config.identities {
        let identity = &seed.identity;
        if identity.state != IdentityState::Active {
            report.skipped.push((
                identity.id.clone(),
                format!("{} identities cannot get a token", identity.state.as_str()),
            ));
            continue;
        }
        for api in &config.apis {
            let scopes: Vec<String> = identity.scopes.clone();
            let ttl = i64::try_from(config.tokens.default_ttl.as_secs()).unwrap_or(300);
            let token = match authority.issue_for(&identity.id, &scopes, ttl, &api.name) {
                Ok((token, _)) => token,
                Err(e) => {
                    report.skipped.push((
                        format!("{} on {}", identity.id, api.name),
                        format!("no token: {e}"),
                    ));
                    continue;
                }
            };
            for op in api.contract.operations() {
                if op.method.is_write() && !allow_writes {
                    report.skipped.push((
                        format!("{} {}", identity.id, op.id),
                        "a write operation (use --allow-writes)".into(),
                    ));
                    continue;
                }
                for given in tenant_values(&identity.tags, op) {
                    let built = match request::valid(&api.mount, op, &given) {
                        Ok(b) => b,
                        Err(e) => {
                            report
                                .skipped
                                .push((op.id.clone(), format!("no valid request: {e}")));
                            continue;
                        }
                    };
                    let probe = &built.probe;
                    let mut explain_headers = probe.headers.clone();
                    if let Some((content_type, _)) = &probe.body {
                        explain_headers.push(("Content-Type".into(), content_type.clone()));
                    }
                    let explained = snapshot
                        .explain(ExplainRequest {
                            identity: identity.id.clone(),
                            method: probe.method.clone(),
                            target: probe.target.clone(),
                            headers: explain_headers,
                            body: probe.body.as_ref().map(|(_, b)| b.clone()),
                            scopes: Some(scopes.clone()),
                        })
                        .await
                        .map_err(|e| {
                            anyhow::anyhow!("explaining {} {}: {e}", probe.method, probe.target)
                        })?;
                    let expected = explained.refusal.map_or_else(
                        || "forwarded".to_owned(),
                        |(_, code, _)| code.as_str().to_owned(),
                    );
                    let mut headers = probe.headers.clone();
                    headers.push(("Authorization".into(), format!("Bearer {token}")));
                    let body = probe
                        .body
                        .as_ref()
                        .map(|(ct, b)| (ct.as_str(), b.as_slice()));
                    let answer = match wire::send(
                        target,
                        &probe.method,
                        &probe.target,
                        &headers,
                        body,
                    )
                    .await
                    {
                        Ok(a) => a,
                        Err(e) if !reached => anyhow::bail!("the gateway cannot be reached: {e}"),
                        Err(e) => {
                            report.skipped.push((
                                format!("{} {}", identity.id, op.id),
                                format!("no answer: {e}"),
                            ));
                            continue;
                        }
                    };
                    reached = true;
                    let (got, shape) = judge(&answer);
                    let scoped = !matches!(
                        expected.as_str(),
                        "unauthenticated" | "insufficient-scope" | "identity-suspended"
                    );
                    if scoped && given.is_empty() {
                        senders
                            .entry((api.name.clone(), op.id.clone()))
                            .or_insert_with(|| Sender {
                                identity: identity.id.clone(),
                                scopes: scopes.clone(),
                                token: token.clone(),
                                valid_got: got.clone(),
                                built: built.clone(),
                            });
                    }
                    report.checks.push(Check {
                        kind: "valid".into(),
                        identity: identity.id.clone(),
                        operation: op.id.clone(),
                        request: format!("{} {}", probe.method, probe.target),
                        expected,
                        got,
                        status: answer.status,
                        shape,
                    });
                }
            }
        }
    }
    for api in &config.apis {
        for op in api.contract.operations() {
            let Some(sender) = senders.get(&(api.name.clone(), op.id.clone())) else {
                if !op.method.is_write() || allow_writes {
                    report.skipped.push((
                        format!("{} negatives", op.id),
                        "no identity's token carries its scopes".into(),
                    ));
                }
                continue;
            };
            let declared: Vec<_> = api
                .contract
                .operations()
                .iter()
                .filter(|o| o.path == op.path)
                .map(|o| o.method)
                .collect();
            let family = negatives::family(op, &sender.built, &declared, config.limits.body_bytes);
            for negative in family {
                if negative.probe.method != op.method.as_str() && !allow_writes {
                    let m = portcullis_contract::Method::from_wire(&negative.probe.method);
                    if m.is_some_and(portcullis_contract::Method::is_write) {
                        continue;
                    }
                }
                let token = match negative.credential {
                    Credential::Valid => Some(sender.token.clone()),
                    Credential::None => None,
                    Credential::Expired => expired_authority
                        .issue_for(&sender.identity, &sender.scopes, 60, &api.name)
                        .ok()
                        .map(|(t, _)| t),
                    Credential::WithoutScope => {
                        let needed: Vec<&String> =
                            op.security.iter().flatten().flat_map(|(_, s)| s).collect();
                        let other: Vec<String> = sender
                            .scopes
                            .iter()
                            .filter(|s| !needed.contains(s))
                            .cloned()
                            .collect();
                        if other.is_empty() {
                            report.skipped.push((
                                format!("{} {}", op.id, negative.detail),
                                "the identity holds no other scope".into(),
                            ));
                            continue;
                        }
                        authority
                            .issue_for(&sender.identity, &other, 60, &api.name)
                            .ok()
                            .map(|(t, _)| t)
                    }
                };
                let probe = &negative.probe;
                let mut headers = probe.headers.clone();
                if let Some(token) = token {
                    headers.push(("Authorization".into(), format!("Bearer {token}")));
                }
                let body = probe
                    .body
                    .as_ref()
                    .map(|(ct, b)| (ct.as_str(), b.as_slice()));
                let answer =
                    match wire::send(target, &probe.method, &probe.target, &headers, body).await {
                        Ok(a) => a,
                        Err(e) => {
                            report.skipped.push((
                                format!("{} {}", op.id, negative.detail),
                                format!("no answer: {e}"),
                            ));
                            continue;
                        }
                    };
                let (got, shape) = judge(&answer);
                let expected = match negative.expect {
                    Expect::Refused(code) => code.to_owned(),
                    Expect::SameAsValid => sender.valid_got.clone(),
                };
                report.checks.push(Check {
                    kind: negative.kind.to_owned(),
                    identity: sender.identity.clone(),
                    operation: op.id.clone(),
                    request: format!(
                        "{} {} ({})",
                        probe.method,
                        short(&probe.target),
                        negative.detail
                    ),
                    expected,
                    got,
                    status: answer.status,
                    shape,
                });
            }
        }
    }
    Ok(report)
}

/// Who sends an operation's negatives.
struct Sender {
    identity: String,
    scopes: Vec<String>,
    token: String,
    valid_got: String,
    built: request::Built,
}

/// A target shortened for a report line.
fn short(target: &str) -> String {
    if target.chars().count() > 80 {
        target.chars().take(80).chain(['…']).collect()
    } else {
        target.to_owned()
    }
}

/// What an answer says: `forwarded`, or the code of a refusal before
/// forwarding; and what is wrong with its shape, if it is a problem at all
/// (problem+json with `type`, `title`, `status`, `detail`, `instance` and
/// a catalogued `code` sent with its own status). An answer that is not a
/// problem (a forwarded upstream answer) has no shape to check.
fn judge(answer: &wire::Answer) -> (String, Option<String>) {
    let forwarded = || "forwarded".to_owned();
    let problem = answer
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/problem+json"));
    if !problem {
        return (forwarded(), None);
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&answer.body) else {
        return (
            forwarded(),
            Some("the problem body is not a JSON object".into()),
        );
    };
    let code = body.get("code").and_then(Value::as_str).unwrap_or_default();
    let known = ProblemCode::from_code(code);
    let got = match known {
        Some(c) if c.refused_before_forwarding() => code.to_owned(),
        _ => forwarded(),
    };
    let missing: Vec<&str> = ["type", "title", "status", "detail", "instance", "code"]
        .into_iter()
        .filter(|k| !body.contains_key(*k))
        .collect();
    let status = body.get("status").and_then(Value::as_u64);
    let shape = if !missing.is_empty() {
        Some(format!("missing {}", missing.join(", ")))
    } else if let Some(known) = known {
        (status != Some(u64::from(answer.status)) || known.status() != answer.status)
            .then(|| format!("`{code}` answered {} (body says {status:?})", answer.status))
    } else {
        Some(format!("`{code}` is not a catalogued code"))
    };
    (got, shape)
}

/// The parameter values to try for an identity: none given, and for each
/// parameter a `name:value` tag names (`customer:…` for `customerId`), the
/// identity's own value, so both sides of a tenant rule are exercised.
fn tenant_values(tags: &[String], op: &Operation) -> Vec<BTreeMap<String, String>> {
    let mut out = vec![BTreeMap::new()];
    let own: BTreeMap<String, String> = op
        .params
        .iter()
        .filter_map(|p| {
            tags.iter()
                .filter_map(|t| t.split_once(':'))
                .find(|(name, _)| thing(name) == thing(&p.name))
                .map(|(_, value)| (p.name.clone(), value.to_owned()))
        })
        .collect();
    if !own.is_empty() {
        out.push(own);
    }
    out
}

/// Prints the report.
pub fn print(report: &Report, gateway: &str) {
    for c in &report.checks {
        let mark = if c.matches() { "ok      " } else { "MISMATCH" };
        let shape = c
            .shape
            .as_deref()
            .map(|s| format!("  shape: {s}"))
            .unwrap_or_default();
        println!(
            "  {mark} {:<18} {:<20} {:<22} {:<60} expected {:<14} got {} ({}){shape}",
            c.kind, c.identity, c.operation, c.request, c.expected, c.got, c.status
        );
    }
    for (what, why) in &report.skipped {
        println!("  skipped  {what}: {why}");
    }
    let mismatches = report.mismatches().count();
    println!(
        "conformance of {gateway}: {} requests checked, {mismatches} mismatches, {} skipped",
        report.checks.len(),
        report.skipped.len()
    );
}
