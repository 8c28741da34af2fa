//! The gateway's own signing keys: Ed25519 key pairs with a `kid`, a creation
//! time and, once rotated out, a retirement time; the set of them, its
//! rotation and pruning, and the public JWK Set served at
//! `/.well-known/jwks.json`.
//!
//! Keys are bytes in and bytes out (PKCS#8): persisting them, and encrypting
//! them at rest, is the store's job. This module must never expose private
//! key material except through [`SigningKey::pkcs8_der`], and never reads the
//! clock: rotation and pruning take `now`.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use jsonwebtoken::{DecodingKey, EncodingKey};
use portcullis_core::UnixTime;
use serde_json::{Value, json};

use crate::error::TokenError;
use crate::jws;

/// The longest key id accepted, in bytes.
pub const MAX_KID_LEN: usize = 64;

/// One Ed25519 signing key of the token service.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    created: UnixTime,
    retired: Option<UnixTime>,
    /// The PKCS#8 document; jsonwebtoken zeroizes it on drop and redacts it
    /// from `Debug`.
    private: EncodingKey,
    public: [u8; 32],
    verifying: DecodingKey,
}

impl SigningKey {
    /// A fresh key pair from the system CSPRNG, created at `now`.
    pub fn generate(kid: impl Into<String>, now: UnixTime) -> Result<Self, TokenError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| TokenError::KeyGeneration)?;
        Self::from_pkcs8(kid, now, None, doc.as_ref())
    }

    /// A key as the store persisted it (PKCS#8 v1 or v2 DER).
    pub fn from_pkcs8(
        kid: impl Into<String>,
        created: UnixTime,
        retired: Option<UnixTime>,
        der: &[u8],
    ) -> Result<Self, TokenError> {
        let kid = kid.into();
        if !valid_kid(&kid) {
            return Err(TokenError::InvalidKeyId);
        }
        let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|_| TokenError::InvalidKey)?;
        let public: [u8; 32] = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| TokenError::InvalidKey)?;
        Ok(Self {
            kid,
            created,
            retired,
            private: EncodingKey::from_ed_der(der),
            public,
            verifying: DecodingKey::from_ed_der(&public),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn created(&self) -> UnixTime {
        self.created
    }

    /// When the key stopped signing; it still verifies until pruned.
    pub fn retired(&self) -> Option<UnixTime> {
        self.retired
    }

    /// The private key as PKCS#8 DER, for the store to persist. Nothing else
    /// should call this.
    pub fn pkcs8_der(&self) -> &[u8] {
        self.private.as_bytes()
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// The public key as an RFC 8037 JWK.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": jws::b64(&self.public),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.private
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.verifying
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created", &self.created)
            .field("retired", &self.retired)
            .field("public", &jws::b64(&self.public))
            .finish_non_exhaustive()
    }
}

/// Whether `kid` is 1 to 64 characters of `[A-Za-z0-9._-]`: it appears in
/// every token header and in the JWK Set, so it stays plain.
fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Every signing key the token service still holds: the active one and the
/// retired ones whose tokens may not all have expired yet.
// INVARIANT: no two keys share a `kid`, so a token's `kid` names one key.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// A set from keys the store loaded; refuses duplicate `kid`s.
    pub fn new(keys: Vec<SigningKey>) -> Result<Self, TokenError> {
        for (i, key) in keys.iter().enumerate() {
            if keys.iter().skip(i + 1).any(|k| k.kid == key.kid) {
                return Err(TokenError::DuplicateKeyId);
            }
        }
        Ok(Self { keys })
    }

    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// The key a token's `kid` names, retired or not.
    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The key new tokens are signed with: the newest non-retired one (the
    /// later in the set on a tie).
    pub fn active(&self) -> Option<&SigningKey> {
        self.keys
            .iter()
            .filter(|k| k.retired.is_none())
            .max_by_key(|k| k.created)
    }

    /// Generates a key named `new_kid`, retires every non-retired key at
    /// `now`, and adds the new one, which becomes active. On error the set is
    /// unchanged.
    pub fn rotate(
        &mut self,
        new_kid: impl Into<String>,
        now: UnixTime,
    ) -> Result<&SigningKey, TokenError> {
        let key = SigningKey::generate(new_kid, now)?;
        if self.get(&key.kid).is_some() {
            return Err(TokenError::DuplicateKeyId);
        }
        for old in self.keys.iter_mut().filter(|k| k.retired.is_none()) {
            old.retired = Some(now);
        }
        self.keys.push(key);
        self.keys.last().ok_or(TokenError::NoActiveKey)
    }

    /// Drops retired keys whose tokens have all expired (retired +
    /// `max_token_ttl` < `now`) and returns their `kid`s so the store can
    /// delete them. Pass `max_ttl` plus the verifier's leeway to keep a key
    /// as long as any token it signed can still be accepted.
    pub fn prune(&mut self, now: UnixTime, max_token_ttl: i64) -> Vec<String> {
        let mut dropped = Vec::new();
        self.keys.retain(|k| match k.retired {
            Some(at) if at.saturating_add(max_token_ttl) < now => {
                dropped.push(k.kid.clone());
                false
            }
            _ => true,
        });
        dropped
    }

    /// The RFC 7517 JWK Set of every key still held, retired ones included,
    /// so tokens they signed verify elsewhere until they expire. Public parts
    /// only.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self.keys.iter().map(SigningKey::public_jwk).collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests;
