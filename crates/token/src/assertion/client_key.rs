//! A client's registered public key, read from a JWK (RFC 7517): Ed25519
//! (RFC 8037, `alg` EdDSA) or P-256 (`alg` ES256), nothing else.
//!
//! The key fixes the algorithm an assertion is verified with. A JWK carrying
//! private parts is refused outright: the gateway must never hold a client's
//! private key, even by mistake.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::error::TokenError;
use crate::jws;

/// JWK members that hold private or symmetric key material (RFC 7518 6.2.2,
/// 6.3.2, 6.4; RFC 8037 2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The longest `kid` a client key may have, in bytes.
const MAX_CLIENT_KID_LEN: usize = 256;

/// The signature algorithm a client key verifies, fixed by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKeyAlgorithm {
    /// Ed25519 (`kty` OKP, `crv` Ed25519).
    EdDsa,
    /// ECDSA P-256 with SHA-256 (`kty` EC, `crv` P-256).
    Es256,
}

impl ClientKeyAlgorithm {
    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKeyAlgorithm::EdDsa => "EdDSA",
            ClientKeyAlgorithm::Es256 => "ES256",
        }
    }

    pub(crate) fn jose(self) -> Algorithm {
        match self {
            ClientKeyAlgorithm::EdDsa => Algorithm::EdDSA,
            ClientKeyAlgorithm::Es256 => Algorithm::ES256,
        }
    }
}

/// One public key a client registered for `private_key_jwt`.
#[derive(Debug, Clone)]
pub struct ClientKey {
    kid: Option<String>,
    algorithm: ClientKeyAlgorithm,
    key: DecodingKey,
}

impl ClientKey {
    /// Reads a public JWK; refuses private parts, unknown types and curves,
    /// an `alg` that does not match the key type, and `use` other than `sig`.
    pub fn from_jwk(jwk: &Value) -> Result<Self, TokenError> {
        let jwk = jwk.as_object().ok_or(TokenError::UnsupportedKey)?;
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(TokenError::PrivateKeyMaterial);
        }
        if optional_str(jwk, "use")?.is_some_and(|u| u != "sig") {
            return Err(TokenError::UnsupportedKey);
        }
        let kid = optional_str(jwk, "kid")?;
        if kid.is_some_and(|k| k.is_empty() || k.len() > MAX_CLIENT_KID_LEN) {
            return Err(TokenError::UnsupportedKey);
        }
        let (algorithm, key) = match (optional_str(jwk, "kty")?, optional_str(jwk, "crv")?) {
            (Some("OKP"), Some("Ed25519")) => {
                let x = coordinate(jwk, "x")?;
                (ClientKeyAlgorithm::EdDsa, DecodingKey::from_ed_der(&x))
            }
            (Some("EC"), Some("P-256")) => {
                let mut point = vec![0x04];
                point.extend(coordinate(jwk, "x")?);
                point.extend(coordinate(jwk, "y")?);
                // Refuse a point not on the curve now, not at first use.
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                    .map_err(|_| TokenError::UnsupportedKey)?;
                (ClientKeyAlgorithm::Es256, DecodingKey::from_ec_der(&point))
            }
            _ => return Err(TokenError::UnsupportedKey),
        };
        if optional_str(jwk, "alg")?.is_some_and(|a| a != algorithm.as_str()) {
            return Err(TokenError::UnsupportedKey);
        }
        Ok(Self {
            kid: kid.map(str::to_owned),
            algorithm,
            key,
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub fn algorithm(&self) -> ClientKeyAlgorithm {
        self.algorithm
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

/// A string member, absent allowed, any other JSON type refused.
fn optional_str<'a>(
    jwk: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, TokenError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(TokenError::UnsupportedKey),
    }
}

/// A 32-byte base64url member (an Ed25519 key, or a P-256 coordinate).
fn coordinate(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, TokenError> {
    optional_str(jwk, name)?
        .and_then(jws::unb64)
        .filter(|bytes| bytes.len() == 32)
        .ok_or(TokenError::UnsupportedKey)
}
