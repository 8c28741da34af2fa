//! The JWS compact serialisation (RFC 7515), read defensively: a length bound
//! before anything else, exactly three base64url parts, a JSON object header,
//! and the claims decoded only after the signature has verified.
//!
//! This module verifies with the key and algorithm its caller passes in; it
//! must never choose an algorithm or a key from the header, and must not
//! interpret claims (that is `access` and `assertion`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::TokenError;

/// The longest bearer value or client assertion read at all, in bytes.
///
/// Our access tokens are a few hundred bytes; the bound keeps base64 and JSON
/// work on attacker input small and fixed.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The header parameters this crate reads. Everything else (`jku`, `jwk`,
/// `x5u`, `x5c`, ...) is ignored: keys never come from the token itself.
#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    pub(crate) alg: Option<String>,
    pub(crate) typ: Option<String>,
    pub(crate) kid: Option<String>,
    /// Any `crit` is refused: we implement no JWS extensions (RFC 7515 4.1.11).
    crit: Option<serde_json::Value>,
}

/// A token split into its parts, header decoded, claims and signature not yet.
#[derive(Debug)]
pub(crate) struct Compact<'a> {
    pub(crate) header: Header,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    /// Splits and decodes the header. Checks nothing cryptographic.
    pub(crate) fn parse(token: &'a str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = decode_object(header)?;
        if header.crit.is_some() {
            return Err(TokenError::Malformed);
        }
        // INVARIANT: exactly two dots, so this is `header.payload`.
        let signing_input = token
            .get(..token.len() - signature.len() - 1)
            .ok_or(TokenError::Malformed)?;
        Ok(Self {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// The header's `alg`, compared by the caller with the pinned algorithm.
    pub(crate) fn alg(&self) -> Result<&str, TokenError> {
        self.header.alg.as_deref().ok_or(TokenError::Malformed)
    }

    /// Verifies the signature with `key` under `alg`, both chosen by the
    /// caller from what it trusts, never from the header.
    pub(crate) fn verify(&self, key: &DecodingKey, alg: Algorithm) -> Result<(), TokenError> {
        match jsonwebtoken::crypto::verify(self.signature, self.signing_input.as_bytes(), key, alg)
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(TokenError::BadSignature),
            Err(e) => match e.kind() {
                ErrorKind::Base64(_) => Err(TokenError::Malformed),
                _ => Err(TokenError::BadSignature),
            },
        }
    }

    /// The claims, decoded. Trust them only once `verify` has succeeded.
    pub(crate) fn claims<T: DeserializeOwned>(&self) -> Result<T, TokenError> {
        decode_object(self.payload)
    }
}

/// Base64url (no padding) then a JSON object into `T`.
fn decode_object<T: DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    // serde's derived structs also accept JSON arrays, positionally; a JOSE
    // header or claims set is always an object.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(TokenError::Malformed);
    }
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// Base64url without padding, as JOSE writes every binary value.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(json: &str) -> String {
        b64(json.as_bytes())
    }

    #[test]
    fn splits_into_exactly_three_parts() {
        let h = part(r#"{"alg":"EdDSA","kid":"k1"}"#);
        let ok = format!("{h}.{}.sig", part("{}"));
        let c = Compact::parse(&ok).unwrap();
        assert_eq!(c.alg(), Ok("EdDSA"));
        assert_eq!(c.header.kid.as_deref(), Some("k1"));
        assert_eq!(c.signing_input, format!("{h}.{}", part("{}")));
        for bad in ["", "a", "a.b", "a.b.c.d", &format!("{ok}.")] {
            assert_eq!(Compact::parse(bad).err(), Some(TokenError::Malformed));
        }
    }

    #[test]
    fn header_must_be_a_json_object_without_crit() {
        for header in [
            r#"["EdDSA"]"#,
            "null",
            "{",
            r#"{"alg":1}"#,
            r#"{"alg":"EdDSA","alg":"EdDSA"}"#,
        ] {
            let token = format!("{}.e30.", part(header));
            assert_eq!(
                Compact::parse(&token).err(),
                Some(TokenError::Malformed),
                "{header}"
            );
        }
        let crit = format!("{}.e30.", part(r#"{"alg":"EdDSA","crit":["exp"]}"#));
        assert_eq!(Compact::parse(&crit).err(), Some(TokenError::Malformed));
        let padded = format!("{}=.e30.", part(r#"{"alg":"EdDSA"}"#));
        assert_eq!(Compact::parse(&padded).err(), Some(TokenError::Malformed));
    }

    #[test]
    fn length_is_bounded_before_parsing() {
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(Compact::parse(&long).err(), Some(TokenError::TooLong));
    }
}
