//! For the load harness only (`crates/bench`'s `bench-portcullis-forward`):
//! a gateway whose requests skip every stage but forwarding, so
//! `bench/run.sh` can show the data plane's own cost (listener, framing
//! guard, snapshot, upstream pool, header handling) apart from the policy
//! stages'. It runs on the same listener and connection settings as
//! [`Gateway::start`]; only the handler differs (`pipeline/forward_only.rs`
//! says what it keeps).
//!
//! Not a mode of the product: no configuration key, flag or environment
//! variable reaches it, and the `portcullis` binary never calls it. It
//! authorizes nothing, so it must never face a caller.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderValue, Request, Response};
use http_body_util::Either;
use hyper::body::Incoming;
use portcullis_config::Config;
use portcullis_core::SystemClock;

use crate::exchange::Exchange;
use crate::gateway::{Gateway, StartError};
use crate::live::Live;
use crate::pipeline::forward_only;
use crate::server::{Body, Handler};

/// Binds the configured address and forwards every request to the API
/// mounted at its path, deciding nothing, until [`Gateway::stop`].
///
/// # Errors
/// As [`Gateway::start`].
pub async fn start_forward_only(config: Config) -> Result<Gateway, StartError> {
    Gateway::start_answering(config, Arc::new(SystemClock), ForwardOnly).await
}

#[derive(Debug, Clone, Copy)]
struct ForwardOnly;

impl Handler for ForwardOnly {
    fn answer(
        self,
        live: Arc<Live>,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Result<Response<Body>, Infallible>> + Send + 'static {
        answer(live, request, peer)
    }
}

/// `server::handle` without the stages, the record, metrics or the
/// decision stream.
async fn answer(
    live: Arc<Live>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let snapshot = live.snapshot();
    let mut ex = Exchange::begin(request.headers(), peer, snapshot.version);
    let mut response = forward_only::run(&snapshot, &mut ex, request)
        .await
        .unwrap_or_else(|refusal| refusal.into_response(&ex));
    if let Ok(id) = HeaderValue::from_str(&ex.request_id) {
        response.headers_mut().insert("x-request-id", id);
    }
    Ok(response.map(Either::Left))
}
