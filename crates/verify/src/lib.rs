//! `portcullis verify`'s pure parts, with no I/O so they can be tested
//! without sockets:
//! - [`generate`]: a value each contract schema accepts, or why there is none;
//! - [`pattern`]: a string a schema pattern matches;
//! - [`request`]: a valid request per operation;
//! - [`negatives`]: the requests each operation must refuse, with the code;
//! - [`discover`]: routes to probe on the upstream, the upstream's own
//!   not-found told apart from a route, and how risky an answer looks;
//! - [`http1`]: an HTTP/1.1 response read from a connection's bytes.
//!
//! The live conformance run, discovery and the reports (in the binary's
//! `cmd/verify`) build on these.

pub mod discover;
pub mod generate;
pub mod http1;
pub mod negatives;
pub mod pattern;
pub mod request;

/// `text` cut to `max` characters, with `…` when something was cut: for a
/// report line or a piece of evidence.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        text.chars().take(max).chain(['…']).collect()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod testing;
