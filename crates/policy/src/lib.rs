//! Authorization with Cedar, checked against the contracts: the Cedar schema
//! generated from every API's contract, policy files validated against it in
//! strict mode and sliced per action, and the fail-closed `authorize`
//! decision.
//!
//! Pure: no files (policy texts arrive as name/text pairs), no sockets, no
//! clock (time is part of the request), no async. Nothing here allows on
//! error: an evaluation error or a request that cannot be built denies.

mod analysis;
mod authorize;
mod error;
mod policies;
mod reach;
mod schema;

pub use analysis::{Analysis, Basis, Cell, Coverage, Finding, Severity, analyze};
pub use authorize::{AuthzRequest, Decision, Delegation};
pub use error::{PolicyDiagnostic, PolicyError};
pub use policies::{PolicyOrigin, PolicyStore};
pub use reach::Reach;
pub use schema::{ClaimType, PersonAttr, PolicySchema, generate_schema, generate_schema_with};

#[cfg(test)]
mod testing;
