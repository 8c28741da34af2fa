//! Client authentication material the gateway generates: client secrets and
//! API keys, shown once in plaintext and stored only as a SHA-256 hash, and
//! the constant-time check of a presented value against that hash.
//!
//! Must not store, log or format a plaintext: it leaves `generate` once, for
//! the caller to show the operator, and is otherwise only ever hashed.
//!
//! A fast hash is right here, not a password hash: every value is 256 bits
//! from the system CSPRNG, so there is nothing to brute-force and a slow KDF
//! would only slow down every request.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};

use crate::error::TokenError;
use crate::{jws, random};

/// What is stored for a secret or API key: SHA-256 of its full plaintext.
pub type SecretHash = [u8; 32];

/// Length of the random part: 32 bytes, base64url without padding.
const RANDOM_CHARS: usize = 43;

/// An OAuth client secret for `client_credentials`.
#[derive(Debug)]
pub struct ClientSecret;

impl ClientSecret {
    /// Every client secret starts with this, so leaked ones are recognisable.
    pub const PREFIX: &'static str = "pcs_";

    /// A new secret: `pcs_` and 43 base64url characters (32 random bytes),
    /// with its hash. Show the plaintext once; store only the hash.
    pub fn generate() -> Result<(String, SecretHash), TokenError> {
        generate(Self::PREFIX)
    }
}

/// A long-lived API key, sent as a header instead of a bearer token.
///
/// Secret scanners can match leaked keys with `pck_[A-Za-z0-9_-]{43}`.
#[derive(Debug)]
pub struct ApiKey;

impl ApiKey {
    /// Every API key starts with this, so leaked ones are recognisable.
    pub const PREFIX: &'static str = "pck_";

    /// A new key: `pck_` and 43 base64url characters (32 random bytes), with
    /// its hash. Show the plaintext once; store only the hash.
    pub fn generate() -> Result<(String, SecretHash), TokenError> {
        generate(Self::PREFIX)
    }

    /// Whether `value` has the shape of an API key (not whether it is one).
    pub fn is_well_formed(value: &str) -> bool {
        value.strip_prefix(Self::PREFIX).is_some_and(|rest| {
            rest.len() == RANDOM_CHARS
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    }
}

fn generate(prefix: &str) -> Result<(String, SecretHash), TokenError> {
    let plaintext = format!("{prefix}{}", jws::b64(&random::bytes::<32>()?));
    let hash = hash_secret(&plaintext);
    Ok((plaintext, hash))
}

/// SHA-256 of the whole presented value, prefix included.
pub fn hash_secret(secret: &str) -> SecretHash {
    let d = digest(&SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    // INVARIANT: SHA-256 output is 32 bytes, so this copy cannot mismatch.
    out.copy_from_slice(d.as_ref());
    out
}

/// Whether `presented` hashes to `stored`, compared in constant time.
///
/// To give an unknown client the same answer in the same time as a wrong
/// secret, callers should still call this against a dummy hash.
pub fn verify_secret(presented: &str, stored: &SecretHash) -> bool {
    verify_slices_are_equal(&hash_secret(presented), stored).is_ok()
}

/// Whether two tokens (a form's CSRF token and the session's) are equal,
/// in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_equal_only_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
    }

    #[test]
    fn client_secrets_verify_and_wrong_ones_do_not() {
        let (secret, hash) = ClientSecret::generate().unwrap();
        assert!(secret.starts_with("pcs_"));
        assert_eq!(secret.len(), 4 + RANDOM_CHARS);
        assert!(verify_secret(&secret, &hash));

        let (other, _) = ClientSecret::generate().unwrap();
        assert_eq!(other.len(), secret.len());
        assert_ne!(other, secret);
        assert!(!verify_secret(&other, &hash));
        assert!(!verify_secret("", &hash));
        assert!(!verify_secret(&secret[..secret.len() - 1], &hash));
        assert!(!verify_secret(&format!("{secret} "), &hash));
    }

    #[test]
    fn api_keys_have_a_scannable_shape() {
        let (key, hash) = ApiKey::generate().unwrap();
        assert!(key.starts_with("pck_"));
        assert!(ApiKey::is_well_formed(&key));
        assert!(verify_secret(&key, &hash));
        let (other, other_hash) = ApiKey::generate().unwrap();
        assert_eq!(other.len(), key.len());
        assert!(!verify_secret(&other, &hash));
        assert_ne!(hash, other_hash);

        assert!(!ApiKey::is_well_formed(&key.replacen("pck_", "pcs_", 1)));
        assert!(!ApiKey::is_well_formed(&key[..key.len() - 1]));
        assert!(!ApiKey::is_well_formed(&format!("{key}A")));
        assert!(!ApiKey::is_well_formed(&format!("pck_{}", "+".repeat(43))));
    }

    #[test]
    fn hash_is_sha256_of_the_full_value() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            jws::b64(&hash_secret("abc")),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
