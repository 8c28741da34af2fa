//! A test identity provider: its own P-256 key pairs, tokens it signs for
//! people, and its JWK Set served from a loopback listener it starts (the
//! gateway fetches it like a real IdP's). Counts the fetches so tests can
//! see refreshes are bounded.

#![allow(
    dead_code,
    reason = "shared by several test crates, each of which uses a part"
)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const ISSUER: &str = "https://idp.test";

/// Makes every `jti` this IdP signs distinct.
static SERIAL: AtomicUsize = AtomicUsize::new(0);
pub const AUDIENCE: &str = "portcullis-test";

/// One signing key of the IdP.
pub struct IdpKey {
    pub kid: String,
    signing: EncodingKey,
    pub jwk: Value,
}

impl IdpKey {
    pub fn generate(kid: &str) -> Self {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        Self {
            kid: kid.to_owned(),
            signing: EncodingKey::from_ec_der(doc.as_ref()),
            jwk: json!({ "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                         "x": b64(&point[1..33]), "y": b64(&point[33..65]) }),
        }
    }

    /// A token with exactly this header and these claims, signed ES256.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string().as_bytes());
        let message = format!("{}.{}", b64(header), b64(claims));
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.signing, Algorithm::ES256)
                .unwrap();
        format!("{message}.{signature}")
    }

    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": self.kid });
        self.sign_with_header(&header, claims)
    }
}

/// The IdP: the keys it publishes, and the listener serving them.
pub struct Idp {
    pub key: IdpKey,
    published: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Idp {
    pub async fn start() -> Self {
        let key = IdpKey::generate("idp-key-1");
        let published = Arc::new(Mutex::new(json!({ "keys": [key.jwk] })));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (served, counted) = (Arc::clone(&published), Arc::clone(&fetches));
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (served, counted) = (Arc::clone(&served), Arc::clone(&counted));
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let body = served.lock().unwrap().to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/jwk-set+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self {
            key,
            published,
            fetches,
            addr,
            task,
        }
    }

    /// The `jwks:` value for the configuration.
    pub fn jwks_url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    /// How many times the gateway fetched the set.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Publishes these keys from now on.
    pub fn publish(&self, keys: &[&IdpKey]) {
        let set: Vec<Value> = keys.iter().map(|k| k.jwk.clone()).collect();
        *self.published.lock().unwrap() = json!({ "keys": set });
    }

    /// A person's token: `claims` over the defaults (issuer, audience, an
    /// hour of life, a fresh `jti`).
    pub fn person_claims(&self, sub: &str, now: i64, extra: Value) -> Value {
        let mut claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub,
            "iat": now - 5, "exp": now + 3600, "jti": format!("{sub}-{}", SERIAL.fetch_add(1, Ordering::SeqCst)),
        });
        if let (Value::Object(base), Value::Object(extra)) = (&mut claims, extra) {
            base.extend(extra);
        }
        claims
    }

    pub fn token(&self, sub: &str, now: i64, extra: Value) -> String {
        self.key.sign(&self.person_claims(sub, now, extra))
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.task.abort();
    }
}
