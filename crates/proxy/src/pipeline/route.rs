//! Stage 4: method and path against the mounted APIs' contracts.
//! Undeclared: 404 `undeclared-route`; declared path, other method: 405 with `Allow`.

use http::Method;
use portcullis_contract::{Operation, RouteMatch};
use portcullis_core::ProblemCode;

use crate::exchange::Exchange;
use crate::refusal::Refusal;
use crate::snapshot::{MountedApi, Snapshot};

/// A request matched to one operation of one API.
#[derive(Debug)]
pub(crate) struct Matched<'s, 'p> {
    pub api: &'s MountedApi,
    pub operation: &'s Operation,
    /// Raw (still percent-encoded) path parameters.
    pub params: Vec<(&'s str, &'p str)>,
    /// The path relative to the mount: what is forwarded after the upstream's base path.
    pub rest: &'p str,
}

pub(crate) fn find<'s, 'p>(
    snapshot: &'s Snapshot,
    ex: &mut Exchange,
    method: &Method,
    path: &'p str,
) -> Result<Matched<'s, 'p>, Refusal> {
    let undeclared = || {
        Refusal::new(
            ProblemCode::UndeclaredRoute,
            "no declared operation matches this path",
        )
    };
    let (api, rest) = snapshot.mounted(path).ok_or_else(undeclared)?;
    ex.api = Some(api.config.name.clone());
    ex.contract = Some(std::sync::Arc::clone(&api.config.contract));
    match api.config.contract.route(method.as_str(), rest) {
        RouteMatch::Found { operation, params } => {
            let operation = api
                .config
                .contract
                .operation(operation)
                .ok_or_else(undeclared)?;
            ex.operation = Some(operation.id.clone());
            if snapshot.watching && crate::watch::reads_single_record(operation) {
                ex.item = rest.rsplit('/').next().map(str::to_owned);
            }
            Ok(Matched {
                api,
                operation,
                params,
                rest,
            })
        }
        RouteMatch::MethodNotAllowed { allow } => Err(Refusal::method_not_allowed(allow)),
        RouteMatch::NotFound => Err(undeclared()),
    }
}
