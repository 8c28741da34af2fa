//! Pooled keep-alive connections to upstreams, one pool per API.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use portcullis_config::{Api, UpstreamAuth};

pub(crate) type UpstreamClient = Client<HttpConnector, Full<Bytes>>;

/// Idle upstream connections are kept this long for reuse.
const POOL_IDLE: Duration = Duration::from_secs(30);

pub(crate) fn client(api: &Api) -> UpstreamClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(api.timeouts.connect));
    connector.enforce_http(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector)
}

/// A credential the gateway sends upstream, prepared once (at start, or when
/// an identity's own is loaded), not per request: where it goes, and every
/// string of it that must never come back in a response.
#[derive(Debug)]
pub(crate) struct Injection {
    pub(crate) place: Place,
    pub(crate) secrets: Vec<String>,
}

/// Where an injected credential goes.
#[derive(Debug)]
pub(crate) enum Place {
    Header(HeaderName, HeaderValue),
    /// `name=value`, already form-encoded, appended to the query.
    Query(String),
}

/// The configured credential is not a valid header.
#[derive(Debug, thiserror::Error)]
#[error("the upstream credential of `{0}` is not a valid header")]
pub struct InvalidCredential(pub String);

impl Injection {
    pub(crate) fn prepare(auth: &UpstreamAuth, owner: &str) -> Result<Self, InvalidCredential> {
        let invalid = || InvalidCredential(owner.to_owned());
        let place = match auth {
            UpstreamAuth::Header { name, value } => {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
                let mut value = HeaderValue::from_str(value).map_err(|_| invalid())?;
                value.set_sensitive(true);
                Place::Header(name, value)
            }
            UpstreamAuth::Query { name, value } => Place::Query(
                form_urlencoded::Serializer::new(String::new())
                    .append_pair(name, value)
                    .finish(),
            ),
        };
        Ok(Self {
            place,
            secrets: auth.secrets(),
        })
    }

    /// The API's form (header or query name) carrying an identity's own value.
    pub(crate) fn with_value(
        form: &UpstreamAuth,
        value: String,
        owner: &str,
    ) -> Result<Self, InvalidCredential> {
        let auth = match form {
            UpstreamAuth::Header { name, .. } => UpstreamAuth::Header {
                name: name.clone(),
                value,
            },
            UpstreamAuth::Query { name, .. } => UpstreamAuth::Query {
                name: name.clone(),
                value,
            },
        };
        Self::prepare(&auth, owner)
    }
}
