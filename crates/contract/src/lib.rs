//! OpenAPI 3.0/3.1 text to a compiled contract, and the pure checks the
//! gateway runs against it: canonical path, route, request, response.
//!
//! A document is checked against the OpenAPI Initiative's own JSON Schema
//! for its version (shipped in `schemas/`) before it is read; every load
//! error is located by file, line and JSON pointer.
//!
//! Pure: no sockets, no files (documents arrive through a [`Source`]), no
//! clock. Schemas are compiled once at load; nothing here parses a contract
//! per request.

pub mod canonical;
mod contract;
mod document;
mod error;
mod load;
mod locate;
mod model;
pub mod request;
pub mod response;
mod router;
mod schema;
pub mod secrets;
mod strict_json;
mod strip;
mod structure;

pub use contract::Contract;
pub use document::{Source, describe_yaml_error, escape_token};
pub use error::{Detail, LoadError, RequestError, ResponseError, Violations};
pub use model::{
    BodySpec, MediaSpec, Method, Operation, Param, ParamIn, ParamShape, ResponseSpec, Scalar,
    SecurityRequirement, StatusKey, media_for,
};
pub use router::RouteMatch;
pub use schema::Schema;

#[cfg(test)]
mod testing;
