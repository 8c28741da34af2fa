//! SARIF 2.1.0: one rule per posture rule id, carrying its OWASP NHI id in
//! its properties and tags; one result per finding, located logically at
//! its subject (the identity, or the API), its evidence in properties.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{Report, Severity};

pub fn sarif(report: &Report) -> String {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for f in &report.findings {
        rules.entry(f.rule).or_insert_with(|| {
            json!({
                "id": f.rule,
                "shortDescription": { "text": format!("{} {}", f.nhi, f.risk) },
                "helpUri": "https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025/",
                "properties": { "owasp-nhi": f.nhi, "tags": ["security", f.nhi] },
            })
        });
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "level": match f.severity {
                    Severity::High => "error",
                    Severity::Medium => "warning",
                    Severity::Low => "note",
                },
                "message": { "text": f.message },
                "locations": [{
                    "logicalLocations": [{
                        "name": f.subject,
                        "kind": if f.subject.contains(':') || f.subject == "tokens" { "module" } else { "object" },
                    }]
                }],
                "properties": { "owasp-nhi": f.nhi, "evidence": f.evidence },
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "portcullis posture",
                "informationUri": "https://owasp.org/www-project-non-human-identities-top-10/",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
