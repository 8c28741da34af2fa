//! `--format sarif`: SARIF 2.1.0, so code scanning tools show the findings
//! against the contract or configuration they are about, each under a
//! stable rule id.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Finding, Verification};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub fn render(run: &Verification) -> Value {
    let findings = run.findings();
    let mut rules: BTreeMap<&str, (usize, &Finding)> = BTreeMap::new();
    for f in &findings {
        let next = rules.len();
        rules.entry(f.rule.id.as_str()).or_insert((next, f));
    }
    let mut ordered: Vec<_> = rules.values().collect();
    ordered.sort_by_key(|(i, _)| *i);
    // Each contract read once, however many findings point into it.
    let mut texts: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let text = texts
                .entry(f.file.as_str())
                .or_insert_with(|| std::fs::read_to_string(&f.file).ok());
            let index = rules.get(f.rule.id.as_str()).map_or(0, |(i, _)| *i);
            // Accepted in the configuration: shown as suppressed, never dropped.
            let suppressions: Vec<Value> = run
                .accepted(f)
                .map(|reason| json!({"kind": "inSource", "justification": reason}))
                .into_iter()
                .collect();
            let mut result = json!({
                "ruleId": f.rule.id,
                "ruleIndex": index,
                "level": f.level.as_str(),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.file)},
                        "region": {"startLine": line_of(f, text.as_deref())},
                    },
                    "logicalLocations": [{"name": f.subject}],
                }],
                "partialFingerprints": {"portcullisFinding/v1": fingerprint(f)},
                "properties": {
                    "evidence": f.evidence.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
                },
            });
            if let (false, Value::Object(fields)) = (suppressions.is_empty(), &mut result) {
                fields.insert("suppressions".into(), Value::Array(suppressions));
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "portcullis verify",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": ordered.iter().map(|(_, f)| json!({
                    "id": f.rule.id,
                    "name": name(&f.rule.id),
                    "shortDescription": {"text": f.rule.description},
                    "defaultConfiguration": {"level": f.level.as_str()},
                })).collect::<Vec<_>>(),
            }},
            "invocations": [{"executionSuccessful": true}],
            "results": results,
        }],
    })
}

/// `verify/undeclared-route` → `UndeclaredRoute`.
fn name(id: &str) -> String {
    id.rsplit('/')
        .next()
        .unwrap_or(id)
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A relative path as a URI reference (forward slashes, no `./`).
fn uri(file: &str) -> String {
    let file = file.replace('\\', "/");
    file.strip_prefix("./").unwrap_or(&file).to_owned()
}

/// The line a finding points at: the policy's own `file:line`, or the
/// operation's `operationId` in its file's `text`, or the first line.
fn line_of(f: &Finding, text: Option<&str>) -> u64 {
    if let Some((_, at)) = f.evidence.iter().find(|(k, _)| *k == "at")
        && let Some(line) = at.rsplit(':').next().and_then(|l| l.parse().ok())
    {
        return line;
    }
    let Some((_, op)) = f.subject.split_once(':') else {
        return 1;
    };
    let Some(text) = text else {
        return 1;
    };
    text.lines()
        .position(|l| {
            let l = l.trim();
            (l.starts_with("operationId:") || l.starts_with("\"operationId\""))
                && l.trim_end_matches(',')
                    .rsplit(':')
                    .next()
                    .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == op)
        })
        .map_or(1, |i| u64::try_from(i + 1).unwrap_or(1))
}

/// A stable identity for a finding across runs (FNV-1a of its rule, subject
/// and request), so a scanner can tell a new finding from a known one.
fn fingerprint(f: &Finding) -> String {
    let request = f
        .evidence
        .iter()
        .find(|(k, _)| *k == "request")
        .map_or("", |(_, v)| v.as_str());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [f.rule.id.as_str(), "\0", &f.subject, "\0", request]
        .iter()
        .flat_map(|s| s.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::name;

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(name("verify/undeclared-route"), "UndeclaredRoute");
        assert_eq!(name("policy/wide-open"), "WideOpen");
    }
}
