use std::path::Path;

use crate::{Embedded, Overrides, load, load_from};

#[test]
fn the_example_configuration_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders/portcullis.yaml");
    let (config, warnings) = load(&path, &Overrides::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let api = &config.apis[0];
    assert_eq!(api.mount, "/orders");
    assert_eq!(api.upstream.authority, "127.0.0.1:9000");
    assert!(api.contract.operations().len() >= 8);
    assert_eq!(api.contract.digest().len(), 64);
}

#[test]
fn overrides_replace_listen_and_upstream() {
    let files = Embedded(&[
        (
            "c.yaml",
            "apis:\n  - {name: a, contract: a.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\n",
        ),
        (
            "a.yaml",
            "openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
    ]);
    let overrides = Overrides {
        storage: Some(crate::Storage::Memory),
        admin: None,
        sealing_key: None,
        listen: Some("127.0.0.1:0".parse().unwrap()),
        upstreams: vec![("a".into(), "http://127.0.0.1:2/base/".into())],
    };
    let (config, _) = load_from(&files, "c.yaml", &overrides).unwrap();
    assert_eq!(config.listen.port(), 0);
    assert_eq!(config.apis[0].upstream.authority, "127.0.0.1:2");
    assert_eq!(config.apis[0].upstream.base_path, "/base");
}

pub(super) fn diagnostics(config: &'static str) -> Vec<String> {
    let files = Embedded(Box::leak(Box::new([
        ("c.yaml", config),
        (
            "ok.yaml",
            "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
        (
            "bad.yaml",
            "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths:\n  /x:\n    get:\n      parameters: [{name: q, in: cookie, schema: {type: string}}]\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: strin}}}}}\n",
        ),
        (
            "typo.yaml",
            "openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths: {}\ncomponents:\n  securitySchemas: {}\n",
        ),
    ])));
    let overrides = Overrides {
        storage: Some(crate::Storage::Memory),
        ..Overrides::default()
    };
    match load_from(&files, "c.yaml", &overrides) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_problem_is_reported_with_its_line_or_pointer() {
    insta::assert_json_snapshot!(diagnostics(
        "listen: nowhere\nmode: observe\nrate_limits: {per_identity: 50/x}\napis:\n  - name: Orders\n    contract: ok.yaml\n    mount: /orders/\n    upstream: ftp://x\n  - name: b\n    contract: bad.yaml\n    mount: /b\n    upstream: http://127.0.0.1:1\n  - name: c\n    contract: missing.yaml\n    mount: /.well-known/x\n    upstream: http://127.0.0.1:1\n    timeouts: {connect: soon}\nlimits: {json_depth: 500}\n"
    ));
}

#[test]
fn a_contract_s_unknown_field_is_reported_with_file_line_and_pointer() {
    insta::assert_json_snapshot!(diagnostics(
        "apis:\n  - {name: a, contract: typo.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\n"
    ));
}

#[test]
fn syntax_errors_and_unknown_fields_name_the_line() {
    insta::assert_json_snapshot!(diagnostics("apis:\n  - name: a\n    contrct: ok.yaml\n"));
    insta::assert_json_snapshot!(diagnostics("apis: [\n"));
}

#[test]
fn overlapping_mounts_are_refused() {
    let d = diagnostics(
        "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\n  - {name: b, contract: ok.yaml, mount: /a/b, upstream: 'http://127.0.0.1:1'}\n",
    );
    // The policies are still checked (both contracts loaded): the warning
    // that there are none is a finding of its own.
    let d: Vec<&String> = d.iter().filter(|d| d.contains("error")).collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].contains("c.yaml:3:"), "{d:?}");
    assert!(d[0].contains("overlaps"));
}

const INVENTORY_CONFIG: &str = "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\nidentities: ids.yaml\ntokens: {issuer: gw, default_ttl: 2m, max_ttl: 10m, leeway: 5s}\n";

fn with_inventory(inventory: &'static str) -> Result<crate::Config, Vec<String>> {
    let files = Embedded(Box::leak(Box::new([
        ("c.yaml", INVENTORY_CONFIG),
        (
            "ok.yaml",
            "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
        ("ids.yaml", inventory),
    ])));
    let overrides = Overrides {
        storage: Some(crate::Storage::Memory),
        ..Overrides::default()
    };
    load_from(&files, "c.yaml", &overrides)
        .map(|(c, _)| c)
        .map_err(|d| d.iter().map(ToString::to_string).collect())
}

#[test]
fn the_inventory_and_token_settings_load() {
    let config = with_inventory(
        "identities:\n  - id: reporting-bot\n    kind: agent\n    owner: team-data\n    environment: prod\n    tags: [reporting]\n    scopes: [orders:read]\n    expires: 2030-01-01T00:00:00Z\n    keys:\n      - id: k1\n        expires: 2030-01-01T00:00:00Z\n        jwk: {kty: OKP, crv: Ed25519, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo}\n  - {id: old-job, kind: ci-job, owner: platform, environment: ci, state: retired}\n",
    )
    .unwrap();
    assert_eq!(config.identities.len(), 2);
    let bot = &config.identities[0];
    assert_eq!(bot.identity.scopes, ["orders:read"]);
    assert_eq!(bot.identity.expires, Some(1_893_456_000));
    assert_eq!(bot.keys[0].id, "k1");
    assert_eq!(
        config.identities[1].identity.state,
        portcullis_core::IdentityState::Retired
    );
    assert_eq!(config.tokens.issuer, "gw");
    assert_eq!(config.tokens.max_ttl.as_secs(), 600);
}

#[test]
fn inventory_problems_name_their_line() {
    insta::assert_json_snapshot!(with_inventory(
        "identities:\n  - id: Bad Id\n    kind: robot\n    owner: ''\n    environment: prod\n    scopes: ['a b']\n    state: sleeping\n    expires: tomorrow\n    keys:\n      - id: k1\n        expires: 2030-01-01T00:00:00Z\n        jwk: {kty: OKP, crv: Ed25519, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo, d: secret}\n  - {id: twin, kind: agent, owner: o, environment: e}\n  - {id: twin, kind: agent, owner: o, environment: e}\n"
    )
    .unwrap_err());
}

#[test]
fn upstream_credentials_never_come_from_the_file_itself() {
    let api = |auth: &str| -> Vec<String> {
        let text: &'static str = Box::leak(
            format!("apis:\n  - name: a\n    contract: q.yaml\n    mount: /a\n    upstream: http://127.0.0.1:1\n    upstream_auth: {auth}\n")
                .into_boxed_str(),
        );
        let files = Embedded(Box::leak(Box::new([
            ("c.yaml", text),
            ("secret.txt", "s3cret\n"),
            (
                "q.yaml",
                "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths:\n  /x:\n    get:\n      parameters: [{name: key, in: query, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n",
            ),
        ])));
        let overrides = Overrides {
            storage: Some(crate::Storage::Memory),
            ..Overrides::default()
        };
        match load_from(&files, "c.yaml", &overrides) {
            Ok((config, _)) => {
                assert!(
                    !format!("{config:?}").contains("s3cret"),
                    "Debug must not show the secret"
                );
                Vec::new()
            }
            Err(d) => d.iter().map(|d| d.message.clone()).collect(),
        }
    };
    assert!(api("{bearer: 'file:secret.txt'}").is_empty());
    assert!(api("{header: X-Key, value: 'file:secret.txt'}").is_empty());
    assert!(api("{bearer: plain-text-secret}")[0].contains("never from the file itself"));
    assert!(
        api("{bearer: 'file:secret.txt', header: X-Key, value: 'file:secret.txt'}")[0]
            .contains("exactly one")
    );
    assert!(api("{bearer: 'env:PORTCULLIS_TEST_SURELY_UNSET'}")[0].contains("is not set"));
    let collision = api("{query: {name: key, value: 'file:secret.txt'}}");
    assert!(
        collision
            .iter()
            .any(|m| m.contains("also a parameter of the contract")),
        "{collision:?}"
    );
}

#[test]
fn audit_settings_are_checked() {
    let mut found = diagnostics(
        "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\naudit:\n  ledger: postgres://x\n  durability: sometimes\n  checkpoint_every: 0\n  checkpoint_interval: soon\n  max_records: 10\n",
    );
    found.retain(|d| d.contains(": error: "));
    assert_eq!(
        found,
        [
            "c.yaml:4: error: `audit.ledger` must be `sqlite://PATH`, `postgres` or `memory`",
            "c.yaml:5: error: `audit.durability` must be `batch` or `strict`, not `sometimes`",
            "c.yaml:6: error: `audit.checkpoint_every` must be between 1 and 1000000 records",
            "c.yaml:7: error: `audit.checkpoint_interval` must be a duration like `5s` or `30d`",
            "c.yaml:8: error: `audit.max_records` must be at least `audit.checkpoint_every` (pruning happens at checkpoints)",
        ]
    );
}

#[test]
fn the_ledger_follows_the_store_unless_told() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders/portcullis.yaml");
    let (config, _) = load(&path, &Overrides::default()).unwrap();
    assert!(
        matches!(&config.audit.ledger, crate::LedgerPlace::File(p) if p.ends_with("examples/orders/audit.db")),
        "{:?}",
        config.audit.ledger
    );
    assert_eq!(config.audit.durability, crate::AuditDurability::Batch);
    let memory = Overrides {
        storage: Some(crate::Storage::Memory),
        ..Overrides::default()
    };
    let (config, _) = load(&path, &memory).unwrap();
    assert_eq!(config.audit.ledger, crate::LedgerPlace::Memory);
    // A fleet's store: the ledger goes with it.
    let fleet = Overrides {
        storage: Some(crate::Storage::Postgres(
            match portcullis_store::StorageLocation::parse("postgres://db/p").unwrap() {
                portcullis_store::StorageLocation::Postgres(url) => url,
                _ => unreachable!(),
            },
        )),
        ..Overrides::default()
    };
    let (config, _) = load(&path, &fleet).unwrap();
    assert_eq!(config.audit.ledger, crate::LedgerPlace::Postgres);
    // Asked for beside a SQLite store: refused, saying why.
    let files = Embedded(Box::leak(Box::new([
        (
            "c.yaml",
            "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\npolicies: p/\naudit: {ledger: postgres}\n",
        ),
        (
            "ok.yaml",
            "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
        ("p/a.cedar", ""),
    ])));
    let sqlite = Overrides {
        storage: Some(crate::Storage::Sqlite("p.db".into())),
        ..Overrides::default()
    };
    let found: Vec<String> = load_from(&files, "c.yaml", &sqlite)
        .unwrap_err()
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "c.yaml:4: error: `audit.ledger: postgres` keeps the ledger in the store's PostgreSQL: it needs `storage: postgres://...`"
        ]
    );
}

#[test]
fn rate_limits_name_real_operations_and_real_rates() {
    let contract = "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses: {'204': {description: ok}}\n";
    let config = |limits: &'static str| {
        let text: &'static str = Box::leak(
            format!("apis:\n  - {{name: a, contract: a.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}}\n{limits}").into_boxed_str(),
        );
        let files = Embedded(Box::leak(Box::new([
            ("c.yaml", text),
            ("a.yaml", contract),
            ("p/a.cedar", ""),
            ("redis.url", "redis://:hunter2@10.0.0.9:6379\n"),
        ])));
        let overrides = Overrides {
            storage: Some(crate::Storage::Memory),
            ..Overrides::default()
        };
        load_from(&files, "c.yaml", &overrides)
            .map(|(c, _)| c.rate_limits)
            .map_err(|d| {
                d.iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            })
    };
    let limits = config(
        "rate_limits:\n  per_identity: 50/s\n  burst: 100\n  operations:\n    a:getX: 5/m\n",
    )
    .unwrap();
    let overall = limits.per_identity.unwrap();
    assert_eq!((overall.count.get(), overall.burst.get()), (50, 100));
    let get_x = limits.per_operation["a"]["getX"];
    assert_eq!(
        (get_x.count.get(), get_x.per.as_secs(), get_x.burst.get()),
        (5, 60, 5)
    );
    let limits = config("rate_limits: {operations: {'a:getX': {rate: 2/h, burst: 7}}}\n").unwrap();
    assert!(limits.per_identity.is_none());
    assert_eq!(limits.per_operation["a"]["getX"].burst.get(), 7);
    assert!(config("").unwrap().per_operation.is_empty());

    let errors = config("rate_limits:\n  burst: 0\n  operations:\n    a:getY: 5/s\n    b:getX: 5/s\n    a:getX: {rate: 5/d}\n").unwrap_err();
    assert_eq!(
        errors,
        [
            "c.yaml:4: error: `rate_limits.burst` must be at least 1",
            "c.yaml:6: error: `rate_limits.operations.a:getX`: `5/d` is not a rate like `50/s`, `600/m` or `10000/h`",
            "c.yaml:6: error: `rate_limits.operations`: `a:getY` names no operation; write `api:operationId` as `portcullis schema` lists them",
            "c.yaml:6: error: `rate_limits.operations`: `b:getX` names no operation; write `api:operationId` as `portcullis schema` lists them",
        ]
    );

    // The buckets in Redis: `local` unless told, the URL never shown.
    let shared =
        config("rate_limits:\n  per_identity: 5/s\n  backend: redis://:pw@10.0.0.9:6379/2\n")
            .unwrap()
            .shared
            .unwrap();
    assert_eq!(shared.on_unavailable, crate::OnUnavailable::Local);
    assert_eq!(shared.url.expose(), "redis://:pw@10.0.0.9:6379/2");
    assert!(!format!("{shared:?}").contains("pw"));
    let deny = config(
        "rate_limits: {per_identity: 5/s, backend: 'redis://r:6379', on_unavailable: deny}\n",
    );
    assert_eq!(
        deny.unwrap().shared.unwrap().on_unavailable,
        crate::OnUnavailable::Deny
    );
    let errors = config(
        "rate_limits:\n  per_identity: 5/s\n  backend: rediss://r:6380\n  on_unavailable: allow\n",
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "c.yaml:6: error: `rate_limits.on_unavailable`: `allow` is neither `local` nor `deny`",
            "c.yaml:5: error: `rate_limits.backend`: `rediss://` (TLS to Redis) is not supported by this build; reach Redis over a private network or a TLS sidecar",
        ]
    );
    let errors = config("rate_limits:\n  per_identity: 5/s\n  backend: http://r\n").unwrap_err();
    assert_eq!(
        errors,
        ["c.yaml:5: error: `rate_limits.backend`: `backend` must be a `redis://host:port` URL"]
    );
    // Named rather than written: the password stays out of the file.
    let named = config("rate_limits:\n  per_identity: 5/s\n  backend: file:redis.url\n")
        .unwrap()
        .shared
        .unwrap();
    assert_eq!(named.url.expose(), "redis://:hunter2@10.0.0.9:6379");
    let errors =
        config("rate_limits:\n  per_identity: 5/s\n  backend: env:PORTCULLIS_TEST_SURELY_UNSET\n")
            .unwrap_err();
    assert!(errors[0].contains("is not set"), "{errors:?}");
    let errors = config("rate_limits:\n  per_identity: 5/s\n  on_unavailable: deny\n").unwrap_err();
    assert_eq!(
        errors,
        ["c.yaml:5: error: `rate_limits.on_unavailable` needs `backend`, the Redis it is about"]
    );
}

#[test]
fn accept_entries_need_a_reason_and_are_written_once() {
    let d = diagnostics(
        "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\npolicies: p/\naccept:\n  - {rule: wide-open, subject: 'a:x', reason: ' '}\n  - {rule: wide-open, subject: 'a:y', reason: intended}\n  - {rule: wide-open, subject: 'a:y', reason: again}\n",
    );
    let errors: Vec<&String> = d.iter().filter(|d| d.contains("`accept`")).collect();
    assert_eq!(
        errors,
        [
            "c.yaml:5: error: `accept`: `wide-open` on `a:x` needs a `reason`: why it is intended",
            "c.yaml:7: error: `accept`: `wide-open` on `a:y` is accepted twice",
        ],
        "{d:?}"
    );
}

#[test]
fn mcp_origins_must_be_origins() {
    let d = diagnostics(
        "mcp:\n  allowed_origins:\n    - http://localhost:6274\n    - https://agent.example.com/app\n    - localhost\n",
    );
    let errors: Vec<&String> = d.iter().filter(|d| d.contains("allowed_origins")).collect();
    assert_eq!(errors.len(), 2, "{d:?}");
    assert!(errors[0].contains("c.yaml:4:") && errors[0].contains("https://agent.example.com/app"));
    assert!(errors[1].contains("c.yaml:5:"));
}

const DELEGATING: &str = "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\ntokens: {issuer: gw, max_ttl: 10m}\ndelegation:\n";

#[test]
fn delegation_loads_with_its_defaults_and_typed_claims() {
    let text = format!(
        "{DELEGATING}  issuers:\n    - issuer: https://idp.example\n      jwks: http://127.0.0.1:9/jwks.json\n      audience: gw\n      algorithms: [RS256, ES256]\n      claims:\n        tenant: tenant_id\n        roles: {{ claim: groups, type: set }}\n        level: {{ claim: lvl, type: long }}\n      scopes: {{ claim: groups, map: {{ support: [a:read] }} }}\n  actors: [bot]\n"
    );
    let files = Embedded(Box::leak(Box::new([
        ("c.yaml", &*Box::leak(text.into_boxed_str())),
        (
            "ok.yaml",
            "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
    ])));
    let overrides = Overrides {
        storage: Some(crate::Storage::Memory),
        ..Overrides::default()
    };
    let (config, _) = load_from(&files, "c.yaml", &overrides).unwrap();
    let d = config.delegation.unwrap();
    assert_eq!((d.max_chain, d.max_ttl.as_secs()), (3, 300));
    assert_eq!(d.actors, ["bot"]);
    let issuer = &d.issuers[0];
    assert_eq!(issuer.jwks_refresh, crate::DEFAULT_JWKS_REFRESH);
    assert_eq!(issuer.jwks_max_age, crate::DEFAULT_JWKS_MAX_AGE);
    let names: Vec<(String, portcullis_policy::ClaimType)> = d
        .person_attrs()
        .into_iter()
        .map(|a| (a.name, a.ty))
        .collect();
    assert!(names.contains(&("roles".into(), portcullis_policy::ClaimType::StringSet)));
    assert!(names.contains(&("level".into(), portcullis_policy::ClaimType::Long)));
    let groups = serde_json::json!({ "groups": ["support", "other"] });
    assert_eq!(
        issuer.scopes.allowed(groups.as_object().unwrap()),
        ["a:read"]
    );
    // The mapped claims are `Person`'s attributes in the policies' schema.
    assert!(
        config
            .policies
            .schema
            .text()
            .contains("roles?: Set<String>")
    );
}

#[test]
fn delegation_problems_name_their_line() {
    let d = diagnostics(
        "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\ntokens: {issuer: gw, max_ttl: 10m}\ndelegation:\n  issuers:\n    - issuer: gw\n      jwks: 'https://'\n      audience: gw\n      algorithms: [none, HS256, PS999]\n      claims: { id: sub, tenant: { claim: t, type: float } }\n    - issuer: https://b.example\n      jwks: ftp://x\n      jwks_refresh: 0s\n      audience: ''\n      algorithms: []\n  actors: []\n  max_chain: 9\n  max_ttl: 1h\n",
    );
    let expect = [
        ("c.yaml:6:", "gateway's own issuer"),
        ("c.yaml:7:", "is not a URL"),
        (
            "c.yaml:9:",
            "`none`: unsigned and shared-secret algorithms are never accepted",
        ),
        ("c.yaml:9:", "`HS256`: unsigned and shared-secret"),
        ("c.yaml:9:", "`PS999`: not a signature algorithm"),
        (
            "c.yaml:10:",
            "`claims.id`: a `Person` attribute is a plain name",
        ),
        ("c.yaml:10:", "`claims.tenant`: `type` is one of"),
        ("c.yaml:12:", "write `file:PATH` or an `https://`"),
        ("c.yaml:13:", "`jwks_refresh` must be"),
        ("c.yaml:14:", "`audience` must not be empty"),
        ("c.yaml:15:", "`algorithms` must pin at least one"),
        ("c.yaml:16:", "`delegation.actors` must name at least one"),
        ("c.yaml:17:", "`delegation.max_chain` must be 1 to 8"),
        (
            "c.yaml:18:",
            "`delegation.max_ttl` must be a duration from 1s",
        ),
    ];
    for (at, what) in expect {
        assert!(
            d.iter().any(|l| l.contains(at) && l.contains(what)),
            "no {at} {what}: {d:#?}"
        );
    }
}

#[test]
fn the_digest_follows_the_files_but_not_secrets_or_overrides() {
    let contract = "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses: {'204': {description: ok}}\n";
    let digest = |contract: &'static str, secret: &'static str, listen: Option<&str>| {
        let files = Embedded(Box::leak(Box::new([
            (
                "c.yaml",
                "apis:\n  - {name: a, contract: a.yaml, mount: /a, upstream: 'http://127.0.0.1:1', upstream_auth: {header: X-Key, value: 'file:k.txt'}}\npolicies: p/\n",
            ),
            ("a.yaml", contract),
            ("p/a.cedar", "permit(principal, action, resource);"),
            ("k.txt", secret),
        ])));
        let overrides = Overrides {
            storage: Some(crate::Storage::Memory),
            listen: listen.map(|l| l.parse().unwrap()),
            ..Overrides::default()
        };
        load_from(&files, "c.yaml", &overrides).unwrap().0.digest
    };
    let base = digest(contract, "secret-one", None);
    assert_eq!(base.len(), 64);
    assert_eq!(base, digest(contract, "secret-two", Some("127.0.0.1:9999")));
    let other = contract.replace("getX", "getY");
    assert_ne!(
        base,
        digest(Box::leak(other.into_boxed_str()), "secret-one", None)
    );
}

#[test]
fn storage_may_be_named_rather_than_written() {
    let files = Embedded(Box::leak(Box::new([
        (
            "c.yaml",
            "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\npolicies: p/\nstorage: env:PORTCULLIS_TEST_SURELY_UNSET\n",
        ),
        (
            "ok.yaml",
            "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths: {}\n",
        ),
        ("p/a.cedar", ""),
    ])));
    let errors: Vec<String> = load_from(&files, "c.yaml", &Overrides::default())
        .unwrap_err()
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        ["c.yaml:4: error: environment variable `PORTCULLIS_TEST_SURELY_UNSET` is not set"]
    );
}

#[test]
fn the_verify_report_is_a_path_beside_the_configuration() {
    let dir = tempfile_dir("verify-report");
    let contract = "openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths: {}\n";
    std::fs::write(dir.join("a.yaml"), contract).unwrap();
    let api = "apis:\n  - {name: a, contract: a.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\n";
    let write = |admin: &str| {
        let path = dir.join("c.yaml");
        std::fs::write(&path, format!("{api}{admin}")).unwrap();
        let overrides = Overrides {
            storage: Some(crate::Storage::Memory),
            ..Overrides::default()
        };
        load(&path, &overrides)
    };
    let (config, _) =
        write("admin: {listen: '127.0.0.1:0', verify_report: reports/verify.json}\n").unwrap();
    assert_eq!(
        config.verify_report.unwrap(),
        dir.join("reports/verify.json")
    );
    let (config, _) =
        write("admin: {listen: '127.0.0.1:0', verify_report: /srv/verify.json}\n").unwrap();
    assert_eq!(config.verify_report.unwrap(), Path::new("/srv/verify.json"));
    let (config, _) = write("admin: {listen: '127.0.0.1:0'}\n").unwrap();
    assert!(config.verify_report.is_none());
    let errors = write("admin: {listen: '127.0.0.1:0', verify_report: ''}\n").unwrap_err();
    assert!(
        errors
            .iter()
            .any(|d| d.to_string().contains("c.yaml:3") && d.to_string().contains("verify_report")),
        "{errors:?}"
    );
    // A configuration not read from a folder (the demo's) needs an absolute path.
    let d = diagnostics(
        "apis:\n  - {name: a, contract: ok.yaml, mount: /a, upstream: 'http://127.0.0.1:1'}\nadmin: {listen: '127.0.0.1:0', verify_report: verify.json}\n",
    );
    assert!(
        d.iter().any(|d| d.contains("must be an absolute path")),
        "{d:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
