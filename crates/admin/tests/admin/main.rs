//! The admin listener through real sockets, next to a real gateway: who may
//! use it, the bootstrap path through the gateway's token endpoint, every
//! operation, the problem+json shape of every refusal, and that none of it
//! is reachable on the gateway listener.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

mod access;
mod console;
mod console_session;
mod console_support;
mod delegation;
mod observe;
mod operations;
mod reload;
mod support;
mod watch;
