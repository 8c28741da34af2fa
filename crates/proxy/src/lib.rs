//! The data plane: the listener, the request pipeline, the upstream pool and
//! problem+json rendering.
//!
//! Decisions are made by the pure crates (`portcullis-contract` and friends);
//! this crate only moves bytes and calls them in PRODUCT.md's order. It must
//! never forward a request that a stage refused, and never let an internal
//! fault turn into an allow.

pub mod authority;
/// Public for the load harness only: the forwarding-only gateway its
/// `portcullis-forward` row measures. Not a mode of the product.
#[doc(hidden)]
pub mod bench;
mod exchange;
mod explain;
pub mod fleet;
/// Public for its bench only: the request-head check the listener runs.
#[doc(hidden)]
pub mod framing;
mod gateway;
mod headers;
mod jwks;
mod live;
mod mcp;
pub mod metrics;
mod oauth;
mod observer;
mod pipeline;
mod rate;
mod refusal;
mod reload;
mod server;
mod snapshot;
mod upstream;
mod watch;
mod wellknown;

pub use explain::{ExplainRequest, Explanation, StageReport, explained_delegation};
pub use gateway::{Gateway, StartError};
pub use live::{ApplyError, DecisionEvent, LiveError};
pub use oauth::ADMIN_SCOPE;
pub use observer::Observer;
pub use reload::{FolderWatch, ReloadFailure, ReloadStatus, Reloader};
pub use snapshot::{Snapshot, SnapshotError};
