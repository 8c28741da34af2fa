//! Test helpers: a small orders contract, its schema, identities and stores.

use portcullis_contract::{Contract, Source};
use portcullis_core::{Identity, IdentityKind, IdentityState};
use serde_json::{Map, Value};

use crate::{
    AuthzRequest, ClaimType, Delegation, PersonAttr, PolicyDiagnostic, PolicySchema, PolicyStore,
    generate_schema_with,
};

struct Text(String);

impl Source for Text {
    fn read(&self, _path: &str) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

/// Three operations: two reads (string and integer path parameters, typed
/// query parameters) and one write.
pub(crate) const ORDERS: &str = "\
openapi: 3.1.0
info: {title: orders, version: '1'}
paths:
  /customers/{customerId}:
    get:
      operationId: getCustomer
      parameters: [{name: customerId, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /orders/{orderId}:
    parameters: [{name: orderId, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: getOrder
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer}}
        - {name: status, in: query, schema: {type: string, enum: [paid, shipped]}}
        - {name: tag, in: query, schema: {type: array, items: {type: string}}}
        - {name: max-price, in: query, schema: {type: number}}
        - {name: in, in: query, schema: {type: boolean}}
      responses: {'200': {description: ok}}
    delete:
      operationId: cancelOrder
      responses: {'204': {description: ok}}
";

pub(crate) fn contract(text: &str) -> Contract {
    match Contract::load("api.yaml", &Text(text.to_owned())) {
        Ok(c) => c,
        Err(errors) => panic!("contract does not load: {errors:#?}"),
    }
}

/// The claims the test configuration maps onto `Person`.
pub(crate) fn person_attrs() -> Vec<PersonAttr> {
    [
        ("tenant", ClaimType::String),
        ("roles", ClaimType::StringSet),
        ("level", ClaimType::Long),
        ("mfa", ClaimType::Bool),
    ]
    .into_iter()
    .map(|(name, ty)| PersonAttr {
        name: name.to_owned(),
        ty,
    })
    .collect()
}

pub(crate) fn schema() -> PolicySchema {
    generate_schema_with(&[("orders", &contract(ORDERS))], &person_attrs()).unwrap()
}

/// `person` of `tenant`, acted for by `chain` (outermost first).
pub(crate) fn delegation(person: &str, tenant: &str, chain: &[&str]) -> Delegation {
    Delegation {
        person: person.to_owned(),
        issuer: "https://idp.example".to_owned(),
        claims: object(
            serde_json::json!({ "tenant": tenant, "roles": ["support"], "level": 3, "mfa": true }),
        ),
        chain: chain.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Loads `(file, text)` policies against the orders schema.
pub(crate) fn load(files: &[(&str, &str)]) -> Result<PolicyStore, Vec<PolicyDiagnostic>> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
        .collect();
    PolicyStore::load(&files, &schema())
}

pub(crate) fn store(files: &[(&str, &str)]) -> PolicyStore {
    match load(files) {
        Ok(s) => s,
        Err(d) => panic!("policies do not load: {d:#?}"),
    }
}

pub(crate) fn identity(id: &str, owner: &str) -> Identity {
    Identity {
        id: id.to_owned(),
        kind: IdentityKind::Agent,
        owner: owner.to_owned(),
        environment: "prod".to_owned(),
        tags: vec!["billing".to_owned()],
        scopes: vec![],
        state: IdentityState::Active,
        created: 0,
        expires: None,
        last_used: None,
    }
}

/// Owns what an [`AuthzRequest`] borrows.
pub(crate) struct Call {
    pub(crate) identity: Identity,
    pub(crate) operation: &'static str,
    pub(crate) params: Map<String, Value>,
    pub(crate) query: Map<String, Value>,
    pub(crate) scopes: Vec<String>,
    pub(crate) time: i64,
    pub(crate) delegation: Option<Delegation>,
}

impl Call {
    pub(crate) fn new(identity: Identity, operation: &'static str, params: Value) -> Self {
        Self {
            identity,
            operation,
            params: object(params),
            query: Map::new(),
            scopes: vec!["orders:read".to_owned()],
            time: 1_700_000_000,
            delegation: None,
        }
    }

    pub(crate) fn query(mut self, query: Value) -> Self {
        self.query = object(query);
        self
    }

    pub(crate) fn request(&self) -> AuthzRequest<'_> {
        AuthzRequest {
            identity: &self.identity,
            api: "orders",
            operation: self.operation,
            params: &self.params,
            query: &self.query,
            scopes: &self.scopes,
            ip: "10.0.0.7",
            time: self.time,
            delegation: self.delegation.as_ref(),
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
