//! Shared vocabulary of Portcullis: the catalogue of refusal codes and the one
//! problem body every refusal renders to, machine identities, and the clock.
//!
//! Pure: no I/O, no clock reads, no async. Every other crate speaks these types,
//! so a refusal looks the same whichever stage produced it.

mod identity;
mod markup;
mod problem;
mod problem_code;
mod time;

pub use identity::{
    Clock, FixedClock, Identity, IdentityKind, IdentityState, SystemClock, UnixTime, UnknownValue,
    Unusable, valid_identity_id, valid_scope,
};
pub use markup::escape_markup;
pub use problem::{FieldError, Problem};
pub use problem_code::ProblemCode;
pub use time::rfc3339;
