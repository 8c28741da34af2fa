//! `portcullis verify`'s pure parts, with no I/O so they can be tested
//! without sockets:
//! - [`generate`]: a value each contract schema accepts, or why there is none;
//! - [`pattern`]: a string a schema pattern matches;
//! - [`request`]: a valid request per operation;
//! - [`negatives`]: the requests each operation must refuse, with the code;
//! - [`discover`]: routes to probe on the upstream, the upstream's own
//!   not-found told apart from a route, and how risky an answer looks.
//!
//! The live conformance run, discovery and the reports build on these
//! (issue 7, in progress).

pub mod discover;
pub mod generate;
pub mod negatives;
pub mod pattern;
pub mod request;

#[cfg(test)]
mod testing;
