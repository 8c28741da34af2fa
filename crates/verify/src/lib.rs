//! `portcullis verify`'s pure parts, with no I/O so they can be tested
//! without sockets:
//! - [`generate`]: a value each contract schema accepts, or why there is none;
//! - [`pattern`]: a string a schema pattern matches.
//!
//! The live conformance run, discovery and the reports build on these
//! (issue 7, in progress).

pub mod generate;
pub mod pattern;
pub mod request;
