//! Helpers shared by this crate's unit tests: tokens built by hand, so tests
//! can say exactly which header and claims an attacker would send.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

use crate::jws::b64;

/// `b64(header).b64(claims).b64(signature)`, no signing at all.
pub(crate) fn hand_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// A token with exactly this header JSON and claims, signed under `alg`.
pub(crate) fn signed_token(
    header: &Value,
    claims: &Value,
    key: &EncodingKey,
    alg: Algorithm,
) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}
