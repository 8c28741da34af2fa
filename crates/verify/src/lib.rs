//! `portcullis verify`'s engine: prove from outside that a gateway enforces
//! its configuration on every path. One entry point,
//! [`Verification::run`], takes a loaded configuration and [`Options`] and
//! returns a [`Verification`], the report every output is drawn from.
//!
//! Pure (no sockets, files or clock; tested without a server):
//! - [`generate`]: a value each contract schema accepts, or why there is none;
//! - [`pattern`]: a string a schema pattern matches;
//! - [`request`]: a valid request per operation;
//! - [`negatives`]: the requests each operation must refuse, with the code;
//! - [`discover`]: routes to probe on the upstream, the upstream's own
//!   not-found told apart from a route, and how risky an answer looks;
//! - [`http1`]: an HTTP/1.1 response read from a connection's bytes;
//! - `conform::judge`: an answer compared with what the configuration says;
//! - `conform::mcp::expect`: the tools each identity must be listed on the
//!   MCP face (the gateway's own `portcullis_mcp::visible`), an HTTP
//!   negative written as `tools/call` arguments, and a call's answer judged;
//! - [`report`] with [`report::html`], [`report::junit`], [`report::sarif`],
//!   and the text of [`discovery`] and [`conform::Report`]: the model and
//!   its renderers;
//! - [`progress`]: the trait a run reports its progress through.
//!
//! I/O (the network, and the configuration's store read-only):
//! - [`wire`]: the byte-exact HTTP/1.1 client, the only code that sends;
//! - `discovery::run`: probes an upstream through it;
//! - [`conform`]: every operation × identity and the negatives through a
//!   gateway (tokens from its token service, or from the store when it is
//!   the gateway's), expectations from `Snapshot::explain` offline; then
//!   its MCP face (`/mcp`) as each identity: the listing, and the negatives
//!   that have a `tools/call` form (`conform::mcp::session` speaks it);
//! - [`run`](mod@run): the entry point that starts them.
//!
//! It never prints, reads the configuration (the caller loads it) or
//! decides an exit code: the binary's `cmd/verify.rs` does.

pub mod conform;
pub mod discover;
pub mod discovery;
pub mod generate;
pub mod http1;
pub mod negatives;
pub mod pattern;
pub mod progress;
pub mod report;
pub mod request;
pub mod run;
pub mod wire;

pub use progress::{Progress, Silent};
pub use report::Verification;
pub use run::{Options, RunError, analysis, tools};

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
