//! The validated configuration the gateway runs on. Immutable; a reload
//! builds a new one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use portcullis_contract::Contract;
use portcullis_contract::response::ResponsePolicy;

/// Enforce refuses; observe (not in this build) would only record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Enforce,
}

/// The whole gateway configuration.
#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub mode: Mode,
    pub apis: Vec<Api>,
    pub limits: Limits,
}

/// Request and response bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub body_bytes: u64,
    pub header_bytes: u64,
    pub response_bytes: u64,
    pub json_depth: usize,
    /// Time allowed to receive a request body.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            header_bytes: 16 * 1024,
            response_bytes: 8 * 1024 * 1024,
            json_depth: 32,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Where an API's upstream lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `host:port`.
    pub authority: String,
    /// Path prefix on the upstream, without a trailing slash (often empty).
    pub base_path: String,
}

/// Upstream timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub response: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            response: Duration::from_secs(30),
        }
    }
}

/// One mounted API.
#[derive(Debug)]
pub struct Api {
    pub name: String,
    /// Path prefix on the gateway, canonical, no trailing slash.
    pub mount: String,
    pub upstream: Upstream,
    /// Header injected on the way to the upstream (value resolved at load).
    pub upstream_auth: Option<(String, String)>,
    pub responses: ResponsePolicy,
    pub timeouts: Timeouts,
    /// The contract file, as named in the configuration.
    pub contract_file: String,
    pub contract: Arc<Contract>,
}
