//! Fetching a trusted issuer's JWK Set from the URL the configuration gives
//! (`delegation.issuers[].jwks`): a GET the gateway makes on its own
//! schedule, bounded in time and size, with no redirect followed (a
//! redirect is an answer other than 200, so nothing the set's host says can
//! send the gateway elsewhere). `https://` is verified against Mozilla's
//! root certificates (compiled in); `http://` is for a loopback or
//! in-cluster endpoint.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The longest a fetch may take, connection, answer and body together.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for the gateway's own outbound calls (an issuer's key set, the
/// watch's webhook): `http://` or `https://` against Mozilla's roots, no
/// redirect followed, connections given up after `connect`.
pub(crate) fn client(
    connect: Duration,
) -> Result<Client<HttpsConnector<HttpConnector>, Full<Bytes>>, String> {
    let mut plain = HttpConnector::new();
    plain.set_connect_timeout(Some(connect));
    // `https://` would otherwise be refused by the plain connector.
    plain.enforce_http(false);
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let connector = HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(provider)
        .map_err(|e| format!("TLS: {e}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(plain);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// GETs `url` and returns its body, if it answered 200 within the bounds.
pub(crate) async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
    let client = client(FETCH_TIMEOUT)?;
    let request = Request::get(uri)
        .header(header::ACCEPT, "application/jwk-set+json, application/json")
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if response.status() != StatusCode::OK {
            return Err(format!("answered {}", response.status().as_u16()));
        }
        let limited = Limited::new(response.into_body(), portcullis_config::MAX_JWKS_BYTES);
        let body = limited
            .collect()
            .await
            .map_err(|_| "the body could not be read within the size bound".to_owned())?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(FETCH_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {}s", FETCH_TIMEOUT.as_secs()))?
}
