//! The rules, one block each, by the risk they find: each finding a stable
//! `posture/<rule>` id mapped to one OWASP NHI Top 10 (2025) risk, with the
//! evidence that shows it.

use super::{DAY, Finding, Severity, oldest_secret};
use crate::facts::{Facts, IdentityFacts};
use crate::{Nhi, Thresholds};

fn finding(
    rule: &'static str,
    nhi: Nhi,
    severity: Severity,
    subject: &str,
    message: String,
) -> Finding {
    Finding {
        rule,
        nhi: nhi.id(),
        risk: nhi.title(),
        severity,
        subject: subject.to_owned(),
        message,
        evidence: std::collections::BTreeMap::new(),
    }
}

impl Finding {
    fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.evidence.insert(name.to_owned(), value.to_string());
        self
    }
}

/// Whether an owner names nobody answerable.
fn ownerless(owner: &str) -> bool {
    let o = owner.trim().to_ascii_lowercase();
    o.is_empty() || ["-", "none", "unknown", "nobody", "tbd", "n/a"].contains(&o.as_str())
}

pub(super) fn identity_findings(
    facts: &Facts,
    limits: &Thresholds,
    f: &IdentityFacts,
    out: &mut Vec<Finding>,
) {
    let i = &f.identity;
    let id = i.id.as_str();
    let active = i.state == portcullis_core::IdentityState::Active;
    let unused_for = i64::from(limits.unused_days) * DAY;
    // NHI1: still able to act, but nobody uses it (or nobody owns it).
    if active {
        let idle = match i.last_used {
            Some(t) => (facts.now - t >= unused_for)
                .then(|| format!("last used {} days ago", (facts.now - t) / DAY)),
            None => (facts.now - i.created >= unused_for).then(|| {
                format!(
                    "never used in the {} days since it was made",
                    (facts.now - i.created) / DAY
                )
            }),
        };
        if let Some(why) = idle {
            out.push(
                finding(
                    "posture/unused-identity",
                    Nhi::ImproperOffboarding,
                    Severity::Medium,
                    id,
                    format!("`{id}` is active but {why}: retire it or say why it stays"),
                )
                .with("unused_days_threshold", limits.unused_days)
                .with(
                    "last_used",
                    i.last_used
                        .map_or("never".to_owned(), crate::render::rfc3339),
                ),
            );
        }
    }
    if ownerless(&i.owner) {
        out.push(
            finding(
                "posture/no-owner",
                Nhi::ImproperOffboarding,
                Severity::Medium,
                id,
                format!("`{id}` names no owner answerable for it"),
            )
            .with("owner", &i.owner),
        );
    }
    // NHI5: granted more than it uses.
    if active && facts.ledger_read && f.usage.requests > 0 {
        let unused: Vec<&String> = i
            .scopes
            .iter()
            .filter(|s| facts.scopes_known.contains(*s) && !f.scopes_used.contains(*s))
            .collect();
        if !unused.is_empty() {
            out.push(
                finding(
                    "posture/unused-scope",
                    Nhi::Overprivileged,
                    Severity::Medium,
                    id,
                    format!(
                        "`{id}` holds {} scope(s) no operation it called in {} days needed",
                        unused.len(),
                        facts.window_days
                    ),
                )
                .with("unused_scopes", join(&unused))
                .with(
                    "scopes_used",
                    join(&f.scopes_used.iter().collect::<Vec<_>>()),
                ),
            );
        }
        let broader: Vec<&String> = f
            .permitted
            .iter()
            .filter(|o| !f.usage.operations.contains(*o))
            .collect();
        if !broader.is_empty() {
            out.push(
                finding(
                    "posture/policy-broader-than-use",
                    Nhi::Overprivileged,
                    Severity::Low,
                    id,
                    format!(
                        "the policies permit `{id}` {} operation(s) it has not called in {} days",
                        broader.len(),
                        facts.window_days
                    ),
                )
                .with("permitted", f.permitted.len())
                .with("used", f.usage.operations.len())
                .with(
                    "never_used",
                    join(&broader.iter().take(10).collect::<Vec<_>>()),
                ),
            );
        }
    }
    // NHI7: secrets kept too long.
    if let Some(c) = oldest_secret(facts, f) {
        let age = (facts.now - c.created) / DAY;
        if age >= i64::from(limits.rotation_days) {
            out.push(
                finding(
                    "posture/old-secret",
                    Nhi::LongLivedSecrets,
                    Severity::High,
                    id,
                    format!(
                        "`{id}`'s {} `{}` is {age} days old (rotate every {} days)",
                        c.kind, c.id, limits.rotation_days
                    ),
                )
                .with("credential", &c.id)
                .with("age_days", age)
                .with("expires", crate::render::rfc3339(c.expires)),
            );
        }
    }
    // NHI4: a static key where a short-lived token would do.
    let keys = f
        .credentials
        .iter()
        .filter(|c| c.kind == "api-key" && !c.revoked && c.expires > facts.now)
        .count();
    if keys > 0 && active {
        out.push(
            finding("posture/static-api-key", Nhi::InsecureAuthentication, Severity::Low, id, format!("`{id}` authenticates with {keys} static API key(s), sent whole on every request; prefer a client secret or private_key_jwt for short-lived tokens"))
                .with("api_keys", keys),
        );
    }
    // NHI9: one identity used from many places.
    if f.usage.sources.len() > limits.max_sources {
        out.push(
            finding("posture/many-sources", Nhi::Reuse, Severity::Medium, id, format!("`{id}` was used from {} source addresses in {} days: one identity shared by many workloads", f.usage.sources.len(), facts.window_days))
                .with("sources", f.usage.sources.len())
                .with("top", join(&f.usage.sources.keys().take(5).collect::<Vec<_>>())),
        );
    }
    // NHI8: used through a gateway of another environment.
    if let Some(env) = &facts.environment
        && *env != i.environment
        && f.usage.requests > 0
    {
        out.push(
            finding(
                "posture/cross-environment",
                Nhi::EnvironmentIsolation,
                Severity::High,
                id,
                format!(
                    "`{id}` belongs to `{}` but called this `{env}` gateway {} times",
                    i.environment, f.usage.requests
                ),
            )
            .with("identity_environment", &i.environment)
            .with("gateway_environment", env),
        );
    }
    // NHI2: what the responses leaked to it, and misuse the watch saw.
    if f.usage.secrets_redacted > 0 {
        out.push(
            finding("posture/secrets-in-responses", Nhi::SecretLeakage, Severity::High, id, format!("responses to `{id}` carried {} secret(s) the gateway redacted: the upstream leaks them", f.usage.secrets_redacted))
                .with("secrets_redacted", f.usage.secrets_redacted),
        );
    }
    if i.state == portcullis_core::IdentityState::Quarantined {
        out.push(finding("posture/quarantined", Nhi::SecretLeakage, Severity::High, id, format!("`{id}` is quarantined: misuse like this is how a leaked credential shows; rotate its credentials before resuming it")));
    }
    for (detector, (count, action)) in &f.usage.open_alerts {
        let (nhi, why) = if detector == "novelty" {
            (
                Nhi::HumanUse,
                "new operations, addresses or hours are how a person using an agent's credential shows",
            )
        } else {
            (
                Nhi::SecretLeakage,
                "probing, enumeration and spikes are how a leaked credential in other hands shows",
            )
        };
        out.push(
            finding(
                "posture/open-alert",
                nhi,
                Severity::Medium,
                id,
                format!(
                    "`{id}` has {count} open {detector} alert(s), the last one {action}: {why}"
                ),
            )
            .with("detector", detector)
            .with("alerts", count)
            .with("last_action", action),
        );
    }
}

pub(super) fn gateway_findings(facts: &Facts, limits: &Thresholds, out: &mut Vec<Finding>) {
    if facts.token_max_ttl_secs > limits.max_token_ttl_secs {
        out.push(
            finding(
                "posture/long-token-ttl",
                Nhi::LongLivedSecrets,
                Severity::Medium,
                "tokens",
                format!(
                    "access tokens may live {}s (over {}s): a stolen token works that long",
                    facts.token_max_ttl_secs, limits.max_token_ttl_secs
                ),
            )
            .with("tokens.max_ttl_secs", facts.token_max_ttl_secs),
        );
    }
    for api in &facts.apis {
        let subject = format!("api:{}", api.name);
        if api.shared_credential {
            let sharing: Vec<&str> = facts
                .identities
                .iter()
                .filter(|f| {
                    f.usage
                        .operations
                        .iter()
                        .any(|o| o.split(':').next() == Some(api.name.as_str()))
                })
                .filter(|f| !f.own_upstream.contains(&api.name))
                .map(|f| f.identity.id.as_str())
                .collect();
            if sharing.len() > limits.max_sharing {
                out.push(
                    finding("posture/shared-upstream-credential", Nhi::Reuse, Severity::Medium, &subject, format!("{} identities reach `{}` with the gateway's one upstream credential: the upstream cannot tell them apart", sharing.len(), api.name))
                        .with("identities", join(&sharing))
                        .with("fix", "give each its own (`portcullis identity upstream-credential`)"),
                );
            }
        }
        if api.plain_http_remote && api.shared_credential {
            out.push(
                finding("posture/credential-over-plain-http", Nhi::InsecureCloudDeployment, Severity::High, &subject, format!("`{}`'s upstream credential goes over plain http to a host that is not loopback", api.name))
                    .with("upstream", &api.upstream),
            );
        }
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
