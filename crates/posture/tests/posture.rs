//! The posture report on a seeded store and ledger: one finding for each
//! kind of risk it looks for, each naming its OWASP NHI Top 10 (2025) id,
//! with its evidence; and the same report in every format.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_audit::{Alert, Entry, Hash, Sealed};
use portcullis_core::{Identity, IdentityKind, IdentityState};
use portcullis_posture::gather::{Gateway, gather};
use portcullis_posture::{Thresholds, assess, render};
use portcullis_store::ledger::{Ledger, Location, Sync};
use portcullis_store::{
    ChangedBy, Credential, CredentialKind, CredentialStore, IdentityStore, SqliteStore,
};

const NOW: i64 = 1_764_892_800;
const DAY: i64 = 86_400;

fn identity(
    id: &str,
    owner: &str,
    env: &str,
    scopes: &[&str],
    created_days_ago: i64,
    last_used_days_ago: Option<i64>,
) -> Identity {
    Identity {
        id: id.into(),
        kind: IdentityKind::Agent,
        owner: owner.into(),
        environment: env.into(),
        tags: vec!["reporting".into()],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        state: IdentityState::Active,
        created: NOW - created_days_ago * DAY,
        expires: None,
        last_used: last_used_days_ago.map(|d| NOW - d * DAY),
    }
}

fn credential(identity: &str, kind: CredentialKind, created_days_ago: i64) -> Credential {
    Credential {
        id: format!("{identity}/{}-1", kind.as_str()),
        identity: identity.into(),
        kind,
        secret_hash: Some(portcullis_token::hash_secret(&format!(
            "{identity}{}",
            kind.as_str()
        ))),
        public_jwk: None,
        created: NOW - created_days_ago * DAY,
        expires: NOW + 100 * DAY,
        revoked: None,
        label: None,
    }
}

fn seeded_store() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    let read = ["orders:read", "customers:read"];
    let people = [
        identity("old-reporter", "analytics", "prod", &read, 200, Some(45)),
        identity("orphan", "unknown", "prod", &read, 5, Some(1)),
        identity("busy-reader", "analytics", "prod", &read, 60, Some(0)),
        identity(
            "night-owl",
            "analytics",
            "prod",
            &["orders:read"],
            60,
            Some(0),
        ),
        identity("held", "analytics", "prod", &["orders:read"], 60, Some(0)),
        identity(
            "staging-bot",
            "qa",
            "staging",
            &["orders:read"],
            60,
            Some(0),
        ),
    ];
    store.upsert_identities(&people).unwrap();
    store
        .set_identity_state(
            "held",
            IdentityState::Quarantined,
            NOW,
            &ChangedBy::who("watch:probing"),
        )
        .unwrap();
    store
        .insert_credential(&credential(
            "old-reporter",
            CredentialKind::ClientSecret,
            120,
        ))
        .unwrap();
    store
        .insert_credential(&credential("busy-reader", CredentialKind::ApiKey, 10))
        .unwrap();
    store
}

fn request(identity: &str, operation: &str, source: &str, secrets: u32) -> Entry {
    Entry {
        time_ms: (NOW - DAY) * 1_000,
        request_id: format!("r-{identity}-{operation}-{source}"),
        identity: Some(identity.into()),
        api: Some("orders".into()),
        operation: Some(operation.into()),
        method: "GET".into(),
        path: "/orders/v1/orders".into(),
        stage: "check_response".into(),
        decision: "allow".into(),
        status: 200,
        source: format!("{source}:40000"),
        secrets_redacted: secrets,
        ..Entry::default()
    }
}

fn alert(identity: &str, detector: &str) -> Entry {
    Entry {
        time_ms: (NOW - DAY) * 1_000,
        request_id: format!("alert-{identity}"),
        identity: Some(identity.into()),
        stage: "watch".into(),
        decision: "alert".into(),
        alert: Some(Alert {
            detector: detector.into(),
            action: "alert".into(),
            level: 1,
            mode: "enforce".into(),
            window_ms: 60_000,
            count: 10,
            threshold: 10,
            baseline: None,
            since_ms: None,
            subject: None,
            samples: Vec::new(),
            until_ms: None,
        }),
        ..Entry::default()
    }
}

fn seeded_ledger(name: &str) -> Ledger {
    let location = Location::Memory(format!("posture-{name}-{}", std::process::id()));
    let mut ledger = Ledger::open(&location, Sync::Normal).unwrap();
    let mut entries: Vec<Entry> = (1..=8)
        .map(|i| request("busy-reader", "listOrders", &format!("10.0.0.{i}"), 0))
        .collect();
    entries.push(request("busy-reader", "getOrder", "10.0.0.1", 2));
    entries.push(alert("busy-reader", "probing"));
    // An admin's acknowledgement and credential change are no traffic: the
    // counts (in the snapshots) are the requests' alone.
    entries.push(Entry {
        identity: Some("busy-reader".into()),
        decision: portcullis_audit::event::ACK.into(),
        ack: Some(portcullis_audit::event::Acknowledgement {
            alert: "0000000000000-000000000010".into(),
            by: "ops".into(),
        }),
        ..Entry::default()
    });
    entries.push(Entry {
        identity: Some("busy-reader".into()),
        decision: portcullis_audit::event::CREDENTIAL.into(),
        source: "10.0.9.9:1".into(),
        credential_change: Some(portcullis_audit::event::CredentialChange {
            credential: "busy-reader/api-key-1".into(),
            action: "revoked".into(),
            by: "ops".into(),
            replaced_by: None,
        }),
        ..Entry::default()
    });
    entries.push(request("night-owl", "listOrders", "10.0.1.1", 0));
    entries.push(alert("night-owl", "novelty"));
    entries.push(request("staging-bot", "listOrders", "10.0.2.1", 0));
    entries.push(request("orphan", "listOrders", "10.0.3.1", 0));
    let mut prev = Hash::GENESIS;
    let batch: Vec<(Sealed, Entry)> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let sealed = Sealed::seal(i as u64 + 1, prev, e.clone()).unwrap();
            prev = sealed.hash;
            (sealed, e)
        })
        .collect();
    ledger.append(&batch).unwrap();
    ledger
}

fn report(name: &str) -> portcullis_posture::Report {
    let dir = portcullis_testkit::examples_dir();
    let overrides = portcullis_config::Overrides {
        storage: Some(portcullis_config::Storage::Memory),
        upstreams: vec![("orders".into(), "http://orders.internal:9000".into())],
        ..portcullis_config::Overrides::default()
    };
    let (config, _) = portcullis_config::load(&dir.join("portcullis.yaml"), &overrides).unwrap();
    let store = seeded_store();
    let ledger = seeded_ledger(name);
    let facts = gather(
        &Gateway::of(&config),
        &store,
        Some(&ledger),
        NOW,
        30,
        Some("prod".into()),
    )
    .unwrap();
    let limits = Thresholds {
        max_token_ttl_secs: 600,
        ..Thresholds::default()
    };
    assess(&facts, &limits)
}

#[test]
fn every_kind_of_risk_is_found_with_its_owasp_id_and_evidence() {
    let report = report("kinds");
    let found: Vec<(&str, &str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.nhi, f.rule, f.subject.as_str()))
        .collect();
    for expected in [
        ("NHI1:2025", "posture/unused-identity", "old-reporter"),
        ("NHI1:2025", "posture/no-owner", "orphan"),
        ("NHI2:2025", "posture/secrets-in-responses", "busy-reader"),
        ("NHI2:2025", "posture/open-alert", "busy-reader"),
        ("NHI2:2025", "posture/quarantined", "held"),
        ("NHI4:2025", "posture/static-api-key", "busy-reader"),
        ("NHI5:2025", "posture/unused-scope", "busy-reader"),
        (
            "NHI5:2025",
            "posture/policy-broader-than-use",
            "busy-reader",
        ),
        (
            "NHI6:2025",
            "posture/credential-over-plain-http",
            "api:orders",
        ),
        ("NHI7:2025", "posture/old-secret", "old-reporter"),
        ("NHI7:2025", "posture/long-token-ttl", "tokens"),
        ("NHI8:2025", "posture/cross-environment", "staging-bot"),
        ("NHI9:2025", "posture/many-sources", "busy-reader"),
        (
            "NHI9:2025",
            "posture/shared-upstream-credential",
            "api:orders",
        ),
        ("NHI10:2025", "posture/open-alert", "night-owl"),
    ] {
        assert!(
            found.contains(&expected),
            "missing {expected:?} in {found:#?}"
        );
    }
    insta::assert_snapshot!("posture_text", render::text(&report));
    insta::assert_json_snapshot!("posture_findings", report.findings);
}

#[test]
fn the_sarif_names_each_rule_with_its_owasp_id_and_the_html_escapes() {
    let report = report("formats");
    let sarif: serde_json::Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().all(|r| {
        r["properties"]["owasp-nhi"]
            .as_str()
            .unwrap()
            .starts_with("NHI")
    }));
    let json: serde_json::Value = serde_json::from_str(&render::json(&report)).unwrap();
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        report.findings.len()
    );
    let mut hostile = report.clone();
    hostile.inventory[0].id = "<script>alert(1)</script>".into();
    let page = render::html(&hostile);
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    for outside in ["<script", "src=", "href=", "@import", "url("] {
        assert!(
            !page.contains(outside),
            "self-contained: `{outside}` in the page"
        );
    }
}
