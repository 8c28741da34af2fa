//! A gateway with `delegation:` configured against the test IdP: the
//! example configuration plus a delegation section and policy, and three
//! support identities that may act for people (and one that may not).

#![allow(
    dead_code,
    reason = "shared by several test crates, each of which uses a part"
)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::{Identity, IdentityKind, IdentityState};
use portcullis_store::CredentialKind;
use portcullis_store::ledger::{Filter, Ledger};
use portcullis_testkit::raw::with_header;
use portcullis_testkit::{
    ExampleCopy, RawResponse, World, example_config, spawn_in, without_section,
};
use serde_json::Value;

use super::idp::{AUDIENCE, ISSUER, Idp};

pub const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The delegation rules these tests exercise.
pub const POLICY: &str = r#"
@id("support-reads-own-tenant-orders")
permit (principal, action == Action::"orders:listCustomerOrders", resource)
when {
  principal.owner == "team-support" &&
  context has on_behalf_of && context.on_behalf_of has tenant &&
  context.on_behalf_of.tenant == context.params.customerId
};

@id("support-cancels-for-leads")
permit (principal, action == Action::"orders:cancelOrder", resource)
when {
  principal.owner == "team-support" &&
  context has on_behalf_of && context.on_behalf_of has roles &&
  context.on_behalf_of.roles.contains("support-lead")
};

@id("long-chains-only-read")
forbid (principal, action in Action::"orders:write", resource)
when { context.chain.length > 1 };
"#;

/// (identity, its scopes, may act for people)
pub const IDENTITIES: [(&str, &[&str], bool); 4] = [
    (
        "support-bot",
        &["orders:read", "orders:write", "customers:read"],
        true,
    ),
    ("sub-agent", &["orders:read", "orders:write"], true),
    ("third-agent", &["orders:read"], true),
    ("outsider-bot", &["orders:read"], false),
];

pub struct Delegated {
    pub world: World,
    pub idp: Idp,
    /// Each identity's client secret, in [`IDENTITIES`] order.
    pub secrets: Vec<String>,
    dir: ExampleCopy,
}

impl Delegated {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, |idp, _| idp.jwks_url()).await
    }

    /// As [`Self::start`], the `jwks:` value chosen by `jwks` (given the IdP
    /// and the example copy's folder).
    pub async fn start_with(
        name: &str,
        jwks: impl FnOnce(&Idp, &std::path::Path) -> String,
    ) -> Self {
        let idp = Idp::start().await;
        let dir = ExampleCopy::new(name);
        let jwks = jwks(&idp, &dir);
        std::fs::write(dir.join("policies/delegation.cedar"), POLICY).unwrap();
        let actors: Vec<&str> = IDENTITIES
            .iter()
            .filter(|(_, _, may)| *may)
            .map(|(id, _, _)| *id)
            .collect();
        let config = format!(
            "{}\ndelegation:\n  issuers:\n    - issuer: {ISSUER}\n      jwks: {}\n      \
             jwks_refresh: 3s\n      jwks_max_age: 3s\n      audience: {AUDIENCE}\n      algorithms: [ES256]\n      claims:\n        \
             tenant: tenant_id\n        roles: {{ claim: roles, type: set }}\n  \
             actors: [{}]\n  max_chain: 2\n  max_ttl: 2m\n",
            without_section(&example_config(), "delegation"),
            jwks,
            actors.join(", ")
        );
        let world = spawn_in(&dir, &config).await;
        let authority = world.gateway.authority();
        let mut secrets = Vec::new();
        for (id, scopes, _) in IDENTITIES {
            let identity = Identity {
                id: id.to_owned(),
                kind: IdentityKind::Agent,
                owner: "team-support".to_owned(),
                environment: "test".to_owned(),
                tags: Vec::new(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                state: IdentityState::Active,
                created: authority.now(),
                expires: None,
                last_used: None,
            };
            authority.put_identity(&identity).unwrap();
            let secret = authority
                .create_secret(id, CredentialKind::ClientSecret, 3600, None)
                .unwrap();
            secrets.push(secret.secret);
        }
        Self {
            world,
            idp,
            secrets,
            dir,
        }
    }

    /// The example copy the gateway reads its files from.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn now(&self) -> i64 {
        self.world.gateway.authority().now()
    }

    pub fn secret(&self, id: &str) -> &str {
        let index = IDENTITIES.iter().position(|(i, _, _)| *i == id).unwrap();
        &self.secrets[index]
    }

    /// A POST to the token endpoint with this form and `Authorization`.
    pub async fn token_request(&self, auth: Option<String>, form: &[(&str, &str)]) -> RawResponse {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let body = body.join("&");
        self.world.token_request(auth.as_deref(), &body).await
    }

    /// `actor` exchanges `subject` (of `subject_type`) for `scope`.
    pub async fn exchange(
        &self,
        actor: &str,
        subject: &str,
        subject_type: &str,
        scope: &str,
    ) -> RawResponse {
        let form = [
            ("grant_type", EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", subject_type),
            ("scope", scope),
        ];
        self.token_request(basic(actor, self.secret(actor)), &form)
            .await
    }

    /// As [`Self::exchange`], and the issued token.
    pub async fn exchanged(&self, actor: &str, subject: &str, scope: &str) -> String {
        let kind = if subject.contains('.') && payload(subject)["iss"] == "portcullis" {
            ACCESS_TOKEN
        } else {
            JWT
        };
        let r = self.exchange(actor, subject, kind, scope).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// `identity`'s own token by client credentials.
    pub async fn own_token(&self, identity: &str, scope: &str) -> String {
        let form = [("grant_type", "client_credentials"), ("scope", scope)];
        let r = self
            .token_request(basic(identity, self.secret(identity)), &form)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// A GET with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> RawResponse {
        let req = portcullis_testkit::raw::get(path);
        self.world
            .gateway_anonymous(&with_header(
                &req,
                "Authorization",
                &format!("Bearer {token}"),
            ))
            .await
    }

    /// Every ledger record, newest first, once at least `at_least` are in.
    pub async fn records(&self, at_least: usize) -> Vec<Value> {
        for _ in 0..100 {
            let reader = Ledger::open_reader(self.world.gateway.ledger()).unwrap();
            let filter = Filter {
                limit: 500,
                ..Filter::default()
            };
            let records = reader.query(&filter).unwrap().records;
            if records.len() >= at_least {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {at_least} ledger records");
    }
}

pub fn basic(id: &str, secret: &str) -> Option<String> {
    Some(portcullis_testkit::raw::basic(id, secret))
}

/// A JWT's claims, unverified (the test reads what the gateway issued).
pub fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Form encoding of a value: everything but unreserved characters escaped.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
