//! Sealing secrets the gateway holds for others (per-identity upstream
//! credentials) so the store keeps only ciphertext: AES-256-GCM with a key
//! the gateway is given, a random nonce per sealing, and associated data
//! that binds each sealed value to where it belongs.
//!
//! It must never log or return a plaintext except to the caller that opens it.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::TokenError;

/// The key that seals and opens; built from 32 random bytes, base64.
pub struct SealingKey(LessSafeKey);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<secret>)")
    }
}

impl SealingKey {
    /// Reads a key given as standard base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, TokenError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| TokenError::InvalidKey)?;
        if bytes.len() != 32 {
            return Err(TokenError::InvalidKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| TokenError::InvalidKey)?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// A fresh random key and its base64 form (for a process that keeps
    /// nothing, such as the demo).
    pub fn generate() -> Result<(Self, String), TokenError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| TokenError::Randomness)?;
        let text = STANDARD.encode(bytes);
        Ok((Self::from_base64(&text)?, text))
    }

    /// Seals `plaintext`; `context` must be given again to open it.
    pub fn seal(
        &self,
        plaintext: &[u8],
        context: &[u8],
    ) -> Result<([u8; NONCE_LEN], Vec<u8>), TokenError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| TokenError::Randomness)?;
        let mut sealed = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed,
            )
            .map_err(|_| TokenError::Signing)?;
        Ok((nonce, sealed))
    }

    /// Opens a sealed value; fails if the key, nonce, context or bytes differ.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, TokenError> {
        let mut buffer = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(context),
                &mut buffer,
            )
            .map_err(|_| TokenError::BadSignature)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn seals_and_opens_only_in_context() {
        let key = SealingKey::from_base64(KEY).unwrap();
        let (nonce, sealed) = key
            .seal(b"Bearer partner-token", b"billing-sync\0orders")
            .unwrap();
        assert!(
            !sealed.windows(7).any(|w| w == b"partner"),
            "ciphertext, not plaintext"
        );
        assert_eq!(
            key.open(&nonce, &sealed, b"billing-sync\0orders").unwrap(),
            b"Bearer partner-token"
        );
        assert!(key.open(&nonce, &sealed, b"someone-else\0orders").is_err());
        let mut tampered = sealed.clone();
        tampered[0] ^= 1;
        assert!(
            key.open(&nonce, &tampered, b"billing-sync\0orders")
                .is_err()
        );
        let other =
            SealingKey::from_base64("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=").unwrap();
        assert!(
            other
                .open(&nonce, &sealed, b"billing-sync\0orders")
                .is_err()
        );
        let (nonce2, _) = key.seal(b"x", b"c").unwrap();
        assert_ne!(nonce, nonce2, "a fresh nonce every time");
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SealingKey::from_base64("c2hvcnQ=").is_err());
        assert!(SealingKey::from_base64("not base64!").is_err());
        assert!(!format!("{:?}", SealingKey::from_base64(KEY).unwrap()).contains(KEY));
    }
}
