//! Test support: the example contract, and what the gateway's own pure
//! stages (canonical check, route, request validation) make of a probe.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_contract::request::{HeaderLookup, HeaderSource, RequestInput};
use portcullis_contract::{Contract, RequestError, RouteMatch, Source, canonical};

use crate::request::Probe;

struct Dir(std::path::PathBuf);

impl Source for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

struct Headers<'a>(&'a [(String, String)]);

impl HeaderSource for Headers<'_> {
    fn lookup(&self, name: &str) -> HeaderLookup<'_> {
        let mut found = self.0.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        match (found.next(), found.next()) {
            (None, _) => HeaderLookup::Absent,
            (Some(_), Some(_)) => HeaderLookup::Many,
            (Some((_, v)), None) => HeaderLookup::One(v),
        }
    }
}

/// The bundled example API's contract.
pub fn example() -> Contract {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
    Contract::load("openapi.yaml", &Dir(dir)).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The operation id a probe under `/orders` reaches through the gateway's
/// pure stages, or the code of the stage that refuses it.
pub fn decide(contract: &Contract, probe: &Probe) -> Result<String, &'static str> {
    let (path, query) = match probe.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (probe.target.as_str(), None),
    };
    canonical::check_path(path.as_bytes()).map_err(|_| "ambiguous-path")?;
    let rest = path.strip_prefix("/orders").ok_or("undeclared-route")?;
    let (index, params) = match contract.route(&probe.method, rest) {
        RouteMatch::Found { operation, params } => (operation, params),
        RouteMatch::MethodNotAllowed { .. } => return Err("method-not-allowed"),
        RouteMatch::NotFound => return Err("undeclared-route"),
    };
    let op = contract.operation(index).unwrap();
    let (content_type, body) = match &probe.body {
        Some((ct, bytes)) => (Some(ct.as_str()), bytes.as_slice()),
        None => (None, &[][..]),
    };
    let input = RequestInput {
        query,
        headers: &Headers(&probe.headers),
        content_type,
        body,
        max_depth: 32,
    };
    match portcullis_contract::request::validate(op, &params, &input) {
        Ok(_) => Ok(op.id.clone()),
        Err(RequestError::Invalid(_)) => Err("invalid-request"),
        Err(RequestError::MediaType(_)) => Err("unsupported-media-type"),
        Err(RequestError::TooLarge(_)) => Err("payload-too-large"),
    }
}
