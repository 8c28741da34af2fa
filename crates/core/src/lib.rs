//! Shared vocabulary of Portcullis: the catalogue of refusal codes and the one
//! problem body every refusal renders to.
//!
//! Pure: no I/O, no clock reads, no async. Every other crate speaks these types,
//! so a refusal looks the same whichever stage produced it.

mod problem;
mod problem_code;

pub use problem::{FieldError, Problem};
pub use problem_code::ProblemCode;
