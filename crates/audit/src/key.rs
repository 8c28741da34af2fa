//! The ledger's signing key (Ed25519) and the public key that checks its
//! checkpoints.
//!
//! The private key is kept by the gateway's store, never in the ledger
//! file: whoever can edit the ledger must not be able to re-sign it. The
//! public key is written into the ledger and into every export (as a JWK),
//! and `audit verify --public-key` pins it from elsewhere.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Why a key could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate an audit signing key")]
    Generate,
    #[error("the stored audit signing key is not an Ed25519 PKCS#8 key")]
    Malformed,
    #[error("not an Ed25519 public JWK (kty OKP, crv Ed25519, x, kid)")]
    Jwk,
}

/// The private half: signs checkpoints.
pub struct AuditKey {
    kid: String,
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl AuditKey {
    /// A new random key.
    ///
    /// # Errors
    /// The system's random source failed.
    pub fn generate(kid: impl Into<String>) -> Result<Self, KeyError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Generate)?;
        Self::from_pkcs8(kid, doc.as_ref())
    }

    /// A key as stored (PKCS#8 DER).
    ///
    /// # Errors
    /// The bytes are not an Ed25519 PKCS#8 key.
    pub fn from_pkcs8(kid: impl Into<String>, der: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|_| KeyError::Malformed)?;
        Ok(Self {
            kid: kid.into(),
            pair,
            pkcs8: der.to_vec(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let mut x = [0u8; 32];
        x.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey {
            kid: self.kid.clone(),
            x,
        }
    }
}

/// The public half: checks checkpoint signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    x: [u8; 32],
}

impl PublicKey {
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.x)
            .verify(message, signature)
            .is_ok()
    }

    /// As a JWK (RFC 8037).
    pub fn to_jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "use": "sig",
            "alg": "EdDSA",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.x),
        })
    }

    /// From a JWK.
    ///
    /// # Errors
    /// Not an Ed25519 public JWK with a `kid`.
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let field = |name: &str| jwk.get(name).and_then(Value::as_str).ok_or(KeyError::Jwk);
        if field("kty")? != "OKP" || field("crv")? != "Ed25519" {
            return Err(KeyError::Jwk);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(field("x")?)
            .map_err(|_| KeyError::Jwk)?;
        let x: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Jwk)?;
        Ok(Self {
            kid: field("kid")?.to_owned(),
            x,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_through_a_jwk() {
        let key = AuditKey::generate("audit-1").unwrap();
        let signature = key.sign(b"head");
        let public = PublicKey::from_jwk(&key.public().to_jwk()).unwrap();
        assert!(public.verify(b"head", &signature));
        assert!(!public.verify(b"heads", &signature));
        let again = AuditKey::from_pkcs8("audit-1", key.pkcs8_der()).unwrap();
        assert_eq!(again.public(), key.public());
        assert_eq!(
            PublicKey::from_jwk(&json!({"kty": "RSA"})),
            Err(KeyError::Jwk)
        );
    }
}
