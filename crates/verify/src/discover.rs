//! Discovery's pure parts: which routes to probe on the upstream, how to
//! tell a route that answers from the upstream's own not-found, and how
//! risky an answer looks.
//!
//! Candidates are the contract's own paths under other version prefixes
//! (`/v0`, `/v2`, `/api/...`, `/internal/...`), common admin, debug,
//! health, metrics, docs, backup and legacy names beside them, each
//! declared path with the methods it does not declare, and the spellings a
//! normalising server folds into a declared path. Templated segments are
//! filled with identifiers seen in the upstream's own answers, so a legacy
//! route keyed by a real id answers like a real route.

use std::collections::{BTreeMap, BTreeSet};

use portcullis_contract::Method;
use serde_json::Value;

mod classify;
mod fingerprint;

pub use classify::{Evidence, Risk, classify};
pub use fingerprint::{Baseline, Fingerprint};

/// Version prefixes tried in place of (or in front of) a path's own.
const VERSIONS: [&str; 5] = ["v0", "v1", "v2", "v3", "beta"];
/// Prefixes put in front of a whole path.
const PREFIXES: [&str; 5] = ["/api", "/internal", "/private", "/legacy", "/old"];
/// Names tried as a first segment, and under each version prefix.
const WORDS: [&str; 34] = [
    "admin",
    "debug",
    "config",
    "configuration",
    "env",
    "health",
    "healthz",
    "status",
    "ready",
    "readyz",
    "live",
    "metrics",
    "stats",
    "info",
    "version",
    "docs",
    "swagger",
    "swagger.json",
    "openapi.json",
    "api-docs",
    "graphql",
    "console",
    "backup",
    "backups",
    "dump",
    "export",
    "import",
    "internal",
    "test",
    "actuator",
    "manage",
    "system",
    "users",
    "logs",
];
/// Two-segment names common on debug and admin surfaces.
const PAIRS: [&str; 14] = [
    "debug/config",
    "debug/vars",
    "debug/pprof",
    "debug/env",
    "admin/config",
    "admin/users",
    "admin/export",
    "actuator/env",
    "actuator/health",
    "actuator/heapdump",
    "internal/config",
    "internal/metrics",
    "api/config",
    "config/env",
];

/// One route to probe.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub method: Method,
    pub path: String,
    /// Why it is tried: `version`, `prefix`, `word`, `method`, `normalisation`.
    pub why: &'static str,
}

/// A declared path and the methods declared on it.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The contract's template, `/v1/orders/{orderId}`.
    pub template: String,
    pub methods: Vec<Method>,
}

/// Identifiers seen in the upstream's answers, by what they identify:
/// `order` for an `id` in an answer about orders or an `orderId` field.
pub type Ids = BTreeMap<String, BTreeSet<String>>;

/// The candidates for `declared`, with `{...}` segments filled from `ids`
/// (the ids of what the parameter names, else any, else `1`), never a
/// declared method and path, at most `limit`. Write methods are included
/// only when `writes` is true.
pub fn candidates(declared: &[Declared], ids: &Ids, writes: bool, limit: usize) -> Vec<Candidate> {
    let fill = |template: &str| fill_template(template, ids);
    let declared_pairs: BTreeSet<(Method, String)> = declared
        .iter()
        .flat_map(|d| d.methods.iter().map(|m| (*m, fill(&d.template))))
        .collect();
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |method: Method, path: String, why: &'static str| {
        if declared_pairs.contains(&(method, path.clone())) || !seen.insert((method, path.clone()))
        {
            return;
        }
        out.push(Candidate { method, path, why });
    };
    for d in declared {
        let path = fill(&d.template);
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let unversioned = match segments.first() {
            Some(first) if is_version(first) => segments.get(1..).unwrap_or_default().join("/"),
            _ => segments.join("/"),
        };
        for v in VERSIONS {
            add(Method::Get, format!("/{v}/{unversioned}"), "version");
        }
        add(Method::Get, format!("/{unversioned}"), "version");
        for p in PREFIXES {
            add(Method::Get, format!("{p}{path}"), "prefix");
        }
        for method in [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
        ] {
            if !d.methods.contains(&method) && (writes || !method.is_write()) {
                add(method, path.clone(), "method");
            }
        }
        for variant in normalisations(&path) {
            add(Method::Get, variant, "normalisation");
        }
    }
    let mut roots: BTreeSet<String> = BTreeSet::from([String::new()]);
    for d in declared {
        if let Some(first) = d.template.split('/').find(|s| !s.is_empty())
            && is_version(first)
        {
            roots.insert(format!("/{first}"));
        }
    }
    for root in &roots {
        for w in WORDS {
            add(Method::Get, format!("{root}/{w}"), "word");
        }
        for p in PAIRS {
            add(Method::Get, format!("{root}/{p}"), "word");
        }
    }
    out.truncate(limit);
    out
}

fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// `{name}` segments replaced by an id of what `name` identifies
/// (`orderId` takes an order's), else any id seen, else `1`.
fn fill_template(template: &str, ids: &Ids) -> String {
    let any = ids.values().flatten().next().map_or("1", String::as_str);
    template
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => ids
                    .get(&thing(name))
                    .and_then(|set| set.iter().next())
                    .map_or(any, String::as_str),
                None => s,
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// What an identifier names, from a parameter or field name (`orderId`,
/// `order_id`) or a collection (`orders`): `order`.
pub fn thing(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let base = lower
        .strip_suffix("_id")
        .or_else(|| lower.strip_suffix("id"))
        .unwrap_or(&lower);
    let base = base.strip_suffix('s').unwrap_or(base);
    base.to_owned()
}

/// Spellings a lenient server may fold into `path` or climb out of it with:
/// the declared path reached through `..`, `;`, `//`, a trailing slash and
/// an upper-cased segment, plus a climb to the debug surface.
fn normalisations(path: &str) -> Vec<String> {
    let mut out = vec![
        format!("{path}/"),
        format!("{path};x=1"),
        path.replacen('/', "//", 1),
        format!("/x/..{path}"),
        format!("{path}/..%2F..%2Fdebug/config"),
    ];
    if let Some(first) = path.split('/').find(|s| !s.is_empty()) {
        out.push(path.replacen(first, &first.to_uppercase(), 1));
    }
    out
}

/// Identifiers in a JSON answer about `about` (a collection name such as
/// `orders`, or the path the answer came from) that a templated route may
/// take: strings and integers under a key named `id` (attributed to
/// `about`) or ending in `Id`/`_id` (attributed to what the key names).
pub fn harvest_ids(value: &Value, about: &str, out: &mut Ids) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let owner = if key == "id" {
                    Some(thing(about))
                } else if key.ends_with("Id") || key.ends_with("_id") {
                    Some(thing(key))
                } else {
                    None
                };
                match (owner, v) {
                    (Some(owner), Value::String(s)) if !s.is_empty() && s.len() <= 128 => {
                        out.entry(owner).or_default().insert(s.clone());
                    }
                    (Some(owner), Value::Number(n)) => {
                        out.entry(owner).or_default().insert(n.to_string());
                    }
                    (_, other) => harvest_ids(other, about, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| harvest_ids(v, about, out)),
        _ => {}
    }
}

/// The collection a declared path is about: its last literal segment.
pub fn collection_of(template: &str) -> &str {
    template
        .rsplit('/')
        .find(|s| !s.is_empty() && !s.starts_with('{'))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
