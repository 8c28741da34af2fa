//! A trusted issuer's public keys, read from its JWK Set (RFC 7517): RSA
//! (2048 bits or more), P-256, P-384 and Ed25519 signature keys.
//!
//! Keys for other uses (`use: enc`) and of types this crate does not verify
//! with are skipped, as an IdP's set may hold them; a key carrying private
//! material refuses the whole set, which means the IdP's operator published
//! a secret and nothing from that document should be trusted.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ParsedPublicKey, VerificationAlgorithm,
};
use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};

use super::SubjectAlgorithm;
use crate::error::TokenError;
use crate::jws;

/// JWK members that hold private or symmetric key material.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The most keys read from one set: a bound on work per document.
pub const MAX_ISSUER_KEYS: usize = 64;

/// The smallest RSA modulus accepted, in bytes (RFC 8725 section 3.5 and
/// NIST SP 800-131A: 2048 bits).
const MIN_RSA_MODULUS: usize = 256;

/// The key type a JWK holds, which fixes the algorithms it can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    Rsa,
    P256,
    P384,
    Ed25519,
}

/// One verification key.
#[derive(Debug, Clone)]
pub(crate) struct IssuerKey {
    pub(crate) kid: Option<String>,
    pub(crate) family: KeyFamily,
    /// The JWK's own `alg`, when it names one: then only that algorithm.
    pub(crate) alg: Option<SubjectAlgorithm>,
    pub(crate) key: DecodingKey,
}

impl IssuerKey {
    /// Whether this key may verify a signature made with `alg`.
    pub(crate) fn fits(&self, alg: SubjectAlgorithm) -> bool {
        alg.family() == self.family && self.alg.is_none_or(|a| a == alg)
    }
}

/// An issuer's verification keys.
#[derive(Debug, Clone, Default)]
pub struct IssuerKeys {
    keys: Vec<IssuerKey>,
}

impl IssuerKeys {
    /// Reads a JWK Set document. Refuses a document that is not one, or
    /// whose keys carry private material; skips keys it cannot use.
    pub fn from_jwks(document: &[u8]) -> Result<Self, TokenError> {
        let set: Value = serde_json::from_slice(document).map_err(|_| TokenError::Malformed)?;
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(TokenError::Malformed)?;
        let mut out = Vec::new();
        for jwk in keys.iter().take(MAX_ISSUER_KEYS) {
            let jwk = jwk.as_object().ok_or(TokenError::Malformed)?;
            if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
                return Err(TokenError::PrivateKeyMaterial);
            }
            if let Some(key) = read_key(jwk) {
                out.push(key);
            }
        }
        Ok(Self { keys: out })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key with this `kid` is in the set.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The key a token's header names. With a `kid`, that key (and it must
    /// fit `alg`); without one, the only key that fits `alg`, if exactly one
    /// does. Never a key the token brought.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: SubjectAlgorithm,
    ) -> Result<&IssuerKey, TokenError> {
        match kid {
            Some(kid) => {
                let key = self
                    .keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid))
                    .ok_or(TokenError::UnknownKey)?;
                if key.fits(alg) {
                    Ok(key)
                } else {
                    Err(TokenError::UnsupportedAlgorithm)
                }
            }
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Ok(key),
                    _ => Err(TokenError::UnknownKey),
                }
            }
        }
    }
}

/// One JWK as a verification key, or `None` for a key this crate skips.
fn read_key(jwk: &Map<String, Value>) -> Option<IssuerKey> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(k)) if !k.is_empty() && k.len() <= super::MAX_SUBJECT_KID_LEN => {
            Some(k.clone())
        }
        Some(_) => return None,
    };
    let alg = match text("alg") {
        None => None,
        Some(a) => Some(SubjectAlgorithm::parse(a)?),
    };
    let (family, key) = match (text("kty")?, text("crv")) {
        ("RSA", _) => {
            let n = text("n")?;
            let modulus = jws::unb64(n)?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS {
                return None;
            }
            let key = DecodingKey::from_rsa_components(n, text("e")?).ok()?;
            (KeyFamily::Rsa, key)
        }
        ("EC", Some("P-256")) => (KeyFamily::P256, ec_key(jwk, 32, &ECDSA_P256_SHA256_FIXED)?),
        ("EC", Some("P-384")) => (KeyFamily::P384, ec_key(jwk, 48, &ECDSA_P384_SHA384_FIXED)?),
        ("OKP", Some("Ed25519")) => {
            let x = jws::unb64(text("x")?).filter(|x| x.len() == 32)?;
            (KeyFamily::Ed25519, DecodingKey::from_ed_der(&x))
        }
        _ => return None,
    };
    if alg.is_some_and(|a| a.family() != family) {
        return None;
    }
    Some(IssuerKey {
        kid,
        family,
        alg,
        key,
    })
}

/// An uncompressed EC point from `x` and `y`, checked to be on the curve.
fn ec_key(
    jwk: &Map<String, Value>,
    size: usize,
    curve: &'static dyn VerificationAlgorithm,
) -> Option<DecodingKey> {
    let coordinate = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(jws::unb64)
            .filter(|c| c.len() == size)
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    ParsedPublicKey::new(curve, &point).ok()?;
    Some(DecodingKey::from_ec_der(&point))
}
