//! The demo's identity provider: the people an agent acts for. A P-256 key
//! made at start (never written anywhere), its JWK Set served on a loopback
//! port for the gateway to fetch, and the tokens it signs for people, which
//! the demo exchanges (RFC 8693) for tokens acting on their behalf.
//!
//! Only for the demo and tests: it signs whatever it is asked to.

use std::convert::Infallible;
use std::net::SocketAddr;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The demo IdP's `iss`, as `examples/orders/portcullis.yaml` trusts it.
pub const ISSUER: &str = "https://idp.demo.example";
/// The `aud` its tokens carry: the demo gateway.
pub const AUDIENCE: &str = "portcullis-demo";

const KID: &str = "demo-idp-1";

/// A running demo IdP.
pub struct DemoIdp {
    addr: SocketAddr,
    signing: EncodingKey,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for DemoIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoIdp")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DemoIdp {
    /// Makes a key and serves its JWK Set at `http://{addr}/jwks.json`.
    ///
    /// # Errors
    /// The key cannot be made or the port bound.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Self> {
        let failed = |what: &str| std::io::Error::other(format!("demo IdP: {what}"));
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| failed("no key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
            .map_err(|_| failed("no key"))?;
        let point = pair.public_key().as_ref();
        let (x, y) = (
            point.get(1..33).ok_or_else(|| failed("bad point"))?,
            point.get(33..65).ok_or_else(|| failed("bad point"))?,
        );
        let jwks = json!({ "keys": [{
            "kty": "EC", "crv": "P-256", "kid": KID, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
        }]});
        let body = Bytes::from(jwks.to_string());
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let body = body.clone();
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let answer = if request.uri().path() == "/jwks.json" {
                        Response::builder()
                            .header(header::CONTENT_TYPE, "application/jwk-set+json")
                            .body(Full::new(body.clone()))
                    } else {
                        Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Full::new(Bytes::new()))
                    };
                    async move { Ok::<_, Infallible>(answer.unwrap_or_default()) }
                });
                tokio::spawn(async move {
                    let io = TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            signing: EncodingKey::from_ec_der(doc.as_ref()),
            task,
        })
    }

    /// Where the gateway fetches the key set.
    pub fn jwks_url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    /// A token for person `sub` of customer `tenant`, allowing `scope`, for
    /// an hour from `now`.
    ///
    /// # Errors
    /// Signing failed.
    pub fn person_token(
        &self,
        sub: &str,
        tenant: &str,
        scope: &str,
        now: i64,
    ) -> Result<String, String> {
        let claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 3600,
            "jti": format!("{sub}-{now}"), "tenant_id": tenant, "scope": scope,
        });
        self.sign(&claims)
    }

    fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": KID });
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string().as_bytes());
        let message = format!("{}.{}", part(&header), part(claims));
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.signing, Algorithm::ES256)
                .map_err(|e| e.to_string())?;
        Ok(format!("{message}.{signature}"))
    }
}

impl Drop for DemoIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}
